"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._random import get_rng
from ..autograd.tensor import Tensor, _as_array


class Dataset(abc.ABC):
    """A collection of samples reachable by an integer index, as ``torch.utils.data.Dataset``.

    Subclasses implement ``__getitem__(i)`` (one sample: an array, a number, a Tensor, or a
    tuple/dict of those) and ``__len__``. ``DataLoader`` batches them.

    >>> class Squares(Dataset):
    ...     def __getitem__(self, i):
    ...         return i * i
    ...     def __len__(self):
    ...         return 4
    >>> [Squares()[i] for i in range(len(Squares()))]
    [0, 1, 4, 9]
    """

    @abc.abstractmethod
    def __getitem__(self, index: int) -> Any:
        """The sample at ``index``."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """The number of samples."""


def _check_index(index: Any, n: int, who: str) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{who} index must be an int, got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"{who} index {i} is out of range for {n} samples")
    return i + n if i < 0 else i


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: ``ds[i] == (a[i], b[i], ...)``.

    Args:
        *arrays: NumPy arrays, glassnet Tensors or nested lists, all with the same first
            dimension (the sample axis). Lists follow ``glassnet.tensor``'s rules (Python floats
            get the default dtype, ints int64); arrays keep their dtype and are not copied.

    Shapes:
        arrays[k]: (N, *S_k)   ds[i]: tuple of Tensors of shapes S_k

    ``DataLoader`` recognises a ``TensorDataset`` and indexes every array with a whole batch of
    indices at once instead of collating sample by sample.

    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), ds[2][0].shape, int(ds[2][1].item())
    (5, (3,), 2)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset expected at least one array, got none")
        data = []
        for k, a in enumerate(arrays):
            try:
                arr = _as_array(a)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"TensorDataset argument {k} must be an array, Tensor or nested list, "
                    f"got {type(a).__name__} ({exc})"
                ) from None
            if arr.ndim == 0:
                raise ValueError(
                    f"TensorDataset argument {k} must have a sample dimension, got a 0-d value"
                )
            data.append(arr)
        sizes = [a.shape[0] for a in data]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(a.shape)) for a in data)
            raise ValueError(
                f"TensorDataset expected arrays with the same first dimension, got shapes {shapes}"
            )
        self.arrays: tuple[np.ndarray, ...] = tuple(data)

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors (sharing memory), as PyTorch's ``TensorDataset.tensors``."""
        return tuple(Tensor(a) for a in self.arrays)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        i = _check_index(index, len(self), "TensorDataset")
        return tuple(Tensor(a[i]) for a in self.arrays)

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import numpy as np
    >>> sub = Subset(TensorDataset(np.arange(10)), [7, 2])
    >>> [int(sub[i][0].item()) for i in range(len(sub))]
    [7, 2]
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(
                f"Subset indices must be a 1-d sequence of ints, got {idx.dtype} of shape "
                f"{tuple(idx.shape)}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(
                f"Subset indices must lie in [-{n}, {n}), got min {idx.min()} max {idx.max()}"
            )
        self.dataset = dataset
        self.indices: np.ndarray = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __getitem__(self, index: int) -> Any:
        i = _check_index(index, len(self), "Subset")
        return self.dataset[int(self.indices[i])]

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def random_split(
    dataset: Any,
    lengths: Sequence[int | float],
    *,
    rng: np.random.Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (for i.i.d. data, not series).

    Args:
        dataset: any map-style dataset.
        lengths: subset sizes summing to ``len(dataset)``, or fractions summing to 1 (the
            remainder of rounding goes to the subsets in order, as PyTorch).
        rng: the generator that draws the permutation (the package generator when ``None``).

    For time series use ``chronological_split`` instead: a random split leaks the future.

    >>> import numpy as np
    >>> a, b = random_split(TensorDataset(np.arange(10)), [0.8, 0.2],
    ...                     rng=np.random.default_rng(0))
    >>> len(a), len(b)
    (8, 2)
    """
    n = len(dataset)
    lens = list(lengths)
    if not lens:
        raise ValueError("random_split expected at least one length, got none")
    if all(isinstance(v, float) for v in lens):
        if any(v < 0 for v in lens) or abs(sum(lens) - 1.0) > 1e-9:
            raise ValueError(f"random_split fractions must be >= 0 and sum to 1, got {lens}")
        counts = [int(np.floor(n * float(f))) for f in lens]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lens):
        counts = [int(v) for v in lens]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(
                f"random_split lengths must be >= 0 and sum to len(dataset)={n}, got {counts}"
            )
    else:
        raise TypeError(f"random_split lengths must be all ints or all floats, got {lens}")
    perm = get_rng(rng).permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[bounds[i] : bounds[i + 1]]) for i in range(len(counts))]
