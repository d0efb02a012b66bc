"""Live streams for demo mode: a file read through the same path a camera takes."""

import numpy as np
import pytest

from tests.video_clips import FRAMES, SIZE, frame_number
from viewer.core.errors import ReadError, ViewerError
from viewer.core.video.base import FALLBACK_FPS
from viewer.core.video.camera import (
    LiveStream,
    _to_rgb,
    _without_password,
    open_stream,
    parse_source,
)


def test_a_clip_file_streams_every_frame_in_order(clip):
    with open_stream(clip) as stream:
        assert isinstance(stream, LiveStream)
        assert stream.size == SIZE and stream.fps == pytest.approx(25)
        assert stream.name == clip.name
        numbers = []
        while (frame := stream.read()) is not None:
            assert frame.shape == (SIZE[1], SIZE[0], 3) and frame.dtype == np.uint8
            numbers.append(frame_number(frame))
        assert numbers == list(range(FRAMES))
        assert stream.read() is None
    assert stream.read() is None   # closed: still None, no error
    stream.close()


def test_frames_are_rgb(clip):
    with open_stream(str(clip)) as stream:
        frame = stream.read()
    # The clip's grey levels are neutral, so check the conversion on a coloured pixel.
    bgr = np.zeros((1, 1, 3), np.uint8)
    bgr[0, 0] = (255, 0, 0)
    assert _to_rgb(bgr)[0, 0].tolist() == [0, 0, 255]
    assert _to_rgb(np.full((2, 2), 7, np.uint8)).shape == (2, 2, 3)
    assert frame_number(frame) == 0


def test_a_missing_camera_says_which_and_why():
    with pytest.raises(ReadError, match="no camera at index 99: cv2.VideoCapture could not "
                                        "open it") as info:
        open_stream(99)
    assert info.value.path is None


def test_a_stream_that_cannot_be_opened_names_the_url_without_its_password():
    with pytest.raises(ReadError, match=r"cannot open the stream rtsp://me:\*\*\*@127.0.0.1:1/x") \
            as info:
        open_stream("rtsp://me:secret@127.0.0.1:1/x")
    assert "secret" not in str(info.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ReadError, match="file not found") as info:
        open_stream(tmp_path / "gone.mp4")
    assert info.value.path == tmp_path / "gone.mp4"
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ReadError, match="cannot be opened as a video"):
        open_stream(str(tmp_path / "notes.mp4"))


class SilentCapture:
    """A capture that states neither size nor rate, as some webcams and streams do."""

    def __init__(self, frames):
        self.frames = list(frames)
        self.released = False

    def get(self, prop):
        return 0.0

    def read(self):
        return (True, self.frames.pop(0)) if self.frames else (False, None)

    def release(self):
        self.released = True


def test_unstated_size_and_rate_come_from_the_first_frame_and_the_fallback():
    bgr = [np.full((6, 8, 3), i, np.uint8) for i in range(3)]
    capture = SilentCapture(bgr)
    stream = LiveStream(capture, "camera 0")
    assert stream.size == (8, 6) and stream.fps == FALLBACK_FPS
    assert [int(stream.read()[0, 0, 0]) for _ in range(3)] == [0, 1, 2]  # the first is kept
    assert stream.read() is None
    stream.close()
    assert capture.released


@pytest.mark.parametrize(("text", "source"), [
    ("0", 0), (" 1 \n", 1), ("12", 12),
    ("rtsp://cam.local:554/stream", "rtsp://cam.local:554/stream"),
    ("http://10.0.0.2/video.mjpg", "http://10.0.0.2/video.mjpg"),
    ("clips/walk.mp4", "clips/walk.mp4"), ("./0", "./0"), ("-1", "-1"),
])
def test_parse_source(text, source):
    assert parse_source(text) == source
    assert type(parse_source(text)) is type(source)


def test_parse_source_rejects_blank_text():
    with pytest.raises(ViewerError, match="no source given"):
        parse_source("  ")


@pytest.mark.parametrize(("url", "shown"), [
    ("rtsp://u:p@h:554/s", "rtsp://u:***@h:554/s"),
    ("rtsp://h/s", "rtsp://h/s"),
    ("http://u@h/s", "http://u@h/s"),
])
def test_passwords_are_hidden(url, shown):
    assert _without_password(url) == shown


def test_a_superscript_digit_is_a_file_name_not_a_camera_number():
    from viewer.core.video.camera import parse_source

    assert parse_source("²") == "²"
    assert parse_source("2") == 2
