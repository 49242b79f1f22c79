"""Truncated BPTT: one window equals full BPTT, k1 = k2 equals torch with detach() every k steps,
k1 < k2 matches a torch reference built the same way, resets, and flat memory on long streams."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn
from glassnet.seq.tbptt import tbptt_iter, tbptt_train

from ..helpers import assert_close, torch

D, H, O = 2, 4, 1


class LM(nn.Module):
    """LSTM -> Linear, following the recurrent-model protocol."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(D, H, rng=np.random.default_rng(0))
        self.fc = nn.Linear(H, O, rng=np.random.default_rng(1))

    def forward(self, x: Any, state: Any, resets: Any = None) -> tuple[Any, Any]:
        y, state = self.lstm(x, state, resets=resets)
        return self.fc(y), state


class TorchLM(torch.nn.Module):
    """The torch twin; with resets it steps one time step at a time and masks the state."""

    def __init__(self, ours: LM) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(D, H).double()
        self.fc = torch.nn.Linear(H, O).double()
        self.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})

    def forward(self, x: Any, state: Any, resets: Any = None) -> tuple[Any, Any]:
        if resets is None:
            y, state = self.lstm(x, state)
            return self.fc(y), state
        ys = []
        N = x.shape[1]
        if state is None:
            state = (torch.zeros(1, N, H, dtype=x.dtype), torch.zeros(1, N, H, dtype=x.dtype))
        for t in range(x.shape[0]):
            keep = torch.from_numpy((~resets[t]).astype(np.float64))[None, :, None]
            y, state = self.lstm(x[t : t + 1], (state[0] * keep, state[1] * keep))
            ys.append(y)
        return self.fc(torch.cat(ys)), state


class SGD:
    """The smallest optimizer with PyTorch's API."""

    def __init__(self, params: Any, lr: float) -> None:
        self.params, self.lr = list(params), lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                p.data = p.data - self.lr * p.grad.data


def mse(out: Any, y: Any) -> Any:
    return ((out - y) ** 2).mean()


def stream(T: int, N: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    x = r.standard_normal((T, N, D))
    return x, np.roll(x[..., :1], -1, axis=0) + 0.1 * r.standard_normal((T, N, 1))


def torch_tbptt(
    model: Any, x: np.ndarray, y: np.ndarray, k1: int, k2: int, lr: float, resets: Any = None
) -> list[float]:
    """Williams & Peng written directly: every k1 steps, the window of the loss steps and the
    k2 - k1 before them (the last k2 steps), run one step at a time from the most recently
    computed state at its start."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    T = x.shape[0]
    states: dict[int, Any] = {0: None}  # detached state before step t, most recent computation
    losses, end = [], 0
    while end < T:
        new_end = min(end + k1, T)
        start = max(0, end + k1 - k2)  # the loss steps and the k2 - k1 steps before them
        state, outs = states[start], []
        for t in range(start, new_end):
            r = None if resets is None else resets[t : t + 1]
            out, state = model(torch.from_numpy(x[t : t + 1]), state, r)
            states[t + 1] = (state[0].detach(), state[1].detach())
            outs.append(out)
        n = new_end - end
        loss = mse(torch.cat(outs)[-n:], torch.from_numpy(y[new_end - n : new_end]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        end = new_end
    return losses


def assert_same_weights(ours: Any, theirs: Any) -> None:
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        assert_close(p, tp[n], rtol=1e-9)


@given(T=st.integers(1, 12), extra1=st.integers(0, 3), extra2=st.integers(0, 3))
def test_one_window_equals_full_bptt(T: int, extra1: int, extra2: int) -> None:
    """k1 >= T: a single update whose gradient is the full BPTT gradient."""
    x, y = stream(T)
    model = LM().double()
    ref = LM().double()
    out, _ = ref(glassnet.tensor(x), None)
    mse(out, glassnet.tensor(y)).backward()
    res = tbptt_train(
        model, x, y, T + extra1, T + extra1 + extra2, mse, SGD(model.parameters(), 0.1)
    )
    assert len(res.losses) == 1
    for (n, p), q in zip(model.named_parameters(), ref.parameters()):
        assert_close(p.data, q.data - 0.1 * q.grad.data), n


@pytest.mark.parametrize("k", [1, 4, 7])
def test_k1_equals_k2_is_torch_with_detach_every_k(k: int) -> None:
    x, y = stream(23)
    model = LM().double()
    ref = TorchLM(model)
    res = tbptt_train(model, x, y, k, k, mse, SGD(model.parameters(), 0.05))
    opt = torch.optim.SGD(ref.parameters(), lr=0.05)
    state, losses = None, []
    for s in range(0, 23, k):
        out, state = ref(torch.from_numpy(x[s : s + k]), state)
        loss = mse(out, torch.from_numpy(y[s : s + k]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        state = (state[0].detach(), state[1].detach())
    assert_close(res.losses, np.array(losses), rtol=1e-9)
    assert_same_weights(model, ref)
    assert_close(res.state[0], state[0], rtol=1e-9)


@pytest.mark.parametrize("k1, k2", [(2, 5), (3, 7), (4, 8), (5, 6)])
@pytest.mark.parametrize("with_resets", [False, True])
def test_k1_below_k2_matches_torch_reference(k1: int, k2: int, with_resets: bool) -> None:
    T = 22
    x, y = stream(T)
    resets = None
    if with_resets:
        resets = np.random.default_rng(9).random((T, 3)) < 0.1
    model = LM().double()
    ref = TorchLM(model)
    res = tbptt_train(model, x, y, k1, k2, mse, SGD(model.parameters(), 0.05), resets=resets)
    losses = torch_tbptt(ref, x, y, k1, k2, 0.05, resets)
    assert_close(res.losses, np.array(losses), rtol=1e-9)
    assert_same_weights(model, ref)


def test_updates_report_their_windows() -> None:
    x, y = stream(10)
    model = LM().double()
    ups = list(tbptt_iter(model, x, y, 3, 5, mse, SGD(model.parameters(), 0.01)))
    assert [(u.start, u.end, u.n_loss) for u in ups] == [
        (0, 3, 3),
        (1, 6, 3),
        (4, 9, 3),
        (7, 10, 1),
    ]
    assert all(not u.state[0].requires_grad for u in ups)


def test_batch_first_stream_and_clipping() -> None:
    x, y = stream(12)
    a, b = LM().double(), LM().double()
    ra = tbptt_train(a, x, y, 3, 6, mse, SGD(a.parameters(), 0.1), max_grad_norm=0.05)

    class BF(nn.Module):
        def __init__(self, inner: LM) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any, state: Any) -> tuple[Any, Any]:
            out, state = self.inner(x.transpose(0, 1), state)
            return out.transpose(0, 1), state

    rb = tbptt_train(
        BF(b), x.transpose(1, 0, 2), y.transpose(1, 0, 2), 3, 6, mse, SGD(b.parameters(), 0.1),
        time_dim=1, max_grad_norm=0.05,
    )  # fmt: skip
    assert_close(ra.losses, rb.losses)
    for p, q in zip(a.parameters(), b.parameters()):
        assert_close(p, q)


def test_works_with_glassnet_optim() -> None:
    optim = pytest.importorskip("glassnet.optim")
    x, y = stream(12)
    a, b = LM().double(), LM().double()
    ra = tbptt_train(a, x, y, 4, 4, mse, optim.SGD(a.parameters(), lr=0.1))
    rb = tbptt_train(b, x, y, 4, 4, mse, SGD(b.parameters(), 0.1))
    assert_close(ra.losses, rb.losses)


def _peak_bytes(T: int, trace: bool = True) -> int:
    """tracemalloc peak of TBPTT(900, 1000) over a T-step stream (the stream made beforehand).

    Sizes keep every matmul below OpenBLAS's threading threshold, so the test's run time does
    not depend on how busy the machine's other cores are.
    """
    r = np.random.default_rng(0)
    x = r.standard_normal((T, 2, 1))
    y = np.roll(x, -1, axis=0)
    model = nn.RNN(1, 8, rng=np.random.default_rng(0)).double()
    opt = SGD(model.parameters(), 0.01)
    loss = lambda out, tgt: ((out[..., :1] - tgt) ** 2).mean()  # noqa: E731
    if trace:
        tracemalloc.start()
    n = 0
    for u in tbptt_iter(model, x, y, 900, 1000, loss, opt):
        n += 1
        assert np.isfinite(u.loss)
    _, peak = tracemalloc.get_traced_memory()
    if trace:
        tracemalloc.stop()
    assert n == -(-T // 900)
    return peak


@pytest.mark.slow
def test_memory_stays_flat_on_a_100000_step_stream() -> None:
    _peak_bytes(3000, trace=False)  # warm the interpreter's free lists outside the measurement
    short, long = _peak_bytes(10_000), _peak_bytes(100_000)
    # The window of k2 = 1000 steps sets the peak (about 0.6 MB). Ten times the stream must not
    # raise it; the slack covers the interpreter's bounded free lists, while keeping anything
    # per step (>= 3 bytes a step) would add > 256 KiB.
    assert long < 1.1 * short + 256 * 1024, (short, long)


def test_bad_arguments() -> None:
    x, y = stream(8)
    model = LM().double()
    opt = SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="k1 <= k2"):
        next(tbptt_iter(model, x, y, 5, 3, mse, opt))
    with pytest.raises(ValueError, match="positive int k1"):
        next(tbptt_iter(model, x, y, 0, 3, mse, opt))
    with pytest.raises(ValueError, match="aligned"):
        next(tbptt_iter(model, x, y[:5], 2, 3, mse, opt))
    with pytest.raises(ValueError, match="resets"):
        next(tbptt_iter(model, x, y, 2, 3, mse, opt, resets=np.zeros((8, 2), bool)))
