"""Metrics: hand-computed cases, an independent implementation, void, accumulation, diff."""

import csv
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from viewer.core import metrics
from viewer.core.errors import SegmentationError
from viewer.core.metrics import Diff
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation

VOID = 255

# The worked example: 3 x 4, value 255 is void on both sides.
GT = np.array([[0, 0, 1, 1],
               [0, 2, 2, 1],
               [VOID, VOID, 2, 2]])
PRED = np.array([[0, 1, 1, 1],
                 [0, 2, 3, 1],
                 [0, VOID, 2, 2]])


def seg(values, void=(VOID,), **kwargs):
    return Segmentation.from_values(np.asarray(values), void_values=void, **kwargs)


# -- an independent implementation (explicit loops over pixels, Fractions) -----------------


def reference_confusion(gt, pred, void=(VOID,)):
    """{(gt class, pred class or None): count} over non-void ground-truth pixels."""
    counts = {}
    for g, p in zip(np.ravel(gt).tolist(), np.ravel(pred).tolist(), strict=True):
        if g in void:
            continue
        key = (g, None if p in void else p)
        counts[key] = counts.get(key, 0) + 1
    return counts


def reference_scores(gt, pred, void=(VOID,)):
    counts = reference_confusion(gt, pred, void)
    classes = {g for g, _ in counts} | {p for _, p in counts if p is not None}
    iou, dice = {}, {}
    for c in classes:
        tp = counts.get((c, c), 0)
        fp = sum(n for (g, p), n in counts.items() if p == c and g != c)
        fn = sum(n for (g, p), n in counts.items() if g == c and p != c)
        iou[c] = Fraction(tp, tp + fp + fn)
        dice[c] = Fraction(2 * tp, 2 * tp + fp + fn)
    scored = sum(counts.values())
    correct = sum(n for (g, p), n in counts.items() if g == p)
    accuracy = Fraction(correct, scored) if scored else None
    return iou, dice, accuracy


def matrix_by_key(confusion):
    """The matrix as {(gt key, pred key or None): count}, zero cells and void row left out."""
    keys = [*confusion.classes, None]
    out = {}
    for i, g in enumerate(keys[:-1]):
        for j, p in enumerate(keys):
            if confusion.counts[i, j]:
                out[(g, p)] = int(confusion.counts[i, j])
    return out


# -- hand-computed values ------------------------------------------------------------------


def test_worked_example_confusion_matrix():
    cm = metrics.confusion_matrix(seg(GT), seg(PRED))
    assert cm.classes == (0, 1, 2, 3)
    # rows: ground truth 0, 1, 2, 3, void; columns: prediction 0, 1, 2, 3, void
    assert cm.counts.tolist() == [[2, 1, 0, 0, 0],
                                  [0, 3, 0, 0, 0],
                                  [0, 0, 3, 1, 0],
                                  [0, 0, 0, 0, 0],
                                  [1, 0, 0, 0, 1]]
    assert cm.ignored_pixels == 2 and cm.scored_pixels == 10


def test_worked_example_scores():
    s = metrics.compare(seg(GT), seg(PRED))
    by = {c.key: c for c in s.per_class}
    # class 0: TP 2, FP 0 (the 0 on void is not scored), FN 1
    assert (by[0].tp, by[0].fp, by[0].fn) == (2, 0, 1)
    assert by[0].iou == pytest.approx(2 / 3) and by[0].dice == pytest.approx(4 / 5)
    assert (by[1].tp, by[1].fp, by[1].fn) == (3, 1, 0)
    assert by[1].iou == pytest.approx(3 / 4) and by[1].dice == pytest.approx(6 / 7)
    assert (by[2].tp, by[2].fp, by[2].fn) == (3, 0, 1)
    assert by[2].iou == pytest.approx(3 / 4)
    # class 3 exists only in the prediction: IoU 0, and it counts in the mean
    assert (by[3].iou, by[3].dice, by[3].gt_pixels, by[3].pred_pixels) == (0.0, 0.0, 0, 1)
    assert s.pixel_accuracy == pytest.approx(8 / 10)
    assert s.mean_iou == pytest.approx((2 / 3 + 3 / 4 + 3 / 4 + 0) / 4)
    assert s.mean_dice == pytest.approx((4 / 5 + 6 / 7 + 6 / 7 + 0) / 4)
    assert (s.scored_pixels, s.ignored_pixels) == (10, 2)


def test_identical_segmentations_score_one():
    s = metrics.compare(seg(GT), seg(GT))
    assert s.pixel_accuracy == 1 and s.mean_iou == 1 and s.mean_dice == 1


def test_void_in_ground_truth_is_never_scored_whatever_the_prediction():
    gt = np.full((2, 3), VOID)
    gt[0, 0] = 1
    pred = np.array([[1, 4, 5], [6, 7, 8]])
    s = metrics.compare(seg(gt), seg(pred))
    assert s.pixel_accuracy == 1 and s.scored_pixels == 1 and s.ignored_pixels == 5
    # classes 4..8 were predicted only on void: no pixel scored, IoU undefined, not in the mean
    assert math.isnan(s.of(4).iou) and s.mean_iou == 1


def test_prediction_void_on_a_class_is_a_miss_not_a_false_positive():
    s = metrics.compare(seg([[1, 1]]), seg([[1, VOID]]))
    assert (s.of(1).tp, s.of(1).fn, s.of(1).fp) == (1, 1, 0)
    assert s.pixel_accuracy == 0.5 and s.of(1).iou == 0.5


def test_classes_absent_from_one_side():
    s = metrics.compare(seg([[0, 0, 5, 5]]), seg([[0, 0, 0, 7]]))
    assert s.of(5).iou == 0 and s.of(5).fn == 2 and s.of(5).pred_pixels == 0
    assert s.of(7).iou == 0 and s.of(7).fp == 1 and s.of(7).gt_pixels == 0
    assert (s.of(0).tp, s.of(0).fp, s.of(0).fn) == (2, 1, 0)
    assert s.of(0).iou == pytest.approx(2 / 3)
    assert s.mean_iou == pytest.approx((2 / 3) / 3)


def test_empty_table_rows_do_not_count():
    gt = seg([[0, 1]])
    gt.table.add(Segment(9, label="never painted", class_id=9))
    cm = metrics.confusion_matrix(gt, seg([[0, 1]]))
    assert 9 not in cm.classes
    assert metrics.scores(cm).mean_iou == 1


def test_ignore_treats_a_class_as_void():
    s = metrics.compare(seg([[0, 3, 3]], void=()), seg([[0, 0, 3]], void=()), ignore=[3])
    assert s.ignored_pixels == 2 and s.pixel_accuracy == 1 and s.of(3) is None


def test_everything_void_gives_nan_not_an_error():
    s = metrics.compare(seg([[VOID, VOID]]), seg([[1, 2]]))
    assert math.isnan(s.pixel_accuracy) and math.isnan(s.mean_iou)
    assert json.dumps(metrics.metrics_document(s), allow_nan=False)


def test_sizes_must_match():
    with pytest.raises(SegmentationError, match="sizes differ"):
        metrics.compare(seg(np.zeros((2, 3), int)), seg(np.zeros((3, 2), int)))


# -- classes, not ids ------------------------------------------------------------------------


def test_instances_are_compared_by_class_id():
    # Ground truth: two cars (instances 1, 2 of class 26); prediction: one semantic car region.
    table = SegmentTable([Segment(0, class_id=0), Segment(1, class_id=26, instance=1),
                          Segment(2, class_id=26, instance=2)])
    gt = Segmentation(np.array([[0, 1, 1, 2]], np.uint8), table, kind=Kind.INSTANCE)
    pred = seg([[0, 26, 26, 26]], void=())
    s = metrics.compare(gt, pred)
    assert s.per_class[1].key == 26 and s.of(26).iou == 1 and s.pixel_accuracy == 1


def test_source_values_not_compact_ids_decide():
    # -1 and 1000 get compact ids that differ between the two files.
    gt = seg([[1000, 1000, -1]], void=(-1,))
    pred = seg([[1000, 0, 7]], void=(-1,))
    assert gt.labels.tolist() != [[1000, 1000, 0]]
    s = metrics.compare(gt, pred)
    assert s.of(1000).tp == 1 and s.of(1000).fn == 1 and s.ignored_pixels == 1


def test_colour_segments_without_class_ids_compare_by_colour():
    red, blue = (255, 0, 0), (0, 0, 255)
    gt = Segmentation(np.array([[0, 1]], np.uint8),
                      SegmentTable([Segment(0, source_value=red), Segment(1, source_value=blue)]))
    pred = Segmentation(np.array([[1, 1]], np.uint8),
                        SegmentTable([Segment(0, source_value=blue), Segment(1, source_value=red)]))
    s = metrics.compare(gt, pred)
    assert (s.of(red).tp, s.of(red).fp, s.of(blue).fn) == (1, 1, 1) and s.pixel_accuracy == 0.5
    assert metrics.class_text(red) == "(255, 0, 0)"


# -- against the independent implementation ------------------------------------------------

labels = arrays(np.int16, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                elements=st.sampled_from([0, 1, 2, 5, VOID]))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_matches_the_loop_implementation(data):
    gt = data.draw(labels)
    pred = data.draw(arrays(np.int16, gt.shape, elements=st.sampled_from([0, 1, 2, 3, VOID])))
    cm = metrics.confusion_matrix(seg(gt), seg(pred))
    assert matrix_by_key(cm) == reference_confusion(gt, pred)
    assert cm.ignored_pixels == int((gt == VOID).sum())
    s = metrics.scores(cm)
    iou, dice, accuracy = reference_scores(gt, pred)
    got = {c.key: c for c in s.per_class if not math.isnan(c.iou)}
    assert set(got) == set(iou)
    for key, value in iou.items():
        assert got[key].iou == pytest.approx(float(value))
        assert got[key].dice == pytest.approx(float(dice[key]))
    if accuracy is None:
        assert math.isnan(s.pixel_accuracy)
    else:
        assert s.pixel_accuracy == pytest.approx(float(accuracy))
        assert s.mean_iou == pytest.approx(float(sum(iou.values()) / len(iou)))


def test_matches_np_add_at_on_a_larger_random_case():
    rng = np.random.default_rng(7)
    gt = rng.integers(0, 12, (64, 80))
    gt[rng.random(gt.shape) < 0.1] = VOID
    pred = rng.integers(0, 14, gt.shape)
    cm = metrics.confusion_matrix(seg(gt), seg(pred))
    classes = sorted(set(np.unique(gt).tolist()) - {VOID} | set(np.unique(pred).tolist()))
    index = {c: i for i, c in enumerate(classes)}
    expected = np.zeros((len(classes), len(classes)), np.int64)
    valid = gt != VOID
    gi = np.array([index[v] for v in gt[valid].tolist()])
    pi = np.array([index[v] for v in pred[valid].tolist()])
    np.add.at(expected, (gi, pi), 1)
    assert list(cm.classes) == classes
    np.testing.assert_array_equal(cm.matrix, expected)


# -- accumulation ----------------------------------------------------------------------------


def test_accumulating_equals_comparing_the_items_side_by_side():
    rng = np.random.default_rng(3)
    gts = [rng.integers(0, 4, (5, 6)), rng.integers(2, 7, (5, 4)), np.full((5, 3), VOID)]
    preds = [rng.integers(0, 5, (5, 6)), rng.integers(0, 3, (5, 4)), np.ones((5, 3), int)]
    total = metrics.accumulate(metrics.confusion_matrix(seg(g), seg(p))
                               for g, p in zip(gts, preds, strict=True))
    together = metrics.confusion_matrix(seg(np.hstack(gts)), seg(np.hstack(preds)))
    assert total.classes == together.classes
    np.testing.assert_array_equal(total.counts, together.counts)
    added = metrics.confusion_matrix(seg(gts[0]), seg(preds[0])) + metrics.confusion_matrix(
        seg(gts[1]), seg(preds[1]))
    assert added.counts.sum() == gts[0].size + gts[1].size


def test_accumulated_iou_is_not_the_mean_of_item_ious():
    # A small image misses its small object; a large one is perfect.
    small = metrics.confusion_matrix(seg([[0, 1]]), seg([[0, 0]]))
    large = metrics.confusion_matrix(seg([[1] * 8 + [0] * 2]), seg([[1] * 8 + [0] * 2]))
    total = metrics.scores(metrics.accumulate([small, large]))
    assert total.of(1).iou == pytest.approx(8 / 9)  # summed: TP 8, FN 1
    mean_of_items = (metrics.scores(small).of(1).iou + metrics.scores(large).of(1).iou) / 2
    assert mean_of_items == pytest.approx(0.5)
    assert total.pixel_accuracy == pytest.approx(11 / 12)


def test_accumulate_keeps_names_and_aligns_classes():
    a = metrics.confusion_matrix(seg([[0, 3]], names={3: "cat"}), seg([[0, 3]]))
    b = metrics.confusion_matrix(seg([[0, 9]]), seg([[0, 9]], names={9: "dog"}))
    total = metrics.accumulate([a, b])
    assert total.classes == (0, 3, 9) and total.names == ("background", "cat", "dog")
    assert np.diagonal(total.counts).tolist() == [2, 1, 1, 0]


def test_accumulate_of_nothing_is_empty():
    s = metrics.scores(metrics.accumulate([]))
    assert s.per_class == () and math.isnan(s.mean_iou)


# -- diff map and wrong regions --------------------------------------------------------------


def test_diff_codes_pixel_by_pixel():
    diff = metrics.diff_map(seg(GT), seg(PRED))
    n, a, fp, cf, ig = Diff.NONE, Diff.AGREE, Diff.FALSE_POSITIVE, Diff.CONFUSED, Diff.IGNORED
    assert diff.codes.tolist() == [[n, fp, a, a],
                                   [n, a, cf, a],
                                   [ig, ig, a, a]]
    assert diff.at(1, 2) == (Diff.CONFUSED, 2, 3)
    assert diff.at(2, 1) == (Diff.IGNORED, None, None)


def test_diff_false_negative_when_the_prediction_says_background_or_void():
    diff = metrics.diff_map(seg([[4, 4, 0]]), seg([[0, VOID, VOID]]))
    assert diff.codes.tolist() == [[Diff.FALSE_NEGATIVE] * 3]


def test_diff_focus_on_one_class():
    diff = metrics.diff_map(seg(GT), seg(PRED), focus=2)
    n, a, fn, ig = Diff.NONE, Diff.AGREE, Diff.FALSE_NEGATIVE, Diff.IGNORED
    assert diff.codes.tolist() == [[n, n, n, n],
                                   [n, a, fn, n],
                                   [ig, ig, a, a]]
    focus_3 = metrics.diff_map(seg(GT), seg(PRED), focus=3).codes
    assert (focus_3 == Diff.FALSE_POSITIVE).sum() == 1 and focus_3[1, 2] == Diff.FALSE_POSITIVE


def test_diff_rgba_uses_the_documented_colours():
    diff = metrics.diff_map(seg(GT), seg(PRED))
    rgba = diff.rgba()
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[0, 1]) == metrics.DIFF_COLORS[Diff.FALSE_POSITIVE]
    assert tuple(rgba[0, 0]) == (0, 0, 0, 0)


def test_wrong_regions_are_connected_components_of_one_kind():
    gt = np.zeros((6, 8), int)
    gt[1:3, 1:3] = 1                      # missed entirely: one FN region of 4 px
    pred = np.zeros_like(gt)
    pred[4:6, 5:8] = 2                    # hallucinated: one FP region of 6 px
    pred[0, 7] = 2                        # a lone FP pixel elsewhere
    regions = metrics.wrong_regions(metrics.diff_map(seg(gt), seg(pred)))
    assert [(r.kind, r.area) for r in regions.regions] == [
        (Diff.FALSE_POSITIVE, 1), (Diff.FALSE_POSITIVE, 6), (Diff.FALSE_NEGATIVE, 4)]
    fn = regions.at(2, 2)
    assert fn.kind == Diff.FALSE_NEGATIVE and fn.bbox == (1, 1, 3, 3)
    assert fn.centroid == pytest.approx((1.5, 1.5)) and (fn.gt_class, fn.pred_class) == (1, 0)
    fp = regions.at(5, 6)
    assert fp.bbox == (4, 5, 6, 8) and (fp.gt_class, fp.pred_class) == (0, 2)
    assert regions.at(0, 0) is None and regions.at(-1, 0) is None
    assert regions.mask(fn.number).sum() == 4
    assert all(r.number == i + 1 for i, r in enumerate(regions.regions))


def test_wrong_regions_min_area_drops_specks():
    gt = np.zeros((4, 4), int)
    pred = gt.copy()
    pred[0, 0] = 1
    pred[2:4, 2:4] = 1
    regions = metrics.wrong_regions(metrics.diff_map(seg(gt), seg(pred)), min_area=2)
    assert [r.area for r in regions.regions] == [4]
    assert regions.labels[0, 0] == 0 and regions.labels[3, 3] == 1


def test_wrong_region_majority_classes_in_a_mixed_region():
    gt = np.array([[1, 1, 1]])
    pred = np.array([[2, 2, 3]])
    region = metrics.wrong_regions(metrics.diff_map(seg(gt), seg(pred))).regions
    assert len(region) == 1 and region[0].kind == Diff.CONFUSED
    assert (region[0].gt_class, region[0].pred_class) == (1, 2)


# -- export ----------------------------------------------------------------------------------


def test_json_and_csv_exports(tmp_path):
    a = metrics.compare(seg(GT), seg(PRED))
    b = metrics.compare(seg(GT), seg(GT))
    overall = metrics.scores(metrics.accumulate([a.confusion, b.confusion]))
    items = [("one.png", a), ("two.png", b)]
    path = metrics.write_metrics_json(tmp_path / "m.json", overall, items)
    doc = json.loads(path.read_text())
    assert doc["overall"]["mean_iou"] == overall.mean_iou
    assert [i["item"] for i in doc["items"]] == ["one.png", "two.png"]
    assert doc["items"][0]["classes"][0] == {"class": 0, "name": "background", "iou": 2 / 3,
                                             "dice": 0.8, "tp": 2, "fp": 0, "fn": 1,
                                             "gt_pixels": 3, "pred_pixels": 2}
    assert doc["overall"]["confusion"]["counts"] == overall.confusion.counts.tolist()

    rows = list(csv.DictReader((metrics.write_metrics_csv(tmp_path / "m.csv", overall, items))
                               .open(encoding="utf-8")))
    summary = [r for r in rows if r["class"] == "all"]
    assert [r["item"] for r in summary] == ["one.png", "two.png", metrics.ALL_ITEMS]
    assert float(summary[0]["mean_iou"]) == pytest.approx(a.mean_iou, abs=1e-6)
    cls1 = next(r for r in rows if r["item"] == "one.png" and r["class"] == "1")
    assert float(cls1["iou"]) == pytest.approx(0.75) and cls1["fp"] == "1"

    confusion = list(csv.reader(metrics.write_confusion_csv(tmp_path / "c.csv", a.confusion)
                                .open(encoding="utf-8")))
    assert confusion[0] == ["gt \\ pred", "0", "1", "2", "3", "void"]
    assert confusion[3] == ["2", "0", "0", "3", "1", "0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "m.csv", "m.json"]


def test_a_4k_frame_is_fast():
    import time

    rng = np.random.default_rng(0)
    gt = seg(rng.integers(0, 20, (2160, 3840), dtype=np.uint8), void=())
    pred = seg(rng.integers(0, 20, (2160, 3840), dtype=np.uint8), void=())
    start = time.perf_counter()
    metrics.compare(gt, pred)
    assert time.perf_counter() - start < 2.0  # O(pixels); ~0.1-0.3 s here
