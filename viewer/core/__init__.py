"""The pure core: data, formats, rendering. Never imports Qt (see tests/test_architecture.py)."""

from viewer.core.errors import (
    FormatError,
    ModelError,
    PaletteError,
    ReadError,
    SegmentationError,
    SettingsError,
    TaskCancelled,
    ViewerError,
    WriteError,
)
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Provenance, Segmentation

__all__ = [
    "FormatError", "Kind", "ModelError", "PaletteError", "Provenance", "ReadError", "Segment",
    "SegmentTable", "Segmentation", "SegmentationError", "SettingsError", "TaskCancelled",
    "ViewerError", "WriteError",
]
