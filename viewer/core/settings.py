"""User settings: a frozen dataclass saved as JSON in the user config folder.

Window geometry and dock layout are Qt state and live in QSettings (GUI);
everything else a user chooses lives here, readable and editable by hand.
Unknown keys are an error, named with the file, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.core import safe_input
from viewer.core.errors import ReadError, SettingsError
from viewer.core.fileio import atomic_write_text

SCHEMA_VERSION = 1
#: A settings file is a few hundred bytes; anything this large is not one.
MAX_SETTINGS_BYTES = 1 << 20
CONFIG_ENV = "SEGVIEW_CONFIG_DIR"
_CHOICES = {
    "render_mode": ("filled", "outline", "filled+outline"),
    "theme": ("system", "light", "dark"),
}
_RANGES = {
    "overlay_alpha": (0.0, 1.0),
    "outline_thickness": (1, 50),
    "history_budget_mb": (16, 65536),
    "autosave_interval_s": (5, 3600),
    "colorize_threads": (1, 64),
    "recent_files_max": (0, 100),
    "island_size": (1, 10_000_000),
}


@dataclass(frozen=True)
class Settings:
    """Every user setting, with its default."""

    schema_version: int = SCHEMA_VERSION
    overlay_alpha: float = 0.5
    palette: str = "file"  # "file": keep the colours each mask comes with
    render_mode: str = "filled"
    outline_thickness: int = 1
    theme: str = "system"
    history_budget_mb: int = 512
    autosave_interval_s: int = 30
    colorize_threads: int = 2
    recent_files_max: int = 10
    island_size: int = 50  # Edit > Clean up > Remove islands: the last size asked for
    write_changed_mask: bool = False  # Save also writes <stem>_changed.png

    def __post_init__(self):
        for f in dataclasses.fields(self):
            _check_field(f.name, getattr(self, f.name), f.type)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (validated)."""
        try:
            return dataclasses.replace(self, **changes)
        except TypeError as exc:
            raise SettingsError(str(exc)) from None

    def to_json(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return dataclasses.asdict(self)


def config_dir() -> Path:
    """Return the folder holding ``settings.json`` (``$SEGVIEW_CONFIG_DIR`` wins)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("segview", appauthor=False))


def settings_path() -> Path:
    """Return the path of the settings file."""
    return config_dir() / "settings.json"


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings; a missing file gives the defaults.

    Raises
    ------
    SettingsError
        For invalid JSON (with line and column), unknown keys or bad values.
    """
    path = Path(path) if path is not None else settings_path()
    try:
        if not os.path.exists(safe_input.check_path(path)):
            return Settings()
        data = safe_input.load_json(path, MAX_SETTINGS_BYTES, "settings file")
    except ReadError as exc:
        raise SettingsError(exc.message, exc.path) from None
    if not isinstance(data, dict):
        raise SettingsError("settings must be a JSON object", path)
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}", path)
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SettingsError(f"settings schema version {version!r} is not supported "
                            f"(this version reads {SCHEMA_VERSION})", path)
    try:
        return Settings(**data)
    except SettingsError as exc:
        raise SettingsError(exc.message, path) from None


def save_settings(settings: Settings, path: str | Path | None = None) -> Path:
    """Write settings atomically and return the path written."""
    path = Path(path) if path is not None else settings_path()
    atomic_write_text(path, json.dumps(settings.to_json(), indent=2) + "\n")
    return path


def _check_field(name: str, value: Any, annotation: str) -> None:
    if annotation == "bool":
        if not isinstance(value, bool):
            raise SettingsError(f"setting {name!r} must be true or false, got {value!r}")
        return
    expected = {"int": int, "float": (int, float), "str": str}[annotation]
    if isinstance(value, bool) or not isinstance(value, expected):
        raise SettingsError(f"setting {name!r} must be {annotation}, got {value!r}")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise SettingsError(f"setting {name!r} must be one of {', '.join(_CHOICES[name])}, got {value!r}")
    if name in _RANGES:
        low, high = _RANGES[name]
        if not low <= value <= high:
            raise SettingsError(f"setting {name!r} must be in {low}..{high}, got {value!r}")
