"""Where the bundled ``protocols/`` and ``data/`` folders are.

In the wheel they are shipped inside the package (``defirisk/protocols``, ``defirisk/data``); in a
checkout they sit at the repository root, beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def protocols_dir() -> Path:
    """The folder of deployment TOML files."""
    return _bundled("protocols")


def data_dir() -> Path:
    """The folder of bundled real data."""
    return _bundled("data")
