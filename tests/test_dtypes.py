"""PyTorch's dtype names exist and mean what they mean in PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet

from .helpers import torch

NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8"]
ALIASES = ["half", "float", "double", "short", "int", "long", "bool"]


@pytest.mark.parametrize("name", NAMES + ALIASES)
def test_dtype_names_are_pytorchs(name):
    ours, theirs = np.dtype(getattr(glassnet, name)), getattr(torch, name)
    assert ours == torch.empty(0, dtype=theirs).numpy().dtype
    assert name in glassnet.__all__


def test_aliases_work_where_dtypes_are_taken():
    assert glassnet.tensor([1, 2], dtype=glassnet.long).dtype == np.int64
    assert glassnet.zeros(2, dtype=glassnet.double).dtype == np.float64
    assert glassnet.ones(2).to(glassnet.half).dtype == np.float16
    assert (glassnet.ones(2) > 0).to(glassnet.int).dtype == np.int32


def test_python_floats_with_a_dtype_are_not_rounded_through_the_default():
    # glassnet.tensor([0.1], dtype=float64) once went through float32 first: 0.10000000149...
    for make in (glassnet.tensor, glassnet.as_tensor, glassnet.Tensor):
        t = make([0.1, 1e-10], dtype=glassnet.float64)
        assert t.tolist() == [0.1, 1e-10]
        assert t.data.tolist() == torch.tensor([0.1, 1e-10], dtype=torch.float64).tolist()
    assert glassnet.tensor([0.1]).dtype == np.float32  # without a dtype: the default, as before


# Python data whose dtype PyTorch infers from its elements: NumPy scalars and arrays keep their
# dtype inside lists, Python scalars count as the default float / int64 / bool / complex, and
# the kinds promote as in torch.promote_types (a float beside int32 is the default float).
INFERRED = [
    [np.float64(1.0)],
    [[np.float64(1.0)], [2.0]],
    [1.0, np.float64(2.0)],
    [np.float32(1.0), 2.0],
    [np.int32(1)],
    [1, np.int32(2)],
    [np.int32(1), np.int8(2)],
    [np.uint8(1), np.int8(2)],
    [True, np.int8(1)],
    [np.int32(1), 2.0],
    [np.float16(1.0), 2],
    [np.float16(1.0), 2.0],
    [1j, np.float64(1.0)],
    [np.complex64(1j), 2.0],
    [1j],
    [np.array([1, 2], np.int32), [3, 4]],
    [[1, 2], [3.0, 4]],
    [[]],
    [True, False],
    (np.float32(1.0),),
    np.float64(2.0),
    2.5,
    7,
]


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("data", INFERRED, ids=repr)
def test_dtype_of_python_data_is_pytorchs(data, default):
    previous, previous_torch = glassnet.get_default_dtype(), torch.get_default_dtype()
    glassnet.set_default_dtype(default)
    torch.set_default_dtype(getattr(torch, default))
    try:
        with warnings.catch_warnings():  # torch: "a list of numpy.ndarrays is extremely slow"
            warnings.simplefilter("ignore", UserWarning)
            expected = torch.tensor(data).numpy().dtype
        for make in (glassnet.tensor, glassnet.as_tensor, glassnet.Tensor):
            assert make(data).dtype == expected, make
    finally:
        glassnet.set_default_dtype(previous)
        torch.set_default_dtype(previous_torch)


def test_tensors_inside_a_list_keep_their_dtype():
    t = glassnet.tensor([glassnet.tensor(1.0, dtype=glassnet.float64), glassnet.tensor(2.0)])
    assert t.dtype == np.float64 and t.tolist() == [1.0, 2.0]


PROMOTED = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": lambda a, b, m=None: (m or glassnet).maximum(a, b),
}


@pytest.mark.parametrize("a", PROMOTED)
@pytest.mark.parametrize("b", PROMOTED)
def test_promote_types_is_pytorchs(a, b):
    expected = torch.empty(0, dtype=torch.promote_types(getattr(torch, a), getattr(torch, b)))
    assert glassnet.promote_types(a, b) == expected.numpy().dtype


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("a", PROMOTED)
@pytest.mark.parametrize("b", PROMOTED)
def test_binary_ops_compute_in_pytorchs_result_type(op, a, b):
    """Dimensioned and 0-dim operands, and Python numbers: the dtype (or the refusal) of PyTorch."""
    run = BINARY[op]

    def theirs(x, y):
        return torch.maximum(x, y) if op == "maximum" else run(x, y)

    for sa, sb in [((2,), (2,)), ((2,), ()), ((), (2,)), ((), ())]:
        ta, tb = (torch.ones(s, dtype=getattr(torch, d)) for s, d in ((sa, a), (sb, b)))
        ga, gb = (glassnet.tensor(np.ones(s, d)) for s, d in ((sa, a), (sb, b)))
        want, got = _dtype_or_error(theirs, ta, tb), _dtype_or_error(run, ga, gb)
        assert got == want, (sa, sb, want, got)
        assert glassnet.result_type(ga, gb) == _np_dtype(torch.result_type(ta, tb))
        for number in (True, 2, 2.5):
            assert glassnet.result_type(ga, number) == _np_dtype(torch.result_type(ta, number))
            if op == "maximum":
                continue
            for pair in ((ta, number), (number, ta)):
                want = _dtype_or_error(theirs, *pair)
                got = _dtype_or_error(run, *(ga if p is ta else p for p in pair))
                assert got == want, (pair, want, got)


def _np_dtype(torch_dtype):
    return torch.empty(0, dtype=torch_dtype).numpy().dtype


def _dtype_or_error(run, *args):
    try:
        out = run(*args)
    except (TypeError, RuntimeError):
        return "error"
    return out.numpy().dtype if isinstance(out, torch.Tensor) else out.dtype


def test_mixed_dtype_gradients_come_back_in_each_operands_dtype():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)  # float32
    scale = glassnet.tensor(3.0, dtype=glassnet.float64, requires_grad=True)  # 0-dim: weak
    y = x * scale * glassnet.tensor([1, 2])  # int64 with dimensions: float still wins
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and scale.grad.dtype == np.float64
    assert x.grad.tolist() == [3.0, 6.0] and scale.grad.item() == 5.0


def test_bool_subtraction_and_negation_are_refused_as_in_pytorch():
    mask = glassnet.tensor([True, False])
    for run in (lambda: mask - 1, lambda: 1 - mask, lambda: -mask):
        with pytest.raises(TypeError, match="bool tensor is not supported.*use ~"):
            run()


@pytest.mark.parametrize("a", PROMOTED)
@pytest.mark.parametrize("b", PROMOTED)
def test_where_cat_and_stack_promote_as_pytorch(a, b):
    cond, tcond = glassnet.tensor([True, False]), torch.tensor([True, False])
    for sb in ((2,), ()):
        ta, tb = torch.ones(2, dtype=getattr(torch, a)), torch.ones(sb, dtype=getattr(torch, b))
        ga, gb = glassnet.tensor(np.ones(2, a)), glassnet.tensor(np.ones(sb, b))
        assert glassnet.where(cond, ga, gb).dtype == torch.where(tcond, ta, tb).numpy().dtype
    ta, tb = torch.ones(2, dtype=getattr(torch, a)), torch.ones(2, dtype=getattr(torch, b))
    ga, gb = glassnet.tensor(np.ones(2, a)), glassnet.tensor(np.ones(2, b))
    assert glassnet.cat([ga, gb]).dtype == torch.cat([ta, tb]).numpy().dtype
    assert glassnet.stack([ga, gb]).dtype == torch.stack([ta, tb]).numpy().dtype
    if a != b:
        with pytest.raises(TypeError, match=f"same dtype, got {a} @ {b}"):
            glassnet.matmul(ga, gb)


@pytest.mark.parametrize("a", PROMOTED)
@pytest.mark.parametrize("other", [True, 2, 2.5, "int64", "float64", "bool"])
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
def test_in_place_arithmetic_refuses_a_result_its_dtype_cannot_hold(a, other, op):
    """As PyTorch: no float result into an integer tensor, no integer into bool; else it casts."""

    def operand(lib):
        if not isinstance(other, str):
            return other
        return lib.ones(2, dtype=getattr(lib, other))

    theirs = torch.ones(2, dtype=getattr(torch, a))
    ours = glassnet.tensor(np.ones(2, a))
    try:
        getattr(theirs, op)(operand(torch))
    except RuntimeError:
        with pytest.raises(TypeError, match="cannot be cast to this tensor's|bool tensor is not"):
            getattr(ours, op)(operand(glassnet))
        return
    getattr(ours, op)(operand(glassnet))
    assert ours.dtype == theirs.numpy().dtype
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("a", PROMOTED)
@pytest.mark.parametrize("b", PROMOTED)
def test_can_cast_is_pytorchs(a, b):
    assert glassnet.can_cast(a, b) == torch.can_cast(getattr(torch, a), getattr(torch, b))
