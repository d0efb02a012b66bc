"""Review state: sidecar round trip, schema errors, atomic writes, merging, progress."""

import copy
import json

import jsonschema
import numpy as np
import pytest

from viewer.core import metadata, review
from viewer.core.errors import ReadError, WriteError
from viewer.core.review import Comment, ItemReview, Review, SegmentReview, State
from viewer.core.segmentation import Segmentation

T1, T2, T3 = ("2024-05-02T09:00:00.000+00:00", "2024-05-02T10:00:00.000+00:00",
              "2024-05-02T11:00:00.000+00:00")


def _review():
    r = Review()
    r.set_state("a.png", State.ACCEPTED, author="ana", when=T1)
    r.set_state("sub/b.png", "rejected", author="bo", when=T2)
    r.set_segment_state("sub/b.png", 3, State.FLAGGED, label="car", author="bo", when=T2)
    r.add_comment("sub/b.png", "mirror missing", point=(12, 40), segment=3, author="bo", when=T2)
    r.add_comment("a.png", "fine", author="ana", when=T1)
    return r


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(review.schema())


def test_round_trip(tmp_path):
    r = _review()
    path = review.save(r, tmp_path / review.FOLDER_FILE)
    doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(doc, review.schema())
    assert doc["schema"] == "segview-review" and doc["schema_version"] == 1
    b = doc["items"]["sub/b.png"]
    assert b["state"] == "rejected" and b["author"] == "bo" and b["modified"] == T2
    assert b["segments"] == {"3": {"state": "flagged", "label": "car", "author": "bo",
                                   "modified": T2}}
    assert b["comments"][0]["point"] == [12, 40] and b["comments"][0]["segment"] == 3
    back = review.load(path)
    for key in ("a.png", "sub/b.png"):
        assert back.item(key) == r.item(key)
    assert back.item("sub/b.png").comments[0].point == (12, 40)


def test_untouched_items_are_not_written(tmp_path):
    r = Review()
    r.item("never.png")
    assert r.to_dict()["items"] == {}
    r.set_state("x.png", State.ACCEPTED, when=T1)
    r.set_state("x.png", State.UNREVIEWED, when=T2)  # a reset must be saved: it wins merges
    assert r.to_dict()["items"]["x.png"]["state"] == "unreviewed"


def test_missing_file_is_an_empty_review_unless_required(tmp_path):
    assert len(review.load(tmp_path / "none.json")) == 0
    with pytest.raises(ReadError, match="file not found") as info:
        review.load(tmp_path / "none.json", missing_ok=False)
    assert info.value.path == tmp_path / "none.json"


def test_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / review.FOLDER_FILE
    path.write_text('{\n  "schema": "segview-review",\n  "items": {,}\n}\n', encoding="utf-8")
    with pytest.raises(ReadError) as info:
        review.load(path)
    assert str(path) in str(info.value)
    assert "line 3, column 13" in str(info.value)


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d["items"]["a.png"].update(state="approved"), "items/a.png/state"),
    (lambda d: d["items"]["a.png"]["comments"][0].update(point=[1]), "comments/0/point"),
    (lambda d: d["items"]["a.png"].update(modified="yesterday"), "items/a.png/modified"),
    (lambda d: d.update(extra=1), "top level"),
    (lambda d: d.pop("items"), "top level"),
])
def test_schema_errors_name_the_file_and_the_place(tmp_path, change, where):
    doc = _review().to_dict()
    change(doc)
    path = tmp_path / review.FOLDER_FILE
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ReadError) as info:
        review.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a valid SegView review file: ")
    assert where in message


def test_newer_schema_version_is_refused_clearly(tmp_path):
    doc = _review().to_dict()
    doc["schema_version"] = 2
    path = tmp_path / review.FOLDER_FILE
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ReadError, match="newer SegView"):
        review.load(path)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / review.FOLDER_FILE
    review.save(_review(), path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("viewer.core.fileio.os.replace", fail)
    changed = review.load(path)
    changed.set_state("a.png", State.REJECTED, when=T3)
    with pytest.raises(WriteError, match="No space left") as info:
        review.save(changed, path)
    assert info.value.path == path
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [review.FOLDER_FILE]


def test_a_damaged_file_on_disk_is_not_overwritten(tmp_path):
    path = tmp_path / review.FOLDER_FILE
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(ReadError, match="JSON syntax error"):
        review.save(_review(), path)
    assert path.read_text(encoding="utf-8") == "{broken"
    review.save(_review(), path, merge_existing=False)
    assert review.load(path).state("a.png") == State.ACCEPTED


# -- merging ----------------------------------------------------------------------------------


def _two_versions():
    base = _review()
    mine, theirs = Review.from_dict(base.to_dict()), Review.from_dict(base.to_dict())
    mine.set_state("a.png", State.FLAGGED, author="ana", when=T3)          # later than theirs
    theirs.set_state("a.png", State.REJECTED, author="cy", when=T2)
    theirs.set_state("sub/b.png", State.ACCEPTED, author="cy", when=T3)    # later than mine
    mine.set_segment_state("sub/b.png", 3, State.ACCEPTED, author="ana", when=T3)
    theirs.set_segment_state("sub/b.png", 4, State.REJECTED, author="cy", when=T3)
    mine.add_comment("a.png", "from ana", author="ana", when=T2)
    theirs.add_comment("a.png", "from cy", author="cy", when=T2)
    theirs.set_state("c.png", State.ACCEPTED, author="cy", when=T2)        # only theirs
    doomed = mine.item("sub/b.png").comments[0].id
    mine.delete_comment("sub/b.png", doomed, when=T3)
    return mine, theirs, doomed


def test_merge_last_modified_wins_per_item_and_segment_and_comments_are_united():
    mine, theirs, doomed = _two_versions()
    merged = review.merge(mine, theirs)
    a = merged.item("a.png")
    assert (a.state, a.author) == (State.FLAGGED, "ana")
    assert merged.item("sub/b.png").state == State.ACCEPTED
    assert merged.state("c.png") == State.ACCEPTED
    segments = merged.item("sub/b.png").segments
    assert segments[3].state == State.ACCEPTED and segments[4].state == State.REJECTED
    texts = sorted(c.text for c in a.visible_comments)
    assert texts == ["fine", "from ana", "from cy"]
    # The deletion is later than the comment: it stays deleted, but is kept as a tombstone.
    b_comments = {c.id: c for c in merged.item("sub/b.png").comments}
    assert b_comments[doomed].deleted and b_comments[doomed].text == "mirror missing"
    assert merged.item("sub/b.png").visible_comments == ()


def test_merge_is_symmetric_and_idempotent():
    mine, theirs, _ = _two_versions()
    ab, ba = review.merge(mine, theirs), review.merge(theirs, mine)
    keys = set(ab) | set(ba)
    assert all(ab.item(k) == ba.item(k) for k in keys)
    again = review.merge(ab, theirs)
    assert all(again.item(k) == ab.item(k) for k in keys)


def test_merge_breaks_equal_times_the_same_way_both_ways():
    a = ItemReview(State.ACCEPTED, "ana", T1)
    b = ItemReview(State.REJECTED, "bo", T1)
    assert review.merge_items(a, b) == review.merge_items(b, a)


def test_merge_compares_times_not_strings():
    # 10:00+02:00 is 08:00 UTC: earlier than 09:00 UTC although it sorts later as text.
    a = ItemReview(State.ACCEPTED, "ana", "2024-05-02T10:00:00+02:00")
    b = ItemReview(State.REJECTED, "bo", "2024-05-02T09:00:00Z")
    assert review.merge_items(a, b).state == State.REJECTED


def test_save_merges_with_what_another_window_saved(tmp_path):
    path = review.save(_review(), tmp_path / review.FOLDER_FILE)
    first, second = review.load(path), review.load(path)
    first.set_state("new1.png", State.ACCEPTED, author="ana", when=T3)
    review.save(first, path)
    second.set_state("new2.png", State.FLAGGED, author="bo", when=T3)
    seen = []
    second.changed.connect(seen.append)
    review.save(second, path)
    on_disk = review.load(path)
    assert on_disk.state("new1.png") == State.ACCEPTED
    assert on_disk.state("new2.png") == State.FLAGGED
    assert second.state("new1.png") == State.ACCEPTED and seen == ["new1.png"]


def test_merging_two_files_keeps_every_comment(tmp_path):
    mine, theirs, _ = _two_versions()
    review.save(mine, tmp_path / "mine.json", merge_existing=False)
    review.save(theirs, tmp_path / "theirs.json", merge_existing=False)
    merged = review.merge(review.load(tmp_path / "mine.json"),
                          review.load(tmp_path / "theirs.json"))
    ids = {c.id for k in (*mine, *theirs) for c in (*mine.item(k).comments,
                                                     *theirs.item(k).comments)}
    assert {c.id for k in merged for c in merged.item(k).comments} == ids


# -- editing, progress, filters ---------------------------------------------------------------


def test_changes_emit_the_item_key():
    r = Review()
    seen = []
    r.changed.connect(seen.append)
    r.set_state("a.png", State.ACCEPTED)
    c = r.add_comment("a.png", "typo")
    r.edit_comment("a.png", c.id, "typo fixed")
    r.delete_comment("a.png", c.id)
    assert seen == ["a.png"] * 4
    assert r.item("a.png").comments[0].text == "typo fixed" and r.item("a.png").comments[0].deleted
    with pytest.raises(KeyError):
        r.edit_comment("a.png", "no-such-id", "x")


def test_author_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("SEGVIEW_AUTHOR", "lead")
    r = Review()
    r.set_state("a.png", State.FLAGGED)
    assert r.item("a.png").author == "lead"
    assert review.now().endswith("+00:00")


KEYS = [f"img{i}.png" for i in range(10)]


def _index_review():
    r = Review()
    for i, state in {1: "accepted", 2: "rejected", 3: "flagged", 5: "accepted"}.items():
        r.set_state(KEYS[i], state, when=T1)
    return r


def test_progress_counts_states_of_the_index():
    p = _index_review().progress(KEYS)
    assert (p.reviewed, p.total, p.text) == (4, 10, "4 / 10 reviewed")
    assert p.counts == {State.UNREVIEWED: 6, State.ACCEPTED: 2, State.REJECTED: 1,
                        State.FLAGGED: 1}
    assert Review().progress([]).text == "0 / 0 reviewed"


def test_filters_by_state():
    r = _index_review()
    assert r.indices(KEYS, [State.ACCEPTED]) == [1, 5]
    assert r.indices(KEYS, ["rejected", "flagged"]) == [2, 3]
    assert r.indices(KEYS, [State.UNREVIEWED]) == [0, 4, 6, 7, 8, 9]


def test_next_unreviewed_from_an_index():
    r = _index_review()
    assert r.next_unreviewed(KEYS) == 0
    assert r.next_unreviewed(KEYS, 0) == 4
    assert r.next_unreviewed(KEYS, 4) == 6
    assert r.next_unreviewed(KEYS, 9) == 0                  # wraps around
    assert r.next_unreviewed(KEYS, 9, wrap=False) is None
    assert r.next_index(KEYS, [State.ACCEPTED], 5, backwards=True) == 1
    assert r.next_index(KEYS, [State.FLAGGED], 3) == 3      # itself, last
    for key in KEYS:
        r.set_state(key, State.ACCEPTED, when=T2)
    assert r.next_unreviewed(KEYS, 3) is None
    assert r.next_unreviewed([], None) is None


# -- keys, paths, metadata --------------------------------------------------------------------


def test_sidecar_paths_and_keys(tmp_path):
    (tmp_path / "sub").mkdir()
    assert review.review_path(tmp_path) == tmp_path / "segview-review.json"
    assert review.review_path(tmp_path / "clip.mp4") == tmp_path / "clip.segview-review.json"
    assert review.item_key(tmp_path, tmp_path / "sub" / "b.png") == "sub/b.png"
    assert review.frame_key(12) == "frame:12"


def _metadata_schema_with_review():
    """The metadata schema plus the optional `review` property this feature asks for."""
    schema = copy.deepcopy(metadata.schema())
    schema["properties"]["review"] = {"type": "object"}
    schema["properties"]["frames"]["items"]["properties"]["review"] = {"type": "object"}
    return schema


def _item_validator():
    defs = review.schema()["$defs"]
    return jsonschema.Draft202012Validator({"$defs": defs, "$ref": "#/$defs/item"})


def test_review_goes_into_image_metadata():
    seg = Segmentation.from_values(np.array([[0, 1], [1, 1]]))
    doc = metadata.build(seg, mask_files=["b.png"], format_name="index-png")
    r = _review()
    gone = r.item("sub/b.png").comments[0].id
    r.add_comment("sub/b.png", "second", when=T3)
    r.delete_comment("sub/b.png", gone, when=T3)
    out = review.with_review(doc, r, "sub/b.png")
    assert "review" not in doc  # a copy
    assert out["review"]["state"] == "rejected"
    assert [c["text"] for c in out["review"]["comments"]] == ["second"]  # no tombstones
    _item_validator().validate(out["review"])
    jsonschema.validate(out, _metadata_schema_with_review())


def test_review_goes_into_every_frame_of_video_metadata():
    seg = Segmentation.from_values(np.array([[0, 1]]))
    doc = metadata.build_video([(0, 0.0, seg, ["f0.png"]), (7, 0.28, seg, ["f7.png"])],
                               format_name="index-png")
    r = Review()
    r.set_state(review.frame_key(7), State.FLAGGED, when=T1)
    out = review.with_review(doc, r)
    assert [f["review"]["state"] for f in out["frames"]] == ["unreviewed", "flagged"]
    jsonschema.validate(out, _metadata_schema_with_review())
    with pytest.raises(ValueError, match="item key"):
        review.with_review(metadata.build(seg, mask_files=[], format_name=None), r)


def test_item_dataclasses_are_plain_values():
    item = ItemReview(State.FLAGGED, "a", T1, {2: SegmentReview(State.ACCEPTED, T1)},
                      (Comment("c1", "x", T1, T1),))
    assert ItemReview.from_dict(item.to_dict()) == item
    with pytest.raises(TypeError):
        item.segments[5] = SegmentReview(State.ACCEPTED, T1)
