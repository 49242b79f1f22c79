"""DataLoader's PyTorch worker options: accepted, checked as PyTorch checks them, and loading
stays serial (same batches, order and random draws for any num_workers)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.data import DataLoader, Dataset, TensorDataset

from ..helpers import torch


class _Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.array([i, i * i], np.float64), i


@pytest.mark.parametrize("dataset", [TensorDataset(np.arange(14.0).reshape(7, 2)), _Squares()])
def test_worker_options_give_the_same_batches(dataset):
    plain = DataLoader(dataset, batch_size=3, shuffle=True, rng=np.random.default_rng(1))
    workers = DataLoader(
        dataset,
        batch_size=3,
        shuffle=True,
        rng=np.random.default_rng(1),
        num_workers=4,
        pin_memory=True,
        prefetch_factor=3,
        persistent_workers=True,
    )
    for _ in range(2):  # two epochs: the shuffles stay in step
        a, b = list(plain), list(workers)
        assert len(a) == len(b) == 3
        for x, y in zip(a, b):
            for u, v in zip(x, y):
                np.testing.assert_array_equal(u.data, v.data)
    assert (workers.num_workers, workers.pin_memory, workers.persistent_workers) == (4, True, True)
    assert workers.prefetch_factor == 3


def test_worker_defaults_and_checks_as_torch():
    ds = TensorDataset(np.zeros((4, 1)))
    tds = torch.utils.data.TensorDataset(torch.zeros(4, 1))
    for kw in [{}, {"num_workers": 2}, {"num_workers": 2, "prefetch_factor": 0}]:
        ours, theirs = DataLoader(ds, **kw), torch.utils.data.DataLoader(tds, **kw)
        assert ours.prefetch_factor == theirs.prefetch_factor
        assert ours.num_workers == theirs.num_workers and ours.pin_memory == theirs.pin_memory
    bad = [
        ({"num_workers": -1}, ValueError, "num_workers must be >= 0"),
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor applies only with num_workers > 0"),
        ({"num_workers": 1, "prefetch_factor": -1}, ValueError, "prefetch_factor must be >= 0"),
        ({"persistent_workers": True}, ValueError, "persistent_workers=True needs num_workers"),
    ]
    for kw, err, msg in bad:
        with pytest.raises(err, match=msg):
            DataLoader(ds, **kw)
        with pytest.raises(ValueError):  # torch refuses the same options
            torch.utils.data.DataLoader(tds, **kw)
    with pytest.raises(TypeError, match="num_workers must be an int"):
        DataLoader(ds, num_workers=1.5)  # torch only fails later, when it starts workers


def test_serial_loading_keeps_the_package_generator_in_step():
    ds = TensorDataset(np.arange(6.0))
    glassnet.manual_seed(5)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=2, shuffle=True, num_workers=3)]
    glassnet.manual_seed(5)
    b = [b[0].tolist() for b in DataLoader(ds, batch_size=2, shuffle=True)]
    assert a == b
