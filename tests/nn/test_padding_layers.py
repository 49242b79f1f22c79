"""Padding layers: PyTorch's own module_db samples, constructor forms, unbatched input, errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import nn

from ..helpers import assert_close, torch

common_modules = pytest.importorskip("torch.testing._internal.common_modules")

PADS = [
    f"{kind}Pad{d}d"
    for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
    for d in (1, 2, 3)
]
INFOS = {m.name.removeprefix("nn."): m for m in common_modules.module_db}


def _np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else x


def module_db_samples(name):
    info = INFOS[name]
    for training in (True, False):
        for s in info.module_inputs_func(
            info, device="cpu", dtype=torch.float64, requires_grad=True, training=training
        ):
            yield training, s


@pytest.mark.parametrize("name", PADS)
def test_module_db_samples(name):
    """Every sample PyTorch ships for the layer: forward and input gradient, train and eval."""
    count = 0
    for training, sample in module_db_samples(name):
        c, f = sample.constructor_input, sample.forward_input
        theirs = getattr(torch.nn, name)(*c.args, **c.kwargs).train(training)
        ours = getattr(nn, name)(*c.args, **c.kwargs).train(training)
        assert ours.state_dict() == {} and repr(ours) == repr(theirs)
        t_in = [a.detach().clone().requires_grad_() for a in f.args]
        g_in = [glassnet.tensor(_np(a), requires_grad=True) for a in f.args]
        y_t, y_g = theirs(*t_in, **f.kwargs), ours(*g_in, **f.kwargs)
        assert_close(y_g, y_t)
        v = np.random.default_rng(count).standard_normal(tuple(y_t.shape))
        (y_t * torch.tensor(v)).sum().backward()
        (y_g * glassnet.tensor(v)).sum().backward()
        for a, b in zip(g_in, t_in):
            assert_close(a.grad, b.grad)
        count += 1
    assert count >= 4


@pytest.mark.parametrize("name", PADS)
def test_constructor_forms_and_unbatched_input(name):
    d = int(name[-2])
    extra = (0.5,) if name.startswith("Constant") else ()
    pad = tuple(range(1, 2 * d + 1))
    ours, theirs = getattr(nn, name)(pad, *extra), getattr(torch.nn, name)(pad, *extra)
    assert ours.padding == theirs.padding and repr(ours) == repr(theirs)
    assert getattr(nn, name)(2, *extra).padding == (2,) * (2 * d)
    x = np.random.default_rng(0).standard_normal((2,) + (2 * d + 1,) * d)  # unbatched (C, *S)
    assert_close(ours(glassnet.tensor(x)), theirs(torch.tensor(x)))
    with pytest.raises(TypeError, match=f"padding as an int or a tuple of {2 * d} ints"):
        getattr(nn, name)((1,) * (2 * d + 1), *extra)
    with pytest.raises(TypeError, match="padding as an int"):
        getattr(nn, name)(1.5, *extra)


@pytest.mark.parametrize("kind", ["Reflection", "Replication", "Circular"])
def test_non_constant_layers_check_the_rank(kind):
    layer = getattr(nn, f"{kind}Pad2d")(1)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\) or \(C, H, W\)"):
        layer(glassnet.ones(4, 4))
    with pytest.raises(ValueError, match=r"got \(1, 1, 1, 4, 4\)"):
        layer(glassnet.ones(1, 1, 1, 4, 4))
    with pytest.raises(TypeError, match="Tensor input"):
        layer(np.ones((1, 4, 4)))


def test_constant_layers_pad_any_rank_as_pytorch():
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 4, 5))
    for layer, ref in [
        (nn.ZeroPad1d((1, -2)), torch.nn.ZeroPad1d((1, -2))),
        (nn.ConstantPad2d((0, 1, 2, 0), -1.0), torch.nn.ConstantPad2d((0, 1, 2, 0), -1.0)),
    ]:
        assert_close(layer(glassnet.tensor(x)), ref(torch.tensor(x)))
    assert nn.ZeroPad2d(1)(glassnet.ones(3, 3)).shape == (5, 5)  # (H, W) is fine, as PyTorch
    with pytest.raises(ValueError, match="at most 2 values per input dimension"):
        nn.ZeroPad3d(1)(glassnet.ones(3, 3))


def test_padding_layers_in_a_network_train():
    model = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(2, 3, 3), nn.CircularPad2d((0, 1, 1, 0)))
    x = glassnet.randn(2, 2, 5, 5)
    y = model(x)
    assert y.shape == (2, 3, 6, 6)
    y.sum().backward()
    assert model[1].weight.grad is not None
