"""Render the reliability figures as Markdown: ``python -m tests.reliability.report [--stdout]``.

Reads ``.cache/reliability/*.json`` (written by the tests in this folder) and writes
``tests/reliability/RESULTS.md``: one table row per fault, input or attack, with how often it was
tried and what the tests measured. ``--stdout`` prints instead of writing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.reliability.figures import AREAS, FIGURES_DIR, load_all

RESULTS = Path(__file__).with_name("RESULTS.md")

HEADER = """\
## Reliability

Every row is a test in `tests/reliability/` that injects the fault, feeds the input or deploys the
attack, and asserts the outcome; the figures are the ones the last run measured
(`python -m tests.reliability.report` renders them from `.cache/reliability/`). Exit codes: 0 ok,
1 failure, 2 usage error, 3 a `--fail-on` gate held, 4 the job is locked.
"""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(records: list[dict]) -> str:
    """The Markdown section for ``records`` (as ``figures.load_all`` returns them)."""
    lines = [HEADER]
    for area in AREAS:
        rows = [r for r in records if r["area"] == area]
        if not rows:
            continue
        lines += [f"### {area}", "", "| Fault, input or attack | Tried | Outcome |", "|---|---|---|"]
        lines += [f"| {_cell(r['attack'])} | {_cell(r['tried'])} | {_cell(r['outcome'])} |" for r in rows]
        lines.append("")
    stamps = sorted(r["recorded_at"] for r in records)
    if stamps:
        lines.append(f"_{len(records)} records, measured {stamps[0]} to {stamps[-1]} (UTC)._")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    records = load_all(FIGURES_DIR) if FIGURES_DIR.is_dir() else []
    if not records:
        print(f"no figures in {FIGURES_DIR}: run `pytest tests/reliability` first", file=sys.stderr)
        return 1
    text = render(records)
    if "--stdout" in argv:
        sys.stdout.write(text)
    else:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS} ({len(records)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
