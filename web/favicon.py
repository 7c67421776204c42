"""The site's icon, drawn at start-up: two overlapping rings (a pair, in tandem) on the theme's
colour, as a 32x32 PNG inside an ICO, so `/favicon.ico` needs no binary file in the package."""

from __future__ import annotations

import math
import struct
import zlib

SIZE = 32
BACKGROUND = (0x1F, 0x4E, 0x79, 0xFF)
RING = (0xFF, 0xFF, 0xFF, 0xFF)
CLEAR = (0, 0, 0, 0)


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    cx, cy = x + 0.5 - SIZE / 2, y + 0.5 - SIZE / 2
    if math.hypot(cx, cy) > SIZE / 2:
        return CLEAR
    for centre in (-5.0, 5.0):
        if 6.0 <= math.hypot(cx - centre, cy) <= 9.0:
            return RING
    return BACKGROUND


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png() -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel(x, y)) for x in range(SIZE)) for y in range(SIZE)
    )
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )


def ico() -> bytes:
    """One PNG image in an ICO container (what browsers ask /favicon.ico for)."""
    image = png()
    directory = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + directory + image
