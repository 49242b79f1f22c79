"""batch_norm: PyTorch parity (forward, every gradient, running statistics), gradcheck, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional


@st.composite
def bn_config(draw):
    rank = draw(st.integers(2, 5))
    c = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    rest = tuple(draw(st.integers(1, 3)) for _ in range(rank - 2))
    if n * int(np.prod(rest)) < 2:
        n = 2
    seed = draw(st.integers(0, 2**16))
    return {
        "shape": (n, c, *rest),
        "affine": draw(st.sampled_from(["both", "weight", "none"])),
        "momentum": draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5])),
        "seed": seed,
    }


@given(cfg=bn_config(), training=st.booleans())
def test_batch_norm_parity_and_running_stats(cfg, training):
    r = np.random.default_rng(cfg["seed"])
    shape, c = cfg["shape"], cfg["shape"][1]
    x = r.standard_normal(shape) * 3 + 1
    w, b = r.standard_normal(c), r.standard_normal(c)
    rm, rv = r.standard_normal(c), r.uniform(0.5, 2.0, c)
    g_stats = [glassnet.tensor(rm.copy()), glassnet.tensor(rv.copy())]
    t_stats = [torch.tensor(rm.copy()), torch.tensor(rv.copy())]
    kw = {"training": training, "momentum": cfg["momentum"], "eps": cfg["eps"]}
    arrays = [x] if cfg["affine"] == "none" else [x, w] if cfg["affine"] == "weight" else [x, w, b]

    def ours(*ts):
        return F.batch_norm(ts[0], *g_stats, *ts[1:], **kw)

    def theirs(*ts):
        return TF.batch_norm(ts[0], *t_stats, *ts[1:], **kw)

    parity(ours, theirs, *arrays, seed=cfg["seed"])
    for g, t in zip(g_stats, t_stats):
        assert_close(g, t, rtol=1e-12)


def test_gradcheck_training_and_eval():
    r = np.random.default_rng(0)
    x = r.standard_normal((4, 3, 5))
    w, b = r.standard_normal(3), r.standard_normal(3)
    rm, rv = glassnet.tensor(r.standard_normal(3)), glassnet.tensor(r.uniform(0.5, 2, 3))
    check_grad(lambda t, wt, bt: F.batch_norm(t, None, None, wt, bt, training=True), x, w, b)
    check_grad(lambda t, wt, bt: F.batch_norm(t, rm, rv, wt, bt, training=False), x, w, b)
    check_grad(lambda t: F.batch_norm(t, None, None, training=True, eps=0.1), x[:, :, :2])


def test_against_formula_and_unbiased_running_variance():
    r = np.random.default_rng(1)
    x = r.standard_normal((5, 2, 3, 3))
    rm, rv = glassnet.zeros(2).double(), glassnet.ones(2).double()
    y = F.batch_norm(glassnet.tensor(x), rm, rv, training=True, momentum=0.25, eps=1e-5)
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    assert_close(y, (x - mu) / np.sqrt(var + 1e-5))
    m = 5 * 9
    assert_close(rm, 0.25 * mu.ravel())
    assert_close(rv, 0.75 + 0.25 * var.ravel() * m / (m - 1))
    # per-channel output has mean 0 and (biased) variance var / (var + eps)
    assert_close(y.data.mean(axis=(0, 2, 3)), np.zeros(2), atol=1e-12)


def test_running_stats_not_touched_in_eval_and_version_bumped_in_training():
    rm, rv = glassnet.zeros(3).double(), glassnet.ones(3).double()
    x = glassnet.randn(4, 3).double()
    F.batch_norm(x, rm, rv, training=False)
    assert np.all(rm.data == 0) and np.all(rv.data == 1)
    v = rm._version[0]
    F.batch_norm(x, rm, rv, training=True)
    assert rm._version[0] == v + 1 and np.any(rm.data != 0)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda: F.batch_norm(glassnet.zeros(1, 3), None, None, training=True),
            ValueError,
            "more than 1 value per channel",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(1, 3, 1, 1), None, None, training=True),
            ValueError,
            "more than 1 value per channel",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(4), None, None, training=True),
            ValueError,
            r"\(N, C, \*\), got \(4,?\)",
        ),
        (lambda: F.batch_norm(glassnet.zeros(4, 3), None, None), ValueError, "training=False"),
        (
            lambda: F.batch_norm(glassnet.zeros(4, 3), glassnet.zeros(2), glassnet.ones(2)),
            ValueError,
            r"running_mean of shape \(3,\), got \(2,?\)",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(4, 3), glassnet.zeros(3), None),
            ValueError,
            "both given or both None",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(4, 3), None, None, glassnet.ones(4), training=True),
            ValueError,
            r"weight of shape \(3,\)",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(4, 3), None, None, np.ones(3), training=True),
            TypeError,
            "weight to be a Tensor",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(4, 3).long(), None, None, training=True),
            TypeError,
            "floating-point",
        ),
        (
            lambda: F.batch_norm(glassnet.zeros(4, 3), None, None, training=True, momentum=2.0),
            ValueError,
            "momentum",
        ),
    ],
)
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
