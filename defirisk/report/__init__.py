"""Reports: the audit document (``defirisk.audit/1``, data first) rendered as Markdown for governance
forums, one self-contained HTML file with SVG charts, JSON, and CSV / Parquet tables.

    schema     the published JSON Schema and ``validate``
    content    what a report says (title, summary, sections), medium-neutral; built from
               proposal, exposure, scenarios, provenance, phrases; shapes in blocks
    markdown   Markdown layout          html, charts, svg   HTML layout and inline SVG charts
    tables     CSV / Parquet tables     write               render: validate, render, write atomically
    escape     untrusted text made inert per medium;  format  numbers for people
"""

from defirisk.report.html import render_html
from defirisk.report.markdown import render_markdown
from defirisk.report.schema import validate
from defirisk.report.write import FORMATS, render

__all__ = ["FORMATS", "render", "render_html", "render_markdown", "validate"]
