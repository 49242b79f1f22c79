"""Pooling and batch-norm layers: PyTorch parity through state_dict, buffers, repr, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn

from ..helpers import assert_close, parity, torch

SHAPES = {
    "BatchNorm1d": [(6, 3), (4, 3, 5)],
    "BatchNorm2d": [(3, 3, 4, 2)],
    "BatchNorm3d": [(2, 3, 2, 3, 2)],
}


def _pair(name, **kw):
    ours = getattr(nn, name)(3, **kw).double()
    theirs = getattr(torch.nn, name)(3, **kw).double()
    return ours, theirs


def _randomise(ours, theirs, r):
    """Random weights and running statistics, copied from ours into theirs via state_dict."""
    sd = ours.state_dict()
    for k, v in sd.items():
        if v.dtype == np.float64:
            sd[k] = r.standard_normal(v.shape) if k != "running_var" else r.uniform(0.5, 2, v.shape)
    ours.load_state_dict(sd)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})


@given(
    name=st.sampled_from(sorted(SHAPES)),
    momentum=st.sampled_from([0.1, None, 0.7]),
    options=st.sampled_from(
        [{}, {"affine": False}, {"bias": False}, {"track_running_stats": False}, {"eps": 0.3}]
    ),
    seed=st.integers(0, 2**16),
)
def test_batchnorm_training_steps_then_eval(name, momentum, options, seed):
    r = np.random.default_rng(seed)
    ours, theirs = _pair(name, momentum=momentum, **options)
    _randomise(ours, theirs, r)
    shape = SHAPES[name][seed % len(SHAPES[name])]
    for _ in range(3):  # several training steps: batch statistics and running updates
        parity(ours, theirs, r.standard_normal(shape) * 2 + 0.5, seed=seed)
        for a, b in zip(ours.parameters(), theirs.parameters()):
            assert_close(a.grad, b.grad)
            a.grad, b.grad = None, None
    sd_t = theirs.state_dict()
    sd = ours.state_dict()
    assert list(sd) == list(sd_t)
    for k in sd:
        assert_close(sd[k], sd_t[k].numpy(), rtol=1e-12)
        assert sd[k].dtype == sd_t[k].numpy().dtype, k
    ours.eval()
    theirs.eval()
    parity(ours, theirs, r.standard_normal(shape), seed=seed + 1)


def test_batchnorm_buffers_keys_and_dtypes():
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert (
        bn.weight.dtype == np.float32 and np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    )
    bn.double()
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    assert list(nn.BatchNorm1d(2, affine=False).state_dict()) == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert list(nn.BatchNorm1d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]
    # PyTorch state_dicts load directly
    t = torch.nn.BatchNorm2d(4)
    t.train()
    t(torch.randn(3, 4, 2, 2))
    bn.load_state_dict(t.state_dict())
    assert int(bn.num_batches_tracked) == 1
    assert_close(bn.running_mean, t.running_mean.double())


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    r = np.random.default_rng(2)
    batches = [r.standard_normal((5, 2)) + i for i in range(4)]
    for x in batches:
        bn(glassnet.tensor(x))
    assert int(bn.num_batches_tracked) == 4
    assert_close(bn.running_mean, np.mean([x.mean(0) for x in batches], axis=0))
    assert_close(bn.running_var, np.mean([x.var(0, ddof=1) for x in batches], axis=0))
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked) == 0 and np.all(bn.running_var.data == 1)


def test_batchnorm_eval_uses_running_stats_and_train_flag():
    bn = nn.BatchNorm2d(3).double()
    x = glassnet.tensor(np.random.default_rng(3).standard_normal((2, 3, 4, 4)))
    bn.eval()
    assert_close(bn(x), x.data / np.sqrt(1 + 1e-5))  # running mean 0, var 1
    assert int(bn.num_batches_tracked) == 0
    bn.train()
    bn(x)
    assert int(bn.num_batches_tracked) == 1


def test_batchnorm_repr_matches_pytorch():
    for kw in [{}, {"affine": False}, {"momentum": None, "eps": 1e-3}, {"bias": False}]:
        assert repr(nn.BatchNorm2d(5, **kw)) == repr(torch.nn.BatchNorm2d(5, **kw))


@pytest.mark.parametrize(
    ("layer", "shape", "match"),
    [
        (nn.BatchNorm1d(3), (2, 3, 4, 4), r"\(N, C\) or \(N, C, L\), got \(2, 3, 4, 4\)"),
        (nn.BatchNorm1d(3), (6,), r"\(N, C\) or \(N, C, L\)"),
        (nn.BatchNorm2d(3), (2, 3, 4), r"\(N, C, H, W\), got \(2, 3, 4\)"),
        (nn.BatchNorm3d(3), (2, 3, 4, 4), r"\(N, C, D, H, W\)"),
        (nn.BatchNorm2d(3), (2, 4, 5, 5), "3 channels"),
        (nn.BatchNorm1d(3), (1, 3), "more than 1 value per channel"),
    ],
)
def test_batchnorm_clear_errors(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(glassnet.zeros(*shape))


def test_batchnorm_constructor_errors():
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=1.5)


# ---------------------------------------------------------------------------- pooling layers
POOL_CASES = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 9)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": (1, 2)}, (2, 3, 7, 9)),
    ("MaxPool3d", ((2, 3, 2),), {"stride": 1}, (1, 2, 3, 4, 5)),
    ("AvgPool1d", (4,), {"stride": 3, "padding": 2, "count_include_pad": False}, (2, 3, 9)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 8, 7)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (2, 3, 6, 6)),
    ("AvgPool3d", (2,), {"stride": 1, "padding": 1, "count_include_pad": False}, (1, 2, 3, 4, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (2, 3, 7, 9)),
    ("AdaptiveAvgPool3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((5, 2),), {}, (2, 3, 7, 9)),
    ("AdaptiveMaxPool3d", ((2, None, 3),), {}, (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize(("name", "args", "kw", "shape"), POOL_CASES)
def test_pool_layer_parity_and_repr(name, args, kw, shape):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    parity(ours, theirs, np.random.default_rng(4).standard_normal(shape))
    # unbatched input as well
    parity(ours, theirs, np.random.default_rng(5).standard_normal(shape[1:]))


@pytest.mark.parametrize("name", ["MaxPool2d", "AdaptiveMaxPool2d"])
def test_pool_layers_return_indices(name):
    arg = 2 if name == "MaxPool2d" else (3, 2)
    ours = getattr(nn, name)(arg, return_indices=True)
    theirs = getattr(torch.nn, name)(arg, return_indices=True)
    parity(ours, theirs, np.random.default_rng(6).standard_normal((2, 3, 6, 5)))


def test_pool_layers_in_a_model():
    net = nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2, stride=1), nn.AdaptiveAvgPool2d(1))
    ref = torch.nn.Sequential(
        torch.nn.MaxPool2d(2), torch.nn.AvgPool2d(2, stride=1), torch.nn.AdaptiveAvgPool2d(1)
    )
    parity(net, ref, np.random.default_rng(7).standard_normal((2, 3, 8, 8)))


def test_pool_layer_errors():
    with pytest.raises(ValueError, match="half the kernel size"):
        nn.MaxPool2d(2, padding=2)(glassnet.zeros(1, 1, 6, 6))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        nn.AvgPool2d(2)(glassnet.zeros(6, 6))
    with pytest.raises(ValueError, match="too small"):
        nn.MaxPool1d(5)(glassnet.zeros(1, 1, 4))
