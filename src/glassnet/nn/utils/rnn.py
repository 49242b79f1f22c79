"""Variable-length sequences as ``torch.nn.utils.rnn``: padding, packing and ``PackedSequence``.

A batch of N sequences of lengths L_n is held either *padded*, one tensor (T, N, *) (or
(N, T, *) with ``batch_first``; T = max L_n, filler past each end), or *packed*, a
:class:`PackedSequence`: the valid rows only, time-major - at step t the ``batch_sizes[t]``
longest sequences - so ``data`` is (sum L_n, *). ``nn.RNN``/``nn.LSTM``/``nn.GRU`` accept a
``PackedSequence`` and return one, as PyTorch's do.

Every conversion is one differentiable gather or scatter of rows (``glassnet.ops.packing``), so
gradients flow through packing and unpacking back to the inputs.

>>> import glassnet
>>> from glassnet.nn.utils.rnn import pack_sequence, pad_packed_sequence
>>> a, b = glassnet.tensor([1.0, 2.0, 3.0]), glassnet.tensor([4.0, 5.0])
>>> p = pack_sequence([a, b])
>>> p.data, p.batch_sizes
(tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
>>> padded, lengths = pad_packed_sequence(p, batch_first=True)
>>> padded
tensor([[1., 2., 3.],
        [4., 5., 0.]])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ...autograd.tensor import Tensor
from ...ops._util import shape_str
from ...ops.packing import Index, pack_rows, packed_index, pad_rows
from ...ops.shape import cat, split

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _int_tensor(a: Any) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor(np.asarray(a, np.int64))


class PackedSequence(_PackedFields):
    """The valid rows of a batch of variable-length sequences, time-major, as PyTorch's.

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.

    Attributes:
        data: (sum of lengths, *) the rows: step 0 of the ``batch_sizes[0]`` sequences (longest
            first), then step 1 of the ``batch_sizes[1]`` still running, ...
        batch_sizes: (T,) int64, how many sequences are still running at each step.
        sorted_indices: (N,) int64, the batch position of the s-th longest sequence; ``None``
            when the batch was already sorted (``enforce_sorted=True``).
        unsorted_indices: (N,) the inverse permutation of ``sorted_indices``, or ``None``.

    ``PackedSequence(data, batch_sizes, sorted_indices)`` fills in ``unsorted_indices``, and
    ``PackedSequence((data, batch_sizes))`` is accepted, as in PyTorch; arrays and lists are
    turned into int64 tensors.
    """

    def __new__(
        cls,
        data: Any,
        batch_sizes: Any = None,
        sorted_indices: Any = None,
        unsorted_indices: Any = None,
    ) -> PackedSequence:
        if batch_sizes is None:
            if not (isinstance(data, (tuple, list)) and len(data) == 2):
                raise TypeError(
                    "PackedSequence expected data and batch_sizes, or one pair "
                    f"(data, batch_sizes), got a {type(data).__name__} alone"
                )
            data, batch_sizes = data
        data = data if isinstance(data, Tensor) else Tensor(data)
        if sorted_indices is not None:
            sorted_indices = _int_tensor(sorted_indices)
            if unsorted_indices is None:
                unsorted_indices = invert_permutation(sorted_indices)
        if unsorted_indices is not None:
            unsorted_indices = _int_tensor(unsorted_indices)
        return super().__new__(
            cls, data, _int_tensor(batch_sizes), sorted_indices, unsorted_indices
        )

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data`` converted as ``Tensor.to`` converts (a dtype, a device, a tensor's dtype);
        ``self`` when nothing changes, as PyTorch's."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        return self.to(np.float32)


def invert_permutation(permutation: Any) -> Tensor | None:
    """The inverse of a 1-D permutation (``None`` stays ``None``), as PyTorch's.

    >>> invert_permutation(Tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = _int_tensor(permutation).data
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size)
    return Tensor(inverse)


# ---------------------------------------------------------------------------- argument checks
def _check_tensor(x: Any, name: str, fn: str, min_ndim: int, layout: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn} expected {name} to be a Tensor, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{fn} expected {name} of shape {layout}, got {shape_str(x.shape)}")
    return x


def _as_lengths(lengths: Any, N: int, T: int, lo: int, fn: str) -> np.ndarray:
    """``lengths`` (list, tuple, array or Tensor of N ints in [lo, T]) as an int64 array."""
    if isinstance(lengths, Tensor):
        arr = lengths.data
    elif isinstance(lengths, (list, tuple, range, np.ndarray)) or hasattr(lengths, "__array__"):
        try:
            arr = np.asarray(lengths)
        except ValueError:
            msg = f"{fn} expected lengths as a flat list of ints, got {lengths!r}"
            raise TypeError(msg) from None
    else:
        got = type(lengths).__name__
        raise TypeError(f"{fn} expected lengths as a list, array or Tensor of ints, got {got}")
    if arr.ndim != 1:
        raise ValueError(
            f"{fn} expected lengths as a 1-D sequence of {N} ints, got shape {shape_str(arr.shape)}"
        )
    if arr.shape[0] != N:
        raise ValueError(
            f"{fn} expected {N} lengths (one per sequence of the batch), got {arr.shape[0]}"
        )
    if N == 0:
        return np.zeros(0, np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{fn} expected lengths to hold integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < lo or arr.max() > T:
        raise ValueError(
            f"{fn} expected lengths in [{lo}, {T}] (T = {T}, the padded length), got values from "
            f"{int(arr.min())} to {int(arr.max())}"
        )
    return arr


def _padding_value(v: Any, fn: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn} expected a number padding_value, got {type(v).__name__}")
    return v.item() if isinstance(v, np.generic) else v


def _check_packed(sequence: Any, fn: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A PackedSequence's ``batch_sizes`` and ``sorted_indices`` as arrays, checked."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{fn} expected a PackedSequence, got {type(sequence).__name__}")
    bs = sequence.batch_sizes.data
    if bs.ndim != 1 or bs.size == 0 or bs.dtype.kind not in "iu":
        raise ValueError(
            f"{fn} expected batch_sizes as a non-empty 1-D int tensor, got dtype {bs.dtype} and "
            f"shape {shape_str(bs.shape)}"
        )
    if bs.min() < 1 or np.any(np.diff(bs) > 0):
        raise ValueError(f"{fn} expected positive, non-increasing batch_sizes, got {bs.tolist()}")
    data = sequence.data
    if not isinstance(data, Tensor) or data.ndim < 1 or data.shape[0] != int(bs.sum()):
        got = shape_str(data.shape) if isinstance(data, Tensor) else type(data).__name__
        raise ValueError(
            f"{fn} expected data with batch_sizes.sum() = {int(bs.sum())} rows, got {got}"
        )
    si = None
    if sequence.sorted_indices is not None:
        si = sequence.sorted_indices.data
        if si.ndim != 1 or not np.array_equal(np.sort(si), np.arange(int(bs[0]))):
            raise ValueError(
                f"{fn} expected sorted_indices to be a permutation of range({int(bs[0])}), got "
                f"{si.tolist()}"
            )
    return bs.astype(np.int64), (None if si is None else si.astype(np.int64))


def _sequence_index(lens: np.ndarray, T: int, left: bool) -> Index:
    """Positions (t, n) of every step of every sequence, sequence after sequence."""
    n = np.repeat(np.arange(lens.size), lens)
    starts = np.cumsum(lens) - lens  # (N,) each sequence's first row
    t = np.arange(int(lens.sum())) - np.repeat(starts, lens)  # step within its sequence
    if left:
        t = t + np.repeat(T - lens, lens)
    return t, n


def _swap(index: Index, batch_first: bool) -> Index:
    return (index[1], index[0]) if batch_first else index


# ---------------------------------------------------------------------------- packing
def _pack(
    input: Tensor, lengths: Any, batch_first: bool, enforce_sorted: bool, fn: str
) -> PackedSequence:
    layout = "(N, T, *)" if batch_first else "(T, N, *)"
    x = _check_tensor(input, "input", fn, 2, layout)
    T, N = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if T == 0 or N == 0:
        raise ValueError(f"{fn} cannot pack an empty batch: input of shape {shape_str(x.shape)}")
    lens = _as_lengths(lengths, N, T, 1, fn)
    sorted_indices = None
    if enforce_sorted:
        up = np.flatnonzero(np.diff(lens) > 0)
        if up.size:
            i = int(up[0])
            raise ValueError(
                f"{fn} expected lengths sorted in decreasing order with enforce_sorted=True, got "
                f"lengths[{i + 1}] = {lens[i + 1]} > lengths[{i}] = {lens[i]} (pass "
                "enforce_sorted=False to have them sorted)"
            )
    else:
        sorted_indices = np.argsort(-lens, kind="stable")
        lens = lens[sorted_indices]
    batch_sizes = (lens[None, :] > np.arange(int(lens[0]))[:, None]).sum(1)  # (T_max,)
    index = packed_index(batch_sizes, sorted_indices)
    data = pack_rows(x, _swap(index, batch_first))  # (sum L, *)
    return PackedSequence(data, batch_sizes, sorted_indices)


def pack_padded_sequence(
    input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch of variable-length sequences, as PyTorch's.

    Args:
        input: (T, N, *) padded batch ((N, T, *) with ``batch_first``), any dtype.
        lengths: (N,) the length of each sequence, in [1, T]: a list, array or Tensor of ints.
        batch_first: the layout of ``input``.
        enforce_sorted: require ``lengths`` in decreasing order (then ``sorted_indices`` is
            ``None``); otherwise the batch is sorted (stably: tied sequences keep their order).

    Shapes:
        input: (T, N, *) or (N, T, *)   output.data: (sum(lengths), *)
        output.batch_sizes: (max(lengths),)

    >>> import glassnet
    >>> x = glassnet.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    >>> p = pack_padded_sequence(x, [2, 1, 3], batch_first=True, enforce_sorted=False)
    >>> p.data, p.batch_sizes, p.sorted_indices
    (tensor([4, 1, 3, 5, 2, 6]), tensor([3, 2, 1]), tensor([2, 0, 1]))
    """
    return _pack(input, lengths, bool(batch_first), bool(enforce_sorted), "pack_padded_sequence")


def _padded(
    sequence: Any, fn: str, batch_first: bool = False, padding_value: Any = 0.0,
    total_length: Any = None,
) -> tuple[Tensor, np.ndarray, Index]:  # fmt: skip
    """A PackedSequence padded in the original batch order, its lengths and the row index."""
    batch_sizes, sorted_indices = _check_packed(sequence, fn)
    padding_value = _padding_value(padding_value, fn)
    T = batch_sizes.size
    if total_length is not None:
        if isinstance(total_length, bool) or not isinstance(total_length, (int, np.integer)):
            raise TypeError(f"{fn} expected an int total_length, got {type(total_length).__name__}")
        if total_length < T:
            raise ValueError(
                f"{fn} expected total_length >= {T} (the longest sequence), got {total_length}"
            )
        T = int(total_length)
    N = int(batch_sizes[0])
    lens = (batch_sizes[None, :] > np.arange(N)[:, None]).sum(1)  # (N,) in sorted order
    if sorted_indices is not None:
        lens[sorted_indices] = lens.copy()  # back to the batch order
    index = packed_index(batch_sizes, sorted_indices)
    feat = sequence.data.shape[1:]
    shape = (N, T, *feat) if batch_first else (T, N, *feat)
    padded = pad_rows(sequence.data, _swap(index, batch_first), shape, padding_value)
    return padded, lens, index


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Pad a packed batch back into one tensor, in the original batch order, as PyTorch's.

    Args:
        sequence: a :class:`PackedSequence`.
        batch_first: return (N, T, *) instead of (T, N, *).
        padding_value: the value past each sequence's end.
        total_length: pad to this many steps (at least the longest sequence) instead of T.

    Returns:
        ``(padded, lengths)``: the padded batch and an int64 (N,) tensor of lengths.

    Shapes:
        sequence.data: (M, *)   padded: (T, N, *) or (N, T, *), T = total_length or
        len(batch_sizes), N = batch_sizes[0]   lengths: (N,)
    """
    padded, lens, _ = _padded(sequence, "pad_packed_sequence", bool(batch_first), padding_value,
                              total_length)  # fmt: skip
    return padded, Tensor(lens)


def _check_sequences(sequences: Any, fn: str) -> list[Tensor]:
    if isinstance(sequences, Tensor):  # PyTorch iterates over the first dimension
        if sequences.ndim < 2:
            raise ValueError(
                f"{fn} expected sequences as a list of (L, *) tensors or one (N, L, *) tensor, "
                f"got a tensor of shape {shape_str(sequences.shape)}"
            )
        return [sequences[i] for i in range(sequences.shape[0])]
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Iterable):
        raise TypeError(
            f"{fn} expected sequences as a list of tensors, got {type(sequences).__name__}"
        )
    seqs = list(sequences)
    if not seqs:
        raise ValueError(f"{fn} expected a non-empty list of sequences, got an empty one")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"{fn} expected sequences[{i}] to be a Tensor, got {type(s).__name__}")
        if s.ndim < 1:
            raise ValueError(f"{fn} expected sequences[{i}] of shape (L, *), got a 0-d tensor")
        if s.shape[1:] != seqs[0].shape[1:]:
            trailing = ", ".join(map(str, seqs[0].shape[1:]))
            raise ValueError(
                f"{fn} expected every sequence of shape (L, {trailing}) as sequences[0] "
                f"{shape_str(seqs[0].shape)}, got sequences[{i}] of shape {shape_str(s.shape)}"
            )
        if s.dtype != seqs[0].dtype:
            raise TypeError(
                f"{fn} expected sequences of one dtype, got {seqs[0].dtype} (sequences[0]) and "
                f"{s.dtype} (sequences[{i}])"
            )
    return seqs


def pad_sequence(
    sequences: Any,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of different lengths into one padded tensor, as PyTorch's.

    Args:
        sequences: a list of (L_n, *) tensors (trailing dimensions and dtype equal), or a tensor
            whose first dimension is iterated over.
        batch_first: return (N, T, *) instead of (T, N, *).
        padding_value: the value of the padding.
        padding_side: ``'right'`` (pad after each sequence) or ``'left'`` (before).

    Shapes:
        sequences[n]: (L_n, *)   output: (T, N, *) or (N, T, *) with T = max L_n

    >>> import glassnet
    >>> pad_sequence([glassnet.tensor([1, 2, 3]), glassnet.tensor([4])], batch_first=True)
    tensor([[1, 2, 3],
            [4, 0, 0]])
    """
    fn = "pad_sequence"
    seqs = _check_sequences(sequences, fn)
    if padding_side not in ("left", "right"):
        raise ValueError(f"{fn} expected padding_side 'left' or 'right', got {padding_side!r}")
    padding_value = _padding_value(padding_value, fn)
    lens = np.array([s.shape[0] for s in seqs], np.int64)
    T, N = int(lens.max()), len(seqs)
    data = seqs[0] if N == 1 else cat(seqs, 0)  # (sum L, *)
    index = _sequence_index(lens, T, padding_side == "left")
    shape = (N, T, *seqs[0].shape[1:]) if batch_first else (T, N, *seqs[0].shape[1:])
    return pad_rows(data, _swap(index, bool(batch_first)), shape, padding_value)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """Cut a padded batch into its sequences, the inverse of :func:`pad_sequence`.

    Unlike PyTorch's, this does not transpose ``padded_sequences`` in place.

    Shapes:
        padded_sequences: (T, N, *) or (N, T, *)   lengths: (N,) in [0, T]   output[n]: (L_n, *)
    """
    fn = "unpad_sequence"
    layout = "(N, T, *)" if batch_first else "(T, N, *)"
    x = _check_tensor(padded_sequences, "padded_sequences", fn, 2, layout)
    T, N = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    lens = _as_lengths(lengths, N, T, 0, fn)
    if N == 0:
        return []
    rows = pack_rows(x, _swap(_sequence_index(lens, T, False), bool(batch_first)))  # (sum L, *)
    return list(split(rows, lens.tolist(), 0))


def pack_sequence(sequences: Any, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_n, *) sequences: ``pack_padded_sequence(pad_sequence(sequences), ...)``.

    Args:
        sequences: (L_n, *) tensors of length >= 1, longest first unless ``enforce_sorted=False``.
        enforce_sorted: require decreasing lengths (see :func:`pack_padded_sequence`).

    >>> import glassnet
    >>> a, b, c = glassnet.tensor([1, 2, 3]), glassnet.tensor([4, 5]), glassnet.tensor([6])
    >>> p = pack_sequence([a, b, c])
    >>> p.data, p.batch_sizes, p.sorted_indices
    (tensor([1, 4, 6, 2, 5, 3]), tensor([3, 2, 1]), None)
    """
    fn = "pack_sequence"
    seqs = _check_sequences(sequences, fn)
    lens = [s.shape[0] for s in seqs]
    if min(lens) == 0:
        raise ValueError(
            f"{fn} expected sequences of length >= 1, got sequences[{lens.index(0)}] of length 0"
        )
    return _pack(pad_sequence(seqs), lens, False, bool(enforce_sorted), fn)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a PackedSequence as a list of (L_n, *) tensors, in the batch order.

    >>> import glassnet
    >>> seqs = [glassnet.tensor([1, 2]), glassnet.tensor([3, 4, 5])]
    >>> unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    [tensor([1, 2]), tensor([3, 4, 5])]
    """
    padded, lens, _ = _padded(packed_sequences, "unpack_sequence", batch_first=True)
    return unpad_sequence(padded, lens, batch_first=True)
