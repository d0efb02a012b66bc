"""Per-frame masks from a folder: one file per frame, matched by the number in its name.

The frame number is the run of digits that changes from file to file, looked
for from the end of the name: in ``clip3_frame_0012_mask.png`` the constant
``3`` is the clip and ``0012`` the frame. Any registered format reads the
files (``viewer.core.formats.registry.read_mask``), so a folder of Celantur
instance PNGs, VOC palette PNGs or ``.npy`` label maps all work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from viewer.core.errors import ReadError
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.formats.registry import FORMATS, read_mask
from viewer.core.segmentation import Segmentation

_DIGITS = re.compile(r"\d+")


def mask_extensions() -> frozenset[str]:
    """Every suffix a registered format reads."""
    return frozenset(ext for spec in FORMATS if spec.read is not None for ext in spec.extensions)


def frame_numbers(stems: Sequence[str]) -> list[int | None]:
    """The frame number in each file stem (None when a stem has no digits).

    Uses the digit run, counted from the end, whose value differs between
    the files; with a single file, its last run.
    """
    runs = [_DIGITS.findall(stem) for stem in stems]
    longest = max((len(r) for r in runs), default=0)
    back = 1
    for candidate in range(1, longest + 1):
        values = {int(r[-candidate]) for r in runs if len(r) >= candidate}
        if len(values) > 1:
            back = candidate
            break
    return [int(r[-back]) if len(r) >= back else None for r in runs]


class MaskFolder:
    """A folder with one mask file per video frame.

    Parameters
    ----------
    folder : str or Path
    video_size : (width, height), optional
        The video's frame size: smaller masks of the same aspect ratio are
        upscaled with nearest neighbour, others are an error.
    format_name : str, optional
        Registry name of the masks' format; default: detected per file.
    pattern : str
        Glob for the mask files (to leave out other files in the folder).
    first_number : int
        The number in the file name of the video's first frame (1 for
        ffmpeg's ``%05d`` default, 0 otherwise).

    Raises
    ------
    ReadError
        No mask files with a frame number, or two files for one frame.
    """

    def __init__(self, folder: str | Path, *, video_size: tuple[int, int] | None = None,
                 format_name: str | None = None, pattern: str = "*", first_number: int = 0):
        self.folder = Path(folder)
        self.video_size = video_size
        self.format_name = format_name
        self.files = _index_files(self.folder, pattern, first_number)
        self.upscaled_from: tuple[int, int] | None = None  # the masks' size, once one was

    def frames(self) -> list[int]:
        """The frame indices that have a mask, ascending."""
        return sorted(self.files)

    def mask_for(self, frame_index: int) -> Segmentation | None:
        """Read the mask of frame ``frame_index`` (a new object each call), or None."""
        path = self.files.get(frame_index)
        if path is None:
            return None
        seg = read_mask(path, self.format_name, image_size=self.video_size)
        smaller = seg.provenance.details.get("upscaled_from")
        if smaller and self.upscaled_from is None:
            self.upscaled_from = tuple(smaller)
        return seg

    def summary(self) -> list[str]:
        """Sentences worth telling after a run (how many files; masks smaller than the video)."""
        frames = self.frames()
        lines = [f"{len(frames)} mask files in {self.folder} for frames {frames[0]}-{frames[-1]}"]
        if self.upscaled_from is not None and self.video_size is not None:
            w, h = self.upscaled_from
            lines.append(f"the masks are {w}x{h}, smaller than the video's "
                         f"{self.video_size[0]}x{self.video_size[1]}: upscaled with nearest "
                         "neighbour (not ground truth at the video's size; the right folder?)")
        return lines

    def close(self) -> None:
        """Nothing stays open between reads."""


def _index_files(folder: Path, pattern: str, first_number: int) -> dict[int, Path]:
    if not folder.is_dir():
        raise ReadError("is not a folder of masks", folder)
    suffixes = mask_extensions()
    candidates = sorted(p for p in folder.glob(pattern) if p.is_file()
                        and not p.name.startswith(".") and p.suffix.lower() in suffixes
                        and not p.name.lower().endswith(SIDECAR_SUFFIX))
    files: dict[int, Path] = {}
    below = 0
    for path, number in zip(candidates, frame_numbers([_stem(p) for p in candidates]),
                            strict=True):
        if number is None:
            continue
        if number < first_number:
            below += 1
            continue
        index = number - first_number
        if index in files:
            raise ReadError(f"{files[index].name} and {path.name} are both frame {number}; "
                            "choose one kind of file with a pattern", folder)
        files[index] = path
    if not files and below:
        raise ReadError(f"all {below} mask files are numbered below {first_number}, the "
                        "number of the video's first frame", folder)
    if not files:
        raise ReadError(f"no mask files named with a frame number (matching {pattern!r}, "
                        f"suffixes {', '.join(sorted(suffixes))})", folder)
    return files


def _stem(path: Path) -> str:
    # The whole name minus its last suffix: "f_0001.seg.png" keeps "f_0001.seg".
    return path.name[: -len(path.suffix)] if path.suffix else path.name
