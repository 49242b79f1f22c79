"""The fast kernels against their reference forms (glassnet.ops.reference), float64."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet.autograd import gradcheck
from glassnet.ops import recurrent, reference

SETTINGS = settings(max_examples=40, deadline=None)


def _t(rng: np.random.Generator, *shape: int) -> glassnet.Tensor:
    return glassnet.tensor(rng.standard_normal(shape), requires_grad=True)


def _check(fast_out, ref_out, leaves, rng) -> None:  # type: ignore[no-untyped-def]
    """Same forward, and the same gradient of <v, out> for every leaf."""
    fast_out = fast_out if isinstance(fast_out, tuple) else (fast_out,)
    ref_out = ref_out if isinstance(ref_out, tuple) else (ref_out,)
    grads = []
    for outs in (fast_out, ref_out):
        for x in leaves:
            x.grad = None
        loss = None
        for o, seed in zip(outs, range(len(outs))):
            v = np.random.default_rng(seed).standard_normal(o.shape)
            term = (o * glassnet.tensor(v)).sum()
            loss = term if loss is None else loss + term
        loss.backward()
        grads.append([x.grad.numpy().copy() for x in leaves])
    for f, r in zip(fast_out, ref_out):
        np.testing.assert_allclose(f.numpy(), r.numpy(), rtol=1e-10, atol=1e-10)
    for gf, gr in zip(*grads):
        np.testing.assert_allclose(gf, gr, rtol=1e-9, atol=1e-9)


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@SETTINGS
@given(
    nd=st.integers(1, 3), groups=st.sampled_from([1, 2]), k=st.integers(1, 3),
    stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2),
    bias=st.booleans(), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_conv_matches_reference(nd, groups, k, stride, padding, dilation, bias, seed):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    size = dilation * (k - 1) + 1 + int(rng.integers(0, 4)) if nd < 3 else dilation * (k - 1) + 2
    x = _t(rng, 2, 2 * groups, *(size,) * nd)
    w = _t(rng, 2 * groups, 2, *(k,) * nd)
    b = _t(rng, 2 * groups) if bias else None
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    leaves = [x, w] + ([b] if bias else [])
    _check(CONV[nd](x, w, b, **args), reference.conv(x, w, b, **args), leaves, rng)


POOL_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
POOL_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


@SETTINGS
@given(
    nd=st.integers(1, 3), k=st.integers(1, 3), stride=st.integers(1, 3), pad=st.integers(0, 1),
    dilation=st.integers(1, 2), ceil_mode=st.booleans(), include=st.booleans(),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_pool_matches_reference(nd, k, stride, pad, dilation, ceil_mode, include, seed):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    pad = min(pad, k // 2)
    size = dilation * (k - 1) + 1 + int(rng.integers(0, 3))
    x = _t(rng, 2, 2, *(size,) * nd)  # continuous values: no ties
    mx = dict(stride=stride, padding=pad, dilation=dilation, ceil_mode=ceil_mode)
    _check(POOL_MAX[nd](x, k, **mx), reference.max_pool(x, k, **mx), [x], rng)
    av = dict(stride=stride, padding=pad, ceil_mode=ceil_mode, count_include_pad=include)
    _check(POOL_AVG[nd](x, k, **av), reference.avg_pool(x, k, **av), [x], rng)


@SETTINGS
@given(
    mode=st.sampled_from(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]), T=st.integers(1, 5),
    N=st.integers(1, 3), D=st.integers(1, 3), H=st.integers(1, 3), bias=st.booleans(),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_recurrent_matches_reference(mode, T, N, D, H, bias, seed):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    G = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    x, h0, c0 = _t(rng, T, N, D), _t(rng, N, H), _t(rng, N, H)
    w_ih, w_hh = _t(rng, G * H, D), _t(rng, G * H, H)
    b_ih, b_hh = (_t(rng, G * H), _t(rng, G * H)) if bias else (None, None)
    leaves = [x, h0, w_ih, w_hh] + ([b_ih, b_hh] if bias else [])
    h0_ = h0.reshape(1, N, H)
    if mode == "LSTM":
        y, (h, c) = recurrent.lstm(x, (h0_, c0.reshape(1, N, H)), [(w_ih, w_hh, b_ih, b_hh, None)])
        fast = (y, h.reshape(N, H), c.reshape(N, H))
        ref = reference.lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        leaves.append(c0)
    elif mode == "GRU":
        y, h = recurrent.gru(x, h0_, [(w_ih, w_hh, b_ih, b_hh)])
        fast, ref = (y, h.reshape(N, H)), reference.gru(x, h0, w_ih, w_hh, b_ih, b_hh)
    else:
        act = mode[4:].lower()
        y, h = recurrent.rnn(x, h0_, [(w_ih, w_hh, b_ih, b_hh)], nonlinearity=act)
        fast = (y, h.reshape(N, H))
        ref = reference.rnn(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=act)
    _check(fast, ref, leaves, rng)


def test_gradcheck_reference_ops() -> None:
    rng = np.random.default_rng(0)
    x, w, b = _t(rng, 2, 4, 5, 6), _t(rng, 4, 2, 2, 3), _t(rng, 4)
    gradcheck(
        lambda *a: reference.conv2d(*a, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        (x, w, b),
        rng=rng,
    )
    x1 = _t(rng, 2, 3, 7)
    gradcheck(lambda a: reference.max_pool1d(a, 3, 2, 1, ceil_mode=True), (x1,), rng=rng)
    gradcheck(lambda a: reference.avg_pool2d(a, 2, 1, 1, count_include_pad=False), (x,), rng=rng)
    T, N, D, H = 4, 2, 3, 3
    xs, h0, c0 = _t(rng, T, N, D), _t(rng, N, H), _t(rng, N, H)
    for G, fn in ((1, reference.rnn), (4, reference.lstm), (3, reference.gru)):
        ws = (_t(rng, G * H, D), _t(rng, G * H, H), _t(rng, G * H), _t(rng, G * H))
        states = (h0, c0) if G == 4 else (h0,)
        assert gradcheck(fn, (xs, *states, *ws), rng=rng)


def test_tiny_model_trains_on_reference_ops() -> None:
    rng = np.random.default_rng(1)
    x = glassnet.tensor(rng.standard_normal((8, 1, 6, 6)))
    target = glassnet.tensor(rng.standard_normal((8, 2)))
    w = _t(rng, 2, 1, 3, 3)
    w.data *= 0.3
    seq_w = [_t(rng, 3, 2), _t(rng, 3, 3)]
    readout = _t(rng, 3, 2)
    opt = glassnet.optim.SGD([w, *seq_w, readout], lr=0.05)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        feat = reference.avg_pool2d(reference.max_pool2d(reference.conv2d(x, w, padding=1), 2), 3)
        seq = feat.reshape(8, 1, 2)  # the 8 pooled features as a sequence (T=8, N=1, D=2)
        y, _ = reference.rnn(seq, glassnet.zeros(1, 3, dtype="float64"), *seq_w)
        pred = y.reshape(8, 3) @ readout
        loss = ((pred - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.9 * losses[0]
