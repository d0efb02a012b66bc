"""Atomic file writing: never leave a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from viewer.core import output_guard, safe_input, transaction
from viewer.core.errors import ReadError, WriteError

# The process's umask, read once (reading it means setting it, which is not thread-safe).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    Inside a :func:`viewer.core.transaction.transaction` the complete file is
    handed to the transaction instead, which moves it into place with the
    export's other files. Inside :func:`viewer.core.output_guard.guarded` the
    guard may refuse the target (an input, a file written twice). Errors from
    the operating system become :class:`WriteError` naming the file.
    """
    path = Path(path)
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only ('w' or 'wb'), not {mode!r}")
    _check_name(path)
    guard, tx = output_guard.current(), transaction.current()
    if guard is not None:
        guard.check_open(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _make_temp(path)
    except OSError as exc:
        raise WriteError(f"cannot write here: {exc.strerror or exc}", path) from exc
    kwargs = {"encoding": "utf-8", "newline": "\n"} if mode == "w" else {}
    try:
        with _open_handle(fd, mode, kwargs) as handle:
            if tx is not None:
                tx.started(Path(tmp), path)
            yield handle
            handle.flush()
            _fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it what a plain open() would:
        # the permissions of the file it replaces, or the umask's for a new one.
        os.chmod(tmp, _mode_for(path))
        if guard is not None:
            guard.check_done(path, Path(tmp), tx, tx.label if tx is not None else "")
        if tx is not None:
            tx.register(Path(tmp), path)
        else:
            os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise WriteError(f"cannot write: {exc.strerror or exc}", path) from exc
    except BaseException:
        _remove_quietly(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def _check_name(path: Path) -> None:
    """Refuse a name no file system takes (NUL, too long) before the OS is asked."""
    try:
        safe_input.check_path(path)
    except ReadError as exc:
        raise WriteError(exc.message, exc.path) from None


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# -- the steps of a write, one seam each (the fault tests fail them one by one) ------


def _make_temp(path: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=transaction.temp_prefix(path),
                            suffix=transaction.TEMP_SUFFIX, dir=path.parent)


def _open_handle(fd: int, mode: str, kwargs: dict) -> IO:
    return os.fdopen(fd, mode, **kwargs)


def _fsync(fd: int) -> None:
    os.fsync(fd)
