"""segview segment on a video: one mask per frame, one metadata JSON, an overlay; headless."""

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import write_clip
from viewer import _paths
from viewer.cli import main
from viewer.core import metadata
from viewer.core.video import MaskFolder, open_video

FRAMES = 3
SIZE = (96, 72)


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    photo = np.asarray(Image.open(_paths.sample_image()).convert("RGB").resize(SIZE))
    return write_clip(tmp_path_factory.mktemp("walk") / "walk.mp4",
                      [np.roll(photo, 6 * i, axis=1) for i in range(FRAMES)])


def test_a_video_gives_masks_per_frame_metadata_and_an_overlay(walk, tmp_path, capsys):
    out, overlay = tmp_path / "masks", tmp_path / "walk_overlay.mp4"
    assert main(["segment", "--model", "selfie", str(walk), "--out", str(out),
                 "--overlay", str(overlay)]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / "walk.segview.json"), str(overlay)]
    assert "[########################] 3/3 Frame 3 of 3" in captured.err
    assert f"segview: 3 frames of walk.mp4 segmented; masks in {out} as index-png " \
           "(walk_*.png)" in captured.err
    assert sorted(p.name for p in out.iterdir()) == [
        "walk.segview.json", "walk_000000.png", "walk_000001.png", "walk_000002.png"]
    masks = MaskFolder(out, video_size=SIZE)
    doc = metadata.read(out / "walk.segview.json")
    assert [f["mask_files"] for f in doc["frames"]] == [[f"walk_{i:06d}.png"] for i in range(3)]
    assert doc["source_image"]["file_name"] == "walk.mp4"
    assert any((masks.mask_for(i).to_values() == 1).any() for i in range(FRAMES))
    with open_video(overlay) as video:
        assert (video.frame_count, video.size) == (FRAMES, SIZE)


def test_another_format_quietly(walk, tmp_path, capsys):
    out = tmp_path / "npy"
    assert main(["segment", "--model", "selfie", str(walk), "--out", str(out),
                 "--format", "label-npy", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / "walk.segview.json")]
    assert "[" not in captured.err
    assert sorted(p.suffix for p in out.iterdir()) == [".json", ".npy", ".npy", ".npy"]
    assert np.load(out / "walk_000002.npy").shape == (SIZE[1], SIZE[0])


def test_an_unreadable_video_exits_2_with_one_line(tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 10)
    code = main(["segment", "--model", "selfie", str(broken), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"segview: error: {broken}: ")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["{photo}"], "{walk}: segment one video at a time, without other inputs ({photo})"),
    (["--overlay", "{walk}"], "{walk}: the overlay would overwrite the input video"),
    (["--overlay", "{tmp}/o.avi"], "{tmp}/o.avi: cannot write a .avi video"),
])
def test_bad_video_requests_exit_2_with_one_line(walk, tmp_path, capsys, extra, message):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(photo)
    names = {"photo": photo, "walk": walk, "tmp": tmp_path}
    args = [a.format(**names) for a in extra]
    code = main(["segment", "--model", "selfie", str(walk), *args, "--out",
                 str(tmp_path / "o"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message.format(**names) in err


def test_overlay_without_a_video_is_refused(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(photo)
    code = main(["segment", "--model", "selfie", str(photo), "--out", str(tmp_path / "o"),
                 "--overlay", str(tmp_path / "o.mp4")])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"segview: error: {tmp_path / 'o.mp4'}: --overlay needs a video to segment, "
        "not photos")
    assert not (tmp_path / "o").exists()


def test_a_missing_video_exits_2(tmp_path, capsys):
    code = main(["segment", "--model", "selfie", str(tmp_path / "absent.mov"), "--out",
                 str(tmp_path / "o")])
    assert code == 2
    assert capsys.readouterr().err.strip() == \
        f"segview: error: {tmp_path / 'absent.mov'}: file not found"


def test_sidecars_on_request(walk, tmp_path, capsys):
    out = tmp_path / "with"
    assert main(["segment", "--model", "selfie", str(walk), "--out", str(out), "--sidecars",
                 "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("*.segview.json")) == [
        "walk.segview.json", *(f"walk_{i:06d}.segview.json" for i in range(FRAMES))]
    assert metadata.read(out / "walk_000001.segview.json")["mask_files"] == ["walk_000001.png"]
