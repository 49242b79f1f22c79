"""``Trainer``: fit and evaluate any model with any loss, optimizer and scheduler.

What it adds to a hand-written loop: gradient clipping, progress (a tqdm bar that stays on a
terminal and in Jupyter, plain lines in a pipe, and one Keras-like summary line per epoch:
``epoch 3/10  loss 0.412  val_loss 0.455  val_acc 0.962  12.1s``), metrics as JSON lines,
callbacks (early stopping), and checkpoints that make an interrupted run resumable with exactly
the numbers an uninterrupted run gives: model, optimizer, scheduler, callbacks, the random
generators and the position inside the epoch (including that epoch's sample order) are all saved.

Ctrl-C during ``fit`` is caught at the next batch boundary (never half-way through an optimizer
update): a checkpoint is written and ``TrainingInterrupted`` is raised. A second Ctrl-C stops at
once.

A run never loses a good model:

- a step whose loss or gradient norm is NaN/inf is never applied; by default (``on_nonfinite=
  "stop"``) ``TrainingDiverged`` is raised naming the epoch and step, and the last checkpoint
  (written at the end of an earlier epoch) is left as it is; ``"skip"`` drops such steps and
  goes on, stopping after ``MAX_SKIPS_IN_A_ROW`` in a row;
- a checkpoint is never written with NaN/inf parameters or optimizer state;
- ``fit`` holds an exclusive ``RunLock`` on the checkpoint (a second process on the same file
  fails at once), removes temporary files an earlier killed save left behind, and on resume cuts
  the metrics log back to the checkpoint's step, so steps logged after it are not logged twice.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_text, remove_stale_temps
from .._random import default_generator
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn.utils import clip_grad_norm_
from ..progress import Progress, as_progress, format_logs
from .callbacks import Callback
from .checkpoint import (
    CheckpointError,
    check_finite,
    load_state,
    rng_state,
    save_state,
    set_rng_state,
)
from .lock import RunLock

Metric = Callable[[Any, Any], float]
StepFn = Callable[[Any, Any], tuple[Tensor, Any, Any]]

MAX_SKIPS_IN_A_ROW = 10  # on_nonfinite="skip": more non-finite steps in a row stop the run


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C; ``checkpoint`` is the path saved (or None)."""

    def __init__(self, checkpoint: Path | None) -> None:
        super().__init__(f"training interrupted; checkpoint: {checkpoint}")
        self.checkpoint = checkpoint


class TrainingDiverged(RuntimeError):
    """The loss, the gradients or the weights became NaN/inf; nothing non-finite was saved.

    Attributes:
        epoch: the epoch (1-based) in which it happened.
        step: the step (1-based, counted over the whole run) at which it happened.
        checkpoint: the last checkpoint written or loaded (left untouched), or None.
    """

    def __init__(self, message: str, epoch: int, step: int, checkpoint: Path | None) -> None:
        kept = (
            f"the last good checkpoint {checkpoint} is kept"
            if checkpoint is not None
            else "no checkpoint was written"
        )
        super().__init__(f"{message}; {kept}")
        self.epoch, self.step, self.checkpoint = epoch, step, checkpoint


def _nonfinite_arrays(tree: Any) -> int:
    """How many floating arrays in a nested dict/list/tuple hold a NaN or inf."""
    if isinstance(tree, np.ndarray):
        return int(tree.dtype.kind == "f" and not np.isfinite(tree).all())
    if isinstance(tree, dict):
        return sum(_nonfinite_arrays(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return sum(_nonfinite_arrays(v) for v in tree)
    return 0


def _finite(logs: dict[str, float]) -> bool:
    return math.isfinite(logs["loss"]) and math.isfinite(logs["grad_norm"])


def accuracy(output: Tensor, target: Any) -> float:
    """Fraction of rows whose arg-max over the last axis equals the target class."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    return float((output.data.argmax(axis=-1) == t).mean())


def _default_step(
    model: Any, loss_fn: Callable[..., Tensor], batch: Any
) -> tuple[Tensor, Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ValueError(
            "Trainer's default step expects batches of (inputs, targets); pass step_fn= for "
            f"other batch layouts, got {type(batch).__name__}"
        )
    x, y = batch[0], batch[1]
    out = model(x)
    return loss_fn(out, y), out, y


def _batch_size(y: Any) -> int:
    if isinstance(y, Tensor):
        return int(y.shape[0]) if y.ndim else 1
    a = np.asarray(y)
    return int(a.shape[0]) if a.ndim else 1


class _InterruptFlag:
    """Turn the first SIGINT into a flag checked between batches (main thread only)."""

    def __init__(self) -> None:
        self.set = False
        self._prev: Any = None

    def __enter__(self) -> _InterruptFlag:
        if threading.current_thread() is threading.main_thread():
            self._prev = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum: int, frame: Any) -> None:
        if self.set:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.set = True

    def __exit__(self, *exc: object) -> None:
        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)


class Trainer:
    """Fit and evaluate a model.

    Args:
        model: a ``glassnet.nn.Module`` (anything with ``parameters``, ``train``, ``eval``,
            ``state_dict`` and ``load_state_dict``).
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``.
        optimizer: an optimizer with PyTorch's API (``zero_grad``, ``step``, ``state_dict``).
        scheduler: optional LR scheduler, stepped every epoch (``scheduler_interval="epoch"``)
            or every optimizer step (``"step"``).
        metrics: name -> ``fn(output, target) -> float``, averaged over samples.
        clip_grad_norm: clip the joint gradient norm to this value before each step.
        callbacks: ``Callback`` objects (e.g. ``EarlyStopping``).
        log_path: file to append JSON lines to (one per step and one per epoch).
        progress: ``True`` (default): a live bar (loss and metrics per step) on a terminal or in
            Jupyter, plain lines every 10 s in a pipe or a log, and one summary line per epoch
            with the train and validation metrics; ``"summary"``: only the epoch lines;
            ``False``: nothing; or a ``glassnet.progress.Progress`` (stream, interval).
        step_fn: ``step_fn(model, batch) -> (loss, output, target)`` for batches that are not
            ``(inputs, targets)`` pairs.
        config: JSON-like description of the run (model arguments, data), stored in every
            checkpoint so the model can be rebuilt from the file alone.
        on_nonfinite: what a step with a NaN/inf loss or gradient norm does (it is never
            applied): ``"stop"`` (default) raises ``TrainingDiverged``; ``"skip"`` drops the
            step, logs it (``"event": "skipped"``) and goes on, raising ``TrainingDiverged``
            after more than ``MAX_SKIPS_IN_A_ROW`` (10) in a row or a whole epoch of them.
    """

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[..., Tensor] | None,
        optimizer: Any,
        *,
        scheduler: Any = None,
        scheduler_interval: str = "epoch",
        metrics: dict[str, Metric] | None = None,
        clip_grad_norm: float | None = None,
        callbacks: Sequence[Callback] = (),
        log_path: str | Path | None = None,
        progress: bool | str | Progress = True,
        step_fn: StepFn | None = None,
        config: dict[str, Any] | None = None,
        on_nonfinite: str = "stop",
    ) -> None:
        if on_nonfinite not in ("stop", "skip"):
            raise ValueError(f"on_nonfinite must be 'stop' or 'skip', got {on_nonfinite!r}")
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be positive, got {clip_grad_norm}")
        if loss_fn is None and step_fn is None:
            raise ValueError("Trainer needs a loss_fn, or a step_fn that computes the loss")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.metrics = dict(metrics or {})
        self.clip_grad_norm = clip_grad_norm
        self.callbacks = list(callbacks)
        self.log_path = Path(log_path) if log_path is not None else None
        self.progress = as_progress(progress)  # reassigning True/False/a mode works too
        self.step_fn = step_fn
        self.config = config
        self.on_nonfinite = on_nonfinite
        self.history: dict[str, list[float]] = {}
        self.epoch = 0  # completed epochs
        self.global_step = 0
        self._batch_in_epoch = 0
        self._epoch_order: np.ndarray | None = None
        self._epoch_sums: dict[str, float] = {}
        self._epoch_count = 0
        self._epoch_skips = 0
        self._skips_in_a_row = 0
        self._saved: Path | None = None  # the last checkpoint written or loaded

    # ----------------------------------------------------------------- one step
    def _compute(self, batch: Any) -> tuple[Tensor, Any, Any]:
        if self.step_fn is not None:
            return self.step_fn(self.model, batch)
        assert self.loss_fn is not None
        return _default_step(self.model, self.loss_fn, batch)

    def train_step(self, batch: Any) -> dict[str, float]:
        """Forward, backward, clip, optimizer (and per-step scheduler) step on one batch.

        The logs always hold ``loss`` and ``grad_norm`` (the joint 2-norm before clipping). If
        either is NaN/inf, nothing is updated (no optimizer or scheduler step) and no
        metric is computed.
        """
        self.optimizer.zero_grad()
        loss, out, y = self._compute(batch)
        if loss.data.size != 1:
            raise ValueError(f"the loss must be a scalar, got shape {loss.shape}")
        loss.backward()
        # One pass measures the norm and clips (max_norm=inf: measures only). A non-finite norm
        # may leave NaN gradients behind; they are never applied and zeroed by the next step.
        max_norm = math.inf if self.clip_grad_norm is None else self.clip_grad_norm
        with np.errstate(over="ignore", invalid="ignore"):
            norm = clip_grad_norm_(self.model.parameters(), max_norm)
        logs = {"loss": float(loss.item()), "grad_norm": norm}
        if not _finite(logs):
            logs["batch_size"] = _batch_size(y)
            return logs
        self.optimizer.step()
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        for name, fn in self.metrics.items():
            logs[name] = float(fn(out, y))
        logs["batch_size"] = _batch_size(y)
        return logs

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, loader: Iterable[Any], prefix: str = "") -> dict[str, float]:
        """Mean loss and metrics over ``loader`` in eval mode without gradients."""
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        sums: dict[str, float] = {}
        count = 0
        try:
            with grad_mode.no_grad():
                for batch in loader:
                    loss, out, y = self._compute(batch)
                    n = _batch_size(y)
                    count += n
                    sums["loss"] = sums.get("loss", 0.0) + float(loss.item()) * n
                    for name, fn in self.metrics.items():
                        sums[name] = sums.get(name, 0.0) + float(fn(out, y)) * n
        finally:
            self.model.train(was_training)
        if count == 0:
            raise ValueError("evaluate() got an empty loader")
        return {prefix + k: v / count for k, v in sums.items()}

    # ----------------------------------------------------------------- fitting
    def _batches(self, loader: Any) -> Iterator[Any]:
        """This epoch's batches, starting where an interrupted epoch stopped."""
        if hasattr(loader, "epoch_order") and hasattr(loader, "iter_batches"):
            if self._epoch_order is None:
                self._epoch_order = loader.epoch_order()
            yield from loader.iter_batches(self._epoch_order, start=self._batch_in_epoch)
            return
        for i, batch in enumerate(loader):
            if i >= self._batch_in_epoch:
                yield batch

    def fit(
        self,
        train_loader: Any,
        epochs: int,
        val_loader: Any = None,
        *,
        checkpoint_path: str | Path | None = None,
        resume: bool = False,
    ) -> dict[str, list[float]]:
        """Train until ``epochs`` epochs are complete (counting epochs of a resumed run).

        Args:
            train_loader: iterable of batches (a ``DataLoader`` gives exact resumption).
            epochs: total number of epochs.
            val_loader: evaluated after every epoch (``val_loss`` and ``val_<metric>``).
            checkpoint_path: where to save after every epoch and on Ctrl-C.
            resume: continue from ``checkpoint_path`` if it exists.

        Returns:
            The history: one list per logged quantity, one entry per epoch.
        """
        if epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        ckpt = Path(checkpoint_path) if checkpoint_path is not None else None
        if resume and ckpt is None:
            raise ValueError("resume=True needs a checkpoint_path")
        with RunLock(ckpt) if ckpt is not None else contextlib.nullcontext():
            if ckpt is not None:
                remove_stale_temps(ckpt)
                remove_stale_temps(str(ckpt) + ".json")
            if resume and ckpt is not None and ckpt.exists():
                self.load_checkpoint(ckpt, train_loader)
            for cb in self.callbacks:
                cb.on_train_begin(self)
            stop = False
            try:
                with _InterruptFlag() as interrupt:
                    while self.epoch < epochs and not stop:
                        stop = self._run_epoch(train_loader, val_loader, epochs, interrupt, ckpt)
            finally:
                for cb in self.callbacks:
                    cb.on_train_end(self)
        return self.history

    def _run_epoch(
        self,
        loader: Any,
        val_loader: Any,
        epochs: int,
        interrupt: _InterruptFlag,
        ckpt: Path | None,
    ) -> bool:
        self.model.train()
        total = len(loader) if hasattr(loader, "__len__") else None
        progress = self.progress = as_progress(self.progress)
        task = progress.task(
            total,
            f"epoch {self.epoch + 1}/{epochs}",
            unit="batch",
            initial=self._batch_in_epoch,
            final_line=False,  # the epoch's summary line follows
        )
        start = time.perf_counter()
        try:
            for batch in self._batches(loader):
                logs = self.train_step(batch)
                n = logs.pop("batch_size")
                self.global_step += 1
                self._batch_in_epoch += 1
                if not _finite(logs):
                    self._nonfinite_step(logs)
                else:
                    self._skips_in_a_row = 0
                    self._epoch_count += int(n)
                    for k, v in logs.items():
                        self._epoch_sums[k] = self._epoch_sums.get(k, 0.0) + v * n
                    self._log(
                        {"event": "step", "epoch": self.epoch + 1, "step": self.global_step, **logs}
                    )
                    for cb in self.callbacks:
                        cb.on_batch_end(self, self.global_step, logs)
                # the bar shows the epoch's running means, as its summary line will
                running = {k: v / max(self._epoch_count, 1) for k, v in self._epoch_sums.items()}
                task.update(1, **{k: v for k, v in running.items() if k != "grad_norm"})
                if interrupt.set:
                    path = self.save_checkpoint(ckpt, loader) if ckpt is not None else None
                    raise TrainingInterrupted(path)
        finally:
            task.close()
        if self._epoch_count == 0 and self._epoch_skips:
            raise self._diverged(f"every step of epoch {self.epoch + 1} was non-finite")
        if self._epoch_count == 0:
            raise ValueError("the training loader produced no batches")
        epoch_logs = {k: v / self._epoch_count for k, v in self._epoch_sums.items()}
        if val_loader is not None:
            epoch_logs.update(self.evaluate(val_loader, prefix="val_"))
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self.scheduler.step()
        epoch_logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
        epoch_logs["time"] = time.perf_counter() - start
        self.epoch += 1
        skipped = self._epoch_skips
        self._batch_in_epoch, self._epoch_order = 0, None
        self._epoch_sums, self._epoch_count, self._epoch_skips = {}, 0, 0
        for k, v in epoch_logs.items():
            self.history.setdefault(k, []).append(float(v))
        record = {"event": "epoch", "epoch": self.epoch, "step": self.global_step, **epoch_logs}
        self._log(record | ({"skipped": skipped} if skipped else {}))
        progress.line(self._epoch_line(epoch_logs, epochs, skipped))
        stop = any(bool(cb.on_epoch_end(self, self.epoch, epoch_logs)) for cb in self.callbacks)
        if ckpt is not None:
            self.save_checkpoint(ckpt, loader)
        return stop

    def _diverged(self, message: str) -> TrainingDiverged:
        return TrainingDiverged(
            f"training stopped in epoch {self.epoch + 1} at step {self.global_step}: {message}",
            self.epoch + 1,
            self.global_step,
            self._saved,
        )

    def _nonfinite_step(self, logs: dict[str, float]) -> None:
        """A step with a NaN/inf loss or gradient norm (not applied): stop, or count a skip."""
        what = f"loss {logs['loss']}, gradient norm {logs['grad_norm']}"
        record = {"epoch": self.epoch + 1, "step": self.global_step, **logs}
        if self.on_nonfinite == "stop":
            self._log({"event": "nonfinite", **record})
            raise self._diverged(f"non-finite {what} (the step was not applied)")
        self._log({"event": "skipped", **record})
        self._epoch_skips += 1
        self._skips_in_a_row += 1
        if self._skips_in_a_row > MAX_SKIPS_IN_A_ROW:
            raise self._diverged(
                f"{self._skips_in_a_row} non-finite steps in a row, the last with {what}"
            )

    def _epoch_line(self, logs: dict[str, float], epochs: int, skipped: int) -> str:
        """``epoch 3/10  loss 0.412  acc 0.91  val_loss 0.455  val_acc 0.962  12.1s``.

        The gradient norm is left to the metrics log and the figures; the learning rate is
        shown when a scheduler changes it.
        """
        shown = {k: v for k, v in logs.items() if k not in ("grad_norm", "lr", "time")}
        if self.scheduler is not None:
            shown["lr"] = logs["lr"]
        text = f"epoch {self.epoch}/{epochs}  {format_logs(shown)}"
        if skipped:
            text += f"  ({skipped} non-finite steps skipped)"
        return f"{text}  {logs['time']:.1f}s"

    def _log(self, record: dict[str, Any]) -> None:
        if self.log_path is None:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as f:
            f.write(json.dumps(record, allow_nan=True) + "\n")

    def _truncate_log(self) -> None:
        """Drop the log records after the current step (and torn lines of a killed run)."""
        if self.log_path is None or not self.log_path.exists():
            return
        kept = []
        for line in self.log_path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            step = record.get("step") if isinstance(record, dict) else None
            if isinstance(step, int) and step <= self.global_step:
                kept.append(line + "\n")
        atomic_write_text(self.log_path, "".join(kept))

    # ----------------------------------------------------------------- checkpoints
    def _generators(self, loader: Any) -> dict[str, np.random.Generator]:
        gens = {"glassnet": default_generator()}
        rng = getattr(loader, "rng", None)
        if isinstance(rng, np.random.Generator) and rng is not gens["glassnet"]:
            gens["loader"] = rng
        return gens

    def state_dict(self, loader: Any = None) -> dict[str, Any]:
        """Everything needed to continue training exactly."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "rng": {k: rng_state(g) for k, g in self._generators(loader).items()},
            "progress": {
                "epoch": self.epoch,
                "global_step": self.global_step,
                "batch_in_epoch": self._batch_in_epoch,
                "epoch_order": self._epoch_order,
                "epoch_sums": dict(self._epoch_sums),
                "epoch_count": self._epoch_count,
                "epoch_skips": self._epoch_skips,
                "skips_in_a_row": self._skips_in_a_row,
            },
            "history": {k: list(v) for k, v in self.history.items()},
            "config": self.config,
        }

    def load_state_dict(self, state: dict[str, Any], loader: Any = None) -> None:
        """Restore ``state_dict()``; anything that does not fit raises ``CheckpointError``.

        The structure is checked before anything changes; a part that does not fit this
        trainer's model, optimizer, scheduler or callbacks is named, and everything loaded before
        it is put back: a failed load leaves the trainer as it was.
        """
        progress = _check_train_state(state, loader)
        before = copy.deepcopy(self.state_dict(loader))
        try:
            self._apply_state(state, progress, loader)
        except BaseException:
            self._apply_state(before, before["progress"], loader)
            raise

    def _apply_state(self, state: dict[str, Any], progress: dict[str, Any], loader: Any) -> None:
        for part, target in (
            ("model", self.model),
            ("optimizer", self.optimizer),
            ("scheduler", self.scheduler),
        ):
            if target is not None and state.get(part) is not None:
                _load_part(part, target, state[part])
        for i, (cb, s) in enumerate(zip(self.callbacks, state.get("callbacks", []))):
            _load_part(f"callback {i} ({type(cb).__name__})", cb, s)
        gens = self._generators(loader)
        for k, s in state.get("rng", {}).items():
            if k in gens:
                set_rng_state(gens[k], s)
        self.epoch, self.global_step = progress["epoch"], progress["global_step"]
        self._batch_in_epoch = progress["batch_in_epoch"]
        self._epoch_order = progress["epoch_order"]
        self._epoch_sums = dict(progress["epoch_sums"])
        self._epoch_count = progress["epoch_count"]
        self._epoch_skips = progress["epoch_skips"]
        self._skips_in_a_row = progress["skips_in_a_row"]
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}

    def save_checkpoint(self, path: str | Path, loader: Any = None) -> Path:
        """Save the full training state to ``path`` (atomic) plus a JSON summary beside it.

        Raises:
            TrainingDiverged: a parameter or optimizer buffer holds NaN/inf (nothing is written).
        """
        state = self.state_dict(loader)
        bad = _nonfinite_arrays([p.data for p in self.model.parameters()])
        bad += _nonfinite_arrays(state["optimizer"])
        if bad:
            raise self._diverged(
                f"{bad} parameter or optimizer array(s) hold NaN/inf; the checkpoint was not "
                "written"
            )
        last = {k: v[-1] for k, v in self.history.items() if v}
        summary = {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "batch_in_epoch": self._batch_in_epoch,
            "last_epoch_logs": {k: (v if math.isfinite(v) else str(v)) for k, v in last.items()},
            "config": self.config,
        }
        self._saved = save_state(path, state, summary)
        return self._saved

    def load_checkpoint(self, path: str | Path, loader: Any = None) -> dict[str, Any]:
        """Restore the training state saved by ``save_checkpoint``; returns the raw state.

        With a ``log_path``, the log is cut back to the checkpoint's step: what was logged
        after it (by a run killed before its next checkpoint) is logged again when redone.

        Raises:
            CheckpointError: the file is damaged or its state does not fit this trainer.
        """
        state = load_state(path)
        try:
            self.load_state_dict(state, loader)
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}") from None
        self._saved = Path(path)
        self._truncate_log()
        return state


def _load_part(part: str, target: Any, state: Any) -> None:
    """``target.load_state_dict(state)``, any failure reported as a CheckpointError."""
    try:
        target.load_state_dict(state)
    except CheckpointError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        message = " ".join(str(e).split())
        raise CheckpointError(
            f"the saved {part} state does not fit: {type(e).__name__}: {message}"
        ) from None


def _count(p: dict[str, Any], name: str, required: bool = False) -> int:
    if required and name not in p:
        raise CheckpointError(f"the training progress lacks {name!r}")
    value = p.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckpointError(f"the training progress {name!r} must be an int >= 0, got {value!r}")
    return value


def _check_train_state(state: Any, loader: Any) -> dict[str, Any]:
    """The checked ``progress`` entry of a training state (see ``Trainer.state_dict``)."""
    if not isinstance(state, dict):
        raise CheckpointError(f"a training state is a dict, got {type(state).__name__}")
    missing = [k for k in ("model", "optimizer", "progress") if k not in state]
    if missing:
        raise CheckpointError(
            f"the training state lacks {missing}; it has {sorted(map(str, state))}"
        )
    for part in ("model", "optimizer"):
        check_finite(state[part], part)
    for key, kind in (("callbacks", list), ("rng", dict), ("history", dict)):
        if not isinstance(state.get(key, kind()), kind):
            raise CheckpointError(f"the training state's {key!r} must be a {kind.__name__}")
    for k, v in state.get("history", {}).items():
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) for x in v):
            raise CheckpointError(f"the training history {k!r} must be a list of numbers")
    p = state["progress"]
    if not isinstance(p, dict):
        raise CheckpointError(f"the training progress must be a dict, got {type(p).__name__}")
    out: dict[str, Any] = {
        k: _count(p, k, True) for k in ("epoch", "global_step", "batch_in_epoch")
    }
    for k in ("epoch_count", "epoch_skips", "skips_in_a_row"):
        out[k] = _count(p, k)
    sums = p.get("epoch_sums", {})
    if not isinstance(sums, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in sums.values()
    ):
        raise CheckpointError("the training progress 'epoch_sums' must map names to numbers")
    out["epoch_sums"] = sums
    order = p.get("epoch_order")
    if order is not None:
        if not isinstance(order, np.ndarray) or order.ndim != 1 or order.dtype.kind not in "iu":
            raise CheckpointError("the training progress 'epoch_order' must be a 1-d integer array")
        dataset = getattr(loader, "dataset", None)
        if dataset is not None and hasattr(dataset, "__len__"):
            n = len(dataset)
            if order.shape[0] != n or (n and (order.min() < 0 or order.max() >= n)):
                raise CheckpointError(
                    f"the saved sample order is for {order.shape[0]} samples, the loader has "
                    f"{n}: resume with the same training data"
                )
    out["epoch_order"] = order
    if loader is not None and hasattr(loader, "__len__") and out["batch_in_epoch"] > len(loader):
        raise CheckpointError(
            f"the checkpoint stopped after batch {out['batch_in_epoch']} of an epoch, the loader "
            f"has {len(loader)} batches: resume with the same data and batch size"
        )
    return out
