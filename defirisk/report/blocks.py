"""The medium-neutral shape of a report: sections of paragraphs, bullet lists, tables and chart slots.

``content.report`` builds one from an audit document; the Markdown and HTML renderers only lay it out
and escape its text (``escape.Inline``), so both media say exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from defirisk.report.escape import Inline


@dataclass(frozen=True)
class Cell:
    """One table cell; ``flag`` marks something that needs the reader's attention."""

    value: Inline
    flag: bool = False


@dataclass(frozen=True)
class Table:
    """Rows of cells under ``headers``; columns named in ``numeric`` are right-aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()
    caption: Inline = ""


@dataclass(frozen=True)
class Paragraph:
    text: Inline


@dataclass(frozen=True)
class Bullets:
    """A list of ``(label, text)`` items; the label is shown bold, an empty label is left out."""

    items: tuple[tuple[Inline, Inline], ...]


@dataclass(frozen=True)
class Chart:
    """Where a chart goes; media without charts (Markdown) leave it out. ``key`` names the chart."""

    key: str


Block = Paragraph | Bullets | Table | Chart


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Report:
    """A whole report: heading, the summary bullets, sections, and the command that reproduces it."""

    title: Inline
    byline: Inline
    summary: Bullets
    sections: tuple[Section, ...]
    command: str
    footer: Inline
