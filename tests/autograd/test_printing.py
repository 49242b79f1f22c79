"""Tensor printing: the same strings as PyTorch's repr for the same values and options."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet

from ..helpers import torch

_r = np.random.default_rng(0)

# (name, array) pairs printed by both libraries; float32 is the default dtype in both
CASES = [
    ("floats", np.array([1.5, -2.0, 3.25], np.float32)),
    ("integer-valued floats", np.array([1.0, 2.0, -3.0], np.float32)),
    ("sci for a wide ratio", np.array([1e-4, 1000.0], np.float32)),
    ("sci for a tiny value", np.array([1e-5, 1.0], np.float32)),
    ("sci for a small value, narrow range", np.array([5e-5, 1e-2], np.float32)),
    ("fixed just inside the ratio", np.array([0.01, 9.99], np.float32)),
    ("sci for a huge value", np.array([1e9, 2.0], np.float32)),
    ("integer-valued sci", np.array([1e9, 1.0], np.float32)),
    ("ints", np.array([1, -20, 300], np.int64)),
    ("large ints", np.array([123456789, 1], np.int64)),
    ("bools", np.array([True, False])),
    ("0-d float", np.array(3.14159, np.float32)),
    ("0-d int", np.array(5, np.int64)),
    ("0-d integer float", np.array(2.0, np.float32)),
    ("empty", np.zeros(0, np.float32)),
    ("empty 2-d", np.zeros((2, 0), np.float32)),
    ("empty int", np.zeros(0, np.int64)),
    ("non-finite", np.array([np.nan, np.inf, -np.inf, 1.5], np.float32)),
    ("non-finite integer mode", np.array([np.nan, 1.0, 2.0], np.float32)),
    ("all non-finite", np.array([np.nan, np.inf], np.float32)),
    ("zeros", np.zeros((2, 2), np.float32)),
    ("negative zero", np.array([-0.0, 1.0], np.float32)),
    ("float64", np.array([1.0, 2.5])),
    ("float16", np.array([1.0, 2.5], np.float16)),
    ("int32", np.array([1, 2], np.int32)),
    ("uint8", np.array([1, 200], np.uint8)),
    ("matrix", _r.standard_normal((3, 4)).astype(np.float32)),
    ("3-d", _r.standard_normal((2, 3, 4)).astype(np.float32)),
    ("4-d", _r.standard_normal((2, 1, 2, 3)).astype(np.float32)),
    ("wrapped vector", _r.standard_normal(30).astype(np.float32)),
    ("wrapped ints", np.arange(60, dtype=np.int64) * 1001),
    ("summarised vector", np.arange(2000, dtype=np.float32)),
    ("summarised ints", np.arange(2000, dtype=np.int64)),
    ("summarised matrix", _r.standard_normal((40, 40)).astype(np.float32)),
    ("summarised 3-d", _r.standard_normal((20, 10, 10)).astype(np.float32)),
    ("summarised wide rows", _r.standard_normal((3, 500)).astype(np.float32)),
    ("float64 matrix", _r.standard_normal((2, 3)) * 1e5),
]


def _torch_repr(t) -> str:
    return repr(t).replace("dtype=torch.", "dtype=")


@pytest.mark.parametrize("name, a", CASES, ids=[c[0] for c in CASES])
def test_repr_matches_torch(name, a):
    assert repr(glassnet.tensor(a)) == _torch_repr(torch.tensor(a))


@pytest.mark.parametrize("shape", [(3,), (8,), (2, 3), (12,)])
def test_requires_grad_and_grad_fn_suffixes_match_torch(shape):
    a = _r.standard_normal(shape).astype(np.float32)
    ours = glassnet.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    assert repr(ours) == _torch_repr(theirs)
    assert repr(ours * 2) == _torch_repr(theirs * 2)  # grad_fn=<MulBackward0>, wrapping
    assert repr(ours.exp().sum()) == _torch_repr(theirs.exp().sum())
    d = glassnet.tensor(a.astype(np.float64), requires_grad=True)
    td = torch.tensor(a.astype(np.float64), requires_grad=True)
    assert repr(d + 1.0) == _torch_repr(td + 1.0)


def test_parameter_repr_matches_torch():
    a = np.array([[0.5, -1.25]], np.float32)
    ours = glassnet.nn.Parameter(a)
    theirs = torch.nn.Parameter(torch.tensor(a))
    assert repr(ours) == _torch_repr(theirs)


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"sci_mode": True},
        {"sci_mode": False},
        {"threshold": 5},
        {"threshold": 5, "edgeitems": 1},
        {"threshold": 5, "edgeitems": 0},
        {"linewidth": 40},
        {"profile": "short"},
        {"profile": "full"},
    ],
    ids=str,
)
def test_set_printoptions_matches_torch(options):
    arrays = [
        np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        np.array([1e-5, 1.0, 123.0], np.float32),
        np.arange(10, dtype=np.int64),
        _r.standard_normal((40, 40)).astype(np.float32),
    ]
    before = glassnet.get_printoptions()
    try:
        glassnet.set_printoptions(**options)
        torch.set_printoptions(**options)
        for a in arrays:
            assert repr(glassnet.tensor(a)) == _torch_repr(torch.tensor(a))
    finally:
        glassnet.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert glassnet.get_printoptions() == before


def test_printoptions_context_restores_and_default_dtype_suffix():
    x = glassnet.tensor([1.12345])
    with glassnet.printoptions(precision=1):
        assert repr(x) == "tensor([1.1])"
    assert repr(x) == "tensor([1.1235])"
    with pytest.raises(ValueError, match="profile must be one of"):
        glassnet.set_printoptions(profile="tiny")
    glassnet.set_default_dtype(np.float64)
    try:  # the default dtype prints no suffix, the other float does (as torch)
        assert repr(glassnet.tensor([1.5])) == "tensor([1.5000])"
        assert repr(glassnet.tensor(np.array([1.5], np.float32))) == (
            "tensor([1.5000], dtype=float32)"
        )
    finally:
        glassnet.set_default_dtype(np.float32)
