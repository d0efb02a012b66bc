"""viewer.about: licences read from metadata and from the bundled model manifests (no Qt)."""

import importlib.metadata as metadata
from email.message import Message

from viewer import _paths, about


def _meta(**fields):
    message = Message()
    for key, values in fields.items():
        for value in values if isinstance(values, list) else [values]:
            message[key.replace("_", "-")] = value
    return message


def test_licence_of_prefers_the_expression_then_a_short_field_then_classifiers():
    assert about.licence_of(_meta(License_Expression="MIT", License="whatever")) == "MIT"
    assert about.licence_of(_meta(License="BSD 3-Clause License")) == "BSD 3-Clause License"
    long_text = "Copyright (c) someone\n\nPermission is hereby granted..." * 3
    assert about.licence_of(_meta(
        License=long_text,
        Classifier=["License :: OSI Approved :: MIT License", "Programming Language :: C"],
    )) == "MIT License"
    assert about.licence_of(_meta(License=long_text)) == "Copyright (c) someone"
    assert about.licence_of(_meta(License="UNKNOWN")) == ""
    assert about.licence_of(_meta()) == ""


def test_runtime_distributions_follow_the_requirements_but_not_the_extras():
    names = {n.lower().replace("_", "-") for n in about.runtime_distributions()}
    assert {"numpy", "pyside6-essentials", "shiboken6", "onnxruntime", "jsonschema",
            "referencing"} <= names  # direct ones and theirs
    assert not names & {"segview", "pytest", "pytest-qt", "hypothesis", "onnx", "build"}


def test_checkout_without_metadata_reads_pyproject(monkeypatch):
    import tomllib

    pyproject = tomllib.loads((_paths._PACKAGE.parent / "pyproject.toml").read_text("utf-8"))

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(about.metadata, "requires", missing)
    assert about._own_requirements() == pyproject["project"]["dependencies"]
    names = {n.lower() for n in about.runtime_distributions()}
    assert {"numpy", "onnxruntime", "shiboken6"} <= names


def test_bundled_model_licence_and_its_text():
    (model,) = about.bundled_model_licences()
    assert model.id == "selfie"
    assert model.licence.startswith("Apache-2.0")
    assert model.licence_file == _paths.models_dir() / "LICENSE-Apache-2.0.txt"
    assert "Apache License" in model.licence_file.read_text("utf-8")


def test_paths_mode_in_a_checkout():
    assert _paths.mode() == "checkout"
    assert _paths.resources_dir() == _paths._PACKAGE.parent / "resources"
    assert _paths.sample_mask().is_file() and _paths.palettes_dir().is_dir()
