"""unfold / fold (im2col / col2im) and their layers: parity, adjoint, conv identity, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional


@st.composite
def block_config(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    spatial = tuple(
        max(1, di * (ki - 1) + 1 - 2 * pi) + draw(st.integers(0, 4)) for ki, di, pi in zip(k, d, p)
    )
    lead = draw(st.sampled_from([(), (1,), (2,)]))  # () unbatched
    shape = (*lead, draw(st.integers(1, 3)), *spatial)
    kw = dict(kernel_size=k, dilation=d, padding=p, stride=s)
    if draw(st.booleans()):  # ints for every argument
        kw = {name: v[0] for name, v in kw.items()}
        shape = (*lead, shape[len(lead)], spatial[0], spatial[0])
    return shape, kw, draw(st.integers(0, 2**16))


def n_blocks(spatial, kw):
    def pair(v):
        return v if isinstance(v, tuple) else (v, v)

    k, d, p, s = (pair(kw[n]) for n in ("kernel_size", "dilation", "padding", "stride"))
    return [
        (n + 2 * pi - di * (ki - 1) - 1) // si + 1 for n, ki, di, pi, si in zip(spatial, k, d, p, s)
    ]


@given(cfg=block_config())
def test_unfold_and_fold_parity(cfg):
    shape, kw, seed = cfg
    x = np.random.default_rng(seed).standard_normal(shape)
    parity(lambda t: F.unfold(t, **kw), lambda t: TF.unfold(t, **kw), x, seed=seed)
    cols = TF.unfold(torch.tensor(x), **kw).numpy()
    size = shape[-2:]
    parity(lambda t: F.fold(t, size, **kw), lambda t: TF.fold(t, size, **kw), cols, seed=seed)


@given(cfg=block_config())
def test_fold_is_the_adjoint_of_unfold(cfg):
    """<unfold(x), y> = <x, fold(y)>: two different forwards, one linear map and its adjoint."""
    shape, kw, seed = cfg
    r = np.random.default_rng(seed)
    x = r.standard_normal(shape)
    cols = F.unfold(glassnet.tensor(x), **kw)
    spatial = shape[-2:]
    assert cols.shape[-1] == math.prod(n_blocks(spatial, kw))  # the L formula
    y = r.standard_normal(cols.shape)
    back = F.fold(glassnet.tensor(y), spatial, **kw)
    assert np.isclose((cols.data * y).sum(), (x * back.data).sum(), rtol=1e-12, atol=1e-12)


def test_unfold_matches_the_naive_reference():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    kh, kw_, dh, dw, ph, pw, sh, sw = 2, 3, 2, 1, 1, 2, 2, 1
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    oh, ow = n_blocks(
        (5, 6), dict(kernel_size=(kh, kw_), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))
    )
    want = np.empty((2, 3 * kh * kw_, oh * ow))
    for c, i, j, a, b in itertools.product(range(3), range(kh), range(kw_), range(oh), range(ow)):
        want[:, (c * kh + i) * kw_ + j, a * ow + b] = xp[:, c, a * sh + i * dh, b * sw + j * dw]
    got = F.unfold(glassnet.tensor(x), (kh, kw_), (dh, dw), (ph, pw), (sh, sw))
    assert_close(got, want, 0, 0)


def test_unfold_is_the_convolutions_im2col():
    r = np.random.default_rng(0)
    x, w = r.standard_normal((2, 3, 7, 6)), r.standard_normal((4, 3, 3, 2))
    kw = dict(dilation=(1, 2), padding=1, stride=(2, 1))
    cols = F.unfold(glassnet.tensor(x), (3, 2), **kw)  # (N, C K, L)
    y = F.conv2d(glassnet.tensor(x), glassnet.tensor(w), **kw)
    assert_close(glassnet.tensor(w.reshape(4, -1)) @ cols, y.reshape(2, 4, -1), 1e-12, 1e-12)


def test_fold_sums_overlaps():
    ones = glassnet.ones(1, 1, 4, 5)
    count = F.fold(F.unfold(ones, 3, padding=1), (4, 5), 3, padding=1).data[0, 0]
    want = np.array([[4, 6, 6, 6, 4], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [4, 6, 6, 6, 4]])
    assert_close(count, want, 0, 0)  # blocks covering each pixel


def test_gradchecks():
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 5))
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1))
    check_grad(lambda t: F.unfold(t, **kw), x)
    cols = F.unfold(glassnet.tensor(x), **kw).data
    check_grad(lambda t: F.fold(t, (4, 5), **kw), cols)


def test_layers_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    ours, theirs = (
        nn.Unfold((2, 3), padding=1, stride=(1, 2)),
        torch.nn.Unfold((2, 3), padding=1, stride=(1, 2)),
    )
    assert repr(ours) == repr(theirs)
    parity(ours, theirs, x)
    cols = theirs(torch.tensor(x)).numpy()
    ours, theirs = (
        nn.Fold((5, 4), (2, 3), padding=1, stride=(1, 2)),
        torch.nn.Fold((5, 4), (2, 3), padding=1, stride=(1, 2)),
    )
    assert repr(ours) == repr(theirs)
    parity(ours, theirs, cols)
    parity(ours, theirs, cols[0])  # unbatched


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: F.unfold(glassnet.ones(2, 3, 5), 2, 1, 0, 1), None, None),  # (C, H, W): fine
        (
            lambda: F.unfold(glassnet.ones(1, 2, 3, 4, 5), 2),
            ValueError,
            r"\(N, C, H, W\) or \(C, H, W\)",
        ),
        (lambda: F.unfold(glassnet.ones(2, 0, 4, 4), 2), ValueError, "non-empty C, H and W"),
        (lambda: F.unfold(glassnet.ones(1, 1, 3, 3), 4), ValueError, r"\(0, 0\) sliding blocks"),
        (
            lambda: F.unfold(glassnet.ones(1, 1, 3, 3), (2, 2, 2)),
            TypeError,
            "kernel_size as an int or a tuple of 2",
        ),
        (
            lambda: F.unfold(glassnet.ones(1, 1, 3, 3), 2, padding=-1),
            ValueError,
            "non-negative padding",
        ),
        (lambda: F.unfold(glassnet.ones(1, 1, 3, 3), 2, stride=0), ValueError, "positive stride"),
        (
            lambda: F.unfold(glassnet.ones(1, 1, 3, 3), 2, dilation=1.0),
            TypeError,
            "dilation as an int",
        ),
        (
            lambda: F.fold(glassnet.ones(2, 12, 15), (5, 5), 2),
            ValueError,
            "16 sliding blocks, but the input has L = 15",
        ),
        (
            lambda: F.fold(glassnet.ones(2, 13, 16), (5, 5), 2),
            ValueError,
            "divisible by kernel_size product 2 \\* 2 = 4",
        ),
        (
            lambda: F.fold(glassnet.ones(2, 12, 16, 1), (5, 5), 2),
            ValueError,
            r"\(N, C \* k_h \* k_w, L\)",
        ),
        (lambda: F.fold(glassnet.ones(2, 12, 16), 0, 2), ValueError, "positive output_size"),
        (lambda: F.fold(np.ones((2, 12, 16)), 5, 2), None, None),  # arrays are accepted
        (lambda: F.unfold([[1.0]], 1), TypeError, "Tensor"),
    ],
)
def test_errors_name_the_argument(call, err, match):
    if err is None:
        call()
        return
    with pytest.raises(err, match=match):
        call()
