"""Long-range memory tasks and a small trainer: the adding problem and the copy-memory task.

* Adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): each step carries a value
  ``U(0, 1)`` and a marker; exactly two markers are 1, one in each half of the sequence; the
  target is the sum of the two marked values, read after the last step; loss MSE. The no-memory
  baseline is the best constant prediction, the mean 1 of the target, whose expected MSE is the
  target's variance: Var(U_1 + U_2) = 2/12 = 1/6 = 0.1667 (``ADDING_BASELINE``). The 0.1767
  quoted in the literature since Le, Jaitly and Hinton (2015) for "predict 1 whatever the
  input" is not the expectation of anything in the task's definition; a sample MSE of the
  constant over n sequences has standard deviation 0.197 / sqrt(n) (0.012 for n = 256), so a
  finite test set shows 0.1767 by chance. :func:`constant_baseline_mse` measures it.
* Copy memory (Arjovsky et al. 2016): 10 symbols from {1..8}, T - 1 blanks (0), a delimiter (9),
  then 10 blanks; the target is T + 10 blanks followed by the 10 symbols; loss cross-entropy
  over all T + 20 steps. A model without memory predicts blanks and then uniform symbols:
  ``10 log(8) / (T + 20)``.

:func:`train_task` trains a :class:`SeqModel` (one RNN/LSTM/GRU layer + a linear read-out) with
Adam, optional gradient-norm clipping and optional truncated BPTT ("detach every k steps": the
sequence is run in chunks of k steps whose starting state is detached, with one update per batch,
so truncation changes only how far back the gradient flows).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.rnn import GRU, LSTM, RNN
from ..nn.utils import clip_grad_norm_
from ..ops.shape import cat
from ..optim import SGD, Adam

__all__ = [
    "ADDING_BASELINE",
    "SeqModel",
    "constant_baseline_mse",
    "adding_problem",
    "copy_baseline",
    "copy_memory",
    "hidden_for_budget",
    "n_parameters",
    "train_task",
]

ADDING_BASELINE = 1.0 / 6.0  # Var(U_1 + U_2): the MSE of the best constant, 1
CELLS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def adding_problem(T: int, n: int, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem.

    Shapes:
        x: (T, n, 2) (value, marker)   y: (n, 1) the sum of the two marked values

    >>> x, y = adding_problem(10, 4, rng=np.random.default_rng(0))
    >>> x.shape, y.shape, x[:, :, 1].sum(0).tolist()
    ((10, 4, 2), (4, 1), [2.0, 2.0, 2.0, 2.0])
    """
    if T < 2:
        raise ValueError(f"adding_problem expected T >= 2, got {T}")
    x = np.zeros((T, n, 2), np.float32)
    x[:, :, 0] = rng.random((T, n))
    half = T // 2
    a = rng.integers(0, half, n)
    b = rng.integers(half, T, n)
    rows = np.arange(n)
    x[a, rows, 1] = 1.0
    x[b, rows, 1] = 1.0
    y = (x[a, rows, 0] + x[b, rows, 0])[:, None]  # (n, 1)
    return x, y


def copy_memory(
    T: int, n: int, *, rng: np.random.Generator, n_symbols: int = 8, length: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the copy-memory task (sequence length T + 2 * length).

    Shapes:
        x: (T + 20, n, 10) one-hot (0 blank, 1..8 symbols, 9 delimiter)   y: (T + 20, n) ints

    >>> x, y = copy_memory(5, 2, rng=np.random.default_rng(0))
    >>> x.shape, y.shape, int(x[14, 0].argmax()), (y[:15] == 0).all()
    ((25, 2, 10), (25, 2), 9, np.True_)
    """
    if T < 1:
        raise ValueError(f"copy_memory expected T >= 1, got {T}")
    L = T + 2 * length
    seq = rng.integers(1, n_symbols + 1, (length, n))  # (10, n)
    tok = np.zeros((L, n), np.int64)
    tok[:length] = seq
    tok[length + T - 1] = n_symbols + 1  # delimiter
    y = np.zeros((L, n), np.int64)
    y[-length:] = seq
    x = np.eye(n_symbols + 2, dtype=np.float32)[tok]  # (L, n, 10)
    return x, y


def copy_baseline(T: int, n_symbols: int = 8, length: int = 10) -> float:
    """Cross-entropy of the no-memory strategy: ``length log(n_symbols) / (T + 2 length)``."""
    return length * math.log(n_symbols) / (T + 2 * length)


def constant_baseline_mse(T: int, n: int, *, rng: np.random.Generator) -> float:
    """The sample MSE of the best constant (1) on ``n`` fresh adding-problem sequences.

    Its expectation is ``ADDING_BASELINE`` = 1/6; its standard deviation about 0.197 / sqrt(n).

    >>> round(constant_baseline_mse(10, 200_000, rng=np.random.default_rng(0)), 3)
    0.167
    """
    _, y = adding_problem(T, n, rng=rng)
    return float(np.mean((y - 1.0) ** 2))


class SeqModel(Module):
    """One recurrent layer (``cell`` = "RNN", "LSTM" or "GRU") and a linear read-out per step.

    Shapes:
        x: (T, N, D)   output: (T, N, O)
    """

    def __init__(
        self, cell: str, input_size: int, hidden_size: int, output_size: int, *, rng: Any = None
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"SeqModel expected cell in {sorted(CELLS)}, got {cell!r}")
        self.cell = cell
        self.rnn = CELLS[cell](input_size, hidden_size, rng=rng)
        self.head = Linear(hidden_size, output_size, rng=rng)

    def forward(self, x: Any, state: Any = None, bptt_steps: int | None = None) -> Any:
        """Run the whole sequence; with ``bptt_steps=k``, detach the state every k steps."""
        T = x.shape[0]
        if bptt_steps is None or bptt_steps >= T:
            y, state = self.rnn(x, state)
            return self.head(y), state
        outs = []
        # chunks end at T, so the last chunk is a full k steps (the loss of the adding problem
        # sits at the last step and sees exactly k steps of gradient)
        bounds = list(range(T, 0, -bptt_steps))[::-1]
        start = 0
        for end in bounds:
            y, state = self.rnn(x[start:end], state)
            outs.append(self.head(y))
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            start = end
        return cat(outs, 0), state


def n_parameters(module: Module) -> int:
    return int(sum(p.data.size for p in module.parameters()))


def hidden_for_budget(cell: str, input_size: int, output_size: int, budget: int) -> int:
    """The hidden size whose :class:`SeqModel` parameter count is closest to ``budget``."""
    G = _GATES[cell]

    def count(H: int) -> int:
        return G * H * (input_size + H + 2) + H * output_size + output_size

    return min(range(1, 4096), key=lambda H: abs(count(H) - budget))


def _loss(task: str, out: Tensor, y: np.ndarray) -> Tensor:
    if task == "adding":
        return F.mse_loss(out[-1], Tensor(y))
    L, N, C = out.shape
    return F.cross_entropy(out.reshape(L * N, C), y.reshape(-1))


def make_batch(task: str, T: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
    if task == "adding":
        return adding_problem(T, n, rng=rng)
    if task == "copy":
        return copy_memory(T, n, rng=rng)
    raise ValueError(f"task must be 'adding' or 'copy', got {task!r}")


def baseline(task: str, T: int) -> float:
    return ADDING_BASELINE if task == "adding" else copy_baseline(T)


def build_model(
    task: str, cell: str, hidden: int, *, rng: np.random.Generator | None = None
) -> SeqModel:
    D, O = (2, 1) if task == "adding" else (10, 9)
    return SeqModel(cell, D, hidden, O, rng=rng)


def train_task(
    task: str,
    cell: str,
    T: int,
    *,
    hidden: int,
    steps: int,
    batch: int = 32,
    lr: float = 1e-2,
    clip: float | None = 1.0,
    bptt: int | None = None,
    eval_batch: int = 256,
    seed: int = 0,
    on_step: Any = None,
    model: SeqModel | None = None,
    optimizer: str = "adam",
    eval_every: int | None = None,
    stop_ratio: float | None = None,
) -> dict[str, Any]:
    """Train one model on ``task`` ("adding" or "copy") at length T and evaluate it.

    Args:
        task, cell, T: the task, the recurrent cell and the sequence length parameter.
        hidden: hidden size; steps: Adam updates; batch: sequences per update; lr: learning rate.
        clip: max gradient norm (None: no clipping). bptt: truncation length k (None: full).
        eval_batch: fresh sequences for the final loss. seed: data and initialisation.
        on_step: ``on_step(step, model, x, y)`` called before each update (for diagnostics).
        model: train this model instead of a fresh one.
        optimizer: "adam" or "sgd" (plain SGD, where an exploding gradient is not rescaled).
        eval_every: also evaluate on the same ``eval_batch`` sequences every ``eval_every``
            updates (and before the first): the learning curve.
        stop_ratio: stop as soon as such an evaluation is below ``stop_ratio`` x baseline
            (needs ``eval_every``); ``steps`` is then the number of updates made.

    Returns:
        a row: task, cell, T, hidden, params, clip, bptt, steps, final_loss, baseline,
        ratio (final_loss / baseline), diverged (a non-finite loss or gradient norm during
        training, or a final loss above 10 x baseline), max_grad_norm, seconds; with
        ``eval_every`` also ``curve``: a list of (updates, loss on the evaluation sequences).
    """
    if stop_ratio is not None and eval_every is None:
        raise ValueError("train_task stop_ratio needs eval_every (when to evaluate)")
    if eval_every is not None and (isinstance(eval_every, bool) or eval_every < 1):
        raise ValueError(f"train_task eval_every must be a positive int, got {eval_every!r}")
    rng = np.random.default_rng(seed)
    if model is None:
        model = build_model(task, cell, hidden, rng=rng)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"train_task expected optimizer 'adam' or 'sgd', got {optimizer!r}")
    opt = (Adam if optimizer == "adam" else SGD)(list(model.parameters()), lr=lr)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        # a diverging run is a result to record (diverged=True), not an error
        return _train(task, cell, T, model, opt, steps, batch, clip, bptt, eval_batch, seed,
                      on_step, rng, hidden, optimizer, eval_every, stop_ratio)  # fmt: skip


def _evaluate(task: str, model: SeqModel, x: np.ndarray, y: Any) -> float:
    with no_grad():
        out, _ = model(Tensor(x))
        return float(_loss(task, out, y).item())


def _train(
    task: str, cell: str, T: int, model: SeqModel, opt: Any, steps: int, batch: int,
    clip: float | None, bptt: int | None, eval_batch: int, seed: int, on_step: Any,
    rng: np.random.Generator, hidden: int, optimizer: str, eval_every: int | None,
    stop_ratio: float | None,
) -> dict[str, Any]:  # fmt: skip
    diverged, max_norm = False, 0.0
    base = baseline(task, T)
    x_eval, y_eval = make_batch(task, T, eval_batch, np.random.default_rng(10_000 + seed))
    curve: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    done = 0  # updates made
    for step in range(steps):
        if eval_every is not None and step % eval_every == 0:
            curve.append((step, _evaluate(task, model, x_eval, y_eval)))
            if stop_ratio is not None and curve[-1][1] < stop_ratio * base:
                break
        x, y = make_batch(task, T, batch, rng)
        if on_step is not None:
            on_step(step, model, x, y)
        out, _ = model(Tensor(x), bptt_steps=bptt)
        loss = _loss(task, out, y)
        if not np.isfinite(loss.item()):
            diverged = True
            break
        opt.zero_grad()
        loss.backward()
        total = clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
        if not math.isfinite(total):
            diverged = True
            break
        max_norm = max(max_norm, total)
        opt.step()
        done = step + 1
    final = _evaluate(task, model, x_eval, y_eval)
    if eval_every is not None and (not curve or curve[-1][0] != done):
        curve.append((done, final))
    if not math.isfinite(final) or final > 10 * base:
        diverged = True
    row = {
        "task": task,
        "cell": cell,
        "T": T,
        "hidden": hidden,
        "params": n_parameters(model),
        "clip": clip if clip is not None else "none",
        "bptt": bptt if bptt is not None else T,
        "steps": done,
        "optimizer": optimizer,
        "final_loss": final,
        "baseline": base,
        "ratio": final / base,
        "diverged": diverged,
        "max_grad_norm": max_norm,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if eval_every is not None:
        row["curve"] = curve
    return row
