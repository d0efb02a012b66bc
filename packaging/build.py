#!/usr/bin/env python3
"""Build the standalone SegView (one folder, no Python needed to run it) with PyInstaller.

    python3 packaging/build.py              # -> dist/segview/ (program, _internal/, desktop files)
    python3 packaging/build.py --archive    # and dist/segview-VERSION-linux-x86_64.tar.gz

By default it builds in its own virtual environment, ``build/packaging-venv``, holding
SegView's run-time dependencies and PyInstaller (the ``packaging`` extra) and nothing else,
so that no test tool ends up in the bundle; it is (re)installed only when pyproject.toml
changes. ``--python PY`` uses another environment that has them.

After the build it adds the freedesktop entry, the icons and ``install.sh`` to the folder,
then starts the frozen program once (``--version``) and prints the size and the time.
See packaging/README.md for Windows and macOS.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import dev  # noqa: E402  (the checkout's set-up script: one way to build an environment)

HERE = ROOT / "packaging"
VENV = ROOT / "build" / "packaging-venv"
NAME = "segview"


def main(argv: list[str] | None = None) -> int | str:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    python = Path(args.python) if args.python else ensure_venv()
    setup_s = time.perf_counter() - started
    dist, work = Path(args.dist).resolve(), Path(args.work).resolve()
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    # cwd: not the checkout, whose segview.egg-info `python -m` would put first on sys.path
    _check([str(python), "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level",
            args.log_level, "--distpath", str(dist), "--workpath", str(work),
            str(HERE / "segview.spec")], cwd=work)
    app = dist / NAME
    if sys.platform.startswith("linux"):
        add_desktop_files(app)
    build_s = time.perf_counter() - started
    program = app / (f"{NAME}.exe" if os.name == "nt" else NAME)
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                             timeout=120, env=_clean_env())
    if version.returncode != 0:
        print(version.stdout, version.stderr, file=sys.stderr)
        return f"build.py: the frozen program does not start: exit {version.returncode}"
    print(f"\n{version.stdout.strip()}: {app}")
    print(f"size {_size(app) / 2**20:.0f} MiB, build {build_s:.0f} s"
          + (f" (environment set-up {setup_s:.0f} s)" if not args.python else ""))
    if args.archive:
        print(f"archive: {make_archive(app, version.stdout.split()[-1])}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", help="a Python that has SegView's dependencies and "
                                         "PyInstaller (default: build/packaging-venv)")
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder (dist/)")
    parser.add_argument("--work", default=str(ROOT / "build" / "pyinstaller"),
                        help="PyInstaller's work folder (build/pyinstaller)")
    parser.add_argument("--archive", action="store_true", help="also write a .tar.gz")
    parser.add_argument("--log-level", default="WARN", help="PyInstaller's (default WARN)")
    return parser


def ensure_venv() -> Path:
    """build/packaging-venv with SegView and the packaging extra, set up as dev.py sets up .venv.

    Editable, so that this environment never holds a stale copy of viewer/: the bundle
    takes the checkout's code (pathex in the spec); the install gives SegView's metadata
    and exactly its run-time dependencies.
    """
    return dev.ensure_installed("[packaging]", VENV)


def add_desktop_files(app: Path) -> None:
    """The freedesktop entry, the icons (hicolor layout) and install.sh, beside the program."""
    share = app / "share"
    targets = {
        HERE / "linux" / "segview.desktop": share / "applications" / "segview.desktop",
        ROOT / "resources" / "icons" / "segview.svg":
            share / "icons" / "hicolor" / "scalable" / "apps" / "segview.svg",
        ROOT / "resources" / "icons" / "segview.png":
            share / "icons" / "hicolor" / "256x256" / "apps" / "segview.png",
        HERE / "linux" / "install.sh": app / "install.sh",
    }
    for source, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def make_archive(app: Path, version: str) -> Path:
    machine = platform.machine().lower() or "unknown"
    out = app.parent / f"{NAME}-{version}-{sys.platform.rstrip('0123456789')}-{machine}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(app, arcname=NAME)
    return out


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _clean_env() -> dict[str, str]:
    """The environment without anything that points at a Python installation."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYENV"))}


def _check(cmd: list[str], cwd: Path = ROOT) -> None:
    code = subprocess.call(cmd, cwd=cwd)
    if code != 0:
        sys.exit(f"build.py: command failed with exit code {code}: {' '.join(cmd)}")


if __name__ == "__main__":
    sys.exit(main())
