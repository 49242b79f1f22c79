"""``glassnet export``: a checkpoint of ``glassnet train`` to ONNX or plain safetensors weights."""

from __future__ import annotations

import argparse
import json
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


def metadata(cfg: dict[str, Any]) -> dict[str, str]:
    """What a user of the ONNX file needs besides the graph (its ``metadata_props``).

    Every file has ``task``, ``input`` and ``output`` (what the model expects and returns, in
    words); a CNN adds ``classes`` (JSON list: class index -> name), a character model
    ``vocabulary`` (JSON list: id -> character) and ``unknown_id``, a forecaster ``scaler``
    (JSON ``{"mean": m, "std": s}``: inputs are ``(x - m) / s``, outputs ``z * s + m``).
    """
    task, m = cfg["task"], cfg["model"]
    meta = {"task": task, "producer": "glassnet train"}
    if task == "cnn":
        s, k = m["image_size"], m["num_classes"]
        meta["input"] = (
            f"input: float32 images (batch, 1, {s}, {s}), grey levels scaled to [0, 1] as in "
            "training"
        )
        meta["output"] = f"output: logits (batch, {k}); the class is classes[argmax]"
        meta["classes"] = json.dumps(cfg["classes"])
        return meta
    if task == "charlm":
        from ..data import CharVocab

        vocab = CharVocab.from_dict(cfg["vocab"])
        meta["input"] = (
            "input: int64 character ids (batch, time), see vocabulary; the state starts at zero"
        )
        meta["output"] = (
            f"logits: (batch, time, {len(vocab)}) scores of the next character at every step "
            "(softmax for probabilities); h_n"
            + (", c_n" if m["cell"] == "lstm" else "")
            + f": the final state ({m['num_layers']}, batch, {m['hidden_size']})"
        )
        meta["vocabulary"] = json.dumps(vocab.itos)
        if vocab.unk_index is not None:
            meta["unknown_id"] = str(vocab.unk_index)
        return meta
    if m["kind"] in ("ar", "mlp"):
        meta["input"] = (
            f"input: float32 (batch, {m['tau']}) standardised values (x - mean) / std, the "
            "last tau of the series, oldest first"
        )
        meta["output"] = "output: the next standardised value of each row; x = z * std + mean"
    else:
        meta["input"] = (
            "input: float32 (batch, time) standardised values (x - mean) / std, oldest first; "
            "the state starts at zero"
        )
        meta["output"] = (
            "prediction: (batch, time) the standardised one-step-ahead forecast after every "
            "step (the last one forecasts the next value); x = z * std + mean"
        )
    if "scaler" in cfg:
        meta["scaler"] = json.dumps(cfg["scaler"])
    return meta


def _scaler(cfg: dict[str, Any]) -> dict[str, float]:
    """The forecaster's standardisation; refitted on the data for checkpoints that lack it."""
    from . import tasks
    from .train import scaler_dict

    saved = cfg.get("scaler")
    if isinstance(saved, dict) and all(isinstance(saved.get(k), float) for k in ("mean", "std")):
        return saved
    series, _ = tasks.load_series(cfg["data"]["spec"], cfg["data"]["column"])
    scaler, _, _ = tasks.forecast_arrays(cfg, series)
    return scaler_dict(scaler)


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
    cfg = dict(state["config"])
    if cfg["task"] == "forecast":
        cfg["scaler"] = _scaler(cfg)
    if args.safetensors is not None:
        io.save(model, args.safetensors, metadata=metadata(cfg))
        print(f"wrote weights to {args.safetensors}")
    if args.onnx is not None:
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise CLIError(
                "ONNX export needs the onnx package: pip install 'glassnet[onnx]'"
            ) from None
        x, axes, outputs = _example(cfg)
        io.export_onnx(
            model,
            x,
            args.onnx,
            input_names=["input"],
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=args.opset,
            metadata=metadata(cfg),
        )
        print(f"wrote ONNX model to {args.onnx}")
    return 0
