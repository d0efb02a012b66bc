"""Export: write a segmentation in a registered format plus our metadata JSON.

Used by ``segview convert`` and by the GUI's export command, so both write the
same files and report the same losses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from viewer.core import metadata
from viewer.core.errors import WriteError
from viewer.core.formats.common import overlap_losses, write_png
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.formats.registry import get_format
from viewer.core.segmentation import Segmentation
from viewer.core.transaction import current_path, file_sha256, transaction


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and what it could not keep.

    Attributes
    ----------
    files : list of Path
        Mask files, the primary one first.
    metadata : Path
        The metadata JSON.
    lost : list of str
        Sentences naming what the format could not hold (empty when lossless).
    overlay : Path or None
        The rendered overlay PNG, when one was asked for.
    """

    files: list[Path]
    metadata: Path
    lost: list[str] = field(default_factory=list)
    overlay: Path | None = None


def losses(seg: Segmentation, format_name: str) -> list[str]:
    """Return what writing ``seg`` as ``format_name`` would lose."""
    spec = get_format(format_name)
    lost = spec.check_losses(seg)
    if not spec.overlaps:
        lost += [line for line in overlap_losses(seg, spec.name) if line not in lost]
    return lost


def export(seg: Segmentation, format_name: str, out_dir: str | Path, stem: str, *,
           image: str | Path | None = None, image_size: tuple[int, int] | None = None,
           palette: tuple[str, str] | None = None, overlay: np.ndarray | None = None,
           review: dict | None = None, **options) -> ExportResult:
    """Write ``seg`` into ``out_dir`` as ``<stem>.<ext>`` (and side files) plus metadata.

    Parameters
    ----------
    seg : Segmentation
    format_name : str
        Registry name of the format to write.
    out_dir : str or Path
        Created when missing.
    stem : str
        Base name of the files.
    image : str or Path, optional
        The source photo, recorded in the metadata.
    image_size : (width, height), optional
        The photo's size; a mask of another size is refused.
    palette : (id, title), optional
        The palette in use, recorded in the metadata.
    overlay : ndarray of shape (H, W, 3), uint8, optional
        The photo with the overlay rendered in (see
        :func:`viewer.core.render.pipeline.render_export`), written as
        ``<stem>_overlay.png`` and recorded in the metadata.
    review : dict, optional
        The item's review state (:func:`viewer.core.review.metadata_record`),
        stored under ``"review"`` in the metadata.
    **options
        Passed to the format's writer.
    """
    spec = get_format(format_name)
    out_dir = Path(out_dir)
    primary = out_dir / f"{stem}{spec.extensions[0] if spec.extensions else ''}"
    if spec.write is None:
        raise WriteError(f"format {spec.name!r} is read-only", primary)
    if image_size is not None and tuple(image_size) != (seg.width, seg.height):
        raise WriteError(f"the mask is {seg.width}x{seg.height} but the image is "
                         f"{image_size[0]}x{image_size[1]}", primary)
    lost = losses(seg, format_name)
    # One transaction: the masks, side files, overlay and metadata appear together
    # or not at all, and a failure leaves the previous versions in place.
    with transaction(home=out_dir, label=str(seg.provenance.source or stem),
                     format_name=spec.name):
        files = [Path(f) for f in spec.write(seg, primary, **options)]
        doc = metadata.build(seg, mask_files=[_relative(f, out_dir) for f in files],
                             format_name=spec.name, image=image, image_size=image_size,
                             palette=palette, lost=lost)
        doc["mask_sha256"] = {_relative(f, out_dir): file_sha256(current_path(f))
                              for f in files}
        if review:
            doc["review"] = dict(review)
        rendered = None
        if overlay is not None:
            rendered = write_png(out_dir / f"{stem}_overlay.png", overlay)
            doc["overlay_file"] = _relative(rendered, out_dir)
        # Named after the primary file the writer chose (Celantur renames it to
        # <stem>_ins_maks.png), so that reading that file finds the sidecar.
        meta_path = metadata.write(out_dir / f"{files[0].stem}{SIDECAR_SUFFIX}", doc)
    return ExportResult(files, meta_path, lost, rendered)


def default_stem(source: str | Path, out_dir: str | Path) -> str:
    """The output stem for ``source`` written into ``out_dir``: never the source's own name.

    ``<stem>`` in another folder, ``<stem>_mask`` in the source's own folder, so
    that no format's default name can land on the file it was made from.
    """
    source, out_dir = Path(source), Path(out_dir)
    if _same_folder(source.parent, out_dir):
        return f"{source.stem}_mask"
    return source.stem


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive on Windows
        return str(path)
