"""Tiny ONNX graphs built in the tests (onnx helper API) and manifests for them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from viewer.core.inference.manifest import manifest_from_json

FLOAT = TensorProto.FLOAT
OPSET = 13
IR_VERSION = 8  # what the real models in ../shared/models use


def save_graph(path: Path, nodes, inputs, outputs, initializers=()) -> Path:
    """Write a checked single-graph model; ``inputs``/``outputs`` are ValueInfos."""
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def tensor(name: str, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def identity(path: Path, shape=(1, 3, 8, 8), elem=FLOAT) -> Path:
    """y = x: the output is exactly the tensor the runner fed."""
    return save_graph(path, [helper.make_node("Identity", ["x"], ["y"])],
                      [tensor("x", list(shape), elem)], [tensor("y", list(shape), elem)])


def unary(path: Path, op: str, shape=(1, 3, 8, 8), **attrs) -> Path:
    """y = op(x) for Softmax, Sigmoid, ..."""
    return save_graph(path, [helper.make_node(op, ["x"], ["y"], **attrs)],
                      [tensor("x", list(shape))], [tensor("y", list(shape))])


def conv1x1(path: Path, weights, bias, size=(8, 8), activation: str | None = None) -> Path:
    """y = act(W x + b) with a 1x1 convolution: 3 channels in, len(weights) out."""
    w = np.asarray(weights, np.float32).reshape(len(weights), 3, 1, 1)
    b = np.asarray(bias, np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["z" if activation else "y"])]
    if activation:
        nodes.append(helper.make_node(activation, ["z"], ["y"]))
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    return save_graph(path, nodes, [tensor("x", [1, 3, *size])],
                      [tensor("y", [1, len(w), *size])], inits)


def argmax_map(path: Path, size=(8, 8)) -> Path:
    """y = argmax over the channels (int64 [1, H, W]): a class map."""
    node = helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0)
    return save_graph(path, [node], [tensor("x", [1, 3, *size])],
                      [tensor("y", [1, *size], TensorProto.INT64)])


def gated(path: Path, size=(8, 8)) -> Path:
    """NHWC, two outputs: ``parts`` = x (3 part logits) and ``person`` = channel 0 - 100."""
    shape = [1, *size, 3]
    nodes = [
        helper.make_node("Identity", ["x"], ["parts"]),
        helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["first"]),
        helper.make_node("Sub", ["first", "offset"], ["person"]),
    ]
    inits = [numpy_helper.from_array(np.array(v, np.int64), n)
             for n, v in (("starts", [0]), ("ends", [1]), ("axes", [3]))]
    inits.append(numpy_helper.from_array(np.array(100.0, np.float32), "offset"))
    return save_graph(path, nodes, [tensor("x", shape)],
                      [tensor("parts", shape), tensor("person", [1, *size, 1])], inits)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest_doc(model: Path, *, size=(8, 8), layout="NCHW", kind="logits", class_axis=1,
                 names=("a", "b", "c"), **fields) -> dict:
    """A manifest document for a tiny model; ``input_*`` keys override the input."""
    doc = {
        "schema": "segview-model", "schema_version": 1, "id": model.stem, "name": model.stem,
        "file": model.name, "sha256": sha256(model), "licence": "test", "source": "built in a test",
        "input": {"name": "x", "size": list(size) if size else None, "layout": layout,
                  "color_order": "RGB", "scale": 1.0, "mean": 0.0, "std": 1.0,
                  "resize": "stretch"},
        "outputs": [{"name": "y", "kind": kind, "class_axis": class_axis}],
        "class_names": list(names),
    }
    for key, value in fields.items():
        if key.startswith("input_"):
            doc["input"][key.removeprefix("input_")] = value
        else:
            doc[key] = value
    return doc


def manifest_for(model: Path, **kwargs):
    """A validated ModelManifest for a tiny model (as if read from ``<model>.json``)."""
    return manifest_from_json(manifest_doc(model, **kwargs), model.with_suffix(".json"))
