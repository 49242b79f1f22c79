"""Locality: the input gradient of a conv output is non-zero exactly on its receptive field.

Three independent routes must agree for one and two conv layers on drawn geometries (kernel,
stride, padding, dilation): the gradient through the real backward pass, the dependency found by
perturbing every input value in turn (no gradients at all), and the receptive field composed
from the index formula; its span is the textbook 1 + sum (k_l - 1) d_l prod_{m<l} s_m.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.autograd.tensor import Tensor
from glassnet.diagnostics.receptive import (
    ConvGeometry,
    input_gradient_support,
    receptive_field,
    receptive_span,
)
from glassnet.ops import conv as C


def _stack(geoms_h, geoms_w, rng):
    ws = [rng.standard_normal((2, 2, gh.kernel, gw.kernel)) for gh, gw in zip(geoms_h, geoms_w)]

    def model(x):
        for w, gh, gw in zip(ws, geoms_h, geoms_w):
            x = C.conv2d(
                x,
                Tensor(w),
                stride=(gh.stride, gw.stride),
                padding=(gh.padding, gw.padding),
                dilation=(gh.dilation, gw.dilation),
            )
        return x

    return model


def _perturbation_support(model, x, out_index):
    """Which input positions change the output at out_index when changed (brute force)."""
    n_h, n_w = x.shape[2:]
    base = model(Tensor(x)).data[(0, slice(None), *out_index)]
    batch = np.repeat(x, n_h * n_w, axis=0)  # one copy of x per input position
    batch.reshape(n_h * n_w, 2, n_h * n_w)[np.arange(n_h * n_w), :, np.arange(n_h * n_w)] += 1.0
    moved = model(Tensor(batch)).data[(slice(None), slice(None), *out_index)]  # (HW, F)
    return (np.abs(moved - base) > 1e-9).any(axis=1).reshape(n_h, n_w)


geometry = st.builds(
    ConvGeometry,
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 3),
)


@settings(max_examples=40, deadline=None)
@given(
    layers=st.lists(st.tuples(geometry, geometry), min_size=1, max_size=2),
    n=st.integers(9, 14),
    pick=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    seed=st.integers(0, 2**16),
)
def test_gradient_support_is_the_receptive_field(layers, n, pick, seed):
    gh, gw = [g for g, _ in layers], [g for _, g in layers]
    size = [n, n]
    for a, b in layers:
        size = [a.out_size(size[0]), b.out_size(size[1])]
    if min(size) < 1 or any(g.padding >= g.dilation * (g.kernel - 1) + 1 for g in gh + gw):
        return  # an empty output, or padding no smaller than the kernel extent (PyTorch rejects)
    rng = np.random.default_rng(seed)
    model = _stack(gh, gw, rng)
    x = rng.standard_normal((1, 2, n, n))
    i, j = (min(int(p * s), s - 1) for p, s in zip(pick, size))
    rows, cols = receptive_field(gh, n, i), receptive_field(gw, n, j)
    want = np.zeros((n, n), bool)
    want[np.ix_(sorted(rows), sorted(cols))] = True
    grad = input_gradient_support(model, x, (i, j))
    np.testing.assert_array_equal(grad, want)
    np.testing.assert_array_equal(_perturbation_support(model, x, (i, j)), want)
    for stack, idx in ((gh, rows), (gw, cols)):  # unclipped: the span is the textbook formula
        if idx and min(idx) > 0 and max(idx) < n - 1 and all(g.padding == 0 for g in stack):
            assert max(idx) - min(idx) + 1 == receptive_span(stack)


def test_two_layers_see_further_than_one():
    """Depth widens the field: 3 then 5 inputs for two 3-wide kernels, 2 + 2*2 for stride 2."""
    one, two = [ConvGeometry(3)], [ConvGeometry(3), ConvGeometry(3)]
    assert sorted(receptive_field(one, 20, 5)) == [5, 6, 7]
    assert sorted(receptive_field(two, 20, 5)) == [5, 6, 7, 8, 9]
    strided = [ConvGeometry(3, stride=2), ConvGeometry(3)]
    assert receptive_span(strided) == 1 + 2 + 2 * 2
    assert sorted(receptive_field(strided, 30, 4)) == list(range(8, 15))
    dilated = [ConvGeometry(2, dilation=3), ConvGeometry(2)]  # gaps: {i, i+1, i+3, i+4}
    assert sorted(receptive_field(dilated, 20, 2)) == [2, 3, 5, 6]
    with pytest.raises(ValueError, match="index must be in"):
        receptive_field(one, 20, 18)
