"""pixel_shuffle / pixel_unshuffle and their layers: parity, naive reference, inverse, errors."""

from __future__ import annotations

import itertools

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
def shuffle_config(draw):
    r = draw(st.integers(1, 3))
    lead = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2))))
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return r, lead, c, h, w, seed


@given(cfg=shuffle_config())
def test_pixel_shuffle_and_unshuffle_parity(cfg):
    r, lead, c, h, w, seed = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, c * r * r, h, w))
    parity(lambda t: F.pixel_shuffle(t, r), lambda t: TF.pixel_shuffle(t, r), x, seed=seed)
    z = rng.standard_normal((*lead, c, h * r, w * r))
    parity(lambda t: F.pixel_unshuffle(t, r), lambda t: TF.pixel_unshuffle(t, r), z, seed=seed)
    # each is the other's inverse (so, permutations, each the other's adjoint)
    assert_close(F.pixel_unshuffle(F.pixel_shuffle(glassnet.tensor(x), r), r), x, 0, 0)


def test_pixel_shuffle_matches_the_naive_reference():
    r, c, h, w = 3, 2, 2, 4
    x = np.random.default_rng(0).standard_normal((2, c * r * r, h, w))
    want = np.empty((2, c, h * r, w * r))
    for ci, hi, wi, i, j in itertools.product(range(c), range(h), range(w), range(r), range(r)):
        want[:, ci, hi * r + i, wi * r + j] = x[:, ci * r * r + i * r + j, hi, wi]
    assert_close(F.pixel_shuffle(glassnet.tensor(x), r), want, 0, 0)
    assert_close(F.pixel_unshuffle(glassnet.tensor(want), r), x, 0, 0)


def test_pixel_shuffle_gradcheck():
    x = np.random.default_rng(0).standard_normal((2, 8, 2, 3))
    check_grad(lambda t: F.pixel_shuffle(t, 2), x)
    check_grad(lambda t: F.pixel_unshuffle(t, 2), x[:, :, :2, :2])


def test_layers_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 18, 2, 3))
    for ours, theirs in [
        (nn.PixelShuffle(3), torch.nn.PixelShuffle(3)),
        (nn.PixelUnshuffle(1), torch.nn.PixelUnshuffle(1)),
    ]:
        assert repr(ours) == repr(theirs)
        parity(ours, theirs, x)
    parity(nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), x[:, :, :, :2])


@pytest.mark.parametrize(
    "fn, shape, r, err, match",
    [
        (F.pixel_shuffle, (1, 6, 2, 2), 2, ValueError, r"divisible by upscale_factor\^2 = 4"),
        (F.pixel_shuffle, (8, 2), 2, ValueError, r"at least 3 dimensions.*got \(8, 2\)"),
        (F.pixel_shuffle, (1, 4, 2, 2), 0, ValueError, "positive upscale_factor"),
        (F.pixel_shuffle, (1, 4, 2, 2), 2.0, TypeError, "upscale_factor to be an int"),
        (F.pixel_unshuffle, (1, 1, 4, 3), 2, ValueError, r"divisible by downscale_factor = 2"),
        (F.pixel_unshuffle, (4, 4), 2, ValueError, "at least 3 dimensions"),
        (F.pixel_unshuffle, (1, 1, 4, 4), True, TypeError, "downscale_factor to be an int"),
    ],
)
def test_errors_name_the_argument(fn, shape, r, err, match):
    with pytest.raises(err, match=match):
        fn(glassnet.ones(*shape), r)
