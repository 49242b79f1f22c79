"""The benchmark cases: glassnet and PyTorch on identical shapes, weights and data.

Every case is a :class:`Case` whose ``make(with_torch)`` builds both sides and returns a
:class:`Pair` of zero-argument callables, each doing one timed unit of work (a forward, a
forward+backward, or a full training step). PyTorch's module receives glassnet's ``state_dict``
and both sides read the same NumPy input arrays, so they compute the same function.

FLOP counts are the multiply-adds (x2) of the matmuls/convolutions only; a backward pass is
counted as twice the forward (input and weight gradients). Pooling has no FLOP count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import glassnet
from glassnet import nn

__all__ = ["GROUPS", "Case", "Pair", "build_cases", "torch_or_none"]

GROUPS = ("conv", "pool", "rnn", "train")


def torch_or_none() -> Any:
    """The ``torch`` module, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


@dataclass
class Pair:
    """One unit of work on each side; ``theirs`` is None without PyTorch."""

    ours: Callable[[], None]
    theirs: Callable[[], None] | None


@dataclass
class Case:
    """A named benchmark case.

    Attributes:
        name: unique id, e.g. ``conv2d_b/fwd+bwd``.
        group: one of ``GROUPS``.
        shape: human-readable description of the shape.
        flops: floating-point operations of one unit of work (None where not meaningful).
        make: ``make(with_torch) -> Pair``.
        repeat: at most this many warm-up and timed calls per side (the end-to-end runs take
            seconds each); None: as the settings say.
    """

    name: str
    group: str
    shape: str
    flops: float | None
    make: Callable[[bool], Pair]
    repeat: int | None = None


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _randn(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return _rng(seed).standard_normal(shape).astype(np.float32)


def _load(theirs: Any, ours: nn.Module) -> None:
    torch = torch_or_none()
    theirs.load_state_dict(
        {k: torch.from_numpy(np.array(v, copy=True)) for k, v in ours.state_dict().items()}
    )


def _layer_pair(
    ours: nn.Module, build_theirs: Callable[[Any], Any] | None, x_np: np.ndarray, backward: bool
) -> Callable[[bool], Pair]:
    """Pair for a layer ``y = layer(x)`` (tuple outputs: first element), forward or fwd+bwd."""

    def first(y: Any) -> Any:
        return y[0] if isinstance(y, tuple) else y

    def make(with_torch: bool) -> Pair:
        x_g = glassnet.tensor(x_np, requires_grad=backward)
        y_shape = first(ours(x_g)).shape
        dy = _randn(tuple(y_shape), 1)
        dy_g = glassnet.tensor(dy)

        def run_ours() -> None:
            if backward:
                x_g.grad = None
                ours.zero_grad()
                first(ours(x_g)).backward(dy_g)
            else:
                with glassnet.no_grad():
                    ours(x_g)

        theirs = None
        if with_torch and build_theirs is not None:
            torch = torch_or_none()
            layer_t = build_theirs(torch)
            _load(layer_t, ours)
            x_t = torch.tensor(x_np, requires_grad=backward)
            dy_t = torch.tensor(dy)

            def run_theirs() -> None:
                if backward:
                    x_t.grad = None
                    layer_t.zero_grad()
                    first(layer_t(x_t)).backward(dy_t)
                else:
                    with torch.no_grad():
                        layer_t(x_t)

            theirs = run_theirs
        return Pair(run_ours, theirs)

    return make


# ----------------------------------------------------------------------------- convolution
# name: (spatial dims, N, C, F, size, kernel, stride, padding) -- the shapes of issue 3
CONV_SHAPES: dict[str, tuple[int, int, int, int, tuple[int, ...], int, int, int]] = {
    "conv2d_a": (2, 64, 1, 6, (28, 28), 5, 1, 0),
    "conv2d_b": (2, 64, 32, 64, (28, 28), 3, 1, 1),
    "conv2d_c": (2, 8, 64, 64, (56, 56), 3, 1, 1),
    "conv2d_d": (2, 8, 64, 128, (56, 56), 3, 2, 1),
    "conv1d_e": (1, 32, 64, 64, (1000,), 5, 1, 2),
}


def _conv_cases(quick: bool) -> list[Case]:
    cases = []
    for key, (nd, n, c, f, size, k, s, p) in CONV_SHAPES.items():
        n = max(1, n // 16) if quick else n
        out = [(d + 2 * p - k) // s + 1 for d in size]
        flops = 2.0 * n * f * int(np.prod(out)) * c * k**nd
        shape = f"N={n} {c}->{f} {'x'.join(map(str, size))} k{k} s{s} p{p}"
        for backward in (False, True):

            def make(with_torch: bool, nd=nd, c=c, f=f, k=k, s=s, p=p, n=n, size=size,
                     backward=backward) -> Pair:  # fmt: skip
                ours = (nn.Conv1d if nd == 1 else nn.Conv2d)(c, f, k, s, p, rng=_rng(0))
                x = _randn((n, c, *size), 2)

                def theirs(torch: Any) -> Any:
                    return (torch.nn.Conv1d if nd == 1 else torch.nn.Conv2d)(c, f, k, s, p)

                return _layer_pair(ours, theirs, x, backward)(with_torch)

            mode = "fwd+bwd" if backward else "fwd"
            cases.append(Case(f"{key}/{mode}", "conv", shape, flops * (3 if backward else 1), make))
    return cases


# ----------------------------------------------------------------------------- pooling
# name: (kind, N, C, H, W, kernel, stride, padding)
POOL_SHAPES: dict[str, tuple[str, int, int, int, int, int, int, int]] = {
    "max_pool2d_a": ("max", 64, 32, 28, 28, 2, 2, 0),
    "max_pool2d_b": ("max", 8, 64, 56, 56, 3, 2, 1),
    "avg_pool2d_a": ("avg", 64, 32, 28, 28, 2, 2, 0),
    "avg_pool2d_b": ("avg", 8, 64, 56, 56, 3, 2, 1),
}


def _pool_cases(quick: bool) -> list[Case]:
    cases = []
    for key, (kind, n, c, h, w, k, s, p) in POOL_SHAPES.items():
        n = max(1, n // 8) if quick else n
        shape = f"N={n} C={c} {h}x{w} k{k} s{s} p{p}"
        for backward in (False, True):

            def make(with_torch: bool, kind=kind, n=n, c=c, h=h, w=w, k=k, s=s, p=p,
                     backward=backward) -> Pair:  # fmt: skip
                ours = (nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(k, s, p)
                x = _randn((n, c, h, w), 2)

                def theirs(torch: Any) -> Any:
                    return (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, s, p)

                return _layer_pair(ours, theirs, x, backward)(with_torch)

            mode = "fwd+bwd" if backward else "fwd"
            cases.append(Case(f"{key}/{mode}", "pool", shape, None, make))
    return cases


# ----------------------------------------------------------------------------- recurrent
# name: (N, T, D, H, layers) -- the shapes of issue 4 (time-major input, batch_first=False)
RNN_SHAPES: dict[str, tuple[int, int, int, int, int]] = {
    "a": (32, 100, 64, 256, 1),
    "b": (64, 35, 650, 650, 2),
    "c": (1, 1000, 1, 32, 1),
}
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _rnn_flops(kind: str, n: int, t: int, d: int, h: int, layers: int) -> float:
    total = 0.0
    for layer in range(layers):
        d_in = d if layer == 0 else h
        total += 2.0 * n * t * GATES[kind] * h * (d_in + h)
    return total


def _rnn_cases(quick: bool) -> list[Case]:
    cases = []
    for kind in ("LSTM", "GRU", "RNN"):
        for key, (n, t, d, h, layers) in RNN_SHAPES.items():
            if quick:
                n, t = max(1, n // 4), max(10, t // 10)
            shape = f"N={n} T={t} D={d} H={h} L={layers}"
            flops = _rnn_flops(kind, n, t, d, h, layers)
            for backward in (False, True):

                def make(with_torch: bool, kind=kind, n=n, t=t, d=d, h=h, layers=layers,
                         backward=backward) -> Pair:  # fmt: skip
                    ours = getattr(nn, kind)(d, h, layers, rng=_rng(0))
                    x = _randn((t, n, d), 2)

                    def theirs(torch: Any) -> Any:
                        return getattr(torch.nn, kind)(d, h, layers)

                    return _layer_pair(ours, theirs, x, backward)(with_torch)

                mode = "fwd+bwd" if backward else "fwd"
                cases.append(
                    Case(
                        f"{kind.lower()}_{key}/{mode}",
                        "rnn",
                        shape,
                        flops * (3 if backward else 1),
                        make,
                    )
                )
    return cases


# ----------------------------------------------------------------------------- models
LENET: dict[str, Any] = {
    "batch": 64,
    "image": 8,
    "channels": (16, 32),
    "hidden": (64,),
    "classes": 10,
}
CHARLM: dict[str, Any] = {"vocab": 65, "embed": 64, "hidden": 256, "batch": 32, "seq": 64}


def _lenet_flops(n: int) -> float:
    s = LENET["image"]
    total, c_in = 0.0, 1
    for c_out in LENET["channels"]:
        total += 2.0 * n * c_out * s * s * c_in * 9  # kernel 3 (image side < 16)
        s //= 2
        c_in = c_out
    width = c_in * s * s
    for h in (*LENET["hidden"], LENET["classes"]):
        total += 2.0 * n * width * h
        width = h
    return 3 * total


def _torch_lenet(torch: Any) -> Any:
    tnn = torch.nn
    (c1, c2), (h,) = LENET["channels"], LENET["hidden"]
    side = LENET["image"] // 4
    features = tnn.Sequential(
        tnn.Conv2d(1, c1, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(c1, c2, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
    )  # fmt: skip
    classifier = tnn.Sequential(
        tnn.Flatten(), tnn.Linear(c2 * side * side, h), tnn.ReLU(), tnn.Linear(h, LENET["classes"])
    )
    return tnn.Sequential(
        __import__("collections").OrderedDict(features=features, classifier=classifier)
    )


def _make_lenet_step(with_torch: bool, n: int = LENET["batch"]) -> Pair:
    from glassnet.models import LeNet
    from glassnet.optim import Adam

    s = LENET["image"]
    ours = LeNet(image_size=s, channels=LENET["channels"], hidden=LENET["hidden"], rng=_rng(0))
    x = _rng(2).random((n, 1, s, s)).astype(np.float32)
    y = _rng(3).integers(0, LENET["classes"], n)
    theirs = None
    if with_torch:
        torch = torch_or_none()
        net_t = _torch_lenet(torch)
        _load(net_t, ours)
        opt_t = torch.optim.Adam(net_t.parameters(), lr=1e-3, foreach=False)
        x_t, y_t = torch.tensor(x), torch.tensor(y)

        def run_theirs() -> None:
            opt_t.zero_grad()
            torch.nn.functional.cross_entropy(net_t(x_t), y_t).backward()
            opt_t.step()

        theirs = run_theirs
    opt = Adam(ours.parameters(), lr=1e-3)
    x_g = glassnet.tensor(x)

    def run_ours() -> None:
        opt.zero_grad()
        nn.functional.cross_entropy(ours(x_g), y).backward()
        opt.step()

    return Pair(run_ours, theirs)


def _torch_charlm(torch: Any, vocab: int = CHARLM["vocab"]) -> Any:
    tnn = torch.nn

    class TorchCharLM(tnn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.embedding = tnn.Embedding(vocab, CHARLM["embed"])
            self.rnn = tnn.LSTM(CHARLM["embed"], CHARLM["hidden"], batch_first=True)
            self.fc = tnn.Linear(CHARLM["hidden"], vocab)

        def forward(self, x: Any, state: Any = None) -> Any:
            out, state = self.rnn(self.embedding(x), state)
            return self.fc(out), state

    return TorchCharLM()


def _charlm_flops(n: int, t: int) -> float:
    e, h, v = CHARLM["embed"], CHARLM["hidden"], CHARLM["vocab"]
    return 2.0 * n * t * (4 * h * (e + h) + h * v)


def _make_charlm_step(with_torch: bool, n: int = CHARLM["batch"], t: int = CHARLM["seq"]) -> Pair:
    from glassnet.models import CharLM
    from glassnet.optim import Adam

    v = CHARLM["vocab"]
    ours = CharLM(v, CHARLM["embed"], CHARLM["hidden"], 1, "lstm", rng=_rng(0))
    ids = _rng(2).integers(0, v, (n, t + 1))
    x, y = ids[:, :-1], ids[:, 1:].reshape(-1)
    theirs = None
    if with_torch:
        torch = torch_or_none()
        lm_t = _torch_charlm(torch)
        _load(lm_t, ours)
        opt_t = torch.optim.Adam(lm_t.parameters(), lr=1e-3, foreach=False)
        x_t, y_t = torch.tensor(x), torch.tensor(y)

        def run_theirs() -> None:
            opt_t.zero_grad()
            logits, _ = lm_t(x_t)
            torch.nn.functional.cross_entropy(logits.reshape(-1, v), y_t).backward()
            opt_t.step()

        theirs = run_theirs
    opt = Adam(ours.parameters(), lr=1e-3)

    def run_ours() -> None:
        opt.zero_grad()
        logits, _ = ours(x)
        nn.functional.cross_entropy(logits.reshape(-1, v), y).backward()
        opt.step()

    return Pair(run_ours, theirs)


def _make_stream_step(with_torch: bool) -> Pair:
    """One generation step: a token and the carried (h, c) in, logits and new state out."""
    from glassnet.models import CharLM

    v = CHARLM["vocab"]
    ours = CharLM(v, CHARLM["embed"], CHARLM["hidden"], 1, "lstm", rng=_rng(0))
    tok = np.array([[7]])
    with glassnet.no_grad():
        _, state = ours(tok)  # a realistic, non-zero carried state
    theirs = None
    if with_torch:
        torch = torch_or_none()
        lm_t = _torch_charlm(torch)
        _load(lm_t, ours)
        tok_t = torch.tensor(tok)
        state_t = tuple(torch.tensor(s.data) for s in state)

        def run_theirs() -> None:
            with torch.inference_mode():
                lm_t(tok_t, state_t)

        theirs = run_theirs

    def run_ours() -> None:
        with glassnet.no_grad():
            ours(tok, state)

    return Pair(run_ours, theirs)


# ----------------------------------------------------------------------------- end to end
# The headline a user cares about, measured rather than inferred from per-step rows: wall time to
# a held-out accuracy on the bundled digits, and training steps on real text (Shakespeare's
# sonnets). Both sides start from the same weights and see the same batches in the same order.
DIGITS_RUN: dict[str, Any] = {"target": 0.98, "max_epochs": 30, "lr": 1e-2, "held_out": 360}


def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from glassnet.data import load_digits

    images, labels = load_digits(normalize=True)
    order = _rng(0).permutation(len(labels))
    held, train = order[: DIGITS_RUN["held_out"]], order[DIGITS_RUN["held_out"] :]
    x = images[:, None]  # (1797, 1, 8, 8)
    return x[train], labels[train], x[held], labels[held]


def _make_digits_run(with_torch: bool, target: float, max_epochs: int) -> Pair:
    """One unit of work = train from the same start until held-out accuracy >= ``target``.

    Accuracy is checked after every epoch (the check is timed: a user pays for it too). A run
    that misses the target in ``max_epochs`` raises, so a slower-converging side cannot pass
    for a faster one.
    """
    from glassnet.models import LeNet
    from glassnet.optim import Adam

    s, n = LENET["image"], LENET["batch"]
    xtr, ytr, xte, yte = _digits_split()
    ours = LeNet(image_size=s, channels=LENET["channels"], hidden=LENET["hidden"], rng=_rng(0))
    start = {k: np.array(v, copy=True) for k, v in ours.state_dict().items()}
    # one permutation per epoch, shared by both sides; batches are index arrays, no DataLoader
    perms = [_rng(100 + e).permutation(len(ytr)) for e in range(max_epochs)]
    batches = [[p[i : i + n] for i in range(0, len(p), n)] for p in perms]

    def miss(side: str, acc: float) -> RuntimeError:
        return RuntimeError(
            f"{side} did not reach held-out accuracy {target} in {max_epochs} epochs "
            f"(last {acc:.3f})"
        )

    def run_ours() -> None:
        ours.load_state_dict(start)
        opt = Adam(ours.parameters(), lr=DIGITS_RUN["lr"])
        xte_g = glassnet.tensor(xte)
        acc = 0.0
        for epoch in batches:
            for idx in epoch:
                opt.zero_grad()
                nn.functional.cross_entropy(ours(glassnet.tensor(xtr[idx])), ytr[idx]).backward()
                opt.step()
            with glassnet.no_grad():
                acc = float((ours(xte_g).data.argmax(1) == yte).mean())
            if acc >= target:
                return
        raise miss("glassnet", acc)

    theirs = None
    if with_torch:
        torch = torch_or_none()
        net_t = _torch_lenet(torch)
        xtr_t, ytr_t, xte_t = torch.tensor(xtr), torch.tensor(ytr), torch.tensor(xte)
        yte_t = torch.tensor(yte)
        batches_t = [[torch.from_numpy(idx) for idx in epoch] for epoch in batches]

        def run_theirs() -> None:
            net_t.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()})
            opt_t = torch.optim.Adam(net_t.parameters(), lr=DIGITS_RUN["lr"], foreach=False)
            acc = 0.0
            for epoch in batches_t:
                for idx in epoch:
                    opt_t.zero_grad()
                    torch.nn.functional.cross_entropy(net_t(xtr_t[idx]), ytr_t[idx]).backward()
                    opt_t.step()
                with torch.no_grad():
                    acc = float((net_t(xte_t).argmax(1) == yte_t).float().mean())
                if acc >= target:
                    return
            raise miss("PyTorch", acc)

        theirs = run_theirs
    return Pair(run_ours, theirs)


def _sonnet_ids() -> tuple[np.ndarray, int]:
    from glassnet.data import load_shakespeare

    codes = np.frombuffer(load_shakespeare("sonnets").encode("ascii"), dtype=np.uint8)
    chars, ids = np.unique(codes, return_inverse=True)
    return ids.astype(np.int64), len(chars)


def _make_charlm_run(with_torch: bool, n: int, t: int, steps: int) -> Pair:
    """One unit of work = ``steps`` training steps on consecutive windows of the sonnets."""
    from glassnet.models import CharLM
    from glassnet.optim import Adam

    ids, v = _sonnet_ids()
    starts = _rng(4).integers(0, len(ids) - t - 1, (steps, n))
    windows = ids[starts[..., None] + np.arange(t + 1)]  # (steps, N, T + 1)
    xs, ys = windows[..., :-1], windows[..., 1:].reshape(steps, -1)
    ours = CharLM(v, CHARLM["embed"], CHARLM["hidden"], 1, "lstm", rng=_rng(0))
    opt = Adam(ours.parameters(), lr=1e-3)

    def run_ours() -> None:
        for x, y in zip(xs, ys):
            opt.zero_grad()
            logits, _ = ours(x)
            nn.functional.cross_entropy(logits.reshape(-1, v), y).backward()
            opt.step()

    theirs = None
    if with_torch:
        torch = torch_or_none()
        lm_t = _torch_charlm(torch, v)
        _load(lm_t, ours)
        opt_t = torch.optim.Adam(lm_t.parameters(), lr=1e-3, foreach=False)
        xs_t, ys_t = torch.from_numpy(xs), torch.from_numpy(ys)

        def run_theirs() -> None:
            for x, y in zip(xs_t, ys_t):
                opt_t.zero_grad()
                logits, _ = lm_t(x)
                torch.nn.functional.cross_entropy(logits.reshape(-1, v), y).backward()
                opt_t.step()

        theirs = run_theirs
    return Pair(run_ours, theirs)


def _train_cases(quick: bool) -> list[Case]:
    c = CHARLM
    div = 4 if quick else 1
    nl, nc, tc = LENET["batch"] // div, c["batch"] // div, c["seq"] // div
    # quick: a reachable target in a budget of seconds (the row is then a smoke test only)
    target, max_epochs = (0.3, 3) if quick else (DIGITS_RUN["target"], DIGITS_RUN["max_epochs"])
    steps, runs = (2, 1) if quick else (20, 3)
    return [
        Case(
            "lenet_digits/train_step",
            "train",
            f"N={nl} 1x8x8 conv16,32 fc64 Adam",
            _lenet_flops(nl),
            lambda with_torch: _make_lenet_step(with_torch, nl),
        ),
        Case(
            "charlm_lstm/train_step",
            "train",
            f"N={nc} T={tc} V={c['vocab']} E={c['embed']} H={c['hidden']} Adam",
            3 * _charlm_flops(nc, tc),
            lambda with_torch: _make_charlm_step(with_torch, nc, tc),
        ),
        Case(
            "charlm_lstm/stream_step",
            "train",
            f"N=1 T=1 V={c['vocab']} E={c['embed']} H={c['hidden']} (inference)",
            _charlm_flops(1, 1),
            _make_stream_step,
        ),
        Case(
            "lenet_digits/time_to_acc",
            "train",
            f"N={LENET['batch']} to {target:.0%} of {DIGITS_RUN['held_out']} held-out, Adam",
            None,
            lambda with_torch: _make_digits_run(with_torch, target, max_epochs),
            repeat=runs,
        ),
        Case(
            "charlm_lstm/train_steps",
            "train",
            f"N={nc} T={tc} sonnets E={c['embed']} H={c['hidden']} Adam, {steps} steps",
            3 * steps * _charlm_flops(nc, tc),
            lambda with_torch: _make_charlm_run(with_torch, nc, tc, steps),
            repeat=runs,
        ),
    ]


def build_cases(groups: tuple[str, ...] = GROUPS, quick: bool = False) -> list[Case]:
    """All cases of the given groups, in table order.

    ``quick`` shrinks the batch (conv: 1/16, pool: 1/8, recurrent and model-level: 1/4) and
    the sequence length (recurrent: 1/10, at least 10; char-LSTM training: 1/4) for a smoke run.

    >>> [c.name for c in build_cases(("train",))][:1]
    ['lenet_digits/train_step']
    """
    builders = {"conv": _conv_cases, "pool": _pool_cases, "rnn": _rnn_cases, "train": _train_cases}
    out: list[Case] = []
    for g in groups:
        out += builders[g](quick)
    return out
