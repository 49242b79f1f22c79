"""Losses: PyTorch parity for every option, gradcheck, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import assert_close, check_grad, parity, torch

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
def test_mse_l1_with_weight_parity(reduction):
    """torch 2.13's weight= on mse_loss/l1_loss: each element's loss scaled, 'mean' divides
    by the summed weights."""
    r = np.random.default_rng(1)
    a, b, w = r.standard_normal((3, 4)), r.standard_normal((3, 4)), r.random((3, 4))
    for ours, theirs in ((F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss)):
        parity(
            lambda x, y, ours=ours: ours(x, y, reduction, weight=w),
            lambda x, y, theirs=theirs: theirs(
                x, y, reduction=reduction, weight=torch.from_numpy(w)
            ),
            a,
            b,
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


# ---------------------------------------------------------------------------- stable cross-entropy
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_with_minus_inf_logit_is_finite_as_pytorch(dtype):
    """A -inf logit of another class (a masked class): PyTorch's 0.3133, not 0 * -inf = nan."""
    x = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]], dtype)
    t = np.array([2, 1])
    for smoothing in (0.0,):
        ours = glassnet.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        loss = F.cross_entropy(ours, t, reduction="none", label_smoothing=smoothing)
        ref = TF.cross_entropy(theirs, torch.from_numpy(t), reduction="none")
        assert loss.data[0] == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-6)  # 0.3133
        np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=1e-6)
        g = np.array([0.7, -1.3], dtype)
        (loss * glassnet.tensor(g)).sum().backward()
        (ref * torch.from_numpy(g)).sum().backward()
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6, atol=1e-7)
    logp = np.array([[-np.inf, -0.1, -2.0]])
    got = F.nll_loss(glassnet.tensor(logp), np.array([1]))
    assert got.item() == pytest.approx(0.1)


@pytest.mark.parametrize("target", [0, 1, 2])
def test_cross_entropy_with_extreme_float32_logits_matches_pytorch(target):
    """[3e38, 0, -3e38] in float32: x - max overflows to -inf for the last class; the loss and
    its gradient still equal PyTorch's (0, 3e38, inf) with no nan."""
    x = np.array([[3e38, 0.0, -3e38]], np.float32)
    ours = glassnet.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(ours, np.array([target]))
    ref = TF.cross_entropy(theirs, torch.tensor([target]))
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=1e-6)
    loss.backward()
    ref.backward()
    assert np.isfinite(ours.grad.data).all()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6)


def test_cross_entropy_gathers_instead_of_a_dense_product():
    """Ignored positions and other classes never enter the loss, even when they are -inf."""
    x = glassnet.tensor(np.array([[-np.inf, 0.0], [0.0, -np.inf]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, -100]))
    assert loss.item() == 0.0
    loss.backward()
    assert_array_equal(x.grad.data, np.zeros((2, 2)))


# ---------------------------------------------------------------------------- loss buffers
def test_class_weights_are_buffers_in_state_dict_as_pytorch():
    w = np.array([0.2, 1.0, 3.0])
    for name, kw in [
        ("CrossEntropyLoss", {"weight": w}),
        ("NLLLoss", {"weight": w}),
        ("BCELoss", {"weight": w}),
        ("BCEWithLogitsLoss", {"weight": w, "pos_weight": w[::-1].copy()}),
    ]:
        ours = getattr(nn, name)(**{k: glassnet.tensor(v) for k, v in kw.items()})
        theirs = getattr(torch.nn, name)(**{k: torch.from_numpy(v) for k, v in kw.items()})
        assert list(ours.state_dict()) == list(theirs.state_dict()) == list(kw)
        ours.load_state_dict({k: v * 2 for k, v in theirs.state_dict().items()})
        assert_close(ours.weight, 2 * w)
        assert ours.float().weight.dtype == np.float32
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert nn.NLLLoss(weight=[1.0, 2.0]).weight.dtype == glassnet.get_default_dtype()
    with pytest.raises(TypeError, match="floating-point weight"):
        nn.CrossEntropyLoss(weight=np.array([1, 2]))


# ---------------------------------------------------------------------------- new losses
def _prob(r, shape):
    return r.uniform(0.02, 0.98, shape)


@given(
    shape=st.sampled_from([(), (5,), (3, 4), (2, 3, 2)]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_binary_cross_entropy_parity(shape, reduction, weighted, seed):
    r = np.random.default_rng(seed)
    w = np.asarray(r.random(shape[-1:]) + 0.5) if weighted else None
    tw = None if w is None else torch.from_numpy(w)
    parity(
        lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
        lambda a, b: TF.binary_cross_entropy(a, b, weight=tw, reduction=reduction),
        _prob(r, shape),
        r.random(shape),
        seed=seed,
    )


def test_binary_cross_entropy_at_zero_and_one_is_clamped_as_pytorch():
    x, t = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    parity(
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
        lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"),
        x,
        t,
    )
    assert F.binary_cross_entropy(glassnet.tensor(x), glassnet.tensor(t)).item() == (
        pytest.approx((100 + 100 - np.log(0.5)) / 5)
    )


@given(
    shape=st.sampled_from([(), (7,), (3, 5)]),
    beta=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    delta=st.sampled_from([0.5, 1.0, 2.5]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_smooth_l1_and_huber_parity(shape, beta, delta, reduction, weighted, seed):
    r = np.random.default_rng(seed)
    a, b = r.standard_normal(shape) * 2, r.standard_normal(shape)
    parity(
        lambda x, y: F.smooth_l1_loss(x, y, reduction, beta),
        lambda x, y: TF.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        a,
        b,
        seed=seed,
    )
    w = np.asarray(r.random(shape) + 0.5) if weighted else None
    tw = None if w is None else torch.from_numpy(w)
    parity(
        lambda x, y: F.huber_loss(x, y, reduction, delta, weight=w),
        lambda x, y: TF.huber_loss(x, y, reduction=reduction, delta=delta, weight=tw),
        a,
        b,
        seed=seed,
    )


@given(
    shape=st.sampled_from([(), (6,), (3, 4), (2, 2, 3)]),
    reduction=st.sampled_from(["mean", "sum", "none", "batchmean"]),
    log_target=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_kl_div_parity(shape, reduction, log_target, seed):
    r = np.random.default_rng(seed)
    x = np.log(_prob(r, shape))
    t = np.log(_prob(r, shape)) if log_target else _prob(r, shape)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "reduction: 'mean'", UserWarning)  # PyTorch's
        warnings.filterwarnings("ignore", "kl_div: reduction='mean'", UserWarning)  # ours
        parity(
            lambda a, b: F.kl_div(a, b, reduction, log_target),
            lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
            x,
            t,
            seed=seed,
        )


def test_kl_div_zero_and_negative_targets_as_pytorch():
    """t = 0 contributes 0 (xlogy) with a nan target gradient; t < 0 gives nan; no NumPy
    floating-point error escapes (the tests raise on them)."""
    parity(
        lambda a, b: F.kl_div(a, b, reduction="none"),
        lambda a, b: TF.kl_div(a, b, reduction="none"),
        np.log([0.5, 0.25, 0.25]),
        np.array([0.0, -0.5, 1.0]),
    )


def test_new_losses_gradcheck():
    r = np.random.default_rng(3)
    a, b = r.standard_normal((3, 4)) * 2, r.standard_normal((3, 4))
    check_grad(lambda x, y: F.binary_cross_entropy(x, y), _prob(r, (3, 4)), r.random((3, 4)))
    check_grad(lambda x, y: F.smooth_l1_loss(x, y, "sum", 0.7), a, b)
    check_grad(lambda x, y: F.huber_loss(x, y, "none", 1.5), a, b)
    check_grad(lambda x, y: F.kl_div(x, y, "batchmean"), np.log(_prob(r, (3, 4))), _prob(r, (3, 4)))
    check_grad(
        lambda x, y: F.kl_div(x, y, "sum", True), np.log(_prob(r, (3, 4))), -r.random((3, 4))
    )


def test_new_losses_against_their_definitions():
    r = np.random.default_rng(4)
    x, t = r.standard_normal(50) * 3, r.standard_normal(50)
    d = np.abs(x - t)
    beta, delta = 1.3, 0.8
    smooth = np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)
    huber = np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta))
    gx, gt = glassnet.tensor(x), glassnet.tensor(t)
    assert_close(F.smooth_l1_loss(gx, gt, "none", beta), smooth)
    assert_close(F.huber_loss(gx, gt, "none", delta), huber)
    assert_close(
        F.huber_loss(gx, gt, "none", delta), delta * F.smooth_l1_loss(gx, gt, "none", delta).data
    )
    assert_close(F.smooth_l1_loss(gx, gt, "none", 0.0), d)
    p, q = _prob(r, (4, 5)), _prob(r, (4, 5))
    kl = F.kl_div(glassnet.tensor(np.log(q)), glassnet.tensor(p), "batchmean")
    assert kl.item() == pytest.approx((p * np.log(p / q)).sum() / 4, rel=1e-12)
    assert F.kl_div(glassnet.tensor(np.log(p)), glassnet.tensor(p), "sum").item() == pytest.approx(
        0, abs=1e-15
    )
    pr, y = _prob(r, 20), r.random(20)
    bce = -(y * np.log(pr) + (1 - y) * np.log(1 - pr))
    assert_close(
        F.binary_cross_entropy(glassnet.tensor(pr), glassnet.tensor(y), reduction="none"), bce
    )


def test_new_loss_modules_match_pytorch():
    r = np.random.default_rng(5)
    x, t = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    p, q = _prob(r, (4, 3)), _prob(r, (4, 3))
    cases = [
        ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}, x, t),
        ("HuberLoss", {"delta": 0.3}, x, t),
        ("KLDivLoss", {"reduction": "batchmean"}, np.log(q), p),
        ("KLDivLoss", {"log_target": True, "reduction": "none"}, np.log(q), np.log(p)),
        ("BCELoss", {"weight": np.array([1.0, 2.0, 0.5])}, p, (q > 0.5) * 1.0),
    ]
    for name, kw, a, b in cases:
        tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        ours = getattr(nn, name)(**kw)(glassnet.tensor(a), glassnet.tensor(b))
        theirs = getattr(torch.nn, name)(**tkw)(torch.from_numpy(a), torch.from_numpy(b))
        assert_close(ours, theirs)
    with pytest.warns(UserWarning, match="batchmean"):
        nn.KLDivLoss()(glassnet.tensor(np.log(q)), glassnet.tensor(p))


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: F.smooth_l1_loss(_Z, _Z, beta=-1.0), ValueError, "non-negative beta, got -1.0"),
        (lambda: nn.SmoothL1Loss(beta=-0.5), ValueError, "non-negative beta"),
        (lambda: F.huber_loss(_Z, _Z, delta=0.0), ValueError, "positive delta, got 0.0"),
        (lambda: nn.HuberLoss(delta=-1.0), ValueError, "positive delta"),
        (lambda: F.huber_loss(_Z, _Z, reduction="avg"), ValueError, "reduction in"),
        (lambda: nn.SmoothL1Loss("batchmean"), ValueError, "reduction in"),
        (lambda: nn.KLDivLoss("avg"), ValueError, "batchmean"),
        (lambda: F.kl_div(_Z, glassnet.zeros(3)), ValueError, r"input's shape \(2, 3\)"),
        (lambda: F.huber_loss(_Z, _Z, weight=np.ones(3)), ValueError, r"weight of the input's"),
        (
            lambda: F.binary_cross_entropy(_Z + 1.5, _Z),
            ValueError,
            r"probabilities in \[0, 1\].*6 value\(s\).*with_logits",
        ),
        (
            lambda: F.binary_cross_entropy(_Z, _Z.long()),
            TypeError,
            "target of the input's dtype",
        ),
        (
            lambda: F.binary_cross_entropy(_Z, _Z, weight=np.ones(4)),
            ValueError,
            r"weight broadcastable to \(2, 3\)",
        ),
        (lambda: F.smooth_l1_loss(_Z.long(), _Z), TypeError, "floating-point input"),
        (lambda: nn.HuberLoss(delta=1j), TypeError, "delta to be a float, got complex"),
        (lambda: F.smooth_l1_loss(_Z, _Z, beta="1"), TypeError, "beta to be a float, got str"),
        (
            lambda: F.cross_entropy(_Z, _Z.softmax(1), ignore_index=1),
            ValueError,
            "ignore_index=1 does not apply to class-probability targets",
        ),
    ],
)
def test_new_losses_reject_bad_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


_Z = glassnet.zeros(2, 3)
