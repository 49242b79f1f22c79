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
