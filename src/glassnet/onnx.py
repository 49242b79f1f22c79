"""ONNX export: ``glassnet.onnx.export(model, example_input, path, ...)``.

A thin public alias of ``glassnet.io.onnx_export`` (needs ``pip install 'glassnet[onnx]'``).
"""

from __future__ import annotations

from .io.onnx_export import MIN_OPSET, OnnxExportError, export, supported_layers, supported_ops

__all__ = ["MIN_OPSET", "OnnxExportError", "export", "supported_layers", "supported_ops"]
