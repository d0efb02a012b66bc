import pytest

from viewer.core.errors import SegmentationError
from viewer.core.segment_table import Segment, SegmentTable


def _table():
    return SegmentTable([Segment(3, "car", color=(1, 2, 3)), Segment(0, "background"),
                         Segment(7, "person", instance=2)])


def test_iterates_in_id_order_and_looks_up():
    table = _table()
    assert table.ids() == (0, 3, 7)
    assert [s.label for s in table] == ["background", "car", "person"]
    assert table[3].color == (1, 2, 3)
    assert 7 in table and 8 not in table
    assert table.get(8) is None
    assert table.max_id() == 7 and table.next_free_id() == 8
    with pytest.raises(KeyError, match="no segment with id 9"):
        table[9]


def test_update_emits_changed_and_returns_old_row():
    table = _table()
    events = []
    table.changed.connect(lambda ids, fields: events.append((ids, fields)))
    old = table.update(3, label="truck", visible=False)
    assert old.label == "car" and old.visible
    assert table[3].label == "truck" and not table[3].visible
    assert events == [((3,), frozenset({"label", "visible"}))]


def test_update_many_is_one_event():
    table = _table()
    events = []
    table.changed.connect(lambda ids, fields: events.append(ids))
    table.update_many({0: {"visible": True}, 7: {"color": (9, 9, 9)}})
    assert events == [(0, 7)]


def test_add_and_remove_emit_events():
    table = _table()
    inserted, removed = [], []
    table.inserted.connect(inserted.append)
    table.removed.connect(removed.append)
    table.add_many([Segment(10, "tree"), Segment(11, "sky")])
    gone = table.remove([3, 99])
    assert inserted == [(10, 11)]
    assert removed == [(3,)]
    assert [s.id for s in gone] == [3]
    assert table.ids() == (0, 7, 10, 11)


def test_reset_on_replace_all():
    table = _table()
    resets = []
    table.reset.connect(lambda: resets.append(True))
    table.replace_all([Segment(1, "a")])
    assert resets == [True] and table.ids() == (1,)


def test_put_restores_whole_rows():
    table = _table()
    old = table.update(7, label="rider", score=0.5)
    table.put([old])
    assert table[7] == old


def test_invalid_rows_are_refused():
    table = _table()
    with pytest.raises(SegmentationError, match="duplicate segment id 3"):
        table.add(Segment(3))
    with pytest.raises(SegmentationError, match="cannot edit segment fields: id"):
        table.update(3, id=4)
    with pytest.raises(SegmentationError, match="non-negative"):
        Segment(-1)
    with pytest.raises(SegmentationError, match="colour"):
        Segment(1, color=(0, 0, 300))


def test_dict_round_trip_and_value():
    seg = Segment(4, "void", source_value=-1, void=True, bbox=(0, 1, 2, 3),
                  attributes={"note": "x"}, score=0.25)
    assert seg.value == -1
    assert Segment(5).value == 5
    assert Segment.from_dict(seg.to_dict()) == seg
    with pytest.raises(SegmentationError, match="unknown segment fields: bogus"):
        Segment.from_dict({"id": 1, "bogus": 2})


def test_attributes_are_read_only_and_copy_is_independent():
    table = _table()
    seg = Segment(1, attributes={"a": 1})
    with pytest.raises(TypeError):
        seg.attributes["a"] = 2
    clone = table.copy()
    clone.update(3, label="bus")
    assert table[3].label == "car"
