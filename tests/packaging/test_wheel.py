"""The sdist and wheel carry resources/ and models/, and an installed wheel works on its own.

The build is the real one (``python -m build``: an sdist, then the wheel built from that
sdist), from a copy of the source tree, without build isolation so that it needs no
network (setuptools and build come with the test extra). The wheel is then installed
into a fresh virtual environment in tmp_path, with ``--no-deps``: the libraries it needs
are reached through a ``.pth`` file naming this environment's site-packages, instead of
downloading PySide6 and onnxruntime again. That ``.pth`` line adds folders to sys.path
without running the ``.pth`` files inside them, so the editable install of this checkout
stays invisible there; the tests check that ``viewer`` and its resources come from the new
environment, and they run from tmp_path, away from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import viewer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"resources/palettes/make_palettes.py"}  # see pyproject.toml
IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                 ".pytest_cache", ".hypothesis", ".ruff_cache", "*.pyc")


def _shipped_files() -> list[str]:
    """Every file of resources/ and models/ that the packages must carry."""
    files = []
    for folder in ("resources", "models"):
        for path in sorted((ROOT / folder).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in rel and rel not in NOT_SHIPPED:
                files.append(rel)
    return files


def _in_package(rel: str) -> str:
    folder, _, rest = rel.partition("/")
    return f"viewer/_{folder}/{rest}"


def _run(cmd, cwd, env=None, timeout=120) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel) built from a copy of the source tree."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    out = work / "dist"
    built = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source],
                 cwd=work, timeout=300)
    # resources/ sub-folders are data, not packages (include-package-data = false)
    assert "Package would be ignored" not in built.stdout + built.stderr
    (sdist,) = out.glob("segview-*.tar.gz")
    (wheel,) = out.glob("segview-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory) -> dict:
    """A fresh virtual environment with the wheel installed, outside the checkout."""
    home = tmp_path_factory.mktemp("installed")
    env_dir = home / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", dists[1]], cwd=home, timeout=300)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=home).stdout.strip())
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_segview_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    return {"home": home, "env_dir": env_dir, "python": python, "env": env,
            "segview": bin_dir / ("segview.exe" if os.name == "nt" else "segview")}


def test_sdist_and_wheel_carry_every_module(dists):
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "viewer").rglob("*.py")
               if "__pycache__" not in p.parts}
    with zipfile.ZipFile(dists[1]) as zipped:
        assert modules <= set(zipped.namelist())
    with tarfile.open(dists[0]) as tar:
        assert modules <= {name.partition("/")[2] for name in tar.getnames()}


def test_sdist_and_wheel_carry_resources_and_models(dists):
    sdist, wheel = dists
    shipped = _shipped_files()
    assert "models/selfie_segmentation.onnx" in shipped
    assert "resources/icons/segview.png" in shipped
    with tarfile.open(sdist) as tar:
        in_sdist = {name.partition("/")[2] for name in tar.getnames()}
    assert set(shipped) <= in_sdist
    with zipfile.ZipFile(wheel) as zipped:
        in_wheel = set(zipped.namelist())
        assert {_in_package(rel) for rel in shipped} <= in_wheel
        for rel in ("models/selfie_segmentation.onnx", "resources/samples/astronaut_mask.png"):
            assert zipped.read(_in_package(rel)) == (ROOT / rel).read_bytes()
    assert not {_in_package(rel) for rel in NOT_SHIPPED} & in_wheel
    assert not [n for n in in_wheel if n.startswith(("tests/", "benchmarks/", "packaging/"))]
    # The project's own licence text travels with it.
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel)
    assert "LICENSE" in in_sdist


def test_installed_wheel_runs_from_its_own_files(installed):
    code = ("import json, viewer, importlib.metadata as m; from viewer import _paths; "
            "print(json.dumps({'viewer': viewer.__file__, 'mode': _paths.mode(), "
            "'resources': str(_paths.resources_dir()), 'models': str(_paths.models_dir()), "
            "'mask': str(_paths.sample_mask()), "
            "'dist': str(m.distribution('segview').locate_file(''))}))")
    where = json.loads(_run([installed["python"], "-c", code], cwd=installed["home"],
                            env=installed["env"]).stdout)
    env_dir = installed["env_dir"].resolve()
    assert where["mode"] == "installed"
    for key in ("viewer", "resources", "models", "mask", "dist"):
        assert Path(where[key]).resolve().is_relative_to(env_dir), (key, where[key])
    assert not Path(where["viewer"]).resolve().is_relative_to(ROOT)


def test_installed_segview_version_and_info_on_the_bundled_mask(installed):
    segview, env, home = installed["segview"], installed["env"], installed["home"]
    version = _run([segview, "--version"], cwd=home, env=env).stdout
    assert version.strip() == f"segview {viewer.__version__}"
    (mask,) = installed["env_dir"].rglob("viewer/_resources/samples/astronaut_mask.png")
    text = _run([segview, "info", mask], cwd=home, env=env).stdout
    assert "512 x 512" in text and "person" in text
    info = json.loads(_run([segview, "info", mask, "--json"], cwd=home, env=env).stdout)
    assert (info["format"], info["width"], info["height"]) == ("index-png", 512, 512)
    assert [s["label"] for s in info["segments"]] == ["background", "person", "void"]


def test_installed_wheel_finds_and_runs_the_bundled_model(installed, tmp_path):
    segview, env = installed["segview"], installed["env"]
    models = json.loads(_run([segview, "models", "--json"], cwd=tmp_path, env=env).stdout)
    (selfie,) = [m for m in models["models"] if m["id"] == "selfie"]
    assert selfie["present"]
    assert Path(selfie["file"]).resolve().is_relative_to(installed["env_dir"].resolve())
    (image,) = installed["env_dir"].rglob("viewer/_resources/samples/astronaut.png")
    _run([segview, "segment", "--model", "selfie", image, "--out", tmp_path / "out"],
         cwd=tmp_path, env=env)
    assert list((tmp_path / "out").glob("astronaut*"))


@pytest.mark.gui
def test_installed_window_starts_offscreen_on_the_bundled_sample(installed, tmp_path):
    shot = tmp_path / "shot.png"
    _run([installed["segview"], "--screenshot", shot], cwd=tmp_path, env=installed["env"])
    from PIL import Image

    with Image.open(shot) as image:
        assert image.width > 400 and image.height > 300
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50  # a photo, not blank
