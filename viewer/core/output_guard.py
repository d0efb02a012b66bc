"""Which files a command may write: never an input, never one path twice, never a stranger's.

A command that writes (``convert``, ``segment``, ``render``, the GUI's
exports) runs inside :func:`guarded`, naming what it reads. Every
:func:`viewer.core.fileio.atomic_open` then asks the guard twice:

- before the temporary file is made: a target that is an input (the same
  file, by ``os.path.samefile`` identity, or a file inside an input folder)
  is refused, ``overwrite`` or not;
- once its bytes are complete: a target an earlier export of this run wrote
  with other bytes is refused (two inputs with one stem), naming both; an
  existing file is replaced only when the user named it, gave
  ``overwrite``, the bytes are the same, or it is a file of an earlier
  SegView export there (listed in a ``.segview.json`` beside it). An
  existing ``.segview.json`` is replaced only when it describes the files
  this export writes, never when it belongs to another mask.

With ``ask=True`` (the GUI) every existing file that would change is refused
with :class:`OutputExistsError`, so that the window can ask and retry with
``overwrite``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from viewer.core.errors import ViewerError, WriteError
from viewer.core.transaction import file_sha256

SIDECAR_SUFFIX = ".segview.json"  # as formats.names (not imported: it imports the formats)
_GUARD: contextvars.ContextVar[OutputGuard | None] = contextvars.ContextVar(
    "segview_output_guard", default=None)


class OutputExistsError(WriteError):
    """A file that exists would be replaced without the user's leave."""


@dataclass(frozen=True)
class _Planned:
    owner: object  # the transaction (or None) that wrote it
    label: str
    sha256: str


class OutputGuard:
    """The inputs of one command and the outputs it has written so far.

    Parameters
    ----------
    inputs : iterable of path
        Files (or folders: every file inside) the command reads.
    overwrite : bool
        Replace existing files that are not inputs (``--overwrite``).
    named : iterable of path
        Outputs the user named (``render -o OUT``): replaced when they exist.
    ask : bool
        Refuse every change to an existing file with :class:`OutputExistsError`.
    """

    def __init__(self, inputs: Iterable[str | Path] = (), *, overwrite: bool = False,
                 named: Iterable[str | Path] = (), ask: bool = False):
        self.overwrite = overwrite
        self.ask = ask
        self.named = {_key(p) for p in named}
        self._files: dict[tuple[int, int], Path] = {}
        self._folders: list[tuple[str, Path]] = []
        self._planned: dict[str, _Planned] = {}
        self._listed: dict[str, dict[str, set[str]]] = {}
        self.add_inputs(inputs)

    def add_inputs(self, paths: Iterable[str | Path]) -> None:
        """Protect more files (an input's own side files, once known)."""
        for path in paths:
            path = Path(path)
            with contextlib.suppress(OSError):
                info = path.stat()
                if path.is_dir():
                    self._folders.append((os.path.realpath(path), path))
                else:
                    self._files[(info.st_dev, info.st_ino)] = path

    def input_at(self, target: Path) -> Path | None:
        """The input ``target`` is (or lies in), else None."""
        try:
            info = target.stat()
        except OSError:
            return None
        same = self._files.get((info.st_dev, info.st_ino))
        if same is not None:
            return same
        real = os.path.realpath(target)
        for folder, given in self._folders:
            if real.startswith(folder.rstrip(os.sep) + os.sep):
                return given
        return None

    def check_open(self, target: Path) -> None:
        """Refuse, before anything is written, a target that is an input."""
        source = self.input_at(target)
        if source is not None:
            where = "" if _key(source) == _key(target) else f" ({source})"
            raise WriteError(f"refusing to write over an input of this command{where}; "
                             "choose another output folder or name", target)

    def check_done(self, target: Path, tmp: Path, owner: object, label: str) -> None:
        """Refuse the complete temporary ``tmp`` for ``target`` if it replaces what it must not."""
        key = _key(target)
        digest = file_sha256(tmp)
        prior = self._planned.get(key)
        if prior is not None and prior.owner is not owner:
            if prior.sha256 != digest:
                both = " and ".join(f"{x}" for x in (prior.label, label) if x) or "two outputs"
                raise WriteError(f"{both} would both write this file; write them into "
                                 "different output folders", target)
        elif prior is None and os.path.lexists(target) and not self._may_replace(
                target, key, digest, owner):
            raise OutputExistsError(self._why_not(target), target)
        self._planned[key] = _Planned(owner, label, digest)

    def _why_not(self, target: Path) -> str:
        if self.ask:
            return "exists"
        what = ("is the metadata of other files" if target.name.endswith(SIDECAR_SUFFIX)
                else "exists and is not a file of an earlier SegView export in this format")
        return f"{what}; pass --overwrite to replace it, or choose another output folder"

    def _may_replace(self, target: Path, key: str, digest: str, owner: object) -> bool:
        if key in self.named or self.overwrite:
            return True
        with contextlib.suppress(OSError):
            if target.is_file() and file_sha256(target) == digest:
                return True  # nothing changes
        if self.ask:
            return False
        if target.name.endswith(SIDECAR_SUFFIX):
            described = _listed(target) - {key}
            return bool(described & {_key(t) for t in getattr(owner, "targets", [])})
        # Up to three levels: CVAT lists ImageSets/Segmentation/default.txt.
        formats = set().union(*(self._listed_in(folder).get(key, set())
                                for folder in list(target.parents)[:3]))
        if not formats:
            return False
        # An export in another format does not own it (a labelme JSON must not replace the
        # Celantur JSON of an earlier export); one in the same format re-exports or shares
        # it (CVAT's labelmap.txt across the images of one folder).
        ours = getattr(owner, "format_name", None)
        return ours is None or formats == {ours}

    def _listed_in(self, folder: Path) -> dict[str, set[str]]:
        """File -> formats of our metadata JSONs in ``folder`` that list it (read once)."""
        key = _key(folder)
        if key not in self._listed:
            found: dict[str, set[str]] = {}
            with contextlib.suppress(OSError):
                for name in os.listdir(folder):
                    if name.endswith(SIDECAR_SUFFIX):
                        listed, fmt = _listed_with_format(folder / name)
                        for item in listed:
                            found.setdefault(item, set()).add(fmt)
            self._listed[key] = found
        return self._listed[key]


@contextlib.contextmanager
def guarded(inputs: Iterable[str | Path] = (), *, overwrite: bool = False,
            named: Iterable[str | Path] = (), ask: bool = False) -> Iterator[OutputGuard]:
    """Check every atomic write inside the block with one :class:`OutputGuard`."""
    guard = OutputGuard(inputs, overwrite=overwrite, named=named, ask=ask)
    outer = _GUARD.get()
    _GUARD.set(guard)
    try:
        yield guard
    finally:
        if _GUARD.get() is guard:  # not another command's (a task closed elsewhere)
            _GUARD.set(outer)


def current() -> OutputGuard | None:
    """The guard of this thread's command, or None."""
    return _GUARD.get()


def _listed(sidecar: Path) -> set[str]:
    """The files a metadata JSON says it describes (itself included), or an empty set."""
    return _listed_with_format(sidecar)[0]


def _listed_with_format(sidecar: Path) -> tuple[set[str], str]:
    """The files a metadata JSON describes (itself included) and the format it records."""
    from viewer.core.formats.common import load_json  # the formats import fileio

    try:
        doc = load_json(sidecar)
    except (ViewerError, ValueError, RecursionError):
        return set(), ""
    if not isinstance(doc, dict) or doc.get("schema") != "segview-metadata":
        return set(), ""
    fmt = doc.get("format") if isinstance(doc.get("format"), str) else ""
    names = [doc.get("overlay_file"), *_strings(doc.get("mask_files"))]
    frames = doc.get("frames")
    for frame in frames if isinstance(frames, list) else []:
        if isinstance(frame, dict):
            names += _strings(frame.get("mask_files"))
    base = sidecar.parent
    return {_key(base / name) for name in names if isinstance(name, str) and name} | {
        _key(sidecar)}, fmt


def _strings(value) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _key(path: str | Path) -> str:
    return os.path.normcase(os.path.abspath(path))
