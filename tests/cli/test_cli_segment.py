"""segview segment / segview models, called through their main functions, without Qt."""

import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from viewer import _paths
from viewer.cli_segment import ProgressBar, models_main, segment_main
from viewer.core.formats.registry import FORMATS, read_mask
from viewer.core.inference import registry
from viewer.core.tasks import Progress

SELFIE = _paths.models_dir() / "selfie_segmentation.onnx"
READ_ONLY = next(f.name for f in FORMATS if f.write is None)


@pytest.fixture(autouse=True)
def _isolated_model_dirs(tmp_path_factory, monkeypatch):
    user = tmp_path_factory.mktemp("user-models")
    monkeypatch.setattr(registry, "user_models_dir", lambda: user)
    monkeypatch.delenv(registry.ENV_VAR, raising=False)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "in" / "astronaut.jpg"
    path.parent.mkdir()
    Image.open(_paths.sample_image()).save(path, quality=92)
    return path


def test_segment_writes_a_mask_and_its_metadata(tmp_path, photo, capsys):
    out = tmp_path / "out"
    assert segment_main(["--model", "selfie", str(photo), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / "astronaut.png"), str(out / "astronaut.segview.json")]
    assert "Segmenting astronaut.jpg" in captured.err
    assert "[########################] 1/1" in captured.err
    seg = read_mask(out / "astronaut.png")
    assert seg.shape == (512, 512)
    assert {s.label for s in seg.table} == {"background", "person"}
    sample = read_mask(_paths.sample_mask()).to_values() == 15
    person = seg.to_values() == 1
    assert np.count_nonzero(person & sample) / np.count_nonzero(person | sample) > 0.85
    doc = json.loads((out / "astronaut.segview.json").read_text())
    assert doc["format"] == "index-png" and doc["source_image"]["file_name"] == "astronaut.jpg"
    assert doc["provenance"]["details"]["model"]["id"] == "selfie"
    assert doc["palette"]["id"] == "model:selfie"


def test_segment_a_folder_in_another_format(tmp_path, photo, capsys):
    Image.open(photo).resize((64, 48)).save(photo.parent / "small.png")
    (photo.parent / "notes.txt").write_text("not a photo")
    out = tmp_path / "out"
    assert segment_main(["--model", str(SELFIE), str(photo.parent), "--out", str(out),
                         "--format", "label-npy", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "astronaut.npy", "astronaut.segview.json", "small.npy", "small.segview.json"]
    assert np.load(out / "small.npy").shape == (48, 64)


def test_a_bad_photo_is_one_line_and_the_others_are_written(tmp_path, photo, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "out"
    code = segment_main(["--model", "selfie", str(broken), str(tmp_path / "absent.jpg"),
                         str(photo), "--out", str(out), "--quiet"])
    assert code == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"segview: error: {broken}: ")
    assert errors[1] == f"segview: error: {tmp_path / 'absent.jpg'}: file not found"
    assert (out / "astronaut.png").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "nope"], "segview: error: no model 'nope'; known models: selfie"),
    (["--model", "selfie", "--format", "nope"], "unknown format 'nope'"),
    (["--model", "selfie", "--format", READ_ONLY], "read-only"),
    (["--model", "missing.onnx"], "missing.onnx: model file not found"),
    (["--model", "selfie", "--provider", "nosuch"],
     "execution provider 'nosuch' is not available here; available: "),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, photo, capsys, args, message):
    code = segment_main([*args, str(photo), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_a_broken_model_file_exits_2(tmp_path, photo, capsys):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(_paths.models_dir() / "selfie_segmentation.json", models / "broken.json")
    doc = json.loads((models / "broken.json").read_text())
    doc.update(id="broken", file="broken.onnx")
    (models / "broken.json").write_text(json.dumps(doc))
    (models / "broken.onnx").write_bytes(b"garbage" * 100)
    code = segment_main(["--model", "broken", "--models-dir", str(models), str(photo),
                         "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "broken.onnx: sha256 mismatch" in err and "Traceback" not in err


def test_photos_with_the_same_name_are_refused(tmp_path, photo, capsys):
    twin = tmp_path / "astronaut.png"
    Image.open(photo).save(twin)
    code = segment_main(["--model", "selfie", str(photo), str(twin), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "would write the same mask name 'astronaut'" in capsys.readouterr().err


def test_models_lists_the_bundled_model(capsys):
    assert models_main([]) == 0
    out = capsys.readouterr().out
    assert "selfie" in out and "256x256" in out and "CPUExecutionProvider" in out
    assert models_main(["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (selfie,) = doc["models"]
    assert selfie["id"] == "selfie" and selfie["present"] and selfie["classes"] == [
        "background", "person"]
    assert doc["providers"][-1] == "CPUExecutionProvider"
    assert str(_paths.models_dir()) in doc["folders"]


def test_models_reports_broken_manifests(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"schema": "segview-model"}')
    assert models_main(["--models-dir", str(tmp_path)]) == 0
    assert f"segview: warning: {tmp_path / 'bad.json'}: not a valid model manifest" in (
        capsys.readouterr().err)


def test_models_describe_prints_a_prefilled_manifest(tmp_path, capsys):
    assert models_main(["--describe", str(SELFIE)]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["schema"] == "segview-model" and doc["input"]["size"] == [256, 256]
    assert doc["outputs"][0]["name"] == "output" and doc["outputs"][0]["kind"] == "sigmoid"
    assert "note:" in captured.err
    assert models_main(["--describe", str(SELFIE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"][0]["shape"] == [1, 3, 256, 256]
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\0" * 10)
    assert models_main(["--describe", str(bad)]) == 2
    assert "cannot load this model" in capsys.readouterr().err


def test_progress_bar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = ProgressBar(stream)
    bar.update(Progress(1, 4, "one"))
    bar.message("segview: error: x")
    bar.update(Progress(4, 4, "Done"))
    bar.finish()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("Done\n")
    assert "[######..................] 1/4 one" in text


def test_segment_does_not_import_qt(tmp_path, photo):
    code = ("import sys\nfrom viewer.cli_segment import segment_main\n"
            f"rc = segment_main(['--model', 'selfie', {str(photo)!r}, '--out', "
            f"{str(tmp_path / 'o')!r}, '--quiet'])\n"
            "sys.exit(rc or (3 if 'PySide6' in sys.modules else 0))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

