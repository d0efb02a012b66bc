"""ClearML Hyper-Dataset frames with pixel masks.

No public ClearML frame JSON or mask exists (the example dataset lives in
``s3://clearml-public``), so every fixture here is built from the
specification in ``FORMATS.md`` section 5: the SingleFrame keys of the
clearml-docs ``single_frames.md`` table, ``rois[].mask = {id, value}`` with
both ``label`` and ``labels`` spellings, the dataset-level ``mask_labels``
shown by ``get_metadata()`` (``{"_all_": [{"value", "labels"}]}``), the
``set_masks_labels`` keys ``(r, g, b)``, ``register_dataset_masks.py``'s
``_mask_legend.json`` and grey masks keyed by ``(v, v, v)``.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mask_compare import pixel_labels, same_partition  # tests/core/formats/mask_compare.py
from PIL import Image

from viewer.core.errors import ReadError
from viewer.core.formats import clearml
from viewer.core.formats.common import write_png
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation

PERSON, CAT = (1, 1, 1), (2, 2, 2)

label_maps = hnp.arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8)),
                        elements=st.integers(0, 12))


def frame(masks, rois=(), width=3, height=2, **extra) -> dict:
    """A SingleFrame as ``FORMATS.md`` 5 lists its keys."""
    return {
        "id": "f-001", "context_id": "ctx", "dataset": {"id": "ds", "version": "v1"},
        "meta": {}, "num_frames": 1, "timestamp": 0,
        "sources": [{"id": "front", "uri": "s3://bucket/img.jpg", "content_type": "image/jpeg",
                     "width": width, "height": height, "timestamp": 0, "masks": list(masks)}],
        "rois": list(rois), **extra,
    }


def mask_entry(mask_id="seg", uri="mask.png", content_type="image/png") -> dict:
    return {"id": mask_id, "content_type": content_type, "uri": uri, "timestamp": 0}


def roi(value, labels, key="label", mask_id="seg", **extra) -> dict:
    return {"id": f"roi-{value[0]}", key: labels, "sources": ["front"],
            "mask": {"id": mask_id, "value": list(value)}, **extra}


def write_frame(folder: Path, doc) -> Path:
    path = folder / "frame.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def colour_mask(path: Path) -> Path:
    """Background, person, cat and one colour no table lists."""
    rgb = np.array([[(0, 0, 0), PERSON, PERSON], [CAT, (9, 8, 7), (0, 0, 0)]], np.uint8)
    return write_png(path, rgb)


def test_roi_level_labels_in_both_spellings_and_multi_labels(tmp_path):
    colour_mask(tmp_path / "mask.png")
    path = write_frame(tmp_path, frame([mask_entry()], [
        roi((0, 0, 0), ["background"]),
        roi(PERSON, ["person", "sitting"], key="labels", confidence=0.75),
        roi(CAT, ["cat"], meta={"source": "annotator 3"})]))
    assert clearml.sniff(path)
    seg = clearml.read(path)
    rows = {s.label: s for s in seg.table}
    assert set(rows) == {"background", "person+sitting", "cat", "unknown"}
    person = rows["person+sitting"]
    assert person.attributes["labels"] == ["person", "sitting"] and person.score == 0.75
    assert person.area == 2 and person.source_value == PERSON
    assert rows["cat"].attributes["meta"] == {"source": "annotator 3"}
    assert not rows["background"].visible
    assert rows["unknown"].attributes["unknown_color"] is True
    details = seg.provenance.details
    assert details["unknown_colors"] == [{"color": [9, 8, 7], "pixels": 1, "bbox": [1, 1, 2, 2]}]
    assert "1 pixel of colour (9, 8, 7), which the frame's mask labels does not list" in \
        details["warnings"][0]


@pytest.mark.parametrize("table", [
    {"_all_": [{"value": [0, 0, 0], "labels": ["background"]},
               {"value": [1, 1, 1], "labels": ["person", "sitting"]},
               {"value": [2, 2, 2], "labels": ["cat"]}]},
    {"mask_labels": {"_all_": [{"value": [0, 0, 0], "labels": ["background"]},
                               {"value": [1, 1, 1], "labels": ["person", "sitting"]},
                               {"value": [2, 2, 2], "labels": ["cat"]}]}},
    {"(0, 0, 0)": ["background"], "(1, 1, 1)": ["person", "sitting"], "(2, 2, 2)": ["cat"]},
], ids=["get_metadata", "wrapped", "set_masks_labels"])
def test_dataset_level_mask_labels_beside_the_frame(tmp_path, table):
    colour_mask(tmp_path / "mask.png")
    (tmp_path / "mask_labels.json").write_text(json.dumps(table))
    seg = clearml.read(write_frame(tmp_path, frame([mask_entry()])))
    assert sorted(s.label for s in seg.table) == ["background", "cat", "person+sitting",
                                                  "unknown"]
    assert seg.provenance.details["mask_labels"].endswith("mask_labels.json")


def test_mask_labels_option_accepts_a_mask_legend_and_rois_win(tmp_path):
    colour_mask(tmp_path / "mask.png")
    legend = tmp_path / "_mask_legend.json"
    legend.write_text('{"background": [0, 0, 0], "person": [1, 1, 1], "dog": [2, 2, 2]}')
    path = write_frame(tmp_path, frame([mask_entry()], [roi(CAT, ["cat"])]))
    seg = clearml.read(path, mask_labels=legend)
    assert sorted(s.label for s in seg.table) == ["background", "cat", "person", "unknown"]
    assert "the ROI wins" in seg.provenance.details["warnings"][0]


def test_grey_masks_are_keyed_by_grey_triplets(tmp_path):
    Image.fromarray(np.array([[0, 7, 7], [26, 26, 0]], np.uint8), mode="L").save(
        tmp_path / "labelIds.png")
    (tmp_path / "mask_labels.json").write_text(json.dumps(
        {"(0, 0, 0)": ["unlabeled"], "(7, 7, 7)": ["road"], "(26, 26, 26)": ["car"]}))
    seg = clearml.read(write_frame(tmp_path, frame([mask_entry(uri="labelIds.png")])))
    assert {s.label: s.area for s in seg.table} == {"unlabeled": 2, "road": 2, "car": 2}


def test_several_masks_are_items(tmp_path):
    colour_mask(tmp_path / "a.png")
    write_png(tmp_path / "b.png", np.full((2, 3, 3), 2, np.uint8))
    doc = frame([mask_entry("seg", "a.png"), mask_entry("cat_only", "b.png")],
                [roi(PERSON, ["person"]), roi(CAT, ["cat"], mask_id="cat_only")])
    path = write_frame(tmp_path, doc)
    assert clearml.items(path) == ["seg", "cat_only"]
    assert [s.label for s in clearml.read(path, item="cat_only").table] == ["cat"]
    assert "person" in {s.label for s in clearml.read(path).table}
    with pytest.raises(ReadError, match=r"frame\.json: no mask 'nope' in this file; it has seg, "
                                        r"cat_only"):
        clearml.read(path, item="nope")
    listing = tmp_path / "frames.json"
    listing.write_text(json.dumps([doc, {**doc, "id": "f-002"}]))
    assert clearml.items(listing) == ["f-001/seg", "f-001/cat_only", "f-002/seg",
                                      "f-002/cat_only"]
    assert clearml.read(listing, item="f-002/seg").provenance.details["frame"] == "f-002"


def test_file_urls_inside_the_folder_are_read(tmp_path):
    mask = colour_mask(tmp_path / "mask.png")
    path = write_frame(tmp_path, frame([mask_entry(uri=mask.resolve().as_uri())]))
    assert clearml.read(path).shape == (2, 3)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=label_maps)
def test_write_then_read_is_exact(values):
    names = {v: f"class{v}" for v in range(256)}
    names[0] = "background"
    seg = Segmentation.from_values(values, kind=Kind.SEMANTIC, names=names)
    assert clearml.losses(seg) == []
    with tempfile.TemporaryDirectory() as tmp:
        files = clearml.write(seg, Path(tmp) / "frame.json")
        back = clearml.read(files[0])
    assert same_partition(back.labels, seg.labels)
    np.testing.assert_array_equal(pixel_labels(back), pixel_labels(seg))
    assert [s.class_id for s in back.table] == [s.class_id for s in seg.table]


def test_written_frame_keeps_label_lists_scores_and_instances(tmp_path):
    labels = np.array([[0, 1, 2], [2, 3, 0]], np.uint8)
    table = SegmentTable([
        Segment(0, "background", class_id=0),
        Segment(1, "person+sitting", class_id=1, instance=4, score=0.5,
                attributes={"labels": ["person", "sitting"]}),
        Segment(2, "cat", class_id=2, instance=1, color=(2, 2, 2)),
        Segment(3, "cat", class_id=2, instance=2, color=(2, 2, 2))])
    seg = Segmentation(labels, table, kind=Kind.INSTANCE)
    assert clearml.losses(seg) == []
    json_path, mask_path = clearml.write(seg, tmp_path / "out.json", source_uri="img.jpg")
    assert mask_path.name == "out_mask.png"
    doc = json.loads(json_path.read_text())
    assert doc["sources"][0]["uri"] == "img.jpg"
    assert doc["sources"][0]["masks"] == [{"id": "seg", "content_type": "image/png",
                                           "uri": "out_mask.png", "timestamp": 0}]
    assert [r["label"] for r in doc["rois"]] == [["background"], ["person", "sitting"], ["cat"],
                                                 ["cat"]]
    back = clearml.read(json_path)
    np.testing.assert_array_equal(back.labels, seg.labels)
    fields = ("label", "class_id", "instance", "score")
    assert [[getattr(s, f) for f in fields] for s in back.table] == \
           [[getattr(s, f) for f in fields] for s in seg.table]
    colours = {tuple(c) for c in np.asarray(Image.open(mask_path)).reshape(-1, 3)}
    assert len(colours) == 4  # the two cats got distinct colours to stay two segments


def test_unknown_colours_are_written_back_as_themselves(tmp_path):
    colour_mask(tmp_path / "mask.png")
    seg = clearml.read(write_frame(tmp_path, frame([mask_entry()], [roi(PERSON, ["person"])])))
    json_path, mask_path = clearml.write(seg, tmp_path / "out" / "f.json")
    np.testing.assert_array_equal(np.asarray(Image.open(mask_path)),
                                  np.asarray(Image.open(tmp_path / "mask.png")))
    again = clearml.read(json_path)
    assert sorted(s.label for s in again.table) == ["person", "unknown", "unknown", "unknown"]


# -- bad input ---------------------------------------------------------------------------
def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "frame.json"
    path.write_text('{\n  "sources": [\n    {"id": "a",}\n  ]\n}\n')
    with pytest.raises(ReadError, match=r"frame\.json: JSON syntax error at line 3, column 16"):
        clearml.read(path)


def test_remote_and_outside_uris_are_refused_naming_the_frame(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    colour_mask(tmp_path / "secret.png")
    remote = write_frame(folder, frame([mask_entry(uri="s3://clearml-public/m.png")]))
    with pytest.raises(ReadError, match=r"frame\.json: s3://clearml-public/m\.png is a remote "
                                        r"s3:// URL and is not reachable"):
        clearml.read(remote)
    outside = write_frame(folder, frame([mask_entry(uri="../secret.png")]))
    with pytest.raises(ReadError, match=r"frame\.json: refers to '\.\./secret\.png', which is "
                                        r"outside"):
        clearml.read(outside)


def test_mask_of_another_size_than_its_source_names_the_mask(tmp_path):
    colour_mask(tmp_path / "mask.png")
    path = write_frame(tmp_path, frame([mask_entry()], width=4, height=2))
    with pytest.raises(ReadError, match=r"mask\.png: mask is 3x2 but the image is 4x2"):
        clearml.read(path)


def test_truncated_mask_names_the_mask(tmp_path):
    good = write_png(tmp_path / "full.png", np.full((30, 30, 3), 5, np.uint8))
    (tmp_path / "mask.png").write_bytes(good.read_bytes()[:60])
    path = write_frame(tmp_path, frame([mask_entry()], width=30, height=30))
    with pytest.raises(ReadError, match=r"mask\.png: "):
        clearml.read(path)


def test_structure_errors_say_where(tmp_path):
    colour_mask(tmp_path / "mask.png")
    video = write_frame(tmp_path, frame([mask_entry(content_type="video/mp4")]))
    with pytest.raises(ReadError, match=r"sources\[0\]\.masks\[0\]: mask 'seg' is a video"):
        clearml.read(video)
    bad_value = write_frame(tmp_path, frame([mask_entry()], [roi((1, 1), ["x"])]))
    with pytest.raises(ReadError, match=r"frame\.json: rois\[0\]\.mask: mask value should be"):
        clearml.read(bad_value)
    bad_labels = write_frame(tmp_path, frame([mask_entry()], [roi(PERSON, [1, 2])]))
    with pytest.raises(ReadError, match=r"rois\[0\]: labels should be a list of strings"):
        clearml.read(bad_labels)
    no_masks = write_frame(tmp_path, frame([]))
    with pytest.raises(ReadError, match="the frame has no masks"):
        clearml.read(no_masks)
    (tmp_path / "mask_labels.json").write_text('{"_all_": 3}')
    with pytest.raises(ReadError, match=r"mask_labels\.json: '_all_': expected"):
        clearml.read(write_frame(tmp_path, frame([mask_entry()])))


def test_sniff_wants_sources_with_masks(tmp_path):
    other = tmp_path / "coco.json"
    other.write_text('{"images": [], "annotations": [{"segmentation": {}}]}')
    assert not clearml.sniff(other)
    assert not clearml.sniff(tmp_path / "missing.json")
    ours = tmp_path / "mask.segview.json"
    ours.write_text('{"sources": [{"masks": []}]}')
    assert not clearml.sniff(ours)
