"""Argument types shared by the commands: numbers checked by argparse itself.

A value outside its range is refused before any work starts, with argparse's
usual "argument --x: ..." line and exit 2, instead of running into a
multi-gigabyte allocation (``render --thickness 100000``) or a silent clamp.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from viewer.core.errors import ReadError
from viewer.core.safe_input import check_path


def fraction(text: str) -> float:
    """A float in 0..1 (NaN refused: every comparison with it is false)."""
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in 0..1, got {text}")
    return value


def output_path(text: str) -> Path:
    """A path to write to that a file system can take (no NUL byte, no over-long name).

    Checked before any work starts: deep inside an export the OS would only
    say "embedded null byte".
    """
    try:
        return check_path(text)
    except ReadError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``low..high``."""

    def parse(text: str) -> int:
        value = _number(text, int)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in {low}..{high}, got {text}")
        return value

    parse.__name__ = f"integer in {low}..{high}"  # what argparse names in its messages
    return parse


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value
