"""``glassnet train cnn|charlm|forecast`` and ``glassnet eval|generate|forecast``.

A training run owns its ``--out`` directory: it holds a lock on it for the whole run (a second
run on the same directory fails at once), refuses a directory that already holds files unless
``--resume`` (continue that run) or ``--overwrite`` (replace it) is given, and removes temporary
files an earlier killed save left behind.

``--resume`` continues the run in ``--out`` exactly: every flag that changes the run (RUN_FLAGS)
is recorded in the checkpoint; a flag left out takes the recorded value, a flag given with
another value is an error unless named in ``--override`` (only ``--lr``, ``--batch-size`` and
``--clip`` can change), and the training data must have the recorded fingerprint.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as D
from .. import manual_seed
from .._atomic import remove_stale_temps
from ..autograd.tensor import Tensor
from ..data import CharVocab, DataLoader, TensorDataset
from ..nn import CrossEntropyLoss, MSELoss
from ..optim import Adam, AdamW
from ..optim.lr_scheduler import CosineAnnealingLR
from ..seq import lm as LM
from ..seq.forecast import forecast as free_run
from ..seq.forecast import mae, one_step_forecast, rmse
from ..train import Trainer, TrainingInterrupted, accuracy, load_state
from ..train.checkpoint import CheckpointError, check_finite
from ..train.lock import RunLock, RunLockedError
from ..train.trainer import TrainingDiverged
from . import tasks
from .main import CLIError

CHECKPOINT = "checkpoint.safetensors"
# What a run writes into --out (what --overwrite removes; nothing else is ever deleted).
RUN_FILES = (
    *(CHECKPOINT, CHECKPOINT + ".json", "metrics.jsonl"),
    *("curves.png", "filters.png", "forecast.png"),
)
# The flags that change a run: recorded in the checkpoint's config and checked by --resume.
RUN_FLAGS = {
    "cnn": (
        *("data", "channels", "hidden", "batch_norm", "dropout", "test_fraction"),
        *("lr", "weight_decay", "schedule", "batch_size", "clip", "seed"),
    ),
    "charlm": (
        *("data", "cell", "hidden", "layers", "embed", "seq_len", "val_fraction"),
        *("lr", "batch_size", "clip", "seed"),
    ),
    "forecast": (
        *("data", "column", "model", "tau", "hidden", "layers", "seq_len", "test_fraction"),
        *("lr", "batch_size", "clip", "seed"),
    ),
}
# The flags --override may change on resume: the optimizer's step size, the batch size (at an
# epoch boundary) and clipping. The others define the model, the data or its held-out split.
OVERRIDABLE = ("lr", "batch_size", "clip")


# ----------------------------------------------------------------------------- argument types
def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _float_in(text: str, expected: str, ok: Any) -> float:
    """``text`` as a float for which ``ok(value)`` holds, else an error naming ``expected``."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(v):  # NaN fails every comparison
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return v


def positive_float(text: str) -> float:
    return _float_in(text, "a positive finite number", lambda v: 0 < v < float("inf"))


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


class _Given(argparse.Action):
    """Store a flag's value and note that it was given (so --resume can tell it from a default)."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def override_list(text: str) -> list[str]:
    names = [t.strip().lstrip("-").replace("-", "_") for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in OVERRIDABLE]
    if not names or bad:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(map(_flag, OVERRIDABLE))} "
            f"(without dashes is fine), got {text!r}"
        )
    return names


def _task_parser(tsub: Any, name: str, help: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = tsub.add_parser(name, help=help)
    p.register("action", None, _Given)  # every plain value flag records that it was given
    return p


# Training defaults that differ between tasks, in one place: the parsers take them from here,
# so --help shows exactly what a run uses. The recurrent models (charlm, and the rnn/lstm/gru
# forecasters) clip the gradient norm at 1.0 by default; --clip none turns clipping off.
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "cnn": {"epochs": 20, "lr": 3e-3, "batch_size": 32, "clip": None},
    "charlm": {"epochs": 5, "lr": 3e-3, "batch_size": 32, "clip": 1.0},
    "forecast": {"epochs": 60, "lr": 1e-2, "batch_size": 16, "clip": 1.0},
}
# What a checkpoint written before a flag existed (config without "args_version") did: resuming
# it keeps that behaviour. charlm and the recurrent forecasters clipped at 1.0 while recording
# --clip as none; the CNN had no batch norm, dropout, weight decay or schedule.
ARGS_VERSION = 2
LEGACY_ARGS = {"batch_norm": False, "dropout": 0.0, "weight_decay": 0.0, "schedule": "constant"}
RECURRENT = ("lstm", "gru", "rnn")


def clip_value(text: str) -> float | None:
    """``--clip``: a positive number, or ``none`` for no clipping."""
    if text.strip().lower() in ("none", "off"):
        return None
    return positive_float(text)


def dropout_value(text: str) -> float:
    return _float_in(text, "a probability in [0, 1)", lambda v: 0 <= v < 1)


def non_negative_float(text: str) -> float:
    return _float_in(text, "a finite number >= 0", lambda v: 0 <= v < float("inf"))


class _GivenBool(argparse.BooleanOptionalAction):
    """``--flag/--no-flag`` that notes it was given (as ``_Given``)."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        super().__call__(parser, namespace, values, option)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


def _common(p: argparse.ArgumentParser, task: str) -> None:
    d = TASK_DEFAULTS[task]
    p.add_argument("--epochs", type=positive_int, default=d["epochs"], help="epochs")
    p.add_argument("--lr", type=positive_float, default=d["lr"], help="learning rate")
    p.add_argument("--batch-size", type=positive_int, default=d["batch_size"], help="batch size")
    p.add_argument(
        "--clip",
        type=clip_value,
        default=d["clip"],
        metavar="NORM",
        help="clip the joint gradient norm to NORM before each step; 'none': no clipping"
        + ("" if d["clip"] is not None else " (default: none)"),
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (split, initialisation)")
    p.add_argument(
        "--out", type=Path, default=None, help=f"output directory (default: runs/{task})"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out; flags left out take the checkpoint's values",
    )
    p.add_argument(
        "--override",
        type=override_list,
        default=[],
        metavar="FLAG[,FLAG]",
        help="with --resume: allow these flags to change (lr, batch-size, clip)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in a non-empty --out (removes only the files a run writes)",
    )
    p.add_argument(
        "--on-nonfinite",
        choices=["stop", "skip"],
        default="stop",
        help="a step with NaN/inf loss or gradients is never applied: stop the run (the last "
        "checkpoint is kept) or skip the step",
    )
    p.add_argument(
        "--no-figures",
        dest="figures",
        action="store_false",
        help="write no figures (curves.png, filters.png, forecast.png) into --out",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar or progress lines; print only one summary line per epoch",
    )


def register(sub: Any) -> None:
    train = sub.add_parser("train", help="train a CNN, a character language model or a forecaster")
    tsub = train.add_subparsers(dest="task", metavar="TASK", required=True)

    cnn = _task_parser(tsub, "cnn", "LeNet-style CNN on images")
    cnn.add_argument(
        "--data",
        default="digits",
        help="digits | mnist | fashion-mnist | FILE.npz (arrays images, labels) | "
        "FOLDER (one sub-folder of images per class)",
    )
    cnn.add_argument("--channels", type=int_list, default=[16, 32], help="conv channels")
    cnn.add_argument("--hidden", type=int_list, default=[64], help="hidden widths of the head")
    cnn.add_argument(
        "--batch-norm",
        action=_GivenBool,
        default=True,
        help="batch norm after every convolution",
    )
    cnn.add_argument(
        "--dropout", type=dropout_value, default=0.0, help="dropout before each linear layer"
    )
    cnn.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=0.0,
        help="decoupled weight decay (AdamW; 0: Adam)",
    )
    cnn.add_argument(
        "--schedule",
        choices=["constant", "cosine"],
        default="constant",
        help="learning rate over the epochs: constant, or cosine annealing to 0",
    )
    cnn.add_argument("--test-fraction", type=fraction, default=0.2, help="held-out fraction")
    _common(cnn, "cnn")
    cnn.set_defaults(func=train_cnn)

    lm = _task_parser(tsub, "charlm", "character language model (Embedding -> RNN -> Linear)")
    lm.add_argument("--data", default="sonnets", help="sonnets | tragedies | FILE.txt")
    lm.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm", help="recurrent cell")
    lm.add_argument("--hidden", type=positive_int, default=256, help="hidden size")
    lm.add_argument("--layers", type=positive_int, default=1, help="recurrent layers")
    lm.add_argument("--embed", type=positive_int, default=64, help="embedding size")
    lm.add_argument(
        "--seq-len", type=positive_int, default=64, help="characters per truncated-BPTT step"
    )
    lm.add_argument(
        "--val-fraction",
        type=fraction,
        default=0.1,
        help="held-out tail of the text (validation loss every epoch)",
    )
    _common(lm, "charlm")
    lm.set_defaults(func=train_charlm)

    fc = _task_parser(tsub, "forecast", "forecast a series with AR, MLP-AR or an RNN/LSTM/GRU")
    fc.add_argument("--data", default="sunspots", help="sunspots | co2 | sine | FILE.csv")
    fc.add_argument(
        "--column", default=None, help="CSV column to forecast (with FILE.csv; default: none)"
    )
    fc.add_argument(
        "--model", choices=["ar", "mlp", "rnn", "lstm", "gru"], default="lstm", help="forecaster"
    )
    fc.add_argument("--tau", type=positive_int, default=8, help="AR window (ar, mlp)")
    fc.add_argument("--hidden", type=positive_int, default=32, help="hidden size (mlp, rnn)")
    fc.add_argument("--layers", type=positive_int, default=1, help="recurrent layers")
    fc.add_argument(
        "--seq-len", type=positive_int, default=64, help="training subsequence length (rnn)"
    )
    fc.add_argument("--test-fraction", type=fraction, default=0.2, help="held-out tail")
    _common(fc, "forecast")
    fc.set_defaults(func=train_forecast)

    ev = sub.add_parser("eval", help="evaluate a checkpoint written by `glassnet train`")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument(
        "--data", default=None, help="other data of the checkpoint's kind (default: its own)"
    )
    ev.add_argument(
        "--column", default=None, help="CSV column (forecast checkpoints; default: its own)"
    )
    ev.set_defaults(func=evaluate)

    gen = sub.add_parser("generate", help="generate text from a charlm checkpoint")
    gen.add_argument("checkpoint", type=Path)
    gen.add_argument(
        "--prefix",
        default="\n",
        help="text to warm the state up on; characters the model never saw read as <unk>",
    )
    gen.add_argument("--length", type=positive_int, default=300, help="characters to generate")
    gen.add_argument(
        "--temperature",
        type=positive_float,
        default=0.8,
        help="divides the logits: below 1 is more conservative, above 1 more random",
    )
    gen.add_argument(
        "--top-k",
        type=positive_int,
        default=None,
        help="sample only from the k most likely characters (default: all)",
    )
    gen.add_argument("--seed", type=int, default=0, help="random seed of the sampling")
    gen.set_defaults(func=generate)

    fo = sub.add_parser("forecast", help="continue a series from a forecast checkpoint")
    fo.add_argument("checkpoint", type=Path)
    fo.add_argument("--steps", type=positive_int, default=20, help="values to forecast")
    fo.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="write step,value rows to this file (default: print them)",
    )
    fo.set_defaults(func=forecast)


# ----------------------------------------------------------------------------- helpers
def _progress(args: argparse.Namespace) -> str:
    """The Trainer's progress mode: bars or lines, or (--no-progress) the epoch lines only."""
    return "summary" if args.no_progress else "auto"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return "(none)" if value is None else str(value)


def _same_kind(value: Any, reference: Any) -> bool:
    """Whether a recorded flag value has the type the flag parses to (``reference``'s)."""
    if isinstance(value, bool) or isinstance(reference, bool):
        return isinstance(value, bool) and isinstance(reference, bool)
    if isinstance(reference, list):
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        )
    if reference is None or value is None:  # --clip, --column: None or a value
        return value is None or isinstance(value, (int, float, str))
    if isinstance(reference, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(reference))


class Run:
    """One ``glassnet train`` run on its ``--out`` directory (a context manager).

    On entry: takes the directory's lock, removes stale temporary files, and either checks that
    the directory is free (a fresh run; ``--overwrite`` clears the run files) or, with
    ``--resume``, reads the checkpoint and reconciles the flags with it (``args`` is updated in
    place). ``record()`` gives the flags to store in the new config.
    """

    def __init__(self, args: argparse.Namespace, task: str) -> None:
        self.args, self.task = args, task
        self.out: Path = args.out or Path("runs") / task
        self.ckpt = self.out / CHECKPOINT
        self.saved: dict[str, Any] | None = None  # the checkpoint's config, when resuming
        self._lock = RunLock(self.ckpt, what=f"--out {self.out}")

    def __enter__(self) -> Run:
        args, out = self.args, self.out
        if out.exists() and not out.is_dir():
            raise CLIError(f"--out {out} exists and is not a directory")
        if args.resume and args.overwrite:
            raise CLIError("--resume continues the run in --out, --overwrite replaces it: pick one")
        if args.override and not args.resume:
            raise CLIError("--override only applies with --resume")
        out.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.__enter__()
        except RunLockedError as e:
            raise CLIError(str(e)) from None
        try:
            for name in (CHECKPOINT, CHECKPOINT + ".json"):
                remove_stale_temps(out / name)
            if args.resume:
                self._reconcile()
            else:
                self._claim()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def _claim(self) -> None:
        lock = self._lock.path.name
        present = sorted(p.name for p in self.out.iterdir() if p.name != lock)
        if present and not self.args.overwrite:
            shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
            raise CLIError(
                f"--out {self.out} is not empty ({shown}); pass --resume to continue the run "
                "in it, --overwrite to replace it, or choose another --out"
            )
        for name in RUN_FILES:
            (self.out / name).unlink(missing_ok=True)

    def _reconcile(self) -> None:
        args = self.args
        if not self.ckpt.exists():
            raise CLIError(f"--resume: no checkpoint at {self.ckpt}")
        state = read_checkpoint(self.ckpt)
        cfg = state["config"]
        if cfg["task"] != self.task:
            raise CLIError(
                f"--resume: {self.ckpt} is a {cfg['task']} run; continue it with "
                f"`glassnet train {cfg['task']} --out {self.out} --resume`"
            )
        saved = dict(cfg["args"])
        if cfg.get("args_version", 1) < ARGS_VERSION:
            for dest, value in LEGACY_ARGS.items():
                if dest in RUN_FLAGS[self.task]:
                    saved.setdefault(dest, value)
            recurrent = self.task == "charlm" or cfg["model"].get("kind") in RECURRENT
            if recurrent and saved.get("clip") is None:
                saved["clip"] = 1.0
        given: frozenset[str] = getattr(args, "given", frozenset())
        for dest in RUN_FLAGS[self.task]:
            if dest not in saved or not _same_kind(saved[dest], getattr(args, dest)):
                raise CheckpointError(
                    f"{self.ckpt}: the config records no valid {_flag(dest)} "
                    f"(got {_show(saved.get(dest))!r})"
                )
            if dest not in given:
                setattr(args, dest, saved[dest])
            elif dest != "data" and getattr(args, dest) != saved[dest]:
                self._changed(dest, getattr(args, dest), saved[dest], state)
        for dest in args.override:
            if dest not in given:
                raise CLIError(f"--override {_flag(dest)[2:]}: pass the new {_flag(dest)} value")
        self.saved = cfg

    def _changed(self, dest: str, new: Any, old: Any, state: dict[str, Any]) -> None:
        flag = _flag(dest)
        values = f"{flag} {_show(new)} differs from the checkpoint's {_show(old)}"
        if dest not in OVERRIDABLE:
            raise CLIError(
                f"--resume: {values}, and {flag} cannot change on resume (it defines the model, "
                "the data or its split); leave it out, or start a new run in another --out"
            )
        if dest not in self.args.override:
            raise CLIError(
                f"--resume: {values}; pass --override {flag[2:]} to change it, or leave "
                f"{flag} out to keep the checkpoint's value"
            )
        progress = state.get("progress")
        inside = progress.get("batch_in_epoch") if isinstance(progress, dict) else None
        if dest == "batch_size" and inside:
            raise CLIError(
                f"--override batch-size: the checkpoint stopped inside an epoch (after batch "
                f"{inside}); the batch size can change only at an epoch boundary"
            )

    def check_data(self, fingerprint: str) -> None:
        """Refuse, on resume, training data other than the checkpoint's."""
        if self.saved is None:
            return
        if fingerprint != self.saved["data"]["fingerprint"]:
            raise CLIError(
                f"--resume: the training data {self.args.data!r} differs from the data the "
                f"checkpoint was trained on ({self.saved['data']['spec']!r}; fingerprints "
                f"{fingerprint} and {self.saved['data']['fingerprint']}); resume needs the same "
                "data"
            )

    def record(self) -> dict[str, Any]:
        """The run-defining flags, for the config."""
        return {dest: getattr(self.args, dest) for dest in RUN_FLAGS[self.task]}

    def fit(self, trainer: Trainer, loader: Any, val: Any = None) -> float:
        """Train (continuing the checkpoint on --resume); returns the seconds it took."""
        start = time.perf_counter()
        try:
            if self.args.resume:
                trainer.load_checkpoint(self.ckpt, loader)
                if "lr" in self.args.override:
                    for group in trainer.optimizer.param_groups:
                        group["lr"] = self.args.lr
            trainer.fit(loader, self.args.epochs, val, checkpoint_path=self.ckpt)
        except TrainingInterrupted as e:
            print(f"interrupted: checkpoint saved at {e.checkpoint}; continue with --resume")
            raise SystemExit(130) from None
        except TrainingDiverged as e:
            skip = "" if self.args.on_nonfinite == "skip" else ", or pass --on-nonfinite skip"
            raise CLIError(
                f"{e}. Lower --lr (to continue: --resume --lr VALUE --override lr) or clip with "
                f"--clip{skip}"
            ) from None
        return time.perf_counter() - start


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint of ``glassnet train`` whose config is checked (``tasks.check_config``).

    Raises:
        CheckpointError: the file is damaged, not a training checkpoint, or its config is
            invalid or disagrees with its weights (a one-line message naming the file).
    """
    state = load_state(path)
    try:
        tasks.check_config(state)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    return state


def rebuild(state: dict[str, Any], path: Path | None = None) -> Any:
    """The trained model of a checkpoint read by ``read_checkpoint``, in eval mode."""
    cfg = state["config"]
    build = {
        "cnn": tasks.build_cnn,
        "charlm": tasks.build_charlm,
        "forecast": tasks.build_forecaster,
    }
    where = f"{path}: " if path is not None else ""
    try:
        check_finite(state["model"], "model")
    except CheckpointError as e:
        raise CheckpointError(f"{where}{e}") from None
    model = build[cfg["task"]](cfg)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError) as e:
        message = " ".join(str(e).split())
        raise CheckpointError(
            f"{where}the weights do not fit the config's model: {message}"
        ) from None
    model.eval()
    return model


# ----------------------------------------------------------------------------- cnn
def train_cnn(args: argparse.Namespace) -> int:
    with Run(args, "cnn") as run:
        return _train_cnn(args, run)


def _train_cnn(args: argparse.Namespace, run: Run) -> int:
    out = run.out
    images, labels, names = tasks.load_images(args.data)
    fingerprint = tasks.fingerprint(images, labels)
    run.check_data(fingerprint)
    official = _official_test_set(args.data, images.shape[-1])
    tr, te = tasks.split_indices(labels, args.test_fraction, args.seed)
    cfg = {
        "task": "cnn",
        "data": {
            "spec": args.data,
            "test_fraction": args.test_fraction,
            "split_seed": args.seed,
            "fingerprint": fingerprint,
        },
        "classes": names,
        "model": {
            "num_classes": len(names),
            "image_size": int(images.shape[-1]),
            "channels": args.channels,
            "hidden": args.hidden,
            "batch_norm": args.batch_norm,
            "dropout": args.dropout,
        },
        "args": run.record(),
        "args_version": ARGS_VERSION,
    }
    manual_seed(args.seed)
    model = tasks.build_cnn(cfg)
    opt = (
        AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
        if args.weight_decay
        else Adam(model.parameters(), lr=args.lr)
    )
    schedule = CosineAnnealingLR(opt, T_max=args.epochs) if args.schedule == "cosine" else None
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
        scheduler=schedule,
        metrics={"acc": accuracy},
        clip_grad_norm=args.clip,
        log_path=out / "metrics.jsonl",
        progress=_progress(args),
        config=cfg,
        on_nonfinite=args.on_nonfinite,
    )
    seconds = run.fit(trainer, loader, test)
    h = trainer.history
    if official is None:
        print(
            f"cnn on {args.data}: test accuracy {h['val_acc'][-1]:.4f} ({len(te)} held-out "
            f"images), {seconds:.1f} s; checkpoint {run.ckpt}"
        )
    else:
        logits = tasks.cnn_logits(model, official[0])
        _finite_output(logits, run.ckpt, "logits")
        acc = float((logits.argmax(1) == official[1]).mean())
        print(
            f"cnn on {args.data}: test accuracy {acc:.4f}"
            f" ({len(official[1])} images of the official test set), validation accuracy "
            f"{h['val_acc'][-1]:.4f} ({len(te)} images held out of the training set), "
            f"{seconds:.1f} s; checkpoint {run.ckpt}"
        )
    if args.figures:
        from ..viz import plot_filters, plot_training_curves

        plot_training_curves(h, out / "curves.png", title=f"LeNet on {args.data}")
        plot_filters(model.features[0].weight.data, out / "filters.png")
    return 0


def _official_test_set(spec: str, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The official test set of ``spec`` (MNIST, Fashion-MNIST), read before training starts."""
    if not tasks.has_test_set(spec):
        return None
    images, labels, _ = tasks.load_images(spec, train=False)
    if images.shape[-1] != size:
        raise CLIError(
            f"{spec}: the test images are {images.shape[-1]}x{images.shape[-1]}, the training "
            f"images {size}x{size}"
        )
    return images, labels


# ----------------------------------------------------------------------------- charlm
def _text_split(text: str, val_fraction: float) -> tuple[str, str]:
    n_val = max(int(len(text) * val_fraction), 2)
    return text[:-n_val], text[-n_val:]


def _text_batch(ids: np.ndarray, parts: int = 16) -> tuple[Tensor, Tensor]:
    """The validation text as one batch of ``parts`` contiguous rows, each read from the zero
    state: its mean loss is the log of ``LM.perplexity`` (which cuts the text the same way)."""
    B = min(parts, ids.shape[0] - 1)
    per = (ids.shape[0] - 1) // B
    x = ids[: B * per].reshape(B, per)  # (B, per)
    y = ids[1 : B * per + 1].reshape(B, per)  # (B, per): the next character of each
    return Tensor(x.astype(np.int64)), Tensor(y.astype(np.int64))


def train_charlm(args: argparse.Namespace) -> int:
    with Run(args, "charlm") as run:
        return _train_charlm(args, run)


def _train_charlm(args: argparse.Namespace, run: Run) -> int:
    out = run.out
    text = tasks.load_text(args.data)
    fingerprint = tasks.fingerprint(np.frombuffer(text.encode("utf-8"), np.uint8))
    run.check_data(fingerprint)
    train_text, val_text = _text_split(text, args.val_fraction)
    vocab = CharVocab(text, unknown="replace")
    cfg = {
        "task": "charlm",
        "data": {"spec": args.data, "val_fraction": args.val_fraction, "fingerprint": fingerprint},
        "vocab": vocab.to_dict(),
        "model": {
            "vocab_size": len(vocab),
            "embedding_dim": args.embed,
            "hidden_size": args.hidden,
            "num_layers": args.layers,
            "cell": args.cell,
        },
        "seq_len": args.seq_len,
        "args": run.record(),
        "args_version": ARGS_VERSION,
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
        clip_grad_norm=args.clip,
        callbacks=[stream],
        step_fn=stream.step,
        log_path=out / "metrics.jsonl",
        progress=_progress(args),
        config=cfg,
        on_nonfinite=args.on_nonfinite,
    )
    seconds = run.fit(trainer, stream, [_text_batch(vocab.encode(val_text))])
    ppl = LM.perplexity(model, val_text, vocab=vocab)
    uni = LM.unigram_perplexity(train_text, val_text, vocab=vocab)
    sample = LM.sample(
        model, vocab, "\n", 200, temperature=0.8, rng=np.random.default_rng(args.seed)
    )
    print(
        f"charlm ({args.cell}) on {args.data}: validation perplexity {ppl:.2f} "
        f"(unigram {uni:.2f}), {seconds:.1f} s; checkpoint {run.ckpt}"
        f"\n--- sample ---\n{sample}"
    )
    if args.figures:
        from ..viz import plot_training_curves

        plot_training_curves(trainer.history, out / "curves.png", title=f"CharLM on {args.data}")
    return 0


# ----------------------------------------------------------------------------- forecast
def train_forecast(args: argparse.Namespace) -> int:
    with Run(args, "forecast") as run:
        return _train_forecast(args, run)


def _train_forecast(args: argparse.Namespace, run: Run) -> int:
    series, name = tasks.load_series(args.data, args.column)
    fingerprint = tasks.fingerprint(series)
    run.check_data(fingerprint)
    cfg = {
        "task": "forecast",
        "data": {
            "spec": args.data,
            "column": args.column,
            "name": name,
            "test_fraction": args.test_fraction,
            "fingerprint": fingerprint,
        },
        "model": {
            "kind": args.model,
            "tau": args.tau,
            "hidden_size": args.hidden,
            "num_layers": args.layers,
        },
        "args": run.record(),
        "args_version": ARGS_VERSION,
    }
    scaler, z, n_train = tasks.forecast_arrays(cfg, series)
    # What the model's inputs and outputs are measured in (exported into ONNX metadata).
    cfg["scaler"] = scaler_dict(scaler)
    if n_train <= max(args.tau, 8) + 1:
        raise CLIError(f"{name}: the training part ({n_train} values) is too short")
    manual_seed(args.seed)
    model = tasks.build_forecaster(cfg)
    train_z = z[:n_train]
    rng = np.random.default_rng(args.seed)
    common = {
        "log_path": run.out / "metrics.jsonl",
        "progress": _progress(args),
        "config": cfg,
        "on_nonfinite": args.on_nonfinite,
    }
    if args.model in ("ar", "mlp"):
        X, y = tasks.window_batches(train_z, args.tau)
        loader = DataLoader(TensorDataset(X, y), args.batch_size, shuffle=True, rng=rng)
        trainer = Trainer(
            model,
            MSELoss(),
            Adam(model.parameters(), lr=args.lr),
            clip_grad_norm=args.clip,
            **common,
        )
    else:
        seqs = tasks.subsequences(train_z, args.seq_len)
        loader = DataLoader(TensorDataset(seqs), args.batch_size, shuffle=True, rng=rng)
        trainer = Trainer(
            model,
            None,
            Adam(model.parameters(), lr=args.lr),
            clip_grad_norm=args.clip,
            step_fn=tasks.recurrent_step(8),
            **common,
        )
    seconds = run.fit(trainer, loader)
    pred = _one_step(model, cfg, series)
    rows = _forecast_scores(pred, series, args.model)
    print(
        f"forecast ({args.model}) on {name}, last {len(series) - n_train} values held out, "
        f"{seconds:.1f} s:"
    )
    for r in rows:
        print(f"  {r['model']:<12} RMSE {r['rmse']:.4g}   MAE {r['mae']:.4g}")
    print(f"checkpoint {run.ckpt}")
    if args.figures:
        from ..viz import plot_forecast, plot_training_curves

        plot_training_curves(
            trainer.history, run.out / "curves.png", title=f"{args.model} forecaster on {name}"
        )
        t, unit = _series_time(args.data, len(series))
        plot_forecast(
            t,
            series,
            {f"{args.model}, one step ahead": np.concatenate([np.full(n_train, np.nan), pred])},
            run.out / "forecast.png",
            split_index=n_train,
            title=f"{name}: one-step-ahead forecasts of the held-out tail "
            f"(RMSE {rows[0]['rmse']:.4g}, persistence {rows[1]['rmse']:.4g})",
            xlabel=unit,
            ylabel=name,
        )
    return 0


def scaler_dict(scaler: Any) -> dict[str, float]:
    """A fitted ``Standardizer`` of a 1-d series as ``{"mean": m, "std": s}``."""
    mean = np.asarray(scaler.mean_, dtype=np.float64).reshape(-1)  # (1,): one series
    std = np.asarray(scaler.std_, dtype=np.float64).reshape(-1)
    return {"mean": float(mean[0]), "std": float(std[0])}


def _series_time(spec: str, n: int) -> tuple[np.ndarray, str]:
    """The time axis of a series for figures: the years of the bundled sunspots, else steps."""
    if spec == "sunspots":
        years = np.asarray(D.load_sunspots().years, dtype=np.float64)
        if years.shape == (n,):
            return years, "year"
    return np.arange(n, dtype=np.float64), "t"


def _one_step(model: Any, cfg: dict[str, Any], series: np.ndarray) -> np.ndarray:
    """One-step-ahead forecasts of the held-out tail, in the series' own units."""
    scaler, z, n_train = tasks.forecast_arrays(cfg, series)
    pred = one_step_forecast(model, z, start=n_train, tau=cfg["model"]["tau"])
    return np.asarray(scaler.inverse_transform(pred))


def _forecast_scores(pred: np.ndarray, series: np.ndarray, kind: str) -> list[dict[str, Any]]:
    """RMSE and MAE of ``pred`` (the held-out tail), of persistence and of the training mean."""
    n_train = len(series) - len(pred)
    target = series[n_train:]
    persist = series[n_train - 1 : -1]
    mean = np.full_like(target, series[:n_train].mean())
    return [
        {"model": kind, "rmse": rmse(pred, target), "mae": mae(pred, target)},
        {"model": "persistence", "rmse": rmse(persist, target), "mae": mae(persist, target)},
        {"model": "mean", "rmse": rmse(mean, target), "mae": mae(mean, target)},
    ]


# ----------------------------------------------------------------------------- eval / generate
def evaluate(args: argparse.Namespace) -> int:
    state = read_checkpoint(args.checkpoint)
    cfg = state["config"]
    model = rebuild(state, args.checkpoint)
    task = cfg["task"]
    if task == "cnn":
        spec = args.data or cfg["data"]["spec"]
        images, labels, _ = tasks.load_images(spec, train=False)  # MNIST: the official test set
        if args.data is None and not tasks.has_test_set(spec):  # the checkpoint's held-out split
            _, te = tasks.split_indices(
                labels, cfg["data"]["test_fraction"], cfg["data"]["split_seed"]
            )
            images, labels = images[te], labels[te]
        if images.shape[-1] != cfg["model"]["image_size"]:
            raise CLIError(
                f"the model expects {cfg['model']['image_size']}x{cfg['model']['image_size']} "
                f"images, the data has {images.shape[-1]}x{images.shape[-1]}"
            )
        logits = tasks.cnn_logits(model, images)
        _finite_output(logits, args.checkpoint, "logits")
        acc = float((logits.argmax(1) == labels).mean())
        where = " of the official test set" if tasks.has_test_set(spec) else ""
        print(f"accuracy {acc:.4f} on {len(labels)} images{where}")
    elif task == "charlm":
        vocab = CharVocab.from_dict(cfg["vocab"])
        text = tasks.load_text(args.data or cfg["data"]["spec"])
        if args.data is None:
            text = _text_split(text, cfg["data"]["val_fraction"])[1]
        ppl = LM.perplexity(model, text, vocab=vocab)
        _finite_output(np.array([ppl]), args.checkpoint, "perplexity")
        print(f"perplexity {ppl:.3f} on {len(text)} characters")
    else:
        series, _name = tasks.load_series(
            args.data or cfg["data"]["spec"], args.column or cfg["data"]["column"]
        )
        pred = _one_step(model, cfg, series)
        for r in _forecast_scores(pred, series, cfg["model"]["kind"]):
            print(f"{r['model']:<12} RMSE {r['rmse']:.4g}   MAE {r['mae']:.4g}")
    return 0


def _finite_output(values: np.ndarray, path: Path, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise CLIError(
            f"{path}: the model's {what} is not finite ({bad.size} of {values.size} values, "
            f"the first at position {int(bad[0]) + 1})"
        )


def generate(args: argparse.Namespace) -> int:
    state = read_checkpoint(args.checkpoint)
    if state["config"]["task"] != "charlm":
        raise CLIError(f"{args.checkpoint} is a {state['config']['task']} checkpoint, not charlm")
    model = rebuild(state, args.checkpoint)
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
    model = rebuild(state, args.checkpoint)
    series, _ = tasks.load_series(cfg["data"]["spec"], cfg["data"]["column"])
    scaler, z, _ = tasks.forecast_arrays(cfg, series)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging free run is reported below
        pred = np.asarray(
            scaler.inverse_transform(free_run(model, z, args.steps, tau=cfg["model"]["tau"]))
        )
    _finite_output(pred, args.checkpoint, "forecast")
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
