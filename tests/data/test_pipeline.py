"""Dataset, TensorDataset, Subset, random_split, DataLoader and default_collate."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


class ListDataset(Dataset):
    """A plain (non-Tensor) dataset: forces the per-sample collate path."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def _ids(loader):
    """The sample ids an epoch visits, in order (the first field holds the id)."""
    return np.concatenate([batch[0].data.reshape(len(batch[0].data), -1)[:, 0] for batch in loader])


# ----------------------------------------------------------------------------- Dataset
def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()  # type: ignore[abstract]

    class OnlyGetitem(Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError):
        OnlyGetitem()  # type: ignore[abstract]


def test_tensor_dataset_items_and_dtypes():
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    y = np.array([3, 1, 2, 0], dtype=np.int64)
    ds = TensorDataset(X, glassnet.from_numpy(y), [0.5, 1.5, 2.5, 3.5])
    assert len(ds) == 4
    a, b, c = ds[2]
    assert isinstance(a, glassnet.Tensor) and a.shape == (3,) and a.dtype == np.float64
    np.testing.assert_array_equal(a.data, X[2])
    assert int(b.item()) == 2 and b.dtype == np.int64
    assert c.dtype == glassnet.get_default_dtype() and float(c.item()) == 2.5
    assert ds[-1][1].item() == 0
    assert ds.arrays[0] is X  # not copied
    assert [t.shape for t in ds.tensors] == [(4, 3), (4,), (4,)]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same first dimension, got shapes \(4, 3\), \(5,\)"):
        TensorDataset(np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="argument 1 must have a sample dimension"):
        TensorDataset(np.zeros(3), np.float64(1.0))
    ds = TensorDataset(np.zeros(3))
    with pytest.raises(IndexError, match="index 3 is out of range for 3 samples"):
        ds[3]
    with pytest.raises(TypeError, match="index must be an int"):
        ds[1.0]  # type: ignore[index]


def test_subset_and_random_split():
    ds = TensorDataset(np.arange(10))
    sub = Subset(ds, [7, -1, 2])
    assert [int(sub[i][0].item()) for i in range(len(sub))] == [7, 9, 2]
    with pytest.raises(IndexError, match="Subset indices"):
        Subset(ds, [10])
    parts = random_split(ds, [0.7, 0.2, 0.1], rng=np.random.default_rng(0))
    assert [len(p) for p in parts] == [7, 2, 1]
    allidx = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(allidx), np.arange(10))  # disjoint and complete
    again = random_split(ds, [7, 2, 1], rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again[0].indices, parts[0].indices)
    with pytest.raises(ValueError, match="sum to len"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])


# ----------------------------------------------------------------------------- collate
def test_default_collate_types():
    X, y = default_collate([(np.zeros(3, np.float64), 1), (np.ones(3, np.float64), 2)])
    assert X.shape == (2, 3) and X.dtype == np.float64
    assert y.dtype == np.int64 and y.tolist() == [1, 2]
    f = default_collate([0.5, 1.5])
    assert f.dtype == glassnet.get_default_dtype() and f.tolist() == [0.5, 1.5]
    assert default_collate([True, False]).dtype == np.bool_
    u8 = default_collate([np.uint8(3), np.uint8(4)])
    assert u8.dtype == np.uint8  # NumPy dtypes are kept, as PyTorch keeps them
    t = default_collate([glassnet.tensor([1.0, 2.0]), glassnet.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and t.dtype == np.float32
    d = default_collate([{"x": np.zeros(2), "name": "a"}, {"x": np.ones(2), "name": "b"}])
    assert d["x"].shape == (2, 2) and d["name"] == ["a", "b"]
    lst = default_collate([[1, 2.0], [3, 4.0]])
    assert isinstance(lst, list) and lst[0].dtype == np.int64


def test_default_collate_keeps_named_tuples():
    class Pair(NamedTuple):
        image: np.ndarray
        label: int

    batch = default_collate([Pair(np.zeros((2, 2)), 1), Pair(np.ones((2, 2)), 0)])
    assert isinstance(batch, Pair)
    assert batch.image.shape == (2, 2, 2) and batch.label.tolist() == [1, 0]


def test_default_collate_errors():
    with pytest.raises(ValueError, match=r"one shape.*shapes \(2,\), \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="same number of fields"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="non-empty"):
        default_collate([])


# ----------------------------------------------------------------------------- DataLoader
def test_loader_sequential_batches_and_len():
    ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    loader = DataLoader(ds, batch_size=2)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].shape == (2, 2) and batches[0][0].dtype == np.float64
    dropped = DataLoader(ds, batch_size=2, drop_last=True)
    assert len(dropped) == 2 and [b[1].tolist() for b in dropped] == [[0, 1], [2, 3]]
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 1
    assert len(DataLoader(ds, batch_size=7, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=7, drop_last=True)) == []


@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 12),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_loader_shuffle_covers_every_sample_once(n, batch_size, drop_last, seed):
    ds = TensorDataset(np.arange(n), np.arange(n) * 10.0)
    loader = DataLoader(
        ds, batch_size, shuffle=True, drop_last=drop_last, rng=np.random.default_rng(seed)
    )
    for _ in range(2):  # two epochs
        batches = list(loader)
        assert len(batches) == len(loader)
        sizes = [len(b[0].data) for b in batches]
        assert all(s == batch_size for s in sizes[:-1])
        seen = np.concatenate([b[0].data for b in batches]) if batches else np.zeros(0, int)
        if drop_last:
            assert len(seen) == (n // batch_size) * batch_size
            assert len(set(seen.tolist())) == len(seen)
        else:
            np.testing.assert_array_equal(np.sort(seen), np.arange(n))
        for x, y in batches:  # fields stay aligned
            np.testing.assert_array_equal(y.data, x.data * 10.0)


def test_loader_shuffle_reproducible_with_rng_and_manual_seed():
    ds = TensorDataset(np.arange(50))

    def epochs(loader, k=3):
        return [_ids(loader).tolist() for _ in range(k)]

    a = epochs(DataLoader(ds, 8, shuffle=True, rng=np.random.default_rng(7)))
    b = epochs(DataLoader(ds, 8, shuffle=True, rng=np.random.default_rng(7)))
    c = epochs(DataLoader(ds, 8, shuffle=True, rng=np.random.default_rng(8)))
    assert a == b and a != c
    assert a[0] != a[1]  # a fresh permutation each epoch
    assert a[0] != list(range(50))
    # rng=None draws from the package generator, at iteration time
    glassnet.manual_seed(3)
    d = epochs(DataLoader(ds, 8, shuffle=True))
    glassnet.manual_seed(3)
    e = epochs(DataLoader(ds, 8, shuffle=True))
    assert d == e


def test_loader_fast_path_equals_per_sample_collate():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((23, 3, 4))
    y = rng.integers(0, 10, 23)
    w = rng.standard_normal(23).astype(np.float32)
    ds = TensorDataset(X, y, w)
    slow = ListDataset([ds[i] for i in range(len(ds))])
    for shuffle in (False, True):
        fast_b = list(DataLoader(ds, 5, shuffle=shuffle, rng=np.random.default_rng(1)))
        slow_b = list(DataLoader(slow, 5, shuffle=shuffle, rng=np.random.default_rng(1)))
        assert len(fast_b) == len(slow_b) == 5
        for fb, sb in zip(fast_b, slow_b, strict=True):
            assert isinstance(fb, tuple) and isinstance(sb, tuple)
            for f, s in zip(fb, sb, strict=True):
                assert f.dtype == s.dtype and f.shape == s.shape
                np.testing.assert_array_equal(f.data, s.data)


def test_loader_fast_path_through_subsets():
    ds = TensorDataset(np.arange(20), np.arange(20) * 2)
    inner = Subset(ds, np.arange(20)[::-1])
    outer = Subset(inner, [0, 3, 5, 19])
    ((x, y),) = list(DataLoader(outer, 4))
    assert x.tolist() == [19, 16, 14, 0] and y.tolist() == [38, 32, 28, 0]


def test_loader_custom_collate_and_plain_dataset():
    ds = ListDataset([(np.full(2, i, np.float64), i) for i in range(7)])
    batches = list(DataLoader(ds, 3))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert batches[2][0].shape == (1, 2)
    calls = []

    def collate(samples):
        calls.append(len(samples))
        return [s[1] for s in samples]

    out = list(DataLoader(TensorDataset(np.arange(7)), 3, collate_fn=lambda s: s))
    assert isinstance(out[0], list) and len(out[0]) == 3  # collate_fn disables the fast path
    assert list(DataLoader(ds, 4, collate_fn=collate)) == [[0, 1, 2, 3], [4, 5, 6]]
    assert calls == [4, 3]


def test_loader_argument_errors():
    ds = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        DataLoader(ds, 0)
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        DataLoader(ds, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        DataLoader(ds, 2, rng=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        DataLoader(5, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DataLoader(ds, 2, True, False, None, np.random.default_rng(0))  # type: ignore[misc]
