"""The command line meets closed pipes, Ctrl+C, absurd numbers, odd models and bugs (issue 16).

Each ends in an exit code a script can rely on and at most a line or two on
stderr, never a traceback.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper
from PIL import Image

from viewer import cli
from viewer.cli import main
from viewer.core.inference import registry

from tests.core.inference.onnx_graphs import save_graph, tensor
from tests.video_clips import FRAMES, numbered_frames, write_clip

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated_model_dirs(tmp_path_factory, monkeypatch):
    user = tmp_path_factory.mktemp("user-models")
    monkeypatch.setattr(registry, "user_models_dir", lambda: user)
    monkeypatch.delenv(registry.ENV_VAR, raising=False)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)


def test_info_json_into_head_ends_quietly(tmp_path):
    labels = tmp_path / "many.npy"
    np.save(labels, np.arange(100 * 100, dtype=np.int32).reshape(100, 100))  # MBs of JSON
    child = subprocess.Popen([sys.executable, "-m", "viewer", "info", "--json", str(labels)],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"{\n"  # what `| head -1` reads before it leaves
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == cli.EXIT_BROKEN_PIPE == 141
    assert err == ""


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--thickness", "100000", "argument --thickness: must be in 1..50, got 100000"),
    ("--thickness", "0", "argument --thickness: must be in 1..50, got 0"),
    ("--thickness", "-3", "argument --thickness: must be in 1..50, got -3"),
    ("--thickness", "2.5", "argument --thickness: not an integer: '2.5'"),
    ("--alpha", "nan", "argument --alpha: must be a finite number, got nan"),
    ("--alpha", "-0.1", "argument --alpha: must be in 0..1, got -0.1"),
    ("--first-number", "1" + "0" * 30, "argument --first-number: must be in"),
])
def test_render_refuses_absurd_numbers_before_any_work(tmp_path, capsys, option, value, message):
    with pytest.raises(SystemExit) as info:
        main(["render", str(tmp_path / "absent.mp4"), "--masks", str(tmp_path), "-o",
              str(tmp_path / "o.mp4"), option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("option", "value"), [("--threshold", "inf"), ("--alpha", "2")])
def test_segment_refuses_absurd_numbers(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as info:
        main(["segment", "--model", "selfie", str(tmp_path / "p.png"), "--out", str(tmp_path),
              option, value])
    assert info.value.code == 2
    assert f"argument {option}: must be" in capsys.readouterr().err


def _graph(path, output_shape, *, axes=(1, 2, 3)):
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=list(axes), keepdims=0)
    return save_graph(path, [node], [tensor("x", [1, 3, 8, 8])], [tensor("y", output_shape)])


@pytest.mark.parametrize(("shape", "axes"), [([1], (1, 2, 3)), ([], (0, 1, 2, 3)),
                                             ([1, 8], (1, 2))])
def test_describe_a_graph_whose_output_is_no_image(tmp_path, capsys, shape, axes):
    model = _graph(tmp_path / "score.onnx", shape, axes=axes)
    assert main(["models", "--describe", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"segview: error: {model}: no output can be a segmentation ('y' ")


def test_describe_a_graph_whose_input_is_no_image(tmp_path, capsys):
    model = save_graph(tmp_path / "vector.onnx", [helper.make_node("Identity", ["x"], ["y"])],
                       [tensor("x", [5])], [tensor("y", [5])])
    assert main(["models", "--describe", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert "input 'x' has shape [5]: SegView feeds one image as 4 dimensions" in err


def _bad_manifest_folder(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    doc = json.loads((registry.bundled_models_dir() / "selfie_segmentation.json").read_text())
    doc.update(id="nan-model", file="selfie_segmentation.onnx")
    text = json.dumps(doc).replace('"scale": 0.00392156862745098', '"scale": NaN')
    (folder / "nan.json").write_text(text, encoding="utf-8")
    (folder / "deep.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    return folder


def test_models_reports_a_bad_manifest_and_lists_the_rest(tmp_path, capsys):
    folder = _bad_manifest_folder(tmp_path)
    assert main(["models", "--models-dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "selfie" in out and "nan-model" not in out
    lines = sorted(err.strip().splitlines())
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith(f"segview: warning: {folder / 'deep.json'}: ")
    assert lines[1].startswith(f"segview: warning: {folder / 'nan.json'}: ")
    assert "input/scale: NaN is not a finite number" in lines[1]


def test_segment_still_runs_beside_a_bad_manifest(tmp_path, capsys):
    folder = _bad_manifest_folder(tmp_path)
    photo = tmp_path / "photo.png"
    shutil.copy(REPO / "resources" / "samples" / "astronaut.png", photo)
    assert main(["segment", "--model", "selfie", "--models-dir", str(folder), str(photo),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "nan.json" in err and "deep.json" in err and "(skipped)" in err
    assert any((tmp_path / "out").iterdir())


def _raising(exc):
    def command(argv):
        raise exc
    return command


def test_ctrl_c_exits_130_in_one_line(monkeypatch, capsys):
    monkeypatch.setitem(cli.SUBCOMMANDS, "info", _raising(KeyboardInterrupt()))
    assert main(["info", "x"]) == cli.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "segview: interrupted\n"


def test_a_bug_is_one_line_and_exit_1_with_the_traceback_on_request(monkeypatch, capsys):
    monkeypatch.setitem(cli.SUBCOMMANDS, "info", _raising(ZeroDivisionError("division by zero")))
    assert main(["info", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("segview: unexpected error: ZeroDivisionError: division by zero\n")
    assert "SEGVIEW_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(ZeroDivisionError):
        main(["info", "x"])


def test_ctrl_c_in_a_child_exits_130_without_a_traceback(tmp_path):
    # The real signal, in a real process: the handler sits at the very top.
    code = ("import signal, os, viewer.cli as c\n"
            "c.SUBCOMMANDS['info'] = lambda argv: os.kill(os.getpid(), signal.SIGINT)\n"
            "raise SystemExit(c.main(['info', 'x']))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 130
    assert done.stderr == "segview: interrupted\n"


@pytest.fixture
def cut_clip(tmp_path):
    """A Matroska clip of 48 frames cut to 60 % of its bytes, and a mask for every frame."""
    whole = write_clip(tmp_path / "whole.mkv", numbered_frames())
    clip = tmp_path / "clip.mkv"
    data = whole.read_bytes()
    clip.write_bytes(data[: len(data) * 6 // 10])
    masks = tmp_path / "masks"
    masks.mkdir()
    for i in range(FRAMES):
        Image.fromarray(np.full((48, 64), 1, np.uint8)).save(masks / f"clip_{i:04d}.png")
    return clip, masks


def test_render_of_a_cut_video_exits_2_with_the_counts(cut_clip, tmp_path, capsys):
    clip, masks = cut_clip
    out = tmp_path / "o.mp4"
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"segview: error: {clip}: holds ")
    assert f"of the {FRAMES} frames its container declares" in err
    assert err.endswith("; --allow-partial renders the frames there are")
    assert not out.exists()


def test_render_allow_partial_exits_0_with_a_warning(cut_clip, tmp_path, capsys):
    clip, masks = cut_clip
    out = tmp_path / "o.mp4"
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(out), "--quiet",
                 "--allow-partial"]) == 0
    err = capsys.readouterr().err
    (warning,) = [line for line in err.splitlines() if "warning" in line]
    assert warning.startswith("segview: warning: decoded ")
    decoded = int(warning.split()[3])
    assert 0 < decoded < FRAMES and f"decoded {decoded} of {FRAMES} declared frames" in warning
    assert f"{decoded} of {decoded} frames had a mask" in err
    assert out.is_file()


def test_segment_of_a_cut_video_exits_2_unless_allowed(cut_clip, tmp_path, capsys):
    clip, _ = cut_clip
    out = tmp_path / "out"
    assert main(["segment", "--model", "selfie", str(clip), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"of the {FRAMES} frames its container declares" in err
    assert err.endswith("; --allow-partial segments the frames there are")
    assert not out.exists() or not any(out.iterdir())
    assert main(["segment", "--model", "selfie", str(clip), "--out", str(out), "--quiet",
                 "--allow-partial"]) == 0
    err = capsys.readouterr().err
    (warning,) = [line for line in err.splitlines() if "warning" in line]
    decoded = int(warning.split()[3])
    assert f"decoded {decoded} of {FRAMES} declared frames" in warning
    assert f"{decoded} frames of clip.mkv segmented" in err
    assert len(list(out.glob("clip_*.png"))) == decoded


def test_models_warns_about_a_manifest_whose_model_is_missing(tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    doc = json.loads((registry.bundled_models_dir() / "selfie_segmentation.json").read_text())
    doc.update(id="gone", file="gone.onnx")
    (folder / "gone.json").write_text(json.dumps(doc), encoding="utf-8")
    assert main(["models", "--models-dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "gone" in out and "MISSING" in out
    assert err == (f"segview: warning: {folder / 'gone.json'}: model file not found: "
                   f"{folder / 'gone.onnx'}\n")


def test_models_warns_about_a_model_file_its_manifest_did_not_hash(tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    doc = json.loads((registry.bundled_models_dir() / "selfie_segmentation.json").read_text())
    doc.update(id="swapped", file="swapped.onnx")
    (folder / "swapped.json").write_text(json.dumps(doc), encoding="utf-8")
    (folder / "swapped.onnx").write_bytes(b"not the model")
    assert main(["models", "--models-dir", str(folder), "--json"]) == 0
    out, err = capsys.readouterr()
    (record,) = [m for m in json.loads(out)["models"] if m["id"] == "swapped"]
    assert record["present"] and not record["usable"] and "sha256 mismatch" in record["problem"]
    assert err.startswith(f"segview: warning: {folder / 'swapped.onnx'}: sha256 mismatch: ")
    assert main(["models", "--models-dir", str(folder)]) == 0
    assert "BAD SHA256" in capsys.readouterr().out
