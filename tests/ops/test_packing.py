"""ops.packing: PackRows / PadRows (gather and scatter of rows) and the packed row index."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet.ops.packing import PackRows, PadRows, pack_rows, packed_index, pad_rows

from ..helpers import check_grad


def naive_packed_index(batch_sizes: list[int], sorted_indices: list[int] | None) -> list[tuple]:
    """The definition: step after step, the first batch_sizes[t] sequences of the sorted batch."""
    out = []
    for t, b in enumerate(batch_sizes):
        for s in range(b):
            out.append((t, s if sorted_indices is None else sorted_indices[s]))
    return out


@st.composite
def layouts(draw):
    lens = sorted(draw(st.lists(st.integers(1, 5), min_size=1, max_size=5)), reverse=True)
    batch_sizes = [sum(L > t for L in lens) for t in range(lens[0])]
    perm = draw(st.permutations(range(len(lens))))
    return batch_sizes, draw(st.sampled_from([None, list(perm)])), draw(st.integers(0, 2**16))


@given(layouts())
def test_packed_index_matches_the_definition(c) -> None:
    batch_sizes, si, _ = c
    t, n = packed_index(np.array(batch_sizes), None if si is None else np.array(si))
    assert list(zip(t.tolist(), n.tolist())) == naive_packed_index(batch_sizes, si)


@given(layouts())
def test_pack_and_pad_are_adjoint(c) -> None:
    """<pack(x), d> = <x, pad(d)> with zero padding; and pad then pack is the identity."""
    batch_sizes, si, seed = c
    r = np.random.default_rng(seed)
    index = packed_index(np.array(batch_sizes), None if si is None else np.array(si))
    T, N, M = len(batch_sizes), batch_sizes[0], sum(batch_sizes)
    x = r.standard_normal((T, N, 2))
    d = r.standard_normal((M, 2))
    packed = pack_rows(glassnet.tensor(x), index).data
    padded = pad_rows(glassnet.tensor(d), index, (T, N, 2)).data
    assert np.isclose((packed * d).sum(), (x * padded).sum(), rtol=1e-12)
    np.testing.assert_array_equal(pack_rows(glassnet.tensor(padded), index).data, d)


def test_gradcheck_pack_rows_and_pad_rows() -> None:
    index = packed_index(np.array([3, 2, 2, 1]), np.array([1, 2, 0]))
    r = np.random.default_rng(0)
    check_grad(lambda x: PackRows.apply(x, index=index), r.standard_normal((5, 3, 2)))
    check_grad(
        lambda d: PadRows.apply(d, index=index, shape=(4, 3, 2), padding_value=-2.0),
        r.standard_normal((8, 2)),
    )


def test_pad_rows_fills_and_keeps_integer_dtypes() -> None:
    index = packed_index(np.array([2, 1]))
    y = pad_rows(glassnet.tensor(np.array([7, 8, 9])), index, (3, 2), padding_value=-1)
    np.testing.assert_array_equal(y.data, [[7, 8], [9, -1], [-1, -1]])
    assert y.dtype == np.int64
