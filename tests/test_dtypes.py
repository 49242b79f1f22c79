"""PyTorch's dtype names exist and mean what they mean in PyTorch."""

from __future__ import annotations

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
