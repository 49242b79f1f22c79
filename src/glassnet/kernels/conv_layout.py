"""The packed layout of a convolution: padding, phase split and flattening, and the maps to it.

A convolution (PyTorch's cross-correlation) of a zero-padded input ``xp`` with a kernel ``w``,

    y[n, f, o] = sum_{c, k} w[f, c, k] * xp[n, c, o * s + k * d]      (o, k, s, d: multi-indices)

is computed by the GEMM kernels of ``glassnet.kernels.conv_gemm`` without gathering patches
pixel by pixel, on the layout built here. The idea, for one spatial axis:

* **Phases.** Split the padded axis by stride: phase ``r`` holds the positions ``j * s + r``.
  Tap ``k`` reads position ``o * s + k * d = (o + q) * s + r`` with ``r = (k d) % s`` and
  ``q = (k d) // s``: inside phase ``r`` it is a *shift* by ``q``. With stride 1 there is one
  phase, the padded input itself.
* **Flattening.** Lay every phase out channel-major, ``(C, N * P)`` with all samples and all
  spatial axes flattened (P = product of the phase shape). A shift by ``q`` along each axis is
  then a shift of the flat index by ``off = sum_i q_i * pstride_i``, so for tap ``k`` the whole
  batch of inputs is the contiguous slice ``packed[:, r, off : off + L]``, a plain (C, L) matrix.
  Output position ``o`` of sample ``n`` sits at flat index ``n * P + sum_i o_i * pstride_i``; the
  flat slots with some ``o_i >= O_i`` are computed and thrown away. To keep them few, a row is
  only as long as its data (or outputs) need: a read past its end lands in the next row's
  leading zeros, so neighbouring rows and samples share their zero padding.

``ConvLayout`` holds that geometry (phase grid, per-tap phase and flat offset) and the maps
between NCHW arrays and the packed form; max and average pooling use it too.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .scratch import scratch as _scratch

# unpack_output adds the bias in the crop itself (one fused pass) only for outputs larger than
# this; smaller ones are copied, then the bias is added in place (see unpack_output)
_FUSED_BIAS_BYTES = 2**23
# unpack_output gathers outputs with rows of at most _GATHER_ROW elements through a flat index
# (np.take) when the output has at most _GATHER_SIZE elements; indices for the last
# _GATHER_CACHED (F, N) pairs of a layout are kept
_GATHER_ROW = 4
_GATHER_SIZE = 2**18
_GATHER_CACHED = 4


class ConvLayout:
    """Geometry of one N-d convolution and the maps between NCHW arrays and the packed layout.

    Args:
        in_size: spatial size of the (unpadded) input, ``(D_1, ..., D_n)``.
        kernel: kernel size ``(K_1, ..., K_n)``.
        stride, dilation: per-axis stride and dilation.
        pad_lo, pad_hi: zero padding before and after each axis.
        out_size: the output positions that exist, at most the convolution's own output size
            (defaults to it). The transposed convolution uses fewer when its ``output_padding``
            adds positions that no output of the forward convolution reads.

    Attributes:
        full_out: the convolution's own output size; ``out_size`` the outputs that exist.
        phase_shape: the grid of one phase of one sample; ``P`` its size (flat slots per sample).
        residues: the phases used, one stride residue per axis each; R = ``len(residues)``.
        taps: ``(phase index, flat offset)`` of every kernel tap, in C order.
        max_tap_offset: the largest flat offset of a tap.
        last_output_offset: flat index of the last output within a sample.
        tail: zeros after the last sample so that its taps' reads stay inside the array.
        phase_copies: per phase, ``(where in the (C, R, N, *phase_shape) grid, where in the
            (C, N, *D) input)`` of the input positions that phase holds.
        covers_input: whether every input position lies in some phase.

    Shapes:
        packed input: (C, R, N * P + tail)
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
        read_end = [(o - 1) * s + e for o, s, e in zip(self.full_out, self.stride, span)]
        # residues of the taps along each axis; the phases used are their product set
        axis_residues = [
            sorted({(k * d) % s for k in range(kk)})
            for kk, d, s in zip(self.kernel, self.dilation, self.stride)
        ]
        # per axis and residue r: phase positions [j0, j1) hold input that some tap reads
        input_ranges = [
            {
                r: (max(0, -(-(lo - r) // s)), min(-(-(end - r) // s), -(-(lo + n - r) // s)))
                for r in residues
            }
            for residues, s, lo, n, end in zip(
                axis_residues, self.stride, self.pad_lo, self.in_size, read_end
            )
        ]
        # Phase grid size per axis: room for the data and the outputs, and no more. A read that
        # runs past the end of a row lands in the next row's leading zeros, so neighbouring rows
        # (and samples) share their zero padding: fewer wasted output slots.
        grid = []
        for i in range(nd):
            size = max([self.full_out[i]] + [j1 for _, j1 in input_ranges[i].values()])
            for tap in range(self.kernel[i]):
                shift, residue = divmod(tap * self.dilation[i], self.stride[i])
                j0, j1 = input_ranges[i][residue]
                if j1 > j0:  # reads must wrap no further than the next row's zeros
                    size = max(size, self.full_out[i] + shift - j0)
            grid.append(size)
        self.phase_shape = tuple(grid)
        self.P = math.prod(self.phase_shape)
        self._phase_strides = [math.prod(self.phase_shape[i + 1 :]) for i in range(nd)]

        self.residues = list(itertools.product(*axis_residues))
        phase_of = {r: i for i, r in enumerate(self.residues)}
        self.taps: list[tuple[int, int]] = []  # (phase, flat offset) per tap, C order
        for k in itertools.product(*(range(kk) for kk in self.kernel)):
            dilated = [ki * d for ki, d in zip(k, self.dilation)]  # k * d per axis
            r = tuple(v % s for v, s in zip(dilated, self.stride))
            off = sum((v // s) * ps for v, s, ps in zip(dilated, self.stride, self._phase_strides))
            self.taps.append((phase_of[r], off))
        self.max_tap_offset = max(off for _, off in self.taps)
        # flat index of the last output within a sample; the packed input gets `tail` extra
        # zeros so that the last sample's reads stay inside the array
        self.last_output_offset = self.flat_offset(o - 1 for o in self.out_size)
        last_full = self.flat_offset(o - 1 for o in self.full_out)
        self.tail = max(0, last_full + self.max_tap_offset + 1 - self.P)

        # per phase: where real input sits in the (C, R, N, *P) grid, and where it comes from in
        # the (C, N, *D) input
        self.phase_copies: list[tuple[tuple[Any, ...], tuple[slice, ...]]] = []
        stored = [sum(max(0, j1 - j0) for j0, j1 in ranges.values()) for ranges in input_ranges]
        for phase, r in enumerate(self.residues):
            dst, src = [], []
            for i in range(nd):
                s, lo = self.stride[i], self.pad_lo[i]
                j0, j1 = input_ranges[i][r[i]]
                if j1 <= j0:
                    break
                start = j0 * s + r[i] - lo
                dst.append(slice(j0, j1))
                src.append(slice(start, start + (j1 - j0 - 1) * s + 1, s))
            else:
                whole = (slice(None),)
                self.phase_copies.append(
                    (whole + (phase,) + whole + tuple(dst), whole * 2 + tuple(src))
                )
        # every input position lies in some phase: the input gradient needs no zero fill
        self.covers_input = stored == list(self.in_size)
        self._output_region = (slice(None),) * 2 + tuple(slice(0, o) for o in self.out_size)

    def flat_offset(self, index: Any) -> int:
        """Flat offset within one sample's phase grid of the multi-index ``index``."""
        return sum(i * ps for i, ps in zip(index, self._phase_strides))

    def n_cols(self, n: int) -> int:
        """L: flat output slots computed for a batch of n (up to the last sample's last output)."""
        return (n - 1) * self.P + self.last_output_offset + 1

    def packed_size(self, n: int) -> int:
        """Elements per channel of the packed input of a batch of n: ``R * (N * P + tail)``."""
        return len(self.residues) * (n * self.P + self.tail)

    def pack_input(self, x: np.ndarray, scratch: bool = True, fill: float = 0.0) -> np.ndarray:
        """(N, C, *D) -> padded, phase-split, channel-major (C, R, N * P + tail).

        ``scratch``: build it in this thread's ``'conv.pack_in'`` buffer
        (``glassnet.kernels.scratch``, valid until the next scratch pack); ``False`` for a packed
        input the caller keeps.
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
        grid = flat[:, :, : n * self.P].reshape(c, r, n, *self.phase_shape)
        split = self._column_classes(x)
        if split is None:
            x_by_channel = x.swapaxes(0, 1)  # (C, N, *D) view
            for dst, src in self.phase_copies:
                grid[dst] = x_by_channel[src]
            return flat
        # the last axis split first, as whole-array 1-d strided copies (below)
        class_rows, class_views = split
        s, x_flat = self.stride[-1], x.reshape(-1)
        for cls in self._column_classes_read:
            np.copyto(class_rows[cls], x_flat[cls::s])
        for dst, src in self.phase_copies:
            start = src[-1].start
            grid[dst] = class_views[start % s][src[:-1] + (slice(start // s, None),)][
                ..., : dst[-1].stop - dst[-1].start
            ]
        return flat

    def _column_classes(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """Scratch views (C, N, *D[:-1], D_last / s), one per column class of a strided last axis.

        Splitting by stride along the last axis copies with a stride in the innermost loop,
        which NumPy runs one short row at a time, which is slow. When the last axis divides by
        its stride, the input read as one flat array has every s-th element in one class, so
        each class is one long 1-d strided copy, after which the phase copies move contiguous
        rows. None when that does not apply (stride 1 on the last axis, a length it does not
        divide, or a non-contiguous input): the plain phase copies then. Returns the buffer,
        (s, size / s), and its classes' (C, N, ...) views.
        """
        s = self.stride[-1]
        if s == 1 or x.shape[-1] % s or not x.flags.c_contiguous:
            return None
        n, c = x.shape[:2]
        shape = (n, c, *x.shape[2:-1], x.shape[-1] // s)
        buf = _scratch("conv.columns", (s, math.prod(shape)), x.dtype)
        return buf, [buf[cls].reshape(shape).swapaxes(0, 1) for cls in range(s)]

    @functools.cached_property
    def _column_classes_read(self) -> set[int]:
        """Column classes (input index mod stride, last axis) that some phase copy reads."""
        return {src[-1].start % self.stride[-1] for _, src in self.phase_copies}

    def unpack_input(self, d_packed: np.ndarray, n: int) -> np.ndarray:
        """Adjoint of ``pack_input`` restricted to the input: (C, R, N * P + tail) -> (N, C, *D)."""
        c = d_packed.shape[0]
        dx = np.empty((n, c, *self.in_size), d_packed.dtype)
        grid = d_packed[:, :, : n * self.P].reshape(c, len(self.residues), n, *self.phase_shape)
        split = self._column_classes(dx)  # that path writes every element of dx
        if split is None:
            if not self.covers_input:
                dx.fill(0)  # inputs no tap reads get no gradient
            dx_by_channel = dx.swapaxes(0, 1)  # (C, N, *D) view
            for dst, src in self.phase_copies:
                dx_by_channel[src] = grid[dst]
            return dx
        class_rows, class_views = split
        # the adjoint of pack_input's column split: rows into the classes, then one 1-d
        # strided write per class (classes no phase reads stay zero)
        s, dx_flat = self.stride[-1], dx.reshape(-1)
        for cls in range(s):
            if cls not in self._column_classes_read or not self.covers_input:
                class_rows[cls].fill(0)  # inputs no tap reads get no gradient
        for dst, src in self.phase_copies:
            start = src[-1].start
            view = class_views[start % s][src[:-1]]
            view[..., start // s : start // s + dst[-1].stop - dst[-1].start] = grid[dst]
        for cls in range(s):
            dx_flat[cls::s] = class_rows[cls]
        return dx

    def pack_output(self, y: np.ndarray) -> np.ndarray:
        """(N, F, *O) -> (F, N * P) with zeros in the slots that are not outputs.

        Built in this thread's ``'conv.pack_out'`` scratch (valid until the next pack_output).
        """
        n, f = y.shape[:2]
        flat = _scratch("conv.pack_out", (f, n, *self.phase_shape), y.dtype, zero=True)
        flat[self._output_region] = y.swapaxes(0, 1)
        return flat.reshape(f, n * self.P)

    def unpack_output(self, flat: np.ndarray, n: int, bias: np.ndarray | None) -> np.ndarray:
        """(F, N * P) -> (N, F, *O), adding ``bias`` (F,) on the way.

        The crop copies one output row (the last axis) per NumPy inner loop. On rows of at most
        ``_GATHER_ROW`` it is one ``np.take`` over a cached flat index instead
        (``_output_index``). A three-operand ``np.add`` into the strided target costs about
        twice a plain copy per row, so on small outputs (short rows, in cache) the bias is added
        afterwards, in place on the contiguous result, one (n, f) plane per inner loop; on large
        ones the fused add is cheaper than the second pass (docs/benchmarks.md, End to end).
        """
        f = flat.shape[0]
        grid = flat.reshape(f, n, *self.phase_shape)
        src = grid[self._output_region]
        y = np.empty((n, f, *self.out_size), flat.dtype)
        index = self._output_index(f, n) if flat.flags.c_contiguous else None
        if index is not None:  # rows too short for a strided copy: one gather
            np.take(flat.reshape(-1), index, out=y.reshape(-1), mode="clip")
        elif bias is not None and y.nbytes > _FUSED_BIAS_BYTES:
            np.add(src, bias.reshape((f,) + (1,) * (src.ndim - 1)), out=y.swapaxes(0, 1))
            return y
        else:
            np.copyto(y.swapaxes(0, 1), src)
        if bias is not None:
            planes = y.reshape(n, f, math.prod(self.out_size))  # a view of y
            planes += bias[:, None]
        return y

    def _output_index(self, f: int, n: int) -> np.ndarray | None:
        """Flat index into the (F, N * P) packed output of each element of (N, F, *O), C order,
        when the output rows are at most ``_GATHER_ROW`` long and the output at most
        ``_GATHER_SIZE`` elements (else None); cached for the last few (F, N).

        A strided copy costs one NumPy inner loop per row, which on rows of 4 takes longer than
        ``np.take`` over a ready index (docs/benchmarks.md, End to end).
        """
        size = f * n * math.prod(self.out_size)
        if self.out_size[-1] > _GATHER_ROW or size > _GATHER_SIZE:
            return None
        cache: dict[tuple[int, int], np.ndarray] = self.__dict__.setdefault("_gather_index", {})
        index = cache.get((f, n))
        if index is None:
            grid = np.arange(f * n * self.P).reshape(f, n, *self.phase_shape)
            index = np.ascontiguousarray(grid[self._output_region].swapaxes(0, 1)).reshape(-1)
            if len(cache) >= _GATHER_CACHED:
                del cache[next(iter(cache))]  # the oldest
            cache[(f, n)] = index
        return index


def same_padding(kernel: Sequence[int], dilation: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """PyTorch's ``padding='same'`` (stride 1): total ``d (K - 1)`` per axis, ``total // 2``
    before and the rest after."""
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    return tuple((t // 2, t - t // 2) for t in totals)


def transpose_out_size(
    in_size: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    output_padding: Sequence[int],
    dilation: Sequence[int],
) -> tuple[int, ...]:
    """Output size of a transposed convolution: ``(D - 1) s - 2 p + d (K - 1) + op + 1``."""
    return tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, k, s, p, op, d in zip(in_size, kernel, stride, padding, output_padding, dilation)
    )
