"""Autosave and restore of a video's frame edits and whole-video relabels."""

import numpy as np

from viewer.core.edit import recovery
from viewer.core.segmentation import Segmentation
from viewer.core.video.frame_store import ClassRule, FrameStore
from viewer.core.video.recovery import (
    VideoAutosaver,
    discard_video,
    list_video_sessions,
    restore_video,
)


class Source:
    def frames(self):
        return list(range(6))

    def mask_for(self, i):
        values = np.zeros((6, 9), np.uint8)
        values[1:4, i:i + 3] = 1
        return Segmentation.from_values(values, names={0: "background", 1: "car"})

    def summary(self):
        return []

    def close(self):
        pass


def _edited_store():
    store = FrameStore(Source(), frame_count=6)
    for i in (1, 4):
        seg = store.mask_for(i)
        seg.labels[0, :] = 1
        store.keep_edit(i, seg)
    store.add_rule(ClassRule(1, 5, "truck"))
    return store


def test_autosave_then_restore_gives_the_edited_frames_and_rules(tmp_path):
    store = _edited_store()
    saver = VideoAutosaver(store, tmp_path / "clip.mp4", tmp_path / "masks", directory=tmp_path)
    folder = saver.maybe_save()
    assert folder is not None and saver.maybe_save() is None  # nothing new since
    # Sessions of this process are not offered (it is still running) unless asked.
    assert list_video_sessions(tmp_path) == []
    [session] = list_video_sessions(tmp_path, include_own=True)
    assert session.source == str(tmp_path / "clip.mp4")
    assert session.masks == str(tmp_path / "masks") and session.frames == [1, 4]
    assert session.rules == [ClassRule(1, 5, "truck")]
    frames = restore_video(session)
    for i in (1, 4):
        assert np.array_equal(frames[i].labels, store.mask_for(i).labels)
        labels = {s.label for s in frames[i].table}
        assert "truck" in labels and "car" not in labels
    # A video session never shows up as an image session, nor the other way round.
    assert recovery.list_sessions(tmp_path, include_own=True) == []
    # The saver's window still runs: its session is never deleted by another.
    assert not discard_video(session) and folder.exists()
    saver.close()  # the window went away with the work unexported
    assert discard_video(session)
    assert not folder.exists()


def test_a_frame_no_longer_edited_leaves_the_autosave(tmp_path):
    store = _edited_store()
    saver = VideoAutosaver(store, "clip.mp4", directory=tmp_path)
    saver.save()
    assert store.revert(4) and not store.revert(4)
    saver.maybe_save()
    assert sorted(p.name for p in saver.folder.glob("frame_*")) == ["frame_000001.npz"]


def test_an_exported_store_drops_its_autosave(tmp_path):
    store = _edited_store()
    saver = VideoAutosaver(store, "clip.mp4", directory=tmp_path)
    saver.save()
    store.mark_saved()
    assert saver.maybe_save() is None and not saver.folder.exists()


def test_damaged_folders_are_skipped(tmp_path):
    (tmp_path / "video-broken").mkdir()
    (tmp_path / "video-broken" / "video.json").write_text("{not json")
    (tmp_path / "video-other").mkdir()
    (tmp_path / "video-other" / "video.json").write_text('{"schema": "something else"}')
    assert list_video_sessions(tmp_path, include_own=True) == []
