"""Save back to the source format; refuse with a reason when it cannot hold the edit."""

import json

import numpy as np
import pytest
from edit_helpers import seg_of

from viewer.core import metadata
from viewer.core.edit import Brush, ops
from viewer.core.edit.diff import change_report, original_copy
from viewer.core.edit.save import SaveError, canonical, save, save_problems
from viewer.core.formats import coco_rle, index_png, label_npy
from viewer.core.formats.common import read_index_png
from viewer.core.formats.registry import get_format, read_mask
from viewer.core.segmentation import Provenance

NAMES = {0: "background", 1: "cat", 2: "dog"}
VALUES = [[0, 1, 1, 0, 0],
          [0, 1, 1, 0, 2],
          [0, 0, 0, 2, 2]]


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "mask.png"
    index_png.write(seg_of(VALUES, names=NAMES), path)
    (tmp_path / "class_names.txt").write_text("background\ncat\ndog\n")
    return path


def test_save_back_to_an_index_png(png):
    seg = read_mask(png)
    original = original_copy(seg)
    assert save_problems(seg) == []
    ops.paint_dab(seg, (2, 0), 2, Brush(1))
    ops.rename_class(seg, 1, "kitty")
    result = save(seg, original=original, write_changes=True)
    assert result.files == [png]
    assert result.metadata == png.parent / "mask.segview.json"
    again = read_mask(png)
    np.testing.assert_array_equal(again.labels, [[0, 1, 1, 0, 0], [0, 1, 1, 0, 2],
                                                 [2, 0, 0, 2, 2]])
    assert again.table[1].label == "kitty"  # restored from the metadata JSON
    changed, _, _ = read_index_png(result.changed_mask)
    expected = np.zeros((3, 5), np.uint8)
    expected[2, 0] = 255
    expected[np.array(1) == VALUES] = 0
    np.testing.assert_array_equal(changed, expected)  # a rename changes no pixel's class
    edits = json.loads(result.metadata.read_text())["provenance"]["details"]["edits"]
    assert edits["changed_pixels"] == 1 and edits["changed_mask_file"] == "mask_changed.png"
    assert edits["classes"] == [
        {"label": "background", "class_id": 0, "area_before": 8, "area_after": 7,
         "pixels_added": 0, "pixels_removed": 1},
        {"label": "dog", "class_id": 2, "area_before": 3, "area_after": 4,
         "pixels_added": 1, "pixels_removed": 0}]
    assert metadata.first_problem(json.loads(result.metadata.read_text())) is None


def test_a_relabel_through_the_table_is_saved_as_the_new_class(png):
    seg = read_mask(png)
    ops.relabel(seg, [1], 2)
    save(seg)
    again = read_mask(png)
    np.testing.assert_array_equal(again.to_values(), [[0, 2, 2, 0, 0], [0, 2, 2, 0, 2],
                                                      [0, 0, 0, 2, 2]])
    assert again.table[2].label == "dog" and 1 not in again.table


def test_canonical_merges_segments_written_as_the_same_value():
    seg = seg_of(VALUES, names=NAMES)
    assert canonical(seg) is seg
    ops.paint_dab(seg, (2, 0), 2, Brush(1))
    ops.split(seg, 2)  # the pieces keep value 2 ...
    ops.relabel(seg, [1], 2)  # ... and so does the relabelled cat
    merged = canonical(seg)
    assert merged is not seg and merged.table.ids() == (0, 2)
    expected = np.where(np.array(VALUES) > 0, 2, 0)
    expected[2, 0] = 2
    np.testing.assert_array_equal(merged.labels, expected)
    assert merged.table[2].area == 8
    assert len(seg.table) == 4  # the edited segmentation itself is untouched


def test_a_format_that_cannot_hold_the_edit_is_refused(tmp_path):
    path = tmp_path / "frame_bin_mask.png"
    get_format("celantur-binary").write(seg_of([[0, 255], [255, 0]]), path)
    seg = read_mask(path, "celantur-binary")
    assert save_problems(seg) == []
    (extra,) = ops.add_class(seg, "extra").added_ids
    ops.paint_dab(seg, (0, 0), extra, Brush(1))
    problems = save_problems(seg)
    assert len(problems) == 1 and "one white" in problems[0]
    before = path.read_bytes()
    with pytest.raises(SaveError, match="cannot save back: .*one white.*Export it instead"):
        save(seg)
    assert path.read_bytes() == before


def test_a_writer_that_writes_another_file_is_refused(tmp_path):
    path = tmp_path / "labels.npz"
    np.savez(path, labels=np.array(VALUES, np.int32))
    seg = read_mask(path)
    assert seg.provenance.format == "label-npy"
    with pytest.raises(SaveError, match="writes labels.npy, not labels.npz"):
        save(seg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.npz"]  # nothing left over


def test_label_npy_saves_back(tmp_path):
    path = tmp_path / "labels.npy"
    label_npy.write(seg_of([[-1, 1], [2, 2]], names=NAMES, void_values=(-1,)), path)
    seg = read_mask(path)
    ops.delete(seg, [seg.labels[1, 0]])
    save(seg)
    np.testing.assert_array_equal(np.load(path), [[-1, 1], [0, 0]])


def test_a_container_with_several_images_is_refused(tmp_path):
    path = tmp_path / "annotations.json"
    coco_rle.write(seg_of(VALUES, names=NAMES, kind="instance"), path, file_name="a.png")
    data = json.loads(path.read_text())
    data["images"].append({**data["images"][0], "id": 99, "file_name": "b.png"})
    path.write_text(json.dumps(data))
    seg = read_mask(path, item="a.png")
    (problem,) = save_problems(seg)
    assert "holds 2 images" in problem


def test_without_a_source_there_is_nothing_to_save_back_to():
    seg = seg_of(VALUES, names=NAMES)
    (problem,) = save_problems(seg)
    assert "not read from a file" in problem
    with pytest.raises(SaveError):
        save(seg)


def test_upscaled_masks_and_read_only_formats_are_refused(tmp_path):
    seg = seg_of(VALUES, provenance=Provenance(str(tmp_path / "m.png"), "index-png",
                                               {"upscaled_from": [2, 1]}))
    assert "upscaled" in save_problems(seg)[0]
    seg = seg_of(VALUES, provenance=Provenance(str(tmp_path / "m.json"), "celantur-metadata"))
    assert "not written" in save_problems(seg)[0]
    seg = seg_of(VALUES, provenance=Provenance(str(tmp_path / "m.png"), "no-such-format"))
    assert "unknown format" in save_problems(seg)[0]


def test_change_report_counts_pixels_and_classes():
    original = seg_of(VALUES, names=NAMES)
    edited = original_copy(original)
    ops.relabel(edited, [1], 2)  # four cat pixels become dog, no pixel rewritten
    ops.paint_dab(edited, (0, 4), 1, Brush(1))  # one background pixel becomes "cat" id
    report = change_report(original, edited)
    expected = np.zeros((3, 5), bool)
    expected[0:2, 1:3] = True
    expected[0, 4] = True
    np.testing.assert_array_equal(report.mask, expected)
    assert report.changed_pixels == 5
    by_label = {c["label"]: c for c in report.classes}
    assert by_label["cat"] == {"label": "cat", "class_id": 1, "area_before": 4,
                               "area_after": 0, "pixels_added": 0, "pixels_removed": 4}
    assert by_label["dog"]["area_after"] == 8 and by_label["dog"]["pixels_added"] == 5
    assert by_label["background"]["pixels_removed"] == 1
    assert report.to_json()["changed_fraction"] == round(5 / 15, 8)


def test_change_report_of_a_split_class_is_empty():
    original = seg_of(VALUES, names=NAMES)
    edited = original_copy(original)
    ops.split(edited, 2)
    assert change_report(original, edited).changed_pixels == 0


def test_a_missing_folder_is_a_save_error(tmp_path):
    seg = seg_of(VALUES, names=NAMES,
                 provenance=Provenance(str(tmp_path / "gone" / "m.png"), "index-png"))
    with pytest.raises(SaveError, match="cannot write here"):
        save(seg)
