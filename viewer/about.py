"""What the About dialog shows: the version, the bundled models' licences and the libraries'.

Headless (no Qt). The libraries are read at run time from the installed
distributions' metadata (``importlib.metadata``): SegView's own requirements and,
recursively, theirs, as far as they are installed. A frozen build carries that
metadata too (``packaging/segview.spec`` copies it for :func:`runtime_distributions`).
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from viewer import __version__, _paths

DISTRIBUTION = "segview"
PROJECT_LICENCE = "Apache-2.0"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_LONG = 80  # a License field longer than this is the licence text, not its name


@dataclass(frozen=True)
class PackageLicence:
    """One installed library: its name, version and licence (SPDX expression or name)."""

    name: str
    version: str
    licence: str
    summary: str = ""


@dataclass(frozen=True)
class ModelLicence:
    """One bundled model: what it is, its licence, where it comes from, its licence text."""

    id: str
    name: str
    licence: str
    source: str
    licence_file: Path | None = None


def version_text() -> str:
    """``SegView 0.1.0 (Python 3.11.7, frozen)``: what ``--version`` and the title say."""
    python = ".".join(map(str, sys.version_info[:3]))
    return f"SegView {__version__} (Python {python}, {_paths.mode()})"


def project_licence() -> str:
    """SegView's own licence, from its metadata when installed."""
    try:
        return licence_of(metadata.metadata(DISTRIBUTION)) or PROJECT_LICENCE
    except metadata.PackageNotFoundError:
        return PROJECT_LICENCE


def licence_of(meta) -> str:
    """The licence a distribution declares: ``License-Expression``, else a short ``License``
    field, else its licence classifiers; ``""`` when it declares none."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    field = (meta.get("License") or "").strip()
    if field and field.upper() != "UNKNOWN" and len(field) <= _LONG and "\n" not in field:
        return field
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    if classifiers:
        return ", ".join(classifiers)
    if field and field.upper() != "UNKNOWN":
        return field.splitlines()[0].strip()[:_LONG]
    return ""


def _required_names(requirements: list[str]) -> list[str]:
    """Names of the requirements that apply here, leaving out those of extras."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # no `packaging`: keep what is not for an extra
        return [m.group(1) for r in requirements
                if "extra" not in r.partition(";")[2] and (m := _NAME.match(r))]
    names = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(requirement.name)
    return names


def _own_requirements() -> list[str]:
    try:
        return metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        pass
    # A checkout used without installing it: read pyproject.toml.
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if not pyproject.is_file():
        return []
    return tomllib.loads(pyproject.read_text("utf-8"))["project"].get("dependencies", [])


def runtime_distributions() -> list[str]:
    """Names of the installed distributions SegView needs at run time, sorted, without
    SegView itself: its requirements and theirs, recursively."""
    found: dict[str, str] = {}
    todo = _required_names(_own_requirements())
    while todo:
        name = todo.pop()
        key = _normalise(name)
        if key in found or key == DISTRIBUTION:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python
        found[key] = dist.metadata["Name"]
        todo.extend(_required_names(dist.requires or []))
    return sorted(found.values(), key=str.lower)


def dependency_licences() -> list[PackageLicence]:
    """Every library of :func:`runtime_distributions` with its version and licence; in a
    frozen build, the Python it carries too."""
    rows = []
    if _paths.mode() == "frozen":
        python = ".".join(map(str, sys.version_info[:3]))
        rows.append(PackageLicence("Python", python, "PSF-2.0", "the Python interpreter"))
    for name in runtime_distributions():
        meta = metadata.metadata(name)
        rows.append(PackageLicence(meta["Name"], meta["Version"],
                                   licence_of(meta) or "not declared",
                                   (meta.get("Summary") or "").strip()))
    return rows


def bundled_model_licences() -> list[ModelLicence]:
    """The models shipped in the bundled models folder, from their manifests."""
    from viewer.core.errors import ViewerError
    from viewer.core.inference.registry import find_model

    rows = []
    folder = _paths.models_dir()
    for path in sorted(folder.glob("*.json")):
        try:
            manifest = find_model(path)
        except ViewerError:
            continue
        text = _licence_file(folder, manifest.licence)
        rows.append(ModelLicence(manifest.id, manifest.name, manifest.licence,
                                 manifest.source, text))
    return rows


def _licence_file(folder: Path, licence: str) -> Path | None:
    """The licence text a manifest names, as in ``"Apache-2.0 (LICENSE-Apache-2.0.txt)"``."""
    match = re.search(r"\(([^()]+)\)\s*$", licence)
    if match and (folder / match.group(1)).is_file():
        return folder / match.group(1)
    return None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
