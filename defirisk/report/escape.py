"""Untrusted text (token symbols and names, labels, descriptions) made inert for each medium.

The audit document carries such strings verbatim. A renderer never lets one through raw:

* ``untrusted(s)`` first makes it *shown*: whitespace runs (newlines included) become one space,
  control characters, bidi overrides and lone surrogates become visible ``\\xNN`` escapes
  (``defirisk.text.terminal_safe``), and it is cut to a length that fits a table cell.
* Each medium then escapes the shown text: ``md_inline`` backslash-escapes every ASCII punctuation
  character (CommonMark renders each as itself, so no emphasis, link, image, HTML, autolink,
  @-mention or table pipe can form), ``html_inline`` uses ``html.escape(quote=True)`` (also inside
  SVG ``<text>`` and attribute values), ``csv_cell`` neutralises spreadsheet formulas, and
  ``parquet_text`` keeps the string verbatim except for lone surrogates, which UTF-8 cannot hold.

Our own text (numbers, headings) is a plain ``str``; a piece of document text is an ``Untrusted``,
which is deliberately not a ``str`` so that concatenating it with ours is a ``TypeError`` rather than
a silent loss of the mark. Mixed text is a tuple of both (``Inline``).
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass

from defirisk.text import csv_safe, terminal_safe

SHORT = 64
LONG = 400


@dataclass(frozen=True)
class Untrusted:
    """Text from the audit document, already shown (see ``untrusted``): every medium escapes it."""

    text: str


Inline = str | Untrusted | tuple[str | Untrusted, ...]


def shown(text: str, limit: int = SHORT) -> str:
    """``text`` on one line, control characters and lone surrogates as visible escapes, at most
    ``limit`` characters (the last one ``…`` when cut)."""
    return terminal_safe(" ".join(text.split()), limit)


def untrusted(text: str, limit: int = SHORT) -> Untrusted:
    """Mark document text for escaping, shown and cut to ``limit`` characters."""
    return Untrusted(shown(text, limit))


_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Our own text (never at the start of a line) cannot form markup once these are escaped.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]<>|])")
_WHITESPACE = re.compile(r"[\t\n\r ]+")


def md_inline(value: Inline) -> str:
    """Inline Markdown that renders as exactly the given text, safe inside a table cell."""
    if isinstance(value, tuple):
        return "".join(md_inline(part) for part in value)
    if isinstance(value, Untrusted):
        return _ASCII_PUNCTUATION.sub(r"\\\1", value.text)
    return _MARKDOWN_SYNTAX.sub(r"\\\1", _WHITESPACE.sub(" ", value))


def md_code_block(text: str, info: str = "sh") -> str:
    """A fenced code block holding ``text`` on one line; the fence is longer than any run of
    backticks inside, and newlines are gone, so the text cannot close it."""
    line = shown(text, sys.maxsize)
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{line}\n{fence}"


def html_inline(value: Inline) -> str:
    """HTML text (or attribute value) that displays as exactly the given text."""
    if isinstance(value, tuple):
        return "".join(html_inline(part) for part in value)
    text = value.text if isinstance(value, Untrusted) else value
    return html.escape(text, quote=True)


def plain(value: Inline) -> str:
    """The text a reader sees, without any escaping (for lengths and layout, never for output)."""
    if isinstance(value, tuple):
        return "".join(plain(part) for part in value)
    return value.text if isinstance(value, Untrusted) else value


def csv_cell(text: str) -> str:
    """A CSV string cell: complete (not cut), control characters visible, no formula."""
    return csv_safe(terminal_safe(text, sys.maxsize))


def parquet_text(text: str) -> str:
    """``text`` verbatim, except lone surrogates (undecodable bytes kept by ``surrogateescape``),
    which become ``\\udcNN`` so the string is valid UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
