"""Low-level makers of valid and broken files: PNG chunks by hand, npy headers, zip bombs, poisons.

Everything here is written by code; nothing is copied from anywhere.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# -- JSON poisons: (name, text) whole documents, and (name, value-text) for one field ----------
DEPTH = 100_000
DEEP = "[" * DEPTH + "]" * DEPTH
BIG_INT = "9" * 5000
WHOLE_POISONS = {
    "deep": DEEP,
    "deep-object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "bigint": BIG_INT,
    "nan": "NaN",
    "list": "[]",
    "string": '"text"',
    "null": "null",
    "number": "12",
}
#: Added as an extra key of the real document: the parser must still refuse it.
FIELD_POISONS = {
    "deep-field": DEEP,
    "bigint-field": BIG_INT,
}
#: Parsed by Python as inf; refusing it or ignoring the unknown key are both clean.
BIG_FLOAT = "1" + "0" * 5000 + ".5"


def json_text(doc) -> str:
    return json.dumps(doc, indent=1)


def with_raw_field(doc: dict, key: str, raw: str) -> str:
    """``doc`` as JSON text with ``"key": raw`` spliced in as the first key (raw JSON text)."""
    body = json.dumps(doc)
    assert body.startswith("{")
    rest = body[1:]
    return "{" + json.dumps(key) + ": " + raw + ("," + rest if rest != "}" else "}")


def set_raw(doc, path: list, raw: str) -> str:
    """``doc`` as JSON text with the value at ``path`` replaced by raw JSON (NaN, 5000 digits)."""
    marker = "__CORPUS_RAW__"
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = marker
    return json.dumps(doc).replace(json.dumps(marker), raw, 1)


# -- byte mutations of a file that exists ------------------------------------------------------
def empty(path: Path) -> None:
    path.write_bytes(b"")


def truncate(path: Path, fraction: float | None = None, keep: int | None = None) -> None:
    data = path.read_bytes()
    n = keep if keep is not None else max(1, int(len(data) * fraction))
    path.write_bytes(data[:n])


def wrong_magic(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(b"GIF89a\x00\x01" + data[8:])


def garbage(path: Path, seed: int = 0) -> None:
    size = max(path.stat().st_size, 64)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, np.uint8).tobytes())


def non_utf8(path: Path) -> None:
    path.write_bytes(b'{"name": "\xff\xfe\xfa"}')


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


# -- PNG by hand: any IHDR, with or without real data -------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, *, bit_depth: int = 8, color_type: int = 0,
              idat: bytes | None = None, extra: bytes = b"") -> bytes:
    """A PNG whose header declares ``width`` x ``height``; ``idat`` defaults to a tiny stream."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if idat is None:
        idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def zero_png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of zeros: tiny on disk, width*height pixels decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * 1000) for _ in range(height // 1000)]
    parts.append(comp.compress(row * (height % 1000)))
    parts.append(comp.flush())
    return png_bytes(width, height, bit_depth=1, idat=b"".join(parts))


def text_bomb_chunk() -> bytes:
    """A zTXt chunk that inflates to 64 MB (Pillow's text limit is 1 MB)."""
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(b"A" * (1 << 20)) for _ in range(64)) + comp.flush()
    return _chunk(b"zTXt", b"Comment\x00\x00" + data)


# -- npy headers that lie ------------------------------------------------------------------------
def npy_with_header(path: Path, header: str, data: bytes = b"\x00" * 16) -> Path:
    """A ``.npy`` v1 file with a hand-written header dict (any shape, even a negative one)."""
    text = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")
                     + data)
    return path


def npy_header(shape: tuple, descr: str = "<i4") -> str:
    return f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"


def npz_zero_bomb(path: Path, shape: tuple[int, int], name: str = "labels") -> Path:
    """An ``.npz`` whose one member inflates to a uint8 array of ``shape`` (zeros).

    The deflate stream repeats one full-flushed block of 16 MiB of zeros, so the
    file is small and quick to write however large the array; its CRC is left
    wrong (a reader that refuses by the header never gets that far).
    """
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1), np.uint8))
    header["shape"] = shape
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    npy_head = buf.getvalue()
    total = len(npy_head) + shape[0] * shape[1]
    block = 16 << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(npy_head) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(b"\x00" * block) + comp.flush(zlib.Z_FULL_FLUSH)
    body = [head]
    count, rest = divmod(total - len(npy_head), block)
    body += [repeat] * count
    body.append(comp.compress(b"\x00" * rest) + comp.flush())
    data = b"".join(body)
    fname = f"{name}.npy".encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(data), total,
                        len(fname), 0) + fname
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, 0,
                          len(data), total, len(fname), 0, 0, 0, 0, 0, 0) + fname
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path


# -- small real images -----------------------------------------------------------------------
def save_l(path: Path, values: np.ndarray) -> Path:
    Image.fromarray(values.astype(np.uint8), "L").save(path)
    return path


def save_rgb(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(path)
    return path


def labels(width: int = 8, height: int = 6) -> np.ndarray:
    """The corpus's one small label map: background 0, a person 1, a car 2."""
    values = np.zeros((height, width), np.int32)
    values[1:3, 1:4] = 1
    values[3:5, 4:7] = 2
    return values
