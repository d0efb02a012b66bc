import json

import numpy as np
import pytest

from viewer.core.errors import PaletteError
from viewer.core.palettes import (
    builtin_ids,
    builtin_palette,
    load_palette,
    palette_from_json,
    save_palette,
    stable_color,
)

EXPECTED = {"voc", "cityscapes", "ade20k150", "coco_panoptic", "celantur", "deepstream_sample",
            "okabe_ito", "tol_muted", "high_contrast"}


def test_every_builtin_palette_loads_with_provenance():
    assert EXPECTED <= set(builtin_ids())
    for palette_id in builtin_ids():
        palette = builtin_palette(palette_id)
        assert palette.id == palette_id
        assert palette.provenance and palette.license and palette.entries


def test_verified_values():
    voc = builtin_palette("voc")
    assert len(voc.entries) == 256
    assert voc.color(15) == (192, 128, 128) and voc.name_of(15) == "person"
    assert voc.color(255) == (224, 224, 192) and voc.is_void(255)
    assert builtin_palette("cityscapes").color(26) == (0, 0, 142)
    assert builtin_palette("cityscapes").name_of(26) == "car"
    assert builtin_palette("deepstream_sample").color(0) == (64, 128, 128)  # BGR (128,128,64)
    assert len(builtin_palette("ade20k150").entries) == 150
    coco = builtin_palette("coco_panoptic")
    assert len(coco.entries) == 134 and coco.is_void(0) and coco.name_of(1) == "person"
    celantur = builtin_palette("celantur")
    assert {celantur.name_of(v) for v in (64, 128, 192, 255)} == {
        "license plate", "person", "face", "vehicle"}


def test_colorblind_safe_and_high_contrast():
    assert builtin_palette("okabe_ito").colorblind_safe
    assert builtin_palette("tol_muted").colorblind_safe
    colors = [e.color for e in builtin_palette("high_contrast").entries.values()]
    assert len(colors) == 256 and len(set(colors)) == 256


def test_ids_beyond_a_palette_get_stable_distinct_colours():
    voc = builtin_palette("voc")
    assert voc.color(70000) == stable_color(70000) == stable_color(70000)
    neighbours = {stable_color(i) for i in range(1000, 1100)}
    assert len(neighbours) == 100
    assert voc.colors(3).tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    assert voc.colors(300).shape == (300, 3)


def test_user_palette_round_trip(tmp_path):
    palette = builtin_palette("tol_muted")
    path = tmp_path / "mine.json"
    save_palette(palette, path)
    again = load_palette(path)
    assert again == palette


def test_bad_palette_files_name_the_file_and_problem(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "segview-palette",\n "version": 1, "entries": [}')
    with pytest.raises(PaletteError, match=r"broken\.json: JSON syntax error at line 2, column"):
        load_palette(path)
    with pytest.raises(PaletteError, match="file not found"):
        load_palette(tmp_path / "missing.json")
    good = {"format": "segview-palette", "version": 1, "entries": [{"id": 0, "color": [0, 0, 0]}]}
    with pytest.raises(PaletteError, match="entry 1: duplicate id 0"):
        palette_from_json({**good, "entries": good["entries"] * 2})
    with pytest.raises(PaletteError, match=r"color must be \[R, G, B\]"):
        palette_from_json({**good, "entries": [{"id": 1, "color": [0, 0, 256]}]})
    with pytest.raises(PaletteError, match="not a palette file"):
        palette_from_json({"entries": []})
    with pytest.raises(PaletteError, match="unknown palette 'nope'; known: .*voc"):
        builtin_palette("nope")
    path.write_text(json.dumps(good))
    assert load_palette(path).id == "broken"


def test_colors_array_is_uint8():
    assert builtin_palette("voc").colors(21).dtype == np.uint8


@pytest.mark.parametrize("field, value", [("name", ["a"]), ("id", 7), ("description", {}),
                                          ("colorblind_safe", "yes")])
def test_palette_fields_of_the_wrong_type_are_refused(tmp_path, field, value):
    path = tmp_path / "pal.json"
    path.write_text(json.dumps({"format": "segview-palette", "version": 1, field: value,
                                "entries": [{"id": 0, "color": [0, 0, 0]}]}))
    with pytest.raises(PaletteError, match=rf"pal\.json: \"{field}\" must be"):
        load_palette(path)
