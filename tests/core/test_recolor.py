"""Recolouring from palettes and palettes from segmentations (no Qt)."""

import numpy as np
import pytest

from viewer import _paths
from viewer.core.errors import PaletteError
from viewer.core.formats.registry import read_mask
from viewer.core.palettes import (
    Palette,
    PaletteEntry,
    builtin_palette,
    load_palette,
    save_palette,
    stable_color,
)
from viewer.core.recolor import (
    apply_palette,
    colorblind_ids,
    maps_by_rank,
    palette_colors,
    palette_from_segmentation,
    recolor_class,
    segment_key,
)
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation


def _palette(colors: dict[int, tuple], names: dict[int, str] | None = None) -> Palette:
    names = names or {}
    entries = {i: PaletteEntry(i, c, names.get(i)) for i, c in colors.items()}
    return Palette("test", "Test", entries)


def _semantic() -> Segmentation:
    values = np.array([[0, 0, 15], [15, 255, 7]], np.int32)
    return Segmentation.from_values(values, palette=builtin_palette("voc"), void_values=(255,))


def _instances() -> Segmentation:
    """Ids 0 (background), 1..3 three persons (class 15), 4 a dog (class 12), 5 class-less."""
    labels = np.array([[0, 1, 2, 3], [4, 5, 5, 0]], np.uint8)
    table = SegmentTable([
        Segment(0, "background", class_id=0, visible=False),
        Segment(1, "person", class_id=15, instance=1),
        Segment(2, "person", class_id=15, instance=2),
        Segment(3, "person", class_id=15, instance=3),
        Segment(4, "dog", class_id=12, instance=1),
        Segment(5, "", source_value=40),
    ])
    return Segmentation(labels, table, kind=Kind.INSTANCE)


def _colors(seg: Segmentation) -> dict[int, tuple]:
    return {s.id: s.color for s in seg.table}


def _count_changes(seg: Segmentation) -> list:
    events = []
    seg.table.changed.connect(lambda ids, fields: events.append((ids, fields)))
    return events


def test_colorblind_ids_lists_the_safe_builtins():
    ids = colorblind_ids()
    assert {"okabe_ito", "tol_muted"} <= set(ids)
    assert all(builtin_palette(i).colorblind_safe for i in ids)
    assert "voc" not in ids


def test_segment_key_prefers_class_then_value_then_id():
    assert segment_key(Segment(3, class_id=15)) == 15
    assert segment_key(Segment(3, source_value=-1)) == -1
    assert segment_key(Segment(3)) == 3
    assert segment_key(Segment(3, source_value=(10, 20, 30))) == 3


def test_semantic_segments_take_their_class_colour():
    seg = _semantic()
    palette = builtin_palette("cityscapes")
    colors = palette_colors(seg, palette)
    assert colors == {i: palette.color(i) for i in (0, 7, 15, 255)}
    assert not maps_by_rank(seg, palette)


def test_semantic_segments_of_one_class_share_the_colour():
    labels = np.array([[0, 1, 2]], np.uint8)
    table = SegmentTable([Segment(0, class_id=0), Segment(1, class_id=4), Segment(2, class_id=4)])
    seg = Segmentation(labels, table)
    colors = palette_colors(seg, builtin_palette("voc"))
    assert colors[1] == colors[2] == builtin_palette("voc").color(4)


def test_colour_list_palette_goes_by_rank_when_it_misses_keys():
    seg = _semantic()  # keys 0, 7, 15, 255: Okabe-Ito lists 0..7 only
    okabe = builtin_palette("okabe_ito")
    assert maps_by_rank(seg, okabe)
    colors = palette_colors(seg, okabe)
    assert colors == {0: okabe.color(0), 7: okabe.color(1), 15: okabe.color(2),
                      255: okabe.color(3)}


def test_colour_list_beyond_its_length_falls_back_to_stable_colours():
    labels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 10 + 5  # keys 5, 15, ..., 115
    seg = Segmentation(labels)
    okabe = builtin_palette("okabe_ito")  # 7 colours besides background
    colors = palette_colors(seg, okabe)
    keys = sorted(colors)
    assert [colors[k] for k in keys[:7]] == [okabe.color(i) for i in range(1, 8)]
    assert [colors[k] for k in keys[7:]] == [stable_color(k) for k in keys[7:]]


def test_instances_of_one_class_get_distinct_shades_of_the_class_colour():
    seg = _instances()
    voc = builtin_palette("voc")
    colors = palette_colors(seg, voc)
    persons = [colors[i] for i in (1, 2, 3)]
    assert persons[0] == voc.color(15)  # the first instance exactly
    assert len(set(persons)) == 3
    for color in persons[1:]:  # close to the class colour, not some other hue
        assert max(abs(a - b) for a, b in zip(color, voc.color(15), strict=True)) < 90
    assert colors[4] == voc.color(12)
    assert colors[5] == voc.color(40)  # class-less: its source value is the key


def test_many_instances_stay_distinct():
    n = 200
    labels = np.arange(n, dtype=np.uint8).reshape(10, 20)
    table = SegmentTable(Segment(i, class_id=1, instance=i) for i in range(n))
    seg = Segmentation(labels, table, kind=Kind.PANOPTIC)
    for palette_id in ("voc", "okabe_ito"):
        assert len(set(palette_colors(seg, builtin_palette(palette_id)).values())) == n


def test_class_missing_from_palette_uses_stable_class_colour():
    seg = _instances()
    palette = _palette({0: (0, 0, 0), 12: (1, 2, 3)}, {12: "dog"})
    colors = palette_colors(seg, palette)
    assert colors[1] == stable_color(15)
    assert len({colors[i] for i in (1, 2, 3)}) == 3


def test_negative_values_keep_their_stable_colour():
    seg = Segmentation.from_values(np.array([[-1, 0, 1]]), void_values=(-1,))
    colors = palette_colors(seg, builtin_palette("voc"))
    assert colors[seg.table.max_id()] == stable_color(-1)


def test_apply_is_one_change_event_and_returns_old_rows():
    seg = _instances()
    before = _colors(seg)
    events = _count_changes(seg)
    old = apply_palette(seg, builtin_palette("voc"))
    assert len(events) == 1 and events[0][1] == frozenset({"color"})
    assert set(events[0][0]) == set(old)
    assert _colors(seg) == palette_colors(seg, builtin_palette("voc"))
    seg.table.put(old.values())  # undo
    assert _colors(seg) == before


def test_apply_twice_changes_nothing_the_second_time():
    seg = _semantic()
    apply_palette(seg, builtin_palette("tol_muted"))
    events = _count_changes(seg)
    assert apply_palette(seg, builtin_palette("tol_muted")) == {}
    assert events == []


def test_apply_keeps_labels():
    seg = _semantic()
    labels = {s.id: s.label for s in seg.table}
    apply_palette(seg, builtin_palette("okabe_ito"))
    assert {s.id: s.label for s in seg.table} == labels


def test_recolor_class_semantic_and_instance():
    seg = _semantic()
    events = _count_changes(seg)
    recolor_class(seg, 15, (1, 2, 3))
    assert seg.table[15].color == (1, 2, 3) and len(events) == 1
    inst = _instances()
    recolor_class(inst, 2, (200, 10, 10))  # any instance recolours its whole class
    assert inst.table[1].color == (200, 10, 10)
    assert len({inst.table[i].color for i in (1, 2, 3)}) == 3
    assert inst.table[4].color != (200, 10, 10)


@pytest.mark.parametrize("palette_id", ["voc", "okabe_ito", "high_contrast"])
@pytest.mark.parametrize("make", [_semantic, _instances])
def test_save_load_apply_round_trip(tmp_path, make, palette_id):
    seg = make()
    apply_palette(seg, builtin_palette(palette_id))
    recolor_class(seg, 1 if seg.kind is Kind.INSTANCE else 15, (10, 200, 30))
    expected = _colors(seg)
    path = tmp_path / "mine.json"
    save_palette(palette_from_segmentation(seg, id="mine", name="Mine"), path)
    loaded = load_palette(path)
    assert loaded.id == "mine" and loaded.name == "Mine"
    fresh = make()  # the original colours
    apply_palette(fresh, loaded)
    assert _colors(fresh) == expected


def test_palette_from_segmentation_names_and_void():
    seg = _semantic()
    palette = palette_from_segmentation(seg)
    assert palette.name_of(15) == "person" and palette.is_void(255)
    assert sorted(palette.entries) == [0, 7, 15, 255]


def test_palette_from_segmentation_keeps_base_entries_by_id_only():
    seg = _semantic()
    voc = builtin_palette("voc")
    recolor_class(seg, 15, (1, 2, 3))
    merged = palette_from_segmentation(seg, base=voc)
    assert len(merged.entries) == 256 and merged.color(15) == (1, 2, 3)
    assert merged.color(1) == voc.color(1)
    # A colour list applied by rank says nothing about other ids of this map.
    ranked = palette_from_segmentation(seg, base=builtin_palette("okabe_ito"))
    assert sorted(ranked.entries) == [0, 7, 15, 255]


def test_palette_from_empty_segmentation_is_an_error():
    seg = Segmentation(np.zeros((0, 0), np.uint8))
    with pytest.raises(PaletteError):
        palette_from_segmentation(seg)


def test_bundled_sample_round_trip(tmp_path):
    seg = read_mask(_paths.sample_mask())
    apply_palette(seg, builtin_palette("okabe_ito"))
    assert seg.table[15].color == builtin_palette("okabe_ito").color(1)
    path = tmp_path / "sample.json"
    save_palette(palette_from_segmentation(seg), path)
    again = read_mask(_paths.sample_mask())
    apply_palette(again, load_palette(path))
    assert _colors(again) == _colors(seg)
