"""The wheel works outside the repository: protocols/ and data/ travel inside it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("defirisk-*.whl")
    return found


def test_wheel_ships_protocols_and_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    bundled = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "protocols").rglob("*.toml"))
    assert bundled, "no deployment files in the checkout"
    for path in bundled:
        assert f"defirisk/{path}" in names
    assert any(n.startswith("defirisk/data/") for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_outside_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt")]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, cwd=tmp_path)
    exe = str(venv / "bin" / "defirisk")
    version = subprocess.run([exe, "--version"], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert version.stdout.startswith("defirisk ")
    listed = subprocess.run([exe, "protocols", "--json"], check=True, capture_output=True, text=True, cwd=tmp_path)
    names = {d["name"] for d in json.loads(listed.stdout)}
    assert {"aave-v3-ethereum", "spark-ethereum"} <= names
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import defirisk.paths as p; print(p.protocols_dir())"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert str(venv) in where.stdout, "protocols must be found inside the installed package"
