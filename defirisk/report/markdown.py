"""Markdown for governance forums (Discourse on the Aave and Compound forums, GitHub).

Shaped like the risk providers' posts: a title, a short summary with the key numbers, the proposal's
current → proposed table and its before/after metrics first, then the analysis, the method, and a
footer with the exact command that reproduces the figures. GitHub-flavoured tables; no raw HTML.
Every piece of document text goes through ``escape.md_inline``, so none can form markup.
"""

from __future__ import annotations

from typing import Any

from defirisk.report.blocks import Block, Bullets, Chart, Paragraph, Report, Table
from defirisk.report.content import report
from defirisk.report.escape import md_code_block, md_inline


def render_markdown(document: dict[str, Any]) -> str:
    """The report for a valid audit document, as Markdown text ending in a newline."""
    return markdown(report(document))


def markdown(rep: Report) -> str:
    """Lay out a built report as Markdown."""
    parts = [f"# {md_inline(rep.title)}", f"_{md_inline(rep.byline)}_", "## Summary", _bullets(rep.summary)]
    for section in rep.sections:
        parts.append(f"## {md_inline(section.title)}")
        parts.extend(_block(block) for block in section.blocks if not isinstance(block, Chart))
    parts += ["---", "### Reproduce", md_code_block(rep.command), f"_{md_inline(rep.footer)}_"]
    return "\n\n".join(parts) + "\n"


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return md_inline(block.text)
    if isinstance(block, Bullets):
        return _bullets(block)
    if isinstance(block, Table):
        return _table(block)
    raise TypeError(f"no Markdown for {type(block).__name__}")


def _bullets(bullets: Bullets) -> str:
    return "\n".join(
        f"- **{md_inline(label)}:** {md_inline(text)}" if label else f"- {md_inline(text)}"
        for label, text in bullets.items
    )


def _table(table: Table) -> str:
    align = ["---:" if i in table.numeric else ":---" for i in range(len(table.headers))]
    lines = [f"**{md_inline(table.caption)}**\n"] if table.caption else []
    lines.append("| " + " | ".join(md_inline(h) for h in table.headers) + " |")
    lines.append("| " + " | ".join(align) + " |")
    for row in table.rows:
        cells = (f"**{md_inline(c.value)}**" if c.flag else md_inline(c.value) for c in row)
        lines.append("| " + " | ".join(cell or " " for cell in cells) + " |")
    return "\n".join(lines)
