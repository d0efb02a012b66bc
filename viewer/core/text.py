"""Wording shared by messages, status lines and reports."""

from __future__ import annotations

import re
from typing import Any

# A spreadsheet runs a cell starting with one of these as a formula
# (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``), or strips a tab/CR into one.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def count(n: int, one: str, many: str | None = None) -> str:
    """``"1 frame"``, ``"1,204 frames"``; ``many`` for irregular plurals (``"classes"``)."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def csv_cell(value: Any) -> Any:
    """Neutralise a CSV cell a spreadsheet would run as a formula (OWASP: prefix a ``'``).

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading single quote, unless it is a plain number (``-3``, ``-0.25``);
    numbers and other text are unchanged.

    Parameters
    ----------
    value : Any
        A cell; only ``str`` values are changed.

    Returns
    -------
    Any
    """
    if (isinstance(value, str) and value.startswith(_FORMULA_STARTS)
            and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value
