"""Scrubbing targets: a frame far past a keyframe is shown as the keyframe while dragging."""

from tests.video_clips import numbered_frames, write_clip
from viewer.core.video import open_video
from viewer.core.video.pyav_reader import SCRUB_SPAN


def test_far_frames_scrub_to_their_keyframe_near_ones_to_themselves(tmp_path):
    path = write_clip(tmp_path / "long_gop.mp4", numbered_frames(48), gop=40)
    with open_video(path) as video:
        assert video.scrub_target(0) == 0
        assert video.scrub_target(SCRUB_SPAN) == SCRUB_SPAN  # close to keyframe 0
        assert video.scrub_target(30) == 0  # 30 frames to decode: the keyframe instead
        assert video.scrub_target(47) == 47  # 7 past keyframe 40
        video.frame(28)
        assert video.scrub_target(30) == 30  # the decoder is two frames away now
        assert video.scrub_target(28) == 28  # cached


def test_the_opencv_reader_always_shows_the_frame_asked_for(tmp_path):
    path = write_clip(tmp_path / "clip.mp4", numbered_frames(30), gop=60)
    with open_video(path, backend="opencv") as video:
        assert video.scrub_target(25) == 25
