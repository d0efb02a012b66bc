"""Names the Celantur readers and writers share: format names, type codes, file names.

The R-channel codes and file-name suffixes are those of ``FORMATS.md`` section 2;
:mod:`viewer.core.formats.celantur` describes the formats as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BINARY = "celantur-binary"
INSTANCE = "celantur-instance"
METADATA = "celantur-metadata"

#: R-channel code -> type name (shared palettes.json "celantur_instance_R_channel").
TYPES = {64: "license plate", 128: "person", 192: "face", 255: "vehicle"}
ANONYMISED = "anonymised"
BINARY_SUFFIX = "_bin_mask.png"
#: The documented (misspelt) name first: it is what Celantur writes.
INSTANCE_SUFFIXES = ("_ins_maks.png", "_ins_mask.png")
# Spellings of type_label seen or plausible; keys are lower-case, single-spaced.
_TYPE_ALIASES = {
    "license plate": 64, "licence plate": 64, "licenseplate": 64, "licenceplate": 64,
    "plate": 64, "person": 128, "face": 192, "vehicle": 255,
}


def type_code(label: Any) -> int | None:
    """Return the R code (64, 128, 192, 255) of a type name, or None.

    Case, ``_`` and ``-`` are ignored and both spellings of licence are
    accepted (``"License_Plate"`` -> 64).
    """
    if not isinstance(label, str):
        return None
    key = " ".join(label.lower().replace("_", " ").replace("-", " ").split())
    return _TYPE_ALIASES.get(key)


def image_stem(mask_path: Path) -> str:
    """Return ``image-name`` for ``image-name_ins_maks.png`` (or ``_bin_mask``, ``.json``)."""
    name = Path(mask_path).name
    for suffix in (*INSTANCE_SUFFIXES, BINARY_SUFFIX):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def metadata_beside(mask_path: Path) -> Path | None:
    """Return ``image-name.json`` beside a Celantur mask, when there is one."""
    candidate = Path(mask_path).with_name(image_stem(mask_path) + ".json")
    return candidate if candidate.is_file() else None


def mask_beside(json_path: Path) -> tuple[Path, bool] | None:
    """Return (mask path, is_instance) for ``image-name.json``; instance first."""
    stem = json_path.name[: -len(json_path.suffix)] if json_path.suffix else json_path.name
    for suffix in INSTANCE_SUFFIXES:
        if (json_path.parent / (stem + suffix)).is_file():
            return json_path.parent / (stem + suffix), True
    if (json_path.parent / (stem + BINARY_SUFFIX)).is_file():
        return json_path.parent / (stem + BINARY_SUFFIX), False
    return None
