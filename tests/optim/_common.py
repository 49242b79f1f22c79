"""A small model and data shared by the optimizer tests, in glassnet and in torch."""

from __future__ import annotations

from typing import Any

import numpy as np

import glassnet
from glassnet import nn

from ..helpers import torch

N, D, H, F = 12, 4, 6, 3


def models(seed: int = 0) -> tuple[nn.Module, Any]:
    """Linear -> Tanh -> Linear in float64, the torch copy loaded through state_dict."""
    net = nn.Sequential(
        nn.Linear(D, H, rng=np.random.default_rng(seed)),
        nn.Tanh(),
        nn.Linear(H, F, rng=np.random.default_rng(seed + 1)),
    ).double()
    ref = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, F))
    ref = ref.double()
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in net.state_dict().items()})
    return net, ref


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(100 + seed)
    return r.standard_normal((N, D)), r.standard_normal((N, F))


def loss_ours(net: nn.Module, x: np.ndarray, y: np.ndarray) -> glassnet.Tensor:
    return ((net(glassnet.tensor(x)) - glassnet.tensor(y)) ** 2).mean()


def loss_torch(ref: Any, x: np.ndarray, y: np.ndarray) -> Any:
    return ((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()


def train_ours(net: nn.Module, opt: Any, steps: int, seed: int = 0, sched: Any = None) -> None:
    """``steps`` steps, each on its own batch (batch i of the seeded data stream)."""
    for i in range(steps):
        x, y = data(seed + i)
        opt.zero_grad()
        loss_ours(net, x, y).backward()
        opt.step()
        if sched is not None:
            sched.step()


def train_torch(ref: Any, opt: Any, steps: int, seed: int = 0, sched: Any = None) -> None:
    for i in range(steps):
        x, y = data(seed + i)
        opt.zero_grad()
        loss_torch(ref, x, y).backward()
        opt.step()
        if sched is not None:
            sched.step()
