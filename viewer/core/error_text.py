"""Exceptions from the operating system and Python, said in a user's words.

``ValueError: embedded null byte`` or ``[Errno 36] File name too long: '...'``
mean something to a programmer only. :func:`describe` turns the exceptions a
file operation can raise into a short phrase ("the file name contains a NUL
byte") that fits after the file's name: ``Cannot open /x/y.png: <phrase>``.
Anything it does not know gets None, so the caller can say "unexpected" and
keep the technical text for a "Details" section.
"""

from __future__ import annotations

import errno

_ERRNO_WORDS = {
    errno.ENOENT: "the file or folder does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the disk is read-only",
    errno.EEXIST: "a file of that name exists already",
    errno.EMFILE: "too many files are open",
    errno.EIO: "the disk reported an input/output error",
    errno.ELOOP: "the path has too many symbolic links (a loop?)",
}
if hasattr(errno, "EDQUOT"):
    _ERRNO_WORDS[errno.EDQUOT] = "the disk quota is used up"


def describe(exc: BaseException) -> str | None:
    """A short phrase for ``exc`` in a user's words, or None when it is not a known kind.

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    str or None
        For example ``"the file name contains a NUL byte"`` for ``ValueError:
        embedded null byte``.
    """
    if isinstance(exc, MemoryError):
        return "there is not enough memory"
    if isinstance(exc, ValueError) and "null" in str(exc).lower():
        return "the file name contains a NUL byte"
    if isinstance(exc, ValueError) and "limit" in str(exc) and "digits" in str(exc):
        return "a number in it is too long"  # int() refusing thousands of digits
    if isinstance(exc, UnicodeError):
        return "the name or text is not valid in its encoding"
    if isinstance(exc, RecursionError):
        return "the data is nested too deeply"
    if isinstance(exc, OSError):
        if exc.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[exc.errno]
        if exc.strerror:
            return exc.strerror[:1].lower() + exc.strerror[1:]
    return None
