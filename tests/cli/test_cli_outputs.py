"""No command writes onto a file it read, nor two outputs onto one path, nor a stranger's file.

Each test is one reproduction of issue 16: before, the file was replaced
silently with exit 0.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewer import _paths
from viewer.cli import main
from viewer.core.errors import WriteError
from viewer.core.export import export
from viewer.core.formats.registry import read_mask
from viewer.core.output_guard import guarded
from viewer.core.segmentation import Segmentation


def _voc_png(path: Path, shift: int = 0) -> Path:
    """A VOC-style palette PNG (values 0, 1, 15)."""
    values = np.zeros((30, 40), np.uint8)
    values[3:12, 4 + shift:20] = 15
    values[15:25, 22:35 - shift] = 1
    img = Image.fromarray(values, mode="P")
    img.putpalette([0, 0, 0, 128, 0, 0] + [0, 0, 0] * 13 + [192, 128, 128] + [0] * 720)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("segview: error: "), err
    return err[0]


def test_segment_into_the_photos_folder_keeps_the_photo(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    shutil.copy(_paths.sample_image(), photo)
    before = photo.read_bytes()
    assert main(["segment", "--model", "selfie", str(photo), "--out", str(tmp_path),
                 "--quiet"]) == 0
    assert photo.read_bytes() == before
    assert capsys.readouterr().out.split() == [str(tmp_path / "astronaut_mask.png"),
                                               str(tmp_path / "astronaut_mask.segview.json")]
    # Again: the earlier export is ours to replace.
    assert main(["segment", "--model", "selfie", str(photo), "--out", str(tmp_path),
                 "--quiet"]) == 0


def test_convert_nucleus_to_celantur_beside_it_keeps_the_json(tmp_path, capsys):
    assert main(["convert", str(_voc_png(tmp_path / "src" / "2011_000003.png")), "--to",
                 "nucleus", "--out", str(tmp_path / "x")]) == 0
    source = tmp_path / "x" / "2011_000003.json"
    before = {p.name: p.read_bytes() for p in source.parent.iterdir()}
    assert main(["convert", str(source), "--to", "celantur-instance", "--out",
                 str(source.parent)]) == 0
    after = {p.name: p.read_bytes() for p in source.parent.iterdir()}
    assert {k: after[k] for k in before} == before
    assert "2011_000003_mask_ins_maks.png" in after


def test_convert_a_png_into_its_own_folder_keeps_it(tmp_path, monkeypatch, capsys):
    source = _voc_png(tmp_path / "voc.png")
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "voc.png", "--to", "nucleus", "--out", "."]) == 0
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "voc.png", "voc_mask.json", "voc_mask.png", "voc_mask.segview.json"]


def test_two_inputs_with_one_stem_exit_2_naming_both(tmp_path, capsys):
    a = _voc_png(tmp_path / "a" / "m.png")
    b = _voc_png(tmp_path / "b" / "m.png", shift=3)
    out = tmp_path / "out"
    assert main(["convert", str(a), str(b), "--to", "index-png", "--out", str(out)]) == 2
    line = _error_line(capsys)
    assert str(a) in line and str(b) in line and str(out / "m.png") in line
    assert np.array_equal(read_mask(out / "m.png").labels, read_mask(a).labels)


def test_a_file_of_someone_else_is_not_replaced_without_overwrite(tmp_path, capsys):
    source = _voc_png(tmp_path / "in" / "m.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.png").write_bytes(b"someone's photo")
    assert main(["convert", str(source), "--to", "index-png", "--out", str(out)]) == 2
    assert "--overwrite" in _error_line(capsys) and (out / "m.png").read_bytes() == \
        b"someone's photo"
    assert sorted(p.name for p in out.iterdir()) == ["m.png"]
    assert main(["convert", str(source), "--to", "index-png", "--out", str(out),
                 "--overwrite"]) == 0


def test_a_sidecar_of_another_mask_is_not_replaced(tmp_path, capsys):
    source, out = _voc_png(tmp_path / "in" / "m.png"), tmp_path / "out"
    assert main(["convert", str(source), "--to", "label-npy", "--out", str(out)]) == 0
    sidecar = (out / "m.segview.json").read_bytes()  # describes m.npy
    capsys.readouterr()
    assert main(["convert", str(source), "--to", "index-png", "--out", str(out)]) == 2
    line = _error_line(capsys)
    assert str(out / "m.segview.json") in line and "metadata of other files" in line
    assert (out / "m.segview.json").read_bytes() == sidecar
    assert sorted(p.name for p in out.iterdir()) == ["m.npy", "m.segview.json"]  # all old
    assert main(["convert", str(source), "--to", "index-png", "--out", str(out),
                 "--overwrite"]) == 0


def test_an_input_is_never_written_even_with_overwrite(tmp_path):
    photo = tmp_path / "photo.png"
    shutil.copy(_paths.sample_image(), photo)
    before = photo.read_bytes()
    seg = Segmentation.from_values(np.zeros((512, 512), np.int32))
    with guarded([photo], overwrite=True), pytest.raises(WriteError, match="input"):
        export(seg, "index-png", tmp_path, "photo")
    assert photo.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_an_input_reached_through_another_name_is_refused(tmp_path):
    photo = tmp_path / "photo.png"
    shutil.copy(_paths.sample_image(), photo)
    os.link(photo, tmp_path / "alias.png")
    seg = Segmentation.from_values(np.zeros((512, 512), np.int32))
    with guarded([photo], overwrite=True), pytest.raises(WriteError, match="photo.png"):
        export(seg, "index-png", tmp_path, "alias")


def test_render_on_a_full_disk_exits_2_with_one_line_and_leaves_nothing(tmp_path, capsys,
                                                                       monkeypatch):
    import errno

    from tests.video_clips import FRAMES, numbered_frames, square_labels, write_clip
    from viewer.core import fileio

    clip = write_clip(tmp_path / "clip.mp4", numbered_frames())
    masks = tmp_path / "masks"
    masks.mkdir()
    for i in range(FRAMES):
        Image.fromarray(square_labels(i)).save(masks / f"frame_{i:04d}.png")
    real = fileio._open_handle

    class Full:
        def __init__(self, handle):
            self.handle, self.written = handle, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 2000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    monkeypatch.setattr(fileio, "_open_handle", lambda *a: Full(real(*a)))
    out = tmp_path / "out"
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(out / "o.mp4"),
                 "--quiet"]) == 2
    line = _error_line(capsys)
    assert str(out / "o.mp4") in line and "No space left on device" in line
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["convert", "{mask}", "--to", "index-png", "--out", "{tmp}/o\0ut"],
    ["render", "{tmp}/clip.mp4", "--masks", "{tmp}", "-o", "{tmp}/o\0ut.mp4"],
    ["segment", "--model", "selfie", "{mask}", "--out", "{tmp}/" + "o" * 300],
    ["compare", "{mask}", "{mask}", "--report", "{tmp}/r\0"],
])
def test_an_output_path_no_file_system_takes_is_refused_before_any_work(command, tmp_path, capsys):
    from viewer import _paths
    from viewer.cli import main

    mask = str(_paths.resources_dir() / "samples" / "astronaut_mask.png")
    argv = [part.format(mask=mask, tmp=tmp_path) for part in command]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "NUL byte" in err or "bytes long" in err
    assert list(tmp_path.iterdir()) == []


def test_an_export_in_another_format_does_not_replace_an_earlier_exports_file(tmp_path, capsys):
    # Celantur writes m_ins_maks.png + m.json, labelme m.json: the second must not take
    # the first's JSON, while a rerun of the first replaces its own files.
    import numpy as np
    from PIL import Image

    from viewer.cli import main

    labels = np.zeros((16, 16), np.uint8)
    labels[4:12, 4:12] = 15
    Image.fromarray(labels).save(tmp_path / "m.png")
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "m.png"), "--to", "celantur-instance", "--out",
                 str(out)]) == 0
    celantur_json = (out / "m.json").read_bytes()
    assert main(["convert", str(tmp_path / "m.png"), "--to", "celantur-instance", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    assert main(["convert", str(tmp_path / "m.png"), "--to", "labelme", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "m.json" in err[0] and "--overwrite" in err[0]
    assert (out / "m.json").read_bytes() == celantur_json
    assert main(["convert", str(tmp_path / "m.png"), "--to", "labelme", "--out", str(out),
                 "--overwrite"]) == 0
    assert (out / "m.json").read_bytes() != celantur_json
