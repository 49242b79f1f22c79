import numpy as np

import glassnet
from glassnet import nn

from .helpers import parity, torch


def test_linear_relu_parity():
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    ref = torch.nn.Sequential(
        torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)
    ).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    parity(net, ref, np.random.default_rng(1).standard_normal((6, 4)))
    assert glassnet.__version__
