"""Shared fixtures. Qt runs offscreen; settings go to a temporary folder."""

import os
from pathlib import Path

import pytest

# Before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    """Never read or write the real user's settings, models or recovery files."""
    monkeypatch.setenv("SEGVIEW_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("SEGVIEW_RECOVERY_DIR", str(tmp_path_factory.mktemp("recovery")))
    monkeypatch.delenv("SEGVIEW_MODELS_DIR", raising=False)
    user_models = tmp_path_factory.mktemp("user_models")
    monkeypatch.setattr("viewer.core.inference.registry.user_models_dir", lambda: user_models)


@pytest.fixture
def shared_samples() -> Path:
    """``../shared/samples``; tests using it skip when it is absent."""
    path = SHARED / "samples"
    if not path.is_dir():
        pytest.skip("../shared/samples is not present")
    return path
