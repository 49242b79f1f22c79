"""Moving models in and out: safetensors checkpoints, PyTorch weights, ONNX export.

* ``save`` / ``load`` / ``load_metadata``: safetensors files with PyTorch key names and shapes.
* ``load_into``: a ``.safetensors`` or ``.pt``/``.pth`` checkpoint (PyTorch, read with
  ``weights_only=True``), or a state dict, into a glassnet model, with one report of missing,
  unexpected and mis-shaped keys.
* ``to_torch_state_dict`` / ``from_torch``: direct exchange with a live PyTorch model.
* ``export_onnx`` (also ``glassnet.onnx.export``): ONNX export by tracing, for onnxruntime and
  friends.

See ``docs/interop.md``.
"""

from .onnx_export import OnnxExportError, supported_layers, supported_ops
from .onnx_export import export as export_onnx
from .torch_bridge import from_torch, to_torch_state_dict
from .weights import LoadReport, load, load_into, load_metadata, save

__all__ = [
    "LoadReport",
    "OnnxExportError",
    "export_onnx",
    "from_torch",
    "load",
    "load_into",
    "load_metadata",
    "save",
    "supported_layers",
    "supported_ops",
    "to_torch_state_dict",
]
