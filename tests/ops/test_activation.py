"""SiLU, Softplus, Hardtanh/ReLU6, PReLU, Mish: PyTorch parity, gradcheck, stability, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)

UNARY = {
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "relu6": (F.relu6, TF.relu6),
    "softplus": (F.softplus, TF.softplus),
    "hardtanh": (F.hardtanh, TF.hardtanh),
}


@given(name=st.sampled_from(sorted(UNARY)), shape=shapes, scale=st.sampled_from([1.0, 5.0, 40.0]))
def test_unary_parity(name, shape, scale):
    ours, theirs = UNARY[name]
    x = np.random.default_rng(len(shape)).standard_normal(shape) * scale
    parity(ours, theirs, x)


@given(
    beta=st.sampled_from([1.0, 2.0, 0.5, -1.5]),
    threshold=st.sampled_from([20.0, 1.0, -100.0, 0.0]),
    shape=shapes,
    seed=st.integers(0, 2**16),
)
def test_softplus_parity_over_beta_and_threshold(beta, threshold, shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 10
    x.flat[::3] = threshold / beta  # on the threshold itself the smooth branch applies
    parity(
        lambda t: F.softplus(t, beta, threshold),
        lambda t: TF.softplus(t, beta, threshold),
        x,
        seed=seed,
    )


@given(
    bounds=st.sampled_from([(-1.0, 1.0), (0.0, 6.0), (-0.25, 2.0), (0.5, 0.5)]),
    shape=shapes,
    seed=st.integers(0, 2**16),
)
def test_hardtanh_parity_including_values_on_the_bounds(bounds, shape, seed):
    lo, hi = bounds
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    x.flat[::2] = lo  # gradient 0 exactly on the bounds, as PyTorch
    x.flat[1::3] = hi
    parity(lambda t: F.hardtanh(t, lo, hi), lambda t: TF.hardtanh(t, lo, hi), x, seed=seed)


@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=5).map(tuple),
    per_channel=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_prelu_parity(shape, per_channel, seed):
    r = np.random.default_rng(seed)
    x = r.standard_normal(shape)
    x.flat[::4] = 0.0  # at 0 the slope side applies, as PyTorch
    c = shape[1] if per_channel and len(shape) >= 2 else 1
    parity(F.prelu, TF.prelu, x, r.standard_normal(c), seed=seed)


def test_gradcheck():
    r = np.random.default_rng(0)
    x = r.standard_normal((3, 4, 2)) * 3
    check_grad(F.silu, x)
    check_grad(F.mish, x)
    check_grad(lambda t: F.softplus(t, 2.0, 3.0), x + 0.0123)  # away from the threshold kink
    check_grad(lambda t: F.hardtanh(t, -0.5, 2.0), x + 0.0123)
    check_grad(F.prelu, x, r.standard_normal(4))
    check_grad(F.prelu, x, r.standard_normal(1))


def test_extreme_inputs_are_finite_and_match_pytorch():
    x = np.array([-1e4, -800.0, -60.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 60.0, 800.0, 1e4])
    for name in ("silu", "mish", "softplus"):
        ours, theirs = UNARY[name]
        parity(ours, theirs, x)
    # tiny values: relative accuracy, not only absolute
    small = F.silu(glassnet.tensor(np.array([-40.0])))
    assert_close(small, TF.silu(torch.tensor([-40.0], dtype=torch.float64)), rtol=1e-13, atol=0)
    sp = F.softplus(glassnet.tensor(np.array([-700.0])), 1.0, 1e5)
    assert sp.data[0] > 0 and np.isclose(sp.data[0], np.exp(-700.0), rtol=1e-13)


@given(shape=shapes, seed=st.integers(0, 2**16))
def test_properties(shape, seed):
    x = glassnet.tensor(np.random.default_rng(seed).standard_normal(shape) * 4)
    sp = F.softplus(x, 1.0, 1e9)
    assert_close(sp - F.softplus(-x, 1.0, 1e9), x, atol=1e-12)  # softplus(x) - softplus(-x) = x
    assert_close(F.silu(x), x * glassnet.sigmoid(x))
    assert_close(F.mish(x), x * glassnet.tanh(sp))
    assert np.all(F.mish(x).data >= -0.3089)  # mish's minimum
    assert_close(F.relu6(x), np.clip(x.data, 0, 6))
    assert_close(F.prelu(x, glassnet.tensor(np.zeros(1))), glassnet.relu(x))
    assert_close(F.prelu(x, glassnet.tensor(np.ones(1))), x)


def test_float32_stays_float32():
    x = glassnet.randn(3, 4)
    w = glassnet.ones(4)
    for y in (F.silu(x), F.mish(x), F.softplus(x, 2.0), F.hardtanh(x), F.relu6(x), F.prelu(x, w)):
        assert y.dtype == np.float32


# ---------------------------------------------------------------------------- layers
@given(num=st.sampled_from([1, 3]), rank=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_prelu_layer_parity_through_state_dict(num, rank, seed):
    r = np.random.default_rng(seed)
    ours, theirs = nn.PReLU(num, init=0.1).double(), torch.nn.PReLU(num, init=0.1).double()
    assert_close(ours.weight, theirs.weight)
    ours.load_state_dict({"weight": r.standard_normal(num)})
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    parity(ours, theirs, r.standard_normal((2, 3) + (2,) * (rank - 2)), seed=seed)
    assert_close(ours.weight.grad, theirs.weight.grad)
    ours.reset_parameters()
    assert np.all(ours.weight.data == 0.1)


@pytest.mark.parametrize(
    "args",
    [
        ("SiLU",),
        ("Mish",),
        ("ReLU6",),
        ("Softplus",),
        ("Softplus", 2, -100),
        ("Hardtanh",),
        ("Hardtanh", -2.0, 0.5),
        ("PReLU",),
        ("PReLU", 3, 0.5),
    ],
)
def test_layer_parity_and_repr(args):
    name, *rest = args
    ours, theirs = getattr(nn, name)(*rest), getattr(torch.nn, name)(*rest)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    parity(ours.double(), theirs.double(), np.random.default_rng(0).standard_normal((2, 3, 4)) * 3)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: F.prelu(glassnet.zeros(2, 3), glassnet.ones(4)), ValueError, "4 channels"),
        (lambda: F.prelu(glassnet.zeros(5), glassnet.ones(5)), ValueError, "5 channels"),
        (lambda: F.prelu(glassnet.zeros(()), glassnet.ones(2)), ValueError, "2 channels"),
        (lambda: F.prelu(glassnet.zeros(2, 3), glassnet.ones(3, 1)), ValueError, r"\(1,\) or"),
        (lambda: F.prelu(glassnet.zeros(2, 3), np.ones(3)), TypeError, "weight to be a Tensor"),
        (lambda: F.hardtanh(glassnet.zeros(2), 1.0, -1.0), ValueError, "min_val <= max_val"),
        (lambda: F.softplus(glassnet.zeros(2), 0.0), ValueError, "non-zero number beta"),
        (lambda: F.softplus(glassnet.zeros(2), 1.0, "20"), TypeError, "threshold"),
        (lambda: F.silu(np.zeros(2)), TypeError, "Tensor input"),
        (lambda: F.mish(glassnet.zeros(2).long()), TypeError, "floating-point"),
        (lambda: nn.Hardtanh(1.0, 1.0), ValueError, "max_val > min_val"),
        (lambda: nn.PReLU(0), ValueError, "positive int num_parameters"),
        (lambda: nn.PReLU(3)(glassnet.zeros(2, 4)), ValueError, "3 channels"),
    ],
)
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
