"""Optimizers and learning-rate schedulers with PyTorch's names, options and state dicts.

>>> import glassnet
>>> from glassnet import nn, optim
>>> net = nn.Linear(3, 1)
>>> opt = optim.Adam(net.parameters(), lr=1e-2)
>>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
>>> loss = (net(glassnet.ones(4, 3)) ** 2).mean()
>>> opt.zero_grad()
>>> loss.backward()
>>> opt.step()
>>> sched.step()
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
