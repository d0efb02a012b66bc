"""The only module that imports onnxruntime, always inside functions.

``segview --help`` and every core import stay free of onnxruntime (about a
third of a second to import); a session is only created when a model runs or
an ONNX file is described. onnxruntime's own exceptions never escape: they
become :class:`~viewer.core.errors.ModelError` naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.core.errors import ModelError

CPU = "CPUExecutionProvider"
#: Short names accepted for providers (``--provider cuda``), best first.
SHORT_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "dml": "DmlExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "cpu": CPU,
}
# Providers that do not run the model on this machine.
_NOT_LOCAL = frozenset({"AzureExecutionProvider"})
# 3 = errors only: converted graphs (tf2onnx) log a warning per initializer.
_LOG_ERRORS_ONLY = 3


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: its name, shape (ints, or None where dynamic) and type."""

    name: str
    shape: tuple[int | None, ...] | None
    dtype: str

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready record."""
        return {"name": self.name, "shape": None if self.shape is None else list(self.shape),
                "dtype": self.dtype}


def available_providers() -> list[str]:
    """Execution providers this onnxruntime build can use here, best first; CPU always last."""
    import onnxruntime

    found = [p for p in onnxruntime.get_available_providers() if p not in _NOT_LOCAL]
    return [p for p in found if p != CPU] + [CPU]


def resolve_providers(names: Sequence[str] | None) -> list[str]:
    """Turn short or full provider names into the list a session gets.

    CPU is appended as the fallback for operators another provider lacks.

    Raises
    ------
    ModelError
        When a provider is not available here (the message lists those that are).
    """
    if not names:
        return [CPU]
    available = available_providers()
    chosen = []
    for name in names:
        full = SHORT_NAMES.get(name.lower(), name)
        if full not in available:
            raise ModelError(f"execution provider {name!r} is not available here; "
                             f"available: {', '.join(available)}")
        if full not in chosen:
            chosen.append(full)
    return chosen if CPU in chosen else [*chosen, CPU]


def open_session(path: str | Path, providers: Sequence[str], threads: int = 1):
    """Create an onnxruntime ``InferenceSession`` for ``path``.

    Parameters
    ----------
    path : str or Path
    providers : sequence of str
        Full provider names (see :func:`resolve_providers`).
    threads : int
        Intra-op threads. One is as fast as two on a 2-core machine and keeps
        the other core for the GUI (``MODELS.md``).

    Raises
    ------
    ModelError
        A missing file, a file that is not ONNX, or a graph onnxruntime refuses.
    """
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise ModelError("model file not found", path)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = _LOG_ERRORS_ONLY
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=list(providers))
    except ort_errors() as exc:
        reason = short_message(exc)
        raise ModelError(f"onnxruntime cannot load this model: {reason}", path) from None


def inputs_of(session) -> list[TensorInfo]:
    """The graph inputs of a session."""
    return [_info(node) for node in session.get_inputs()]


def outputs_of(session) -> list[TensorInfo]:
    """The graph outputs of a session."""
    return [_info(node) for node in session.get_outputs()]


def ort_errors() -> tuple[type[BaseException], ...]:
    """Exception classes onnxruntime raises (they derive from Exception only)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError",
             "RuntimeException", "InvalidProtobuf", "ModelLoaded", "NotImplemented",
             "InvalidGraph", "EPFail", "ModelLoadCanceled", "ModelRequiresCompilation")
    found = tuple(getattr(state, n) for n in names if hasattr(state, n))
    # Type and value problems at the Python binding surface as these.
    return (*found, RuntimeError, TypeError, ValueError)


def short_message(exc: BaseException) -> str:
    """onnxruntime's message without its ``[ONNXRuntimeError] : 2 : INVALID_ARGUMENT :`` prefix."""
    text = str(exc).strip()
    if text.startswith("[ONNXRuntimeError]"):
        text = text.split(" : ", 3)[-1]
    return text.splitlines()[0] if text else type(exc).__name__


def shape_text(shape: Sequence[int | None] | None) -> str:
    """A shape as ``[1, 3, ?, ?]`` (``?`` where dynamic)."""
    if shape is None:
        return "[?]"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _info(node) -> TensorInfo:
    shape = node.shape
    dims = None if shape is None else tuple(d if isinstance(d, int) else None for d in shape)
    dtype = str(node.type).removeprefix("tensor(").removesuffix(")")
    return TensorInfo(node.name, dims, dtype)
