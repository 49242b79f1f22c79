"""The array-level engine behind every convolution: packed layouts and three GEMM-based kernels.

A convolution (PyTorch's cross-correlation) of a zero-padded input ``xp`` with a kernel ``w``,

    y[n, f, o] = sum_{c, k} w[f, c, k] * xp[n, c, o * s + k * d]      (o, k, s, d: multi-indices)

is computed here without gathering patches pixel by pixel. The idea, for one spatial axis:

* **Phases.** Split the padded axis by stride: phase ``r`` holds the positions ``j * s + r``.
  Tap ``k`` reads position ``o * s + k * d = (o + q) * s + r`` with ``r = (k d) % s`` and
  ``q = (k d) // s``: inside phase ``r`` it is a *shift* by ``q``. With stride 1 there is one
  phase, the padded input itself.
* **Flattening.** Lay every phase out channel-major, ``(C, N * P)`` with all samples and all
  spatial axes flattened (P = product of the phase shape). A shift by ``q`` along each axis is
  then a shift of the flat index by ``off = sum_i q_i * pstride_i``, so for tap ``k`` the whole
  batch of inputs is the contiguous slice ``ph[:, r, off : off + L]``, a plain (C, L) matrix.
  Output position ``o`` of sample ``n`` sits at flat index ``n * P + sum_i o_i * pstride_i``; the
  flat slots with some ``o_i >= O_i`` are computed and thrown away. To keep them few, a row is
  only as long as its data (or outputs) need: a read past its end lands in the next row's
  leading zeros, so neighbouring rows and samples share their zero padding.

So the convolution is one GEMM per kernel tap on shifted views, summed over taps,

    Y (F, L) = sum_k W_k (F, C) @ ph[:, r_k, off_k : off_k + L],

which we compute by stacking the shifted views (im2col, but every copy a contiguous run) and
doing one GEMM with inner dimension K*C:

    Y (F, L) = W (F, K*C) @ cols (K*C, L),     cols[(k, c), j] = ph[c, r_k, off_k + j].

The columns are processed in blocks (at most ``_MAX_BLOCKS`` of them), so the whole ``cols``
matrix never exists at once: each block is gathered into a reused buffer, multiplied, and the
buffer is refilled for the next block.

**Shifts of the outer taps.** With stride 1 and two or more spatial axes, tap ``k = (k_out,
k_in)`` (its indices on the outer axes, and on the innermost one) reads at flat offset
``shift[k_out] + off[k_in]``: the outer taps are the innermost ones shifted by whole rows
(``shiftable``). So only the innermost taps are gathered, ``H[(i, c), j] = ph[c, off[i] + j]``
(K_in * C rows, for ``shift[-1]`` more columns), and

    Z (K_out * F, .) = W_stack (K_out * F, K_in * C) @ H
    Y = sum_o Z[o][:, shift[o] : shift[o] + L]
    dW[k_out = o] = dY @ H[:, shift[o] : shift[o] + L]^T    (views of H: no further copy)

For a 3x3 kernel that gathers 3 copies of the input instead of 9. The forward trades the saved
copies for writing and adding Z, the weight gradient for one GEMM per outer tap, so both
decide by channel counts (``splits``, ``wg_splits``). Measured: 0.84-0.86x the forward+backward
time on conv shape (c), 0.75-0.8x on its forward and weight gradient alone (paired A/B). A 1-d
kernel has no outer taps: its forward keeps plain im2col (splitting its one axis into groups
measured no faster), while its weight gradient gathers the first half of the taps and takes
the others as shifts of them (``wg_groups``; 0.93-0.95x that pass's time on conv shape (e)).

The two gradients are the adjoints of the same linear maps:

    dW = dY (F, L) @ cols^T (L, K*C)                                 (weight gradient)
    dph[:, r_k, off_k : off_k + L] += (W^T (K*C, F) @ dY (F, L))[k]  (input gradient)

where ``dY`` is the upstream gradient packed into the same flat layout with zeros in the thrown-
away slots, so they contribute nothing. The input gradient is therefore a sum of shifted slices
(no scatter with repeated indices, no ``np.add.at``). With stride 1 it is also a correlation in
its own right, of ``dy`` padded by ``d (K - 1) - pad`` with the flipped kernel
(``flip_kernel``), which runs through the forward kernel; ``ConvPlan.flips`` picks the cheaper
route. Groups add a leading batch axis G to every matrix. The transposed convolution reuses the
same kernels with the roles of input and output exchanged (``glassnet.ops.conv``).

Tried and dropped: Winograd F(2x2, 3x3). In NumPy its 16 small GEMMs (inner dimension C) ran
at half the BLAS efficiency of the K*C-deep GEMM here, and the stride-2 tile gathers and
single-threaded transforms ate the 2.25x saving in multiplies (measured 10-50% slower).
Winograd F(4x4, 3x3) (4x fewer multiplies; tiles gathered through this layout with a 6x6
kernel and stride 4, transforms as Kronecker-matrix GEMMs; float32 error 7e-6 of the largest
output) measured 31 ms for the forward of conv shape (c) against 28.5 for im2col: its 36 GEMMs
took 10 ms, the phase split, tile gather, both transforms and the untiling 21 ms. Per-tap
weight-gradient GEMMs on shifted views (no gather at all) ran at lower BLAS efficiency (inner
dimension C): 1.3x slower.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._scratch import scratch as _scratch

# The im2col matrix is built and consumed block by block: a block spans at least _MIN_BLOCK
# columns and _BLOCK_BYTES bytes, and there are at most _MAX_BLOCKS blocks per call, because
# every GEMM call synchronises the BLAS threads, which costs dearly when another process competes
# for the cores. On 2 threads the block count decides: 4 blocks measured 0-5 % faster than 8, and
# 2 blocks 4-11 % slower on (b), (c), (e) though 9 % faster on (d) (paired A/B, conv shapes of
# the benchmarks), so on those shapes
# a block is a quarter of the im2col matrix (4-15 MB in float32), not a cache-sized slab; with
# reused scratch buffers one whole-matrix GEMM was no faster. (Single-threaded, 1 MB blocks
# were 1.3-2x faster than one big matrix.)
_BLOCK_BYTES = 2**20
_MAX_BLOCKS = 4
_MIN_BLOCK = 128
_SPLIT_MIN_ROWS = 32  # see ConvPlan.wg_splits


class ConvPlan:
    """Geometry of one N-d convolution and the maps between NCHW arrays and the packed layout.

    Args:
        in_size: spatial size of the (unpadded) input, ``(D_1, ..., D_n)``.
        kernel: kernel size ``(K_1, ..., K_n)``.
        stride, dilation: per-axis stride and dilation.
        pad_lo, pad_hi: zero padding before and after each axis.
        out_size: the output positions that exist, at most the convolution's own output size
            (defaults to it). The transposed convolution uses fewer when its ``output_padding``
            adds positions that no output of the forward convolution reads.

    Shapes:
        packed input ``ph``: (C, R, N * P + tail), R = phases used, P = prod(phase shape)
        packed output ``Y``/``dY``: (F, N * P)
        ``O_i = floor((D_i + pad_lo_i + pad_hi_i - d_i (K_i - 1) - 1) / s_i) + 1``
    """

    def __init__(
        self,
        in_size: Sequence[int],
        kernel: Sequence[int],
        stride: Sequence[int],
        dilation: Sequence[int],
        pad_lo: Sequence[int],
        pad_hi: Sequence[int],
        out_size: Sequence[int] | None = None,
    ) -> None:
        nd = len(in_size)
        self.in_size = tuple(int(v) for v in in_size)
        self.kernel = tuple(int(v) for v in kernel)
        self.stride = tuple(int(v) for v in stride)
        self.dilation = tuple(int(v) for v in dilation)
        self.pad_lo = tuple(int(v) for v in pad_lo)
        span = [d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel)]  # dilated extent
        padded = [n + lo + hi for n, lo, hi in zip(self.in_size, self.pad_lo, pad_hi)]
        self.full_out = tuple((p - e) // s + 1 for p, e, s in zip(padded, span, self.stride))
        assert all(o >= 1 for o in self.full_out), "kernel larger than the padded input"
        self.out_size = self.full_out if out_size is None else tuple(int(v) for v in out_size)
        assert all(0 <= o <= f for o, f in zip(self.out_size, self.full_out))
        # only padded positions up to the last one a kernel tap reads are ever touched
        used = [(o - 1) * s + e for o, s, e in zip(self.full_out, self.stride, span)]
        # residues of the taps along each axis; the phases used are their product set
        axis_res = [
            sorted({(k * d) % s for k in range(kk)})
            for kk, d, s in zip(self.kernel, self.dilation, self.stride)
        ]
        # per axis and residue r: phase positions [j0, j1) hold input that some tap reads
        bounds = [
            {
                r: (max(0, -(-(lo - r) // s)), min(-(-(u - r) // s), -(-(lo + n - r) // s)))
                for r in res
            }
            for res, s, lo, n, u in zip(axis_res, self.stride, self.pad_lo, self.in_size, used)
        ]
        # Phase grid size per axis: room for the data and the outputs, and no more. A read that
        # runs past the end of a row lands in the next row's leading zeros, so neighbouring rows
        # (and samples) share their zero padding: fewer wasted output slots.
        shape = []
        for i in range(nd):
            size = max([self.full_out[i]] + [j1 for _, j1 in bounds[i].values()])
            for tap in range(self.kernel[i]):
                q, rk = divmod(tap * self.dilation[i], self.stride[i])
                j0, j1 = bounds[i][rk]
                if j1 > j0:  # reads must wrap no further than the next row's zeros
                    size = max(size, self.full_out[i] + q - j0)
            shape.append(size)
        self.phase_shape = tuple(shape)
        self.P = math.prod(self.phase_shape)
        pstride = [math.prod(self.phase_shape[i + 1 :]) for i in range(nd)]

        self.residues = list(itertools.product(*axis_res))
        index = {r: i for i, r in enumerate(self.residues)}
        self.taps: list[tuple[int, int]] = []  # (phase, flat offset) per tap, C order
        for k in itertools.product(*(range(kk) for kk in self.kernel)):
            kd = [ki * d for ki, d in zip(k, self.dilation)]
            r = tuple(v % s for v, s in zip(kd, self.stride))
            off = sum((v // s) * ps for v, s, ps in zip(kd, self.stride, pstride))
            self.taps.append((index[r], off))
        self.max_off = max(off for _, off in self.taps)
        # Stride 1 with more than one spatial axis: tap (k_out, k_in) (outer axes, innermost
        # axis) reads at offset shift[k_out] + off[k_in], so the outer taps are pure shifts of
        # the innermost ones (see "Shifts of the outer taps" in the module docstring).
        inner = self.kernel[-1]
        self.inner_taps = self.taps[:inner]  # (0, off[k_in]): the innermost axis' taps
        self.shifts = [off for _, off in self.taps[::inner]]  # shift[k_out], C order
        stride1 = len(self.residues) == 1
        self.shiftable = stride1 and len(self.shifts) > 1
        # The weight gradient gathers the first m innermost taps; every tap is one of them,
        # shifted: groups (first tap, taps in the group, shift). A 1-d kernel is cut in halves.
        m = inner if self.shiftable else -(-inner // 2)
        self.wg_taps = self.taps[:m]
        self.wg_groups = [
            (o * inner + j, min(m, inner - j), self.taps[o * inner + j][1])
            for o in range(len(self.shifts))
            for j in range(0, inner, m)
        ]
        self.wg_split = stride1 and len(self.wg_groups) > 1 and (self.shiftable or m >= 2)
        # how far past the block each gathered tap must reach (only as far as a group reads it)
        self.wg_reach = [
            max(shift for _, rows, shift in self.wg_groups if rows > i) for i in range(m)
        ]
        # flat index of the last output within a sample; the packed input gets `tail` extra
        # zeros so that the last sample's reads stay inside the array
        self.last_out = sum((o - 1) * ps for o, ps in zip(self.out_size, pstride))
        last_full = sum((o - 1) * ps for o, ps in zip(self.full_out, pstride))
        self.tail = max(0, last_full + self.max_off + 1 - self.P)

        # per phase: where real input sits in the (C, R, N, *P) grid, and where it comes from in
        # the (C, N, *D) input
        self.copies: list[tuple[tuple[Any, ...], tuple[slice, ...]]] = []
        stored = [sum(max(0, j1 - j0) for j0, j1 in b.values()) for b in bounds]
        covered = stored == list(self.in_size)
        for ri, r in enumerate(self.residues):
            dst, src = [], []
            for i in range(nd):
                s, lo = self.stride[i], self.pad_lo[i]
                j0, j1 = bounds[i][r[i]]
                if j1 <= j0:
                    break
                start = j0 * s + r[i] - lo
                dst.append(slice(j0, j1))
                src.append(slice(start, start + (j1 - j0 - 1) * s + 1, s))
            else:
                whole = (slice(None),)
                self.copies.append((whole + (ri,) + whole + tuple(dst), whole * 2 + tuple(src)))
        # every input position lies in some phase: the input gradient needs no zero fill
        self.covers_input = covered
        self._outputs = (slice(None),) * 2 + tuple(slice(0, o) for o in self.out_size)

        # With stride 1 the input gradient is itself a correlation: of the upstream gradient,
        # padded by d (K - 1) - pad, with the flipped kernel (channels swapped). Same kernel as
        # the forward pass, so it runs as fast (no scatter-add, long GEMM inner dimension).
        flip_lo = [d * (k - 1) - lo for d, k, lo in zip(self.dilation, self.kernel, self.pad_lo)]
        flip_hi = [
            n - o + lo for n, o, lo in zip(self.in_size, self.out_size, self.pad_lo)
        ]  # so that the correlation returns exactly D positions
        self._flip_pads = (flip_lo, flip_hi)
        self._flippable = all(s == 1 for s in self.stride) and min(flip_lo + flip_hi) >= 0
        self._flip_plan: ConvPlan | None = None

    @property
    def flip_plan(self) -> ConvPlan | None:
        """The plan of the stride-1 input-gradient correlation (None when stride > 1)."""
        if self._flippable and self._flip_plan is None:
            lo, hi = self._flip_pads
            self._flip_plan = conv_plan(
                self.out_size, self.kernel, self.stride, self.dilation, lo, hi
            )
            assert self._flip_plan.out_size == self.in_size
        return self._flip_plan

    # ----------------------------------------------------------------------- layouts
    def n_cols(self, n: int) -> int:
        """L: flat output slots computed for a batch of n (up to the last sample's last output)."""
        return (n - 1) * self.P + self.last_out + 1

    def pack_input(self, x: np.ndarray, scratch: bool = True, fill: float = 0.0) -> np.ndarray:
        """(N, C, *D) -> padded, phase-split, channel-major (C, R, N * P + tail).

        ``scratch``: build it in this thread's ``'conv.pack_in'`` buffer (``glassnet.ops._scratch``,
        valid until the next scratch pack); ``False`` for a packed input the caller keeps.
        ``fill``: the value of every slot that holds no input (padding; max pooling pads -inf).
        """
        n, c = x.shape[:2]
        r = len(self.residues)
        shape = (c, r, n * self.P + self.tail)
        zero = fill == 0
        flat = (
            _scratch("conv.pack_in", shape, x.dtype, zero=zero)
            if scratch
            else (np.zeros if zero else np.empty)(shape, x.dtype)
        )
        if not zero:
            flat.fill(fill)
        ph = flat[:, :, : n * self.P].reshape(c, r, n, *self.phase_shape)
        split = self._column_classes(x)
        if split is None:
            xt = x.swapaxes(0, 1)  # (C, N, *D) view
            for dst, src in self.copies:
                ph[dst] = xt[src]
            return flat
        # the last axis split first, as whole-array 1-d strided copies (below)
        rows, columns = split
        s, xf = self.stride[-1], x.reshape(-1)
        for c0 in self._classes_used:
            np.copyto(rows[c0], xf[c0::s])
        for dst, src in self.copies:
            start = src[-1].start
            ph[dst] = columns[start % s][src[:-1] + (slice(start // s, None),)][
                ..., : dst[-1].stop - dst[-1].start
            ]
        return flat

    def _column_classes(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """Scratch views (C, N, *D[:-1], D_last / s), one per column class of a strided last axis.

        Splitting by stride along the last axis copies with a stride in the innermost loop,
        which NumPy runs one short row at a time (4 strided copies of conv shape (d)'s input:
        7.5 ms). When the last axis divides by its stride, the input read as one flat array has
        every s-th element in one class, so each class is one long 1-d strided copy, after which
        the phase copies move contiguous rows (2.4 ms). None when that does not apply (stride 1
        on the last axis, a length it does not divide, or a non-contiguous input): the plain
        phase copies then. Returns the buffer, (s, size / s), and its classes' (C, N, ...) views.
        """
        s = self.stride[-1]
        if s == 1 or x.shape[-1] % s or not x.flags.c_contiguous:
            return None
        n, c = x.shape[:2]
        shape = (n, c, *x.shape[2:-1], x.shape[-1] // s)
        buf = _scratch("conv.columns", (s, math.prod(shape)), x.dtype)
        return buf, [buf[c0].reshape(shape).swapaxes(0, 1) for c0 in range(s)]

    @functools.cached_property
    def _classes_used(self) -> set[int]:
        """Column classes (input index mod stride, last axis) that some phase copy reads."""
        return {src[-1].start % self.stride[-1] for _, src in self.copies}

    def unpack_input(self, dph: np.ndarray, n: int) -> np.ndarray:
        """Adjoint of ``pack_input`` restricted to the input: (C, R, N * P + tail) -> (N, C, *D)."""
        c = dph.shape[0]
        dx = np.empty((n, c, *self.in_size), dph.dtype)
        grid = dph[:, :, : n * self.P].reshape(c, len(self.residues), n, *self.phase_shape)
        split = self._column_classes(dx)  # that path writes every element of dx
        if split is None:
            if not self.covers_input:
                dx.fill(0)  # inputs no tap reads get no gradient
            dxt = dx.swapaxes(0, 1)  # (C, N, *D) view
            for dst, src in self.copies:
                dxt[src] = grid[dst]
            return dx
        rows, columns = split
        # the adjoint of pack_input's column split: rows into the classes, then one 1-d
        # strided write per class (classes no phase reads stay zero)
        s, dxf = self.stride[-1], dx.reshape(-1)
        for c0 in range(s):
            if c0 not in self._classes_used or not self.covers_input:
                rows[c0].fill(0)  # inputs no tap reads get no gradient
        for dst, src in self.copies:
            start = src[-1].start
            cols = columns[start % s][src[:-1]]
            cols[..., start // s : start // s + dst[-1].stop - dst[-1].start] = grid[dst]
        for c0 in range(s):
            dxf[c0::s] = rows[c0]
        return dx

    def pack_output(self, y: np.ndarray) -> np.ndarray:
        """(N, F, *O) -> (F, N * P) with zeros in the slots that are not outputs.

        Built in this thread's ``'conv.pack_out'`` scratch (valid until the next pack_output).
        """
        n, f = y.shape[:2]
        flat = _scratch("conv.pack_out", (f, n, *self.phase_shape), y.dtype, zero=True)
        flat[self._outputs] = y.swapaxes(0, 1)
        return flat.reshape(f, n * self.P)

    def pack_upstream(self, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """dy packed once for both products of the backward: ``(pack_output(dy), flip input)``.

        With stride 1 the flipped correlation's packed input (``flip_plan.pack_input(dy)``) is
        usually the same grid as ``pack_output(dy)``, shifted by the flipped padding: then both
        are views of one zero-padded buffer (this thread's ``'conv.pack_out'`` scratch) and the
        second pack of dy is saved (2-5 % of the forward+backward on the benchmark shapes). The
        flip input is ``None`` when the grids differ.
        """
        lead = self._flip_lead
        if lead is None:
            return self.pack_output(dy), None
        fp = self.flip_plan
        assert fp is not None
        n, f = dy.shape[:2]
        size = n * self.P
        buf = _scratch("conv.pack_out", (f, max(lead + size, size + fp.tail)), dy.dtype, zero=True)
        grid = buf[:, lead : lead + size].reshape(f, n, *self.phase_shape)
        grid[self._outputs] = dy.swapaxes(0, 1)
        return buf[:, lead : lead + size], buf[:, None, : size + fp.tail]

    @functools.cached_property
    def _flip_lead(self) -> int | None:
        """Flat offset of dy in the flipped correlation's packed input when that input is the
        packed output grid shifted (same phase grid); None otherwise."""
        fp = self.flip_plan
        if fp is None or fp.phase_shape != self.phase_shape:
            return None
        pstride = [math.prod(self.phase_shape[i + 1 :]) for i in range(len(self.phase_shape))]
        return sum(lo * ps for lo, ps in zip(fp.pad_lo, pstride))

    def unpack_output(self, flat: np.ndarray, n: int, bias: np.ndarray | None) -> np.ndarray:
        """(F, N * P) -> (N, F, *O), adding ``bias`` (F,) on the way."""
        f = flat.shape[0]
        grid = flat.reshape(f, n, *self.phase_shape)
        src = grid[self._outputs]
        y = np.empty((n, f, *self.out_size), flat.dtype)
        if bias is None:
            np.copyto(y.swapaxes(0, 1), src)
        else:
            np.add(src, bias.reshape((f,) + (1,) * (src.ndim - 1)), out=y.swapaxes(0, 1))
        return y

    # ----------------------------------------------------------------------- kernels
    def _blocks(self, length: int, rows: int, itemsize: int) -> list[tuple[int, int]]:
        """Split the L flat columns into blocks: at most _MAX_BLOCKS, each >= _BLOCK_BYTES."""
        width = max(_MIN_BLOCK, _BLOCK_BYTES // max(rows * itemsize, 1), -(-length // _MAX_BLOCKS))
        return [(a, min(a + width, length)) for a in range(0, length, width)]

    def _gather(
        self,
        ph4: np.ndarray,
        a: int,
        b: int,
        buf: np.ndarray,
        taps: list[tuple[int, int]] | None = None,
        reach: Sequence[int] | None = None,
    ) -> np.ndarray:
        """im2col of flat columns [a, b): (G, Cg, R, NP) -> (G, K * Cg, b - a), row (k, c).

        Each tap is one shifted slice of the packed input, so every copy is a run of
        contiguous memory. ``taps``: gather only these (default: all of ``self.taps``);
        ``reach``: tap i covers ``reach[i]`` more columns (the matrix is ``max(reach)`` wider;
        the columns a tap does not reach are left unset).
        """
        taps = self.taps if taps is None else taps
        reach = [0] * len(taps) if reach is None else reach
        g, cg = ph4.shape[:2]
        k, width = len(taps), b - a + max(reach)
        if k == 1:  # a 1x1 kernel (any stride): the slice itself is the matrix
            r, off = taps[0]
            return ph4[:, :, r, off + a : off + a + width]
        cols = buf[: g * k * cg * width].reshape(g, k, cg, width)
        for t, ((r, off), extra) in enumerate(zip(taps, reach)):
            cols[:, t, :, : b - a + extra] = ph4[:, :, r, off + a : off + b + extra]
        return cols.reshape(g, k * cg, width)

    def correlate(self, ph: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
        """Forward: packed input (C, R, N*P + tail), weight (F, C/G, *K) -> packed output (F, N*P).

        Y[:, block] = W (F, K*C) @ cols[:, block] for blocks of the flat columns; when
        ``splits`` says so (stride 1, two or more axes) the row-split form of the module docstring.
        The result is this thread's ``'conv.result'`` scratch (shared with ``scatter_grad``): unpack
        it before the next correlate or scatter_grad.
        """
        f, cg = w.shape[:2]
        g, fg, k, r = groups, f // groups, len(self.taps), len(self.residues)
        n = (ph.shape[-1] - self.tail) // self.P
        ph4 = ph.reshape(g, cg, r, ph.shape[-1])
        y = _scratch("conv.result", (g, fg, n * self.P), ph.dtype)  # slots past the outputs unset
        if self.splits(cg, fg):
            self._correlate_split(ph4, w, groups, y)
            return y.reshape(f, n * self.P)
        wmat = w.reshape(g, fg, cg, k).transpose(0, 1, 3, 2).reshape(g, fg, k * cg)  # (k, c)
        blocks = self._blocks(self.n_cols(n), g * k * cg, ph.itemsize)
        buf = _scratch("conv.cols", (g * k * cg * (blocks[0][1] - blocks[0][0]),), ph.dtype)
        for a, b in blocks:
            np.matmul(wmat, self._gather(ph4, a, b, buf), out=y[:, :, a:b])  # (G, Fg, B)
        return y.reshape(f, n * self.P)

    def splits(self, c_in: int, c_out: int) -> bool:
        """Whether ``correlate`` takes the row-split form for these channels (per group).

        It gathers (K_out - 1) K_in C_in fewer rows and writes K_out C_out rows of Z (then adds
        them): worth it when those are fewer. Measured (forward alone, 3x3 unless noted):
        64 -> 64 0.87x, 32 -> 32 0.8x, 16 -> 16 0.77x, 8 -> 8 0.8x, 32 -> 32 5x5 0.5x; at the
        break-even 32 -> 64 (conv shape (b)) 1.03x, so not split; LeNet's 1 -> 6, 5x5 1.13x.
        """
        k_in, k_out = len(self.inner_taps), len(self.shifts)
        return self.shiftable and k_out * c_out < (k_out - 1) * k_in * c_in

    def wg_splits(self, c_in: int) -> bool:
        """Whether ``weight_grad`` gathers only ``wg_taps`` (the rest as views) for ``c_in``
        channels per group: when each group's GEMM has ``_SPLIT_MIN_ROWS`` rows or more (fewer
        copies, but one GEMM per group; measured with 3x3 kernels: 8 -> 16 1.12x the time,
        16 -> 32 0.87x, 32 -> 64 0.85x; LeNet's 1 -> 6, 5x5 1.4x; 1-d 64 -> 64, k5 0.94x)."""
        return self.wg_split and len(self.wg_taps) * c_in >= _SPLIT_MIN_ROWS

    def _correlate_split(self, ph4: np.ndarray, w: np.ndarray, groups: int, y: np.ndarray) -> None:
        """Row-split forward: per block, H = the innermost taps' slices (K_in * Cg rows, reaching
        ``shift[-1]`` columns further), Z = W_stack (K_out * Fg, K_in * Cg) @ H, and
        Y = sum over outer taps o of Z[o][:, shift[o] : shift[o] + B]."""
        f, cg = w.shape[:2]
        g, fg = groups, f // groups
        k_in, k_out, reach = len(self.inner_taps), len(self.shifts), self.shifts[-1]
        n = y.shape[-1] // self.P
        # (G, Fg, Cg, K_out, K_in) -> rows (o, f), columns (k_in, c)
        wst = w.reshape(g, fg, cg, k_out, k_in).transpose(0, 3, 1, 4, 2)
        wst = wst.reshape(g, k_out * fg, k_in * cg)
        blocks = self._blocks(self.n_cols(n), g * k_in * cg, ph4.itemsize)
        width = blocks[0][1] - blocks[0][0] + reach
        buf = _scratch("conv.cols", (g * k_in * cg * width,), ph4.dtype)
        zbuf = _scratch("conv.shifted", (g * k_out * fg * width,), ph4.dtype)
        for a, b in blocks:
            h = self._gather(ph4, a, b, buf, self.inner_taps, [reach] * k_in)  # (G, K_in*Cg, .)
            z = zbuf[: g * k_out * fg * h.shape[-1]].reshape(g, k_out, fg, h.shape[-1])
            np.matmul(wst, h, out=z.reshape(g, k_out * fg, -1))
            out = y[:, :, a:b]  # (G, Fg, B)
            np.add(
                z[:, 0, :, : b - a], z[:, 1, :, self.shifts[1] : self.shifts[1] + b - a], out=out
            )
            for o in range(2, k_out):
                out += z[:, o, :, self.shifts[o] : self.shifts[o] + b - a]

    def weight_grad(
        self, ph: np.ndarray, dy: np.ndarray, w_shape: Sequence[int], groups: int
    ) -> np.ndarray:
        """Weight gradient of ``correlate``: dW = sum over column blocks of ``dY @ cols^T``.

        Args:
            ph: the packed input (C, R, N*P + tail).
            dy: the packed upstream gradient (F, N*P), zero off the output grid.
            w_shape: the weight's shape (F, C/G, *K).

        Returns:
            dw: (F, C/G, *K). Computed as ``cols (K*C, B) @ dY^T (B, F)`` per block (measured
            a little faster than the other orientation) and summed.
        """
        f, cg = w_shape[:2]
        g, fg, k, r = groups, f // groups, len(self.taps), len(self.residues)
        n = dy.shape[-1] // self.P
        dy3 = dy.reshape(g, fg, n * self.P)  # (G, Fg, NP)
        ph4 = ph.reshape(g, cg, r, ph.shape[-1])
        dwt = np.zeros((g, k * cg, fg), dy.dtype)  # row (k, c), column f
        if self.wg_splits(cg):  # fewer copies: most taps are views of the gathered ones
            self._weight_grad_split(ph4, dy3, dwt)
        else:
            blocks = self._blocks(self.n_cols(n), g * k * cg, dy.itemsize)
            buf = _scratch("conv.cols", (g * k * cg * (blocks[0][1] - blocks[0][0]),), dy.dtype)
            part = np.empty_like(dwt)
            for a, b in blocks:
                np.matmul(self._gather(ph4, a, b, buf), dy3[:, :, a:b].swapaxes(1, 2), out=part)
                dwt += part
        dw = dwt.reshape(g, k, cg, fg).transpose(0, 3, 2, 1)  # (G, Fg, Cg, K)
        return np.ascontiguousarray(dw).reshape(f, cg, *self.kernel)

    def _weight_grad_split(self, ph4: np.ndarray, dy3: np.ndarray, dwt: np.ndarray) -> None:
        """Weight gradient from the gathered taps only: per block, H = ``wg_taps``' slices, and
        the rows of the taps of group (t0, rows, shift) are ``H[:rows, shift : shift + B] @ dY^T``
        (a view of H, no further copy)."""
        g, cg = ph4.shape[:2]
        fg = dy3.shape[1]
        k_in, extra = len(self.wg_taps), max(self.wg_reach)
        blocks = self._blocks(self.n_cols(dy3.shape[-1] // self.P), g * k_in * cg, ph4.itemsize)
        buf = _scratch(
            "conv.cols", (g * k_in * cg * (blocks[0][1] - blocks[0][0] + extra),), ph4.dtype
        )
        parts = {rows: np.empty((g, rows * cg, fg), dwt.dtype) for _, rows, _ in self.wg_groups}
        for a, b in blocks:
            h = self._gather(ph4, a, b, buf, self.wg_taps, self.wg_reach)  # (G, K_in*Cg, B+extra)
            dy_t = dy3[:, :, a:b].swapaxes(1, 2)  # (G, B, Fg)
            for t0, rows, shift in self.wg_groups:
                part = parts[rows]
                np.matmul(h[:, : rows * cg, shift : shift + b - a], dy_t, out=part)
                dwt[:, t0 * cg : (t0 + rows) * cg] += part

    def scatter_grad(self, dy: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
        """Input gradient in packed form, by accumulating shifted slices.

        Per column block, ``dcols = W^T (K*C, F) @ dY[:, block]`` and tap k's rows are added
        onto its shifted slice of ``dph``: the adjoint of ``_gather``.

        Shapes:
            dy: (F, N*P), zero off the output grid    w: (F, C/G, *K)
            returns dph: (C, R, N*P + tail), this thread's ``'conv.result'`` scratch (unpack it
            before the next scatter_grad or correlate)
        """
        f, cg = w.shape[:2]
        g, fg, k, r = groups, f // groups, len(self.taps), len(self.residues)
        n = dy.shape[-1] // self.P
        dy3 = dy.reshape(g, fg, n * self.P)  # (G, Fg, NP)
        blocks = self._blocks(self.n_cols(n), g * k * cg, dy.itemsize)
        wmat_t = w.reshape(g, fg, cg, k).transpose(0, 3, 2, 1).reshape(g, k * cg, fg)  # (k, c) rows
        dph = _scratch("conv.result", (g, cg, r, n * self.P + self.tail), dy.dtype, zero=True)
        buf = _scratch("conv.cols", (g * k * cg * (blocks[0][1] - blocks[0][0]),), dy.dtype)
        for a, b in blocks:
            dcols = buf[: g * k * cg * (b - a)].reshape(g, k * cg, b - a)
            np.matmul(wmat_t, dy3[:, :, a:b], out=dcols)
            dcols4 = dcols.reshape(g, k, cg, b - a)
            for t, (ri, off) in enumerate(self.taps):
                dph[:, :, ri, off + a : off + b] += dcols4[:, t]
        return dph.reshape(g * cg, r, -1)

    def flips(self, w_shape: Sequence[int], groups: int) -> bool:
        """Whether ``input_grad`` correlates with the flipped kernel (else ``scatter_grad``).

        The flipped correlation gathers F channels per tap where the slice accumulation adds C
        channels per tap, and it runs the faster GEMM (inner dimension K*F rather than F):
        measured faster when F <= C, slower otherwise (a LeNet-like layer, C = 1, F = 6: 5x).
        A row-split flipped correlation gathers only the innermost taps (K_in F rows), which
        moves the break-even: measured faster up to F = 2C (conv shape (b), 32 -> 64, k3: 0.92x
        the time; a 3-d layer 16 -> 32: 0.72x), slower at F = 4C (1.2x).
        """
        fp = self.flip_plan
        if fp is None:
            return False
        f, cg = w_shape[0] // groups, w_shape[1]
        return f <= cg * (2 if fp.splits(f, cg) else 1)

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
            fp = self.flip_plan
            assert fp is not None
            ph = fp.pack_input(dy) if flip_input is None else flip_input
            return fp.unpack_output(fp.correlate(ph, flip_kernel(w, groups), groups), n, None)
        if packed_dy is None:
            packed_dy = self.pack_output(dy)
        return self.unpack_input(self.scatter_grad(packed_dy, w, groups), n)


def conv_plan(*geometry: Sequence[int] | None) -> ConvPlan:
    """``ConvPlan(*geometry)`` (same positional arguments), shared by every call with the same
    geometry.

    A plan never changes once built (its lazy ``flip_plan`` is a function of the geometry too),
    and building one costs 0.1-0.3 ms of Python, about 5 % of the forward+backward of a small
    layer (LeNet's first convolution), so the ops ask here instead of building their own.
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
    wg = w.reshape(groups, f // groups, cg, *w.shape[2:])  # (G, Fg, Cg, *K)
    flipped = wg[(slice(None),) * 3 + (slice(None, None, -1),) * (w.ndim - 2)]
    return np.ascontiguousarray(flipped.swapaxes(1, 2)).reshape(
        groups * cg, f // groups, *w.shape[2:]
    )
