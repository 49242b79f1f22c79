"""``glassnet export``: a checkpoint of ``glassnet train`` to ONNX or plain safetensors weights."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .main import CLIError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a `glassnet train` checkpoint to ONNX or to plain safetensors weights",
        description=(
            "ONNX files run in onnxruntime with the batch (and sequence length) as dynamic axes; "
            "safetensors weights use PyTorch's key names, so torch's load_state_dict takes them."
        ),
    )
    p.add_argument(
        "checkpoint", type=Path, help="checkpoint.safetensors written by `glassnet train`"
    )
    p.add_argument(
        "--onnx", type=Path, default=None, help="write an ONNX model here (default: none)"
    )
    p.add_argument(
        "--safetensors", type=Path, default=None, help="write the weights here (default: none)"
    )
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17)")
    p.set_defaults(func=run)


def _example(cfg: dict[str, Any]) -> tuple[Any, dict[str, dict[int, str]], list[str]]:
    """An example input, the dynamic axes and the output names for the task's model."""
    task = cfg["task"]
    if task == "cnn":
        s = cfg["model"]["image_size"]
        return (
            Tensor(np.zeros((1, 1, s, s), np.float32)),
            {"input": {0: "batch"}, "output": {0: "batch"}},
            ["output"],
        )
    if task == "charlm":
        x = Tensor(np.zeros((1, 8), np.int64))
        axes = {"input": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"}}
        return (
            x,
            axes,
            ["logits", "h_n", "c_n"] if cfg["model"]["cell"] == "lstm" else ["logits", "h_n"],
        )
    if cfg["model"]["kind"] in ("ar", "mlp"):
        x = Tensor(np.zeros((1, cfg["model"]["tau"]), np.float32))
        return x, {"input": {0: "batch"}, "output": {0: "batch"}}, ["output"]
    x = Tensor(np.zeros((1, 8), np.float32))
    axes = {"input": {0: "batch", 1: "time"}, "prediction": {0: "batch", 1: "time"}}
    return (
        x,
        axes,
        ["prediction", "h_n", "c_n"] if cfg["model"]["kind"] == "lstm" else ["prediction", "h_n"],
    )


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _refuse_checkpoint(flag: str, target: Path, checkpoint: Path) -> None:
    """An export never replaces its input, nor any training checkpoint."""
    if _same(target, checkpoint):
        raise CLIError(f"{flag} {target} is the checkpoint being exported; choose another path")
    if target.is_file():
        from ..io import load_metadata
        from ..train.checkpoint import FORMAT

        try:
            is_checkpoint = load_metadata(target).get("format") == FORMAT
        except ValueError:  # not safetensors: an earlier export or any other file
            is_checkpoint = False
        if is_checkpoint:
            raise CLIError(
                f"{flag} {target} is a training checkpoint; an export never replaces one "
                "(delete it first if you mean to)"
            )


def run(args: argparse.Namespace) -> int:
    from .. import io
    from .train import read_checkpoint, rebuild

    if args.onnx is None and args.safetensors is None:
        raise CLIError("nothing to do: pass --onnx PATH and/or --safetensors PATH")
    targets = [(f, t) for f, t in (("--onnx", args.onnx), ("--safetensors", args.safetensors)) if t]
    if len(targets) == 2 and _same(args.onnx, args.safetensors):
        raise CLIError(f"--onnx and --safetensors both name {args.onnx}")
    for flag, target in targets:
        _refuse_checkpoint(flag, target, args.checkpoint)
    state = read_checkpoint(args.checkpoint)
    model = rebuild(state, args.checkpoint)
    if args.safetensors is not None:
        io.save(model, args.safetensors, metadata={"task": state["config"]["task"]})
        print(f"wrote weights to {args.safetensors}")
    if args.onnx is not None:
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise CLIError(
                "ONNX export needs the onnx package: pip install 'glassnet[onnx]'"
            ) from None
        x, axes, outputs = _example(state["config"])
        io.export_onnx(
            model,
            x,
            args.onnx,
            input_names=["input"],
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=args.opset,
        )
        print(f"wrote ONNX model to {args.onnx}")
    return 0
