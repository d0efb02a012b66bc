"""The standalone build: packaging/build.py makes it, and it starts without Python.

Opt-in, as it builds a folder of about 550 MB (about 30 s of PyInstaller once
build/packaging-venv exists; the first run also creates that environment, downloading
SegView's dependencies and PyInstaller):

    SEGVIEW_TEST_FROZEN=1 python3 dev.py test tests/packaging/test_frozen.py

The frozen program runs with an environment stripped of anything naming Python, from a
folder outside the checkout; where the test runs as root and ``unshare`` works, also with
every Python installation and the checkout itself hidden (mounted over).
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from viewer import __version__
from viewer.about import runtime_distributions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("SEGVIEW_TEST_FROZEN") != "1",
                       reason="builds the standalone app: set SEGVIEW_TEST_FROZEN=1"),
]

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, **extra) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CACHE_HOME": str(home / "cache")}
    env.update(extra)
    return env


def _run(cmd, home: Path, timeout=120, **extra) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=home, env=_env(home, **extra),
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("frozen")
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"),
                             "--dist", str(out / "dist"), "--work", str(out / "work")],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    print(result.stdout[-300:])  # the size and the build time
    shutil.rmtree(out / "work")
    return out / "dist" / "segview"


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path


def test_frozen_version_and_info_on_the_bundled_mask(app, home):
    assert _run([app / "segview", "--version"], home).stdout.strip() == f"segview {__version__}"
    mask = app / "_internal" / "viewer" / "_resources" / "samples" / "astronaut_mask.png"
    info = _run([app / "segview", "info", mask], home).stdout
    assert "512 x 512" in info and "person" in info


def test_frozen_runs_the_bundled_model(app, home):
    image = app / "_internal" / "viewer" / "_resources" / "samples" / "astronaut.png"
    _run([app / "segview", "segment", "--model", "selfie", image, "--out", home / "out"], home)
    assert (home / "out" / "astronaut.png").is_file()


def test_frozen_window_starts_offscreen(app, home):
    shot = home / "shot.png"
    _run([app / "segview", "--screenshot", shot], home, QT_QPA_PLATFORM="offscreen")
    from PIL import Image

    with Image.open(shot) as image:
        assert image.width > 400 and len(image.convert("RGB").getcolors(1 << 20) or []) > 50


def test_frozen_bundle_holds_resources_metadata_and_desktop_files(app):
    internal = app / "_internal"
    assert (internal / "viewer" / "_models" / "selfie_segmentation.onnx").is_file()
    assert len(list((internal / "viewer" / "_resources" / "palettes").glob("*.json"))) >= 9
    # the About dialog reads every library's metadata
    names = {p.name.split("-")[0].lower() for p in internal.glob("*.dist-info")}
    wanted = {n.replace("-", "_").lower() for n in ["segview", *runtime_distributions()]}
    assert wanted <= names, wanted - names
    for rel in ("share/applications/segview.desktop", "install.sh",
                "share/icons/hicolor/scalable/apps/segview.svg",
                "share/icons/hicolor/256x256/apps/segview.png"):
        assert (app / rel).is_file(), rel
    assert not list(internal.glob("pytest*")) and not (internal / "onnx").exists()


def test_install_sh_puts_it_in_a_prefix_with_a_menu_entry(app, home):
    prefix = home / "prefix"
    _run(["sh", app / "install.sh", prefix], home)
    assert _run([prefix / "bin" / "segview", "--version"], home).stdout.startswith("segview ")
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(prefix / "share" / "applications" / "segview.desktop", encoding="utf-8")
    assert parser["Desktop Entry"]["Exec"] == f'"{prefix}/lib/segview/segview" %f'
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "segview.svg").is_file()
    _run(["sh", app / "install.sh", "--uninstall", prefix], home)
    assert not (prefix / "lib" / "segview").exists() and not (prefix / "bin" / "segview").exists()


def _can_hide_paths() -> bool:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_hide_paths(), reason="needs root and unshare -m to hide Python")
def test_frozen_starts_with_python_and_the_checkout_hidden(app, home):
    found = {Path(sys.prefix), Path(sys.base_prefix), ROOT, *Path("/usr/lib").glob("python3*"),
             *Path("/usr/local/lib").glob("python3*")}
    found = {p.resolve() for p in found if p.exists()} - {Path("/usr")}
    # a folder inside another hidden one is hidden with it (and its mount point would vanish)
    hidden = sorted(p for p in found if not any(p != q and p.is_relative_to(q) for q in found))
    assert not any(app.resolve().is_relative_to(p) for p in hidden)
    script = "set -e\n" + "".join(f"mount -t tmpfs none '{p}'\n" for p in hidden) + (
        "if python3 -c 'import encodings' 2>/dev/null; then echo python-still-works; fi\n"
        f"'{app}/segview' --version\n"
        f"QT_QPA_PLATFORM=offscreen '{app}/segview' --screenshot '{home}/hidden.png'\n")
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=home, env=_env(home),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "python-still-works" not in result.stdout
    assert f"segview {__version__}" in result.stdout
    assert (home / "hidden.png").stat().st_size > 10_000
