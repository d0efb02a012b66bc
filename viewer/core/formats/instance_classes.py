"""Class values of an instance segmentation, for formats that hold one class per pixel.

An instance read (a VOC class + object pair, CVAT's two masks, COCO
instances) has one segment per (class, instance) pair; its ids, and the
object numbers kept as ``source_value``, are not classes. A class mask
(VOC index PNG, VOC colour PNG) must carry each segment's ``class_id``
instead: person instances 1 and 2 are both VOC class 15, void is 255.
"""

from __future__ import annotations

from collections import Counter

from viewer.core.segmentation import Kind, Segmentation

VOC_VOID = 255


def class_values(seg: Segmentation) -> dict[int, int] | None:
    """``segment id -> class value`` for an instance segmentation with classes, else None.

    None when ``seg`` is not an instance segmentation, has no instances, or
    has an instance without an integer ``class_id`` (an object mask read
    without its class mask): its values are then written as they are.
    Segments that are not instances (background, void) take their
    ``class_id``; a void one without a class id is 255.
    """
    if Kind(seg.kind) is not Kind.INSTANCE:
        return None
    rows = list(seg.table)
    instances = [s for s in rows if s.instance is not None]
    if not instances or any(not isinstance(s.class_id, int) for s in instances):
        return None
    values = {}
    for s in rows:
        if isinstance(s.class_id, int):
            values[s.id] = int(s.class_id)
        elif s.void:
            values[s.id] = VOC_VOID
        else:
            values[s.id] = s.value if isinstance(s.value, int) else s.id
    return values


def instance_loss(seg: Segmentation, values: dict[int, int], format_title: str) -> list[str]:
    """The sentence saying which instances become their class (empty when there are none)."""
    counts = Counter(values[s.id] for s in seg.table if s.instance is not None and s.area)
    if not counts:
        return []
    label = {values[s.id]: s.label for s in seg.table if s.instance is not None}
    parts = ", ".join(f"{n} {label[v] or 'unnamed'} (class {v})"
                      for v, n in sorted(counts.items())[:10])
    return [f"{format_title} holds one class per pixel: instances merge into their class "
            f"and instance numbers are lost: {parts}"]
