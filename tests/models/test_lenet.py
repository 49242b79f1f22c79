"""LeNet: shapes, PyTorch parity through state_dict, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.models import LeNet
from tests.helpers import assert_close, torch


def _torch_lenet(net: LeNet, batch_norm: bool) -> object:
    tnn = torch.nn
    feats: list = []
    c_in = net.in_channels
    for c in net.channels:
        feats.append(tnn.Conv2d(c_in, c, net.kernel_size, padding=net.kernel_size // 2))
        if batch_norm:
            feats.append(tnn.BatchNorm2d(c))
        feats += [tnn.ReLU(), tnn.MaxPool2d(2)]
        c_in = c
    side = net.image_size // 2 ** len(net.channels)
    head: list = [tnn.Flatten()]
    width = c_in * side * side
    for h in (*net.hidden, net.num_classes):
        head += [tnn.Linear(width, h), tnn.ReLU()]
        width = h
    head.pop()

    class T(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = tnn.Sequential(*feats)
            self.classifier = tnn.Sequential(*head)

        def forward(self, x):
            return self.classifier(self.features(x))

    return T().double()


@pytest.mark.parametrize(
    ("image_size", "kw"),
    [(8, {}), (28, {}), (8, {"batch_norm": True}), (12, {"channels": (4, 8, 8), "hidden": ()})],
)
def test_lenet_matches_torch(image_size, kw):
    net = LeNet(2, 5, image_size=image_size, rng=np.random.default_rng(0), **kw).double()
    tnet = _torch_lenet(net, kw.get("batch_norm", False))
    tnet.load_state_dict({k: torch.tensor(v) for k, v in net.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((3, 2, image_size, image_size))
    xg = glassnet.tensor(x)
    out = net(xg)
    tout = tnet(torch.tensor(x))
    assert out.shape == (3, 5)
    assert_close(out, tout, rtol=1e-9, atol=1e-10)
    g = np.random.default_rng(2).standard_normal(out.shape)
    (out * glassnet.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    tparams = dict(tnet.named_parameters())
    for name, p in net.named_parameters():
        assert_close(p.grad, tparams[name].grad, rtol=1e-8, atol=1e-10)


def test_lenet_defaults_and_dropout():
    net = LeNet(rng=np.random.default_rng(0))  # MNIST size, LeNet-5 widths, 5x5 kernels
    assert net.kernel_size == 5
    assert net.features[0].weight.shape == (6, 1, 5, 5)
    assert net.classifier[1].weight.shape == (120, 16 * 7 * 7)
    assert net(glassnet.zeros(2, 1, 28, 28)).shape == (2, 10)
    drop = LeNet(image_size=8, dropout=0.5, rng=np.random.default_rng(0))
    x = glassnet.randn(4, 1, 8, 8)
    drop.eval()
    assert_close(drop(x), drop(x))  # no dropout in eval mode


def test_lenet_errors():
    net = LeNet(image_size=8)
    with pytest.raises(
        ValueError, match=r"LeNet expected input of shape \(N, 1, 8, 8\), got \(2, 1, 28, 28\)"
    ):
        net(glassnet.zeros(2, 1, 28, 28))
    with pytest.raises(TypeError, match="floating-point images"):
        net(glassnet.tensor(np.zeros((2, 1, 8, 8), np.uint8)))
    with pytest.raises(TypeError, match="Tensor input"):
        net(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match="too small"):
        LeNet(image_size=3)
    with pytest.raises(ValueError, match="in_channels"):
        LeNet(in_channels=0)
    with pytest.raises(ValueError, match="dropout"):
        LeNet(dropout=1.0)
