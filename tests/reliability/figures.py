"""What each reliability test tried and what came out, kept as figures for ``RESULTS.md``.

A test calls ``record`` once its assertions have passed; ``python -m tests.reliability.report``
renders every record found in ``.cache/reliability/`` as the README's "Reliability" table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.localchain.toolchain import REPO_ROOT

FIGURES_DIR = REPO_ROOT / ".cache" / "reliability"

#: Table sections, in the order they are rendered.
AREAS = (
    "Faulty RPC",
    "Crashes",
    "Concurrency",
    "Bad input",
    "Fuzzing",
    "Hostile on-chain data",
    "Secrets",
)


def record(key: str, *, area: str, attack: str, tried: str, outcome: str, **data: Any) -> Path:
    """Write one row: ``attack`` (what was done), ``tried`` (how often: counts, seeds) and ``outcome``
    (what the test measured); ``data`` keeps the raw figures. Returns the file written."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}")
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FIGURES_DIR / f"{key}.json"
    document = {
        "key": key,
        "area": area,
        "attack": attack,
        "tried": tried,
        "outcome": outcome,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": data,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2, default=str, ensure_ascii=True) + "\n")
    tmp.replace(path)
    return path


def load_all(folder: Path = FIGURES_DIR) -> list[dict[str, Any]]:
    """Every record in ``folder``, in table order (area, then key)."""
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return sorted(records, key=lambda r: (AREAS.index(r["area"]), r["key"]))


def breakdown(counts: dict[str, int]) -> str:
    """``{"reset": 3, "http_429": 1}`` as ``"http_429 1, reset 3"``."""
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "none"
