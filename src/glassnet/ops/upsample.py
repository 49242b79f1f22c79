"""Resampling by interpolation: ``F.interpolate`` (and ``nn.Upsample``) as PyTorch computes it.

Interpolation is separable: along each spatial axis, output position ``j`` is a weighted sum of a
few input positions,

    y[.., j, ..] = sum_t w_t[j] * x[.., i_t[j], ..]      (t: 1 tap nearest, 2 linear, 4 cubic)

so the op is the product of one small linear map per axis, ``A (O, I)`` with ``A[j, i_t[j]] +=
w_t[j]``. The forward gathers the taps (``np.take``, O(O) work per line, and a NaN or inf reaches
only the outputs that read it, as in PyTorch); the backward is the adjoint, ``A^T`` applied along
each axis as a matrix product (no scatter-add; in row blocks on long axes, ``adjoint_along``).

Source positions follow PyTorch's CPU kernels exactly (``aten/src/ATen/native/UpSample.h``):

* ``scale = (I - 1) / (O - 1)`` with ``align_corners`` (0 when O = 1); otherwise
  ``1 / scale_factor`` when a scale factor reaches the kernel (given, and
  ``recompute_scale_factor`` not set), else ``I / O``;
* nearest: ``i = min(floor(j * scale), I - 1)``; nearest-exact:
  ``i = min(floor(max(scale (j + 0.5) - 0.5, 0) + 0.5), I - 1)``;
* linear: ``src = scale j`` (align_corners) or ``max(scale (j + 0.5) - 0.5, 0)``;
  ``i0 = min(floor(src), I - 1)``, ``i1 = min(i0 + 1, I - 1)``, ``w1 = clamp(src - i0, 0, 1)``,
  ``w0 = 1 - w1``; an axis whose size does not change is copied;
* cubic (Keys, a = -0.75): ``src`` as linear but not clamped at 0, taps ``i0 - 1 .. i0 + 2``
  clamped to the edge;
* the floor is taken in float32 (PyTorch's ``floorf``), the rest in the tensor's precision.

``area`` is adaptive average pooling (as in PyTorch). Output size: ``size``, or
``floor(D_i * scale_factor_i)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.pooling import along
from ._util import check_floating, require_tensor, shape_str
from .pool import AdaptiveAvgPool

# mode -> number of spatial dimensions it takes (None: 1, 2 or 3)
_MODES: dict[str, int | None] = {
    "nearest": None,
    "nearest-exact": None,
    "area": None,
    "linear": 1,
    "bilinear": 2,
    "bicubic": 2,
    "trilinear": 3,
}
_CUBIC_A = -0.75

Taps = list[tuple[np.ndarray, np.ndarray | None]]
# the backward multiplies by one axis' whole (O, I) map up to this many entries (16 MB in
# float32), in blocks of rows beyond it (adjoint_along)
_DENSE_LIMIT = 2**22


def _scale(n_in: int, n_out: int, align_corners: bool, scale: float | None, ft: type) -> Any:
    """PyTorch's ``area_pixel_compute_scale``: input positions per output position."""
    if align_corners:
        return ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n_in) / ft(n_out)


def _floorf(v: np.ndarray) -> np.ndarray:
    """``floorf``: PyTorch floors source positions in float32, whatever the tensor's dtype."""
    return np.floor(v.astype(np.float32)).astype(np.int64)


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """Keys' cubic convolution weights of the taps at offsets -1, 0, 1, 2 from ``floor(src)``."""
    a = _CUBIC_A

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def interpolation_taps(
    n_in: int,
    n_out: int,
    mode: str,
    align_corners: bool = False,
    scale: float | None = None,
    dtype: Any = np.float64,
    size_rules: bool = False,
) -> Taps:
    """The taps of one axis: ``y[j] = sum_t w_t[j] * x[i_t[j]]``, as ``[(i_t, w_t), ...]``.

    ``w_t`` is None for nearest modes (weight 1). ``scale`` is the scale factor that reaches
    PyTorch's kernel (None: computed from the sizes). ``size_rules``: PyTorch's 2-d nearest
    kernel copies an axis that keeps its size and maps ``j -> j // 2`` on one that doubles,
    whatever the scale factor (its 1-d and 3-d kernels do not; measured on torch 2.13).

    >>> [(i.tolist(), w.tolist()) for i, w in interpolation_taps(2, 4, "linear")]
    [([0, 0, 0, 1], [1.0, 0.75, 0.25, 0.75]), ([1, 1, 1, 1], [0.0, 0.25, 0.75, 0.25])]
    """
    ft = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    j = np.arange(n_out)
    s = _scale(n_in, n_out, align_corners and mode not in ("nearest", "nearest-exact"), scale, ft)
    if mode == "nearest" and size_rules and n_out in (n_in, 2 * n_in):
        return [(j if n_out == n_in else j // 2, None)]
    if mode == "nearest":
        return [(np.minimum(_floorf(j.astype(ft) * s), n_in - 1), None)]
    if mode == "nearest-exact":
        src = np.maximum(s * (j.astype(ft) + ft(0.5)) - ft(0.5), ft(0))
        return [(np.minimum(_floorf(src + 0.5), n_in - 1), None)]
    cubic = mode == "bicubic"
    if not cubic and n_in == n_out:  # PyTorch copies an axis that keeps its size
        return [(j, None)]
    if align_corners:
        src = s * j.astype(ft)
    else:
        src = s * (j.astype(ft) + ft(0.5)) - ft(0.5)
        if not cubic:
            src = np.maximum(src, ft(0))
    i0 = np.minimum(_floorf(src), n_in - 1)
    t = np.clip(src - i0, ft(0), ft(1))  # the fraction past i0
    if cubic:
        return [
            (np.clip(i0 - 1 + k, 0, n_in - 1), w.astype(dtype))
            for k, w in enumerate(_cubic_weights(t))
        ]
    i1 = np.minimum(i0 + 1, n_in - 1)
    return [(i0, (ft(1) - t).astype(dtype)), (i1, t.astype(dtype))]


def interpolation_matrix(n_in: int, taps: Taps, dtype: Any) -> np.ndarray:
    """A (O, I): the axis' linear map, ``A[j, i_t[j]] += w_t[j]`` (taps may share a position)."""
    n_out = len(taps[0][0])
    a = np.zeros((n_out, n_in), dtype)
    rows = np.arange(n_out)
    for idx, w in taps:
        a[rows, idx] += 1 if w is None else w  # within one tap every row is distinct
    return a


class Interpolate(Function):
    """y = x resampled along every spatial axis by nearest, linear or cubic interpolation.

    Forward: per axis, last first (PyTorch's order), ``y = sum_t w_t * take(y, i_t)``.
    Backward: the adjoint, ``dx = dy x_1 A_1 ... x_d A_d`` with the (O, I) map of each axis
    transposed (one matrix product per axis).

    Shapes:
        x: (N, C, *D)   y: (N, C, *O),  O_i = size_i, or floor(D_i * scale_factor_i)
    """

    def forward(
        self,
        x: np.ndarray,
        *,
        out_size: tuple[int, ...],
        scales: tuple[float | None, ...],
        mode: str,
        align_corners: bool,
    ) -> np.ndarray:
        spatial = x.shape[2:]
        rules = len(spatial) == 2
        self.taps = [
            interpolation_taps(n, o, mode, align_corners, s, x.dtype, size_rules=rules)
            for n, o, s in zip(spatial, out_size, scales)
        ]
        self.in_size = spatial
        y = x
        for axis in reversed(range(len(spatial))):
            taps, ax = self.taps[axis], 2 + axis
            if len(taps) == 1 and taps[0][1] is None and _is_identity(taps[0][0], spatial[axis]):
                continue
            shape = [1] * x.ndim
            shape[ax] = -1
            out = None
            for idx, w in taps:
                part = np.take(y, idx, axis=ax)  # (.., O_axis, ..)
                if w is not None:
                    part *= w.reshape(shape)
                out = part if out is None else out + part
            assert out is not None
            y = out
        return np.ascontiguousarray(y) if y is not x else x.copy()

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = dy
        for axis, (n, taps) in enumerate(zip(self.in_size, self.taps)):
            if len(taps) == 1 and taps[0][1] is None and _is_identity(taps[0][0], n):
                continue
            g = adjoint_along(g, taps, n, 2 + axis)  # axis back to I
        return np.ascontiguousarray(g)


def adjoint_along(g: np.ndarray, taps: Taps, n_in: int, axis: int) -> np.ndarray:
    """``A^T`` of one axis' map applied along ``axis`` of ``g``: (.., O, ..) -> (.., I, ..).

    One dense (O, I) matrix product while ``A`` has at most ``_DENSE_LIMIT`` entries (BLAS
    makes it several times faster than summing the taps with ``np.add.reduceat``). A longer
    axis (a 1-d signal of 16,000 samples upsampled 2x would need a 2 GB ``A``) goes in blocks
    of B output rows: the rows of a block read one input span [lo, hi), so each block is a
    dense (B, hi - lo) slice of ``A``, with B chosen so that a slice stays within the limit;
    the work is then linear in O rather than O * I.

    Shapes:
        g: (.., O, ..)   returns (.., I, ..) with ``axis`` the resampled one
    """
    n_out = len(taps[0][0])
    if n_out * n_in <= _DENSE_LIMIT:
        return along(g, interpolation_matrix(n_in, taps, g.dtype).T, axis)
    out_shape = list(g.shape)
    out_shape[axis] = n_in
    dx = np.zeros(out_shape, g.dtype)
    rows = max(1, min(n_out, math.isqrt(_DENSE_LIMIT * n_out // n_in)))  # B: B * span ~ limit
    at = [slice(None)] * g.ndim
    for a in range(0, n_out, rows):
        b = min(a + rows, n_out)
        lo = min(int(idx[a:b].min()) for idx, _ in taps)
        hi = max(int(idx[a:b].max()) for idx, _ in taps) + 1
        block = [(idx[a:b] - lo, None if w is None else w[a:b]) for idx, w in taps]
        at[axis] = slice(a, b)
        part = along(g[tuple(at)], interpolation_matrix(hi - lo, block, g.dtype).T, axis)
        at[axis] = slice(lo, hi)
        dx[tuple(at)] += part
    return dx


def _is_identity(idx: np.ndarray, n: int) -> bool:
    return len(idx) == n and bool(np.all(idx == np.arange(n)))


# ---------------------------------------------------------------------------- functional forms
def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _per_axis(value: Any, d: int, name: str, check: Any, kind: str) -> tuple[Any, ...]:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * d
    if len(vals) != d:
        raise ValueError(
            f"interpolate expected {name} with one value per spatial dimension ({d}), got {value!r}"
        )
    if not all(check(v) for v in vals):
        raise TypeError(f"interpolate expected {name} as {kind} or a tuple of them, got {value!r}")
    return vals


def interpolate(
    input: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample the spatial dimensions of ``input`` to ``size`` or by ``scale_factor``.

    Args:
        input: (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        size: output spatial size (an int for every axis, or one per axis).
        scale_factor: multiplier of the spatial size (a float, or one per axis); exactly one of
            ``size`` and ``scale_factor``.
        mode: ``'nearest'`` (PyTorch's legacy floor rule), ``'nearest-exact'`` (pixel
            centres), ``'linear'`` (3-D input), ``'bilinear'`` / ``'bicubic'`` (4-D),
            ``'trilinear'`` (5-D) or ``'area'`` (adaptive average pooling).
        align_corners: linear and cubic modes: map the corner pixels' centres onto each other
            (``scale = (I - 1) / (O - 1)``) instead of the corners' edges (default False).
        recompute_scale_factor: with ``scale_factor``, compute the output size and then
            interpolate as if that size had been given (``scale = I / O``), instead of using
            ``1 / scale_factor`` as the scale.
        antialias: not implemented (``True`` raises).

    Shapes:
        input: (N, C, *D)   y: (N, C, *O),  O_i = size_i, or floor(D_i * scale_factor_i)

    >>> import glassnet
    >>> interpolate(glassnet.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    >>> interpolate(glassnet.tensor([[[1.0, 2.0]]]), size=3, mode="nearest")
    tensor([[[1., 1., 2.]]])
    """
    x = require_tensor(input, "input", "interpolate")
    check_floating(x, "input", "interpolate")
    if mode not in _MODES:
        raise ValueError(f"interpolate mode must be one of {list(_MODES)}, got {mode!r}")
    d = x.ndim - 2
    need = _MODES[mode]
    if d not in (1, 2, 3) or (need is not None and d != need):
        ranks = "3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W)"
        if need is not None:
            ranks = {1: "3-D (N, C, L)", 2: "4-D (N, C, H, W)", 3: "5-D (N, C, D, H, W)"}[need]
        raise ValueError(
            f"interpolate with mode={mode!r} expected a {ranks} input, got {shape_str(x.shape)}"
        )
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                f"interpolate: align_corners is only for the modes linear, bilinear, bicubic and "
                f"trilinear, got align_corners={align_corners!r} with mode={mode!r}"
            )
        align = False
    else:
        align = bool(align_corners)
    if antialias:
        raise ValueError("interpolate: antialias=True is not implemented in glassnet")
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "interpolate expected exactly one of size and scale_factor, got "
            f"size={size!r} and scale_factor={scale_factor!r}"
        )
    spatial = x.shape[2:]
    scales: tuple[float | None, ...] = (None,) * d
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                "interpolate: recompute_scale_factor is only meaningful with scale_factor, not "
                "with an explicit size"
            )
        out = tuple(int(v) for v in _per_axis(size, d, "size", _is_int, "an int"))
    else:

        def is_number(v: Any) -> bool:
            return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

        factors = tuple(
            float(v) for v in _per_axis(scale_factor, d, "scale_factor", is_number, "a number")
        )
        if not all(math.isfinite(f) for f in factors):
            raise ValueError(f"interpolate expected finite scale_factor, got {scale_factor!r}")
        out = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        if not recompute_scale_factor and mode != "area":
            scales = factors
    smallest = 0 if mode == "area" else 1  # area is adaptive pooling: an empty output is fine
    if any(n < 1 for n in spatial) or any(o < smallest for o in out):
        raise ValueError(
            f"interpolate expected input and output sizes greater than 0, got input "
            f"{shape_str(spatial)} and output {shape_str(out)}"
        )
    if mode == "area":
        return AdaptiveAvgPool.apply(x, out_size=out)
    return Interpolate.apply(x, out_size=out, scales=scales, mode=mode, align_corners=align)


def upsample(
    input: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """PyTorch's deprecated ``F.upsample``: ``interpolate`` under its old name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='nearest')`` (PyTorch's old name)."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(
    input: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """``interpolate(..., mode='bilinear', align_corners=True)`` (PyTorch's old name)."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)
