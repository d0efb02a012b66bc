"""Running segmentation models (ONNX) described by manifests.

- :mod:`~viewer.core.inference.manifest`: ``ModelManifest``, read from and
  written to ``models/*.json``.
- :mod:`~viewer.core.inference.registry`: model folders, ``find_model``,
  ``list_models``, ``describe_onnx`` for any other ONNX file.
- :mod:`~viewer.core.inference.preprocess` /
  :mod:`~viewer.core.inference.postprocess`: photo -> tensor -> label map.
- :mod:`~viewer.core.inference.decode`: photos read for a model (JPEGs at a
  reduced size that still covers the model's input).
- :mod:`~viewer.core.inference.runner`: ``ModelRunner(manifest).run(image)``.
- :mod:`~viewer.core.inference.tasks`: ``segment_images``, a task for many photos.
- :mod:`~viewer.core.inference.session`: the only module that imports
  onnxruntime (inside functions): providers and sessions.

Importing this package does not import onnxruntime.
"""

from viewer.core.inference.manifest import (
    InputSpec,
    ModelManifest,
    OutputSpec,
    load_manifest,
    save_manifest,
)
from viewer.core.inference.registry import (
    ModelDescription,
    ModelScan,
    describe_onnx,
    find_model,
    install_model,
    list_models,
    model_dirs,
    relocate,
    scan_models,
    user_models_dir,
)
from viewer.core.inference.runner import ModelRunner, Prediction
from viewer.core.inference.session import available_providers
from viewer.core.inference.tasks import SegmentResult, segment_images

__all__ = [
    "InputSpec", "ModelDescription", "ModelManifest", "ModelRunner", "ModelScan", "OutputSpec",
    "Prediction", "SegmentResult", "available_providers", "describe_onnx", "find_model",
    "install_model", "list_models", "load_manifest", "model_dirs", "relocate", "save_manifest",
    "scan_models", "segment_images", "user_models_dir",
]
