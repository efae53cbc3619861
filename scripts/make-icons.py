#!/usr/bin/env python3
"""Draws the app icon: a feed symbol (a dot and two quarter rings) in white on
a blue rounded square, antialiased by 4x4 supersampling, as RGBA PNGs.

The PNGs in icons/ and icon.ico (the Windows executables' icon: the same
drawing at 16 to 256 px, each a PNG inside the ICO) are committed; run this only when the design changes. Tray
badges are drawn at run time by the tray code.
"""
import math
import pathlib
import struct
import zlib

BLUE = (37, 99, 235)
WHITE = (255, 255, 255)
DOT = (0.30, 0.70)  # centre of the dot and of the rings, in units of the size


def shade(x, y):
    """Colour and coverage of the point (x, y) in [0, 1)^2."""
    # Rounded square with a margin of 3% and a corner radius of 22%.
    margin, radius = 0.03, 0.22
    cx = min(max(x, margin + radius), 1 - margin - radius)
    cy = min(max(y, margin + radius), 1 - margin - radius)
    if math.hypot(x - cx, y - cy) > radius:
        return None
    dx, dy = x - DOT[0], DOT[1] - y
    r = math.hypot(dx, dy)
    if r < 0.085:
        return WHITE
    if dx >= -0.001 and dy >= -0.001:
        for ring in (0.30, 0.52):
            if abs(r - ring) < 0.047:
                return WHITE
    return BLUE


def render(size, samples=4):
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    colour = shade((px + (sx + 0.5) / samples) / size,
                                   (py + (sy + 0.5) / samples) / size)
                    if colour:
                        acc[0] += colour[0]
                        acc[1] += colour[1]
                        acc[2] += colour[2]
                        acc[3] += 1
            n = acc[3]
            if n:
                row += bytes([acc[0] // n, acc[1] // n, acc[2] // n, 255 * n // samples**2])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return rows


def png(size, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def ico(images):
    """An ICO file of PNG images, {size: png bytes} (Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in sorted(images.items()):
        # 0 stands for 256 in the one-byte width and height.
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


out = pathlib.Path(__file__).resolve().parent.parent / "icons"
for size in (32, 64, 128, 256):
    data = png(size, render(size))
    (out / f"{size}x{size}.png").write_bytes(data)
    if size == 256:
        (out / "icon.png").write_bytes(data)

(out / "icon.ico").write_bytes(ico({size: png(size, render(size)) for size in (16, 24, 32, 48, 64, 256)}))
