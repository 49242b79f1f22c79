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
