"""A lock that says "this recovery session's window is still running".

Each window holds the lock of the recovery session it autosaves into for as
long as it runs. Another window (or the next start) tries the lock before it
offers, restores or deletes a session: a lock it cannot take belongs to a live
window, and that session is left alone. The operating system drops the lock
when its process dies however it dies (``os._exit``, SIGKILL, a power cut), so
a crashed window's session becomes free and is offered.

POSIX uses ``fcntl.flock``; Windows ``msvcrt.locking`` on the lock file's
first byte. Both are advisory between SegView processes, which is all that is
needed, and both are released by the kernel with the process.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


class SessionLock:
    """An exclusive, non-blocking lock on one lock file.

    Parameters
    ----------
    path : str or Path
        The lock file (created, private, when missing).

    Notes
    -----
    Two ``SessionLock`` objects on one file exclude each other even inside one
    process (each has its own open file), so two windows of one process never
    share a session either.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another holder has it."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False  # cannot even open it: never treat the session as free
        if not _try_lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the lock go (the lock file stays)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                _unlock(fd)
            os.close(fd)

    def remove(self) -> None:
        """Delete the lock file, then let the lock go (a session being deleted)."""
        # Unlinking while still holding it means no other process can lock this
        # file between our release and the unlink and then find it gone.
        if os.name != "nt":
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.release()
            return
        self.release()  # Windows cannot delete a file that is open
        with contextlib.suppress(OSError):
            self.path.unlink()

    def __del__(self):
        self.release()


def is_free(path: str | Path) -> bool:
    """True when no one holds the lock at ``path`` (a missing lock file is free)."""
    lock = SessionLock(path)
    try:
        if not Path(path).exists():
            return True
        return lock.acquire()
    finally:
        lock.release()
