"""The error hierarchy of the core.

Every error carries the file it is about (when there is one) and says what is
wrong with it, so that a dialog or the CLI can show ``str(error)`` as it is.
"""

from __future__ import annotations

from pathlib import Path


class ViewerError(Exception):
    """Base class of every error the application reports to the user.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    path : str or Path, optional
        The file the problem is about.
    """

    def __init__(self, message: str, path: str | Path | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        return f"{self.path}: {self.message}"


class FormatError(ViewerError):
    """A mask file cannot be read or written in the requested format."""


class ReadError(FormatError):
    """A file is missing, truncated, corrupt or not what its format says."""


class WriteError(FormatError):
    """A file cannot be written (permissions, disk, or data the format cannot hold)."""


class PaletteError(ViewerError):
    """A palette file is malformed or a palette id is unknown."""


class SettingsError(ViewerError):
    """The settings file is malformed or holds unknown keys."""


class ModelError(ViewerError):
    """A model file or manifest is missing, bad, or cannot be fed."""


class SegmentationError(ViewerError):
    """A label map or segment table breaks an invariant (shape, dtype, ids)."""


class TaskCancelled(ViewerError):
    """A long operation was cancelled by the user."""

    def __init__(self, message: str = "cancelled", path: str | Path | None = None):
        super().__init__(message, path)
