"""Review state: accept, reject or flag images, frames and segments, with comments.

The sidecar file
----------------
The state of an opened folder lives in ``segview-review.json`` inside the
folder; that of a single image or video in ``<stem>.segview-review.json``
beside it (:func:`review_path`). Items are keyed by the image's path relative
to the folder with ``/`` separators (:attr:`viewer.core.pairing.Item.name`),
or ``frame:N`` for frame ``N`` of a video (:func:`frame_key`). The format is
``resources/schemas/segview-review.schema.json``; every read is validated and
every write is atomic. Example::

    {"schema": "segview-review", "schema_version": 1, "app": "segview",
     "app_version": "0.1.0", "saved": "2024-05-02T09:30:00.000+00:00",
     "items": {"street/0001.png": {
        "state": "rejected", "author": "ana", "modified": "2024-05-02T09:29:41.512+00:00",
        "segments": {"3": {"state": "flagged", "label": "car", "author": "ana",
                           "modified": "2024-05-02T09:29:12.004+00:00"}},
        "comments": [{"id": "5f0c...", "text": "mirror missing", "author": "ana",
                      "created": "...", "modified": "...", "point": [120, 388],
                      "segment": 3, "deleted": false}]}}}

Merging two copies
------------------
Two reviewers (or a sync conflict) can leave two versions of the file.
:func:`merge` combines them without losing work:

- per item, the state (with its author and time) of the later ``modified`` wins;
- per segment, likewise, segment by segment;
- comments are united by id; when both copies hold one id, the later
  ``modified`` wins. Deleting a comment keeps it as a tombstone
  (``deleted: true``), so a merge with an older copy cannot bring it back
  and its text is never lost.

Equal times are broken by comparing the records' JSON, so ``merge(a, b)``
equals ``merge(b, a)``. :func:`save` merges with the file on disk before it
writes, so a second window (or reviewer) saving the same folder does not
overwrite the first one's items.
"""

from __future__ import annotations

import datetime as _dt
import enum
import getpass
import json
import os
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from psygnal import Signal

from viewer import __version__, _paths
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.common import load_json
from viewer.core.safe_input import check_path

SCHEMA_FILE = "segview-review.schema.json"
SCHEMA_VERSION = 1
#: A review of a whole dataset stays well under this; larger files are refused.
MAX_REVIEW_BYTES = 256 << 20
#: The sidecar of an opened folder, inside it.
FOLDER_FILE = "segview-review.json"
#: The sidecar of a single image or video is ``<stem>`` + this, beside it.
FILE_SUFFIX = ".segview-review.json"


class State(enum.StrEnum):
    """The review state of an item or a segment."""

    UNREVIEWED = "unreviewed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class SegmentReview:
    """The review of one segment: state, who set it and when."""

    state: State
    modified: str
    author: str = ""
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the schema's ``segment`` object."""
        return {"state": str(self.state), "label": self.label, "author": self.author,
                "modified": self.modified}


@dataclass(frozen=True)
class Comment:
    """A free-text comment, optionally pinned to a pixel ``(row, col)`` or a segment."""

    id: str
    text: str
    created: str
    modified: str
    author: str = ""
    point: tuple[int, int] | None = None
    segment: int | None = None
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the schema's ``comment`` object."""
        return {"id": self.id, "text": self.text, "author": self.author,
                "created": self.created, "modified": self.modified,
                "point": list(self.point) if self.point is not None else None,
                "segment": self.segment, "deleted": self.deleted}


@dataclass(frozen=True)
class ItemReview:
    """The review of one image or frame.

    Attributes
    ----------
    state : State
    author : str
        Who set ``state``.
    modified : str
        When ``state`` was set (ISO 8601, UTC); empty when never.
    segments : mapping of int to SegmentReview
        Reviews of single segments, by segment id.
    comments : tuple of Comment
        Every comment, deleted ones (tombstones) included: see :attr:`visible_comments`.
    """

    state: State = State.UNREVIEWED
    author: str = ""
    modified: str = ""
    segments: Mapping[int, SegmentReview] = field(default_factory=dict)
    comments: tuple[Comment, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "state", State(self.state))
        object.__setattr__(self, "segments", MappingProxyType(dict(self.segments)))

    @property
    def visible_comments(self) -> tuple[Comment, ...]:
        """The comments that are not deleted, oldest first."""
        return tuple(sorted((c for c in self.comments if not c.deleted), key=lambda c: c.created))

    @property
    def touched(self) -> bool:
        """True when anything was ever recorded (it is then written to the file)."""
        return bool(self.modified or self.segments or self.comments)

    def to_dict(self, *, tombstones: bool = True) -> dict[str, Any]:
        """Return the schema's ``item`` object (without deleted comments if not ``tombstones``)."""
        comments = self.comments if tombstones else self.visible_comments
        return {"state": str(self.state), "author": self.author, "modified": self.modified,
                "segments": {str(k): v.to_dict() for k, v in sorted(self.segments.items())},
                "comments": [c.to_dict() for c in comments]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemReview:
        """Build an item from its (schema-valid) ``item`` object."""
        segments = {int(k): SegmentReview(State(v["state"]), v["modified"], v.get("author", ""),
                                          v.get("label", ""))
                    for k, v in data.get("segments", {}).items()}
        comments = tuple(
            Comment(c["id"], c["text"], c["created"], c["modified"], c.get("author", ""),
                    tuple(c["point"]) if c.get("point") is not None else None,
                    c.get("segment"), bool(c.get("deleted", False)))
            for c in data.get("comments", []))
        return cls(State(data["state"]), data.get("author", ""), data.get("modified", ""),
                   segments, comments)


@dataclass(frozen=True)
class ReviewProgress:
    """How many items of an index are reviewed, and in which state."""

    reviewed: int
    total: int
    counts: Mapping[State, int]

    @property
    def text(self) -> str:
        """``"118 / 340 reviewed"``."""
        return f"{self.reviewed} / {self.total} reviewed"


class Review:
    """The review state of every item of a folder or video.

    Items are plain keys (:func:`frame_key`, or a path relative to the folder);
    the order of the items comes from the caller's index (``keys`` arguments).

    Parameters
    ----------
    items : mapping of str to ItemReview, optional
    """

    #: Emitted with the item key after any change of that item.
    changed = Signal(str)

    def __init__(self, items: Mapping[str, ItemReview] | None = None):
        self._items: dict[str, ItemReview] = dict(items or {})

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        """Keys of the items that hold anything, in insertion order."""
        return list(self._items)

    def item(self, key: str) -> ItemReview:
        """Return the review of ``key`` (an empty one when never reviewed)."""
        return self._items.get(key) or ItemReview()

    def state(self, key: str) -> State:
        """Return the state of item ``key``."""
        return self.item(key).state

    def progress(self, keys: Sequence[str]) -> ReviewProgress:
        """Count the states of the items of an index (``"118 / 340 reviewed"``)."""
        counts = dict.fromkeys(State, 0)
        for key in keys:
            counts[self.state(key)] += 1
        return ReviewProgress(len(keys) - counts[State.UNREVIEWED], len(keys), counts)

    def indices(self, keys: Sequence[str], states: Collection[State | str]) -> list[int]:
        """Positions in ``keys`` of the items in one of ``states`` (a filter)."""
        wanted = {State(s) for s in states}
        return [i for i, key in enumerate(keys) if self.state(key) in wanted]

    def next_index(self, keys: Sequence[str], states: Collection[State | str],
                   current: int | None = None, *, backwards: bool = False,
                   wrap: bool = True) -> int | None:
        """Position of the next item after ``current`` in one of ``states``, or None.

        The search starts just after ``current`` (before it when
        ``backwards``), from the start when ``current`` is None, and wraps
        around the end when ``wrap``; ``current`` itself comes last.
        """
        wanted = {State(s) for s in states}
        n = len(keys)
        if n == 0:
            return None
        step = -1 if backwards else 1
        start = (-1 if not backwards else n) if current is None else current
        for offset in range(1, n + 1):
            i = start + step * offset
            if not wrap and not 0 <= i < n:
                return None
            if self.state(keys[i % n]) in wanted:
                return i % n
        return None

    def next_unreviewed(self, keys: Sequence[str], current: int | None = None, *,
                        wrap: bool = True) -> int | None:
        """Position of the next unreviewed item after ``current`` (the "next" key)."""
        return self.next_index(keys, (State.UNREVIEWED,), current, wrap=wrap)

    # -- changing ------------------------------------------------------------------------
    def set_state(self, key: str, state: State | str, *, author: str | None = None,
                  when: str | None = None) -> ItemReview:
        """Set the state of an item (accept, reject, flag, or back to unreviewed)."""
        item = replace(self.item(key), state=State(state), author=_author(author),
                       modified=when or now())
        return self._put(key, item)

    def set_segment_state(self, key: str, segment: int, state: State | str, *, label: str = "",
                          author: str | None = None, when: str | None = None) -> ItemReview:
        """Set the state of one segment of an item."""
        item = self.item(key)
        segments = dict(item.segments)
        segments[int(segment)] = SegmentReview(State(state), when or now(), _author(author), label)
        return self._put(key, replace(item, segments=segments))

    def add_comment(self, key: str, text: str, *, point: tuple[int, int] | None = None,
                    segment: int | None = None, author: str | None = None,
                    when: str | None = None) -> Comment:
        """Add a comment to an item, optionally pinned to ``point`` = ``(row, col)``."""
        stamp = when or now()
        pin = (int(point[0]), int(point[1])) if point is not None else None
        comment = Comment(uuid.uuid4().hex, text, stamp, stamp, _author(author), pin,
                          None if segment is None else int(segment))
        item = self.item(key)
        self._put(key, replace(item, comments=(*item.comments, comment)))
        return comment

    def edit_comment(self, key: str, comment_id: str, text: str, *, author: str | None = None,
                     when: str | None = None) -> Comment:
        """Change the text of a comment."""
        return self._change_comment(key, comment_id, text=text, author=_author(author),
                                    modified=when or now())

    def delete_comment(self, key: str, comment_id: str, *, when: str | None = None) -> Comment:
        """Delete a comment (kept as a tombstone, so that merges do not revive it)."""
        return self._change_comment(key, comment_id, deleted=True, modified=when or now())

    def put(self, key: str, item: ItemReview) -> None:
        """Replace the review of an item (undo, or applying a merge)."""
        self._put(key, item)

    def _change_comment(self, key: str, comment_id: str, **changes: Any) -> Comment:
        item = self.item(key)
        found = [c for c in item.comments if c.id == comment_id]
        if not found:
            raise KeyError(f"item {key!r} has no comment {comment_id!r}")
        changed = replace(found[0], **changes)
        comments = tuple(changed if c.id == comment_id else c for c in item.comments)
        self._put(key, replace(item, comments=comments))
        return changed

    def _put(self, key: str, item: ItemReview) -> ItemReview:
        if self._items.get(key) != item:
            self._items[key] = item
            self.changed.emit(key)
        return item

    # -- documents -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the sidecar document (items never touched are left out)."""
        return {"schema": "segview-review", "schema_version": SCHEMA_VERSION, "app": "segview",
                "app_version": __version__, "saved": now(),
                "items": {k: v.to_dict() for k, v in self._items.items() if v.touched}}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Review:
        """Build a review from a schema-valid sidecar document."""
        return cls({k: ItemReview.from_dict(v) for k, v in doc["items"].items()})


# -- files -------------------------------------------------------------------------------


def review_path(data: str | Path) -> Path:
    """The sidecar of an opened folder (inside it) or a single image or video (beside it)."""
    data = Path(data)
    if data.is_dir():
        return data / FOLDER_FILE
    return data.with_name(data.stem + FILE_SUFFIX)


def frame_key(number: int) -> str:
    """The item key of frame ``number`` of a video."""
    return f"frame:{int(number)}"


def item_key(root: str | Path, path: str | Path) -> str:
    """The item key of an image under an opened folder: its relative path with ``/``."""
    return Path(os.path.relpath(path, root)).as_posix()


def load(path: str | Path, *, missing_ok: bool = True) -> Review:
    """Read and validate a sidecar; an absent file is an empty review when ``missing_ok``.

    Raises
    ------
    ReadError
        Naming the file: a JSON syntax error (with line and column), a
        document that breaks the schema (with where), or a newer schema version.
    """
    path = Path(path)
    if missing_ok and not os.path.exists(check_path(path)):
        return Review()
    doc = load_json(path, MAX_REVIEW_BYTES)
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION \
            and doc.get("schema") == "segview-review":
        raise ReadError(f"written by a newer SegView (review schema_version {version}; this "
                        f"version reads {SCHEMA_VERSION})", path)
    problem = first_problem(doc)
    if problem:
        raise ReadError(f"not a valid SegView review file: {problem}", path)
    return Review.from_dict(doc)


def save(review: Review, path: str | Path, *, merge_existing: bool = True) -> Path:
    """Write ``review`` atomically, first merging in what the file on disk holds.

    With ``merge_existing``, items saved meanwhile by someone else are merged
    into ``review`` (emitting ``changed`` for each item that changes), so
    saving never drops their work. A damaged file on disk raises the
    :class:`ReadError` of :func:`load` instead of being overwritten.
    """
    path = Path(path)
    if merge_existing and path.exists():
        merged = merge(load(path), review)
        for key in merged:
            review.put(key, merged.item(key))
    doc = review.to_dict()
    problem = first_problem(doc)
    if problem:
        raise WriteError(f"review state does not match its schema: {problem}", path)
    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path


def merge(a: Review, b: Review) -> Review:
    """Combine two versions of a review without losing work (see the module docstring)."""
    keys = list(dict.fromkeys([*a, *b]))
    return Review({k: merge_items(a.item(k), b.item(k)) for k in keys})


def merge_items(a: ItemReview, b: ItemReview) -> ItemReview:
    """Combine two versions of one item: later state, per-segment later, comments united."""
    head = _later(a, b, lambda item: (item.modified, _head_json(item)))
    segments = {}
    for seg_id in sorted({*a.segments, *b.segments}):
        both = [s for s in (a.segments.get(seg_id), b.segments.get(seg_id)) if s is not None]
        segments[seg_id] = _latest(both, lambda s: (s.modified, json.dumps(s.to_dict())))
    by_id: dict[str, list[Comment]] = {}
    for comment in (*a.comments, *b.comments):
        by_id.setdefault(comment.id, []).append(comment)
    comments = tuple(_latest(group, lambda c: (c.modified, json.dumps(c.to_dict())))
                     for group in by_id.values())
    return ItemReview(head.state, head.author, head.modified, segments,
                      tuple(sorted(comments, key=lambda c: (c.created, c.id))))


def _latest(values: Iterable, key: Callable) -> Any:
    values = list(values)
    best = values[0]
    for value in values[1:]:
        best = _later(best, value, key)
    return best


def _later(a: Any, b: Any, key: Callable) -> Any:
    """The one of ``a``, ``b`` with the later time; equal times by their JSON (symmetric)."""
    (time_a, text_a), (time_b, text_b) = key(a), key(b)
    order_a, order_b = (_parse_time(time_a), text_a), (_parse_time(time_b), text_b)
    return a if order_a >= order_b else b


def _head_json(item: ItemReview) -> str:
    return json.dumps([str(item.state), item.author, item.modified])


def _parse_time(text: str) -> _dt.datetime:
    if not text:
        return _dt.datetime.min.replace(tzinfo=_dt.UTC)
    stamp = _dt.datetime.fromisoformat(text)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=_dt.UTC)


# -- export metadata ---------------------------------------------------------------------


def metadata_record(review: Review, key: str) -> dict[str, Any]:
    """The review of one item as it goes into export metadata (no deleted comments)."""
    return review.item(key).to_dict(tombstones=False)


def with_review(doc: Mapping[str, Any], review: Review, key: str | None = None, *,
                key_of_frame: Callable[[int], str] = frame_key) -> dict[str, Any]:
    """Return a copy of an export metadata document with the review state added.

    An image's document (:func:`viewer.core.metadata.build`) gets a top-level
    ``review`` object for item ``key``; a video's
    (:func:`viewer.core.metadata.build_video`) gets one per frame record, for
    ``key_of_frame(frame)``. Each is the review schema's ``item`` object.
    The metadata schema must list ``review`` (an optional object) at the top
    level and in frame records for :func:`viewer.core.metadata.write` to accept it.
    """
    out = dict(doc)
    if "frames" in doc:
        out["frames"] = [{**frame, "review": metadata_record(review, key_of_frame(frame["frame"]))}
                         for frame in doc["frames"]]
    else:
        if key is None:
            raise ValueError("an image's metadata needs the item key of its review")
        out["review"] = metadata_record(review, key)
    return out


# -- helpers -----------------------------------------------------------------------------


def now() -> str:
    """The current UTC time as the file stores it (ISO 8601, milliseconds)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def default_author() -> str:
    """The reviewer's name: ``$SEGVIEW_AUTHOR``, else the login name, else empty."""
    name = os.environ.get("SEGVIEW_AUTHOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some containers
        return ""


def _author(author: str | None) -> str:
    return default_author() if author is None else author


def first_problem(doc: Any) -> str | None:
    """Return the first schema violation of a sidecar document, or None when valid."""
    error = next(iter(sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.path)))),
                 None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "top level"
    return f"{where}: {error.message}"


@cache
def _validator():
    import jsonschema  # imported on use, as in metadata.py

    return jsonschema.Draft202012Validator(schema())


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the sidecar."""
    return load_json(_paths.resources_dir() / "schemas" / SCHEMA_FILE)
