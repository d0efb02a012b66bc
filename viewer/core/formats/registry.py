"""The one table of mask formats. Add a module, then one line here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from viewer.core import metadata, safe_input
from viewer.core.errors import FormatError, ReadError, SegmentationError, ViewerError
from viewer.core.formats import (
    celantur,
    cityscapes,
    clearml,
    coco_panoptic,
    coco_rle,
    cvat_mask,
    deepstream,
    index_png,
    label_npy,
    labelme,
    nucleus,
    opencv_dnn,
    rgb_mask,
)
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import fit_to_image
from viewer.core.formats.names import sequence_sidecar_paths, sidecar_path
from viewer.core.segmentation import Segmentation

FORMATS: tuple[FormatSpec, ...] = (
    *index_png.FORMATS,
    *label_npy.FORMATS,
    *celantur.FORMATS,
    *nucleus.FORMATS,
    *deepstream.FORMATS,
    *opencv_dnn.FORMATS,
    *coco_rle.FORMATS,
    *coco_panoptic.FORMATS,
    *cityscapes.FORMATS,
    *rgb_mask.FORMATS,
    *cvat_mask.FORMATS,
    *clearml.FORMATS,
    *labelme.FORMATS,
)


def get_format(name: str) -> FormatSpec:
    """Return the format registered as ``name``."""
    for spec in FORMATS:
        if spec.name == name:
            return spec
    raise FormatError(f"unknown format {name!r}; known: {', '.join(f.name for f in FORMATS)}")


def find_reader(path: str | Path) -> FormatSpec:
    """Return the best format that can read ``path`` (extension, then sniff, then priority)."""
    path = safe_input.check_path(path)
    if not path.is_dir():
        safe_input.stat_regular(path, "mask file")  # missing, FIFO, device: say so, never block
    # Highest priority first, and stop at the first that accepts: some sniffers
    # decode the file (a colour check), so lower ones should not run needlessly.
    for spec in sorted(FORMATS, key=lambda f: -f.priority):
        if spec.read is not None and spec.accepts(path):
            return spec
    raise ReadError("no registered format reads this file (segview formats lists them)", path)


def read_mask(path: str | Path, format_name: str | None = None, *, item: str | None = None,
              **options) -> Segmentation:
    """Read a mask with the named format, or the one :func:`find_reader` picks.

    With ``image_size=(width, height)``, a smaller mask of the same aspect
    ratio is upscaled with nearest neighbour and any other size is an error.
    When our metadata JSON from an earlier export sits beside the mask, its
    labels, colours and attributes are restored onto the segments.
    """
    path = safe_input.check_path(path)
    spec = get_format(format_name) if format_name else find_reader(path)
    if spec.read is None:
        raise FormatError(f"format {spec.name!r} cannot read", path)
    if item is not None:
        options["item"] = item
    try:
        seg = spec.read(path, **options)
    except SegmentationError as exc:  # a map the core refuses (too many segments): name the file
        raise ReadError(exc.message, path) from None
    _apply_sidecar(seg, path)
    if options.get("image_size") is not None:
        seg = fit_to_image(seg, options["image_size"], path)
    return seg


def _apply_sidecar(seg: Segmentation, path: Path) -> None:
    """Restore labels from our metadata JSON beside the mask, when it describes this mask.

    A damaged sidecar, or one written for another mask (another size, other
    files, other bytes), must not stop the mask from opening: it is skipped
    with a warning in the provenance.
    """
    sidecar = sidecar_path(path)
    if sidecar is not None:
        _restore_from(seg, path, sidecar, lambda doc: doc)
        return
    for sequence in sequence_sidecar_paths(path):
        # A video export's sequence JSON that lists this frame's file labels it too.
        if _restore_from(seg, path, sequence,
                         lambda doc, where=sequence: metadata.frame_document(doc, path, where)):
            return


def _restore_from(seg: Segmentation, path: Path, source: Path,
                  pick: Callable[[dict], dict | None]) -> bool:
    """Apply the record ``pick`` takes from the metadata JSON ``source``.

    One that cannot be read or describes another mask is skipped with a
    warning, never an error. Returns False when ``pick`` finds nothing about
    ``path`` there.
    """
    try:
        doc = pick(metadata.read(source))
        if doc is None:
            return False
        problem = metadata.mismatch(doc, path, source, seg)
    except (ViewerError, ValueError, RecursionError, OSError) as exc:
        problem = exc.message if isinstance(exc, ViewerError) else f"cannot be read ({exc})"
    if problem is None:
        metadata.apply(seg, doc)
    else:
        _warn(seg, f"labels not restored from {source.name}: {problem}")
    return True


def _warn(seg: Segmentation, sentence: str) -> None:
    if isinstance(seg.provenance.details, dict):
        seg.provenance.details.setdefault("warnings", []).append(sentence)


def list_items(path: str | Path, format_name: str | None = None) -> list[str]:
    """Return the images or frames a container file holds ([] for a single mask)."""
    path = Path(path)
    spec = get_format(format_name) if format_name else find_reader(path)
    return list(spec.items(path)) if spec.items is not None else []
