"""The one way the viewer opens a file it did not write: checked before it is read.

Every input is untrusted (a mask from a colleague, a dataset off the net), so
each kind of input has one loader here, and each refuses what would hang,
crash or exhaust memory with a :class:`ReadError` that names the file:

- paths: a NUL byte or an over-long name is refused before the OS sees it;
- files: only regular files are opened (a FIFO would block for ever, a
  device would never end), with ``O_NONBLOCK`` so that even a file swapped
  for a FIFO after the check cannot block the open;
- JSON (:func:`load_json`, :func:`parse_json`): size, nesting depth and
  number length are checked *before* parsing (no ``RecursionError``, no
  "Exceeds the limit"), and ``NaN``/``Infinity`` are refused;
- rasters (:func:`open_image`): the size the header declares is checked
  against :data:`MAX_PIXELS` before any pixel is decoded;
- numpy (:func:`load_npy`): the header's shape and dtype are checked, for a
  ``.npz`` member before a byte of it is inflated.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from viewer.core.errors import ReadError

#: The most pixels (width x height) a raster may declare (a 16k x 16k photo is 256 Mpx, ~768 MB
#: as RGB). The one limit of ours: raise it here for large-image work. Pillow's own bomb
#: threshold (~179 Mpx) is switched off below, so this is what decides.
MAX_PIXELS = 300_000_000
#: The most elements (all dimensions multiplied) and bytes a numpy array may hold once loaded.
MAX_ARRAY_ELEMENTS = MAX_PIXELS
MAX_ARRAY_BYTES = 1 << 30
#: JSON files above this size are refused (a COCO file of a large dataset is ~0.5 GB).
MAX_JSON_BYTES = 2 << 30
#: Deeper JSON is refused: real files nest 5 or 6 levels, and Python's parser recurses.
MAX_JSON_DEPTH = 64
#: Longer runs of digits in a JSON number are refused (Python's int() stops at 4300).
MAX_NUMBER_DIGITS = 100
#: The limit when the caller checks numbers itself and names the field (``finite_only=False``).
MAX_NUMBER_DIGITS_CHECKED_BY_CALLER = 4000
#: Longest file-name component and whole path (in bytes) a file system accepts (Linux's limits).
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
#: Text side files (labelmap.txt, class lists) above this size are refused.
MAX_TEXT_BYTES = 64 << 20

# Our check above is the one that decides; Pillow's DecompressionBombWarning/Error would
# otherwise fire at its own threshold (~179 Mpx) with a traceback instead of our message.
Image.MAX_IMAGE_PIXELS = None

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


# -- paths and files ------------------------------------------------------------------
def shown(path: str | os.PathLike) -> Path:
    """A path fit for an error line: NUL bytes visible, an over-long name cut short."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    text = text.replace("\0", "\\0")
    if len(text) > 120:
        text = f"{text[:60]}...({len(text):,} characters)"
    return Path(text)


def check_path(path: str | os.PathLike) -> Path:
    """Refuse a path no file system accepts, before the OS is asked.

    Raises
    ------
    ReadError
        For a NUL byte, a name component over :data:`MAX_NAME_BYTES` bytes or a path over
        :data:`MAX_PATH_BYTES` bytes (the OS would say ``embedded null byte`` or
        ``File name too long``).
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\0" in text:
        raise ReadError("the file name contains a NUL byte, which no file system allows",
                        shown(text))
    encoded = os.fsencode(text)
    longest = max((len(part) for part in encoded.split(b"/")), default=0)
    if longest > MAX_NAME_BYTES:
        raise ReadError(f"a name in this path is {longest:,} bytes long, more than the "
                        f"{MAX_NAME_BYTES} a file system allows", shown(text))
    if len(encoded) > MAX_PATH_BYTES:
        raise ReadError(f"the path is {len(encoded):,} bytes long, more than the "
                        f"{MAX_PATH_BYTES:,} a file system allows", shown(text))
    return Path(text)


def stat_regular(path: str | os.PathLike, what: str = "file") -> os.stat_result:
    """Return the ``os.stat`` of a regular file, or say clearly why it is not one.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should be ("image", "JSON file"), for the folder message.

    Raises
    ------
    ReadError
        Missing, a folder, a FIFO, a device, a socket, unreadable, or a bad name.
    """
    path = check_path(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise ReadError("file not found", path) from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}", path) from None
    _require_regular(info, path, what)
    return info


def _require_regular(info: os.stat_result, path: Path, what: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(f"is a folder, not a {what}", path)
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
    raise ReadError(f"is {kind}, not a regular file; refusing to read it", path)


def is_regular_file(path: str | os.PathLike) -> bool:
    """True for an existing regular file with an acceptable name (never raises)."""
    try:
        stat_regular(path)
    except ReadError:
        return False
    return True


def open_regular(path: str | os.PathLike, what: str = "file") -> IO[bytes]:
    """Open a regular file for binary reading; anything else is a :class:`ReadError`.

    ``O_NONBLOCK`` keeps the open itself from blocking should the path become a
    FIFO between the check and the open; the descriptor is checked again.
    """
    path = Path(path)
    stat_regular(path, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        _require_regular(os.fstat(fd), path, what)
    except ReadError:
        os.close(fd)
        raise
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """Read a whole regular file of at most ``max_bytes`` bytes."""
    path = Path(path)
    with open_regular(path, what) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise ReadError(f"is {size:,} bytes, more than the {max_bytes:,} this viewer reads "
                            f"for a {what}", path)
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ReadError(f"cannot read: {exc.strerror or exc}", path) from None
    if len(data) > max_bytes:  # grew while we read it
        raise ReadError(f"is more than the {max_bytes:,} bytes this viewer reads for a {what}",
                        path)
    return data


def read_text(path: str | os.PathLike, max_bytes: int = MAX_TEXT_BYTES,
              what: str = "text file") -> str:
    """Read a UTF-8 text file (a BOM is dropped) of at most ``max_bytes`` bytes."""
    path = Path(path)
    data = read_bytes(path, max_bytes, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (byte {exc.start}): not a {what}?", path) from None


def read_head(path: str | os.PathLike, size: int) -> bytes | None:
    """The first ``size`` bytes of a regular file, or None (for sniffers: never raises)."""
    try:
        with open_regular(path) as handle:
            return handle.read(size)
    except (ReadError, OSError):
        return None


# -- JSON -----------------------------------------------------------------------------
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_LONG_NUMBER = {True: re.compile(rb"(?<![0-9])[0-9]{%d}" % (MAX_NUMBER_DIGITS + 1)),
                False: re.compile(rb"(?<![0-9])[0-9]{%d}" % (MAX_NUMBER_DIGITS_CHECKED_BY_CALLER
                                                              + 1))}
# 1e309 is read as inf: only then pay for a float hook that checks each value.
_BIG_EXPONENT = re.compile(rb"[eE][+-]?0*[0-9]{3}")
_DEPTH_STEP = np.zeros(256, np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1
_SCAN_CHUNK = 1 << 24


class _Refused(ValueError):
    """A value the JSON parser met that we refuse (NaN, Infinity, a float overflowing)."""


def load_json(path: str | os.PathLike, max_bytes: int = MAX_JSON_BYTES,
              what: str = "JSON file", *, finite_only: bool = True) -> Any:
    """Read and parse a JSON file with every limit checked first.

    Parameters
    ----------
    path : str or Path
    max_bytes : int
        Larger files are refused (settings and manifests pass a small limit).
    what : str
        What the file is, for messages.
    finite_only : bool
        False for a caller that validates every number itself and names the field
        (model manifests): ``NaN``, ``Infinity`` and numbers of up to
        :data:`MAX_NUMBER_DIGITS_CHECKED_BY_CALLER` digits then reach it.

    Raises
    ------
    ReadError
        Missing or not a regular file, too large, not UTF-8, a syntax error (line and
        column), nested deeper than :data:`MAX_JSON_DEPTH`, a number longer than
        :data:`MAX_NUMBER_DIGITS` digits, or ``NaN``/``Infinity``.
    """
    path = Path(path)
    data = read_bytes(path, max_bytes, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (byte {exc.start}): not a JSON file?", path) from None
    return _parse(text, data, path, finite_only)


def parse_json(text: str | bytes, source: str | os.PathLike | None, *,
               finite_only: bool = True) -> Any:
    """Parse JSON given as text (e.g. a member of a zip), with the limits of :func:`load_json`.

    Parameters
    ----------
    text : str or bytes
        bytes are decoded as UTF-8 (a BOM is dropped).
    source : str or Path or None
        Named in errors ("session.zip/meta.json").
    """
    if isinstance(text, (bytes, bytearray)):
        raw = bytes(text)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReadError(f"not UTF-8 text (byte {exc.start}): not JSON?", source) from None
    else:
        raw = text.encode("utf-8", "surrogatepass")
    return _parse(text, raw, source, finite_only)


def _parse(text: str, raw: bytes, source: str | os.PathLike | None, finite_only: bool) -> Any:
    hooks = _check_json_limits(raw, source, finite_only)
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as exc:
        raise ReadError(f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                        source) from None
    except _Refused as exc:
        raise ReadError(str(exc), source) from None
    except ValueError as exc:  # int() refusing a long number our scan did not see
        raise ReadError(f"JSON holds a number this viewer cannot read: {exc}", source) from None


def _check_json_limits(raw: bytes, source: str | os.PathLike | None,
                       finite_only: bool) -> dict[str, Any]:
    """Check depth and number length without parsing; return the parser hooks needed."""
    bare: bytes | None = None
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:
        bare = _STRING.sub(b'""', raw)
        depth = _max_depth(bare)
        if depth > MAX_JSON_DEPTH:
            raise ReadError(f"JSON nested {depth:,}+ levels deep, more than the "
                            f"{MAX_JSON_DEPTH} this viewer reads", source)
    long_number = _LONG_NUMBER[finite_only]
    if long_number.search(raw):
        bare = _STRING.sub(b'""', raw) if bare is None else bare
        if long_number.search(bare):
            digits = MAX_NUMBER_DIGITS if finite_only else MAX_NUMBER_DIGITS_CHECKED_BY_CALLER
            raise ReadError(f"JSON holds a number of more than {digits} digits; refusing it",
                            source)
    if not finite_only:
        return {}
    hooks: dict[str, Any] = {"parse_constant": _refuse_constant}
    if _BIG_EXPONENT.search(raw):
        hooks["parse_float"] = _finite_float
    return hooks


def _max_depth(bare: bytes) -> int:
    """Deepest bracket nesting of JSON text whose strings were emptied (stops past the limit)."""
    codes = np.frombuffer(bare, np.uint8)
    depth = 0
    for start in range(0, codes.size, _SCAN_CHUNK):
        steps = _DEPTH_STEP[codes[start:start + _SCAN_CHUNK]]
        steps = steps[steps != 0]
        if not steps.size:
            continue
        running = np.cumsum(steps, dtype=np.int64) + depth
        deepest = int(running.max())
        if deepest > MAX_JSON_DEPTH:
            return deepest
        depth = int(running[-1])
    return depth


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"JSON holds {name}, which is not a number JSON allows; refusing it")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"JSON number {text[:40]} is too large to be a finite number; "
                       "refusing it")
    return value


# -- rasters --------------------------------------------------------------------------
def check_pixels(width: int, height: int, path: str | os.PathLike | None) -> None:
    """Refuse rasters that would exhaust memory, saying how large they are."""
    if width <= 0 or height <= 0:
        raise ReadError(f"image size {width}x{height} is empty", path)
    if width * height > MAX_PIXELS:
        raise ReadError(f"{width}x{height} = {width * height:,} pixels is more than the "
                        f"{MAX_PIXELS:,} this viewer opens", path)


@contextlib.contextmanager
def open_image(path: str | os.PathLike, *, check_size: bool = True) -> Iterator[Image.Image]:
    """Open a raster lazily (header only), its declared size checked before any decoding.

    Parameters
    ----------
    path : str or Path
    check_size : bool
        False for sniffers that only look at the header's format and mode.

    Yields
    ------
    PIL.Image.Image
        Valid inside the ``with`` block (the file is closed after it).

    Raises
    ------
    ReadError
        Missing, not a regular file, not an image, or more than :data:`MAX_PIXELS` pixels.
    """
    path = Path(path)
    with open_regular(path, "image") as handle:
        try:
            img = Image.open(handle)
        except UnidentifiedImageError:
            raise ReadError("not an image file Pillow can read", path) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Only when someone set Pillow's threshold back on: still our words.
            raise ReadError(f"image declares more than the {MAX_PIXELS:,} pixels this viewer "
                            "opens", path) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ReadError(f"cannot decode image (truncated or corrupt?): {exc}",
                            path) from None
        with img:
            if check_size:
                check_pixels(img.width, img.height, path)
            yield img


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open a raster and decode it fully (the file closed), its size checked first."""
    path = Path(path)
    with open_image(path) as img:
        try:
            img.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise ReadError(f"cannot decode image (truncated or corrupt?): {exc}",
                            path) from None
        return img


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` from an image's header, without decoding its pixels."""
    with open_image(path, check_size=False) as img:
        return img.size


# -- numpy ----------------------------------------------------------------------------
_NPZ_DEFAULT_KEYS = ("labels", "label", "mask", "arr_0")


def load_npy(path: str | os.PathLike, key: str | None = None) -> np.ndarray:
    """Load a ``.npy`` (or one array of a ``.npz``) without ever unpickling.

    The header's shape and dtype are checked against :data:`MAX_ARRAY_ELEMENTS` and
    :data:`MAX_ARRAY_BYTES` before the data is read; in a ``.npz`` before the member is
    inflated, so a small archive cannot expand into gigabytes.

    Parameters
    ----------
    key : str, optional
        Array name inside a ``.npz``; default: the only array, or ``labels``,
        ``label``, ``mask`` or ``arr_0``.

    Raises
    ------
    ReadError
        Missing, not a regular file, corrupt or truncated, pickled objects, an empty
        array, a negative or too large shape.
    """
    path = Path(path)
    with open_regular(path, "numpy file") as handle:
        try:
            if path.suffix.lower() == ".npz":
                return _load_npz_member(handle, path, key)
            return _load_npy_stream(handle, path, os.fstat(handle.fileno()).st_size)
        except ReadError:
            raise
        except (ValueError, SyntaxError, OSError, EOFError, zlib.error) as exc:
            raise ReadError(f"not a valid numpy file (truncated or corrupt?): {exc}",
                            path) from None


def _load_npy_stream(stream: IO[bytes], path: Path, available: int | None) -> np.ndarray:
    """Read one ``.npy`` from ``stream``; ``available`` is how many bytes it holds."""
    start = stream.tell()
    shape, fortran, dtype = read_npy_header(stream, path)
    needed = math.prod(shape) * dtype.itemsize
    if available is not None and available - (stream.tell() - start) < needed:
        held = available - (stream.tell() - start)
        raise ReadError(f"not a valid numpy file: truncated, its header declares {shape} "
                        f"{dtype} ({needed:,} bytes of data) but it holds {held:,}", path)
    data = np.empty(math.prod(shape), dtype=dtype)
    _read_into(stream, data.view(np.uint8), path)
    return data.reshape(shape, order="F" if fortran else "C")


def _read_into(stream: IO[bytes], target: np.ndarray, path: Path) -> None:
    """Fill ``target`` (bytes) from ``stream`` in chunks: no second copy of the data."""
    done = 0
    while done < target.size:
        chunk = stream.read(min(_SCAN_CHUNK, target.size - done))
        if not chunk:
            raise ReadError("not a valid numpy file: truncated, fewer values than its header "
                            "declares", path)
        target[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
        done += len(chunk)


def read_npy_header(stream: IO[bytes], path: str | os.PathLike | None
                    ) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read and check a ``.npy`` header: ``(shape, fortran_order, dtype)``.

    Raises
    ------
    ReadError
        Pickled objects, a negative dimension, an empty array, or more than the
        element and byte budget.
    """
    shape, fortran, dtype = _parse_npy_header(stream, path)
    if dtype.hasobject:
        raise ReadError("holds Python objects and would need pickle to load; refusing", path)
    check_array_shape(shape, dtype, path)
    return shape, fortran, dtype


def _parse_npy_header(stream: IO[bytes], path: str | os.PathLike | None
                      ) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(stream)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(stream)
    except (ValueError, SyntaxError, EOFError, tokenize.TokenError) as exc:
        # numpy parses the header dict with tokenize and ast.literal_eval: garbage there
        # raises any of these.
        raise ReadError(f"not a valid numpy file: its header cannot be read ({exc})",
                        path) from None
    raise ReadError(f"numpy file format version {version} is not supported", path)


def npy_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """``(shape, dtype)`` from a ``.npy`` header, the data not read (for sniffers).

    Raises
    ------
    ReadError
        Not a regular file or not a ``.npy``. The shape is not checked here:
        :func:`load_npy` says what is wrong with it.
    """
    path = Path(path)
    with open_regular(path, "numpy file") as handle:
        shape, _fortran, dtype = _parse_npy_header(handle, path)
    return shape, dtype


def check_array_shape(shape: tuple[int, ...], dtype: np.dtype,
                      path: str | os.PathLike | None) -> None:
    """Refuse a negative, empty or too large array shape (every dimension counts)."""
    if any(int(d) < 0 for d in shape):
        raise ReadError(f"array shape {shape} has a negative dimension", path)
    count = math.prod(int(d) for d in shape)
    if count == 0:
        raise ReadError(f"array of shape {shape} is empty: it holds no values", path)
    if count > MAX_ARRAY_ELEMENTS:
        raise ReadError(f"array of shape {shape} holds {count:,} values, more than the "
                        f"{MAX_ARRAY_ELEMENTS:,} this viewer opens", path)
    if count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ReadError(f"array of shape {shape} {dtype} needs {count * dtype.itemsize:,} "
                        f"bytes, more than the {MAX_ARRAY_BYTES:,} this viewer opens", path)


def _load_npz_member(handle: IO[bytes], path: Path, key: str | None) -> np.ndarray:
    try:
        archive = zipfile.ZipFile(handle)
    except zipfile.BadZipFile as exc:
        raise ReadError(f"not a valid .npz archive: {exc}", path) from None
    with archive:
        names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        name = key or _npz_key(names, path)
        if name not in names:
            raise ReadError(f"no array {name!r} in the archive (it has {names})", path)
        info = archive.getinfo(name + ".npy")
        try:
            with archive.open(info) as member:
                # The member stream stops at the size the zip declares: that bounds the
                # inflated bytes, and the header is checked before the data is inflated.
                return _load_npy_stream(member, path, info.file_size)
        except (zipfile.BadZipFile, NotImplementedError) as exc:
            raise ReadError(f"not a valid .npz archive: {exc}", path) from None


def _npz_key(names: list[str], path: Path) -> str:
    if len(names) == 1:
        return names[0]
    for name in _NPZ_DEFAULT_KEYS:
        if name in names:
            return name
    if not names:
        raise ReadError("the archive holds no arrays", path)
    raise ReadError(f"the archive holds several arrays {names}; say which one is the label map",
                    path)
