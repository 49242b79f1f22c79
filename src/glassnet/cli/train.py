"""``glassnet train cnn|charlm|forecast`` and ``glassnet eval|generate|forecast``."""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import manual_seed
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..data import CharVocab, DataLoader, TensorDataset
from ..nn import CrossEntropyLoss, MSELoss
from ..optim import Adam
from ..seq import lm as LM
from ..seq.forecast import forecast as free_run
from ..seq.forecast import mae, one_step_forecast, rmse
from ..train import CheckpointError, Trainer, TrainingInterrupted, accuracy, load_state
from . import tasks
from .main import CLIError

CHECKPOINT = "checkpoint.safetensors"


# ----------------------------------------------------------------------------- argument types
def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0 or v != v or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return v


def fraction(text: str) -> float:
    v = positive_float(text)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text}")
    return v


def int_list(text: str) -> list[int]:
    try:
        vals = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not vals or any(v <= 0 for v in vals):
        raise argparse.ArgumentTypeError(
            f"expected positive comma-separated integers, got {text!r}"
        )
    return vals


def _common(p: argparse.ArgumentParser, epochs: int, lr: float, batch: int) -> None:
    p.add_argument("--epochs", type=positive_int, default=epochs, help=f"epochs (default {epochs})")
    p.add_argument(
        "--lr", type=positive_float, default=lr, help=f"Adam learning rate (default {lr})"
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=batch, help=f"batch size (default {batch})"
    )
    p.add_argument(
        "--clip", type=positive_float, default=None, help="clip the gradient norm to this value"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="output directory (default runs/<task>)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def register(sub: Any) -> None:
    train = sub.add_parser("train", help="train a CNN, a character language model or a forecaster")
    tsub = train.add_subparsers(dest="task", metavar="TASK", required=True)

    cnn = tsub.add_parser("cnn", help="LeNet-style CNN on images")
    cnn.add_argument(
        "--data",
        default="digits",
        help="digits | mnist | fashion-mnist | FILE.npz (arrays images, labels) | "
        "FOLDER (one sub-folder of images per class); default digits",
    )
    cnn.add_argument(
        "--channels", type=int_list, default=[16, 32], help="conv channels (default 16,32)"
    )
    cnn.add_argument(
        "--hidden", type=int_list, default=[64], help="hidden widths of the head (default 64)"
    )
    cnn.add_argument(
        "--test-fraction", type=fraction, default=0.2, help="held-out fraction (default 0.2)"
    )
    _common(cnn, epochs=15, lr=3e-3, batch=32)
    cnn.set_defaults(func=train_cnn)

    lm = tsub.add_parser("charlm", help="character language model (Embedding -> RNN -> Linear)")
    lm.add_argument(
        "--data", default="sonnets", help="sonnets | tragedies | FILE.txt (default sonnets)"
    )
    lm.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    lm.add_argument("--hidden", type=positive_int, default=256, help="hidden size (default 256)")
    lm.add_argument("--layers", type=positive_int, default=1, help="recurrent layers (default 1)")
    lm.add_argument("--embed", type=positive_int, default=64, help="embedding size (default 64)")
    lm.add_argument("--seq-len", type=positive_int, default=64, help="TBPTT steps (default 64)")
    lm.add_argument(
        "--val-fraction", type=fraction, default=0.1, help="held-out tail (default 0.1)"
    )
    _common(lm, epochs=5, lr=3e-3, batch=32)
    lm.set_defaults(func=train_charlm, clip=None)

    fc = tsub.add_parser("forecast", help="forecast a series with AR, MLP-AR or an RNN/LSTM/GRU")
    fc.add_argument(
        "--data", default="sunspots", help="sunspots | co2 | sine | FILE.csv (default sunspots)"
    )
    fc.add_argument("--column", default=None, help="CSV column to forecast (with FILE.csv)")
    fc.add_argument("--model", choices=["ar", "mlp", "rnn", "lstm", "gru"], default="lstm")
    fc.add_argument("--tau", type=positive_int, default=8, help="AR window (ar, mlp; default 8)")
    fc.add_argument("--hidden", type=positive_int, default=32, help="hidden size (default 32)")
    fc.add_argument("--layers", type=positive_int, default=1, help="recurrent layers (default 1)")
    fc.add_argument(
        "--seq-len", type=positive_int, default=64, help="training subsequence length (rnn)"
    )
    fc.add_argument(
        "--test-fraction", type=fraction, default=0.2, help="held-out tail (default 0.2)"
    )
    _common(fc, epochs=60, lr=1e-2, batch=16)
    fc.set_defaults(func=train_forecast)

    ev = sub.add_parser("eval", help="evaluate a checkpoint written by `glassnet train`")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument(
        "--data", default=None, help="other data of the checkpoint's kind (default: its own)"
    )
    ev.add_argument("--column", default=None, help="CSV column (forecast checkpoints)")
    ev.set_defaults(func=evaluate)

    gen = sub.add_parser("generate", help="generate text from a charlm checkpoint")
    gen.add_argument("checkpoint", type=Path)
    gen.add_argument(
        "--prefix",
        default="\n",
        help="text to warm the state up on (default a newline); characters the model never "
        "saw read as <unk>",
    )
    gen.add_argument("--length", type=positive_int, default=300, help="characters to generate")
    gen.add_argument("--temperature", type=positive_float, default=0.8)
    gen.add_argument("--top-k", type=positive_int, default=None)
    gen.add_argument("--seed", type=int, default=0)
    gen.set_defaults(func=generate)

    fo = sub.add_parser("forecast", help="continue a series from a forecast checkpoint")
    fo.add_argument("checkpoint", type=Path)
    fo.add_argument(
        "--steps", type=positive_int, default=20, help="values to forecast (default 20)"
    )
    fo.add_argument("--csv", type=Path, default=None, help="write step,value rows to this file")
    fo.set_defaults(func=forecast)


# ----------------------------------------------------------------------------- helpers
def _out(args: argparse.Namespace, task: str) -> Path:
    out: Path = args.out or Path("runs") / task
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a directory")
    ckpt = out / CHECKPOINT
    if ckpt.exists() and not args.resume:
        raise CLIError(f"{ckpt} exists; pass --resume to continue it or choose another --out")
    if args.resume and not ckpt.exists():
        raise CLIError(f"--resume: no checkpoint at {ckpt}")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _fit(
    trainer: Trainer, loader: Any, epochs: int, out: Path, val: Any = None, resume: bool = False
) -> float:
    start = time.perf_counter()
    try:
        trainer.fit(loader, epochs, val, checkpoint_path=out / CHECKPOINT, resume=resume)
    except TrainingInterrupted as e:
        print(f"interrupted: checkpoint saved at {e.checkpoint}; continue with --resume")
        raise SystemExit(130) from None
    return time.perf_counter() - start


def read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        state = load_state(path)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    cfg = state.get("config")
    if not isinstance(cfg, dict) or cfg.get("task") not in ("cnn", "charlm", "forecast"):
        raise CLIError(f"{path} was not written by `glassnet train` (it has no task config)")
    return state


def rebuild(state: dict[str, Any]) -> Any:
    cfg = state["config"]
    build = {
        "cnn": tasks.build_cnn,
        "charlm": tasks.build_charlm,
        "forecast": tasks.build_forecaster,
    }
    model = build[cfg["task"]](cfg)
    model.load_state_dict(state["model"])
    model.eval()
    return model


# ----------------------------------------------------------------------------- cnn
def train_cnn(args: argparse.Namespace) -> int:
    out = _out(args, "cnn")
    images, labels, names = tasks.load_images(args.data)
    tr, te = tasks.split_indices(labels, args.test_fraction, args.seed)
    cfg = {
        "task": "cnn",
        "data": {"spec": args.data, "test_fraction": args.test_fraction, "split_seed": args.seed},
        "classes": names,
        "model": {
            "num_classes": len(names),
            "image_size": int(images.shape[-1]),
            "channels": args.channels,
            "hidden": args.hidden,
        },
    }
    manual_seed(args.seed)
    model = tasks.build_cnn(cfg)
    opt = Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(
        TensorDataset(images[tr], labels[tr]),
        args.batch_size,
        shuffle=True,
        rng=np.random.default_rng(args.seed),
    )
    test = DataLoader(TensorDataset(images[te], labels[te]), 256)
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        opt,
        metrics={"acc": accuracy},
        clip_grad_norm=args.clip,
        log_path=out / "metrics.jsonl",
        progress=not args.no_progress,
        config=cfg,
    )
    seconds = _fit(trainer, loader, args.epochs, out, test, args.resume)
    h = trainer.history
    print(
        f"cnn on {args.data}: test accuracy {h['val_acc'][-1]:.4f} ({len(te)} held-out images), "
        f"{seconds:.1f} s; checkpoint {out / CHECKPOINT}"
    )
    from ..viz import plot_filters, plot_training_curves

    plot_training_curves(h, out / "curves.png", title=f"LeNet on {args.data}")
    plot_filters(model.features[0].weight.data, out / "filters.png")
    return 0


# ----------------------------------------------------------------------------- charlm
def _text_split(text: str, val_fraction: float) -> tuple[str, str]:
    n_val = max(int(len(text) * val_fraction), 2)
    return text[:-n_val], text[-n_val:]


def train_charlm(args: argparse.Namespace) -> int:
    out = _out(args, "charlm")
    text = tasks.load_text(args.data)
    train_text, val_text = _text_split(text, args.val_fraction)
    vocab = CharVocab(text, unknown="replace")
    cfg = {
        "task": "charlm",
        "data": {"spec": args.data, "val_fraction": args.val_fraction},
        "vocab": vocab.to_dict(),
        "model": {
            "vocab_size": len(vocab),
            "embedding_dim": args.embed,
            "hidden_size": args.hidden,
            "num_layers": args.layers,
            "cell": args.cell,
        },
        "seq_len": args.seq_len,
    }
    manual_seed(args.seed)
    model = tasks.build_charlm(cfg)
    stream = tasks.TextStream(
        vocab.encode(train_text),
        args.batch_size,
        args.seq_len,
        rng=np.random.default_rng(args.seed),
    )
    trainer = Trainer(
        model,
        None,
        Adam(model.parameters(), lr=args.lr),
        clip_grad_norm=args.clip or 1.0,
        callbacks=[stream],
        step_fn=stream.step,
        log_path=out / "metrics.jsonl",
        progress=not args.no_progress,
        config=cfg,
    )
    seconds = _fit(trainer, stream, args.epochs, out, resume=args.resume)
    ppl = LM.perplexity(model, val_text, vocab=vocab)
    uni = LM.unigram_perplexity(train_text, val_text, vocab=vocab)
    sample = LM.sample(
        model, vocab, "\n", 200, temperature=0.8, rng=np.random.default_rng(args.seed)
    )
    print(
        f"charlm ({args.cell}) on {args.data}: validation perplexity {ppl:.2f} "
        f"(unigram {uni:.2f}), {seconds:.1f} s; checkpoint {out / CHECKPOINT}"
        f"\n--- sample ---\n{sample}"
    )
    from ..viz import plot_training_curves

    plot_training_curves(trainer.history, out / "curves.png", title=f"CharLM on {args.data}")
    return 0


# ----------------------------------------------------------------------------- forecast
def train_forecast(args: argparse.Namespace) -> int:
    out = _out(args, "forecast")
    series, name = tasks.load_series(args.data, args.column)
    cfg = {
        "task": "forecast",
        "data": {
            "spec": args.data,
            "column": args.column,
            "name": name,
            "test_fraction": args.test_fraction,
        },
        "model": {
            "kind": args.model,
            "tau": args.tau,
            "hidden_size": args.hidden,
            "num_layers": args.layers,
        },
    }
    _, z, n_train = tasks.forecast_arrays(cfg, series)
    if n_train <= max(args.tau, 8) + 1:
        raise CLIError(f"{name}: the training part ({n_train} values) is too short")
    manual_seed(args.seed)
    model = tasks.build_forecaster(cfg)
    train_z = z[:n_train]
    rng = np.random.default_rng(args.seed)
    if args.model in ("ar", "mlp"):
        X, y = tasks.window_batches(train_z, args.tau)
        loader = DataLoader(TensorDataset(X, y), args.batch_size, shuffle=True, rng=rng)
        trainer = Trainer(
            model,
            MSELoss(),
            Adam(model.parameters(), lr=args.lr),
            clip_grad_norm=args.clip,
            log_path=out / "metrics.jsonl",
            progress=not args.no_progress,
            config=cfg,
        )
    else:
        seqs = tasks.subsequences(train_z, args.seq_len)
        loader = DataLoader(TensorDataset(seqs), args.batch_size, shuffle=True, rng=rng)
        trainer = Trainer(
            model,
            None,
            Adam(model.parameters(), lr=args.lr),
            clip_grad_norm=args.clip or 1.0,
            step_fn=tasks.recurrent_step(8),
            log_path=out / "metrics.jsonl",
            progress=not args.no_progress,
            config=cfg,
        )
    seconds = _fit(trainer, loader, args.epochs, out, resume=args.resume)
    rows = _forecast_scores(model, cfg, series)
    print(
        f"forecast ({args.model}) on {name}, last {len(series) - n_train} values held out, "
        f"{seconds:.1f} s:"
    )
    for r in rows:
        print(f"  {r['model']:<12} RMSE {r['rmse']:.4g}   MAE {r['mae']:.4g}")
    print(f"checkpoint {out / CHECKPOINT}")
    return 0


def _forecast_scores(model: Any, cfg: dict[str, Any], series: np.ndarray) -> list[dict[str, Any]]:
    scaler, z, n_train = tasks.forecast_arrays(cfg, series)
    pred = one_step_forecast(model, z, start=n_train, tau=cfg["model"]["tau"])
    pred = np.asarray(scaler.inverse_transform(pred))
    target = series[n_train:]
    persist = series[n_train - 1 : -1]
    mean = np.full_like(target, series[:n_train].mean())
    return [
        {"model": cfg["model"]["kind"], "rmse": rmse(pred, target), "mae": mae(pred, target)},
        {"model": "persistence", "rmse": rmse(persist, target), "mae": mae(persist, target)},
        {"model": "mean", "rmse": rmse(mean, target), "mae": mae(mean, target)},
    ]


# ----------------------------------------------------------------------------- eval / generate
def evaluate(args: argparse.Namespace) -> int:
    state = read_checkpoint(args.checkpoint)
    cfg = state["config"]
    model = rebuild(state)
    task = cfg["task"]
    if task == "cnn":
        images, labels, _ = tasks.load_images(args.data or cfg["data"]["spec"])
        if args.data is None:  # the checkpoint's own held-out split
            _, te = tasks.split_indices(
                labels, cfg["data"]["test_fraction"], cfg["data"]["split_seed"]
            )
            images, labels = images[te], labels[te]
        if images.shape[-1] != cfg["model"]["image_size"]:
            raise CLIError(
                f"the model expects {cfg['model']['image_size']}x{cfg['model']['image_size']} "
                f"images, the data has {images.shape[-1]}x{images.shape[-1]}"
            )
        with grad_mode.no_grad():
            logits = np.concatenate(
                [model(Tensor(images[i : i + 256])).data for i in range(0, len(images), 256)]
            )
        acc = float((logits.argmax(1) == labels).mean())
        print(f"accuracy {acc:.4f} on {len(labels)} images")
    elif task == "charlm":
        vocab = CharVocab.from_dict(cfg["vocab"])
        text = tasks.load_text(args.data or cfg["data"]["spec"])
        if args.data is None:
            text = _text_split(text, cfg["data"]["val_fraction"])[1]
        ppl = LM.perplexity(model, text, vocab=vocab)
        print(f"perplexity {ppl:.3f} on {len(text)} characters")
    else:
        series, _name = tasks.load_series(
            args.data or cfg["data"]["spec"], args.column or cfg["data"]["column"]
        )
        for r in _forecast_scores(model, cfg, series):
            print(f"{r['model']:<12} RMSE {r['rmse']:.4g}   MAE {r['mae']:.4g}")
    return 0


def generate(args: argparse.Namespace) -> int:
    state = read_checkpoint(args.checkpoint)
    if state["config"]["task"] != "charlm":
        raise CLIError(f"{args.checkpoint} is a {state['config']['task']} checkpoint, not charlm")
    model = rebuild(state)
    vocab = CharVocab.from_dict(state["config"]["vocab"])
    text = LM.sample(
        model,
        vocab,
        args.prefix,
        args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        rng=np.random.default_rng(args.seed),
    )
    print(text)
    return 0


def forecast(args: argparse.Namespace) -> int:
    state = read_checkpoint(args.checkpoint)
    cfg = state["config"]
    if cfg["task"] != "forecast":
        raise CLIError(f"{args.checkpoint} is a {cfg['task']} checkpoint, not forecast")
    model = rebuild(state)
    series, _ = tasks.load_series(cfg["data"]["spec"], cfg["data"]["column"])
    scaler, z, _ = tasks.forecast_arrays(cfg, series)
    pred = np.asarray(
        scaler.inverse_transform(free_run(model, z, args.steps, tau=cfg["model"]["tau"]))
    )
    rows = [(i + 1, float(v)) for i, v in enumerate(pred)]
    if args.csv is not None:
        from .._atomic import atomic_write_text

        lines = ["step,value"] + [f"{s},{v!r}" for s, v in rows]
        atomic_write_text(args.csv, "\n".join(lines) + "\n")
        print(f"wrote {len(rows)} forecasts to {args.csv}")
    else:
        w = csv.writer(__import__("sys").stdout)
        w.writerow(["step", "value"])
        w.writerows(rows)
    return 0
