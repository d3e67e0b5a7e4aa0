"""What the adapter records about the Pool's code version and base currency (pure)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from defirisk.adapters.aave_v3.adapter import base_currency, rules_version
from defirisk.adapters.base import get_adapter
from defirisk.errors import InvalidDeployment
from tests.adapters.aave_v3.test_frames import market


@pytest.mark.parametrize(("revision", "version", "noted"), [
    (1, "3.0", False), (3, "3.0", False), (4, "3.1", False), (5, "3.2.0", True), (7, "3.3", True),
    (None, "", True), (99, "", True),
])
def test_rules_version_from_pool_revision(revision: int | None, version: str, noted: bool) -> None:
    got, note = rules_version(replace(market(), pool_revision=revision))
    assert got == version
    assert bool(note) is noted


def test_base_currency() -> None:
    assert base_currency(market()) == ("USD", 1.0)
    name, usd = base_currency(replace(market(), base_currency="0x" + "c0" * 20))
    assert name == "0x" + "c0" * 20 and math.isnan(usd)


def test_registry() -> None:
    assert get_adapter("aave-v3").family == "aave-v3"
    with pytest.raises(InvalidDeployment, match="no snapshot adapter"):
        get_adapter("no-such-family")
