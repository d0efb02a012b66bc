import json
import os

import numpy as np
import pytest
from PIL import Image

from viewer import _paths
from viewer.core.errors import ReadError, SettingsError, ViewerError, WriteError
from viewer.core.fileio import atomic_open, atomic_write_text
from viewer.core.images import read_image
from viewer.core.settings import Settings, load_settings, save_settings, settings_path


def test_settings_defaults_save_and_load(tmp_path):
    assert load_settings(tmp_path / "none.json") == Settings()
    changed = Settings().replace(overlay_alpha=0.8, palette="okabe_ito", render_mode="outline")
    path = save_settings(changed, tmp_path / "s.json")
    assert load_settings(path) == changed
    assert json.loads(path.read_text())["schema_version"] == 1


def test_settings_live_in_the_config_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGVIEW_CONFIG_DIR", str(tmp_path))
    save_settings(Settings().replace(theme="dark"))
    assert settings_path() == tmp_path / "settings.json"
    assert load_settings().theme == "dark"


def test_bad_settings_name_the_file_and_the_problem(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"overlay_alpha": 0.5, "colour": "red"}')
    with pytest.raises(SettingsError, match=r"settings\.json: unknown setting\(s\): colour"):
        load_settings(path)
    path.write_text('{\n  "overlay_alpha": ,\n}')
    with pytest.raises(SettingsError, match="JSON syntax error at line 2, column 20"):
        load_settings(path)
    path.write_text('{"overlay_alpha": 3}')
    with pytest.raises(SettingsError, match=r"settings\.json: setting 'overlay_alpha' must be in 0.0..1.0"):
        load_settings(path)
    path.write_text('{"theme": "pink"}')
    with pytest.raises(SettingsError, match="must be one of system, light, dark"):
        load_settings(path)
    path.write_text('{"schema_version": 99}')
    with pytest.raises(SettingsError, match="version 99 is not supported"):
        load_settings(path)
    with pytest.raises(SettingsError, match="must be int"):
        Settings(outline_thickness=True)


def test_errors_name_the_file():
    error = ReadError("truncated", "/data/x.png")
    assert str(error) == "/data/x.png: truncated"
    assert isinstance(error, ViewerError)
    assert str(ViewerError("no file involved")) == "no file involved"


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "old")
    with pytest.raises(RuntimeError), atomic_open(path, "w") as handle:
        handle.write("half")
        raise RuntimeError("crash while writing")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temporary left behind


def test_atomic_write_reports_unwritable_places(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WriteError, match="cannot write"):
        atomic_write_text(blocker / "sub" / "out.txt", "x")


def test_read_image_sample_and_bad_files(tmp_path):
    image = read_image(_paths.sample_image())
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    with pytest.raises(ReadError, match="file not found"):
        read_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not a PNG")
    with pytest.raises(ReadError, match=r"junk\.png: not an image"):
        read_image(junk)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(_paths.sample_image().read_bytes()[:5000])
    with pytest.raises(ReadError, match=r"truncated\.png: cannot decode"):
        read_image(truncated)


def test_read_image_converts_grey_and_16_bit(tmp_path):
    Image.fromarray(np.array([[0, 1000]], np.uint16)).save(tmp_path / "g16.png")
    assert read_image(tmp_path / "g16.png").tolist() == [[[0, 0, 0], [255, 255, 255]]]
    Image.fromarray(np.array([[7]], np.uint8)).save(tmp_path / "g8.png")
    assert read_image(tmp_path / "g8.png").tolist() == [[[7, 7, 7]]]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_gives_plain_file_permissions(tmp_path):
    # A new file gets what open() would give (not mkstemp's private 0600);
    # a replaced file keeps its own permissions.
    umask = os.umask(0o022)
    os.umask(umask)
    new = tmp_path / "new.png"
    atomic_write_text(new, "x")
    assert new.stat().st_mode & 0o777 == 0o666 & ~umask
    kept = tmp_path / "kept.png"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "new"
