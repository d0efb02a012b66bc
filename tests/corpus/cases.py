"""What one corpus case is: its files, the command to run on them, and the outcome it must have.

A case is plain data (JSON-ready), so the runner's child process can read the
whole list once and run every case in one interpreter.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

#: Exit 2 and exactly one stderr line ``segview: error: ...`` naming one of ``names``.
ERROR = "error"
#: Exit 0 (and, with ``warn``, a line saying ``warning``).
OK = "ok"
#: Either of the above: a clear error or a success; never a traceback, a hang or a bomb.
CLEAN = "clean"

OWNERS = ("loaders", "bombs", "txn", "honest", "recovery")


@dataclass
class Case:
    """One bad input and the command it is fed to.

    Attributes
    ----------
    id : str
        Unique, also the case's folder under the corpus root.
    argv : list of str
        ``viewer.cli.main`` arguments, paths relative to the corpus root (the
        runner's working folder). A first word starting with ``@`` is a core
        call instead (see ``runner.CALLS``): settings, palettes, recovery.
    expect : str
        :data:`ERROR`, :data:`OK` or :data:`CLEAN`.
    names : list of str
        For an error: the line must contain one of these (file names).
    warn : bool
        For a success: some output line must say ``warning``.
    stdout_has : list of str
        For a success: substrings the output must hold (the result is right).
    bomb : bool
        An allocation bomb: run in a child of its own and measure its peak memory.
    owner : str
        The helper whose module owns the fix when the case fails (PLAN.md).
    problem : str
        The class of problem, in words (for the failure listing).
    """

    id: str
    argv: list[str]
    expect: str
    names: list[str] = field(default_factory=list)
    warn: bool = False
    stdout_has: list[str] = field(default_factory=list)
    bomb: bool = False
    owner: str = "loaders"
    problem: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    def command(self) -> str:
        return "segview " + " ".join(self.argv)


def judge(case: Case, result: dict) -> str | None:
    """Why ``result`` breaks the case's expectation, or None when it meets it."""
    if result.get("error"):
        return result["error"]
    rc, err = result["rc"], [line for line in result.get("stderr", []) if line.strip()]
    peak = result.get("maxrss_kb")
    if case.bomb and peak is not None and peak >= PEAK_LIMIT_KB:
        return f"peak memory {peak / 1024:.0f} MiB, over 2 GiB"
    if rc == 2 and case.expect in (ERROR, CLEAN):
        if _argparse_error(err) and not case.names:
            return None  # an option refused by argparse: usage, then one error line
        if len(err) != 1 or not err[0].startswith("segview: error: "):
            return f"exit 2 but stderr is not one 'segview: error:' line: {err[:3]}"
        if case.names and not any(n in err[0] for n in case.names):
            return f"the error does not name {' or '.join(case.names)}: {err[0][:300]}"
        return None
    if rc == 0 and case.expect in (OK, CLEAN):
        text = result.get("stdout", "") + "\n".join(err)
        if case.warn and not any("warning" in line for line in text.splitlines()):
            return "exit 0 without a warning"
        missing = [s for s in case.stdout_has if s not in text]
        if missing:
            return f"exit 0 but the output lacks {missing}"
        return None
    want = {ERROR: "exit 2", OK: "exit 0", CLEAN: "exit 0 or 2"}[case.expect]
    tail = (err[-1][:300] if err else result.get("stdout", "")[-200:].strip())
    return f"exit {rc}, wanted {want}: {tail}"


def _argparse_error(err: list[str]) -> bool:
    return bool(err) and _ARGPARSE.match(err[-1]) is not None and all(
        line.startswith(("usage:", " ")) for line in err[:-1])


_ARGPARSE = re.compile(r"^segview( [a-z]+)?: error: ")
PEAK_LIMIT_KB = 2 << 20  # 2 GiB; ru_maxrss is in KiB on Linux
