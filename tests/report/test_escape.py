"""Untrusted text shows as exactly itself in every medium, and never as markup.

Markdown is checked by rendering it with markdown-it (CommonMark, the parser Discourse forums use)
and reading the HTML back with ``html.parser``.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from defirisk.report.escape import (
    Untrusted,
    csv_cell,
    html_inline,
    md_code_block,
    md_inline,
    parquet_text,
    shown,
    untrusted,
)
from tests.report.sample import HOSTILE

# Every code point, lone surrogates included (hypothesis leaves those out unless asked).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80) | st.sampled_from(HOSTILE)
MARKDOWN = MarkdownIt("commonmark").enable("table")


class Collect(HTMLParser):
    """Start tags (with attributes), the text between them, and the text of each table cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.cells: list[str] = []
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "th"):
            self.cells.append("")
            self.in_cell = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.in_cell:
            self.cells[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.in_cell = False


def parse(markup: str) -> Collect:
    parser = Collect()
    parser.feed(markup)
    parser.close()
    return parser


def test_shown_is_one_line_visible_and_cut() -> None:
    assert shown("a\nb\r\n\tc  d") == "a b c d"
    assert shown("\x1b[31mX") == "\\x1b[31mX"
    assert shown("\udcff") == "\\udcff"
    assert shown("x" * 10_000) == "x" * 63 + "…"


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_markdown_renders_untrusted_text_literally(text: str) -> None:
    escaped = md_inline(untrusted(text))
    out = parse(MARKDOWN.render(escaped))
    expected = shown(text)
    assert [tag for tag, _ in out.tags] == (["p"] if expected else [])
    assert "".join(out.text).strip("\n") == expected


def test_markdown_escape_defeats_links_images_html_and_autolinks() -> None:
    for text in ("[x](javascript:alert(1))", "![i](http://x/y.png)", "<script>x</script>", "<http://x>",
                 "www.evil.example", "**b** _i_ `c`", "# h", "1. x", "- x", "> q", "a | b"):
        escaped = md_inline(untrusted(text))
        linkified = MarkdownIt("commonmark", {"linkify": False}).render(escaped)
        assert [tag for tag, _ in parse(linkified).tags] == ["p"], text
        assert "www" not in escaped or "www\\." in escaped


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_TEXT, min_size=1, max_size=3))
def test_markdown_table_cells_stay_cells(texts: list[str]) -> None:
    row = "| " + " | ".join(md_inline(untrusted(t)) or " " for t in texts) + " |"
    table = "| " + " | ".join("h" for _ in texts) + " |\n| " + " | ".join("---" for _ in texts) + " |\n" + row
    out = parse(MARKDOWN.render(table))
    # GFM pads or drops cells when a row has the wrong count, so compare what each cell says.
    assert out.cells[len(texts):] == [shown(t) for t in texts]
    assert {tag for tag, _ in out.tags} <= {"table", "thead", "tbody", "tr", "th", "td"}


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_code_block_cannot_be_closed_from_inside(text: str) -> None:
    out = parse(MARKDOWN.render(md_code_block(text + "\n```\n<b>x</b>")))
    assert [tag for tag, _ in out.tags] == ["pre", "code"]
    assert "".join(out.text).rstrip("\n") == shown(text + "\n```\n<b>x</b>", 10**6)


def test_our_own_text_keeps_its_punctuation_but_cannot_form_links() -> None:
    assert md_inline("$1.23M (48,213 accounts) -5.0 % · x") == "$1.23M (48,213 accounts) -5.0 % · x"
    assert md_inline("[a](b) <i> |") == "\\[a\\](b) \\<i\\> \\|"
    assert md_inline(("a ", Untrusted("[x]"), " b")) == "a \\[x\\] b"


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_html_text_and_attributes_are_inert(text: str) -> None:
    value = untrusted(text)
    out = parse(f'<p title="{html_inline(value)}">{html_inline(value)}</p>')
    assert out.tags == [("p", {"title": shown(text)})]
    assert "".join(out.text) == shown(text)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_csv_cell_is_complete_and_never_a_formula(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in cell)
    assert len(cell) >= len(text)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_parquet_text_is_verbatim_unless_it_cannot_be_utf8(text: str) -> None:
    kept = parquet_text(text)
    kept.encode("utf-8")
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert kept == text


def test_html_escape_is_the_standard_one() -> None:
    assert html_inline(Untrusted('"><img src=x>')) == html.escape('"><img src=x>', quote=True)
