"""Pooling ops: PyTorch parity over every option, gradchecks, naive references, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet.kernels.pooling import adaptive_bins, pool_output_size

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional


@st.composite
def window_config(draw, kind="max"):
    """A pooling configuration PyTorch accepts: padding <= k // 2 and output size >= 1."""
    d = draw(st.integers(1, 3))
    max_k = {1: 5, 2: 4, 3: 3}[d]
    k = tuple(draw(st.integers(1, max_k)) for _ in range(d))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(d)) if kind == "max" else (1,) * d
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    s = tuple(draw(st.integers(1, 3)) for _ in range(d))
    # avg_pool3d (only) also needs the unpadded input to hold the kernel, as PyTorch; a size of
    # at least the dilation keeps every window touching the input (no all-padding -inf windows,
    # tested on their own)
    floor = (lambda ki, di: ki) if (kind == "avg" and d == 3) else (lambda ki, di: di)
    spatial = tuple(
        max(floor(ki, di), di * (ki - 1) + 1 - 2 * pi) + draw(st.integers(0, 4))
        for ki, di, pi in zip(k, dil, p)
    )
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, c, *spatial))
    if ties:
        x = np.round(x)  # many equal values: tie handling must match
    return {
        "d": d,
        "x": x,
        "kernel_size": k,
        "stride": draw(st.sampled_from([None, s])),
        "padding": p,
        "dilation": dil,
        "ceil_mode": draw(st.booleans()),
        "seed": seed,
    }


@given(cfg=window_config("max"), return_indices=st.booleans())
def test_max_pool_parity(cfg, return_indices):
    d, x, seed = cfg.pop("d"), cfg.pop("x"), cfg.pop("seed")
    ours, theirs = getattr(F, f"max_pool{d}d"), getattr(TF, f"max_pool{d}d")
    parity(
        lambda t: ours(t, return_indices=return_indices, **cfg),
        lambda t: theirs(t, return_indices=return_indices, **cfg),
        x,
        seed=seed,
    )


@given(cfg=window_config("max"), nan=st.booleans())
def test_max_pool_without_gradient_matches_pytorch(cfg, nan):
    """Without gradient or indices the maxima take their own (separable) path: same values,
    NaN included."""
    d, x, _ = cfg.pop("d"), cfg.pop("x"), cfg.pop("seed")
    if nan:
        x.reshape(-1)[:: max(1, x.size // 3)] = np.nan
    y = getattr(F, f"max_pool{d}d")(glassnet.tensor(x), **cfg)
    ty = getattr(TF, f"max_pool{d}d")(torch.tensor(x), **cfg)
    np.testing.assert_array_equal(y.data, ty.numpy())  # NaN == NaN here
    with_grad = getattr(F, f"max_pool{d}d")(glassnet.tensor(x, requires_grad=True), **cfg)
    np.testing.assert_array_equal(y.data, with_grad.data)


def test_max_pool_without_gradient_on_windows_of_padding_only():
    y = F.max_pool2d(glassnet.zeros(1, 1, 2, 2), 2, dilation=3, padding=1)
    ty = TF.max_pool2d(torch.zeros(1, 1, 2, 2), 2, dilation=3, padding=1)
    assert y.item() == ty.item() == -math.inf


@given(
    cfg=window_config("avg"),
    count_include_pad=st.booleans(),
    divisor_override=st.sampled_from([None, 1, 3, -2]),
)
def test_avg_pool_parity(cfg, count_include_pad, divisor_override):
    d, x, seed = cfg.pop("d"), cfg.pop("x"), cfg.pop("seed")
    cfg.pop("dilation")
    kw = dict(cfg, count_include_pad=count_include_pad)
    if d > 1:  # avg_pool1d has no divisor_override (as PyTorch)
        kw["divisor_override"] = divisor_override
    ours, theirs = getattr(F, f"avg_pool{d}d"), getattr(TF, f"avg_pool{d}d")
    parity(lambda t: ours(t, **kw), lambda t: theirs(t, **kw), x, seed=seed)


@st.composite
def adaptive_config(draw):
    d = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 9 if d < 3 else 5)) for _ in range(d))
    if d == 1:  # PyTorch's 1-d form takes no None
        out_arg = draw(st.one_of(st.integers(1, 7), st.tuples(st.integers(1, 7))))
    else:
        out_arg = tuple(draw(st.one_of(st.none(), st.integers(1, 7))) for _ in range(d))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).standard_normal((2, 2, *spatial))
    if draw(st.booleans()):
        x = np.round(x)
    return d, x, out_arg, seed


@given(cfg=adaptive_config(), return_indices=st.booleans())
def test_adaptive_pool_parity(cfg, return_indices):
    d, x, out, seed = cfg
    parity(
        lambda t: getattr(F, f"adaptive_avg_pool{d}d")(t, out),
        lambda t: getattr(TF, f"adaptive_avg_pool{d}d")(t, out),
        x,
        seed=seed,
    )
    parity(
        lambda t: getattr(F, f"adaptive_max_pool{d}d")(t, out, return_indices),
        lambda t: getattr(TF, f"adaptive_max_pool{d}d")(t, out, return_indices),
        x,
        seed=seed,
    )


@given(cfg=window_config("max"))
def test_max_pool_gradient_mass_equals_upstream_mass(cfg):
    """Every output sends its whole gradient to exactly one input: sum(dx) == sum(dy)."""
    d, x, seed = cfg.pop("d"), cfg.pop("x"), cfg.pop("seed")
    t = glassnet.tensor(x, requires_grad=True)
    y = getattr(F, f"max_pool{d}d")(t, **cfg)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(dy)
    assert t.grad.data.sum() == pytest.approx(dy.sum(), rel=1e-12, abs=1e-12)
    assert np.count_nonzero(t.grad.data) <= dy.size
    ta = glassnet.tensor(x, requires_grad=True)
    ya = getattr(F, f"adaptive_max_pool{d}d")(ta, tuple(max(1, n // 2) for n in x.shape[2:]))
    dya = np.random.default_rng(seed + 1).standard_normal(ya.shape)
    ya.backward(dya)
    assert ta.grad.data.sum() == pytest.approx(dya.sum(), rel=1e-12, abs=1e-12)


def test_gradchecks_random_upstream():
    r = np.random.default_rng(3)
    x2 = r.standard_normal((2, 2, 5, 6))
    x3 = r.standard_normal((1, 2, 3, 4, 5))
    x1 = r.standard_normal((2, 3, 7))
    check_grad(lambda t: F.max_pool2d(t, 3, 2, 1, dilation=(1, 2), ceil_mode=True), x2)
    check_grad(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), x2)
    check_grad(lambda t: F.avg_pool2d(t, (2, 3), 1, (1, 1), divisor_override=4), x2)
    check_grad(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), x2)
    check_grad(lambda t: F.adaptive_max_pool2d(t, (3, 4)), x2)
    check_grad(lambda t: F.max_pool3d(t, 2, 1, 1), x3)
    check_grad(lambda t: F.avg_pool3d(t, (1, 2, 3), (1, 2, 1)), x3)
    check_grad(lambda t: F.adaptive_max_pool3d(t, (2, None, 3)), x3)
    check_grad(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), x1)
    check_grad(lambda t: F.avg_pool1d(t, 4, 3, 2, ceil_mode=True), x1)
    check_grad(lambda t: F.adaptive_avg_pool1d(t, 5), x1)


# ---------------------------------------------------------------------------- naive references
def _naive_max_pool2d(x, k, s, p, dl, ceil_mode):
    n, c, h, w = x.shape
    oh = pool_output_size(h, k, s, p, dl, ceil_mode)
    ow = pool_output_size(w, k, s, p, dl, ceil_mode)
    y = np.full((n, c, oh, ow), -np.inf)
    idx = np.zeros((n, c, oh, ow), np.int64)
    for i, j in itertools.product(range(oh), range(ow)):
        for a, b in itertools.product(range(k), range(k)):  # row-major scan, strict >
            hi, wi = i * s - p + a * dl, j * s - p + b * dl
            if 0 <= hi < h and 0 <= wi < w:
                better = x[:, :, hi, wi] > y[:, :, i, j]
                y[:, :, i, j] = np.where(better, x[:, :, hi, wi], y[:, :, i, j])
                idx[:, :, i, j] = np.where(better, hi * w + wi, idx[:, :, i, j])
    return y, idx


def _naive_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    oh, ow = (pool_output_size(m, k, s, p, 1, ceil_mode) for m in (h, w))
    y = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        h0, w0 = i * s - p, j * s - p
        h1, w1 = min(h0 + k, h + p), min(w0 + k, w + p)
        size = (h1 - h0) * (w1 - w0)  # window within input + padding
        hs, ws = slice(max(h0, 0), min(h1, h)), slice(max(w0, 0), min(w1, w))
        inside = (hs.stop - hs.start) * (ws.stop - ws.start)
        y[:, :, i, j] = x[:, :, hs, ws].sum(axis=(2, 3)) / (size if count_include_pad else inside)
    return y


@pytest.mark.parametrize(
    ("k", "s", "p", "dl", "ceil_mode"),
    [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False), (2, 3, 1, 1, True)],
)
def test_against_naive_loops(k, s, p, dl, ceil_mode):
    x = np.round(np.random.default_rng(4).standard_normal((2, 3, 7, 8)) * 2)
    y, idx = F.max_pool2d(glassnet.tensor(x), k, s, p, dl, ceil_mode, return_indices=True)
    y_ref, idx_ref = _naive_max_pool2d(x, k, s, p, dl, ceil_mode)
    assert_close(y, y_ref)
    np.testing.assert_array_equal(idx.data, idx_ref)
    for cip in (True, False):
        out = F.avg_pool2d(glassnet.tensor(x), k, s, p, ceil_mode, count_include_pad=cip)
        assert_close(out, _naive_avg_pool2d(x, k, s, p, ceil_mode, cip))


def test_adaptive_bins_and_global_pooling():
    start, end = adaptive_bins(10, 4)
    assert start.tolist() == [0, 2, 5, 7] and end.tolist() == [3, 5, 8, 10]
    for size, out in [(7, 3), (3, 7), (5, 5), (9, 1)]:
        s_, e_ = adaptive_bins(size, out)
        assert np.all(s_ == [math.floor(i * size / out) for i in range(out)])
        assert np.all(e_ == [math.ceil((i + 1) * size / out) for i in range(out)])
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5))
    assert_close(F.adaptive_avg_pool2d(glassnet.tensor(x), 1), x.mean(axis=(2, 3), keepdims=True))
    y, i = F.adaptive_max_pool2d(glassnet.tensor(x), 1, return_indices=True)
    assert_close(y, x.max(axis=(2, 3), keepdims=True))
    np.testing.assert_array_equal(i.data[..., 0, 0], x.reshape(2, 3, -1).argmax(-1))


def test_nan_and_neg_inf_follow_pytorch():
    """NaN wins its windows (last NaN in scan order); an all -inf window keeps its first index."""
    x = np.random.default_rng(6).standard_normal((1, 2, 5, 5))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = np.nan
    x[0, 0, 2, 2] = x[0, 0, 3, 3] = np.nan  # two NaN in one 2x2 window: the last one wins
    x[0, 1] = -np.inf
    x[0, 1, 4, 4] = 0.0
    cases = [
        (  # disjoint windows (the direct taps), then with partial windows at the edge
            lambda t: F.max_pool2d(t, 2, 2, return_indices=True),
            lambda t: TF.max_pool2d(t, 2, 2, return_indices=True),
        ),
        (
            lambda t: F.max_pool2d(t, 2, 2, ceil_mode=True, return_indices=True),
            lambda t: TF.max_pool2d(t, 2, 2, ceil_mode=True, return_indices=True),
        ),
        (
            lambda t: F.max_pool2d(t, 3, 1, 1, return_indices=True),
            lambda t: TF.max_pool2d(t, 3, 1, 1, return_indices=True),
        ),
        (
            lambda t: F.adaptive_max_pool2d(t, 2, return_indices=True),
            lambda t: TF.adaptive_max_pool2d(t, 2, return_indices=True),
        ),
    ]
    for ours, theirs in cases:
        gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (y, i), (ty, ti) = ours(gx), theirs(tx)
        np.testing.assert_array_equal(i.data, ti.numpy())
        np.testing.assert_array_equal(y.data, ty.detach().numpy())  # NaN == NaN here
        dy = np.random.default_rng(7).standard_normal(y.shape)
        y.backward(dy)
        ty.backward(torch.tensor(dy))
        assert_close(gx.grad, tx.grad)


def test_window_entirely_in_padding_reports_pytorch_index():
    # k=2, dilation 3, padding 1 on a 2x2 input: taps at -1 and 2, neither inside
    y, i = F.max_pool2d(glassnet.zeros(1, 1, 2, 2), 2, dilation=3, padding=1, return_indices=True)
    ty, ti = TF.max_pool2d(torch.zeros(1, 1, 2, 2), 2, dilation=3, padding=1, return_indices=True)
    assert y.item() == ty.item() == -math.inf
    assert i.item() == ti.item()


def test_unbatched_input_and_float32():
    x = np.random.default_rng(7).standard_normal((3, 6, 6)).astype(np.float32)
    for ours, theirs in [
        (F.max_pool2d(glassnet.tensor(x), 2), TF.max_pool2d(torch.tensor(x), 2)),
        (F.avg_pool2d(glassnet.tensor(x), 3, 2, 1), TF.avg_pool2d(torch.tensor(x), 3, 2, 1)),
        (F.adaptive_avg_pool2d(glassnet.tensor(x), 4), TF.adaptive_avg_pool2d(torch.tensor(x), 4)),
        (F.adaptive_max_pool2d(glassnet.tensor(x), 4), TF.adaptive_max_pool2d(torch.tensor(x), 4)),
    ]:
        assert ours.dtype == np.float32
        assert_close(ours, theirs, rtol=1e-6, atol=1e-6)
    y, i = F.max_pool1d(glassnet.tensor(x[0]), 3, return_indices=True)
    assert y.shape == i.shape == (6, 2)


def test_empty_batch_and_zero_adaptive_output():
    y = F.max_pool2d(glassnet.zeros(0, 2, 4, 4), 2)
    assert y.shape == (0, 2, 2, 2)
    t = glassnet.tensor(np.ones((1, 2, 4)), requires_grad=True)
    out = F.adaptive_avg_pool1d(t, 0)
    assert out.shape == (1, 2, 0)
    assert F.adaptive_max_pool1d(t, 0).shape == (1, 2, 0)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda x: F.max_pool2d(x, 3, padding=2), ValueError, "half the kernel size"),
        (lambda x: F.avg_pool2d(x, 2, padding=-1), ValueError, "non-negative padding"),
        (lambda x: F.max_pool2d(x, 2, stride=0), ValueError, "positive stride"),
        (lambda x: F.max_pool2d(x, 0), ValueError, "positive kernel_size"),
        (lambda x: F.max_pool2d(x, 2, dilation=0), ValueError, "positive dilation"),
        (lambda x: F.max_pool2d(x, 6), ValueError, "output size is too small"),
        (lambda x: F.avg_pool2d(x, (2, 6)), ValueError, "output size is too small"),
        (lambda x: F.max_pool2d(x, (2, 2, 2)), TypeError, "tuple of 2 ints"),
        (lambda x: F.max_pool2d(x, 2.5), TypeError, "kernel_size"),
        (lambda x: F.max_pool1d(x, 2), ValueError, r"\(N, C, L\) or \(C, L\), got \(2, 3, 5, 5\)"),
        (lambda x: F.max_pool3d(x[0], 2), ValueError, r"\(C, D, H, W\), got \(3, 5, 5\)"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), ValueError, "divisor_override"),
        (
            lambda x: F.avg_pool3d(glassnet.zeros(1, 1, 1, 4, 4), 2, padding=1),
            ValueError,
            "at least as large as the kernel",
        ),
        (lambda x: F.adaptive_avg_pool2d(x, (-1, 2)), ValueError, "non-negative output_size"),
        (lambda x: F.adaptive_max_pool2d(x, (1, 2, 3)), TypeError, "output_size"),
        (lambda x: F.max_pool2d(x.long(), 2), TypeError, "floating-point"),
        (lambda x: F.max_pool2d(glassnet.zeros(2, 3, 0, 5), 2), ValueError, "non-empty"),
        (lambda x: F.max_pool2d([1.0], 2), TypeError, "Tensor input"),
    ],
)
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(glassnet.zeros(2, 3, 5, 5))


@pytest.mark.parametrize(
    ("k", "s", "dl", "packed"),
    [(2, 2, 1, False), (3, 3, 1, False), (2, 3, 1, False), (3, 2, 1, True), (3, 1, 1, True),
     (2, 2, 2, True)],
)  # fmt: skip
def test_disjoint_and_overlapping_window_layouts(k, s, dl, packed):
    """Disjoint windows run on strided views, overlapping ones on the packed layout: both match
    PyTorch, including ceil_mode windows overhanging the padding, ties and the indices."""
    from glassnet.kernels.pool_scan import TapWindows as _Windows

    x = np.round(np.random.default_rng(8).standard_normal((2, 3, 9, 8)) * 2)  # many ties
    p = k // 2
    out = tuple(pool_output_size(n, k, s, p, dl, True) for n in x.shape[2:])
    assert _Windows(x.shape, out, (k, k), (s, s), (p, p), (dl, dl)).packed is packed
    kw = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": True}
    parity(
        lambda t: F.max_pool2d(t, dilation=dl, return_indices=True, **kw),
        lambda t: TF.max_pool2d(t, dilation=dl, return_indices=True, **kw),
        x,
    )
    if dl == 1:
        for cip in (True, False):
            parity(
                lambda t, cip=cip: F.avg_pool2d(t, count_include_pad=cip, **kw),
                lambda t, cip=cip: TF.avg_pool2d(t, count_include_pad=cip, **kw),
                x,
            )


def test_pooling_keeps_no_scratch_between_forward_and_backward():
    """Packed pooling borrows the convolution's scratch buffers only within one call: a
    convolution or another pooling run between a pooling forward and its backward changes
    nothing."""
    r = np.random.default_rng(9)
    x = r.standard_normal((2, 3, 9, 9)).astype(np.float32)
    dy = r.standard_normal((2, 3, 5, 5)).astype(np.float32)
    for pool in (lambda t: F.max_pool2d(t, 3, 2, 1), lambda t: F.avg_pool2d(t, 3, 2, 1)):
        t_ref = glassnet.tensor(x, requires_grad=True)
        pool(t_ref).backward(glassnet.tensor(dy))
        t = glassnet.tensor(x, requires_grad=True)
        y = pool(t)
        z = glassnet.tensor(
            r.standard_normal((4, 3, 11, 11)).astype(np.float32), requires_grad=True
        )
        w = glassnet.tensor(r.standard_normal((5, 3, 3, 3)).astype(np.float32), requires_grad=True)
        F.conv2d(z, w, padding=1).sum().backward()  # reuses the same scratch roles
        other = glassnet.tensor(
            r.standard_normal((2, 3, 9, 9)).astype(np.float32), requires_grad=True
        )
        pool(other).sum().backward()  # and so does another pooling call
        y.backward(glassnet.tensor(dy))
        np.testing.assert_array_equal(t.grad.data, t_ref.grad.data)
