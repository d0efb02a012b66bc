"""The only code that knows where ``resources/`` and ``models/`` live.

In the repository they sit at the root, beside the ``viewer`` package. How the
app finds them depends on how it runs:

- **installed wheel**: setuptools maps ``resources/`` to the package
  ``viewer._resources`` and ``models/`` to ``viewer._models`` (``package-dir`` in
  pyproject.toml), so they are installed inside the package:
  ``site-packages/viewer/_resources`` and ``site-packages/viewer/_models``.
- **frozen build** (PyInstaller, ``packaging/segview.spec``): the spec copies them
  to the same places under the bundle's root ``sys._MEIPASS``:
  ``<bundle>/viewer/_resources`` and ``<bundle>/viewer/_models``.
- **checkout or editable install** (``dev.py``): nothing is copied; ``viewer/``
  has no ``_resources`` folder, so they are found beside the package, at the
  repository root.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

# name at the repository root -> name inside the installed package (and the frozen bundle)
_BUNDLED = {"resources": "_resources", "models": "_models"}


@cache
def _locate(name: str) -> Path:
    bundled = _BUNDLED[name]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "viewer" / bundled
    inside = _PACKAGE / bundled
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / name


def mode() -> str:
    """How the app runs: ``"frozen"``, ``"installed"`` or ``"checkout"``."""
    if getattr(sys, "_MEIPASS", None):
        return "frozen"
    return "installed" if (_PACKAGE / _BUNDLED["resources"]).is_dir() else "checkout"


def resources_dir() -> Path:
    """Return the folder holding palettes, samples and schemas."""
    return _locate("resources")


def models_dir() -> Path:
    """Return the folder holding the bundled model manifests and files."""
    return _locate("models")


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


def app_icon() -> Path:
    """The application icon (PNG, 256 px)."""
    return resources_dir() / "icons" / "segview.png"
