"""Losses: PyTorch parity for every option, gradcheck, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import check_grad, parity, torch

TF = torch.nn.functional


@given(
    n=st.integers(1, 5),
    c=st.integers(2, 6),
    extra=st.sampled_from([(), (3,), (2, 2)]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    smoothing=st.sampled_from([0.0, 0.1, 0.5]),
    weighted=st.booleans(),
    ignore=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_class_indices_parity(
    n, c, extra, reduction, smoothing, weighted, ignore, seed
):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, c, *extra)) * 3
    t = r.integers(0, c, (n, *extra))
    if ignore:
        t.reshape(-1)[0] = -100
        if (t != -100).sum() == 0:
            t.reshape(-1)[-1] = 0
    w = r.random(c) + 0.1 if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    parity(
        lambda a: F.cross_entropy(a, t, weight=w, **kw),
        lambda a: TF.cross_entropy(
            a, torch.from_numpy(t), weight=None if w is None else torch.from_numpy(w), **kw
        ),
        x,
        seed=seed,
    )


@given(
    seed=st.integers(0, 2**16),
    smoothing=st.sampled_from([0.0, 0.2]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
)
def test_cross_entropy_probability_targets_parity(seed, smoothing, reduction):
    r = np.random.default_rng(seed)
    x = r.standard_normal((4, 5))
    p = r.random((4, 5))
    p /= p.sum(1, keepdims=True)
    w = r.random(5) + 0.5
    parity(
        lambda a, b: F.cross_entropy(
            a, b, weight=w, label_smoothing=smoothing, reduction=reduction
        ),
        lambda a, b: TF.cross_entropy(
            a, b, weight=torch.from_numpy(w), label_smoothing=smoothing, reduction=reduction
        ),
        x,
        p,
        seed=seed,
    )


def test_cross_entropy_unbatched_and_gradcheck():
    r = np.random.default_rng(0)
    parity(
        lambda a: F.cross_entropy(a, np.int64(2)),
        lambda a: TF.cross_entropy(a, torch.tensor(2)),
        r.standard_normal(4),
    )
    t = np.array([0, 2, 1])
    check_grad(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), r.standard_normal((3, 4)))


@given(reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_nll_loss_parity(reduction, seed):
    r = np.random.default_rng(seed)
    logp = np.log(r.dirichlet(np.ones(4), size=5))
    t = r.integers(0, 4, 5)
    t[0] = 1
    t[1] = -100
    w = r.random(4) + 0.5
    parity(
        lambda a: F.nll_loss(a, t, weight=w, reduction=reduction),
        lambda a: TF.nll_loss(
            a, torch.from_numpy(t), weight=torch.from_numpy(w), reduction=reduction
        ),
        logp,
        seed=seed,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_l1_parity(reduction):
    r = np.random.default_rng(0)
    a, b = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    parity(
        lambda x, y: F.mse_loss(x, y, reduction),
        lambda x, y: TF.mse_loss(x, y, reduction=reduction),
        a,
        b,
    )
    parity(
        lambda x, y: F.l1_loss(x, y, reduction),
        lambda x, y: TF.l1_loss(x, y, reduction=reduction),
        a,
        b,
    )
    check_grad(lambda x, y: F.mse_loss(x, y, reduction), a, b)


@given(
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighted=st.booleans(),
    pos=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_bce_with_logits_parity(reduction, weighted, pos, seed):
    r = np.random.default_rng(seed)
    x = r.standard_normal((4, 3)) * 5
    t = r.random((4, 3))
    w = r.random((4, 1)) + 0.5 if weighted else None
    pw = r.random(3) + 0.5 if pos else None
    tw = None if w is None else torch.from_numpy(w)
    tpw = None if pw is None else torch.from_numpy(pw)
    parity(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=w, reduction=reduction, pos_weight=pw
        ),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, weight=tw, reduction=reduction, pos_weight=tpw
        ),
        x,
        t,
        seed=seed,
    )


def test_bce_with_logits_is_stable():
    x = glassnet.tensor(np.array([1000.0, -1000.0]), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, glassnet.tensor(np.array([0.0, 1.0])))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(1000.0)
    loss.backward()
    assert np.isfinite(x.grad.data).all()


def test_loss_modules():
    r = np.random.default_rng(0)
    x = glassnet.tensor(r.standard_normal((3, 4)))
    t = glassnet.tensor(np.array([1, 0, 3]))
    ref = TF.cross_entropy(torch.from_numpy(x.data), torch.from_numpy(t.data), label_smoothing=0.1)
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(x, t).item() == pytest.approx(
        ref.item(), rel=1e-12
    )
    assert nn.NLLLoss()(F.log_softmax(x, 1), t).item() == pytest.approx(
        TF.cross_entropy(torch.from_numpy(x.data), torch.from_numpy(t.data)).item(), rel=1e-12
    )
    assert nn.MSELoss(reduction="sum")(x, x).item() == 0
    assert nn.L1Loss()(x, x * 0).item() == pytest.approx(np.abs(x.data).mean())
    assert nn.BCEWithLogitsLoss()(x, glassnet.zeros(3, 4, dtype=np.float64)).item() > 0


def test_cross_entropy_bad_targets():
    x = glassnet.zeros(3, 4)
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\).*got -3, 7"):
        F.cross_entropy(x, glassnet.tensor([-3, 7, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(x, glassnet.tensor([True, False, True]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\).*got \(2,\)"):
        F.cross_entropy(x, glassnet.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"class-probability target"):
        F.cross_entropy(x, glassnet.zeros(3, 5))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, glassnet.tensor([1, 2, 3]), reduction="avg")
    with pytest.raises(ValueError, match=r"weight of shape \(4,\)"):
        F.cross_entropy(x, glassnet.tensor([1, 2, 3]), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"input's shape \(3, 4\), got \(3,\)"):
        F.mse_loss(x, glassnet.zeros(3))
