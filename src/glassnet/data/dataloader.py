"""``DataLoader``: batches of samples, optionally shuffled with an explicit generator."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._random import get_rng, resolve_rng
from ..autograd.tensor import Tensor
from .dataset import Subset, TensorDataset


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        shown = ", ".join(str(s) for s in sorted(shapes, key=str)[:4])
        raise ValueError(
            f"default_collate expected samples of one shape to stack into a batch, got shapes "
            f"{shown}; pad them or pass a collate_fn"
        )
    return np.stack(arrays)


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, field by field.

    - glassnet Tensors and NumPy arrays/scalars are stacked along a new first axis into a
      Tensor; their dtype is kept.
    - Python ``int`` becomes int64, ``float`` the default dtype (float32 unless changed),
      ``bool`` bool.
    - tuples (incl. named tuples), lists and dicts are collated field by field, so
      ``(x, y)`` samples give an ``(X, Y)`` batch.
    - strings stay a list of strings.

    >>> import numpy as np
    >>> X, y = default_collate([(np.zeros(3), 1), (np.ones(3), 2)])
    >>> X.shape, y.dtype
    ((2, 3), dtype('int64'))
    """
    if not isinstance(batch, (list, tuple)) or len(batch) == 0:
        raise ValueError("default_collate expected a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor(_stack([b.data if isinstance(b, Tensor) else np.asarray(b) for b in batch]))
    if isinstance(elem, (np.ndarray, np.generic)):
        return Tensor(_stack([np.asarray(b.data if isinstance(b, Tensor) else b) for b in batch]))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=get_default_dtype()))
    if isinstance(elem, str):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        sizes = {len(b) for b in batch}
        if len(sizes) != 1:
            raise ValueError(
                "default_collate expected samples with the same number of fields, got "
                f"{sorted(sizes)}"
            )
        fields = [default_collate(list(f)) for f in zip(*batch, strict=True)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate cannot batch samples of type {type(elem).__name__}; expected "
        "Tensors, arrays, numbers, strings, or tuples/lists/dicts of those (or pass a collate_fn)"
    )


class DataLoader:
    """Iterate over a dataset in batches, as ``torch.utils.data.DataLoader`` (single process).

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch.
        shuffle: draw a fresh permutation of the samples at the start of every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: turns a list of samples into a batch (``default_collate`` when ``None``).
        rng: the generator that draws the permutations (keyword-only). ``None`` means the
            package generator, looked up at each epoch, so ``glassnet.manual_seed`` applies.
        generator: PyTorch's name for ``rng`` (a NumPy generator here); give one of the two.
        num_workers, prefetch_factor, persistent_workers: accepted and checked as PyTorch checks
            them (keyword-only), but loading is always serial, in the calling process: the
            batches, their order and the random draws are the same for any ``num_workers``.
            A TensorDataset batch is one NumPy fancy-index, cheaper than shipping it between
            processes; a dataset that decodes files gets no parallel speed-up (docs/pytorch.md).
        pin_memory: accepted; a no-op, since there is no GPU to copy to.

    Every epoch visits each sample exactly once (minus the dropped tail with ``drop_last``).
    For a ``TensorDataset`` (or a ``Subset`` of one) and the default collate, each array is
    indexed with the whole batch of indices at once; the result equals collating sample by
    sample.

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2, shuffle=True, rng=np.random.default_rng(0))
    >>> len(loader), [tuple(y.shape) for _, y in loader]
    (3, [(2,), (2,), (1,)])
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        *,
        rng: np.random.Generator | None = None,
        generator: np.random.Generator | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader expected a dataset with __getitem__ and __len__, got "
                f"{type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(
                f"DataLoader batch_size must be an int, got {type(batch_size).__name__}"
            )
        if batch_size < 1:
            raise ValueError(f"DataLoader batch_size must be >= 1, got {batch_size}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(
                f"DataLoader collate_fn must be callable, got {type(collate_fn).__name__}"
            )
        if generator is not None:  # PyTorch's name for rng (a NumPy generator here)
            rng = resolve_rng(rng, generator, "DataLoader")
        if rng is not None:
            get_rng(rng)  # type check now rather than at the first epoch
        prefetch_factor = _check_workers(num_workers, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.rng = rng
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            return get_rng(self.rng).permutation(n)
        return np.arange(n)

    def _fast_arrays(self) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
        """The arrays behind a TensorDataset (and a Subset's index map), else None."""
        if self.collate_fn is not None:
            return None
        ds, index_map = self.dataset, None
        while isinstance(ds, Subset):
            index_map = ds.indices if index_map is None else ds.indices[index_map]
            ds = ds.dataset
        if type(ds) is not TensorDataset:  # a subclass may override __getitem__
            return None
        return ds.arrays, index_map

    def epoch_order(self) -> np.ndarray:
        """The sample order of one epoch: a fresh permutation when shuffling (draws from rng)."""
        return self._order()

    def __iter__(self) -> Iterator[Any]:
        return self.iter_batches(self.epoch_order())

    def iter_batches(self, order: np.ndarray, start: int = 0) -> Iterator[Any]:
        """The batches of an epoch with sample ``order``, from batch number ``start`` on.

        ``iter(loader)`` is ``iter_batches(epoch_order())``; a trainer resuming in the middle of an
        epoch passes the saved order and the number of batches already done.
        """
        order = np.asarray(order)
        n = order.shape[0]
        stop = n - n % self.batch_size if self.drop_last else n
        fast = self._fast_arrays()
        collate = self.collate_fn or default_collate
        for first in range(start * self.batch_size, stop, self.batch_size):
            idx = order[first : first + self.batch_size]  # (B,)
            if fast is not None:
                arrays, index_map = fast
                rows = idx if index_map is None else index_map[idx]
                yield tuple(Tensor(a[rows]) for a in arrays)
            else:
                yield collate([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def _check_workers(num_workers: Any, prefetch_factor: Any, persistent_workers: bool) -> int | None:
    """PyTorch's checks of the worker options; returns its default prefetch_factor (2 or None)."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"DataLoader num_workers must be an int, got {type(num_workers).__name__}")
    if num_workers < 0:
        raise ValueError(
            f"DataLoader num_workers must be >= 0 (0 loads in the calling process), got "
            f"{num_workers}"
        )
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "DataLoader prefetch_factor applies only with num_workers > 0 (as in PyTorch); "
            "leave it None"
        )
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError(f"DataLoader prefetch_factor must be >= 0, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader persistent_workers=True needs num_workers > 0 (as in PyTorch)")
    if num_workers > 0 and prefetch_factor is None:
        return 2
    return None if prefetch_factor is None else int(prefetch_factor)
