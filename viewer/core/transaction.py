"""One export, one transaction: all its files appear together, or none of them do.

Inside :func:`transaction`, :func:`viewer.core.fileio.atomic_open` writes each
file to a temporary file beside its target and, instead of renaming it into
place at close, registers ``(temporary, target)`` here. At the end of the
block the transaction commits:

1. a journal (``.export.segview-<host>-<pid>-<random>.journal`` in the
   export's home folder) lists every temporary, target and backup, marked
   ``prepared``, written atomically;
2. each existing target is kept as a backup (a hard link, else a rename) and
   its temporary renamed over it;
3. the journal is marked ``committed``; backups and journal are deleted.

Any exception before step 3 puts every previous version back and removes
the temporaries. A process killed at any point leaves the journal; the next
:func:`recover` of that folder (every export into it, and every command at
start for its output folder) rolls it back (``prepared``, or still being
written) or forward (``committed``), and removes our temporaries whose
process is gone. Our files are recognised by ``.segview-<host>-<pid>-`` in
their names, so nothing of anyone else's is touched.

The current transaction is a context variable, so a worker thread's export
never joins a transaction of another thread; nested blocks join the outer one
(a video sequence export holds one transaction for all its frames).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError

MARK = ".segview-"
TEMP_SUFFIX = ".tmp"
BACKUP_SUFFIX = ".bak"
JOURNAL_SUFFIX = ".journal"
#: A file of ours from a process we cannot see (another host, or Windows,
#: where we do not probe processes) counts as stale after this long.
FOREIGN_STALE_S = 24 * 3600
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]
_OURS = re.compile(re.escape(MARK) + r"(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[A-Za-z0-9_]*"
                   r"(?P<kind>\.tmp|\.bak|\.journal)$")
_CURRENT: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "segview_transaction", default=None)
_RECOVERED: set[str] = set()


def temp_prefix(target: Path) -> str:
    """The start of our temporary names for ``target`` (short enough for any file system)."""
    return f".{target.name[:80]}{MARK}{_HOST}-{os.getpid()}-"


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current() -> Transaction | None:
    """The transaction of this thread's export, or None."""
    return _CURRENT.get()


def current_path(target: str | Path) -> Path:
    """Where the bytes of ``target`` are now: its temporary while a transaction holds it."""
    tx = _CURRENT.get()
    pending = tx.pending(Path(target)) if tx is not None else None
    return pending or Path(target)


@contextlib.contextmanager
def transaction(home: str | Path | None = None, label: str = "",
                format_name: str | None = None) -> Iterator[Transaction]:
    """Make every atomic write inside the block part of one all-or-nothing export.

    Parameters
    ----------
    home : str or Path, optional
        The export's folder: where the journal goes (default the first
        file's folder). Stale journals and temporaries there are recovered
        first.
    label : str
        What is being exported (an input's name), for error messages.
    format_name : str, optional
        The registry format written: a file an earlier export in another format
        wrote is not this export's to replace (see :mod:`viewer.core.output_guard`).
    """
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    if home is not None:
        recover_once(home)
    tx = Transaction(Path(home) if home is not None else None, label, format_name)
    _CURRENT.set(tx)
    try:
        yield tx
        # Reset before committing: the commit's own journal is written plainly.
        _CURRENT.set(None)
        tx.commit()
    except BaseException:
        _CURRENT.set(None)
        tx.rollback()
        raise
    finally:
        if _CURRENT.get() in (tx, None):  # not another export's (a task closed elsewhere)
            _CURRENT.set(outer)


class Transaction:
    """The files of one export, held as temporaries until :meth:`commit`."""

    def __init__(self, home: Path | None, label: str = "", format_name: str | None = None):
        self.home = home
        self.label = label
        self.format_name = format_name
        self._entries: dict[Path, Path] = {}  # target -> complete temporary
        self._journal: Path | None = None
        self._plan: list[dict] = []
        self._done = 0

    @property
    def targets(self) -> list[Path]:
        """The files this export will write, in the order they were written."""
        return list(self._entries)

    def pending(self, target: Path) -> Path | None:
        """The temporary holding ``target``'s new bytes, or None."""
        return self._entries.get(_absolute(target))

    def started(self, tmp: Path, target: Path) -> None:
        """Note a temporary as soon as it exists, so that a kill leaves it listed."""
        journal = self._journal_path(target)
        line = json.dumps({"tmp": _rel(tmp, journal), "target": _rel(target, journal)})
        try:
            with open(journal, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise WriteError(f"cannot write: {exc.strerror or exc}", journal) from exc

    def register(self, tmp: Path, target: Path) -> None:
        """Hold the complete temporary ``tmp`` for ``target`` until commit."""
        target = _absolute(target)
        previous = self._entries.pop(target, None)
        if previous is not None and previous != tmp:
            _unlink(previous)  # a side file written again by the same export: the last wins
        self._entries[target] = Path(tmp)

    def commit(self) -> None:
        """Move every file into place; on failure put every previous version back."""
        if not self._entries:
            self._drop_journal()
            return
        journal = self._journal_path(next(iter(self._entries)))
        for target, tmp in self._entries.items():
            existed = os.path.lexists(target)
            backup = _backup_name(target) if existed else None
            self._plan.append({"tmp": tmp, "target": target, "backup": backup,
                               "existed": existed})
        try:
            _write_journal(journal, "prepared", self._plan)
            for self._done, entry in enumerate(self._plan, start=1):
                if entry["backup"] is not None:
                    _keep(entry["target"], entry["backup"])
                _step_replace(entry["tmp"], entry["target"])
            _write_journal(journal, "committed", self._plan)
        except OSError as exc:
            failed = self._plan[max(self._done - 1, 0)]["target"]
            raise WriteError(f"cannot write: {exc.strerror or exc}", failed) from exc
        for entry in self._plan:
            if entry["backup"] is not None:
                _unlink(entry["backup"])
        self._drop_journal()
        self._entries.clear()

    def rollback(self) -> None:
        """Put back what commit had replaced and remove every temporary."""
        try:
            _undo(self._plan[: self._done])
            for tmp in self._entries.values():
                _unlink(tmp)
        except OSError:
            return  # the journal stays: the next run finishes the rollback
        self._drop_journal()
        self._entries.clear()

    def _journal_path(self, target: Path) -> Path:
        if self._journal is None:
            folder = self.home if self.home is not None else Path(target).parent
            folder.mkdir(parents=True, exist_ok=True)
            name = f".export{MARK}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{JOURNAL_SUFFIX}"
            self._journal = _absolute(folder / name)
        return self._journal

    def _drop_journal(self) -> None:
        if self._journal is not None:
            _unlink(self._journal)


# -- recovery ------------------------------------------------------------------------


def recover_once(folder: str | Path) -> list[str]:
    """:func:`recover` ``folder`` the first time this process writes into it."""
    key = str(_absolute(Path(folder)))
    if key in _RECOVERED:
        return []
    return recover(folder)


def recover(folder: str | Path) -> list[str]:
    """Finish or undo the exports a killed process left in ``folder``; remove its temporaries.

    Journals are rolled back (or forward when committed); our temporaries in
    ``folder`` and its subfolders whose process is gone are removed.
    Returns one sentence per thing done, for a log; never raises.
    """
    folder = Path(folder)
    notes: list[str] = []
    # A command recovers its output folder at its start; its exports then need not again.
    _RECOVERED.add(str(_absolute(folder)))
    try:
        safe_input.check_path(folder)
    except ReadError:
        return notes  # a name no file system takes holds nothing of ours; the write says why
    for path in _ours(folder, JOURNAL_SUFFIX):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            notes.append(_recover_journal(path))
    for place in [folder, *_subfolders(folder)]:
        for path in _ours(place, TEMP_SUFFIX):
            with contextlib.suppress(OSError):
                path.unlink()
                notes.append(f"removed the unfinished file {path}")
    return notes


def _recover_journal(journal: Path) -> str:
    state, plan = _read_journal(journal)
    if state == "committed":
        for entry in plan:
            if entry.get("backup") is not None:
                _unlink(entry["backup"])
        what = "finished"
    else:
        if state == "prepared":
            _undo(plan)
        for entry in plan:
            _unlink(entry["tmp"])
        what = "undid"
    journal.unlink()
    return f"{what} an interrupted export ({journal})"


def _read_journal(journal: Path) -> tuple[str, list[dict]]:
    text = journal.read_text("utf-8")
    base = journal.parent
    with contextlib.suppress(ValueError):
        doc = json.loads(text)
        if isinstance(doc, dict) and "state" in doc:
            plan = [{"tmp": base / e["tmp"], "target": base / e["target"],
                     "backup": base / e["backup"] if e.get("backup") else None,
                     "existed": bool(e["existed"])} for e in doc["entries"]]
            return str(doc["state"]), plan
    plan = []
    for line in text.splitlines():  # still being written: temporaries only
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entry = json.loads(line)
            plan.append({"tmp": base / entry["tmp"], "target": base / entry["target"],
                         "backup": None, "existed": True})
    return "writing", plan


def _undo(plan: list[dict]) -> None:
    """Put back the previous version of each target of ``plan`` (latest first)."""
    for entry in reversed(plan):
        backup, target = entry["backup"], entry["target"]
        if backup is not None and os.path.lexists(backup):
            if _same_file(backup, target):
                _unlink(backup)  # rename() between two links of one file does nothing
            else:
                _step_replace(backup, target)
        elif not entry["existed"] and not os.path.lexists(entry["tmp"]):
            _unlink(target)  # the temporary became the target: a file that was not there


def _ours(folder: Path, suffix: str) -> list[Path]:
    """Our stale files of one kind directly in ``folder``."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        match = _OURS.search(name)
        if match and match["kind"] == suffix and _stale(folder / name, match):
            found.append(folder / name)
    return found


def _subfolders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _stale(path: Path, match: re.Match) -> bool:
    """True when the process that made ``path`` is gone."""
    pid = int(match["pid"])
    if match["host"] == _HOST and sys.platform != "win32":
        if pid == os.getpid():
            return False  # maybe another thread's export, still running
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # alive, another user's
        return False
    try:
        return time.time() - path.lstat().st_mtime > FOREIGN_STALE_S
    except OSError:
        return False


# -- file steps (one seam each, so the fault tests can fail any of them) ----------------


def _write_journal(journal: Path, state: str, plan: list[dict]) -> None:
    doc = {"state": state, "entries": [
        {"tmp": _rel(e["tmp"], journal), "target": _rel(e["target"], journal),
         "backup": _rel(e["backup"], journal) if e["backup"] is not None else None,
         "existed": e["existed"]} for e in plan]}
    # Named like our temporaries, so that a kill here leaves nothing recovery misses.
    tmp = journal.with_name(journal.name[: -len(JOURNAL_SUFFIX)] + "n" + TEMP_SUFFIX)
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
            handle.flush()
            os.fsync(handle.fileno())
        _step_replace(tmp, journal)
    except BaseException:
        _unlink(tmp)
        raise


def _keep(target: Path, backup: Path) -> None:
    """Keep the previous version of ``target`` as ``backup``; ``target`` stays in place."""
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError:
        _step_replace(target, backup)  # no hard links here (FAT, some shares)


def _step_replace(src: Path, dst: Path) -> None:
    os.replace(src, dst)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _backup_name(target: Path) -> Path:
    return target.with_name(f"{temp_prefix(target)}{secrets.token_hex(4)}{BACKUP_SUFFIX}")


def _rel(path: Path, journal: Path) -> str:
    return os.path.relpath(path, journal.parent)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
