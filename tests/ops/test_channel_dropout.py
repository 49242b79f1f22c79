"""dropout1d/2d/3d and Dropout1d/2d/3d: whole channels dropped and scaled, PyTorch's rules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import assert_close, check_grad, torch

TF = torch.nn.functional
FNS = {"dropout1d": (F.dropout1d, TF.dropout1d), "dropout2d": (F.dropout2d, TF.dropout2d)}
FNS["dropout3d"] = (F.dropout3d, TF.dropout3d)


# (input shape, number of leading axes that index a channel): unbatched 1-D and 3-D inputs have
# one, (C,); dropout2d takes a 3-D input as (N, C, L), as PyTorch
CASES = {
    ("dropout1d", False): ((3, 4, 5), 2),
    ("dropout1d", True): ((4, 5), 1),
    ("dropout2d", False): ((3, 4, 2, 3), 2),
    ("dropout2d", True): ((3, 4, 5), 2),
    ("dropout3d", False): ((3, 4, 2, 3, 2), 2),
    ("dropout3d", True): ((4, 2, 3, 2), 1),
}


@given(
    case=st.sampled_from(sorted(CASES)),
    p=st.sampled_from([0.2, 0.5, 0.9]),
    seed=st.integers(0, 2**16),
)
def test_whole_channels_are_zeroed_or_scaled_and_gradient_is_the_mask(case, p, seed):
    shape, lead = CASES[case]
    x = glassnet.tensor(np.random.default_rng(seed).uniform(1, 2, shape), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout2d on 3-D input warns, as PyTorch
        y = FNS[case[0]][0](x, p, rng=np.random.default_rng(seed))
    ratio = y.data / x.data  # 0 or 1/(1-p) everywhere
    kept = np.isclose(ratio, 1 / (1 - p), rtol=1e-12)
    assert np.all(kept | (ratio == 0))
    per_channel = kept.reshape(*shape[:lead], -1)  # (N, C, rest) or (C, rest)
    assert np.all(per_channel == per_channel[..., :1])  # one draw per channel
    dy = np.random.default_rng(seed + 1).standard_normal(shape)
    (y * glassnet.tensor(dy)).sum().backward()
    assert_close(x.grad, dy * kept / (1 - p))


def test_fraction_dropped_and_mean_preserved():
    x = glassnet.ones(400, 50, 3)
    y = F.dropout1d(x, 0.3, rng=np.random.default_rng(0))
    dropped = float((y.data[:, :, 0] == 0).mean())
    assert abs(dropped - 0.3) < 0.01  # 20000 channels: std of the fraction ~0.003
    assert abs(float(y.data.mean()) - 1.0) < 0.02


def test_identity_cases_and_p_one():
    x = glassnet.randn(2, 3, 4)
    assert F.dropout1d(x, 0.5, training=False) is x
    assert F.dropout2d(x.unsqueeze(0), 0.0) is not None
    assert_close(F.dropout1d(x, 0.0), x)
    assert np.all(F.dropout3d(glassnet.randn(2, 3, 2, 2, 2), 1.0).data == 0)
    assert F.dropout1d(glassnet.zeros(0, 3, 4), 0.5).shape == (0, 3, 4)


def test_rng_reproducible_and_gradcheck():
    x = glassnet.randn(4, 5, 6)
    a = F.dropout1d(x, 0.5, rng=np.random.default_rng(7))
    b = F.dropout1d(x, 0.5, rng=np.random.default_rng(7))
    assert_close(a, b)
    xs = np.random.default_rng(0).standard_normal((2, 3, 4))
    check_grad(lambda t: F.dropout1d(t, 0.4, rng=np.random.default_rng(1)), xs)


def _warnings_of(fn, x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(x, 0.5)
        except (ValueError, RuntimeError) as e:
            return "error", type(e)
    return "ok", len(caught)


@pytest.mark.parametrize("name", sorted(FNS))
@pytest.mark.parametrize("rank", [0, 1, 2, 3, 4, 5, 6])
def test_warnings_and_errors_by_rank_as_pytorch(name, rank):
    """Same outcome as PyTorch: the same number of warnings, or an error (ValueError for us)."""
    ours, theirs = FNS[name]
    shape = (2, 3, 2, 2, 2, 2)[:rank]
    got = _warnings_of(ours, glassnet.tensor(np.ones(shape)))
    want = _warnings_of(theirs, torch.ones(shape))
    assert got[0] == want[0]
    if got[0] == "error":
        assert got[1] is ValueError
    else:
        assert got[1] == want[1]


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout2d", "Dropout3d"])
def test_layers_train_eval_repr_and_errors(name):
    layer = getattr(nn, name)(0.25, rng=np.random.default_rng(0))
    assert repr(layer) == f"{name}(p=0.25)"
    rank = {"Dropout1d": 3, "Dropout2d": 4, "Dropout3d": 5}[name]
    x = glassnet.ones(*(4, 6, 2, 2, 2)[:rank])
    y = layer(x)
    assert set(np.unique(y.data)) <= {0.0, np.float32(1 / 0.75)}
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"probability p must be in \[0, 1\]"):
        getattr(F, name.lower())(x, 1.5)
    with pytest.raises(ValueError, match="probability"):
        getattr(nn, name)(-0.1)
    with pytest.raises(TypeError, match="Tensor input"):
        getattr(F, name.lower())(np.ones((2, 3, 4, 4)), 0.5)


def test_dropout1d_wrong_rank_names_the_input():
    with pytest.raises(ValueError, match=r"dropout1d expected input of shape \(N, C, L\) or"):
        F.dropout1d(glassnet.ones(2, 3, 4, 5))
