"""Untrusted text is made inert for terminals and spreadsheets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from defirisk.text import csv_safe, terminal_safe


def test_escape_sequences_are_shown_not_executed() -> None:
    assert terminal_safe("\x1b[31mRED\x1b[0m") == "\\x1b[31mRED\\x1b[0m"
    assert terminal_safe("a\u202eb") == "a\\u202eb"
    assert len(terminal_safe("x" * 10_000)) == 64


@given(st.text())
def test_terminal_safe_output_has_no_control_characters(text: str) -> None:
    shown = terminal_safe(text, limit=10**6)
    assert not any(ord(c) < 32 or ord(c) == 127 or 0x80 <= ord(c) < 0xA0 for c in shown)


def test_csv_formula_injection_is_neutralised() -> None:
    for cell in ("=HYPERLINK(1)", "+1", "-1+1", "@SUM(A1)", "\tx"):
        assert csv_safe(cell).startswith("'")
    assert csv_safe("WETH") == "WETH"
