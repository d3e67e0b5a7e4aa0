"""Making untrusted text (token names and symbols from arbitrary contracts) safe to show.

The store keeps such text verbatim; every renderer calls the function for its medium.
"""

from __future__ import annotations

import re
import unicodedata

_MAX_SHOWN = 64


def terminal_safe(text: str, limit: int = _MAX_SHOWN) -> str:
    """``text`` with control characters (ESC, CR, BEL, bidi overrides, …) shown as ``\\xNN``
    escapes, so it cannot move the cursor or recolour the terminal; cut to ``limit`` characters."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def csv_safe(text: str) -> str:
    """A CSV cell that spreadsheets will not evaluate: a leading ``= + - @`` or tab/CR gets a quote."""
    return "'" + text if _FORMULA_START.match(text) else text
