"""Shock syntax, target resolution, groups and scenario files."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from defirisk.engine import (
    ShockScenario,
    load_scenario_file,
    multipliers_from_prices,
    parse_scenario_toml,
    parse_shock,
)
from defirisk.engine.scenarios import EpisodeScenario, ScenarioContext
from defirisk.engine.shocks import shock_multipliers
from defirisk.engine.vocabulary import default_groups, groups_with, symbol_map_with
from defirisk.errors import InvalidScenario
from defirisk.paths import data_dir
from tests.engine.synthetic import random_exposures


@pytest.mark.parametrize(
    ("text", "target", "move"),
    [
        ("WETH=-30%", "WETH", -0.3),
        ("WBTC=+15%", "WBTC", 0.15),
        ("WBTC=15%", "WBTC", 0.15),
        (" USDC = -2.5 % ", "USDC", -0.025),
        ("USDC=\u22125%", "USDC", -0.05),
        ("group:eth=-20%", "group:eth", -0.2),
        (
            "0xC02AAA39B223FE8D0A0E5C4F27EAD9083C756CC2=-10%",
            "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",
            -0.1,
        ),
        ("WETH=-100%", "WETH", -1.0),
        ("WETH=0%", "WETH", 0.0),
        ("A=B=-1%", "A=B", -0.01),
    ],
)
def test_valid_shocks(text: str, target: str, move: float) -> None:
    shock = parse_shock(text)
    assert shock.target == target
    assert shock.move == pytest.approx(move)
    assert parse_shock(shock.text) == shock


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("WETH", "must look like"),
        ("=-30%", "names no asset"),
        ("WETH=abc", "percent"),
        ("WETH=abc%", "not a percentage"),
        ("WETH=-0.3", "percent"),
        ("WETH=-150%", r"between -100% and \+1000%"),
        ("WETH=+2000%", r"between -100% and \+1000%"),
        ("WETH=nan%", "not a percentage"),
        ("WETH=inf%", "not a percentage"),
        ("WETH=--3%", "not a percentage"),
        ("group:=-3%", "names no group"),
    ],
)
def test_invalid_shocks_say_why_in_one_line(text: str, reason: str) -> None:
    with pytest.raises(InvalidScenario, match=reason) as caught:
        parse_shock(text)
    assert "\n" not in str(caught.value)


def labelled_exposures():
    exposures = random_exposures(40, n_feeds=5, seed=21)
    exposures.feed_symbol = np.array(["WETH", "wstETH", "USDC", "WETH", "DAI"], dtype=object)
    return exposures


def test_symbols_addresses_and_groups_resolve_to_feeds() -> None:
    exposures = labelled_exposures()
    groups = groups_with({"mine": ["wstETH", str(exposures.feed_asset[4]).upper()]})
    m = shock_multipliers(exposures, [parse_shock("WETH=-10%")], groups)
    assert m.tolist() == pytest.approx([0.9, 1, 1, 0.9, 1])
    m = shock_multipliers(exposures, [parse_shock("group:mine=-50%"), parse_shock("group:eth=-20%")], groups)
    assert m.tolist() == pytest.approx([0.8, 0.4, 1, 0.8, 1])
    address = str(exposures.feed_asset[2])
    assert shock_multipliers(exposures, [parse_shock(f"{address}=+5%")], groups).tolist() == pytest.approx(
        [1, 1, 1.05, 1, 1]
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("LINK=-10%", "no asset 'LINK'"),
        ("group:nope=-1%", "unknown group 'nope'"),
        ("group:btc=-1%", "no asset"),
    ],
)
def test_unresolvable_targets(text: str, reason: str) -> None:
    with pytest.raises(InvalidScenario, match=reason):
        shock_multipliers(labelled_exposures(), [parse_shock(text)], default_groups())


def test_shock_order_never_matters() -> None:
    exposures = labelled_exposures()
    texts = ["WETH=-30%", "group:eth=-10%", "USDC=-5%", "group:stables=+2%", "wstETH=-7%"]
    context = ScenarioContext(exposures, default_groups(), symbol_map_with())
    results = [
        ShockScenario.parse(list(order), name="x").resolve(context).multipliers
        for order in itertools.permutations(texts)
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], rtol=1e-15)


def test_bundled_example_file_loads() -> None:
    parsed = load_scenario_file(data_dir() / "scenarios" / "example.toml")
    assert [s.name for s in parsed.scenarios] == [
        "ETH -30%",
        "majors -40%, stables depeg 5%",
        "stETH discount",
        "replay stETH/3AC",
    ]
    assert parsed.groups == {"majors": ("WETH", "WBTC")}
    assert isinstance(parsed.scenarios[3], EpisodeScenario)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no \\[\\[scenario\\]\\] entries"),
        ("[[scenario]\nname = 'x'", "not valid TOML"),
        ("[[scenario]]\nname = 'x'\nshocks = ['WETH=-3%']\n[extra]\n", "unknown top-level key"),
        ("[[scenario]]\nshocks = ['WETH=-3%']\n", "needs a non-empty name"),
        ("[[scenario]]\nname = 'x'\n", "exactly one of 'shocks' or 'episode'"),
        ("[[scenario]]\nname = 'x'\nshocks = ['W=-1%']\nepisode = '2022-06'\n", "exactly one"),
        ("[[scenario]]\nname = 'x'\nshocks = ['WETH=-3%']\nshock = 'typo'\n", "unknown key\\(s\\) shock"),
        ("[[scenario]]\nname = 'x'\nshocks = []\n", "non-empty list"),
        ("[[scenario]]\nname = 'x'\nshocks = ['WETH=abc']\n", "scenario 'x': shock 'WETH=abc'"),
        ("[[scenario]]\nname = 'x'\nepisode = '1999'\n", "unknown episode '1999'"),
        ("[[scenario]]\nname = 'x'\nepisode = '2022'\n", "ambiguous episode"),
        ("[[scenario]]\nname = 'x'\nepisode = '2022-06'\nanchor = 'noon'\n", "anchor 'noon'"),
        ("[[scenario]]\nname = 'x'\nepisode = '2022-06'\nstep = '90m'\n", "step '90m'"),
        ("[groups]\nEth = ['WETH']\n[[scenario]]\nname = 'x'\nshocks = ['WETH=-1%']\n", "name 'Eth'"),
        ("[groups]\neth = 'WETH'\n[[scenario]]\nname = 'x'\nshocks = ['WETH=-1%']\n", "non-empty list"),
        (
            "[[scenario]]\nname = 'x'\nshocks = ['A=-1%']\n[[scenario]]\nname = 'x'\nshocks = ['B=-1%']\n",
            "duplicate",
        ),
    ],
)
def test_malformed_scenario_files_are_rejected_in_one_line(text: str, reason: str) -> None:
    with pytest.raises(InvalidScenario, match=reason) as caught:
        parse_scenario_toml(text, source="s.toml")
    message = str(caught.value)
    assert message.startswith("s.toml: ") and "\n" not in message


def test_huge_and_missing_files_are_rejected(tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(InvalidScenario, match="at most"):
        load_scenario_file(huge)
    with pytest.raises(InvalidScenario, match="cannot read"):
        load_scenario_file(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidScenario, match="not UTF-8"):
        load_scenario_file(binary)
    many = "".join(f"[[scenario]]\nname = 's{i}'\nshocks = ['WETH=-1%']\n" for i in range(1001))
    with pytest.raises(InvalidScenario, match="at most 1000"):
        parse_scenario_toml(many)


def test_multipliers_from_new_prices() -> None:
    exposures = labelled_exposures()
    address = str(exposures.feed_asset[1])
    m = multipliers_from_prices(exposures, {address.upper(): exposures.price[1] * 0.8})
    assert m.tolist() == pytest.approx([1, 0.8, 1, 1, 1])
    with pytest.raises(InvalidScenario, match="no price feed"):
        multipliers_from_prices(exposures, {"0x" + "9" * 40: 1.0})
    with pytest.raises(InvalidScenario, match="finite"):
        multipliers_from_prices(exposures, {address: float("nan")})
