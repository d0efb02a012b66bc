"""Temporal QA: class areas, frame-to-frame IoU and the suspicious frames they point at."""

import math

import numpy as np
import pytest
from PIL import Image

from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import Progress, drain
from viewer.core.video.mask_folder import MaskFolder
from viewer.core.video.mask_source import MaskSource
from viewer.core.video.temporal import Suspicion, TemporalStats, TrackedClass, temporal_stats

NAMES = {0: "background", 1: "person", 2: "car", 255: "void"}


class FakeSource:
    """A MaskSource over label maps held in memory (value arrays, VOC conventions)."""

    def __init__(self, maps: dict[int, np.ndarray | Segmentation | None]):
        self.maps = maps
        self.reads = []

    def frames(self):
        return sorted(self.maps)

    def mask_for(self, frame_index):
        self.reads.append(frame_index)
        value = self.maps.get(frame_index)
        if value is None or isinstance(value, Segmentation):
            return value
        return Segmentation.from_values(value, names=NAMES, void_values=(255,))

    def summary(self):
        return []

    def close(self):
        pass


def box(shape=(10, 10), **boxes):
    """A value map with ``value=(row0, row1, col0, col1)`` boxes, later ones on top."""
    values = np.zeros(shape, np.uint8)
    for name, (r0, r1, c0, c1) in boxes.items():
        values[r0:r1, c0:c1] = {"person": 1, "car": 2, "void": 255}[name]
    return values


def stats_of(maps, **kwargs) -> TemporalStats:
    return drain(temporal_stats(FakeSource(maps), **kwargs))


def test_the_fake_source_is_a_mask_source():
    assert isinstance(FakeSource({}), MaskSource)


def test_areas_are_fractions_of_the_frame_without_background_and_void():
    stats = stats_of({0: box(person=(0, 5, 0, 10), car=(5, 6, 0, 10), void=(9, 10, 0, 10)),
                      1: box(car=(0, 2, 0, 10))})
    assert stats.frames.tolist() == [0, 1] and stats.frames.dtype == np.int64
    assert [(c.class_id, c.label) for c in stats.classes] == [(1, "person"), (2, "car")]
    assert all(isinstance(c, TrackedClass) and len(c.color) == 3 for c in stats.classes)
    np.testing.assert_array_equal(stats.areas, [[0.5, 0.1], [0.0, 0.2]])


def test_iou_is_the_mean_over_classes_present_in_either_frame():
    # person: 2x5 moved right by 2 columns -> 6 shared of 14; car unchanged -> 1;
    # then the car disappears -> 0, and the person stays -> 1.
    stats = stats_of({
        0: box(person=(0, 2, 0, 5), car=(5, 7, 5, 8)),
        1: box(person=(0, 2, 2, 7), car=(5, 7, 5, 8)),
        2: box(person=(0, 2, 2, 7)),
    })
    assert math.isnan(stats.iou[0])
    assert stats.iou[1] == pytest.approx((6 / 14 + 1) / 2)
    assert stats.iou[2] == pytest.approx((1 + 0) / 2)


def test_empty_frames_agree_with_each_other_and_not_with_a_full_one():
    stats = stats_of({0: box(), 1: box(), 2: box(car=(0, 1, 0, 1)), 3: box()})
    assert stats.areas.shape == (4, 1)
    assert stats.iou[1:].tolist() == [1.0, 0.0, 0.0]


def test_a_gap_in_frame_numbers_breaks_the_iou_and_the_flicker_check():
    car = box(car=(0, 5, 0, 5))
    stats = stats_of({0: car, 1: car, 3: box(), 4: car, 5: car, 6: None})
    assert stats.frames.tolist() == [0, 1, 3, 4, 5]   # frame 6 has no mask after all
    assert stats.iou[1] == 1.0 and math.isnan(stats.iou[2])
    assert stats.iou[3] == 0.0
    assert [s.kind for s in stats.suspicious()] == ["iou"]   # 3 has no neighbour 2


def test_one_frame_flickers_are_found_both_ways():
    person, car = box(person=(0, 3, 0, 3)), box(car=(5, 8, 5, 8))
    both = box(person=(0, 3, 0, 3), car=(5, 8, 5, 8))
    stats = stats_of({0: car, 1: car, 2: both, 3: car, 4: car, 5: person, 6: car})
    found = stats.suspicious(iou_below=0.0)   # flickers only
    assert [(s.frame, s.kind, s.reason) for s in found] == [
        (2, "appears", "person appears for 1 frame (flicker)"),
        (5, "appears", "person appears for 1 frame (flicker)"),
        (5, "vanishes", "car vanishes for 1 frame (flicker)"),
    ]
    assert found[2].column == 1 and found[2].value == 0.0
    assert found[0].value == pytest.approx(0.09)


def test_tiny_classes_do_not_count_as_present():
    speck = box(person=(0, 1, 0, 1))          # 1 % of the frame
    stats = stats_of({0: box(), 1: speck, 2: box()})
    assert stats.suspicious(iou_below=0.0, min_area=0.02) == []
    assert [s.frame for s in stats.suspicious(iou_below=0.0, min_area=0.01)] == [1]


def test_an_iou_drop_names_the_previous_frame():
    stats = stats_of({40: box(car=(0, 4, 0, 4)), 41: box(car=(0, 4, 0, 4)),
                      42: box(car=(0, 4, 2, 6))})   # 8 shared of 24
    assert stats.suspicious() == [Suspicion(42, "IoU with frame 41 is 0.33", "iou", None,
                                            pytest.approx(1 / 3))]
    assert stats.suspicious(iou_below=0.3) == []


def test_an_iou_drop_comes_before_the_flickers_of_its_frame():
    person = box(person=(0, 5, 0, 5))
    stats = stats_of({0: person, 1: box(car=(0, 5, 0, 5)), 2: person})
    # then by column: person (class 1) vanishes before the car (class 2) appears
    assert [s.kind for s in stats.suspicious()] == ["iou", "vanishes", "appears", "iou"]
    assert [s.frame for s in stats.suspicious()] == [1, 1, 1, 2]


def test_next_suspicious_wraps_to_the_start():
    person = box(person=(0, 5, 0, 5))
    stats = stats_of(dict.fromkeys(range(10), person) | {3: box(), 7: box()})
    assert [(s.frame, s.kind) for s in stats.suspicious()] == [
        (3, "iou"), (3, "vanishes"), (4, "iou"), (7, "iou"), (7, "vanishes"), (8, "iou")]
    assert stats.next_suspicious(3).frame == 4
    assert stats.next_suspicious(-1).kind == "iou"
    assert stats.next_suspicious(8).frame == 3
    assert stats.next_suspicious(3, iou_below=0.0).frame == 7
    assert stats.next_suspicious(8, iou_below=0.0).kind == "vanishes"
    assert stats_of({0: person, 1: person}).next_suspicious(0) is None


def test_instances_of_one_class_count_as_that_class():
    labels = np.zeros((4, 4), np.uint8)
    labels[0, :2], labels[0, 2:], labels[3, :] = 1, 2, 3
    rows = [Segment(0, label="background", visible=False),
            Segment(1, label="person", class_id=1, instance=1, color=(200, 0, 0)),
            Segment(2, label="person", class_id=1, instance=2, color=(0, 200, 0)),
            Segment(3, label="car", class_id=2, instance=1)]
    first = Segmentation(labels, SegmentTable(rows), kind="instance")
    swapped = Segmentation(np.where(labels == 1, 2, np.where(labels == 2, 1, labels)).astype(
        np.uint8), SegmentTable(rows), kind="instance")
    stats = stats_of({0: first, 1: swapped})
    assert [c.name for c in stats.classes] == ["person", "car"]
    assert stats.classes[0].color == (200, 0, 0)
    np.testing.assert_array_equal(stats.areas, [[0.25, 0.25], [0.25, 0.25]])
    assert stats.iou[1] == 1.0   # instance ids swapped, classes unchanged


def test_classes_seen_later_get_their_column_and_columns_are_sorted():
    stats = stats_of({0: box(car=(0, 1, 0, 10)), 1: box(car=(0, 1, 0, 10), person=(1, 2, 0, 10))})
    assert [c.class_id for c in stats.classes] == [1, 2]
    np.testing.assert_array_equal(stats.areas, [[0.0, 0.1], [0.1, 0.1]])
    assert stats.iou[1] == pytest.approx(0.5)


def test_progress_per_frame_and_frames_past_the_video_are_skipped():
    source = FakeSource({i: box() for i in (0, 1, 2, 10)})
    steps = []
    stats = drain(temporal_stats(source, frame_count=5), steps.append)
    assert stats.frames.tolist() == [0, 1, 2] and source.reads == [0, 1, 2]
    assert [(p.done, p.total) for p in steps] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert all(isinstance(p, Progress) for p in steps)


def test_no_masks_give_empty_arrays():
    stats = stats_of({})
    assert stats.frames.shape == (0,) and stats.areas.shape == (0, 0)
    assert stats.iou.shape == (0,) and stats.classes == []
    assert stats.suspicious() == [] and stats.next_suspicious(0) is None


def brute_force(maps):
    """Areas and IoU of value maps class by class with boolean masks (the slow, obvious way)."""
    keys = sorted({int(v) for m in maps for v in np.unique(m)} - {0})
    areas = [[float((m == k).mean()) for k in keys] for m in maps]
    ious = [math.nan]
    for a, b in zip(maps, maps[1:], strict=False):
        per = [((a == k) & (b == k)).sum() / ((a == k) | (b == k)).sum()
               for k in keys if ((a == k) | (b == k)).any()]
        ious.append(float(np.mean(per)) if per else 1.0)
    return np.array(areas), np.array(ious)


@pytest.mark.parametrize(("classes", "dtype"), [
    (20, np.uint8),      # OpenCV's histogram and lookup
    (300, np.uint16),    # OpenCV's histogram of 16-bit ids and class indices
    (20, np.uint32),     # numpy; unnamed rows without class id: followed by value
])
def test_random_maps_match_the_per_class_computation(classes, dtype):
    rng = np.random.default_rng(7)
    maps = [rng.integers(0, classes + 1, (30, 40)).astype(dtype) for _ in range(4)]
    maps[2][:15] = maps[1][:15]   # partial agreement
    build = Segmentation if dtype == np.uint32 else Segmentation.from_values
    source = FakeSource({i: build(m) for i, m in enumerate(maps)})
    stats = drain(temporal_stats(source))
    areas, ious = brute_force(maps)
    np.testing.assert_allclose(stats.areas, areas)
    np.testing.assert_allclose(stats.iou, ious)


def test_through_a_mask_folder_of_png_files(tmp_path):
    (tmp_path / "class_names.txt").write_text("background\nperson\ncar\n")
    square = box((20, 20), person=(0, 10, 0, 10))
    shifted = box((20, 20), person=(0, 10, 5, 15))
    for i, values in enumerate([square, square, square | box((20, 20), car=(15, 20, 0, 20)),
                                square, shifted]):
        Image.fromarray(values).save(tmp_path / f"frame_{i + 1:05d}.png")
    source = MaskFolder(tmp_path, first_number=1)
    stats = drain(temporal_stats(source))
    assert stats.frames.tolist() == [0, 1, 2, 3, 4]
    assert [c.label for c in stats.classes] == ["person", "car"]
    assert stats.areas[:, 0].tolist() == [0.25] * 5
    assert stats.iou[4] == pytest.approx(50 / 150)
    assert stats.iou[1:4].tolist() == [1.0, 0.5, 0.5]   # the car: 0 of 100 shared
    assert [s.reason for s in stats.suspicious()] == [
        "car appears for 1 frame (flicker)", "IoU with frame 3 is 0.33"]


def test_frames_of_another_size_are_not_compared():
    stats = stats_of({0: box((10, 10), car=(0, 5, 0, 10)), 1: box((20, 10), car=(0, 10, 0, 10))})
    np.testing.assert_array_equal(stats.areas, [[0.5], [0.5]])
    assert np.isnan(stats.iou).all()
