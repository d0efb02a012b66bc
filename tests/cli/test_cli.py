import subprocess
import sys

import pytest

from viewer import __version__
from viewer.cli import main


def test_version_from_python_m():
    result = subprocess.run([sys.executable, "-m", "viewer", "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"segview {__version__}"


def test_help_mentions_the_sample(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "bundled sample" in " ".join(capsys.readouterr().out.split())  # however it wraps


@pytest.mark.gui
def test_gui_command_opens_window_and_saves_screenshot(tmp_path):
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "viewer", "--screenshot", str(shot)],
                            capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(shot) as img:
        assert img.width >= 320 and img.height >= 240
