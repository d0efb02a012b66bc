#!/usr/bin/env python3
"""Set up and run SegView from a checkout, with nothing but Python installed.

    python3 dev.py run [ARGS...]   # install into .venv, open the app (bundled sample)
    python3 dev.py test [ARGS...]  # install with test extras into .venv, run pytest
    python3 dev.py bench [render|canvas|inference|edit|edit_window|video|playback] [ARGS...]
                                   # benchmarks/

The virtual environment lives in ``.venv`` beside this file; it is
(re)installed only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "bench"):
        print(__doc__.strip())
        return 2
    command, rest = argv[0], argv[1:]
    extras = "" if command == "run" else "[test]"
    python = str(ensure_installed(extras))
    if command == "run":
        return call([python, "-m", "viewer", *rest])
    if command == "bench":
        # `bench` runs them all; `bench canvas ...` (or another name below) runs one.
        names = ["render", "canvas", "inference", "edit", "edit_window", "video", "playback"]
        if rest and rest[0] in names:
            names, rest = [rest[0]], rest[1:]
        for name in names:
            code = call([python, "-m", f"benchmarks.{name}", *rest])
            if code:
                return code
        return 0
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    return call([python, "-m", "pytest", *rest], env=env)


def ensure_installed(extras: str, env: Path = VENV) -> Path:
    """Create ``env`` and install the project (editable) with ``extras`` when needed.

    Returns the environment's Python. packaging/build.py uses it for its own
    environment too.
    """
    bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    stamp = env / f".segview-installed{extras or '[app]'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and python.exists():
        return python
    if not python.exists():
        print(f"creating {env}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(env)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    check(pip + ["--upgrade", "pip"])
    check(pip + ["-e", f"{ROOT}{extras}"])
    stamp.write_text(digest)
    return python


def call(cmd: list[str], env: dict | None = None) -> int:
    return subprocess.call(cmd, cwd=ROOT, env=env)


def check(cmd: list[str]) -> None:
    code = call(cmd)
    if code != 0:
        sys.exit(f"dev.py: command failed with exit code {code}: {' '.join(cmd)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
