"""Inference tests: model folders isolated from the real user's, real models from ../shared."""

from pathlib import Path

import pytest

from viewer.core.inference import registry

SHARED_MODELS = Path(__file__).resolve().parents[4] / "shared" / "models"


@pytest.fixture(autouse=True)
def _isolated_model_dirs(tmp_path_factory, monkeypatch):
    """Never read the real user models folder or $SEGVIEW_MODELS_DIR."""
    user = tmp_path_factory.mktemp("user-models")
    monkeypatch.setattr(registry, "user_models_dir", lambda: user)
    monkeypatch.delenv(registry.ENV_VAR, raising=False)
    return user


@pytest.fixture
def shared_model():
    """Return a function giving a model in ../shared/models, skipping when absent."""
    def get(name: str) -> Path:
        path = SHARED_MODELS / name
        if not path.is_file():
            pytest.skip(f"../shared/models/{name} is not present")
        return path

    return get
