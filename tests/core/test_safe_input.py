"""The hardened loaders: every bad input is a ReadError naming the file, never a hang or a crash.

Each case goes through the public API and through ``segview`` (exit 2, one line on
stderr naming the file).
"""

import json
import os
import struct
import sys
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from viewer.cli import main
from viewer.core import safe_input
from viewer.core.errors import ReadError, SettingsError
from viewer.core.formats import common
from viewer.core.images import read_image
from viewer.core.settings import load_settings

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def cli_error(capsys, argv, name):
    """Run segview; assert exit 2 and one stderr line naming ``name``; return the line."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("segview: error: ") and name in err[0], err
    return err[0]


# -- JSON -------------------------------------------------------------------------------
def test_deep_json_is_refused_before_parsing(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ReadError, match=r"deep\.json: JSON nested .* more than the 64"):
        common.load_json(path)
    line = cli_error(capsys, ["info", "--format", "coco-rle", str(path)], "deep.json")
    assert "nested" in line
    line = cli_error(capsys, ["info", str(path)], "deep.json")


def test_deep_settings_file_is_a_settings_error(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"theme": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(SettingsError, match=r"settings\.json: JSON nested"):
        load_settings(path)


def test_nesting_up_to_the_limit_is_read():
    limit = safe_input.MAX_JSON_DEPTH
    assert safe_input.parse_json("[" * limit + "]" * limit, "x.json") == \
        json.loads("[" * limit + "]" * limit)
    with pytest.raises(ReadError, match="nested"):
        safe_input.parse_json("[" * (limit + 1) + "]" * (limit + 1), "x.json")


def test_brackets_and_digits_inside_strings_are_not_counted():
    text = json.dumps({"name": "[{" * 500 + '\\"' + "]" * 9, "id": "7" * 5000, "n": [1, 2.5]})
    assert safe_input.parse_json(text, "ok.json")["n"] == [1, 2.5]


def test_long_numbers_nan_and_infinity_are_refused(tmp_path, capsys):
    path = tmp_path / "num.json"
    path.write_text('{"annotations": [], "id": ' + "1" * 5000 + "}")
    with pytest.raises(ReadError, match=r"num\.json: JSON holds a number of more than 100 digits"):
        common.load_json(path)
    cli_error(capsys, ["info", "--format", "coco-rle", str(path)], "num.json")
    for literal in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ReadError, match=f"m.json: JSON holds {literal}"):
            safe_input.parse_json(f'{{"scale": {literal}}}', "m.json")
    with pytest.raises(ReadError, match="too large to be a finite number"):
        safe_input.parse_json('{"scale": 1e999}', "m.json")
    assert safe_input.parse_json('{"scale": 1e-300}', "m.json") == {"scale": 1e-300}


def test_parse_json_names_its_source_and_the_position():
    with pytest.raises(ReadError, match=r"session\.zip/meta\.json: JSON syntax error at line 2"):
        safe_input.parse_json(b'{\n "a": }', "session.zip/meta.json")
    with pytest.raises(ReadError, match="not UTF-8"):
        safe_input.parse_json(b"\xff\xfe{}", "x.json")


def test_json_size_limit(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("[" + "0," * 100 + "0]")
    with pytest.raises(ReadError, match=r"big\.json: is 203 bytes, more than the 100"):
        safe_input.load_json(path, max_bytes=100)


def test_a_folder_named_json_is_refused(tmp_path):
    (tmp_path / "d.json").mkdir()
    with pytest.raises(ReadError, match=r"d\.json: is a folder"):
        common.load_json(tmp_path / "d.json")


# -- special files and bad names --------------------------------------------------------
@needs_fifo
def test_fifos_are_refused_without_blocking(tmp_path, capsys):
    for name in ("x.json", "x.png", "x.npy"):
        os.mkfifo(tmp_path / name)
        line = cli_error(capsys, ["info", str(tmp_path / name)], name)
        assert "FIFO" in line
    with pytest.raises(ReadError, match="FIFO"):
        common.load_json(tmp_path / "x.json")
    with pytest.raises(ReadError, match="FIFO"):
        common.open_raster(tmp_path / "x.png")
    with pytest.raises(ReadError, match="FIFO"):
        common.load_npy(tmp_path / "x.npy")
    with pytest.raises(ReadError, match="FIFO"):
        read_image(tmp_path / "x.png")


@needs_fifo
def test_a_fifo_beside_an_rgb_png_does_not_block_the_panoptic_sniffer(tmp_path, capsys):
    folder = tmp_path / "masks"
    folder.mkdir()
    Image.new("RGB", (8, 8), (3, 0, 0)).save(folder / "rgb.png")
    os.mkfifo(folder / "a.json")
    os.mkfifo(tmp_path / "b.json")
    cli_error(capsys, ["info", str(folder / "rgb.png")], "rgb.png")  # no format; but no hang
    (folder / "masks.json").write_text(json.dumps({"annotations": [
        {"file_name": "rgb.png", "image_id": 1, "segments_info": [{"id": 3, "category_id": 1}]}]}))
    assert main(["info", str(folder / "rgb.png")]) == 0
    assert "coco-panoptic" in capsys.readouterr().out


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused():
    with pytest.raises(ReadError, match="/dev/zero: is a character device"):
        common.load_json("/dev/zero")


def test_nul_bytes_and_long_names_in_arguments(tmp_path, capsys):
    line = cli_error(capsys, ["info", str(tmp_path / "a\0b.png")], "a\\0b.png")
    assert "NUL byte" in line
    long_name = "a" * 5000 + ".png"
    line = cli_error(capsys, ["info", long_name], "aaaa")
    assert "5,004 bytes long" in line and len(line) < 300
    with pytest.raises(ReadError, match="NUL byte"):
        read_image("x\0.png")
    with pytest.raises(ReadError, match="more than the 255"):
        common.load_json(tmp_path / ("b" * 300 + ".json"))


@pytest.mark.parametrize("ref, problem", [("m\0.png", "NUL byte"),
                                          ("x" * 5000 + ".png", "5,004 bytes long")])
def test_bad_names_inside_json_name_the_json(tmp_path, capsys, ref, problem):
    Image.new("L", (8, 8)).save(tmp_path / "m.png")
    path = tmp_path / "nucleus.json"
    path.write_text(json.dumps({"annotations": [], "mask_url": ref}))
    with pytest.raises(ReadError, match=f"nucleus.json: refers to .*{problem}"):
        common.resolve_reference(ref, tmp_path, path)
    line = cli_error(capsys, ["info", str(path)], "nucleus.json")
    assert problem in line


# -- rasters ----------------------------------------------------------------------------
def _png_declaring(path, width, height, mode_bytes=(1, 0)):
    """A PNG whose header declares ``width`` x ``height`` but holds (almost) no pixel data."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    ihdr = struct.pack(">IIBBBBB", width, height, mode_bytes[0], mode_bytes[1], 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))
    return path


def test_our_pixel_limit_decides_not_pillows(tmp_path, capsys):
    # 15000 x 12000 = 180 Mpx: above Pillow's bomb threshold (~179 Mpx), below ours.
    above_pillow = _png_declaring(tmp_path / "wide.png", 15_000, 12_000)
    assert 15_000 * 12_000 < safe_input.MAX_PIXELS
    assert safe_input.image_size(above_pillow) == (15_000, 12_000)  # no DecompressionBomb*
    with safe_input.open_image(above_pillow) as img:
        assert img.size == (15_000, 12_000)
    # Above ours: refused from the header, before any decoding.
    huge = _png_declaring(tmp_path / "huge.png", 20_000, 20_000)
    with pytest.raises(ReadError, match=r"huge\.png: 20000x20000 = 400,000,000 pixels is more"):
        common.open_raster(huge)
    with pytest.raises(ReadError, match=r"huge\.png: 20000x20000"):
        read_image(huge)
    cli_error(capsys, ["info", str(huge)], "huge.png")


def test_the_pixel_limit_is_one_constant(tmp_path, monkeypatch):
    path = tmp_path / "p.png"
    Image.new("RGB", (40, 30)).save(path)
    monkeypatch.setattr(safe_input, "MAX_PIXELS", 1000)
    with pytest.raises(ReadError, match="1,200 pixels is more than the 1,000"):
        read_image(path)
    with pytest.raises(ReadError, match="1,200 pixels is more than the 1,000"):
        common.open_raster(path)


def test_truncated_and_fake_images(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not a png at all")
    with pytest.raises(ReadError, match=r"fake\.png: not an image file"):
        common.open_raster(fake)
    short = _png_declaring(tmp_path / "short.png", 64, 64, (8, 0))
    with pytest.raises(ReadError, match=r"short\.png: cannot decode image"):
        common.open_raster(short)


# -- numpy ------------------------------------------------------------------------------
def _npy_header(shape, descr="|u1"):
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def test_npy_negative_and_oversized_shapes(tmp_path, capsys):
    negative = tmp_path / "neg.npy"
    negative.write_bytes(_npy_header((-2, 2)) + b"\0" * 4)
    with pytest.raises(ReadError, match=r"neg\.npy: array shape \(-2, 2\) has a negative"):
        common.load_npy(negative)
    cli_error(capsys, ["info", str(negative)], "neg.npy")
    # Every dimension counts: (66000, 66000, 1) is 4.4 G values whatever the last axis.
    cube = tmp_path / "cube.npy"
    cube.write_bytes(_npy_header((66_000, 66_000, 1)))
    with pytest.raises(ReadError, match=r"cube\.npy: array of shape \(66000, 66000, 1\) holds "
                                        r"4,356,000,000 values"):
        common.load_npy(cube)
    cli_error(capsys, ["info", "--format", "label-npy", str(cube)], "cube.npy")
    wide = tmp_path / "wide.npy"
    wide.write_bytes(_npy_header((15_000, 15_000), "<i8"))
    with pytest.raises(ReadError, match="bytes, more than the"):
        common.load_npy(wide)


def test_empty_arrays_are_refused_on_convert(tmp_path, capsys):
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((0, 0), np.uint8))
    line = cli_error(capsys, ["convert", str(path), "--to", "index-png", "--out",
                              str(tmp_path / "out")], "empty.npy")
    assert "empty" in line


def test_npz_bomb_is_refused_before_inflating(tmp_path, capsys):
    # The member's header says 20000 x 20000 int64 (3.2 GB); the archive is tiny. The
    # refusal must come from the header, before the data would be inflated.
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("labels.npy", "w", force_zip64=True) as member:
            member.write(_npy_header((20_000, 20_000), "<i8"))
            member.write(b"\0" * (1 << 20))
    assert path.stat().st_size < 100_000
    with pytest.raises(ReadError, match=r"bomb\.npz: array of shape \(20000, 20000\)"):
        common.load_npy(path)
    cli_error(capsys, ["info", str(path)], "bomb.npz")


def test_npz_member_shorter_than_its_header(tmp_path):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("labels.npy", _npy_header((100, 100)) + b"\0" * 10)
    with pytest.raises(ReadError, match=r"short\.npz: not a valid numpy file: truncated"):
        common.load_npy(path)


def test_broken_and_pickled_npz(tmp_path, capsys):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04garbage" * 10)
    with pytest.raises(ReadError, match=r"broken\.npz: not a valid \.npz archive"):
        common.load_npy(broken)
    cli_error(capsys, ["info", "--format", "label-npy", str(broken)], "broken.npz")
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, labels=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ReadError, match="pickle"):
        common.load_npy(pickled)


def test_good_npy_and_npz_still_load(tmp_path):
    values = np.arange(12, dtype=np.uint16).reshape(3, 4)
    np.save(tmp_path / "a.npy", values)
    np.save(tmp_path / "f.npy", np.asfortranarray(values))
    np.savez_compressed(tmp_path / "a.npz", labels=values, other=values * 2)
    assert np.array_equal(common.load_npy(tmp_path / "a.npy"), values)
    assert np.array_equal(common.load_npy(tmp_path / "f.npy"), values)
    assert np.array_equal(common.load_npy(tmp_path / "a.npz"), values)
    assert np.array_equal(common.load_npy(tmp_path / "a.npz", key="other"), values * 2)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_unreadable_file_is_a_read_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "locked.json"
    path.write_text("{}")
    path.chmod(0)
    with pytest.raises(ReadError, match=r"locked\.json: cannot read"):
        common.load_json(path)


def test_a_caller_that_checks_numbers_itself_sees_them():
    # Manifests name the bad field themselves; the loader still bounds what Python can parse.
    data = safe_input.parse_json('{"scale": NaN, "n": ' + "9" * 400 + "}", "m.json",
                                 finite_only=False)
    assert data["scale"] != data["scale"] and data["n"] == int("9" * 400)
    with pytest.raises(ReadError, match="more than 4000 digits"):
        safe_input.parse_json('{"n": ' + "9" * 5000 + "}", "m.json", finite_only=False)
