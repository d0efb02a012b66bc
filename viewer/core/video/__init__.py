"""Video: frame-accurate readers, per-frame mask sources and overlay export.

Pure core (PyAV or OpenCV, numpy; never Qt). PyAV is imported only by the
modules that need it, so ``open_video`` still works on OpenCV without it.
"""

from viewer.core.video.base import VIDEO_EXTENSIONS, FrameReader, VideoInfo
from viewer.core.video.cache import FrameCache
from viewer.core.video.camera import LiveStream, open_stream, parse_source
from viewer.core.video.celantur_chunks import CelanturChunks
from viewer.core.video.celantur_export import export_celantur_chunks
from viewer.core.video.export import OverlayVideo, export_overlay_video, metadata_path
from viewer.core.video.frame_index import FrameIndex
from viewer.core.video.frame_metadata import VideoMetadata
from viewer.core.video.frame_store import ClassRule, FrameStore
from viewer.core.video.mask_folder import MaskFolder, frame_numbers
from viewer.core.video.mask_source import MaskSource, open_mask_source
from viewer.core.video.mask_video import MaskVideo, read_legend
from viewer.core.video.readers import open_video, pyav_available
from viewer.core.video.segment_video import segment_video
from viewer.core.video.sequence_export import SequenceResult, export_mask_sequence
from viewer.core.video.temporal import Suspicion, TemporalStats, temporal_stats
from viewer.core.video.writer import VideoWriter, h264_encoder

__all__ = [
    "VIDEO_EXTENSIONS", "CelanturChunks", "ClassRule", "FrameCache", "FrameIndex",
    "FrameReader", "FrameStore", "LiveStream", "MaskFolder", "MaskSource", "MaskVideo",
    "OverlayVideo", "SequenceResult", "Suspicion", "TemporalStats", "VideoInfo",
    "VideoMetadata", "VideoWriter", "export_celantur_chunks", "export_mask_sequence",
    "export_overlay_video", "frame_numbers", "h264_encoder", "metadata_path",
    "open_mask_source", "open_stream", "open_video", "parse_source", "pyav_available",
    "read_legend", "segment_video", "temporal_stats",
]
