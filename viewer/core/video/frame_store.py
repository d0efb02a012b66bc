"""The masks of a video's frames, from wherever they came: edits, model results, a source.

A frame's mask is, in order of precedence, the one the user edited, the one
a model produced (kept packed, so replaying a segmented video is free and
costs tens of kilobytes per frame), or the one the mask source reads. Class
relabels made "for the whole video" are rules applied to every frame as it
is produced, so they cost nothing until a frame is shown or exported.

The store is itself a :class:`~viewer.core.video.mask_source.MaskSource`,
so every export and the temporal statistics read the edited video through it.
Reads may come from a worker thread while the GUI thread edits: the maps
are guarded by a lock, and an edited frame is handed out as the object
itself (its owner is the GUI, which does not paint while playing).
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass

import numpy as np

from viewer.core.edit.ops import relabel
from viewer.core.edit.patch import Change
from viewer.core.segment_table import SegmentTable
from viewer.core.segmentation import Kind, Provenance, Segmentation
from viewer.core.text import count
from viewer.core.video.mask_source import MaskSource


@dataclass(frozen=True)
class ClassRule:
    """Every segment of class ``from_class`` becomes class ``to_class`` (named ``label``)."""

    from_class: int
    to_class: int
    label: str | None = None

    def apply(self, seg: Segmentation) -> Change | None:
        """Relabel ``seg`` in place; the change (to undo it), or None when it lacks the class."""
        ids = [row.id for row in seg.table if row.class_id == self.from_class]
        if not ids:
            return None
        return relabel(seg, ids, self.to_class, label=self.label)


@dataclass(frozen=True)
class _Packed:
    """A model's result, compressed: the label map and the confidence (zlib), the table rows.

    The confidence is kept in steps of 1/255 (uint8): enough for the heatmap,
    the threshold and the readout's two decimals, at tens of kilobytes a frame.
    """

    labels: bytes
    shape: tuple[int, int]
    dtype: str
    table: SegmentTable
    kind: Kind
    provenance: Provenance
    confidence: bytes | None = None

    @classmethod
    def of(cls, seg: Segmentation) -> _Packed:
        # Level 1: label maps are long runs, so the fastest level already
        # shrinks a 1080p map about 50x, and unpacking costs ~2 ms.
        confidence = None
        if seg.confidence is not None:
            steps = np.rint(np.clip(seg.confidence, 0.0, 1.0) * 255).astype(np.uint8)
            confidence = zlib.compress(steps.tobytes(), 1)
        return cls(zlib.compress(np.ascontiguousarray(seg.labels).tobytes(), 1), seg.shape,
                   seg.labels.dtype.str, seg.table.copy(), seg.kind, seg.provenance, confidence)

    def unpack(self) -> Segmentation:
        labels = np.frombuffer(zlib.decompress(self.labels), self.dtype).reshape(self.shape)
        confidence = None
        if self.confidence is not None:
            steps = np.frombuffer(zlib.decompress(self.confidence), np.uint8)
            confidence = (steps.astype(np.float32) / np.float32(255)).reshape(self.shape)
        # The table is a copy of the packed segmentation's own: its areas and boxes
        # are those of these very labels.
        return Segmentation(labels.copy(), self.table.copy(), kind=self.kind,
                            confidence=confidence, provenance=self.provenance,
                            stats_known=True)

    @property
    def nbytes(self) -> int:
        return len(self.labels) + len(self.confidence or b"")


class FrameStore:
    """Per-frame masks of one video: edits over model results over a source.

    Parameters
    ----------
    source : MaskSource, optional
        Masks read from files (a folder, a mask video, Celantur chunks).
    frame_count : int
        Frames in the video; frames outside are ignored.
    """

    def __init__(self, source: MaskSource | None = None, *, frame_count: int):
        self.source = source
        self.frame_count = frame_count
        self._source_frames = set(source.frames()) if source is not None else set()
        self._edited: dict[int, Segmentation] = {}
        self._predicted: dict[int, _Packed] = {}
        self.rules: list[ClassRule] = []
        self._lock = threading.Lock()
        self._version = 0  # every change (caches compare it)
        self._saved_work = self._work = 0  # the user's changes: edits and rules

    # -- reading -----------------------------------------------------------------
    def frames(self) -> list[int]:
        """Frame indices that have a mask, ascending."""
        with self._lock:
            known = self._source_frames | set(self._predicted) | set(self._edited)
        return sorted(i for i in known if 0 <= i < self.frame_count)

    def has_mask(self, index: int) -> bool:
        """True when frame ``index`` has a mask from any origin."""
        with self._lock:
            return (index in self._edited or index in self._predicted
                    or index in self._source_frames)

    def mask_for(self, index: int) -> Segmentation | None:
        """The mask of frame ``index`` with the whole-video rules applied, or None.

        An edited frame is returned as the stored object; others are new.
        """
        with self._lock:
            edited = self._edited.get(index)
            packed = self._predicted.get(index)
            rules = list(self.rules)
        if edited is not None:
            return edited
        if packed is not None:
            seg = packed.unpack()
        elif index in self._source_frames and self.source is not None:
            seg = self.source.mask_for(index)
            if seg is None:
                return None
        else:
            return None
        for rule in rules:
            rule.apply(seg)
        return seg

    def origin(self, index: int) -> str | None:
        """Where frame ``index``'s mask comes from: ``edited``, ``model``, ``file`` or None."""
        with self._lock:
            if index in self._edited:
                return "edited"
            if index in self._predicted:
                return "model"
            return "file" if index in self._source_frames else None

    # -- writing -----------------------------------------------------------------
    def keep_edit(self, index: int, seg: Segmentation) -> None:
        """Remember ``seg`` as the edited mask of frame ``index``."""
        with self._lock:
            self._edited[index] = seg
            self._version += 1
            self._work += 1

    def revert(self, index: int) -> bool:
        """Forget frame ``index``'s edits (made from its source again); True if it had some."""
        with self._lock:
            if self._edited.pop(index, None) is None:
                return False
            self._version += 1
            self._work += 1
            return True

    def edited_frames(self) -> list[int]:
        """Frames the user edited, ascending."""
        with self._lock:
            return sorted(self._edited)

    def put_prediction(self, index: int, seg: Segmentation) -> None:
        """Keep a model's result for frame ``index`` (packed), unless the frame was edited."""
        packed = _Packed.of(seg)
        with self._lock:
            if index not in self._edited:
                self._predicted[index] = packed
                self._version += 1  # a model's result is not the user's work to lose

    def predicted_frames(self) -> list[int]:
        """Frames with a kept model result, ascending."""
        with self._lock:
            return sorted(self._predicted)

    def forget_predictions(self) -> None:
        """Drop every kept model result (another model was chosen)."""
        with self._lock:
            self._predicted.clear()
            self._version += 1  # (made again by running the model)

    @property
    def predicted_bytes(self) -> int:
        """Memory held by kept model results."""
        with self._lock:
            return sum(p.nbytes for p in self._predicted.values())

    def add_rule(self, rule: ClassRule) -> list[tuple[int, Segmentation, Change]]:
        """Apply ``rule`` to every frame from now on.

        Edited frames are relabelled at once (they are not produced again);
        returns what changed in them, so the caller can undo it.
        """
        with self._lock:
            self.rules.append(rule)
            edited = dict(self._edited)
            self._version += 1
            self._work += 1
        changed = []
        for index, seg in sorted(edited.items()):
            change = rule.apply(seg)
            if change is not None:
                changed.append((index, seg, change))
        return changed

    def reinstate_rule(self, rule: ClassRule) -> None:
        """Apply ``rule`` again to frames produced from now on (redo of a removal)."""
        with self._lock:
            self.rules.append(rule)
            self._version += 1
            self._work += 1

    def remove_rule(self, rule: ClassRule) -> None:
        """Stop applying ``rule`` to frames produced from now on."""
        with self._lock:
            self.rules.remove(rule)
            self._version += 1
            self._work += 1

    # -- saving ------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Changes with every edit kept, model result, rule and forgetting (for caches)."""
        return self._version

    @property
    def dirty(self) -> bool:
        """True when frames were edited or relabel rules changed since :meth:`mark_saved`.

        Model results do not count: running the model again makes them.
        """
        return self._work != self._saved_work

    def mark_saved(self) -> None:
        """Everything so far has been exported."""
        self._saved_work = self._work

    def summary(self) -> list[str]:
        """What the masks are made of, for the status bar and reports."""
        lines = list(self.source.summary()) if self.source is not None else []
        with self._lock:
            if self._predicted:
                lines.append(f"{count(len(self._predicted), 'frame')} segmented by a model")
            if self._edited:
                lines.append(f"{count(len(self._edited), 'frame')} edited")
            if self.rules:
                lines.append(count(len(self.rules), 'whole-video relabel'))
        return lines

    def close(self) -> None:
        """Close the source."""
        if self.source is not None:
            self.source.close()
