"""Pair the images of a folder with their masks, by file and folder names only.

Used by "open folder" and next/previous navigation. Nothing is opened or
decoded: one ``os.scandir`` per folder fills dictionaries keyed by lower-case
file name, and every rule below is a handful of dictionary look-ups per image,
so a folder of 10,000 files pairs in a fraction of a second.

Which files are images
----------------------
Every file with an extension of :data:`viewer.core.images.IMAGE_EXTENSIONS`
under the opened folder (recursively), except:

- files and folders whose name starts with ``.`` (hidden; ``._x.jpg`` macOS
  forks are not photos);
- anything inside a mask folder (:func:`is_mask_folder`: ``SegmentationClass``,
  ``SegmentationObject``, ``SegmentationClassNpy``, ``gtFine``, ``trainannot``,
  ``masks``, ``panoptic_*`` ...): those folders are not walked at all;
- files named as masks (``x_mask.png``, ``x_bin_mask.png``, ``x_ins_mask.png``,
  ``x_ins_maks.png``, ``x_gtFine_labelIds.png`` ...);
- files that another image claims as its mask (``x.png`` beside ``x.jpg``).

So a folder holding only masks yields no items: a PNG mask is not a photo, and
showing it as one would hide that it has no image.

Which files are masks of an image ``<stem>.<ext>`` in folder ``D``
--------------------------------------------------------------------
- beside it: ``<stem>.png|.npy|.npz`` and labelme's ``<stem>.json`` (never the
  image itself, nor another file of the image's own extension),
  ``<stem>_mask.png`` (ClearML),
  ``<stem>_bin_mask.png``, ``<stem>_ins_mask.png``, ``<stem>_ins_maks.png``
  (Celantur, whose documented name has the typo);
- in a mask folder beside ``D`` (a sibling of ``D``, or a child of ``D``):
  ``<stem>`` with a mask extension; this covers VOC/CVAT/labelme
  (``JPEGImages/x.jpg`` -> ``SegmentationClass/x.png``,
  ``SegmentationObject/x.png``, ``SegmentationClassNpy/x.npy``), COCO panoptic
  (``images/x.jpg`` -> ``panoptic_val2017/x.png``) and CamVid (``train/x.png``
  -> ``trainannot/x.png``; a ``<split>annot`` folder only serves ``<split>``);
- Cityscapes: ``.../leftImg8bit/<split>/<city>/<base>_leftImg8bit.png`` ->
  ``.../gtFine/<split>/<city>/<base>_gtFine_<kind>.png`` (and ``gtCoarse``),
  also when both lie in one folder.

Order of the masks (best first)
-------------------------------
The viewer opens the first one, so the masks that carry the most information
come first:

0. class *and* instance in one file: Cityscapes ``instanceIds``
   (``class*1000 + n``), Celantur instance masks, COCO panoptic folders;
1. class maps: Cityscapes ``labelIds``, VOC ``SegmentationClass``, CamVid
   ``annot``, ClearML ``_mask``, same-stem ``.png``/``.npy`` beside;
2. instance numbers without classes: VOC ``SegmentationObject`` (its instances
   only mean something laid over ``SegmentationClass``, hence after it);
3. derived or reduced masks: Cityscapes ``labelTrainIds`` (a lossy remap of
   labelIds), Celantur ``_bin_mask`` (one bit);
4. visualisations: Cityscapes ``_color``, ``*Visualization`` folders, JPEG
   masks (lossy).

Within a rank, PNG comes before NumPy (the PNG carries the palette) and then
paths in natural order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from viewer.core.errors import ReadError
from viewer.core.images import IMAGE_EXTENSIONS

#: Extensions of a mask file found beside an image (index PNG, label arrays, labelme JSON).
BESIDE_EXTENSIONS = (".png", ".npy", ".npz", ".json")
#: Extensions of a mask file inside a mask folder; JPEGs there are visualisations.
FOLDER_EXTENSIONS = (".png", ".npy", ".npz", ".tif", ".tiff", ".bmp", ".jpg", ".jpeg")

INSTANCE, CLASS, INSTANCE_ONLY, DERIVED, VISUAL = range(5)

#: ``<stem><suffix>`` beside the image -> rank (Celantur, ClearML).
SUFFIX_RANKS = {
    "_ins_mask.png": INSTANCE,
    "_ins_maks.png": INSTANCE,
    "_mask.png": CLASS,
    "_bin_mask.png": DERIVED,
}
#: Cityscapes ``_<root>_<kind>.png`` kinds -> rank.
CITYSCAPES_KINDS = {
    "instanceids": INSTANCE,
    "labelids": CLASS,
    "labeltrainids": DERIVED,
    "color": VISUAL,
}
CITYSCAPES_IMAGE = "_leftimg8bit"
CITYSCAPES_IMAGE_ROOT = "leftimg8bit"
CITYSCAPES_MASK_ROOTS = ("gtfine", "gtcoarse")

#: Lower-case folder names that hold masks.
MASK_FOLDER_NAMES = frozenset({
    "segmentationclass", "segmentationobject", "segmentationclassnpy",
    "segmentationobjectnpy", "segmentationclassaug", "segmentationclasspng",
    "segmentationclassvisualization", "segmentationobjectvisualization",
    "gtfine", "gtcoarse", "annot", "mask", "masks", "labels", "instances",
    "panoptic", "semantic", "segmentations",
})

# Stems that name a mask whatever folder they are in; matched on the lower-case stem.
_MASK_STEM = re.compile(r"(_mask|_bin_mask|_ins_mask|_ins_maks|_gt(fine|coarse)_[a-z]+)$")
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Item:
    """One image of an opened folder and its masks.

    Attributes
    ----------
    image : Path
        The photo.
    masks : tuple of Path
        Its mask files, best first (see the module docstring); may be empty.
    name : str
        Display name: the image's path relative to the opened folder, with
        ``/`` separators, so that equal file names in two subfolders differ.
    """

    image: Path
    masks: tuple[Path, ...]
    name: str


def is_mask_folder(name: str) -> bool:
    """Return True when a folder called ``name`` holds masks rather than photos."""
    lower = name.lower()
    return (lower in MASK_FOLDER_NAMES
            or lower.endswith("annot")                   # CamVid trainannot/valannot
            or lower.startswith("segmentationclass")     # VOC and labelme variants
            or lower.startswith("segmentationobject")
            or "panoptic" in lower                       # panoptic_val2017, panoptic_examples
            or lower.endswith(("_mask", "_masks")))


def is_mask_name(name: str) -> bool:
    """Return True when a file called ``name`` is named as a mask (``x_mask.png``)."""
    return _MASK_STEM.search(Path(name).stem.lower()) is not None


def natural_key(text: str) -> tuple:
    """Sort key that orders ``img2`` before ``img10`` (case-insensitive)."""
    parts = _DIGITS.split(text.lower())
    # Pairs of (text, number) so that strings are never compared with ints.
    return tuple((parts[i], int(parts[i + 1]) if i + 1 < len(parts) else -1)
                 for i in range(0, len(parts), 2))


def pair_folder(folder: str | Path) -> list[Item]:
    """List the images under ``folder`` with their masks, in natural order.

    Parameters
    ----------
    folder : str or Path
        The folder the user opened; walked recursively, skipping hidden and
        mask folders.

    Returns
    -------
    list of Item
        Sorted naturally by path relative to ``folder``.

    Raises
    ------
    ReadError
        When ``folder`` or one of its subfolders cannot be listed.
    """
    steps = pair_folder_steps(folder)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def pair_folder_steps(folder: str | Path) -> Generator[int, None, list[Item]]:
    """:func:`pair_folder` as a generator: yields the number of folders listed so far.

    A worker runs it so that a folder on a slow disk can be cancelled between
    two folders; the list of items is the generator's return value.
    """
    root = Path(folder)
    listings = _Listings()
    candidates: list[Path] = []
    stack = [root]
    scanned = 0
    while stack:
        directory = stack.pop()
        listing = listings.scan(directory, required=True)
        scanned += 1
        yield scanned
        stack.extend(d for name, d in listing.dirs.items()
                     if not name.startswith(".") and not is_mask_folder(name))
        candidates.extend(p for p in listing.all_files if _is_image_name(p.name))

    paired = {image: _masks_of(image, listings) for image in candidates}
    claimed = {mask for masks in paired.values() for mask in masks}
    items = []
    for image, masks in paired.items():
        if image in claimed:
            continue
        rel = image.relative_to(root)
        items.append(Item(image, masks, rel.as_posix()))
    items.sort(key=lambda item: (tuple(natural_key(p) for p in Path(item.name).parts), item.name))
    return items


def pair_image(image: str | Path) -> tuple[Path, ...]:
    """Return the masks of one image, best first (same rules as :func:`pair_folder`).

    Looks beside the image, in the mask folders beside and inside its folder,
    and in the Cityscapes ``gtFine`` tree.

    Raises
    ------
    ReadError
        When the image's folder cannot be listed.
    """
    image = Path(image)
    listings = _Listings()
    listings.scan(image.parent, required=True)
    return _masks_of(image, listings)


# -- internals ---------------------------------------------------------------------------


class _Listing:
    """Files and subfolders of one folder, keyed by lower-case name."""

    __slots__ = ("files", "dirs", "all_files")

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.dirs: dict[str, Path] = {}
        # Every file, also those whose lower-case names collide (``A.jpg`` and
        # ``a.jpg`` are two photos on Linux); the dictionaries serve look-ups.
        self.all_files: list[Path] = []


class _Listings:
    """One ``os.scandir`` per folder, cached for every rule that looks there."""

    def __init__(self) -> None:
        self._cache: dict[Path, _Listing] = {}
        # Mask folders serving each image folder, found once per folder, not per image.
        self.mask_folders: dict[Path, list[Path]] = {}

    def scan(self, directory: Path, *, required: bool = False) -> _Listing:
        """Return the listing of ``directory``.

        A folder the user opened (``required``) must be readable; a folder we
        only peek into for masks (a sibling, the parent) may be missing or
        forbidden, and then simply holds no masks.
        """
        cached = self._cache.get(directory)
        if cached is not None:
            return cached
        listing = _Listing()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    key = entry.name.lower()
                    try:
                        # Symlinked folders are not followed: a link to a parent would loop.
                        if entry.is_dir(follow_symlinks=False):
                            listing.dirs.setdefault(key, Path(entry.path))
                        elif entry.is_file():
                            path = Path(entry.path)
                            listing.files.setdefault(key, path)
                            listing.all_files.append(path)
                    except OSError:
                        continue  # a dangling link or a file gone meanwhile
        except OSError as exc:
            if required:
                reason = exc.strerror or type(exc).__name__
                raise ReadError(f"cannot list the folder: {reason}", directory) from None
        self._cache[directory] = listing
        return listing


def _is_image_name(name: str) -> bool:
    return (not name.startswith(".")
            and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
            and not is_mask_name(name))


def _masks_of(image: Path, listings: _Listings) -> tuple[Path, ...]:
    found: dict[Path, int] = {}
    for path, rank in _candidates(image, listings):
        if path is not None and path != image:
            found[path] = min(rank, found.get(path, rank))
    return tuple(sorted(found, key=lambda p: (found[p], _ext_rank(p), natural_key(str(p)), str(p))))


def _candidates(image: Path, listings: _Listings) -> Iterator[tuple[Path | None, int]]:
    """Yield ``(path or None, rank)`` for every name the conventions look up."""
    folder = image.parent
    stem = image.stem.lower()
    own_ext = image.suffix.lower()
    here = listings.scan(folder).files
    for ext in BESIDE_EXTENSIONS:
        if ext != own_ext:  # a PNG photo beside another PNG of its stem is the image itself
            yield here.get(stem + ext), CLASS
    for suffix, rank in SUFFIX_RANKS.items():
        yield here.get(stem + suffix), rank

    for mask_folder in _mask_folders_for(folder, listings):
        files = listings.scan(mask_folder).files
        rank = _folder_rank(mask_folder.name)
        for ext in FOLDER_EXTENSIONS:
            yield files.get(stem + ext), VISUAL if ext in (".jpg", ".jpeg") else rank

    if stem.endswith(CITYSCAPES_IMAGE):
        base = stem[: -len(CITYSCAPES_IMAGE)]
        for gt_folder in [folder, *_cityscapes_folders(folder, listings)]:
            files = listings.scan(gt_folder).files
            for root in CITYSCAPES_MASK_ROOTS:
                for kind, rank in CITYSCAPES_KINDS.items():
                    yield files.get(f"{base}_{root}_{kind}.png"), rank


def _mask_folders_for(folder: Path, listings: _Listings) -> list[Path]:
    """Mask folders beside ``folder`` (VOC, CamVid, panoptic) and inside it."""
    cached = listings.mask_folders.get(folder)
    if cached is not None:
        return cached
    seen = []
    # The file-system root has no parent to hold siblings.
    for parent in (folder,) if folder.parent == folder else (folder.parent, folder):
        for name, path in listings.scan(parent).dirs.items():
            if path == folder or not is_mask_folder(name):
                continue
            # trainannot serves train/, not val/ (CamVid splits may reuse stems).
            if name.endswith("annot") and name != "annot" and name[:-5] != folder.name.lower():
                continue
            seen.append(path)
    listings.mask_folders[folder] = seen
    return seen


def _cityscapes_folders(folder: Path, listings: _Listings) -> list[Path]:
    """``gtFine``/``gtCoarse`` counterparts of a folder under ``leftImg8bit``.

    Followed through the cached listings (case-insensitively) rather than
    built as strings, so a tree spelled ``gtfine`` is found too.
    """
    parts = folder.parts
    lower = [p.lower() for p in parts]
    if CITYSCAPES_IMAGE_ROOT not in lower:
        return []
    index = len(lower) - 1 - lower[::-1].index(CITYSCAPES_IMAGE_ROOT)
    head, tail = Path(*parts[:index]), lower[index + 1:]
    found = []
    for root in CITYSCAPES_MASK_ROOTS:
        current = listings.scan(head).dirs.get(root)
        for name in tail:
            if current is None:
                break
            current = listings.scan(current).dirs.get(name)
        if current is not None:
            found.append(current)
    return found


def _folder_rank(name: str) -> int:
    lower = name.lower()
    if "visual" in lower or lower.endswith("color"):
        return VISUAL
    if "panoptic" in lower:
        return INSTANCE
    if lower.startswith("segmentationobject") or lower == "instances":
        return INSTANCE_ONLY
    return CLASS


def _ext_rank(path: Path) -> int:
    ext = path.suffix.lower()
    return FOLDER_EXTENSIONS.index(ext) if ext in FOLDER_EXTENSIONS else len(FOLDER_EXTENSIONS)
