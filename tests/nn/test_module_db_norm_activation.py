"""PyTorch's own module test inputs (``module_db``) for the normalisation and activation layers.

For every ``module_db`` entry of LayerNorm, GroupNorm, InstanceNorm1d/2d/3d, SiLU, Softplus,
Hardtanh, ReLU6, PReLU and Mish, in training and in evaluation mode: build PyTorch's module
and ours from the same constructor arguments, copy the weights through ``state_dict``, and
compare (float64, 1e-10 relative) the forward, the input gradients, every parameter gradient
and the buffers after the forward. No case is skipped.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet
from glassnet import nn

from ..helpers import assert_close, backward_random, torch

common_modules = pytest.importorskip("torch.testing._internal.common_modules")

LAYERS = [
    "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "SiLU", "Softplus", "Hardtanh", "ReLU6", "PReLU", "Mish",
]  # fmt: skip


def _cases():
    infos = {m.module_cls.__name__: m for m in common_modules.module_db}
    out = []
    for name in LAYERS:
        info = infos[name]
        for training in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                samples = info.module_inputs_func(
                    info, device="cpu", dtype=torch.float64, requires_grad=True, training=training
                )
            for i, s in enumerate(samples):
                mode = "train" if training else "eval"
                out.append(pytest.param(name, training, s, id=f"{name}-{mode}-{i}-{s.desc}"))
    return out


def _to_ours(v):
    if isinstance(v, torch.Tensor):
        return glassnet.tensor(v.detach().numpy().copy(), requires_grad=v.requires_grad)
    return v


def _tensors(obj):
    if isinstance(obj, (glassnet.Tensor, torch.Tensor)):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    return []


@pytest.mark.parametrize(("name", "training", "sample"), _cases())
def test_module_db_case(name, training, sample):
    cin, fin = sample.constructor_input, sample.forward_input
    theirs = getattr(torch.nn, name)(*cin.args, **cin.kwargs).double().train(training)
    ours = getattr(nn, name)(*cin.args, **cin.kwargs).double().train(training)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    r = np.random.default_rng(0)
    sd = {  # random parameters (not only PyTorch's ones/zeros) and positive variances
        k: (
            torch.tensor(r.uniform(0.5, 2, tuple(v.shape)))
            if "var" in k
            else torch.tensor(r.standard_normal(tuple(v.shape)))
        )
        if v.is_floating_point()
        else v
        for k, v in theirs.state_dict().items()
    }
    theirs.load_state_dict(sd)
    ours.load_state_dict(sd)
    args_t = [
        a.detach().clone().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor) else a
        for a in fin.args
    ]
    args_g = [_to_ours(a) for a in args_t]
    out_t = theirs(*args_t, **fin.kwargs)
    out_g = ours(*args_g, **{k: _to_ours(v) for k, v in fin.kwargs.items()})
    outs_t, outs_g = _tensors(out_t), _tensors(out_g)
    assert len(outs_t) == len(outs_g) and all(t.requires_grad for t in outs_t)
    for k, v in theirs.state_dict().items():  # running statistics after the forward
        assert_close(ours.state_dict()[k], v.numpy(), rtol=1e-12)
    backward_random(outs_g, outs_t, r)  # outputs equal, then the same random upstream grads
    for a, b in zip(args_g, args_t):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert_close(a.grad, b.grad)
    params_t = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        assert_close(p.grad, params_t[k].grad)
    assert len(params_t) == len(dict(ours.named_parameters()))
