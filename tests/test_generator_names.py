"""PyTorch's ``generator=`` is accepted wherever glassnet takes ``rng=`` and PyTorch a generator."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import nn
from glassnet.data import DataLoader, TensorDataset


def _same(draw):
    a = draw(rng=np.random.default_rng(3))
    b = draw(generator=np.random.default_rng(3))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
             "kaiming_normal_", "orthogonal_"],
)  # fmt: skip
def test_init_functions_take_generator(name):
    fn = getattr(nn.init, name)
    _same(lambda **kw: fn(glassnet.empty(4, 5), **kw).data.copy())
    with pytest.raises(TypeError, match="both rng and generator"):
        fn(glassnet.empty(4, 5), rng=np.random.default_rng(0), generator=np.random.default_rng(0))


def test_tensor_fills_and_dataloader_take_generator():
    _same(lambda **kw: glassnet.empty(6).uniform_(-1, 1, **kw).data.copy())
    _same(lambda **kw: glassnet.empty(6).normal_(0, 2, **kw).data.copy())
    ds = TensorDataset(np.arange(10.0))
    _same(lambda **kw: [b[0].data for b in DataLoader(ds, 3, shuffle=True, **kw)][0])
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, 3, shuffle=True, generator=object())
