"""packaging/: the desktop entry, the icons, the spec, build.py and install.sh (no build here;
tests/packaging/test_frozen.py builds)."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "linux" / "segview.desktop"


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_starts_segview_with_one_file_and_names_the_icon():
    entry = _entry()
    assert entry["Type"] == "Application" and entry["Name"] == "SegView"
    # segview takes one PATH: %f, not %F
    assert entry["Exec"] == "segview %f" and entry["TryExec"] == "segview"
    assert entry["Terminal"] == "false"
    assert entry["Icon"] == "segview"
    assert "Graphics" in entry["Categories"].split(";")
    assert "inode/directory" not in entry["MimeType"]  # never the default folder opener
    for icon in ("segview.svg", "segview.png"):
        assert (ROOT / "resources" / "icons" / icon).stat().st_size > 1000


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate (desktop-file-utils) is not installed")
def test_desktop_entry_is_valid():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.gui
def test_icon_png_is_the_svg_rendered(qapp):
    from PySide6.QtGui import QImage
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ROOT / "resources" / "icons" / "segview.svg"))
    assert renderer.isValid()
    png = QImage(str(ROOT / "resources" / "icons" / "segview.png"))
    assert (png.width(), png.height()) == (256, 256)
    assert png.hasAlphaChannel() and png.pixelColor(0, 0).alpha() == 0  # rounded corners


def test_spec_build_script_and_install_script_parse():
    compile((PACKAGING / "segview.spec").read_text("utf-8"), "segview.spec", "exec")
    result = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "--python" in result.stdout
    if shutil.which("sh"):
        subprocess.run(["sh", "-n", str(PACKAGING / "linux" / "install.sh")], check=True)
