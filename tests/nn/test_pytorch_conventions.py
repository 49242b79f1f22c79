"""PyTorch habits that every layer honours: forward's argument names, device= beside dtype=, the
dtype rule at the functional level, Linear with no input features, BatchNorm on an empty batch."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import assert_close, torch


def _layer_pairs():
    for name in nn.__all__:
        ours, theirs = getattr(nn, name), getattr(torch.nn, name, None)
        if (
            isinstance(ours, type)
            and issubclass(ours, nn.Module)
            and ours.forward is not nn.Module.forward
            and theirs is not None
        ):
            yield pytest.param(ours, theirs, id=name)


@pytest.mark.parametrize(("ours", "theirs"), list(_layer_pairs()))
def test_forward_takes_pytorchs_argument_names(ours, theirs):
    """``layer(input=x)``, ``rnn(input, hx=h)`` work as in PyTorch (glassnet may add more)."""
    names = list(inspect.signature(ours.forward).parameters)[1:]
    expected = list(inspect.signature(theirs.forward).parameters)[1:]
    assert names[: len(expected)] == expected


def test_linear_forward_by_keyword():
    layer = nn.Linear(3, 2)
    x = glassnet.ones(4, 3)
    assert_close(layer(input=x), layer(x))


def test_linear_with_no_input_features_gives_the_bias():
    """nn.Linear(0, 3) builds and gives zeros + bias, with gradients, as PyTorch."""
    layer = nn.Linear(0, 3).double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch: "Initializing zero-element tensors is a no-op"
        theirs = torch.nn.Linear(0, 3).double()
    layer.load_state_dict(theirs.state_dict())
    x = glassnet.zeros(4, 0, dtype=np.float64, requires_grad=True)
    tx = torch.zeros(4, 0, dtype=torch.float64, requires_grad=True)
    y, ty = layer(x), theirs(tx)
    assert_close(y, ty)
    assert_close(y, np.broadcast_to(layer.bias.data, (4, 3)))
    g = np.random.default_rng(0).standard_normal((4, 3))
    (y * glassnet.tensor(g)).sum().backward()
    (ty * torch.from_numpy(g)).sum().backward()
    assert_close(layer.bias.grad, theirs.bias.grad)
    assert layer.weight.grad.shape == (3, 0) and x.grad.shape == (4, 0)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: F.linear(glassnet.ones(2, 3, dtype=np.float64), glassnet.ones(4, 3)),
            r"linear expected input of dtype float32 .*got float64: .*\.float\(\).*\.double\(\)",
        ),
        (
            lambda: F.conv2d(
                glassnet.ones(1, 2, 4, 4, dtype=np.float64), glassnet.ones(3, 2, 2, 2)
            ),
            r"conv2d expected input of dtype float32 .*got float64",
        ),
        (
            lambda: F.linear(glassnet.tensor(np.ones((2, 3), np.int64)), glassnet.ones(4, 3)),
            r"linear expected input of dtype float32 .*got int64: convert the input with \.float",
        ),
        (
            lambda: F.batch_norm(
                glassnet.ones(4, 3, dtype=np.float64), None, None, glassnet.ones(3), training=True
            ),
            r"batch_norm expected input of dtype float32 .*got float64",
        ),
        (
            lambda: nn.Embedding(4, 3)(glassnet.zeros(2, dtype=np.float64)),
            r"Embedding expected integer indices .*float32 weight.*got float64.*\.long\(\)",
        ),
    ],
)
def test_functional_forms_follow_the_dtype_rule(call, pattern):
    with pytest.raises(TypeError, match=pattern):
        call()


def test_batchnorm_trains_on_an_empty_batch():
    """An empty batch in training: an empty result, running statistics kept, one more batch
    counted, zero parameter gradients (PyTorch's behaviour)."""
    bn = nn.BatchNorm2d(3).double()
    before = bn.state_dict()
    x = glassnet.zeros(0, 3, 2, 2, dtype=np.float64, requires_grad=True)
    y = bn(x)
    assert y.shape == (0, 3, 2, 2)
    y.sum().backward()
    assert_close(bn.running_mean, before["running_mean"])
    assert_close(bn.running_var, before["running_var"])
    assert int(bn.num_batches_tracked) == 1
    assert not bn.weight.grad.data.any() and not bn.bias.grad.data.any()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(glassnet.zeros(1, 3, 1, 1, dtype=np.float64))


def test_batchnorm_eps_must_be_positive_in_training_as_pytorch():
    x = glassnet.randn(4, 3)
    with pytest.raises(ValueError, match="eps > 0 in training"):
        nn.BatchNorm1d(3, eps=0.0)(x)
    F.batch_norm(x, glassnet.zeros(3), glassnet.ones(3), eps=0.0)  # eval: allowed, as PyTorch


@pytest.mark.parametrize(("ours", "theirs"), list(_layer_pairs()))
def test_layers_take_device_beside_dtype_as_pytorch(ours, theirs):
    names = list(inspect.signature(ours.__init__).parameters)
    torch_names = list(inspect.signature(theirs.__init__).parameters)
    assert ("device" in names) == ("dtype" in names)
    if "dtype" in names:
        assert names[names.index("dtype") - 1] == "device"
        if "device" in torch_names:  # (torch's RNN/LSTM/GRU take *args, **kwargs)
            before = names[names.index("device") - 1]
            assert torch_names[torch_names.index("device") - 1] == before or ours is nn.Embedding


def test_layers_built_on_the_cpu_or_refused_elsewhere():
    for device in ("cpu", "cpu:0", glassnet.device("cpu"), None):
        assert nn.Linear(2, 3, device=device).weight.device == glassnet.device("cpu")
        nn.Conv2d(1, 2, 3, device=device)
        nn.LSTM(2, 3, device=device, dtype=np.float64)
        nn.GRUCell(2, 3, device=device)
        nn.BatchNorm1d(3, device=device)
        nn.LayerNorm(3, device=device)
    for build in (
        lambda: nn.Linear(2, 3, device="cuda"),
        lambda: nn.ConvTranspose1d(1, 2, 3, device="cuda:0"),
        lambda: nn.RNN(2, 3, device="mps"),
        lambda: nn.InstanceNorm2d(3, device="cuda"),
        lambda: nn.PReLU(device="cuda"),
    ):
        with pytest.raises(RuntimeError, match="CPU-only build"):
            build()
