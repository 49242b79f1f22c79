"""The three GEMM kernels behind every convolution: forward, weight gradient, input gradient.

On the packed layout of ``glassnet.kernels.conv_layout`` (phases, flattened channel-major), tap
``k`` of the kernel reads, for the whole batch, the contiguous slice ``packed[:, r_k, off_k :
off_k + L]``, a plain (C, L) matrix. So the convolution is one GEMM per kernel tap on shifted
views, summed over taps,

    Y (F, L) = sum_k W_k (F, C) @ packed[:, r_k, off_k : off_k + L],

which we compute by stacking the shifted views (im2col, but every copy a contiguous run) and
doing one GEMM with inner dimension K*C:

    Y (F, L) = W (F, K*C) @ cols (K*C, L),     cols[(k, c), j] = packed[c, r_k, off_k + j].

The columns are processed in blocks (at most ``_MAX_BLOCKS`` of them), so the whole ``cols``
matrix never exists at once: each block is gathered into a reused buffer, multiplied, and the
buffer is refilled for the next block.

**Shifts of the outer taps.** With stride 1 and two or more spatial axes, tap ``k = (k_out,
k_in)`` (its indices on the outer axes, and on the innermost one) reads at flat offset
``shift[k_out] + off[k_in]``: the outer taps are the innermost ones shifted by whole rows
(``shiftable``). So only the innermost taps are gathered, ``H[(i, c), j] = packed[c, off[i] + j]``
(K_in * C rows, for ``shift[-1]`` more columns), and

    Z (K_out * F, .) = W_stack (K_out * F, K_in * C) @ H
    Y = sum_o Z[o][:, shift[o] : shift[o] + L]
    dW[k_out = o] = dY @ H[:, shift[o] : shift[o] + L]^T    (views of H: no further copy)

For a 3x3 kernel that gathers 3 copies of the input instead of 9. The forward trades the saved
copies for writing and adding Z, the weight gradient for one GEMM per outer tap, so both
decide by channel counts (``splits``, ``wg_splits``). A 1-d kernel has no outer taps: its
forward keeps plain im2col, while its weight gradient gathers the first half of the taps and
takes the others as shifts of them (``wg_tap_groups``).

The two gradients are the adjoints of the same linear maps:

    dW = dY (F, L) @ cols^T (L, K*C)                                     (weight gradient)
    dpacked[:, r_k, off_k : off_k + L] += (W^T (K*C, F) @ dY (F, L))[k]  (input gradient)

where ``dY`` is the upstream gradient packed into the same flat layout with zeros in the thrown-
away slots, so they contribute nothing. The input gradient is therefore a sum of shifted slices
(no scatter with repeated indices, no ``np.add.at``). With stride 1 it is also a correlation in
its own right, of ``dy`` padded by ``d (K - 1) - pad`` with the flipped kernel
(``flip_kernel``), which runs through the forward kernel; ``ConvPlan.flips`` picks the cheaper
route. Groups add a leading batch axis G to every matrix. The transposed convolution reuses the
same kernels with the roles of input and output exchanged (``glassnet.ops.conv``). The
textbook forms of all three are in ``glassnet.ops.reference``.

Tried and dropped: Winograd F(2x2, 3x3) and F(4x4, 3x3), whose small GEMMs (inner dimension C)
run at lower BLAS efficiency and whose tile gathers and transforms cost more than the saved
multiplies; per-tap weight-gradient GEMMs on shifted views (no gather at all, but inner
dimension C). The measurements behind these choices are in docs/benchmarks.md ("Kernel notes
moved from docstrings").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .conv_layout import ConvLayout
from .scratch import scratch as _scratch

# The im2col matrix is built and consumed block by block: a block spans at least _MIN_BLOCK
# columns and _BLOCK_BYTES bytes, and there are at most _MAX_BLOCKS blocks per call, because
# every GEMM call synchronises the BLAS threads, which costs dearly when another process competes
# for the cores. On 2 threads the block count decides, so on the benchmark shapes a block is a
# quarter of the im2col matrix (4-15 MB in float32), not a cache-sized slab.
_BLOCK_BYTES = 2**20
_MAX_BLOCKS = 4
_MIN_BLOCK = 128
_SPLIT_MIN_ROWS = 32  # see ConvPlan.wg_splits


class ConvPlan(ConvLayout):
    """One N-d convolution: its packed layout (``ConvLayout``, same arguments) and its kernels.

    Attributes:
        inner_taps: the taps of the innermost axis, ``taps[:K_in]``.
        shifts: flat offset of each outer tap (``shift[k_out]``, C order).
        shiftable: stride 1 with two or more axes: every tap is an inner tap shifted.
        wg_split: whether the weight gradient can gather only ``wg_gathered_taps``.
        wg_gathered_taps: the taps the split weight gradient gathers.
        wg_tap_groups: ``(first tap, taps in the group, shift)``: each group of taps is the
            first ``taps in the group`` gathered taps, shifted.
        wg_extra_columns: per gathered tap, how many columns past the block it must be copied
            (only as far as some group reads it).

    Shapes:
        packed input: (C, R, N * P + tail)   weight: (F, C/G, *K)   packed output: (F, N * P)
    """

    def __init__(self, *geometry: Any) -> None:
        super().__init__(*geometry)
        # Stride 1 with more than one spatial axis: tap (k_out, k_in) (outer axes, innermost
        # axis) reads at offset shift[k_out] + off[k_in], so the outer taps are pure shifts of
        # the innermost ones (see "Shifts of the outer taps" in the module docstring).
        inner = self.kernel[-1]
        self.inner_taps = self.taps[:inner]  # (0, off[k_in]): the innermost axis' taps
        self.shifts = [off for _, off in self.taps[::inner]]  # shift[k_out], C order
        stride1 = len(self.residues) == 1
        self.shiftable = stride1 and len(self.shifts) > 1
        # The weight gradient gathers the first few innermost taps; every tap is one of them,
        # shifted. A 1-d kernel is cut in halves.
        gathered = inner if self.shiftable else -(-inner // 2)
        self.wg_gathered_taps = self.taps[:gathered]
        self.wg_tap_groups = [
            (o * inner + j, min(gathered, inner - j), self.taps[o * inner + j][1])
            for o in range(len(self.shifts))
            for j in range(0, inner, gathered)
        ]
        self.wg_split = (
            stride1 and len(self.wg_tap_groups) > 1 and (self.shiftable or gathered >= 2)
        )
        self.wg_extra_columns = [
            max(shift for _, rows, shift in self.wg_tap_groups if rows > i) for i in range(gathered)
        ]

        # With stride 1 the input gradient is itself a correlation: of the upstream gradient,
        # padded by d (K - 1) - pad, with the flipped kernel (channels swapped). Same kernel as
        # the forward pass, so it runs as fast (no scatter-add, long GEMM inner dimension).
        flip_lo = [d * (k - 1) - lo for d, k, lo in zip(self.dilation, self.kernel, self.pad_lo)]
        flip_hi = [
            n - o + lo for n, o, lo in zip(self.in_size, self.out_size, self.pad_lo)
        ]  # so that the correlation returns exactly D positions
        self._flip_padding = (flip_lo, flip_hi)
        self._flippable = all(s == 1 for s in self.stride) and min(flip_lo + flip_hi) >= 0
        self._flip_plan: ConvPlan | None = None

    @property
    def flip_plan(self) -> ConvPlan | None:
        """The plan of the stride-1 input-gradient correlation (None when stride > 1)."""
        if self._flippable and self._flip_plan is None:
            lo, hi = self._flip_padding
            self._flip_plan = conv_plan(
                self.out_size, self.kernel, self.stride, self.dilation, lo, hi
            )
            assert self._flip_plan.out_size == self.in_size
        return self._flip_plan

    def pack_upstream(self, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """dy packed once for both products of the backward: ``(pack_output(dy), flip input)``.

        With stride 1 the flipped correlation's packed input (``flip_plan.pack_input(dy)``) is
        usually the same grid as ``pack_output(dy)``, shifted by the flipped padding: then both
        are views of one zero-padded buffer (this thread's ``'conv.pack_out'`` scratch) and the
        second pack of dy is saved. The flip input is ``None`` when the grids differ.
        """
        offset = self._flip_input_offset
        if offset is None:
            return self.pack_output(dy), None
        flip = self.flip_plan
        assert flip is not None
        n, f = dy.shape[:2]
        size = n * self.P
        buf = _scratch(
            "conv.pack_out", (f, max(offset + size, size + flip.tail)), dy.dtype, zero=True
        )
        grid = buf[:, offset : offset + size].reshape(f, n, *self.phase_shape)
        grid[self._output_region] = dy.swapaxes(0, 1)
        return buf[:, offset : offset + size], buf[:, None, : size + flip.tail]

    @functools.cached_property
    def _flip_input_offset(self) -> int | None:
        """Flat offset of dy in the flipped correlation's packed input when that input is the
        packed output grid shifted (same phase grid); None otherwise."""
        flip = self.flip_plan
        if flip is None or flip.phase_shape != self.phase_shape:
            return None
        return self.flat_offset(flip.pad_lo)

    # ----------------------------------------------------------------------- kernels
    def _blocks(self, length: int, rows: int, itemsize: int) -> list[tuple[int, int]]:
        """Split the L flat columns into blocks: at most _MAX_BLOCKS, each >= _BLOCK_BYTES."""
        width = max(_MIN_BLOCK, _BLOCK_BYTES // max(rows * itemsize, 1), -(-length // _MAX_BLOCKS))
        return [(a, min(a + width, length)) for a in range(0, length, width)]

    def _gather(
        self,
        packed_groups: np.ndarray,
        a: int,
        b: int,
        buf: np.ndarray,
        taps: list[tuple[int, int]] | None = None,
        extra_columns: Sequence[int] | None = None,
    ) -> np.ndarray:
        """im2col of flat columns [a, b): (G, Cg, R, NP) -> (G, K * Cg, b - a), row (k, c).

        Each tap is one shifted slice of the packed input, so every copy is a run of
        contiguous memory. ``taps``: gather only these (default: all of ``self.taps``);
        ``extra_columns``: tap i covers ``extra_columns[i]`` more columns (the matrix is
        ``max(extra_columns)`` wider; the columns a tap does not reach are left unset).
        """
        taps = self.taps if taps is None else taps
        extra_columns = [0] * len(taps) if extra_columns is None else extra_columns
        g, cg = packed_groups.shape[:2]
        k, width = len(taps), b - a + max(extra_columns)
        if k == 1:  # a 1x1 kernel (any stride): the slice itself is the matrix
            r, off = taps[0]
            return packed_groups[:, :, r, off + a : off + a + width]
        cols = buf[: g * k * cg * width].reshape(g, k, cg, width)
        for t, ((r, off), extra) in enumerate(zip(taps, extra_columns)):
            cols[:, t, :, : b - a + extra] = packed_groups[:, :, r, off + a : off + b + extra]
        return cols.reshape(g, k * cg, width)

    def correlate(self, packed: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
        """Forward: packed input (C, R, N*P + tail), weight (F, C/G, *K) -> packed output (F, N*P).

        Y[:, block] = W (F, K*C) @ cols[:, block] for blocks of the flat columns; when
        ``splits`` says so (stride 1, two or more axes) the row-split form of the module docstring.
        The result is this thread's ``'conv.result'`` scratch (shared with ``scatter_grad``): unpack
        it before the next correlate or scatter_grad.
        """
        f, cg = w.shape[:2]
        g, fg, k, r = groups, f // groups, len(self.taps), len(self.residues)
        n = (packed.shape[-1] - self.tail) // self.P
        packed_groups = packed.reshape(g, cg, r, packed.shape[-1])  # (G, Cg, R, N*P + tail)
        y = _scratch("conv.result", (g, fg, n * self.P), packed.dtype)  # slots past outputs unset
        if self.splits(cg, fg):
            self._correlate_split(packed_groups, w, groups, y)
            return y.reshape(f, n * self.P)
        w_matrix = w.reshape(g, fg, cg, k).transpose(0, 1, 3, 2).reshape(g, fg, k * cg)  # (k, c)
        blocks = self._blocks(self.n_cols(n), g * k * cg, packed.itemsize)
        buf = _scratch("conv.cols", (g * k * cg * (blocks[0][1] - blocks[0][0]),), packed.dtype)
        for a, b in blocks:
            np.matmul(w_matrix, self._gather(packed_groups, a, b, buf), out=y[:, :, a:b])
        return y.reshape(f, n * self.P)

    def splits(self, c_in: int, c_out: int) -> bool:
        """Whether ``correlate`` takes the row-split form for these channels (per group).

        It gathers (K_out - 1) K_in C_in fewer rows and writes K_out C_out rows of Z (then adds
        them): worth it when those are fewer (at the break-even, as for conv shape (b),
        32 -> 64, it is not split).
        """
        k_in, k_out = len(self.inner_taps), len(self.shifts)
        return self.shiftable and k_out * c_out < (k_out - 1) * k_in * c_in

    def wg_splits(self, c_in: int) -> bool:
        """Whether ``weight_grad`` gathers only ``wg_gathered_taps`` (the rest as views) for
        ``c_in`` channels per group: when each group's GEMM has ``_SPLIT_MIN_ROWS`` rows or more
        (fewer copies, but one GEMM per group, and small GEMMs run at low BLAS efficiency)."""
        return self.wg_split and len(self.wg_gathered_taps) * c_in >= _SPLIT_MIN_ROWS

    def _correlate_split(
        self, packed_groups: np.ndarray, w: np.ndarray, groups: int, y: np.ndarray
    ) -> None:
        """Row-split forward: per block, H = the innermost taps' slices (K_in * Cg rows, reaching
        ``shift[-1]`` columns further), Z = W_stack (K_out * Fg, K_in * Cg) @ H, and
        Y = sum over outer taps o of Z[o][:, shift[o] : shift[o] + B]."""
        f, cg = w.shape[:2]
        g, fg = groups, f // groups
        k_in, k_out, reach = len(self.inner_taps), len(self.shifts), self.shifts[-1]
        n = y.shape[-1] // self.P
        # (G, Fg, Cg, K_out, K_in) -> rows (o, f), columns (k_in, c)
        w_stacked = w.reshape(g, fg, cg, k_out, k_in).transpose(0, 3, 1, 4, 2)
        w_stacked = w_stacked.reshape(g, k_out * fg, k_in * cg)
        blocks = self._blocks(self.n_cols(n), g * k_in * cg, packed_groups.itemsize)
        width = blocks[0][1] - blocks[0][0] + reach
        buf = _scratch("conv.cols", (g * k_in * cg * width,), packed_groups.dtype)
        z_buf = _scratch("conv.shifted", (g * k_out * fg * width,), packed_groups.dtype)
        for a, b in blocks:
            h = self._gather(packed_groups, a, b, buf, self.inner_taps, [reach] * k_in)
            z = z_buf[: g * k_out * fg * h.shape[-1]].reshape(g, k_out, fg, h.shape[-1])
            np.matmul(w_stacked, h, out=z.reshape(g, k_out * fg, -1))  # h: (G, K_in*Cg, .)
            out = y[:, :, a:b]  # (G, Fg, B)
            np.add(
                z[:, 0, :, : b - a], z[:, 1, :, self.shifts[1] : self.shifts[1] + b - a], out=out
            )
            for o in range(2, k_out):
                out += z[:, o, :, self.shifts[o] : self.shifts[o] + b - a]

    def weight_grad(
        self, packed: np.ndarray, dy: np.ndarray, w_shape: Sequence[int], groups: int
    ) -> np.ndarray:
        """Weight gradient of ``correlate``: dW = sum over column blocks of ``dY @ cols^T``.

        Args:
            packed: the packed input (C, R, N*P + tail).
            dy: the packed upstream gradient (F, N*P), zero off the output grid.
            w_shape: the weight's shape (F, C/G, *K).

        Returns:
            dw: (F, C/G, *K). Computed as ``cols (K*C, B) @ dY^T (B, F)`` per block (measured
            a little faster than the other orientation) and summed.
        """
        f, cg = w_shape[:2]
        g, fg, k, r = groups, f // groups, len(self.taps), len(self.residues)
        n = dy.shape[-1] // self.P
        dy_groups = dy.reshape(g, fg, n * self.P)  # (G, Fg, NP)
        packed_groups = packed.reshape(g, cg, r, packed.shape[-1])  # (G, Cg, R, N*P + tail)
        dw_t = np.zeros((g, k * cg, fg), dy.dtype)  # dW transposed: row (k, c), column f
        if self.wg_splits(cg):  # fewer copies: most taps are views of the gathered ones
            self._weight_grad_split(packed_groups, dy_groups, dw_t)
        else:
            blocks = self._blocks(self.n_cols(n), g * k * cg, dy.itemsize)
            buf = _scratch("conv.cols", (g * k * cg * (blocks[0][1] - blocks[0][0]),), dy.dtype)
            part = np.empty_like(dw_t)
            for a, b in blocks:
                cols = self._gather(packed_groups, a, b, buf)
                np.matmul(cols, dy_groups[:, :, a:b].swapaxes(1, 2), out=part)
                dw_t += part
        dw = dw_t.reshape(g, k, cg, fg).transpose(0, 3, 2, 1)  # (G, Fg, Cg, K)
        return np.ascontiguousarray(dw).reshape(f, cg, *self.kernel)

    def _weight_grad_split(
        self, packed_groups: np.ndarray, dy_groups: np.ndarray, dw_t: np.ndarray
    ) -> None:
        """Weight gradient from the gathered taps only: per block, H = ``wg_gathered_taps``'
        slices, and the rows of the taps of group (t0, rows, shift) are
        ``H[:rows, shift : shift + B] @ dY^T`` (a view of H, no further copy)."""
        g, cg = packed_groups.shape[:2]
        fg = dy_groups.shape[1]
        k_in, extra = len(self.wg_gathered_taps), max(self.wg_extra_columns)
        length = self.n_cols(dy_groups.shape[-1] // self.P)
        blocks = self._blocks(length, g * k_in * cg, packed_groups.itemsize)
        width = blocks[0][1] - blocks[0][0] + extra
        buf = _scratch("conv.cols", (g * k_in * cg * width,), packed_groups.dtype)
        parts = {
            rows: np.empty((g, rows * cg, fg), dw_t.dtype) for _, rows, _ in self.wg_tap_groups
        }
        for a, b in blocks:
            # (G, K_in*Cg, B + extra)
            h = self._gather(packed_groups, a, b, buf, self.wg_gathered_taps, self.wg_extra_columns)
            dy_t = dy_groups[:, :, a:b].swapaxes(1, 2)  # (G, B, Fg)
            for t0, rows, shift in self.wg_tap_groups:
                part = parts[rows]
                np.matmul(h[:, : rows * cg, shift : shift + b - a], dy_t, out=part)
                dw_t[:, t0 * cg : (t0 + rows) * cg] += part

    def scatter_grad(self, dy: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
        """Input gradient in packed form, by accumulating shifted slices.

        Per column block, ``dcols = W^T (K*C, F) @ dY[:, block]`` and tap k's rows are added
        onto its shifted slice of ``d_packed``: the adjoint of ``_gather``.

        Shapes:
            dy: (F, N*P), zero off the output grid    w: (F, C/G, *K)
            returns d_packed: (C, R, N*P + tail), this thread's ``'conv.result'`` scratch
            (unpack it before the next scatter_grad or correlate)
        """
        f, cg = w.shape[:2]
        g, fg, k, r = groups, f // groups, len(self.taps), len(self.residues)
        n = dy.shape[-1] // self.P
        dy_groups = dy.reshape(g, fg, n * self.P)  # (G, Fg, NP)
        blocks = self._blocks(self.n_cols(n), g * k * cg, dy.itemsize)
        w_t = w.reshape(g, fg, cg, k).transpose(0, 3, 2, 1).reshape(g, k * cg, fg)  # (k, c) rows
        d_packed = _scratch("conv.result", (g, cg, r, n * self.P + self.tail), dy.dtype, zero=True)
        buf = _scratch("conv.cols", (g * k * cg * (blocks[0][1] - blocks[0][0]),), dy.dtype)
        for a, b in blocks:
            dcols = buf[: g * k * cg * (b - a)].reshape(g, k * cg, b - a)
            np.matmul(w_t, dy_groups[:, :, a:b], out=dcols)
            dcols_by_tap = dcols.reshape(g, k, cg, b - a)
            for t, (phase, off) in enumerate(self.taps):
                d_packed[:, :, phase, off + a : off + b] += dcols_by_tap[:, t]
        return d_packed.reshape(g * cg, r, -1)

    def flips(self, w_shape: Sequence[int], groups: int) -> bool:
        """Whether ``input_grad`` correlates with the flipped kernel (else ``scatter_grad``).

        The flipped correlation gathers F channels per tap where the slice accumulation adds C
        channels per tap, and it runs the faster GEMM (inner dimension K*F rather than F):
        faster when F <= C, slower otherwise. A row-split flipped correlation gathers only the
        innermost taps (K_in F rows), which moves the break-even to F = 2C.
        """
        flip = self.flip_plan
        if flip is None:
            return False
        f, cg = w_shape[0] // groups, w_shape[1]
        return f <= cg * (2 if flip.splits(f, cg) else 1)

    def input_grad(
        self,
        dy: np.ndarray,
        w: np.ndarray,
        groups: int,
        packed_dy: np.ndarray | None = None,
        flip_input: np.ndarray | None = None,
    ) -> np.ndarray:
        """Input gradient, the adjoint of the convolution: (N, F, *O) -> (N, C, *D).

        Stride 1 and ``flips``: a correlation of dy with the flipped kernel (``flip_plan``), on
        ``flip_input`` (``flip_plan.pack_input(dy)``) when the caller has it.
        Otherwise the shifted-slice accumulation of ``scatter_grad`` on ``packed_dy``
        (``pack_output(dy)``, computed here unless the caller already has it).
        """
        n = dy.shape[0]
        if self.flips(w.shape, groups):
            flip = self.flip_plan
            assert flip is not None
            packed = flip.pack_input(dy) if flip_input is None else flip_input
            return flip.unpack_output(
                flip.correlate(packed, flip_kernel(w, groups), groups), n, None
            )
        if packed_dy is None:
            packed_dy = self.pack_output(dy)
        return self.unpack_input(self.scatter_grad(packed_dy, w, groups), n)


def conv_plan(*geometry: Sequence[int] | None) -> ConvPlan:
    """``ConvPlan(*geometry)`` (same positional arguments), shared by every call with the same
    geometry.

    A plan never changes once built (its lazy ``flip_plan`` is a function of the geometry too),
    and building one costs Python time that shows on a small layer (LeNet's first
    convolution), so the ops ask here instead of building their own.
    """
    return _plan_cache(*(None if a is None else tuple(int(v) for v in a) for a in geometry))


@functools.lru_cache(maxsize=256)
def _plan_cache(*args: Any) -> ConvPlan:
    return ConvPlan(*args)


def flip_kernel(w: np.ndarray, groups: int) -> np.ndarray:
    """(F, C/G, *K) -> (C, F/G, *K): channels swapped within each group, every axis reversed.

    Correlating with this kernel is the adjoint of correlating with ``w`` (stride 1).
    """
    f, cg = w.shape[:2]
    w_groups = w.reshape(groups, f // groups, cg, *w.shape[2:])  # (G, Fg, Cg, *K)
    flipped = w_groups[(slice(None),) * 3 + (slice(None, None, -1),) * (w.ndim - 2)]
    return np.ascontiguousarray(flipped.swapaxes(1, 2)).reshape(
        groups * cg, f // groups, *w.shape[2:]
    )
