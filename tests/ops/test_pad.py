"""F.pad: PyTorch parity (negative widths too), a naive reference, gradchecks, adjoint, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet.ops.shape import pad_source_index

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional
MODES = ["constant", "reflect", "replicate", "circular"]


def accepted(shape, pad, mode):
    """Whether PyTorch pads ``shape`` by ``pad`` (and gives defined values)."""
    k = len(pad) // 2
    for axis in range(k):
        n = shape[-1 - axis]
        b, a = pad[2 * axis], pad[2 * axis + 1]
        kept = n - max(-b, 0) - max(-a, 0)
        if n + b + a < 1:  # empty results: PyTorch refuses some (reflect, replicate)
            return False
        if mode == "reflect" and max(b, a) >= n:
            return False
        if mode == "circular" and (kept < 1 or max(b, a) > kept):
            return False  # PyTorch raises, or wraps into uninitialised memory
        if mode == "constant" and kept < 0:
            return False
    return True


@st.composite
def pad_config(draw, mode=None):
    mode = mode or draw(st.sampled_from(MODES))
    k = draw(st.integers(1, 3))
    lead = draw(st.integers(0, 2) if mode == "constant" else st.integers(1, 2))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(lead)) + tuple(
        draw(st.integers(1, 5)) for _ in range(k)
    )
    pad = tuple(draw(st.integers(-3, 4)) for _ in range(2 * k))
    assume(accepted(shape, pad, mode))
    value = draw(st.sampled_from([0.0, 1.5, -2.0])) if mode == "constant" else None
    seed = draw(st.integers(0, 2**16))
    return mode, np.random.default_rng(seed).standard_normal(shape), pad, value, seed


def naive_pad(x, pad, mode, value=0.0):
    """Output position by position: output j of an axis reads input j - before (PyTorch's rule)."""
    k = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    y = np.empty(out_shape)

    def source(j, n, b, a):
        i = j - b
        if mode == "constant":
            return i if 0 <= i < n else None
        if mode == "replicate":
            return min(max(i, 0), n - 1)
        if mode == "reflect":
            while not 0 <= i < n:  # bounce off the edge samples
                i = -i if i < 0 else 2 * (n - 1) - i
            return i
        lo = max(-b, 0)  # circular: crop first, then wrap around what is left
        kept = n - lo - max(-a, 0)
        return lo + (j - max(b, 0)) % kept

    for out in itertools.product(*(range(m) for m in out_shape)):
        src = [source(j, n, b, a) for j, n, (b, a) in zip(out, x.shape, widths)]
        y[out] = value if None in src else x[tuple(src)]
    return y


# ---------------------------------------------------------------------------- parity
@given(cfg=pad_config())
def test_pad_parity_with_torch(cfg):
    mode, x, pad, value, seed = cfg
    kw = {} if value is None else {"value": value}
    parity(lambda t: F.pad(t, pad, mode, **kw), lambda t: TF.pad(t, pad, mode, **kw), x, seed=seed)


CROPS = [(-1, 2), (2, -1), (-2, -2), (-3, 1), (1, -4), (4, 0), (-4, 3), (0, -4)]


@pytest.mark.parametrize("mode", MODES)
def test_pad_parity_on_crops_mixed_with_padding(mode):
    """Where crop-then-pad and pad-then-crop differ (circular crops first, reflect after)."""
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    for pad in CROPS:
        if accepted(x.shape, pad, mode):
            parity(lambda t, p=pad: F.pad(t, p, mode), lambda t, p=pad: TF.pad(t, p, mode), x)
    x2 = np.random.default_rng(1).standard_normal((1, 2, 3, 4))
    parity(lambda t: F.pad(t, (-1, 2, 1, -1), mode), lambda t: TF.pad(t, (-1, 2, 1, -1), mode), x2)


@given(cfg=pad_config())
def test_pad_matches_the_naive_reference(cfg):
    mode, x, pad, value, _ = cfg
    got = F.pad(glassnet.tensor(x), pad, mode, value)
    assert_close(got, naive_pad(x, pad, mode, 0.0 if value is None else value), 0, 0)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("n, before, after", [(5, 2, 3), (4, 3, 0), (1, 0, 2), (3, 3, 3)])
def test_pad_source_index_is_what_the_forward_copies(mode, n, before, after):
    assume_ok = mode != "reflect" or max(before, after) < n
    if not assume_ok or (mode == "circular" and max(before, after) > n):
        return
    x = np.arange(float(n))[None]
    y = F.pad(glassnet.tensor(x), (before, after), mode).data[0]
    assert_close(y, x[0, pad_source_index(n, before, after, mode)], 0, 0)


@given(cfg=pad_config())
def test_pad_backward_is_the_adjoint(cfg):
    """<pad(x), v> = <x, pad^T v> (value 0: padding is linear)."""
    mode, x, pad, _, seed = cfg
    v = np.random.default_rng(seed + 1).standard_normal(F.pad(glassnet.tensor(x), pad, mode).shape)
    t = glassnet.tensor(x, requires_grad=True)
    y = F.pad(t, pad, mode)
    (y * glassnet.tensor(v)).sum().backward()
    assert np.isclose((y.data * v).sum(), (x * t.grad.data).sum(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "mode, pad",
    [
        ("constant", (2, -1, -1, 3)),
        ("reflect", (3, -2, 1, 2)),
        ("replicate", (-2, 4, 3, -1)),
        ("circular", (2, -1, -1, 3)),
    ],
)
def test_pad_gradcheck(mode, pad):
    x = np.random.default_rng(0).standard_normal((2, 4, 5))
    check_grad(lambda t: F.pad(t, pad, mode), x)


def test_pad_keeps_dtype_and_pads_integers():
    y = F.pad(glassnet.ones(2, 3), (1, 1), value=2.0)
    assert y.dtype == np.float32
    ints = F.pad(glassnet.tensor(np.zeros((2, 3), np.int64)), (1, 1), value=2.7)
    assert_close(ints, TF.pad(torch.zeros(2, 3, dtype=torch.int64), (1, 1), value=2.7), 0, 0)
    empty = F.pad(glassnet.ones(0, 3), (2, 1), mode="circular")  # as PyTorch: (0, 6)
    assert empty.shape == (0, 6)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "shape, pad, kw, err, match",
    [
        ((1, 1, 3), (1.5, 1), {}, TypeError, r"pad as a tuple of ints, got \(1.5, 1\)"),
        ((1, 1, 3), 2, {}, TypeError, "pad as a tuple of ints, got 2"),
        ((1, 1, 3), (1,), {}, ValueError, "even number of values"),
        ((1, 1, 3), (1, 1), dict(mode="wrap"), ValueError, "mode must be one of"),
        ((1, 1, 3), (1, 1), dict(mode="reflect", value=1.0), ValueError, "takes no value"),
        ((2, 3), (1,) * 6, {}, ValueError, r"at most 2 values per input dimension.*\(2, 3\)"),
        ((3,), (1, 1), dict(mode="reflect"), ValueError, r"2 or 3 dimensions, got shape \(3,\)"),
        ((2, 3, 4, 5), (1, 1), dict(mode="replicate"), ValueError, "2 or 3 dimensions"),
        ((2, 3), (1,) * 4, dict(mode="circular"), ValueError, "3 or 4 dimensions"),
        ((1, 2, 3, 4, 5, 6), (1,) * 8, dict(mode="reflect"), ValueError, "last 1, 2 or 3"),
        ((1, 1, 3), (3, 0), dict(mode="reflect"), ValueError, "smaller than the dimension size 3"),
        ((1, 1, 3), (0, 4), dict(mode="circular"), ValueError, "wrap around more than once"),
        ((1, 1, 4), (3, -2), dict(mode="circular"), ValueError, "size 2.*after cropping"),
        ((1, 1, 3), (-4, 1), {}, ValueError, r"crops more than the size 3 of dimension 2"),
        ((1, 1, 3), (-5, 1), dict(mode="replicate"), ValueError, "crops more than the size 3"),
        ((2, 0), (1, 1), dict(mode="replicate"), ValueError, "replicate padding of an empty"),
    ],
)
def test_pad_errors_name_the_argument(shape, pad, kw, err, match):
    with pytest.raises(err, match=match):
        F.pad(glassnet.ones(*shape), pad, **kw)
    with pytest.raises(TypeError, match="Tensor input"):
        F.pad(np.ones(3), (1, 1))


def test_differences_from_pytorch_listed_in_docs():
    """docs/pytorch.md: empty results PyTorch refuses; circular crops it answers with garbage."""
    for shape, pad, mode in [((2, 0, 3), (1, 1), "reflect"), ((1, 1, 3), (-2, -1), "replicate")]:
        with pytest.raises(RuntimeError):
            TF.pad(torch.ones(shape), pad, mode=mode)
        assert F.pad(glassnet.ones(*shape), pad, mode).data.size == 0
    with pytest.raises(ValueError, match="wrap around more than once"):
        F.pad(glassnet.ones(1, 1, 4), (3, -2), mode="circular")
