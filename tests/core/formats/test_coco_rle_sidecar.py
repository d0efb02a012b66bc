"""coco-rle written by SegView reads back with the colours, labels and void of its sidecar.

The sidecar matches segments by value; a class map's person is value 15 but
annotation 1, so the file records the value (``segview_value``) where it differs.
"""

from __future__ import annotations

import json

import numpy as np

from viewer.core.export import export
from viewer.core.formats.registry import read_mask
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation


def class_map() -> Segmentation:
    values = np.zeros((8, 10), np.uint8)
    values[1:4, 1:4] = 15
    values[4:7, 5:9] = 7
    values[0, :] = 255
    seg = Segmentation.from_values(values, names={0: "background", 7: "car", 15: "person",
                                                  255: "void"}, void_values=(255,))
    seg.table.update(15, color=(10, 200, 30))
    seg.table.update(7, color=(200, 10, 30))
    return seg


def test_class_map_to_coco_rle_keeps_colours_labels_and_classes(tmp_path):
    out = export(class_map(), "coco-rle", tmp_path, "x").files[0]
    doc = json.loads(out.read_text())
    assert sorted(a["segview_value"] for a in doc["annotations"]) == [7, 15]
    back = read_mask(out, "coco-rle")
    by_class = {s.class_id: s for s in back.table if s.area}
    assert by_class[15].label == "person" and by_class[15].color == (10, 200, 30)
    assert by_class[7].label == "car" and by_class[7].color == (200, 10, 30)
    assert by_class[15].area == 9 and by_class[7].area == 12


def test_instances_in_file_order_need_no_value_key(tmp_path):
    labels = np.zeros((4, 4), np.uint8)
    labels[0, 0], labels[1, 1] = 1, 2
    table = SegmentTable([Segment(0, "background", class_id=0, visible=False),
                          Segment(1, "person", class_id=15, instance=1, color=(1, 2, 3)),
                          Segment(2, "person", class_id=15, instance=2, color=(4, 5, 6))])
    seg = Segmentation(labels, table, kind=Kind.INSTANCE)
    out = export(seg, "coco-rle", tmp_path, "x").files[0]
    assert all("segview_value" not in a for a in json.loads(out.read_text())["annotations"])
    back = read_mask(out, "coco-rle")
    assert [(s.label, s.class_id, s.instance, s.color) for s in back.table if s.id] == [
        ("person", 15, 1, (1, 2, 3)), ("person", 15, 2, (4, 5, 6))]
