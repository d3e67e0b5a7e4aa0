"""The HTML report in a real browser: headless Chromium (Debian's package) renders it, offline.

The screenshot is kept as a test artifact in ``.cache/artifacts/report.png``. Chromium also serialises
the DOM it built from the hostile report: its own HTML parser must find no element or attribute
that came from the data.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from defirisk.report import render
from tests.report.png import read_png, write_png
from tests.report.sample import sample_audit

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".cache" / "artifacts"
WIDTH, HEIGHT = 1280, 3000
# Okabe–Ito blue (HF bars, curve lines) and orange (HF 1–1.1 bars), exactly as drawn.
BLUE, ORANGE = (0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)


def _chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs it "
            "(apt-get install -y --no-install-recommends chromium fonts-dejavu-core)"
        )
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *arguments,
    ]
    return subprocess.run(command, capture_output=True, timeout=180, check=False)


def test_png_reader_undoes_every_filter(tmp_path: Path) -> None:
    """The reader the screenshot check relies on, against an image using all five row filters."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (10, 7, 3), dtype=np.uint8)
    pixels[:, :3] = pixels[0, 0]
    stride, rows = 7 * 3, []
    for r in range(10):
        line = pixels[r].reshape(-1).astype(int)
        up = pixels[r - 1].reshape(-1).astype(int) if r else np.zeros(stride, dtype=int)
        left = np.concatenate([np.zeros(3, dtype=int), line[:-3]])
        upper_left = np.concatenate([np.zeros(3, dtype=int), up[:-3]])
        kind = r % 5
        if kind == 0:
            predictor = np.zeros(stride, dtype=int)
        elif kind == 1:
            predictor = left
        elif kind == 2:
            predictor = up
        elif kind == 3:
            predictor = (left + up) // 2
        else:
            p = left + up - upper_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
            predictor = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upper_left))
        rows.append(bytes([kind]) + bytes(((line - predictor) % 256).astype(np.uint8)))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path = tmp_path / "filters.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 10, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    assert np.array_equal(read_png(path), pixels)
    write_png(tmp_path / "again.png", pixels)
    assert np.array_equal(read_png(tmp_path / "again.png"), pixels)


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    render(sample_audit(), "html", report)
    screenshot = tmp_path / "report.png"
    done = _chromium(tmp_path / "profile", f"--screenshot={screenshot}", f"--window-size={WIDTH},{HEIGHT}",
                     report.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert screenshot.stat().st_size > 50_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, ARTIFACTS / "report.png")

    pixels = read_png(screenshot)[:, :, :3]
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    grey = pixels.astype(float).mean(axis=2)
    assert grey.std() > 20, "the page is blank"
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 200, "too few colours: text or charts are missing"
    for name, rgb, least in (("blue", BLUE, 5_000), ("orange", ORANGE, 500)):
        count = int(np.all(pixels == rgb, axis=2).sum())
        assert count >= least, f"only {count} {name} pixels: the SVG charts did not render"
    # Text reaches the page's top (title) and its last rows (tables under the charts).
    for band in (grey[:200], grey[-400:]):
        assert (band < 100).sum() > 500


def test_chromium_builds_no_element_from_hostile_data(tmp_path: Path) -> None:
    report = tmp_path / "hostile.html"
    render(sample_audit(hostile=True), "html", report)
    done = _chromium(tmp_path / "profile", "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = done.stdout.decode("utf-8")
    assert "alert(1)" in dom, "the hostile text should be on the page, as text"
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", dom))
    assert not tags & {"script", "img", "iframe", "object", "embed", "b", "link", "base", "form"}
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", dom), "an event handler attribute was created"
    assert not re.search(r"""<a\s[^>]*href=["'](?!#)""", dom), "a link leaves the page"
