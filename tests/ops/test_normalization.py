"""layer_norm, group_norm, instance_norm: PyTorch parity, gradcheck, a naive reference, properties.

The three share one row-standardisation mechanism (``ops.norm._standardize``); the tests check
each functional form on its own and the identities that tie them together.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional


def _affine_arrays(r, shape, affine):
    """The optional (weight, bias) arrays: 'both', 'weight' only, or 'none'."""
    w, b = r.standard_normal(shape), r.standard_normal(shape)
    return {"both": [w, b], "weight": [w], "none": []}[affine]


# ---------------------------------------------------------------------------- layer norm
@st.composite
def ln_config(draw):
    k = draw(st.integers(1, 3))
    norm_shape = tuple(draw(st.integers(1, 4)) for _ in range(k))
    lead = tuple(draw(st.integers(0 if k > 1 else 1, 3)) for _ in range(draw(st.integers(0, 2))))
    return {
        "shape": lead + norm_shape,
        "norm_shape": norm_shape,
        "affine": draw(st.sampled_from(["both", "weight", "none"])),
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5])),
        "seed": draw(st.integers(0, 2**16)),
    }


@given(cfg=ln_config())
def test_layer_norm_parity(cfg):
    r = np.random.default_rng(cfg["seed"])
    x = r.standard_normal(cfg["shape"]) * 3 + 1
    arrays = [x, *_affine_arrays(r, cfg["norm_shape"], cfg["affine"])]
    ns, eps = cfg["norm_shape"], cfg["eps"]

    def ours(*ts):
        return F.layer_norm(ts[0], ns, *ts[1:], eps=eps)

    def theirs(*ts):
        return TF.layer_norm(ts[0], ns, *ts[1:], eps=eps)

    # One normalised value: x - mean(x) is 0, so the exact input gradient is 0 (ours is); torch
    # returns round-off of size ~1e-16 * |dy w| / sqrt(eps) there (1.1e-12 seen at eps=1e-5).
    atol = 1e-12 if math.prod(ns) > 1 else 1e-14 / math.sqrt(eps)
    parity(ours, theirs, *arrays, seed=cfg["seed"], atol=atol)


def test_layer_norm_gradcheck_and_empty_batch():
    r = np.random.default_rng(0)
    x, w, b = r.standard_normal((3, 2, 4)), r.standard_normal((2, 4)), r.standard_normal((2, 4))
    check_grad(lambda t, wt, bt: F.layer_norm(t, (2, 4), wt, bt), x, w, b)
    check_grad(lambda t: F.layer_norm(t, 4, eps=0.1), x)
    empty = glassnet.zeros(0, 5).double().requires_grad_()
    wt = glassnet.ones(5).double().requires_grad_()
    y = F.layer_norm(empty, [5], wt)
    y.sum().backward()
    assert y.shape == (0, 5) and empty.grad.shape == (0, 5)
    assert np.all(wt.grad.data == 0)


def test_layer_norm_matches_the_formula():
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 3, 5))
    y = F.layer_norm(glassnet.tensor(x), (3, 5), eps=1e-5)
    mu = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    assert_close(y, (x - mu) / np.sqrt(var + 1e-5))


# ---------------------------------------------------------------------------- group norm
@st.composite
def gn_config(draw, min_group_size=1):
    g = draw(st.integers(1, 3))
    c = g * draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    rest = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 3))))
    if (c // g) * math.prod(rest) < min_group_size:
        rest = (*rest, min_group_size)
    if n * (c // g) * math.prod(rest) == 1:
        n = 2
    return {
        "shape": (n, c, *rest),
        "groups": g,
        "affine": draw(st.sampled_from(["both", "weight", "none"])),
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5])),
        "seed": draw(st.integers(0, 2**16)),
    }


@given(cfg=gn_config())
def test_group_norm_parity(cfg):
    r = np.random.default_rng(cfg["seed"])
    x = r.standard_normal(cfg["shape"]) * 2 - 1
    arrays = [x, *_affine_arrays(r, cfg["shape"][1:2], cfg["affine"])]
    g, eps = cfg["groups"], cfg["eps"]

    def ours(*ts):
        return F.group_norm(ts[0], g, *ts[1:], eps=eps)

    def theirs(*ts):
        return TF.group_norm(ts[0], g, *ts[1:], eps=eps)

    parity(ours, theirs, *arrays, seed=cfg["seed"])


def _naive_group_norm(x, g, w, b, eps):
    """A loop over samples and groups: the textbook definition."""
    n, c = x.shape[:2]
    y = np.empty_like(x)
    size = c // g
    for i in range(n):
        for j in range(g):
            block = x[i, j * size : (j + 1) * size]
            y[i, j * size : (j + 1) * size] = (block - block.mean()) / np.sqrt(block.var() + eps)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    return y * w.reshape(bshape) + b.reshape(bshape)


def test_group_norm_against_naive_loop_and_gradcheck():
    r = np.random.default_rng(2)
    x, w, b = r.standard_normal((3, 6, 2, 3)), r.standard_normal(6), r.standard_normal(6)
    y = F.group_norm(glassnet.tensor(x), 3, glassnet.tensor(w), glassnet.tensor(b), eps=1e-3)
    assert_close(y, _naive_group_norm(x, 3, w, b, 1e-3))
    check_grad(lambda t, wt, bt: F.group_norm(t, 3, wt, bt), x, w, b)
    check_grad(lambda t: F.group_norm(t, 2, eps=0.1), x[:, :4, :, :2])


def test_group_norm_empty_batch():
    x = glassnet.zeros(0, 4, 3).double().requires_grad_()
    w = glassnet.ones(4).double().requires_grad_()
    y = F.group_norm(x, 2, w)
    (y * 2).sum().backward()
    assert y.shape == (0, 4, 3) and x.grad.shape == (0, 4, 3) and np.all(w.grad.data == 0)


# ---------------------------------------------------------------------------- instance norm
@given(
    shape=st.sampled_from([(2, 3, 4), (1, 2, 3, 3), (3, 2, 2, 1, 3), (1, 1, 5)]),
    affine=st.sampled_from(["both", "weight", "none"]),
    stats=st.sampled_from(["none", "update", "use"]),
    momentum=st.sampled_from([0.0, 0.1, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_instance_norm_parity_and_running_stats(shape, affine, stats, momentum, seed):
    r = np.random.default_rng(seed)
    c = shape[1]
    x = r.standard_normal(shape) * 2 + 0.5
    arrays = [x, *_affine_arrays(r, (c,), affine)]
    rm, rv = r.standard_normal(c), r.uniform(0.5, 2.0, c)
    g_stats = [glassnet.tensor(rm.copy()), glassnet.tensor(rv.copy())] if stats != "none" else []
    t_stats = [torch.tensor(rm.copy()), torch.tensor(rv.copy())] if stats != "none" else []
    kw = {"use_input_stats": stats != "use", "momentum": momentum, "eps": 1e-4}

    def ours(*ts):
        return F.instance_norm(ts[0], *(g_stats or [None, None]), *ts[1:], **kw)

    def theirs(*ts):
        return TF.instance_norm(ts[0], *(t_stats or [None, None]), *ts[1:], **kw)

    parity(ours, theirs, *arrays, seed=seed)
    for a, b in zip(g_stats, t_stats):
        assert_close(a, b, rtol=1e-12)


def test_instance_norm_running_stats_formula_and_gradcheck():
    r = np.random.default_rng(3)
    x = r.standard_normal((4, 2, 5))
    rm, rv = glassnet.zeros(2).double(), glassnet.ones(2).double()
    v = rm._version[0]
    F.instance_norm(glassnet.tensor(x), rm, rv, momentum=0.25)
    assert_close(rm, 0.25 * x.mean(axis=2).mean(axis=0))
    assert_close(rv, 0.75 + 0.25 * x.var(axis=2, ddof=1).mean(axis=0))
    assert rm._version[0] == v + 1
    w, b = r.standard_normal(2), r.standard_normal(2)
    check_grad(lambda t, wt, bt: F.instance_norm(t, weight=wt, bias=bt), x, w, b)
    stats = (glassnet.tensor(r.standard_normal(2)), glassnet.tensor(r.uniform(0.5, 2, 2)))
    check_grad(lambda t, wt: F.instance_norm(t, *stats, wt, use_input_stats=False), x, w)


# ---------------------------------------------------------------------------- properties
@given(cfg=gn_config(min_group_size=2))
def test_group_rows_are_standardised_and_gradient_is_orthogonal(cfg):
    """Without affine and eps: each group has mean 0 and variance 1, and dx of each group is
    orthogonal to 1 and to x_hat (the output does not change under shift and scale of a group).
    """
    r = np.random.default_rng(cfg["seed"])
    x = glassnet.tensor(r.standard_normal(cfg["shape"]) * 3 + 2, requires_grad=True)
    g = cfg["groups"]
    y = F.group_norm(x, g, eps=0.0)
    n = x.shape[0]
    rows = y.data.reshape(n * g, -1)
    assert_close(rows.mean(axis=1), np.zeros(n * g), atol=1e-12)
    assert_close(rows.var(axis=1), np.ones(n * g), rtol=1e-9)
    dy = r.standard_normal(y.shape)
    (y * glassnet.tensor(dy)).sum().backward()
    dx = x.grad.data.reshape(n * g, -1)
    scale = max(1.0, float(np.abs(dx).max()))
    assert_close(dx.sum(axis=1) / scale, np.zeros(n * g), atol=1e-10)
    assert_close((dx * rows).sum(axis=1) / scale, np.zeros(n * g), atol=1e-10)


@given(cfg=gn_config(min_group_size=2), a=st.floats(0.1, 10), shift=st.floats(-5, 5))
def test_group_norm_ignores_affine_change_of_input(cfg, a, shift):
    r = np.random.default_rng(cfg["seed"])
    x = r.standard_normal(cfg["shape"])
    g = cfg["groups"]
    y1 = F.group_norm(glassnet.tensor(x), g, eps=0.0)
    y2 = F.group_norm(glassnet.tensor(a * x + shift), g, eps=0.0)
    assert_close(y1, y2, rtol=1e-7, atol=1e-7)


@given(cfg=gn_config())
def test_group_norm_special_cases_equal_layer_norm_and_instance_norm(cfg):
    """One group is layer norm over (C, *S) with per-channel affine; C groups is instance norm."""
    r = np.random.default_rng(cfg["seed"])
    x = glassnet.tensor(r.standard_normal(cfg["shape"]))
    c = x.shape[1]
    w, b = glassnet.tensor(r.standard_normal(c)), glassnet.tensor(r.standard_normal(c))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    ln = F.layer_norm(x, x.shape[1:], eps=1e-3) * w.reshape(bshape) + b.reshape(bshape)
    assert_close(F.group_norm(x, 1, w, b, eps=1e-3), ln)
    if math.prod(x.shape[2:]) > 1:
        assert_close(
            F.group_norm(x, c, w, b, eps=1e-3), F.instance_norm(x, None, None, w, b, eps=1e-3)
        )


# ---------------------------------------------------------------------------- errors
Z = glassnet.zeros


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: F.layer_norm(Z(4, 6), 5), ValueError, r"shape=\(5,\), got \(4, 6\)"),
        (lambda: F.layer_norm(Z(5), (2, 5)), ValueError, r"\(\*, 2, 5\), got \(5,\)"),
        (lambda: F.layer_norm(Z(4, 5), []), ValueError, "non-empty normalized_shape"),
        (lambda: F.layer_norm(Z(4, 5), 0), ValueError, "positive int normalized_shape"),
        (lambda: F.layer_norm(Z(4, 5), "5"), ValueError, "positive int normalized_shape"),
        (lambda: F.layer_norm(Z(4, 5), 5, Z(4)), ValueError, r"weight of shape \(5,\), got \(4,\)"),
        (lambda: F.layer_norm(Z(4, 5), 5, np.ones(5)), TypeError, "weight to be a Tensor"),
        (lambda: F.layer_norm(Z(4, 5).long(), 5), TypeError, "floating-point"),
        (lambda: F.layer_norm([1.0], 1), TypeError, "Tensor input"),
        (lambda: F.layer_norm(Z(4, 5), 5, eps=-1), ValueError, "non-negative eps"),
        (lambda: F.group_norm(Z(4), 1), ValueError, r"\(N, C, \*\), got \(4,\)"),
        (lambda: F.group_norm(Z(4, 6, 3), 4), ValueError, "divisible by num_groups=4.*6 channels"),
        (lambda: F.group_norm(Z(4, 6, 3), 0), ValueError, "positive int num_groups"),
        (lambda: F.group_norm(Z(4, 6, 3), 2.0), ValueError, "positive int num_groups"),
        (lambda: F.group_norm(Z(1, 3), 3), ValueError, "more than 1 value per group"),
        (lambda: F.group_norm(Z(4, 6, 3), 2, None, Z(3)), ValueError, r"bias of shape \(6,\)"),
        (lambda: F.instance_norm(Z(4, 3)), ValueError, "more than 1 spatial element"),
        (lambda: F.instance_norm(Z(4, 3, 1, 1)), ValueError, "more than 1 spatial element"),
        (lambda: F.instance_norm(Z(4, 3, 5), Z(2), Z(2)), ValueError, r"running_mean of sh"),
        (lambda: F.instance_norm(Z(4, 3, 5), Z(3)), ValueError, "both given or both None"),
        (lambda: F.instance_norm(Z(4, 3, 5), use_input_stats=False), ValueError, "use_input_stats"),
        (lambda: F.instance_norm(Z(4, 3, 5), momentum=1.5), ValueError, "momentum"),
        (lambda: F.instance_norm(Z(4, 3, 5), [0.0] * 3, Z(3)), TypeError, "running_mean to be"),
    ],
)  # fmt: skip
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
