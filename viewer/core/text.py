"""Wording shared by messages, status lines and reports."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """``"1 frame"``, ``"1,204 frames"``; ``many`` for irregular plurals (``"classes"``)."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"
