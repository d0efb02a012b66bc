"""Dataset layouts: many inputs written as ONE dataset, where the owning tool looks.

``segview convert --layout dataset`` (the default for the formats listed
here) hands every input to the layout writer of the target format, which
writes the whole dataset in one transaction. One module per layout; each
declares the format names it writes (``FORMATS``) and
``write_dataset(items, out_dir, format_name, subset) -> DatasetResult``, where
``items`` is an iterable of :class:`DatasetItem` read as the writer takes
them, so that one segmentation is in memory at a time.
"""

from __future__ import annotations

from types import ModuleType

from viewer.core.layouts import camvid, cityscapes, coco, voc
from viewer.core.layouts.base import DatasetItem, DatasetResult

__all__ = ["DatasetItem", "DatasetResult", "layout_for", "LAYOUTS"]

_MODULES: tuple[ModuleType, ...] = (coco, cityscapes, voc, camvid)
#: format name -> the module that writes that format's dataset layout.
LAYOUTS: dict[str, ModuleType] = {name: module for module in _MODULES
                                  for name in module.FORMATS}


def layout_for(format_name: str) -> ModuleType | None:
    """The layout module writing ``format_name`` as a dataset, or None (per-file only)."""
    return LAYOUTS.get(format_name)
