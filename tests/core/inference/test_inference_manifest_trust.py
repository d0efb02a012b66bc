"""Manifests that must be refused (issue 16): odd numbers, and model files outside their folder.

Each is written as a real file in a models folder and read through the public
API: the error names the manifest and the field, and a folder scan reports
it and goes on with the other manifests.
"""

import json
import os

import pytest
from onnx_graphs import identity, manifest_doc

from viewer.core.errors import ModelError
from viewer.core.inference.manifest import load_manifest, manifest_from_json
from viewer.core.inference.registry import find_model, scan_models


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "models"
    path.mkdir()
    identity(path / "tiny.onnx")
    return path


def _text(folder, **input_fields):
    doc = manifest_doc(folder / "tiny.onnx", **{f"input_{k}": v for k, v in input_fields.items()})
    return json.dumps(doc)


def write_text(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# Python's json module reads NaN and Infinity; the schema's range checks are all
# false for NaN, so these passed before.
@pytest.mark.parametrize(("old", "new", "field"), [
    ('"scale": 1.0', '"scale": NaN', "input/scale: NaN is not a finite number"),
    ('"scale": 1.0', '"scale": Infinity', "input/scale: Infinity is not a finite number"),
    ('"mean": 0.0', '"mean": -Infinity', "input/mean: -Infinity is not a finite number"),
    ('"std": 1.0', '"std": [1.0, NaN, 1.0]', "input/std/1: NaN is not a finite number"),
    ('"class_names"', '"threshold": NaN, "class_names"', "threshold: NaN is not a finite"),
    ('"std": 1.0', '"std": -1.0', "input/std: must be positive, got -1.0"),
    ('"mean": 0.0', '"mean": [0.4, -0.5, 0.4]', "input/mean: the mean of pixel values cannot "
                                              "be negative"),
    ('"size": [8, 8]', '"size": [-8, 8]', "input/size"),
    ('"size": [8, 8]', '"size": [8, 1000000]', "input/size: 8x1000000 is larger than the "
                                               "16384x16384"),
    ('"scale": 1.0', '"scale": 1' + "0" * 400, "input/scale: a 401-digit number is too large"),
    ('"class_axis": 1', '"class_axis": 4000000000', "outputs/0/class_axis: 4000000000 is beyond"),
    ('"class_axis": 1', '"class_axis": 1, "class_offset": 3', "outputs/0/class_offset: 3 is not "
                                                             "a class (the manifest names 3)"),
])
def test_odd_numbers_are_refused_naming_the_manifest_and_field(folder, old, new, field):
    text = _text(folder)
    assert old in text
    path = write_text(folder / "odd.json", text.replace(old, new))
    with pytest.raises(ModelError) as info:
        load_manifest(path)
    message = str(info.value)
    assert message.startswith(str(path)) and field in message, message


def test_a_manifest_without_odd_numbers_still_loads(folder):
    path = write_text(folder / "tiny.json", _text(folder, mean=[0.5, 0.4, 0.3], std=[0.2] * 3))
    assert load_manifest(path).input.mean == (0.5, 0.4, 0.3)


@pytest.mark.parametrize("file", ["../tiny.onnx", "../../x.onnx", "sub/../../tiny.onnx"])
def test_a_model_file_outside_the_folder_is_refused(tmp_path, folder, file):
    identity(tmp_path / "tiny.onnx")
    doc = json.loads(_text(folder))
    doc["file"] = file
    path = write_text(folder / "escape.json", json.dumps(doc))
    with pytest.raises(ModelError, match="outside the manifest's folder"):
        load_manifest(path)


def test_an_absolute_path_is_refused_elsewhere_and_accepted_inside(tmp_path, folder):
    doc = json.loads(_text(folder))
    doc["file"] = str(identity(tmp_path / "elsewhere.onnx"))
    with pytest.raises(ModelError, match="elsewhere.onnx.*outside the manifest's folder"):
        load_manifest(write_text(folder / "abs.json", json.dumps(doc)))
    doc["file"] = str(folder / "tiny.onnx")
    assert load_manifest(write_text(folder / "abs.json", json.dumps(doc))).model_path.is_file()


def test_a_symbolic_link_out_of_the_folder_is_refused(tmp_path, folder):
    os.symlink(identity(tmp_path / "outside.onnx"), folder / "link.onnx")
    doc = json.loads(_text(folder))
    doc["file"] = "link.onnx"
    with pytest.raises(ModelError, match="'link.onnx' resolves to .*outside.onnx, outside"):
        load_manifest(write_text(folder / "link.json", json.dumps(doc)))


def test_a_manifest_given_as_data_without_a_file_has_no_folder_to_check(tmp_path):
    doc = manifest_doc(identity(tmp_path / "tiny.onnx"))
    doc["file"] = str(tmp_path / "tiny.onnx")
    assert manifest_from_json(doc).model_path == tmp_path / "tiny.onnx"


def test_one_bad_manifest_is_reported_and_the_others_still_found(folder):
    write_text(folder / "tiny.json", _text(folder))
    write_text(folder / "nan.json", _text(folder).replace('"scale": 1.0', '"scale": NaN')
               .replace('"id": "tiny"', '"id": "nan"'))
    write_text(folder / "deep.json", "[" * 100_000 + "]" * 100_000)
    write_text(folder / "digits.json", '{"schema": "segview-model", "id": ' + "9" * 5000 + "}")
    escape = json.loads(_text(folder))
    escape.update(id="escape", file="../../etc/x.onnx")
    write_text(folder / "escape.json", json.dumps(escape))
    scan = scan_models([folder])
    assert [m.id for m in scan.models] == ["tiny", "selfie"]
    named = sorted(p.path.name for p in scan.problems)
    assert named == ["deep.json", "digits.json", "escape.json", "nan.json"]
    warned = []
    assert find_model("tiny", [folder], warn=warned.append).id == "tiny"
    assert sorted(p.path.name for p in warned) == named
    with pytest.raises(ModelError, match="no model 'nan'; .*4 manifest.* could not be read: .*"
                                         "nan.json: .*NaN"):
        find_model("nan", [folder])


@pytest.mark.parametrize(("file", "message"), [
    ("m\x00.onnx", "file: the name holds a NUL byte"),
    ("f" * 5000 + ".onnx", "file: a name of 5005 characters is too long"),
])
def test_a_file_name_the_system_cannot_take_is_refused(folder, file, message):
    doc = json.loads(_text(folder))
    doc["file"] = file
    path = write_text(folder / "odd.json", json.dumps(doc))
    with pytest.raises(ModelError, match=message):
        load_manifest(path)
    assert [p.path.name for p in scan_models([folder]).problems] == ["odd.json"]


def test_a_manifest_without_its_schema_line_is_reported_other_json_ignored(folder):
    doc = json.loads(_text(folder))
    del doc["schema"]
    write_text(folder / "forgot.json", json.dumps(doc))
    write_text(folder / "labels.json", '["cat", "dog"]')
    write_text(folder / "config.json", '{"hidden_size": 8}')
    (problem,) = scan_models([folder]).problems
    assert str(problem) == (f'{folder / "forgot.json"}: looks like a model manifest but lacks '
                            '"schema": "segview-model"')
