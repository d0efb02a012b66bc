"""Export per-frame masks as a sequence of mask files plus ONE metadata JSON.

Every frame with a mask becomes ``<stem>_<frame:06d>.<ext>`` in any
writable registered format, written by the format's own writer (atomically,
with the side files the format itself needs: a legend, ``label_colors.txt``,
a DeepStream layout JSON, Celantur's ``image-name.json``). The name carries
the frame number, so :class:`~viewer.core.video.mask_folder.MaskFolder` reads
the files back matched by frame (:meth:`SequenceResult.open`).

Why no ``.segview.json`` beside every mask (as a single-image export writes):
a video has thousands of frames, and one sidecar each would double the file
count to repeat what ``<stem>.segview.json`` already holds, one record per
frame (segments with labels, colours, scores, and that frame's files). Pass
``sidecars=True`` when each mask file must reopen on its own with its labels
(the GUI opening one frame's PNG); the format's own side files are written
either way.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from viewer.core import metadata
from viewer.core.errors import WriteError
from viewer.core.export import export, losses
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.formats.registry import get_format
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import Progress, Task
from viewer.core.transaction import transaction
from viewer.core.video.base import FrameReader
from viewer.core.video.frame_metadata import VideoMetadata
from viewer.core.video.mask_folder import MaskFolder
from viewer.core.video.mask_source import MaskSource

#: Digits of the frame number in file names (more when a video is longer).
FRAME_DIGITS = 6
#: The stem when neither a stem nor a video is given.
DEFAULT_STEM = "frame"


@dataclass(frozen=True)
class SequenceResult:
    """What a sequence export wrote.

    Attributes
    ----------
    folder : Path
        The output folder.
    format_name : str
        Registry name of the mask files' format.
    mask_files : dict of int to Path
        The primary mask file of each frame written.
    files : list of Path
        Every file written, each once (side files a format shares between
        frames, such as ``label_colors.txt``, included), the metadata last.
    metadata : Path
        ``<stem>.segview.json``: one record per frame.
    pattern : str
        Glob (relative to ``folder``) that picks the primary mask files and
        nothing else, for :class:`MaskFolder`.
    lost : list of str
        What the format could not hold, over all frames (each sentence once).
    overlay : Path or None
        The overlay video, when one was written along (see
        :mod:`viewer.core.video.segment_video`).
    notes : list of str
        Other things worth telling (overlay padding).
    """

    folder: Path
    format_name: str
    mask_files: dict[int, Path]
    files: list[Path]
    metadata: Path
    pattern: str
    lost: list[str] = field(default_factory=list)
    overlay: Path | None = None
    notes: list[str] = field(default_factory=list)

    def open(self, *, video_size: tuple[int, int] | None = None) -> MaskFolder:
        """The written masks as a mask source, matched by frame number."""
        return MaskFolder(self.folder, video_size=video_size, format_name=self.format_name,
                          pattern=self.pattern)


def sequence_metadata_path(out_dir: str | Path, stem: str) -> Path:
    """Where the sequence's metadata goes: ``<out_dir>/<stem>.segview.json``.

    The name ends like every sidecar, so a :class:`MaskFolder` over the
    folder never takes it for a mask, and no mask's own sidecar has it
    (those are ``<stem>_<frame>.segview.json``).
    """
    return Path(out_dir) / f"{stem}{SIDECAR_SUFFIX}"


def export_mask_sequence(masks: MaskSource, format_name: str, out_dir: str | Path, *,
                         video: FrameReader | None = None, stem: str | None = None,
                         frames: Iterable[int] | None = None,
                         palette: tuple[str, str] | None = None,
                         sidecars: bool = False) -> Task[SequenceResult]:
    """Write one mask file per frame that has a mask, then the sequence's metadata JSON.

    Parameters
    ----------
    masks : MaskSource
    format_name : str
        Registry name of a writable format (``segview formats``).
    out_dir : str or Path
        Created when missing.
    video : FrameReader, optional
        The masks' video: recorded as the source, gives each frame's
        timestamp, and a mask of another size is refused.
    stem : str, optional
        Base of the file names; default the video's stem, else ``frame``.
    frames : iterable of int, optional
        Frames to write (default every frame of ``masks``); frames without a
        mask are skipped.
    palette : (id, title), optional
        The palette in use, recorded in the metadata.
    sidecars : bool
        Also write ``<stem>_<frame>.segview.json`` beside every mask (see
        the module's docstring for why the default is not to).

    Raises
    ------
    WriteError
        A read-only format, a mask of the wrong size, a file that cannot be
        written, or no frame with a mask. Nothing is written then: the
        export is one transaction (:mod:`viewer.core.transaction`), and the
        previous versions of its files stay in place.
    ReadError
        From the mask source.
    """
    sequence = SequenceWriter(format_name, out_dir, stem=stem, video=video, palette=palette,
                              sidecars=sidecars)
    wanted = masks.frames() if frames is None else sorted(set(frames))
    total = len(wanted)
    yield Progress(0, total, f"Writing masks as {sequence.format_name}")
    # One transaction: every frame's files and the metadata appear together.
    with transaction(home=out_dir, label=str(video.path if video is not None else out_dir)):
        for done, index in enumerate(wanted, start=1):
            seg = masks.mask_for(index)
            if seg is not None:
                sequence.add(index, seg)
            yield Progress(done, total, f"Frame {index}")
        return sequence.finish()


class SequenceWriter:
    """Writes one frame's mask at a time and collects the sequence's metadata.

    The export task and ``segment_video`` (which makes each mask as it goes)
    share it, so both write the same files. Parameters are those of
    :func:`export_mask_sequence`.
    """

    def __init__(self, format_name: str, out_dir: str | Path, *, stem: str | None = None,
                 video: FrameReader | None = None, palette: tuple[str, str] | None = None,
                 sidecars: bool = False):
        self.spec = get_format(format_name)
        self.folder = Path(out_dir)
        self.stem = stem or (video.path.stem if video is not None else DEFAULT_STEM)
        self.video = video
        self.palette = palette
        self.sidecars = sidecars
        self.metadata_path = sequence_metadata_path(self.folder, self.stem)
        if self.spec.write is None:
            raise WriteError(f"format {self.spec.name!r} is read-only; segview formats lists "
                             "the ones that write", self.folder)
        if os.sep in self.stem or "/" in self.stem or self.stem in (".", ".."):
            raise WriteError(f"the file name stem {self.stem!r} is not a plain name", self.folder)
        source = video.path if video is not None else self.folder / self.stem
        self.record = VideoMetadata(source, format_name=self.spec.name)
        self.mask_files: dict[int, Path] = {}
        self.files: list[Path] = []
        self._seen: set[Path] = set()
        self.lost: list[str] = []
        self.pattern = "*"

    @property
    def format_name(self) -> str:
        """Registry name of the format written."""
        return self.spec.name

    def add(self, frame_index: int, seg: Segmentation) -> list[Path]:
        """Write the mask of one frame; return the files written for it."""
        self._check_size(seg, frame_index)
        name = f"{self.stem}_{frame_index:0{FRAME_DIGITS}d}"
        written, lost = self._write(seg, name)
        if not self.mask_files:
            self.pattern = _pattern(self._relative(written[0]), f"{frame_index:0{FRAME_DIGITS}d}")
        self.mask_files[frame_index] = written[0]
        for path in written:
            if path not in self._seen:  # side files shared by frames are listed once
                self._seen.add(path)
                self.files.append(path)
        self.lost.extend(line for line in lost if line not in self.lost)
        seconds = self.video.time_of(frame_index) if self.video is not None else None
        mask_files = [self._relative(f) for f in written if not f.name.endswith(SIDECAR_SUFFIX)]
        self.record.add(frame_index, seconds, seg, mask_files)
        return written

    def finish(self, *, overlay: Path | None = None,
               notes: Iterable[str] = ()) -> SequenceResult:
        """Write the metadata JSON and say what was written."""
        if not self.mask_files:
            raise WriteError("no frame had a mask, so nothing was written", self.folder)
        doc = self.record.document(
            overlay_file=self._relative(overlay) if overlay is not None else None)
        doc["lost"] = list(self.lost)
        doc["palette"] = {"id": self.palette[0], "title": self.palette[1]} \
            if self.palette else None
        if self.video is None:
            doc.pop("source_image", None)  # the name VideoMetadata needs is not a real file
        meta = metadata.write(self.metadata_path, doc)
        return SequenceResult(self.folder, self.spec.name, dict(self.mask_files),
                              [*self.files, meta], meta, self.pattern, list(self.lost),
                              overlay, list(notes))

    def _write(self, seg: Segmentation, name: str) -> tuple[list[Path], list[str]]:
        if self.sidecars:
            result = export(seg, self.spec.name, self.folder, name,
                            image=self.video.path if self.video is not None else None,
                            palette=self.palette)
            return [*result.files, result.metadata], list(result.lost)
        lost = losses(seg, self.spec.name)
        extension = self.spec.extensions[0] if self.spec.extensions else ""
        return [Path(f) for f in self.spec.write(seg, self.folder / f"{name}{extension}")], lost

    def _check_size(self, seg: Segmentation, frame_index: int) -> None:
        if self.video is None or seg.shape == (self.video.size[1], self.video.size[0]):
            return
        source = seg.provenance.source or "the mask source"
        raise WriteError(f"the mask of frame {frame_index} ({source}) is {seg.width}x"
                         f"{seg.height}, the video {self.video.size[0]}x{self.video.size[1]}",
                         self.video.path)

    def _relative(self, path: Path) -> str:
        try:
            return Path(os.path.relpath(path, self.folder)).as_posix()
        except ValueError:  # another drive on Windows
            return str(path)


def _pattern(relative: str, number: str) -> str:
    """The glob that matches ``relative`` with any frame number in place of ``number``."""
    at = relative.rfind(number)
    if at < 0:
        return "*"  # a writer that renamed the file beyond recognition
    return glob.escape(relative[:at]) + "*" + glob.escape(relative[at + len(number):])
