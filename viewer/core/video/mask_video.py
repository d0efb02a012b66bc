"""Per-frame masks from a mask video (ClearML stores RGB masks as mp4).

The colours are codec-damaged, so every pixel is snapped to the nearest
colour of the legend (:mod:`~viewer.core.video.color_snap`) and the damage is
reported: per frame in ``provenance.details`` and for the whole run in
:meth:`MaskVideo.summary`. Frame ``i`` of the mask video is the mask of frame
``i`` of the video.

The legend is ClearML's mask-label table in any of the spellings
:func:`viewer.core.formats.clearml.read_mask_labels` reads
(``{"_all_": [{"value", "labels"}]}``, ``{"(R, G, B)": [labels]}`` or a
``_mask_legend.json`` ``{"label": [R, G, B]}``), given or found beside the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.core.errors import ReadError
from viewer.core.formats.clearml import ALL_MASKS, LABEL_JOIN, read_mask_labels
from viewer.core.formats.common import fit_to_image
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Provenance, Segmentation
from viewer.core.types import RGB
from viewer.core.video.color_snap import ColorSnapper, SnapResult
from viewer.core.video.readers import open_video

FORMAT_NAME = "mask-video"
#: RGB distance beyond which a pixel is "far" from every legend colour: about
#: what H.264 at its default quality moves flat colours, well under the
#: distance between distinct legend colours.
DEFAULT_TOLERANCE = 24.0
LEGEND_NAMES = ("{stem}.mask_labels.json", "mask_labels.json", "_mask_legend.json")


@dataclass(frozen=True)
class LegendEntry:
    """One legend colour and the labels it stands for."""

    color: RGB
    labels: tuple[str, ...]

    @property
    def name(self) -> str:
        """The segment label: the label list joined as the ClearML reader joins it."""
        return LABEL_JOIN.join(self.labels)


def read_legend(path: str | Path) -> list[LegendEntry]:
    """The legend's colours in file order (the first of a repeated colour wins)."""
    path = Path(path)
    table = read_mask_labels(path)
    entries: dict[RGB, LegendEntry] = {}
    for key in [ALL_MASKS, *(k for k in table if k != ALL_MASKS)]:
        for color, labels in table.get(key, []):
            entries.setdefault(tuple(color), LegendEntry(tuple(color), tuple(labels)))
    if not entries:
        raise ReadError("the legend lists no colours", path)
    return list(entries.values())


def find_legend(video: Path) -> Path | None:
    """The legend beside a mask video, when one of the usual names is there."""
    for name in LEGEND_NAMES:
        candidate = video.parent / name.format(stem=video.stem)
        if candidate.is_file():
            return candidate
    return None


class MaskVideo:
    """A video whose frames are RGB masks, read through a colour legend.

    Parameters
    ----------
    path : str or Path
    legend : str or Path, optional
        Default: ``<stem>.mask_labels.json``, ``mask_labels.json`` or
        ``_mask_legend.json`` beside the video.
    video_size : (width, height), optional
        The video's frame size (smaller masks are upscaled, nearest neighbour).
    tolerance : float
        Distance that counts as far from every legend colour.
    backend : str, optional
        Video reader (see :func:`viewer.core.video.readers.open_video`).

    Raises
    ------
    ReadError
        The video cannot be read, or there is no legend or a bad one.
    """

    def __init__(self, path: str | Path, *, legend: str | Path | None = None,
                 video_size: tuple[int, int] | None = None,
                 tolerance: float = DEFAULT_TOLERANCE, backend: str | None = None):
        self.path = Path(path)
        legend_path = Path(legend) if legend is not None else find_legend(self.path)
        if legend_path is None:
            raise ReadError("a mask video needs its colour legend (mask_labels.json or "
                            "_mask_legend.json beside it, or given as the legend)", self.path)
        self.legend_path = legend_path
        self.legend = read_legend(legend_path)
        self.video_size = video_size
        self.snapper = ColorSnapper([e.color for e in self.legend], tolerance)
        self.reader = open_video(self.path, backend=backend, cache_mb=64)
        # Per frame, so a frame read twice (played, then measured) counts once.
        self._damage: dict[int, tuple[int, int, int, int]] = {}

    def frames(self) -> list[int]:
        """Every frame of the mask video."""
        return list(range(self.reader.frame_count))

    def mask_for(self, frame_index: int) -> Segmentation | None:
        """The snapped mask of frame ``frame_index``, or None past the mask video's end."""
        if not 0 <= frame_index < self.reader.frame_count:
            return None
        snap = self.snapper.snap(self.reader.frame(frame_index))
        self._damage[frame_index] = (snap.rows.size, snap.changed_pixels, snap.far_pixels,
                                     snap.max_error)
        seg = Segmentation.from_values(
            snap.rows, kind=Kind.SEMANTIC, describe=self._describe,
            hidden_values=[i for i, e in enumerate(self.legend)
                           if e.name.strip().lower() in BACKGROUND_NAMES],
            provenance=Provenance(str(self.path), FORMAT_NAME,
                                  self._details(frame_index, snap)))
        return seg if self.video_size is None else fit_to_image(seg, self.video_size, self.path)

    def summary(self) -> list[str]:
        """The colour damage over every frame read so far, as sentences."""
        damage = list(self._damage.values())
        if not damage:
            return []
        t = {"frames": len(damage), "pixels": sum(d[0] for d in damage),
             "changed": sum(d[1] for d in damage), "far": sum(d[2] for d in damage),
             "max_error": max(d[3] for d in damage)}
        share = 100.0 * t["changed"] / max(t["pixels"], 1)
        lines = [f"mask video {self.path.name}: {t['changed']:,} of {t['pixels']:,} pixels "
                 f"({share:.2f}%) in {t['frames']} frames were not exactly a legend colour and "
                 f"were snapped to the nearest (largest move {t['max_error']})"]
        if t["far"]:
            lines.append(f"mask video {self.path.name}: {t['far']:,} pixels "
                         f"({100.0 * t['far'] / max(t['pixels'], 1):.2f}%) were farther than "
                         f"{self.snapper.tolerance:g} from every legend colour: blends at class "
                         f"edges (4:2:0 video halves colour resolution), or colours "
                         f"{self.legend_path.name} lacks")
        return lines

    def close(self) -> None:
        """Close the mask video."""
        self.reader.close()

    def _describe(self, row: int) -> dict[str, Any]:
        entry = self.legend[row]
        return {"label": entry.name, "class_id": row, "color": entry.color,
                "source_value": entry.color, "attributes": {"labels": list(entry.labels)}}

    def _details(self, frame_index: int, snap: SnapResult) -> dict[str, Any]:
        details: dict[str, Any] = {
            "frame": frame_index, "legend": str(self.legend_path),
            "tolerance": self.snapper.tolerance, "snapped_pixels": snap.changed_pixels,
            "far_pixels": snap.far_pixels, "max_colour_error": snap.max_error}
        if snap.changed_pixels:
            pixels = snap.rows.size
            details["warnings"] = [
                f"frame {frame_index}: {snap.changed_pixels:,} of {pixels:,} pixels were not "
                f"exactly a legend colour (video compression) and were snapped to the nearest; "
                f"{snap.far_pixels:,} were farther than {self.snapper.tolerance:g}"]
        return details

