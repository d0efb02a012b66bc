"""Cityscapes datasets: ``gtFine/<split>/<city>/<name>_gtFine_<kind>.png``.

The layout cityscapesScripts and Datumaro read, each file named with the
suffix of the ids it holds (``labelIds``, ``labelTrainIds``, ``instanceIds``),
so that a reader never takes trainIds for labelIds. The split is
``--subset``; the city is the input's own city folder (an input already in a
``gtFine/<split>/<city>/`` layout) or the city in a Cityscapes name
(``frankfurt_000000_000294_...``), else ``default``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from viewer.core.export import export
from viewer.core.formats import cityscapes
from viewer.core.layouts.base import DatasetItem, DatasetResult, Names
from viewer.core.transaction import transaction

FORMATS = (cityscapes.LABEL_IDS, cityscapes.TRAIN_IDS, cityscapes.INSTANCE_IDS)
GT_DIR = "gtFine"
DEFAULT_CITY = "default"
_KIND = {cityscapes.LABEL_IDS: "labelIds", cityscapes.TRAIN_IDS: "labelTrainIds",
         cityscapes.INSTANCE_IDS: "instanceIds"}
# What a Cityscapes file name adds to the image's name (any kind, fine or coarse).
_SUFFIX = re.compile(r"(_(gtFine|gtCoarse))?_(labelIds|labelTrainIds|trainIds|instanceIds|color"
                     r"|polygons|leftImg8bit)$", re.IGNORECASE)
_CITY_NAME = re.compile(r"^([a-z][a-z_-]*?)_\d{6}_\d{6}$")


def write_dataset(items: Iterable[DatasetItem], out_dir: Path, format_name: str,
                  subset: str) -> DatasetResult:
    """Write ``items`` as one Cityscapes split of ``format_name``, in one transaction."""
    kind = _KIND[format_name]
    names = Names("image")
    result = DatasetResult()
    with transaction(home=out_dir, label=f"{GT_DIR}/{subset}", format_name=format_name):
        for item in items:
            city, name = city_of(item), image_name(item.stem)
            names.add(f"{city}/{name}", item)
            folder = Path(out_dir) / GT_DIR / subset / city
            written = export(item.seg, format_name, folder, f"{name}_{GT_DIR}_{kind}",
                             image=item.image)
            result.files += written.files
            result.metadata.append(written.metadata)
            result.lost += [(item.source, line) for line in written.lost]
    return result


def image_name(stem: str) -> str:
    """The image's name without any Cityscapes suffix (``x_gtFine_labelIds`` -> ``x``)."""
    return _SUFFIX.sub("", stem) or stem


def city_of(item: DatasetItem) -> str:
    """The city folder of ``item``: its own Cityscapes city, else ``default``."""
    parents = item.source.parents
    if len(parents) >= 3 and parents[2].name in cityscapes.GT_FOLDERS and parents[0].name:
        return parents[0].name
    match = _CITY_NAME.match(image_name(item.stem))
    return match.group(1) if match else DEFAULT_CITY
