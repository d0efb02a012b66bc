"""Files laid out and encoded as Datumaro 1.x writes them, made by test code.

Datumaro is not a dependency, so these helpers follow its exporters line by line
(``plugins/data_formats/cityscapes.py`` and ``camvid.py`` at commit 3d533b9c):

- the label map: the row coloured (0, 0, 0) is the background; when there is
  none, a ``background`` row (black, or no colour when no row has one) is put
  first, and left out of the ``label_colors.txt`` written (``save_label_map``
  pops it again). CamVid also moves a black row to the front; Cityscapes does not.
- ``label_colors.txt``: ``"%s %s\\n" % ("R G B" or "", name)`` per row, at the
  dataset root.
- without any colour, masks are painted with ``generate_colormap`` (the VOC colours).
- pixels no mask covers are class 0 (``CompiledMask``'s background).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from viewer.core.palettes import builtin_palette

Row = tuple[str, "tuple[int, int, int] | None"]


def categories(rows: Sequence[Row], *, black_first: bool) -> tuple[list[Row], list[Row]]:
    """(Datumaro's categories in id order, the rows its label_colors.txt lists)."""
    label_map = dict(rows)
    black = next((name for name, color in label_map.items() if color == (0, 0, 0)), None)
    added = False
    if black is None:
        black = "background"
        if black not in label_map:
            has_colors = any(c is not None for c in label_map.values())
            label_map[black] = (0, 0, 0) if has_colors else None
            added = True
        label_map = {black: label_map.pop(black), **label_map}
    elif black_first:
        label_map = {black: label_map.pop(black), **label_map}
    ordered = list(label_map.items())
    if not any(c is not None for _n, c in ordered):
        voc = builtin_palette("voc")
        ordered = [(n, voc.color(i)) for i, (n, _c) in enumerate(ordered)]
    written = [(n, c) for n, c in label_map.items() if not (added and n == black)]
    return ordered, written


def label_colors_text(written: Sequence[Row]) -> str:
    return "".join("%s %s\n" % (" ".join(map(str, c)) if c else "", n) for n, c in written)


def cityscapes(root: Path, rows: Sequence[Row], items: Mapping[str, Mapping[str, np.ndarray]],
               ) -> tuple[list[Row], list[Path]]:
    """Write a Datumaro Cityscapes export; ``items[subset][item id]`` holds class names per pixel
    (``None`` where no mask covers it). Returns the categories and the labelIds files."""
    ordered, written = categories(rows, black_first=False)
    index = {name: i for i, (name, _c) in enumerate(ordered)}
    (root).mkdir(parents=True, exist_ok=True)
    (root / "label_colors.txt").write_text(label_colors_text(written), encoding="utf-8")
    files = []
    for subset, by_id in items.items():
        for item_id, names in by_id.items():
            ids = np.vectorize(lambda n: 0 if n is None else index[n], otypes=[np.int64])(names)
            stem = root / "gtFine" / subset / f"{item_id}_gtFine"
            stem.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(ids.astype(np.uint8)).save(f"{stem}_labelIds.png")
            # Datumaro saves int32 through Pillow, which wrote mode I as 16-bit grey.
            Image.fromarray(ids.astype(np.uint16)).save(f"{stem}_instanceIds.png")
            colors = np.array([c or (0, 0, 0) for _n, c in ordered], np.uint8)
            Image.fromarray(colors[ids]).save(f"{stem}_color.png")
            files.append(Path(f"{stem}_labelIds.png"))
    return ordered, files


def camvid(root: Path, rows: Sequence[Row], items: Mapping[str, Mapping[str, np.ndarray]],
           ) -> tuple[list[Row], list[Path]]:
    """Write a Datumaro CamVid export (masks in ``<subset>annot/``, lists ``<subset>.txt``)."""
    ordered, written = categories(rows, black_first=True)
    index = {name: i for i, (name, _c) in enumerate(ordered)}
    colors = np.array([c or (0, 0, 0) for _n, c in ordered], np.uint8)
    root.mkdir(parents=True, exist_ok=True)
    (root / "label_colors.txt").write_text(label_colors_text(written), encoding="utf-8")
    files = []
    for subset, by_id in items.items():
        lines = []
        for item_id, names in by_id.items():
            ids = np.vectorize(lambda n: 0 if n is None else index[n], otypes=[np.int64])(names)
            mask = root / f"{subset}annot" / f"{item_id}.png"
            mask.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(colors[ids]).save(mask)
            lines.append(f"/{subset}/{item_id}.jpg {subset}annot/{item_id}.png\n")
            files.append(mask)
        (root / f"{subset}.txt").write_text("".join(lines), encoding="utf-8")
    return ordered, files
