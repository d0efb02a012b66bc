"""The only code that knows where ``resources/`` and ``models/`` live.

From a checkout (or an editable install) they sit beside the ``viewer`` package;
a frozen build unpacks them under ``sys._MEIPASS``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _root() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """Return the folder holding palettes, samples, icons and schemas."""
    return _root() / "resources"


def models_dir() -> Path:
    """Return the folder holding the bundled model manifests and files."""
    return _root() / "models"


def palettes_dir() -> Path:
    """Return the folder of the built-in palettes."""
    return resources_dir() / "palettes"


def samples_dir() -> Path:
    """Return the folder of the bundled sample image and mask."""
    return resources_dir() / "samples"


def sample_image() -> Path:
    """Return the bundled sample photo."""
    return samples_dir() / "astronaut.png"


def sample_mask() -> Path:
    """Return the mask of the bundled sample photo."""
    return samples_dir() / "astronaut_mask.png"
