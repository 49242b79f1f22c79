"""Elementwise ops and activations: gradcheck, PyTorch parity with broadcasting, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet
import glassnet.nn.functional as F

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=4
)

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a.abs() ** b, lambda a, b: a.abs() ** b),
    "maximum": (glassnet.maximum, torch.maximum),
    "minimum": (glassnet.minimum, torch.minimum),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(bs=broadcast_pairs, seed=st.integers(0, 2**16))
def test_binary_parity_with_broadcasting(name, bs, seed):
    ours, theirs = BINARY[name]
    r = np.random.default_rng(seed)
    a = r.standard_normal(bs.input_shapes[0])
    b = r.standard_normal(bs.input_shapes[1])
    if name == "div":
        b = np.sign(b) * (np.abs(b) + 0.5)  # keep away from 0
    if name == "pow":
        a = np.sign(a) * (np.abs(a) + 0.5)
    parity(ours, theirs, a, b, seed=seed)


UNARY = {
    "exp": (glassnet.exp, torch.exp, None),
    "log": (glassnet.log, torch.log, "positive"),
    "sqrt": (glassnet.sqrt, torch.sqrt, "positive"),
    "abs": (glassnet.abs, torch.abs, None),
    "neg": (lambda x: -x, lambda x: -x, None),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7), None),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), None),
    "tanh": (glassnet.tanh, torch.tanh, None),
    "sigmoid": (glassnet.sigmoid, torch.sigmoid, None),
    "relu": (glassnet.relu, torch.relu, None),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), None),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7), None),
    "gelu": (F.gelu, TF.gelu, None),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        None,
    ),
    "softmax0": (lambda x: F.softmax(x, 0), lambda x: torch.softmax(x, 0), None),
    "softmax-1": (lambda x: F.softmax(x, -1), lambda x: torch.softmax(x, -1), None),
    "log_softmax": (lambda x: F.log_softmax(x, -1), lambda x: torch.log_softmax(x, -1), None),
    "pow_scalar": (lambda x: x**3, lambda x: x**3, None),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, None),
    "rsub_rdiv": (lambda x: (1 - x) / (2 + x * x), lambda x: (1 - x) / (2 + x * x), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), seed=st.integers(0, 2**16))
def test_unary_parity(name, shape, seed):
    ours, theirs, domain = UNARY[name]
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    if domain == "positive":
        x = np.abs(x) + 0.1
    else:
        x[np.abs(x) < 1e-3] = 0.5  # keep kinks (relu, abs, clamp) away from the samples
        x[np.abs(np.abs(x) - 0.5) < 1e-3] = 0.3
    parity(ours, theirs, x, seed=seed)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    ours, _, domain = UNARY[name]
    x = np.random.default_rng(1).standard_normal((3, 4))
    if domain == "positive":
        x = np.abs(x) + 0.1
    x[np.abs(x) < 1e-2] = 0.3
    x[np.abs(np.abs(x) - 0.5) < 1e-2] = 0.3
    x[np.abs(x - 0.7) < 1e-2] = 0.3
    x[np.abs(x - 0.1) < 1e-2] = 0.3
    check_grad(ours, x)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name):
    ours, _ = BINARY[name]
    r = np.random.default_rng(2)
    a, b = r.standard_normal((3, 1, 4)), r.standard_normal((2, 1)) + 3
    check_grad(ours, a, b)


def test_ties_share_the_gradient_as_torch():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    parity(glassnet.maximum, torch.maximum, a, b)


def test_where_parity():
    r = np.random.default_rng(0)
    cond = r.random((3, 4)) > 0.5
    parity(
        lambda a, b: glassnet.where(cond, a, b),
        lambda a, b: torch.where(torch.from_numpy(cond), a, b),
        r.standard_normal((3, 4)),
        r.standard_normal((4,)),
    )


def test_softmax_is_stable_for_huge_logits():
    x = glassnet.tensor(np.array([[1000.0, 0.0, -1000.0]]))
    assert_close(F.softmax(x, -1), [[1.0, 0.0, 0.0]])
    assert np.isfinite(F.log_softmax(x, -1).data).all()


def test_sigmoid_is_stable_for_huge_inputs():
    x = glassnet.tensor(np.array([-1000.0, 1000.0]))
    assert_close(glassnet.sigmoid(x), [0.0, 1.0])


@given(shape=shapes)
def test_scalar_operands_keep_the_tensor_dtype(shape):
    x = glassnet.ones(*shape)
    for y in (x + 1, 2 * x, x / 3, 1 - x, x**2):
        assert y.dtype == np.float32 and y.shape == x.shape


def test_cast_is_differentiable():
    x = glassnet.tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    assert_close(x.grad, [3.0, -4.0])


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        glassnet.clamp(glassnet.ones(2))


def test_unsupported_operand_type():
    with pytest.raises(TypeError, match="unsupported operand"):
        glassnet.ones(2) + "a"
