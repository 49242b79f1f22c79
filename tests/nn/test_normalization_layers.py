"""LayerNorm, GroupNorm, InstanceNorm1d/2d/3d: PyTorch parity through state_dict, buffers, repr."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn

from ..helpers import assert_close, parity, torch
from .test_pool_norm_layers import _randomise  # random weights and statistics, copied to torch

INSTANCE = {
    "InstanceNorm1d": [(3, 3, 5), (3, 7)],
    "InstanceNorm2d": [(2, 3, 4, 3), (3, 2, 5)],
    "InstanceNorm3d": [(2, 3, 2, 3, 2), (3, 2, 2, 3)],
}


def _pair(name, *args, **kw):
    ours = getattr(nn, name)(*args, **kw).double()
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    return ours, theirs


def _steps_then_eval(ours, theirs, shapes, r, seed):
    """Three training steps (forward, input and parameter gradients, buffers), then evaluation."""
    for step in range(3):
        shape = shapes[step % len(shapes)]
        parity(ours, theirs, r.standard_normal(shape) * 2 + 0.5, seed=seed + step)
        for a, b in zip(ours.parameters(), theirs.parameters()):
            assert_close(a.grad, b.grad)
            a.grad, b.grad = None, None
    sd, sd_t = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(sd_t)
    for k in sd:
        assert_close(sd[k], sd_t[k].numpy(), rtol=1e-12)
        assert sd[k].dtype == sd_t[k].numpy().dtype, k
    ours.eval()
    theirs.eval()
    parity(ours, theirs, r.standard_normal(shapes[0]), seed=seed + 9)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert_close(a.grad, b.grad)


@given(
    name=st.sampled_from(sorted(INSTANCE)),
    momentum=st.sampled_from([0.1, None, 0.7]),
    options=st.sampled_from(
        [
            {},
            {"affine": True},
            {"affine": True, "bias": False},
            {"track_running_stats": True},
            {"affine": True, "track_running_stats": True, "eps": 0.3},
        ]
    ),
    seed=st.integers(0, 2**16),
)
def test_instance_norm_training_steps_then_eval(name, momentum, options, seed):
    r = np.random.default_rng(seed)
    ours, theirs = _pair(name, 3, momentum=momentum, **options)
    _randomise(ours, theirs, r)
    _steps_then_eval(ours, theirs, INSTANCE[name], r, seed)


@given(
    shape=st.sampled_from([((4,), (2, 3, 4)), ((3, 4), (2, 3, 4)), ((2, 2, 3), (3, 2, 2, 3))]),
    options=st.sampled_from([{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 0.1}]),
    seed=st.integers(0, 2**16),
)
def test_layer_norm_training_steps_then_eval(shape, options, seed):
    r = np.random.default_rng(seed)
    norm_shape, x_shape = shape
    ours, theirs = _pair("LayerNorm", list(norm_shape), **options)
    _randomise(ours, theirs, r)
    _steps_then_eval(ours, theirs, [x_shape, (1, *x_shape[1:])], r, seed)


@given(
    groups=st.sampled_from([(1, 4), (2, 4), (4, 4), (3, 6)]),
    options=st.sampled_from([{}, {"affine": False}, {"bias": False}, {"eps": 0.2}]),
    rank=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_group_norm_training_steps_then_eval(groups, options, rank, seed):
    r = np.random.default_rng(seed)
    g, c = groups
    ours, theirs = _pair("GroupNorm", g, c, **options)
    _randomise(ours, theirs, r)
    shape = (3, c) + (2,) * (rank - 2)
    _steps_then_eval(ours, theirs, [shape], r, seed)


def test_instance_norm_buffers_keys_and_defaults():
    inorm = nn.InstanceNorm2d(4)
    assert inorm.weight is None and inorm.running_mean is None
    assert list(inorm.state_dict()) == []
    tracked = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
    assert list(tracked.state_dict()) == list(
        torch.nn.InstanceNorm2d(4, affine=True, track_running_stats=True).state_dict()
    )
    tracked(glassnet.randn(2, 4, 3, 3))
    assert int(tracked.num_batches_tracked) == 0  # PyTorch's instance norm never counts
    assert tracked.weight.dtype == np.float32 and tracked.running_var.dtype == np.float32
    tracked.reset_parameters()
    assert np.all(tracked.running_var.data == 1) and np.all(tracked.weight.data == 1)


def test_momentum_none_leaves_running_stats_unchanged_as_pytorch():
    ours = nn.InstanceNorm1d(2, momentum=None, track_running_stats=True)
    ours(glassnet.randn(3, 2, 6))
    assert np.all(ours.running_mean.data == 0) and np.all(ours.running_var.data == 1)


def test_unbatched_equals_a_batch_of_one():
    x = glassnet.randn(3, 4, 5).double()
    for layer in (nn.InstanceNorm2d(3, affine=True).double(), nn.InstanceNorm1d(4).double()):
        xx = x if isinstance(layer, nn.InstanceNorm2d) else x[0]
        assert_close(layer(xx), layer(xx.unsqueeze(0)).squeeze(0))


def test_channel_mismatch_warns_without_affine_as_pytorch():
    x = np.random.default_rng(0).standard_normal((2, 5, 6))
    with pytest.warns(UserWarning, match="num_features"):
        y = nn.InstanceNorm1d(3).double()(glassnet.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y_t = torch.nn.InstanceNorm1d(3).double()(torch.tensor(x))
    assert_close(y, y_t)
    for kw in ({"affine": True}, {"track_running_stats": True}):
        with pytest.raises(ValueError, match=r"3 channels \(num_features\) in dimension 1"):
            nn.InstanceNorm1d(3, **kw)(glassnet.tensor(x))


@pytest.mark.parametrize(
    ("name", "args", "kw"),
    [
        ("LayerNorm", (5,), {}),
        ("LayerNorm", ([2, 3],), {"eps": 1e-3, "elementwise_affine": False}),
        ("LayerNorm", ((4,),), {"bias": False}),
        ("GroupNorm", (2, 4), {}),
        ("GroupNorm", (3, 6, 0.1, False), {}),
        ("GroupNorm", (1, 2), {"bias": False}),
        ("InstanceNorm1d", (3,), {}),
        ("InstanceNorm2d", (3,), {"affine": True, "momentum": None}),
        ("InstanceNorm3d", (3, 1e-3, 0.2, True, True), {"bias": False}),
    ],
)
def test_repr_and_state_dict_keys_match_pytorch(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in ours.state_dict().items():
        assert v.shape == tuple(theirs.state_dict()[k].shape)


@pytest.mark.parametrize(
    ("layer", "shape", "match"),
    [
        (nn.LayerNorm(5), (4, 6), r"\(\*, 5\)"),
        (nn.GroupNorm(2, 6), (4, 4, 5), r"\(N, 6, \*\) \(num_channels=6\), got \(4, 4, 5\)"),
        (nn.GroupNorm(2, 6, affine=False), (4, 3, 5), "divisible by num_groups=2"),
        (nn.InstanceNorm1d(3), (4, 3, 5, 5), r"\(N, C, L\) or \(C, L\), got \(4, 3, 5, 5\)"),
        (nn.InstanceNorm2d(3), (3, 5), r"\(N, C, H, W\) or \(C, H, W\)"),
        (nn.InstanceNorm3d(3), (3, 5, 5), r"\(N, C, D, H, W\) or \(C, D, H, W\)"),
        (nn.InstanceNorm1d(3), (3, 1), "more than 1 spatial element"),
    ],
)
def test_layer_input_errors(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(glassnet.zeros(*shape))
    with pytest.raises(TypeError, match="Tensor input"):
        layer(np.zeros(shape))


def test_constructor_errors():
    for call, match in [
        (lambda: nn.GroupNorm(4, 6), "num_channels divisible by num_groups"),
        (lambda: nn.GroupNorm(0, 6), "positive int num_groups"),
        (lambda: nn.GroupNorm(2, 0), "positive int num_channels"),
        (lambda: nn.LayerNorm([]), "non-empty normalized_shape"),
        (lambda: nn.LayerNorm(-1), "positive int normalized_shape"),
        (lambda: nn.LayerNorm(4, eps=-1.0), "non-negative eps"),
        (lambda: nn.InstanceNorm1d(0), "positive int num_features"),
        (lambda: nn.InstanceNorm2d(3, momentum=2.0), "momentum"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(TypeError, match="normalized_shape"):
        nn.LayerNorm(None)
