"""A small PNG reader (8-bit greyscale, RGB, RGBA; not interlaced) for checking screenshots.

Filters None, Sub and Up are undone row-wide with numpy; Average and Paeth depend on the pixel to the
left, so they are undone per pixel (Chromium rarely uses them, so this stays fast).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 6: 4}


def read_png(path: Path) -> npt.NDArray[np.uint8]:
    """Pixels of ``path`` as an array of shape (height, width, channels)."""
    data = path.read_bytes()
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    offset, idat, header = len(_SIGNATURE), bytearray(), None
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])[0]:
            raise ValueError(f"{path}: bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        offset += 12 + length
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = _CHANNELS[colour]
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(bytes(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for row in range(height):
        kind, line = raw[row, 0], raw[row, 1:]
        if kind == 0:
            current = line.copy()
        elif kind == 1:
            current = _undo_sub(line, channels)
        elif kind == 2:
            current = line + previous
        elif kind in (3, 4):
            current = _undo_slow(int(kind), line, previous, channels)
        else:
            raise ValueError(f"{path}: unknown filter {kind} in row {row}")
        out[row] = current
        previous = current
    return out.reshape(height, width, channels)


def _undo_sub(line: npt.NDArray[np.uint8], channels: int) -> npt.NDArray[np.uint8]:
    # Each byte adds the reconstructed byte one pixel to its left: a running sum per channel, mod 256.
    per_channel = line.reshape(-1, channels).astype(np.uint64)
    return (np.cumsum(per_channel, axis=0) % 256).astype(np.uint8).reshape(-1)


def _undo_slow(
    kind: int, line: npt.NDArray[np.uint8], previous: npt.NDArray[np.uint8], channels: int
) -> npt.NDArray[np.uint8]:
    current = bytearray(len(line))
    up = previous.tolist()
    for i, value in enumerate(line.tolist()):
        left = current[i - channels] if i >= channels else 0
        if kind == 3:
            current[i] = (value + (left + up[i]) // 2) & 0xFF
            continue
        upper_left = up[i - channels] if i >= channels else 0
        estimate = left + up[i] - upper_left
        pa, pb, pc = abs(estimate - left), abs(estimate - up[i]), abs(estimate - upper_left)
        predictor = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else upper_left)
        current[i] = (value + predictor) & 0xFF
    return np.frombuffer(bytes(current), dtype=np.uint8)


def write_png(path: Path, pixels: npt.NDArray[np.uint8]) -> None:
    """Write an (height, width, 3) RGB array as a PNG (filter None), e.g. a crop to look at."""
    height, width, _ = pixels.shape
    rows = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
