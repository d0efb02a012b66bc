"""Budgets for the counts a file declares, checked before anything is allocated.

A few bytes of JSON or a raw dump's sidecar can declare 5,000 classes, a
17000 x 17000 canvas or a million instances. Every count that sizes an
allocation (classes, instances, ids, frames, boxes, dimensions) goes through
one of these checks first, so a small file cannot make the viewer hang or take
all memory: it gets a :class:`ReadError` that names the file, the count and
the limit, in well under a second.
"""

from __future__ import annotations

import re
from pathlib import Path

from viewer.core.errors import ReadError

#: The most one derived array may take (class scores, a stack of masks): a
#: quarter of what a laptop has, so that a few of them still fit at once.
MEMORY_BUDGET = 1 << 30
#: Distinct segments one mask may hold. Each is a table row (a few hundred
#: bytes) and a line in the segment list; cell and crowd annotations stay far
#: below, and noise (a random 16-bit image) is refused instead of taking minutes.
MAX_SEGMENTS = 100_000
#: Classes a score blob or a raw dump may declare (one score plane each).
MAX_CLASSES = 1024


def check_count(count: int, limit: int, what: str, path: str | Path | None, *,
                hint: str = "") -> int:
    """Return ``count`` when it is a non-negative integer at most ``limit``.

    Parameters
    ----------
    count : int
        The number the file declares or holds.
    limit : int
        The most this viewer accepts.
    what : str
        What is counted, plural ("classes", "instances").
    path : str or Path or None
        The file, named in the error.
    hint : str
        Appended to the message (how to get below the limit).

    Raises
    ------
    ReadError
        ``"holds 5,000 classes, more than the 1,024 this viewer reads"``.
    """
    count = int(count)
    if count < 0:
        raise ReadError(f"declares a negative number of {what} ({count:,})", path)
    if count > limit:
        tail = f"; {hint}" if hint else ""
        raise ReadError(f"holds {count:,} {what}, more than the {limit:,} this viewer "
                        f"reads{tail}", path)
    return count


def check_bytes(nbytes: int, what: str, path: str | Path | None, *,
                budget: int = MEMORY_BUDGET) -> int:
    """Return ``nbytes`` when an allocation of that size fits ``budget``.

    Raises
    ------
    ReadError
        ``"<what> would take 4.0 GiB, more than the 1.0 GiB budget"``.
    """
    nbytes = int(nbytes)
    if nbytes > budget:
        raise ReadError(f"{what} would take {_gib(nbytes)} of memory, more than the "
                        f"{_gib(budget)} this viewer allows for it", path)
    return nbytes


def check_declared(count: int, file_bytes: int, bytes_each: int, what: str,
                   path: str | Path | None) -> int:
    """Return ``count`` when the file is large enough to hold that many items.

    A file that declares more items than it has room for (``bytes_each`` is
    the least one item takes in it) is damaged or crafted.

    Raises
    ------
    ReadError
    """
    count = int(count)
    if count * bytes_each > file_bytes:
        raise ReadError(f"declares {count:,} {what} but is only {file_bytes:,} bytes long "
                        f"(each needs at least {bytes_each} bytes)", path)
    return count


def _gib(nbytes: int) -> str:
    return f"{nbytes / (1 << 30):.1f} GiB"


# 18 digits hold any count or size a file can mean; longer ones are not numbers to us
# (and past 4,300 digits int() itself refuses them with a traceback).
_DIGITS = re.compile(r"[0-9]{1,18}")
_SIGNED_DIGITS = re.compile(r"-?[0-9]{1,18}")


def whole_number(text: str, *, signed: bool = False) -> int | None:
    """The integer that ``text`` spells in ASCII digits, or None.

    ``str.isdigit`` accepts ``"²"``, which ``int()`` then refuses with a
    traceback; counts and sizes written as text go through this instead.
    """
    pattern = _SIGNED_DIGITS if signed else _DIGITS
    text = text.strip()
    return int(text) if pattern.fullmatch(text) else None
