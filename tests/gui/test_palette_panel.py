"""The Palette dock, driven with real widgets on the bundled sample."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from viewer import _paths
from viewer.core.formats.registry import read_mask
from viewer.core.palettes import builtin_ids, builtin_palette
from viewer.core.recolor import colorblind_ids, palette_colors
from viewer.gui import palette_panel
from viewer.gui.palette_panel import PalettePanel

pytestmark = pytest.mark.gui


@pytest.fixture
def seg():
    return read_mask(_paths.sample_mask())  # semantic: 0 background, 15 person, 255 void


@pytest.fixture
def panel(qtbot, seg):
    widget = PalettePanel()
    qtbot.addWidget(widget)
    widget.errors = []
    widget._show_error = lambda title, message: widget.errors.append((title, message))
    widget.set_segmentation(seg)
    widget.show()
    return widget


def _colors(seg):
    return {s.id: s.color for s in seg.table}


def _keys(panel):
    return [panel.combo.itemData(i) for i in range(panel.combo.count())]


def test_lists_every_builtin_with_a_preview_icon(panel):
    assert panel.objectName() == "palette_panel" and panel.windowTitle() == "Palette"
    assert _keys(panel)[0] == palette_panel.FILE_KEY  # the mask's own colours come first
    assert sorted(_keys(panel)[1:]) == builtin_ids()
    assert not panel.combo.itemIcon(0).isNull()
    for index in range(1, panel.combo.count()):
        assert not panel.combo.itemIcon(index).isNull()
        palette = builtin_palette(panel.combo.itemData(index))
        marked = "colour-blind safe" in panel.combo.itemText(index)
        assert marked == palette.colorblind_safe


def test_setting_a_segmentation_keeps_its_colours(qtbot, seg):
    before = _colors(seg)
    widget = PalettePanel()
    qtbot.addWidget(widget)
    widget.set_segmentation(seg)
    assert _colors(seg) == before


def test_a_chosen_palette_holds_for_the_next_mask_and_file_colours_come_back(qtbot, panel):
    first = read_mask(_paths.sample_mask())
    original = _colors(first)
    panel.choose("okabe_ito")
    following = read_mask(_paths.sample_mask())
    panel.set_segmentation(following)  # the next image of a folder
    assert _colors(following) == palette_colors(following, builtin_palette("okabe_ito"))
    assert _colors(following) != original
    assert panel.choose(palette_panel.FILE_KEY)
    assert _colors(following) == original


def test_choose_recolours_the_segments_and_emits(qtbot, panel, seg):
    before = _colors(seg)
    with qtbot.waitSignal(panel.palette_chosen) as chosen, \
            qtbot.waitSignal(panel.recolored) as recolored:
        assert panel.choose("cityscapes")
    palette = builtin_palette("cityscapes")
    assert chosen.args[0].id == "cityscapes" and panel.current_palette.id == "cityscapes"
    assert _colors(seg) == palette_colors(seg, palette)
    assert seg.table[15].color == palette.color(15) != before[15]
    assert {i: s.color for i, s in recolored.args[0].items()} == {
        i: c for i, c in before.items() if c != palette.color(i)}
    assert panel.combo.currentData() == "cityscapes"


def test_picking_in_the_list_applies_with_one_change(qtbot, panel, seg):
    events = []
    seg.table.changed.connect(lambda ids, fields: events.append(ids))
    panel.combo.setFocus()
    with qtbot.waitSignal(panel.palette_chosen) as chosen:
        qtbot.keyClick(panel.combo, Qt.Key.Key_Down)  # the user steps to the next palette
    picked = chosen.args[0]
    assert picked.id == panel.combo.currentData() != "voc"
    assert _colors(seg) == palette_colors(seg, picked)
    assert len(events) == 1


def test_choose_without_apply_only_shows_it(qtbot, panel, seg):
    before = _colors(seg)
    with qtbot.assertNotEmitted(panel.palette_chosen):
        assert panel.choose("okabe_ito", apply=False)
    assert panel.current_palette.id == "okabe_ito" and _colors(seg) == before
    assert not panel.choose("no_such_palette")


def test_colourblind_filter(qtbot, panel, seg):
    panel.choose("voc")
    with qtbot.waitSignal(panel.palette_chosen) as chosen:
        panel.colorblind_only.setChecked(True)
    assert sorted(_keys(panel)) == colorblind_ids()
    assert chosen.args[0].colorblind_safe and panel.current_palette.colorblind_safe
    assert _colors(seg) == palette_colors(seg, panel.current_palette)
    # The colour-blind-safe list colours the mask's classes in order (VOC person = 15).
    assert seg.table[15].color == panel.current_palette.entries[1].color
    panel.colorblind_only.setChecked(False)
    assert sorted(_keys(panel)[1:]) == builtin_ids()
    panel.colorblind_only.setChecked(True)
    assert panel.choose("voc")  # choosing an unsafe palette lifts the filter
    assert not panel.colorblind_only.isChecked() and len(_keys(panel)) == len(builtin_ids()) + 1


def test_change_colour_of_the_selected_class(qtbot, panel, seg, monkeypatch):
    assert not panel.change_button.isEnabled()
    asked = []

    def fake_ask(parent, initial):
        asked.append(initial)
        return QColor(10, 20, 30)

    monkeypatch.setattr(palette_panel, "ask_color", fake_ask)
    panel.set_selected_ids([15])
    assert panel.change_button.isEnabled() and "person" in panel.selection_label.text()
    with qtbot.waitSignal(panel.recolored):
        qtbot.mouseClick(panel.change_button, Qt.MouseButton.LeftButton)
    assert asked[0] == QColor(*builtin_palette("voc").color(15))
    assert seg.table[15].color == (10, 20, 30)
    assert seg.table[0].color != (10, 20, 30)


def test_change_colour_cancelled_changes_nothing(panel, seg, monkeypatch):
    monkeypatch.setattr(palette_panel, "ask_color", lambda parent, initial: None)
    panel.set_selected_ids([15])
    before = _colors(seg)
    assert not panel.change_color()
    assert _colors(seg) == before


def test_load_bad_json_shows_the_file_and_changes_nothing(panel, seg, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "segview-palette", "version": 1, "entries": [', encoding="utf-8")
    panel.choose("okabe_ito")
    before = _colors(seg)
    assert not panel.load(bad)
    assert len(panel.errors) == 1
    title, message = panel.errors[0]
    assert title == "Load palette" and "broken.json" in message and "line 1" in message
    assert _colors(seg) == before and panel.current_palette.id == "okabe_ito"
    assert not any(str(k).startswith("file:") for k in _keys(panel))


def test_load_button_uses_the_file_dialog(panel, seg, tmp_path, monkeypatch):
    monkeypatch.setattr(palette_panel, "ask_open_path", lambda parent: str(tmp_path / "gone.json"))
    panel.load_button.click()
    assert "gone.json" in panel.errors[0][1]


def test_save_then_load_round_trip(qtbot, panel, seg, tmp_path, monkeypatch):
    panel.choose("tol_muted")
    monkeypatch.setattr(palette_panel, "ask_color", lambda parent, initial: QColor(1, 2, 3))
    panel.set_selected_ids([15])
    panel.change_color()
    expected = _colors(seg)
    path = tmp_path / "mine"
    monkeypatch.setattr(palette_panel, "ask_save_path", lambda parent, suggested: str(path))
    panel.save_button.click()  # adds .json
    saved = tmp_path / "mine.json"
    assert saved.is_file() and not panel.errors
    panel.choose("voc")
    assert _colors(seg) != expected
    with qtbot.waitSignal(panel.palette_chosen) as chosen:
        assert panel.load(saved)
    assert chosen.args[0].id == "mine"
    assert _colors(seg) == expected
    assert panel.combo.currentData() == f"file:{saved.resolve()}"
    assert panel.combo.currentText() == "mine (loaded)"


def test_save_error_names_the_file(panel, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x", encoding="utf-8")
    assert not panel.save(blocker / "p.json")
    assert panel.errors and "p.json" in panel.errors[0][1]


def test_save_without_segmentation_saves_the_chosen_palette(qtbot, tmp_path):
    widget = PalettePanel()
    qtbot.addWidget(widget)
    widget.choose("okabe_ito")
    assert widget.save(tmp_path / "copy.json")
    assert widget.load(tmp_path / "copy.json")
    assert widget.current_palette.entries == builtin_palette("okabe_ito").entries
