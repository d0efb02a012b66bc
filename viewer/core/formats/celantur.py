"""Celantur anonymisation output: binary and instance mask PNGs, per-image and video metadata.

``FORMATS.md`` section 2 is the specification (vendor documentation only; no
public sample files exist).

Files
-----
- ``image-name_bin_mask.png`` (:data:`BINARY`): black background, white =
  anonymised. Read as a binary mask {0, 255}; other grey levels are kept as
  ``"unknown"`` segments with a warning.
- ``image-name_ins_maks.png`` (sic, the documented name) or
  ``image-name_ins_mask.png`` (:data:`INSTANCE`): RGB, R = object type (64
  licence plate, 128 person, 192 face, 255 vehicle), G = an opaque instance key
  (0 is valid when R > 0), B = 0, background (0, 0, 0). One segment per (R, G)
  pair, id ``R * 256 + G``, ``class_id`` = R, ``instance`` = G,
  ``source_value`` = the (R, G, B) colour. Any other colour (R not one of the
  four codes, or B != 0) becomes an ``"unknown"`` segment with a warning.
- ``image-name.json`` (:data:`METADATA`): ``id``, ``detections``, ``size``
  ([width, height]), ``duration``, ``filename``, ``folder``. Every key may be
  missing. Detections carry ``id``, ``parent_image``, ``offset``, ``bbox``
  ([x1, y1, x2, y2]), ``score``, ``is_anonymized`` (the example spells it
  ``is_anonymised``: both are accepted and stored as ``is_anonymized``),
  ``type_label``, ``type`` and ``color``. The class comes from ``type_label``;
  the numeric ``type`` (103 for a face in the example, a table nobody
  published) is kept as an opaque attribute. ``offset`` and ``bbox`` are both
  stored; neither is derived from the other when reading (the example's
  offset x differs from bbox x1).
- ``name-START-END.json``: video metadata, a list of frame objects (or an
  object with a ``"frames"`` list), at most 500 frames, ids within
  START..END. :func:`items` lists the frame ids; ``read(item=...)`` picks one.

Matching detections to mask segments
------------------------------------
When ``image-name.json`` sits beside a mask of the same image stem, its
detections are matched to the instance segments so that scores and boxes show
on the right object: a detection can only match a segment of its own type
(``type_label`` mapped to an R code), and only when the detection box and the
segment's pixel box overlap with an intersection over union of at least
``match_iou`` (0.5 by default). The best-overlapping pairs are taken first and
each detection and segment is used once. A matched segment gets the score in
``Segment.score`` and the detection's fields in ``attributes``. Detections
that match nothing (another type, no overlapping segment, no box) are not
forced onto a segment: the complete ``detections`` list is always kept in
``provenance.details["detections"]`` and the ids of the unmatched ones in
``details["unmatched_detections"]``, with a warning. A binary mask has one
region only, so its detections are never matched, only kept.

Metadata without a mask beside it (and every video frame, since the
documentation names no per-frame mask files) is read as boxes: each detection
becomes a rectangular segment, smaller boxes on top, with the complete box of
every covered one in ``Segmentation.full_masks``.

Scaled masks (``--mask-scale``)
-------------------------------
A mask smaller than the image (``image_size=(w, h)`` from the caller, else the
JSON's ``size``) with the same aspect ratio within rounding is upscaled with
nearest neighbour; ``details["upscaled_from"]`` is the mask's ``[w, h]`` and
``details["mask_scale"]`` the estimated ``--mask-scale`` percentage. A mask
larger than the image, or of another aspect ratio, is refused.

Writing
-------
The instance writer maps every segment onto one of the four types by its label
(``"face"``, ``"license plate"``/``"licence plate"``, ...), or by a Celantur
colour it was read with; instance keys G come from the colour read, else the
segment's ``instance``, else the next free key. It also writes
``image-name.json`` (``metadata=False`` skips it), always spelling
``is_anonymized`` as the attribute table does. A segment without a detection
read from a file gets ``bbox`` from its pixels and ``offset`` = [x1, y1], the
meaning the attribute table gives it. Detections read from Celantur metadata
that matched no segment are written back unchanged. :func:`instance_losses`
names what does not fit: other classes (written as background) and more than 256 instances of
one type.

Modules
-------
This module holds the mask sniffers and :data:`FORMATS`, and re-exports the
public names of the parts:

- :mod:`~viewer.core.formats.celantur_common`: format names, type codes, file names.
- :mod:`~viewer.core.formats.celantur_read`: the mask readers and ``--mask-scale``.
- :mod:`~viewer.core.formats.celantur_detections`: ``image-name.json`` beside a
  mask, detection fields, matching detections to segments.
- :mod:`~viewer.core.formats.celantur_metadata`: metadata read on its own (boxes,
  video chunks) and the ``celantur-metadata`` spec.
- :mod:`~viewer.core.formats.celantur_write`: the writers and their losses.
"""

from __future__ import annotations

from pathlib import Path

from viewer.core import safe_input
from viewer.core.errors import ReadError
from viewer.core.formats import celantur_metadata
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.celantur_common import (
    ANONYMISED,
    BINARY,
    BINARY_SUFFIX,
    INSTANCE,
    INSTANCE_SUFFIXES,
    METADATA,
    TYPES,
    image_stem,
    metadata_beside,
    type_code,
)
from viewer.core.formats.celantur_detections import detection_attributes
from viewer.core.formats.celantur_metadata import (
    CHUNK_NAME,
    MAX_CHUNK_FRAMES,
    chunk_frames,
    items,
    read_metadata,
    sniff_metadata,
)
from viewer.core.formats.celantur_read import read_binary, read_instance
from viewer.core.formats.celantur_write import (
    KEYS_PER_TYPE,
    binary_losses,
    instance_losses,
    write_binary,
    write_instance,
)

# Callers and tests use ``celantur.<name>`` for every part, so the public names stay here.
__all__ = [
    "ANONYMISED", "BINARY", "BINARY_SUFFIX", "CHUNK_NAME", "FORMATS", "INSTANCE",
    "INSTANCE_SUFFIXES", "KEYS_PER_TYPE", "MAX_CHUNK_FRAMES", "METADATA", "TYPES",
    "binary_losses", "chunk_frames", "detection_attributes", "image_stem", "instance_losses",
    "items", "metadata_beside", "read_binary", "read_instance", "read_metadata",
    "sniff_binary", "sniff_instance", "sniff_metadata", "type_code", "write_binary",
    "write_instance",
]


def _is_png(path: Path) -> bool:
    try:
        with safe_input.open_image(path, check_size=False) as img:
            return img.format == "PNG"
    except (OSError, ReadError):
        return False


def sniff_instance(path: Path) -> bool:
    """True for PNGs named ``*_ins_maks.png`` or ``*_ins_mask.png``."""
    return path.name.lower().endswith(INSTANCE_SUFFIXES) and _is_png(path)


def sniff_binary(path: Path) -> bool:
    """True for PNGs named ``*_bin_mask.png``."""
    return path.name.lower().endswith(BINARY_SUFFIX) and _is_png(path)


FORMATS = (
    FormatSpec(
        name=INSTANCE,
        title="Celantur instance mask (*_ins_maks.png, R = type, G = instance)",
        extensions=(".png",),
        read=read_instance,
        write=write_instance,
        sniff=sniff_instance,
        priority=30,
        notes="4 types (license plate 64, person 128, face 192, vehicle 255), 256 instances "
              "each; image-name.json beside adds scores and boxes",
        losses=instance_losses,
    ),
    FormatSpec(
        name=BINARY,
        title="Celantur binary mask (*_bin_mask.png)",
        extensions=(".png",),
        read=read_binary,
        write=write_binary,
        sniff=sniff_binary,
        priority=30,
        notes="black background, white anonymised; one class, no instances",
        losses=binary_losses,
    ),
    celantur_metadata.SPEC,
)
