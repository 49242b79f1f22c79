"""The autograd engine: backward, accumulation, graph freeing, grad modes, anomaly mode."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.autograd import AnomalyError, Function, GradcheckError, gradcheck


def test_scalar_backward_and_accumulation():
    x = glassnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2, 4, 6])
    (3 * x).sum().backward()  # gradients accumulate across backward calls
    np.testing.assert_allclose(x.grad.data, [5, 7, 9])


def test_gradient_reaching_a_tensor_twice_is_summed():
    x = glassnet.tensor(2.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad.item() == pytest.approx(5.0)


def test_shared_upstream_gradient_is_not_aliased_between_leaves():
    x = glassnet.zeros(3, requires_grad=True)
    y = glassnet.zeros(3, requires_grad=True)
    (x + y).backward(np.ones(3, np.float32))
    x.grad.data *= 10  # an in-place scaling (clip_grad_norm_) must not reach y.grad
    np.testing.assert_allclose(y.grad.data, [1, 1, 1])


def test_chain_of_100000_ops_is_iterative():
    x = glassnet.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_frees_saved_buffers_unless_retained():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = x.exp().sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1, 2]) * 3, rtol=1e-6)


def test_nonscalar_backward_needs_gradient():
    x = glassnet.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"single element.*\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"gradient of shape \(2, 3\), got \(3,\)"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.full((2, 3), 0.5))
    np.testing.assert_allclose(x.grad.data, 1.0)


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        glassnet.ones(2).sum().backward()


def test_no_grad_and_enable_grad():
    x = glassnet.ones(2, requires_grad=True)
    with glassnet.no_grad():
        y = x * 2
        with glassnet.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.creator is None
    assert z.requires_grad

    @glassnet.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert glassnet.autograd.is_grad_enabled()


def test_detach_and_retain_grad():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    d = h.detach()
    assert not d.requires_grad and d.is_leaf
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, [4.0, 8.0])
    np.testing.assert_allclose(x.grad.data, [8.0, 16.0])


def test_default_dtype_and_float64_on_request():
    assert glassnet.tensor([1.0]).dtype == np.float32
    assert glassnet.tensor(np.array([1.0])).dtype == np.float64
    assert glassnet.tensor([1]).dtype == np.int64
    glassnet.set_default_dtype(np.float64)
    try:
        assert glassnet.tensor([1.0]).dtype == np.float64
        assert glassnet.nn.Linear(2, 2).weight.dtype == np.float64
    finally:
        glassnet.set_default_dtype(np.float32)
    x = glassnet.ones(2, requires_grad=True)
    assert (x * 2.5).dtype == np.float32  # Python scalars do not promote
    assert x.double().dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        glassnet.tensor([1, 2], requires_grad=True)


def test_manual_seed_reproducible():
    glassnet.manual_seed(3)
    x = glassnet.randn(4).data.copy()
    a = glassnet.manual_seed(3)
    np.testing.assert_array_equal(glassnet.randn(4).data, x)
    assert a is glassnet.default_generator()
    with pytest.raises(TypeError, match="int seed"):
        glassnet.manual_seed(1.5)


def test_anomaly_mode_names_forward_op():
    x = glassnet.tensor([0.0, 1.0], requires_grad=True)
    with (
        glassnet.autograd.detect_anomaly(),
        pytest.raises(AnomalyError, match=r"^Log produced inf"),
    ):
        glassnet.sqrt(x * x).log() - 1  # Mul and Sqrt are finite; Log of 0 is the first bad op
    x = glassnet.tensor([-1.0, 1.0], requires_grad=True)
    with (
        glassnet.autograd.detect_anomaly(),
        pytest.raises(AnomalyError, match=r"^Sqrt produced nan"),
    ):
        glassnet.sqrt(x).log()  # the first bad op is named, not a later one
    # outside anomaly mode the NaN passes silently, as in NumPy
    assert np.isnan(glassnet.sqrt(x).data[0])


def test_anomaly_mode_names_backward_op():
    x = glassnet.tensor([0.0, 1.0], requires_grad=True)
    with glassnet.autograd.detect_anomaly():
        y = glassnet.sqrt(x).sum()  # finite forward, infinite derivative at 0
        with pytest.raises(AnomalyError, match=r"SqrtBackward returned inf.*input 0"):
            y.backward()


def test_inplace_change_of_saved_tensor_is_detected():
    w = glassnet.nn.Parameter(np.ones((2, 2)))
    x = glassnet.tensor(np.ones((3, 2)))
    y = (x @ w).sum()
    with glassnet.no_grad():
        w.sub_(0.1)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_on_unsaved_tensor_is_fine():
    a = glassnet.ones(2, requires_grad=True)
    b = glassnet.tensor([1.0, 2.0])
    y = (a + b).sum()  # Add saves nothing
    b.add_(1.0)
    y.backward()
    np.testing.assert_allclose(a.grad.data, 1.0)


def test_inplace_on_leaf_requiring_grad_is_refused():
    w = glassnet.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 3.0
    with glassnet.no_grad():
        w[0] = 3.0
    assert w.data[0] == 3.0


class _SinCos(Function):
    """A two-output op: (sin x, cos x)."""

    def forward(self, x):
        self.x = x
        return np.sin(x), np.cos(x)

    def backward(self, ds, dc):
        return ds * np.cos(self.x) - dc * np.sin(self.x)


def test_multi_output_function_and_unused_output():
    x = glassnet.tensor(np.linspace(-2, 2, 7), requires_grad=True)
    s, c = _SinCos.apply(x)
    assert s.creator is c.creator
    s.sum().backward()  # c never reaches the loss: its gradient is zero
    np.testing.assert_allclose(x.grad.data, np.cos(x.data))
    x2 = glassnet.tensor(np.linspace(-2, 2, 7), requires_grad=True)
    assert gradcheck(lambda t: _SinCos.apply(t), (x2,))


class _WrongGrad(Function):
    def forward(self, x):
        self.x = x
        return x**2

    def backward(self, dy):
        return dy * self.x  # missing factor 2


def test_gradcheck_catches_a_wrong_backward():
    x = glassnet.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(_WrongGrad.apply, (x,))
    assert gradcheck(_WrongGrad.apply, (x,), raise_exception=False) is False


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, (glassnet.ones(2, requires_grad=True),))


def test_engine_checks_gradient_shapes():
    class _BadShape(Function):
        def forward(self, x):
            return x.sum()

        def backward(self, dy):
            return np.ones(5)

    x = glassnet.ones(3, requires_grad=True)
    with pytest.raises(AssertionError, match=r"shape \(5,\) for input 0 of shape \(3,\)"):
        _BadShape.apply(x).backward()


def test_tensor_basics():
    x = glassnet.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.shape == (2, 2) and x.ndim == 2 and x.numel() == 4 and len(x) == 2
    assert x[1, 0].item() == 3.0
    assert "tensor(" in repr(x)
    assert (x > 2).dtype == np.bool_
    assert np.asarray(x).shape == (2, 2)
    with pytest.raises(ValueError, match="one element"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)


def test_integer_outputs_are_not_in_the_graph_as_pytorch():
    x = glassnet.randn(3, 4, requires_grad=True)
    values, indices = x.max(1)
    assert values.grad_fn is not None and values.requires_grad
    assert indices.grad_fn is None and not indices.requires_grad and indices.is_leaf
    assert "grad_fn" not in repr(indices)
    values.sum().backward()  # the float output still reaches the input
    assert x.grad is not None and float(x.grad.sum()) == 3.0
