"""The forum Markdown: the sections a governance post needs, the right numbers, and no live markup."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from defirisk.report import format as fmt
from defirisk.report.markdown import render_markdown
from tests.report.sample import sample_audit
from tests.report.test_escape import parse

MARKDOWN = MarkdownIt("commonmark").enable("table")
_ALLOWED_TAGS = {"h1", "h2", "h3", "p", "em", "strong", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
                 "hr", "pre", "code"}


def _headings(text: str) -> list[str]:
    return re.findall(r"^#{1,3} (.+)$", text, flags=re.M)


def test_sections_in_the_order_risk_providers_post_them() -> None:
    text = render_markdown(sample_audit())
    assert _headings(text) == [
        "Aave v3 Ethereum: proposal risk assessment at block 18,000,000",
        "Summary",
        "Proposed parameter changes",
        "Market",
        "Health-factor distribution",
        "Liquidation curves",
        "Stress scenarios",
        "Value at risk",
        "Liquidation cascade",
        "Accounts closest to liquidation",
        "Concentration",
        "Checks",
        "Method",
        "Reproduce",
    ]
    summary = text.split("## Summary\n\n", 1)[1].split("\n\n", 1)[0]
    assert 3 <= len(summary.splitlines()) <= 5


def test_without_a_proposal_there_is_no_proposal_section() -> None:
    text = render_markdown(sample_audit(whatif=False))
    assert "Proposed parameter changes" not in text
    assert text.startswith("# Aave v3 Ethereum: risk audit at block 18,000,000\n")
    assert "**Proposal:**" not in text


def test_key_numbers_come_from_the_document() -> None:
    doc = sample_audit()
    text = render_markdown(doc)
    market = doc["market"]
    assert f"{fmt.usd(market['collateral_usd'])} of collateral backs {fmt.usd(market['debt_usd'])} of debt" in text
    worst = max(doc["stress"], key=lambda s: s["bad_debt_usd"])
    assert f"{fmt.usd(worst['bad_debt_usd'])} of bad debt" in text
    var99 = next(m for m in doc["risk_metrics"]["metrics"]
                 if (m["name"], m["measure"], m["percentile"]) == ("bad_debt", "VaR", 0.99))
    row = (f"| Bad debt | VaR | 99.0\u00a0% | {fmt.usd(var99['value_usd'])} | "
           f"{fmt.usd(var99['ci_low_usd'])} – {fmt.usd(var99['ci_high_usd'])} | 90\u00a0% |")
    assert row in text
    for account in doc["whatif"]["newly_liquidatable"]:
        assert f"| {account['account']} | {fmt.health_factor(account['health_factor_before'])} | " in text


def test_proposal_table_is_current_to_proposed_with_out_of_bounds_changes_flagged() -> None:
    doc = sample_audit()
    text = render_markdown(doc)
    assert "| WETH | Liquidation threshold | 83.00\u00a0% | 78.00\u00a0% | -5.0\u00a0pp | ±5.0\u00a0pp | yes |" in text
    assert ("| USDC | Supply cap | 1.50B | 4.00B | +166.7\u00a0% | ±100.0\u00a0% | "
            "**⚠ NO: outside risk-steward bounds** |") in text
    outside = sum(not c["within_bounds"] for c in doc["whatif"]["changes"])
    assert text.count("⚠ NO: outside risk-steward bounds") == outside == 1
    before, after = doc["whatif"]["before"], doc["whatif"]["after"]
    assert (f"| Liquidatable debt | {fmt.usd(before['liquidatable_debt_usd'])} | "
            f"{fmt.usd(after['liquidatable_debt_usd'])} | ") in text


def test_method_and_reproducibility_footer() -> None:
    doc = sample_audit()
    text = render_markdown(doc)
    assert f"```sh\n{doc['method']['command']}\n```" in text
    method = text.split("## Method", 1)[1]
    for needle in ("18,000,000", "aave\\-v3\\/1", "liquidation rules 3\\.0", "seed 7", "monte\\_carlo = 7",
                   "2020\\-03 Black Thursday", "0x54586be62e3c3580375ae3723c145253060ca0c2"):
        assert needle in method, needle


def test_hostile_strings_show_as_text_and_form_no_markup() -> None:
    text = render_markdown(sample_audit(hostile=True))
    rendered = MARKDOWN.render(text)
    out = parse(rendered)
    assert {tag for tag, _ in out.tags} <= _ALLOWED_TAGS
    for tag, attrs in out.tags:
        assert set(attrs) <= {"style", "class"}, (tag, attrs)
    shown = "".join(out.text)
    for visible in ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "[x](javascript:alert(1))",
                    '=HYPERLINK("http://x")', "\\x1b[31mRED\\x1b[0m", "'; DROP TABLE assets;--", "\\udcff\\udcfeSYM"):
        assert visible in shown, visible
    outside_code = re.sub(r"^(`{3,})sh\n.*?\n\1$", "", text, flags=re.S | re.M)
    assert not re.search(r"(?<!\\)<", outside_code)
    assert not re.search(r"(?<!\\)\]\(", outside_code)
    assert not re.search(r"(?<!\\)!\\?\[", outside_code)
    assert "<img" not in rendered and "<script" not in rendered and "<a " not in rendered
    assert max(len(line) for line in outside_code.splitlines()) < 2_000, "a 10,000-character name was not cut"


@pytest.mark.parametrize("whatif", [True, False])
@pytest.mark.parametrize("hostile", [False, True])
def test_every_table_row_has_as_many_cells_as_its_header(whatif: bool, hostile: bool) -> None:
    """GFM splits a row at each pipe not escaped by a backslash, and silently pads or drops cells when
    a row has the wrong count, so the check is on the source: same number of real pipes per line."""
    text = render_markdown(sample_audit(whatif=whatif, hostile=hostile))
    tables = [block.splitlines() for block in text.split("\n\n") if block.startswith("| ")]
    assert len(tables) >= (13 if whatif else 10)
    for lines in tables:
        pipes = [re.sub(r"\\.", "", line).count("|") for line in lines]
        assert len(set(pipes)) == 1, (lines[0], pipes)
        out = parse(MARKDOWN.render("\n".join(lines)))
        assert sum(tag == "tr" for tag, _ in out.tags) == len(lines) - 1
