"""Run corpus cases in a few child processes, not one process per file.

The parent (:func:`run_cases`) starts ``python -m tests.corpus.runner`` children.
A child imports the viewer once, then for each case runs ``viewer.cli.main``
with stdout and stderr captured in memory, under a per-case alarm, and
writes one JSON line per case: exit code, stderr lines, elapsed seconds, its
own peak memory so far and any escaping exception. Allocation bombs run one
per child, so each one's peak memory is its own. The parent kills a child
that stops answering (a hang in C code the alarm cannot interrupt), records
the case as a hang and starts a new child for the cases left.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

CASE_TIMEOUT_S = 20
#: A bomb the limits let through (a 225 Mpx PNG is still a photo) may take a while to decode
#: on a loaded 2-core machine; its memory, not its time, is what the case checks.
BOMB_TIMEOUT_S = 90
#: Address-space guard of a child, so a bomb fails fast instead of swapping the machine.
ADDRESS_LIMIT = 6 << 30
PEAK_LIMIT_KB = 2 << 20  # 2 GiB, ru_maxrss is in KiB on Linux


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in the viewer eats it."""


def _alarm(signum, frame):
    raise CaseTimeout()


# -- core calls for inputs no subcommand reads on its own ------------------------------------
def _settings(path):
    from viewer.core.settings import load_settings

    load_settings(path)
    print("settings loaded")


def _palette(path):
    from viewer.core.palettes import load_palette

    palette = load_palette(path)
    print(f"palette with {len(palette.entries)} entries")


def _recovery_list(folder):
    from viewer.core.edit.recovery import list_sessions
    from viewer.core.video.recovery import list_video_sessions

    found = list_sessions(folder) + list_video_sessions(folder)
    print(f"sessions: {len(found)}")


def _recovery_restore(path):
    from viewer.core.edit.recovery import restore

    seg = restore(Path(path))
    print(f"restored {seg.width}x{seg.height}")


CALLS = {"@settings": _settings, "@palette": _palette, "@recovery-list": _recovery_list,
         "@recovery-restore": _recovery_restore}


def _invoke(argv: list[str]) -> int:
    if argv and argv[0] in CALLS:
        from viewer.core.errors import ViewerError

        try:
            CALLS[argv[0]](*argv[1:])
        except ViewerError as exc:
            print(f"segview: error: {exc}", file=sys.stderr)
            return 2
        return 0
    from viewer.cli import main

    return main(argv)


def run_one(case: dict) -> dict:
    """Run one case in this process; return what happened."""
    out, err = io.StringIO(), io.StringIO()
    result = {"id": case["id"], "rc": None, "error": None}
    start = time.monotonic()
    signal.signal(signal.SIGALRM, _alarm)
    limit = BOMB_TIMEOUT_S if case.get("bomb") else CASE_TIMEOUT_S
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = _invoke(case["argv"])
            except SystemExit as exc:  # argparse
                rc = exc.code if isinstance(exc.code, int) else 1
        result["rc"] = rc
    except CaseTimeout:
        result["error"] = f"timeout: no result after {limit} s"
    except MemoryError:
        result["error"] = "MemoryError (the address-space guard was hit)"
    except BaseException as exc:  # noqa: BLE001 - the corpus records every escape as a failure
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        result["error"] = "traceback: " + "".join(tb[-3:]).strip()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result["elapsed_s"] = round(time.monotonic() - start, 3)
    result["stdout"] = out.getvalue()[-4000:]
    result["stderr"] = err.getvalue().splitlines()[-20:]
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


def child_main(cases_file: str, ids: list[str]) -> int:
    """Child: run the named cases from ``cases_file`` in order, one JSON line each on stdout."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
    cases = {c["id"]: c for c in json.loads(Path(cases_file).read_text("utf-8"))}
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    # Whatever C code writes to the real stdout (FFmpeg, onnxruntime) must not mix with the lines.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    for cid in ids:
        channel.write(json.dumps({"start": cid}) + "\n")
        channel.write(json.dumps(run_one(cases[cid])) + "\n")
    return 0


# -- parent ----------------------------------------------------------------------------------
def run_cases(cases: list, root: Path, cases_file: Path, *, workers: int = 2,
              env: dict | None = None, unset: tuple[str, ...] = ()) -> dict[str, dict]:
    """Run every case; return results by case id (each with ``rc``/``error``/``stderr``...)."""
    # FIFO cases that still block wait idle for their alarm: they get a child of their own
    # beside the working ones, so their waits overlap the rest.
    waiting = [c.id for c in cases if not c.bomb and "fifo" in c.id]
    plain = [c.id for c in cases if not c.bomb and "fifo" not in c.id]
    bombs = [[c.id] for c in cases if c.bomb]
    chunks = [waiting] + [plain[i::workers] for i in range(workers)] + bombs
    workers += 1
    child_env = {k: v for k, v in os.environ.items() if k not in unset}
    child_env.update(env or {})
    child_env["PYTHONPATH"] = _repo_root()
    results: dict[str, dict] = {}
    pending = [ch for ch in chunks if ch]
    running: list[_Child] = []
    while pending or running:
        while pending and len(running) < workers:
            running.append(_Child(pending.pop(0), root, cases_file, child_env))
        for child in list(running):
            done, leftover = child.poll(results)
            if done:
                running.remove(child)
                if leftover:
                    pending.insert(0, leftover)
        time.sleep(0.01)
    return results


class _Child:
    def __init__(self, ids: list[str], root: Path, cases_file: Path, env: dict):
        self.ids = list(ids)
        self.current: str | None = None
        self.deadline = 0.0
        self.buffer = b""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.corpus.runner", str(cases_file), *self.ids],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env)
        self.started = time.monotonic()
        self.deadline = self.started + 60  # import time

    def poll(self, results: dict) -> tuple[bool, list[str]]:
        ready, _, _ = select.select([self.proc.stdout], [], [], 0.05)
        if ready:
            data = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not data:
                return self._ended(results)
            self.buffer += data
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self._line(json.loads(line), results)
        if time.monotonic() > self.deadline:
            self.proc.kill()
            self.proc.wait()
            return self._ended(results, hung=True)
        return False, []

    def _line(self, msg: dict, results: dict) -> None:
        if "start" in msg:
            self.current = msg["start"]
            self.deadline = time.monotonic() + BOMB_TIMEOUT_S + 15
        else:
            results[msg["id"]] = msg
            self.ids.remove(msg["id"])
            self.current = None

    def _ended(self, results: dict, hung: bool = False) -> tuple[bool, list[str]]:
        self.proc.wait()
        if self.current is not None:
            what = "hang: the child stopped answering and was killed" if hung else \
                f"the child process died (exit {self.proc.returncode})"
            results[self.current] = {"id": self.current, "rc": None, "error": what,
                                     "stderr": [], "stdout": "", "elapsed_s": None,
                                     "maxrss_kb": None}
            self.ids.remove(self.current)
        return True, self.ids


def _repo_root() -> str:
    return str(Path(__file__).resolve().parents[2])


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.argv[2:]))
