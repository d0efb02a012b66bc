"""Area per class and confidence histograms, on small hand-computed cases."""

import numpy as np
import pytest

from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation
from viewer.core.summary import (
    ConfidenceSource,
    class_areas,
    confidence_histogram,
    pixel_histogram,
    value_histogram,
)


def _instances():
    """A 10 x 10 instance map (100 px) with every kind of row the grouping meets.

    Class 7 has two people (20 px visible + 10 px hidden); "tree" has no class,
    two segments (5 px visible + 5 px hidden); id 6 has neither class nor
    label; id 8 has no pixels; id 9 is void; the rest is hidden background.
    """
    labels = np.zeros((10, 10), np.uint8)
    labels[0:2] = 1          # 20 px
    labels[2, :] = 2         # 10 px
    labels[3, :5] = 3        # 5 px
    labels[3, 5:] = 4        # 5 px
    labels[4, :] = 6         # 10 px, no class, no label
    labels[5, :] = 9         # 10 px, void
    table = SegmentTable([
        Segment(0, "background", visible=False),
        Segment(1, "person", class_id=7, instance=1, color=(10, 20, 30)),
        Segment(2, "", class_id=7, instance=2, color=(40, 50, 60), visible=False),
        Segment(3, "tree", color=(0, 200, 0)),
        Segment(4, "tree", color=(0, 100, 0), visible=False),
        Segment(6, color=(5, 5, 5)),
        Segment(8, "ghost", class_id=3),
        Segment(9, "void", void=True),
    ])
    return Segmentation(labels, table, kind=Kind.INSTANCE)


def test_class_areas_group_by_class_then_label_then_id():
    rows = class_areas(_instances())
    assert [r.key for r in rows] == [
        ("label", "background"), ("class", 7), ("segment", 6), ("label", "tree")]
    background, person, lone, tree = rows
    assert (background.area, background.share, background.hidden) == (40, 0.4, True)
    # Class 7: both instances, the colour and name of the larger (labelled) one.
    assert (person.name, person.color, person.area, person.segments) == (
        "person", (10, 20, 30), 30, 2)
    assert person.visible_area == 20 and not person.hidden
    # Equal areas sort by name: "segment 6" before "tree".
    assert (lone.name, lone.area, lone.color) == ("segment 6", 10, (5, 5, 5))
    assert (tree.area, tree.segments, tree.visible_area, tree.color) == (10, 2, 5, (0, 200, 0))


def test_class_areas_skip_void_and_empty_segments():
    keys = [r.key for r in class_areas(_instances())]
    assert ("class", 3) not in keys  # "ghost" has no pixels
    assert ("label", "void") not in keys and ("segment", 9) not in keys


def test_class_areas_follow_the_table():
    seg = _instances()
    seg.table.update(1, visible=False)
    person = next(r for r in class_areas(seg) if r.key == ("class", 7))
    assert person.hidden and person.visible_area == 0
    seg.table.update(1, label="astronaut")
    assert next(r for r in class_areas(seg) if r.key == ("class", 7)).name == "astronaut"
    seg.table.update(1, class_id=None)  # no class: grouped by its label now
    assert ("label", "astronaut") in [r.key for r in class_areas(seg)]


def test_class_without_any_label_is_named_by_its_id():
    seg = Segmentation(np.full((2, 2), 4, np.uint8), SegmentTable([Segment(4, class_id=12)]))
    [row] = class_areas(seg)
    assert (row.name, row.share) == ("class 12", 1.0)


def test_empty_table_gives_no_rows():
    seg = Segmentation(np.zeros((3, 3), np.uint8), SegmentTable([Segment(0, void=True)]))
    assert class_areas(seg) == []


def test_pixel_histogram_by_hand():
    conf = np.array([[0.0, 0.1, 0.5, 0.99, 1.0],
                     [np.nan, 0.25, 1.2, -0.3, -np.inf]], np.float32)
    hist = pixel_histogram(conf, bins=4)
    assert hist.source is ConfidenceSource.PIXELS
    # 0.0 0.1 -0.3 | 0.25 | 0.5 | 0.99 1.0 1.2 ; NaN and -inf ignored
    np.testing.assert_array_equal(hist.counts, [3, 1, 1, 3])
    np.testing.assert_allclose(hist.edges, [0, 0.25, 0.5, 0.75, 1])
    assert hist.ignored == 2 and hist.total == 8
    # Out-of-range values count as clipped: -0.3 as 0, 1.2 as 1.
    expected = (0.0 + 0.1 + 0.5 + 0.99 + 1.0 + 0.25 + 1.0 + 0.0) / 8
    assert hist.mean == pytest.approx(expected, abs=1e-6)
    assert not hist.counts.flags.writeable


def test_pixel_histogram_all_nan():
    hist = pixel_histogram(np.full((3, 4), np.nan, np.float32), bins=5)
    assert hist.total == 0 and hist.ignored == 12 and hist.mean is None


@pytest.mark.parametrize("bins", [1, 7, 255, 256, 1000])
def test_pixel_histogram_matches_a_reference_across_bands(bins):
    rng = np.random.default_rng(bins)
    conf = rng.random((300, 37), dtype=np.float32)  # more rows than one band
    conf[rng.random(conf.shape) < 0.05] = np.nan
    hist = pixel_histogram(conf, bins)
    finite = conf[np.isfinite(conf)]
    index = np.minimum(np.floor(finite * np.float32(bins)), bins - 1).astype(int)
    np.testing.assert_array_equal(hist.counts, np.bincount(index, minlength=bins))
    assert hist.ignored == int(np.isnan(conf).sum())
    assert hist.mean == pytest.approx(float(finite.mean()), rel=1e-5)


def test_value_histogram_by_hand():
    hist = value_histogram([0.9, 0.95, 1.0, 0.1, float("nan")], bins=2)
    assert hist.source is ConfidenceSource.SEGMENTS
    np.testing.assert_array_equal(hist.counts, [1, 3])
    assert hist.ignored == 1 and hist.mean == pytest.approx(2.95 / 4)


@pytest.mark.parametrize("bins", [0, -1, 2.5, 70000])
def test_bad_bin_counts_are_refused(bins):
    with pytest.raises(ValueError, match="bins"):
        pixel_histogram(np.zeros((2, 2), np.float32), bins)


def test_confidence_histogram_prefers_the_pixel_map():
    labels = np.array([[1, 1], [2, 2]], np.uint8)
    table = SegmentTable([Segment(1, score=0.1), Segment(2, score=0.2)])
    conf = np.array([[0.9, 0.8], [np.nan, 0.3]], np.float32)
    hist = confidence_histogram(Segmentation(labels, table, confidence=conf), bins=2)
    assert hist.source is ConfidenceSource.PIXELS
    np.testing.assert_array_equal(hist.counts, [1, 2])
    assert hist.ignored == 1


def test_confidence_histogram_falls_back_to_segment_scores():
    labels = np.array([[1, 2], [3, 4]], np.uint8)
    table = SegmentTable([Segment(1, score=0.8), Segment(2, score=0.3), Segment(3),
                          Segment(4, score=0.99, void=True)])
    hist = confidence_histogram(Segmentation(labels, table), bins=4)
    assert hist.source is ConfidenceSource.SEGMENTS
    np.testing.assert_array_equal(hist.counts, [0, 1, 0, 1])  # the void score is left out
    assert hist.mean == pytest.approx(0.55)


def test_no_confidence_gives_none():
    seg = Segmentation.from_values(np.array([[0, 1], [1, 255]]), void_values=(255,))
    assert seg.confidence is None
    assert confidence_histogram(seg) is None
