"""One self-contained HTML file: inline CSS, charts as inline SVG, no script, nothing fetched.

It opens offline from a file, an e-mail attachment or a forum upload. A Content-Security-Policy
meta tag forbids scripts and every external load, so even a (hypothetical) escaping bug could not run
code or call out. Every piece of document text goes through ``html.escape(quote=True)``
(``escape.html_inline``), in SVG ``<text>`` and in attributes too.
"""

from __future__ import annotations

from typing import Any

from defirisk.report.blocks import Block, Bullets, Chart, Paragraph, Report, Section, Table
from defirisk.report.charts import chart
from defirisk.report.content import report
from defirisk.report.escape import html_inline, shown

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #222; font: 15px/1.5 "DejaVu Sans", Verdana, "Segoe UI",
  Roboto, Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; line-height: 1.25; }
h2 { font-size: 20px; color: #222; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #0072B2; }
.byline { color: #555; font-size: 13px; margin: 0 0 16px; }
.summary { background: #eef5fb; border-left: 4px solid #0072B2; padding: 10px 18px; }
.summary h2 { margin-top: 6px; }
.summary ul { margin: 4px 0; padding-left: 20px; }
nav { font-size: 13px; margin: 14px 0 0; }
nav a { color: #0060a0; margin-right: 14px; text-decoration: none; white-space: nowrap; }
.scroll { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; font-size: 13px; min-width: 50%; }
caption { text-align: left; font-weight: bold; padding: 6px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top;
  overflow-wrap: break-word; max-width: 420px; }
th { background: #f0f0f0; border-bottom: 2px solid #bbb; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
td.flag { background: #fbe3d6; color: #8a2e00; font-weight: bold; }
svg.chart { display: block; width: 100%; height: auto; margin: 8px 0 12px; }
.pair { display: flex; flex-wrap: wrap; gap: 0 2%; }
.pair svg.chart { width: 49%; min-width: 320px; }
pre { background: #f6f8fa; border: 1px solid #ddd; padding: 10px 14px; overflow-x: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; }
footer { margin-top: 36px; border-top: 1px solid #ccc; color: #555; font-size: 13px; }
@media print { body { background: #fff; } main { padding: 0; } nav { display: none; } }
"""


def render_html(document: dict[str, Any]) -> str:
    """The report for a valid audit document, as one HTML page."""
    rep = report(document)
    title = html_inline(rep.title)
    body = [
        "<header>",
        f"<h1>{title}</h1>",
        f'<p class="byline">{html_inline(rep.byline)}</p>',
        '<section id="summary" class="summary"><h2>Summary</h2>',
        _bullets(rep.summary),
        "</section>",
        _nav(rep),
        "</header>",
    ]
    body.extend(_section(section, document) for section in rep.sections)
    body += [
        '<footer id="reproduce"><h2>Reproduce</h2>',
        f"<pre><code>{html_inline(shown(rep.command, 10**6))}</code></pre>",
        f"<p>{html_inline(rep.footer)}</p>",
        "</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html_inline(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _nav(rep: Report) -> str:
    links = "\n".join(f'<a href="#{html_inline(s.key)}">{html_inline(s.title)}</a>' for s in rep.sections)
    return f'<nav aria-label="Sections">\n{links}\n<a href="#reproduce">Reproduce</a>\n</nav>'


def _section(section: Section, document: dict[str, Any]) -> str:
    inner = "\n".join(_block(block, document) for block in section.blocks)
    return f'<section id="{html_inline(section.key)}">\n<h2>{html_inline(section.title)}</h2>\n{inner}\n</section>'


def _block(block: Block, document: dict[str, Any]) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{html_inline(block.text)}</p>"
    if isinstance(block, Bullets):
        return _bullets(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        return chart(block.key, document)
    raise TypeError(f"no HTML for {type(block).__name__}")


def _bullets(bullets: Bullets) -> str:
    items = "".join(
        f"<li><strong>{html_inline(label)}:</strong> {html_inline(text)}</li>" if label
        else f"<li>{html_inline(text)}</li>"
        for label, text in bullets.items
    )
    return f"<ul>{items}</ul>"


def _table(table: Table) -> str:
    def classes(index: int, flag: bool = False) -> str:
        names = (["num"] if index in table.numeric else []) + (["flag"] if flag else [])
        return f' class="{" ".join(names)}"' if names else ""

    caption = f"<caption>{html_inline(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th{classes(i)}>{html_inline(h)}</th>" for i, h in enumerate(table.headers))
    rows = "".join(
        "<tr>" + "".join(f"<td{classes(i, c.flag)}>{html_inline(c.value)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    return f'<div class="scroll"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
