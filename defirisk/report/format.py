"""Numbers for people: ``$1.23M``, ``83.0 %``, ``-5.0 pp``, ``1.020``, ``29,369``.

Every function takes ``None`` (a value the audit could not compute: non-finite, or absent) and shows it
as ``n/a``, so a renderer never has to special-case a hole in the document.
"""

from __future__ import annotations

import datetime as dt

MISSING = "n/a"
# A no-break space keeps "83.0 %" on one line in narrow table cells.
_NBSP = "\u00a0"

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def compact(value: float | None) -> str:
    """``value`` to three significant figures with a K/M/B/T suffix: 1234567 → ``1.23M``.

    Rounding happens before the suffix is chosen, so 999,960 is ``1.00M`` and never ``1000K``.
    """
    if value is None:
        return MISSING
    sign = "-" if value < 0 else ""
    rounded = float(f"{abs(value):.3g}")
    for scale, suffix in _SUFFIXES:
        if rounded >= scale:
            return f"{sign}{_three_figures(rounded / scale)}{suffix}"
    if rounded == 0:
        return "0"
    return f"{sign}{_three_figures(rounded)}"


def _three_figures(scaled: float) -> str:
    if scaled >= 100:
        return f"{scaled:.0f}"
    if scaled >= 10:
        return f"{scaled:.1f}"
    if scaled >= 1:
        return f"{scaled:.2f}"
    return f"{scaled:.3g}"


def usd(value: float | None) -> str:
    """US dollars, compact: ``$1.23M``, ``-$45.6K``, ``$512``; below one cent ``<$0.01``."""
    if value is None:
        return MISSING
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return "<$0.01" if value > 0 else "-<$0.01"
    sign = "-" if value < 0 else ""
    return f"{sign}${compact(abs(value))}"


def usd_delta(value: float | None) -> str:
    """A change in US dollars with an explicit sign: ``+$1.11M``, ``-$3.2K``, ``$0``."""
    if value is None:
        return MISSING
    return "+" + usd(value) if value > 0 else usd(value)


def price(value: float | None) -> str:
    """A token price in USD: ``$1,816.85`` above one dollar, four significant figures below."""
    if value is None:
        return MISSING
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${value:.4g}"


def pct(value: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.83 → ``83.0 %``; a share too small to show is ``<0.1 %``, not 0."""
    if value is None:
        return MISSING
    smallest = 10.0**-decimals
    if 0 < abs(value) * 100 < smallest / 2:
        return f"{'-' if value < 0 else ''}<{smallest:.{decimals}f}{_NBSP}%"
    return f"{value * 100:.{decimals}f}{_NBSP}%"


def signed_pct(value: float | None, decimals: int = 1) -> str:
    """A relative change with its sign: -0.2 → ``-20.0 %``, 0.5 → ``+50.0 %``."""
    if value is None:
        return MISSING
    return ("+" if value > 0 else "") + pct(value, decimals)


def pp(value: float | None) -> str:
    """A change of a fraction in percentage points: -0.05 → ``-5.0 pp``."""
    if value is None:
        return MISSING
    return f"{'+' if value > 0 else ''}{value * 100:.1f}{_NBSP}pp"


def count(value: int | None) -> str:
    """An integer with thousands separators: ``29,369``."""
    return MISSING if value is None else f"{value:,}"


def count_delta(value: int | None) -> str:
    """An integer change with its sign: ``+12``, ``-3``, ``0``."""
    if value is None:
        return MISSING
    return f"+{value:,}" if value > 0 else f"{value:,}"


def health_factor(value: float | None) -> str:
    """A health factor to three decimals (0.999 and 1.000 must not look alike); ``None`` is ``∞``.

    The audit document writes an infinite health factor (no debt) as null.
    """
    if value is None:
        return "∞"
    return f"{value:,.3f}" if value < 1000 else ">1,000"


def tokens(value: float | None) -> str:
    """A cap in whole tokens, compact; 0 means no cap: ``none``."""
    if value is None:
        return MISSING
    return "none" if value == 0 else compact(value)


def block(value: int | None) -> str:
    """A block number with separators, or ``none`` for an offline snapshot."""
    return "none" if value is None else f"{value:,}"


def timestamp(value: int | None) -> str:
    """A Unix timestamp as ``2023-07-22 04:26 UTC``."""
    if value is None:
        return MISSING
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
