"""multinomial and randperm (issue 21), and PyTorch's ``generator=`` beside ``rng=``.

The draws follow PyTorch's distributions, not its random stream, so these tests check shapes,
dtypes and errors against torch and the distributions against exact probabilities (chi-square
with a fixed seed: deterministic, and a broken sampler fails by a wide margin)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import glassnet

from ..helpers import torch


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("shape", [(5,), (3, 5), (0, 5)])
@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_shapes_and_dtype_as_torch(shape, replacement):
    p = np.random.default_rng(0).random(shape) + 0.1
    ours = glassnet.tensor(p).multinomial(4, replacement, rng=rng())
    theirs = torch.from_numpy(p).multinomial(4, replacement)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
    assert ours.requires_grad is False
    assert (
        glassnet.multinomial(glassnet.tensor(p, dtype=np.float32), 4, replacement).shape
        == ours.shape
    )


@given(
    w=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                 elements=st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0])),
    replacement=st.booleans(),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_multinomial_never_draws_zero_weights_and_without_replacement_is_distinct(
    w, replacement, seed
):
    w[:, 0] += 1.0  # every row has some weight
    nonzero = (w > 0).sum(axis=1).min()
    k = int(nonzero) if not replacement else 7
    draws = glassnet.multinomial(glassnet.tensor(w), k, replacement, rng=rng(seed)).data
    assert (np.take_along_axis(w, draws, axis=1) > 0).all()
    if not replacement:
        for row in draws:
            assert len(set(row.tolist())) == k


def test_multinomial_with_replacement_frequencies():
    p = np.array([0.1, 0.0, 0.2, 0.3, 0.4])
    draws = glassnet.multinomial(glassnet.tensor(p * 7), 40000, True, rng=rng(1)).data
    counts = np.bincount(draws, minlength=5)
    assert counts[1] == 0
    keep = p > 0
    assert stats.chisquare(counts[keep], 40000 * p[keep]).pvalue > 1e-3
    # batched rows draw independently from their own weights
    rows = glassnet.tensor(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]))
    assert (rows.multinomial(10, True, rng=rng(2)).data == [[0], [2]]).all()


def test_multinomial_without_replacement_matches_sequential_draws():
    # P(first = i, second = j) = p_i * p_j / (1 - p_i): draw, remove, renormalise
    p = np.array([0.5, 0.3, 0.15, 0.05])
    n = 40000
    draws = glassnet.multinomial(glassnet.tensor(np.tile(p, (n, 1))), 2, rng=rng(3)).data
    pairs = np.bincount(draws[:, 0] * 4 + draws[:, 1], minlength=16).reshape(4, 4)
    expect = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(expect, 0.0)
    assert np.diag(pairs).sum() == 0
    off = ~np.eye(4, dtype=bool)
    assert stats.chisquare(pairs[off], n * expect[off] / expect.sum()).pvalue > 1e-3
    # all categories: a permutation of them, weights summed to anything
    perm = glassnet.multinomial(glassnet.tensor(p * 100), 4, rng=rng(4)).data
    assert sorted(perm.tolist()) == [0, 1, 2, 3]


def test_multinomial_randomness_is_explicit():
    p = glassnet.tensor([0.2, 0.3, 0.5])
    a = glassnet.multinomial(p, 5, True, rng=rng(7)).tolist()
    assert glassnet.multinomial(p, 5, True, generator=rng(7)).tolist() == a
    assert p.multinomial(5, True, generator=rng(7)).tolist() == a
    glassnet.manual_seed(3)
    b = glassnet.multinomial(p, 5, True).tolist()
    glassnet.manual_seed(3)
    assert glassnet.multinomial(p, 5, True).tolist() == b
    with pytest.raises(TypeError, match="got both rng and generator"):
        glassnet.multinomial(p, 1, rng=rng(), generator=rng())
    with pytest.raises(
        TypeError, match=r"generator to be a numpy.random.Generator.*torch\._C\.Generator"
    ):
        glassnet.multinomial(p, 1, generator=torch.Generator().manual_seed(0))


MULTINOMIAL_ERRORS = [
    (np.ones((2, 2, 2)), 1, False, ValueError, r"shape \(C,\) or \(N, C\).*got \(2, 2, 2\)"),
    (np.array(1.0), 1, False, ValueError, r"got \(\)"),
    (np.array([1, 1]), 1, False, TypeError, "floating-point weights, got dtype int64"),
    (np.array([0.2, 0.8]), 0, False, ValueError, "num_samples >= 1, got 0"),
    (np.array([0.2, 0.8]), 2.0, False, TypeError, "int num_samples, got float"),
    (
        np.array([0.2, -0.1]),
        1,
        True,
        ValueError,
        r"finite non-negative weights, got -0.1 at \(1,\)",
    ),
    (np.array([[0.2, 1], [np.nan, 1]]), 1, True, ValueError, r"got nan at \(1, 0\)"),
    (np.array([np.inf, 1.0]), 1, True, ValueError, "got inf"),
    (np.array([[1.0, 0.0], [0.0, 0.0]]), 1, True, ValueError, "row 1 sums to 0"),
    (np.ones((2, 0)), 1, True, ValueError, "row 0 sums to 0"),
    (np.array([0.2, 0.3, 0.5]), 4, False, ValueError, r"num_samples <= 3 .*got 4"),
    # torch draws zero-weight categories here; glassnet refuses
    (np.array([0.0, 1.0, 0.0]), 2, False, ValueError, "only 1 of its categories"),
]


@pytest.mark.parametrize("p, k, replacement, error, match", MULTINOMIAL_ERRORS)
def test_multinomial_errors(p, k, replacement, error, match):
    with pytest.raises(error, match=match):
        glassnet.multinomial(glassnet.tensor(p), k, replacement)


def test_multinomial_replacement_flag_checked():
    with pytest.raises(TypeError, match="True or False for replacement"):
        glassnet.multinomial(glassnet.ones(2), 1, 1)


# ------------------------------------------------------------------------------ randperm
def test_randperm_as_torch():
    p = glassnet.randperm(10, rng=rng(0))
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    assert glassnet.randperm(10, generator=rng(0)).tolist() == p.tolist()
    assert glassnet.randperm(0).shape == (0,) and torch.randperm(0).shape == (0,)
    f = glassnet.randperm(4, dtype=glassnet.float32)
    assert f.dtype == np.float32 and sorted(f.tolist()) == [0.0, 1.0, 2.0, 3.0]
    glassnet.manual_seed(5)
    a = glassnet.randperm(20).tolist()
    glassnet.manual_seed(5)
    assert glassnet.randperm(20).tolist() == a
    with pytest.raises(ValueError, match="n >= 0, got -1"):
        glassnet.randperm(-1)
    with pytest.raises(TypeError, match="int n, got float"):
        glassnet.randperm(3.0)


def test_factories_take_torchs_generator_name():
    for make in (
        lambda **kw: glassnet.randn(3, **kw),
        lambda **kw: glassnet.rand(3, **kw),
        lambda **kw: glassnet.randint(0, 10, 3, **kw),
    ):
        assert make(generator=rng(9)).tolist() == make(rng=rng(9)).tolist()
        with pytest.raises(TypeError, match="got both rng and generator"):
            make(rng=rng(), generator=rng())
