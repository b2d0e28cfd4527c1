"""poppler-utils (pdftotext, pdffonts, pdftoppm) for the printed forms' tests, and a small PNG reader to compare
a page with its golden picture. The tools are installed by scripts/ensure_system_tools.sh (make install): a test
that needs one is skipped where it is missing, except on CI (CI=true), where it fails."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
TIMEOUT = 60


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is missing: run scripts/ensure_system_tools.sh (apt-get install poppler-utils chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(tool: str, pdf: bytes, *args: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        done = subprocess.run([need(tool), *args, str(source), "-"], capture_output=True, timeout=TIMEOUT,
                              check=True)
        return done.stdout


def pdftotext(pdf: bytes) -> str:
    """The text in reading order (not -layout): a table cell's wrapped lines stay together."""
    return _run("pdftotext", pdf, "-enc", "UTF-8").decode("utf-8")


def pdffonts(pdf: bytes) -> list[dict[str, str]]:
    """One row per font: name, type, and whether it is embedded ("emb") and a subset ("sub")."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        out = subprocess.run([need("pdffonts"), str(source)], capture_output=True, timeout=TIMEOUT, check=True,
                             text=True).stdout.splitlines()
    rows = []
    for line in out[2:]:  # a header and a rule of dashes
        parts = line.split()
        # name type [type2...] encoding emb sub uni object ID: the flags are the 5th to 3rd from the end
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def first_page_png(pdf: bytes, dpi: int = 40, gray: bool = True) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        source, root = Path(folder) / "in.pdf", Path(folder) / "page"
        source.write_bytes(pdf)
        subprocess.run([need("pdftoppm"), "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
                        *(["-gray"] if gray else []), str(source), str(root)], capture_output=True, timeout=TIMEOUT,
                       check=True)
        return root.with_suffix(".png").read_bytes()


def read_gray_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, grey pixels) of an 8-bit, non-interlaced PNG (grey, grey+alpha, RGB or RGBA, as
    pdftoppm writes them): the filters undone row by row, colours averaged to grey."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    channels = {0: 1, 4: 2, 2: 3, 6: 4}.get(colour)
    if depth != 8 or interlace or channels is None:
        raise ValueError(f"expected an 8-bit, non-interlaced PNG: depth {depth}, colour {colour}")
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    out = bytearray()
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], (previous[x - channels] if x >= channels else 0)
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        colours = min(channels, 3) if channels != 2 else 1
        out += bytes(sum(line[x:x + colours]) // colours for x in range(0, stride, channels))
        previous = line
    return width, height, bytes(out)


def difference(a: bytes, b: bytes) -> float:
    """The share of pixels that differ by more than a quarter of the grey scale (0: the same page)."""
    wa, ha, pa = read_gray_png(a)
    wb, hb, pb = read_gray_png(b)
    if (wa, ha) != (wb, hb):
        return 1.0
    return sum(1 for x, y in zip(pa, pb, strict=True) if abs(x - y) > 64) / len(pa)


def check_golden(name: str, pdf: bytes, tolerance: float = 0.004) -> None:
    """The form's first page against tests/golden/<name>.png; MOTCUA_UPDATE_GOLDEN=1 writes it anew."""
    png = first_page_png(pdf)
    golden = GOLDEN / f"{name}.png"
    if os.environ.get("MOTCUA_UPDATE_GOLDEN") == "1" or not golden.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{golden} is missing: make it with MOTCUA_UPDATE_GOLDEN=1 and look at it")
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(png)
        return
    share = difference(png, golden.read_bytes())
    assert share <= tolerance, (f"{name}: {share:.2%} of the page differs from {golden.name} (layout changed? "
                                "look at it, then MOTCUA_UPDATE_GOLDEN=1)")
