"""Convolution and transposed convolution ops: PyTorch parity, gradients, properties, errors."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet.kernels import conv_gemm
from glassnet.ops import conv as C

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional
TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}
TORCH_CONVT = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}
OURS_CONV = {1: C.conv1d, 2: C.conv2d, 3: C.conv3d}
OURS_CONVT = {1: C.conv_transpose1d, 2: C.conv_transpose2d, 3: C.conv_transpose3d}


@contextmanager
def strategy(name: str) -> Iterator[None]:
    """Process the flat columns in one block ("one") or in many small odd-sized ones ("many")."""
    old = conv_gemm._BLOCK_BYTES, conv_gemm._MIN_BLOCK, conv_gemm._MAX_BLOCKS
    if name == "many":
        conv_gemm._BLOCK_BYTES, conv_gemm._MIN_BLOCK, conv_gemm._MAX_BLOCKS = 0, 7, 10**9
    else:
        conv_gemm._BLOCK_BYTES = 2**40
    try:
        yield
    finally:
        conv_gemm._BLOCK_BYTES, conv_gemm._MIN_BLOCK, conv_gemm._MAX_BLOCKS = old


def t(a: np.ndarray, grad: bool = False) -> glassnet.Tensor:
    return glassnet.tensor(np.asarray(a, np.float64), requires_grad=grad)


# ---------------------------------------------------------------------------- hypothesis configs
@st.composite
def conv_configs(draw: Any, nd: int | None = None) -> dict[str, Any]:
    nd = draw(st.integers(1, 3)) if nd is None else nd
    small = nd == 3
    ints = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(nd))  # noqa: E731
    groups = draw(st.integers(1, 3))
    cg, fg = draw(st.integers(1, 2 if small else 3)), draw(st.integers(1, 2 if small else 3))
    k = ints(1, 3)
    s = ints(1, 2 if small else 3)
    d = ints(1, 2)
    choice = draw(st.sampled_from(["int", "tuple", "valid", "same"]))
    if choice == "same" and all(v == 1 for v in s):
        padding: Any = "same"
        lo_hi = [(dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for dd, kk in zip(d, k)]
    elif choice == "valid":
        padding, lo_hi = "valid", [(0, 0)] * nd
    elif choice == "tuple":
        padding = ints(0, 2)
        lo_hi = [(p, p) for p in padding]
    else:
        padding = draw(st.integers(0, 2))
        lo_hi = [(padding, padding)] * nd
    span = [dd * (kk - 1) + 1 for dd, kk in zip(d, k)]
    size = tuple(
        max(1, e - lo - hi) + draw(st.integers(0, 2 if small else 4))
        for e, (lo, hi) in zip(span, lo_hi)
    )
    n = draw(st.integers(1, 2))
    unbatched = draw(st.booleans())
    x_shape = (groups * cg, *size) if unbatched else (n, groups * cg, *size)
    return dict(
        nd=nd,
        x_shape=x_shape,
        w_shape=(groups * fg, cg, *k),
        bias=draw(st.booleans()),
        kw=dict(stride=s, padding=padding, dilation=d, groups=groups),
        strategy=draw(st.sampled_from(["one", "many"])),
        seed=draw(st.integers(0, 2**16)),
    )


@st.composite
def conv_transpose_configs(draw: Any, nd: int | None = None) -> dict[str, Any]:
    nd = draw(st.integers(1, 3)) if nd is None else nd
    small = nd == 3
    ints = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(nd))  # noqa: E731
    groups = draw(st.integers(1, 3))
    cg, fg = draw(st.integers(1, 2 if small else 3)), draw(st.integers(1, 2 if small else 3))
    k = ints(1, 3)
    s = ints(1, 2 if small else 3)
    d = ints(1, 2)
    p = ints(0, 2)
    op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    # smallest input size with a positive output size, plus a little
    size = tuple(
        max(1, 1 + -(-(2 * pp - dd * (kk - 1) - o) // ss)) + draw(st.integers(0, 2 if small else 3))
        for pp, dd, kk, o, ss in zip(p, d, k, op, s)
    )
    n = draw(st.integers(1, 2))
    unbatched = draw(st.booleans())
    c = groups * cg
    return dict(
        nd=nd,
        x_shape=(c, *size) if unbatched else (n, c, *size),
        w_shape=(c, fg, *k),
        bias=draw(st.booleans()),
        kw=dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d),
        strategy=draw(st.sampled_from(["one", "many"])),
        seed=draw(st.integers(0, 2**16)),
    )


def _arrays(cfg: dict[str, Any], f: int) -> list[np.ndarray]:
    r = np.random.default_rng(cfg["seed"])
    arrays = [r.standard_normal(cfg["x_shape"]), r.standard_normal(cfg["w_shape"])]
    if cfg["bias"]:
        arrays.append(r.standard_normal(f))
    return arrays


def _torch_quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():  # 'same' with an even kernel: torch warns about a copy
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kw)


# ---------------------------------------------------------------------------- PyTorch parity
@pytest.mark.parametrize("nd", [1, 2, 3])
@given(data=st.data())
def test_conv_parity_with_torch(nd: int, data: Any) -> None:
    cfg = data.draw(conv_configs(nd))
    kw = cfg["kw"]
    ours, ref = OURS_CONV[nd], TORCH_CONV[nd]
    with strategy(cfg["strategy"]):
        parity(
            lambda *a: ours(*a, **kw),
            lambda *a: _torch_quiet(ref, *a, **kw),
            *_arrays(cfg, cfg["w_shape"][0]),
            seed=cfg["seed"],
        )


@pytest.mark.parametrize("nd", [1, 2, 3])
@given(data=st.data())
def test_conv_transpose_parity_with_torch(nd: int, data: Any) -> None:
    cfg = data.draw(conv_transpose_configs(nd))
    kw = cfg["kw"]
    ours, ref = OURS_CONVT[nd], TORCH_CONVT[nd]
    f = cfg["w_shape"][1] * kw["groups"]
    with strategy(cfg["strategy"]):
        parity(
            lambda *a: ours(*a, **kw),
            lambda *a: ref(*a, **kw),
            *_arrays(cfg, f),
            seed=cfg["seed"],
        )


def test_depthwise_and_channel_multiplier_parity() -> None:
    r = np.random.default_rng(3)
    x = r.standard_normal((2, 6, 9, 8))
    kw = dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=6)
    for w_shape in [(6, 1, 3, 3), (12, 1, 3, 3)]:  # depthwise, depthwise with multiplier 2
        w, b = r.standard_normal(w_shape), r.standard_normal(w_shape[0])
        parity(lambda *a: C.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), x, w, b)


def test_float32_forward_matches_torch() -> None:
    r = np.random.default_rng(4)
    x = r.standard_normal((3, 5, 12, 11)).astype(np.float32)
    w = r.standard_normal((7, 5, 3, 3)).astype(np.float32)
    for strat in ("one", "many"):
        with strategy(strat):
            y = C.conv2d(glassnet.tensor(x), glassnet.tensor(w), stride=2, padding=1)
        assert y.dtype == np.float32
        ref = TF.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
        assert_close(y, ref, rtol=1e-4, atol=1e-4)


def test_empty_batch() -> None:
    x = glassnet.zeros(0, 3, 5, 5, requires_grad=True)
    w = glassnet.ones(2, 3, 3, 3, requires_grad=True)
    y = C.conv2d(x, w, glassnet.ones(2, requires_grad=True))
    assert y.shape == (0, 2, 3, 3)
    y.sum().backward()
    assert x.grad.shape == x.shape and not np.any(w.grad.data)
    yt = C.conv_transpose2d(glassnet.zeros(0, 3, 4, 4), w.transpose(0, 1).detach())
    assert yt.shape == (0, 2, 6, 6)


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize(
    "kw",
    [
        dict(stride=1, padding=1),
        dict(stride=2, padding=(1, 0), dilation=(1, 2), groups=2),
        dict(padding="same", dilation=2),
    ],
)
def test_conv2d_gradcheck(kw: dict[str, Any]) -> None:
    r = np.random.default_rng(5)
    x, w, b = (
        r.standard_normal((2, 4, 6, 7)),
        r.standard_normal((4, 4 // kw.get("groups", 1), 3, 2)),
        r.standard_normal(4),
    )
    check_grad(lambda x_, w_, b_: C.conv2d(x_, w_, b_, **kw), x, w, b)


def test_conv1d_conv3d_gradcheck() -> None:
    r = np.random.default_rng(6)
    check_grad(
        lambda x_, w_, b_: C.conv1d(x_, w_, b_, stride=2, padding=2, dilation=2),
        r.standard_normal((2, 3, 9)),
        r.standard_normal((2, 3, 3)),
        r.standard_normal(2),
    )
    check_grad(
        lambda x_, w_: C.conv3d(x_, w_, stride=(1, 2, 1), padding=1, groups=2),
        r.standard_normal((1, 2, 3, 4, 3)),
        r.standard_normal((2, 1, 2, 2, 2)),
    )


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_gradcheck(nd: int) -> None:
    r = np.random.default_rng(7)
    size = {1: (5,), 2: (3, 4), 3: (2, 3, 2)}[nd]
    k = {1: (3,), 2: (3, 2), 3: (2, 2, 2)}[nd]
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    check_grad(
        lambda x_, w_, b_: OURS_CONVT[nd](x_, w_, b_, **kw),
        r.standard_normal((2, 4, *size)),
        r.standard_normal((4, 1, *k)),
        r.standard_normal(2),
    )


# ---------------------------------------------------------------------------- properties
def _inner(a: Any, b: Any) -> float:
    return float(np.sum(np.asarray(a.data if isinstance(a, glassnet.Tensor) else a) * b))


@given(cfg=conv_configs())
def test_conv_adjoint_identity(cfg: dict[str, Any]) -> None:
    """conv is bilinear: <conv(x, w), dy> = <x, dx> = <w, dw>."""
    x_np, w_np = _arrays({**cfg, "bias": False}, 0)
    x, w = t(x_np, True), t(w_np, True)
    with strategy(cfg["strategy"]):
        y = C.conv_nd(x, w, **cfg["kw"])
        dy = np.random.default_rng(cfg["seed"] + 1).standard_normal(y.shape)
        y.backward(glassnet.tensor(dy))
    lhs = _inner(y, dy)
    scale = np.abs(y.data * dy).sum() + 1e-300
    assert abs(lhs - _inner(x, x.grad.data)) <= 1e-10 * scale
    assert abs(lhs - _inner(w, w.grad.data)) <= 1e-10 * scale


@given(cfg=conv_transpose_configs())
def test_conv_transpose_adjoint_identity(cfg: dict[str, Any]) -> None:
    """<conv_transpose(x, w), dy> = <x, dx> = <w, dw>."""
    x_np, w_np = _arrays({**cfg, "bias": False}, 0)
    x, w = t(x_np, True), t(w_np, True)
    with strategy(cfg["strategy"]):
        y = C.conv_transpose_nd(x, w, **cfg["kw"])
        dy = np.random.default_rng(cfg["seed"] + 1).standard_normal(y.shape)
        y.backward(glassnet.tensor(dy))
    lhs = _inner(y, dy)
    scale = np.abs(y.data * dy).sum() + 1e-300
    assert abs(lhs - _inner(x, x.grad.data)) <= 1e-10 * scale
    assert abs(lhs - _inner(w, w.grad.data)) <= 1e-10 * scale


@given(cfg=conv_configs())
def test_conv_transpose_is_the_adjoint_of_conv(cfg: dict[str, Any]) -> None:
    """<conv(x, w), z> = <x, conv_transpose(z, w)> with output_padding restoring x's size."""
    kw = cfg["kw"]
    if isinstance(kw["padding"], str):  # conv_transpose takes symmetric int padding only
        return
    nd = cfg["nd"]
    x_np, w_np = _arrays({**cfg, "bias": False}, 0)
    y = C.conv_nd(t(x_np), t(w_np), **kw)
    z = np.random.default_rng(cfg["seed"] + 2).standard_normal(y.shape)
    pad = (kw["padding"],) * nd if isinstance(kw["padding"], int) else kw["padding"]
    op = tuple(
        n - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
        for n, o, s, p, d, k in zip(
            x_np.shape[-nd:], y.shape[-nd:], kw["stride"], pad, kw["dilation"], w_np.shape[2:]
        )
    )
    xt = C.conv_transpose_nd(
        t(z),
        t(w_np),
        stride=kw["stride"],
        padding=pad,
        output_padding=op,
        groups=kw["groups"],
        dilation=kw["dilation"],
    )
    assert xt.shape == x_np.shape
    scale = np.abs(y.data * z).sum() + 1e-300
    assert abs(_inner(y, z) - _inner(xt, x_np)) <= 1e-10 * scale


@given(cfg=conv_configs())
def test_conv_output_shape_formula(cfg: dict[str, Any]) -> None:
    kw, nd = cfg["kw"], cfg["nd"]
    x_np, w_np = _arrays({**cfg, "bias": False}, 0)
    y = C.conv_nd(t(x_np), t(w_np), **kw)
    k = w_np.shape[2:]
    if kw["padding"] == "same":
        expected = x_np.shape[-nd:]
    else:
        p = {"valid": 0}.get(kw["padding"], kw["padding"])  # type: ignore[call-overload]
        p = (p,) * nd if isinstance(p, int) else p
        expected = tuple(
            (n + 2 * pp - d * (kk - 1) - 1) // s + 1
            for n, pp, d, kk, s in zip(x_np.shape[-nd:], p, kw["dilation"], k, kw["stride"])
        )
    lead = x_np.shape[:1] if x_np.ndim == nd + 2 else ()
    assert y.shape == (*lead, w_np.shape[0], *expected)


@given(cfg=conv_transpose_configs())
def test_conv_transpose_output_shape_formula(cfg: dict[str, Any]) -> None:
    kw, nd = cfg["kw"], cfg["nd"]
    x_np, w_np = _arrays({**cfg, "bias": False}, 0)
    y = C.conv_transpose_nd(t(x_np), t(w_np), **kw)
    expected = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(
            x_np.shape[-nd:],
            kw["stride"],
            kw["padding"],
            kw["dilation"],
            w_np.shape[2:],
            kw["output_padding"],
        )
    )
    lead = x_np.shape[:1] if x_np.ndim == nd + 2 else ()
    assert y.shape == (*lead, w_np.shape[1] * kw["groups"], *expected)


# ---------------------------------------------------------------------------- naive references
def naive_conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    stride: tuple[int, ...],
    pad: int,
    dilation: tuple[int, ...],
    groups: int,
) -> np.ndarray:
    """Direct loop over output pixels: y[n, f, o] = b[f] + sum w[f, c, k] xp[n, c, o s + k d]."""
    nd = w.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pad, pad)] * nd)
    f_total, cg = w.shape[:2]
    fg = f_total // groups
    span = [d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:])]
    out = [(n - e) // s + 1 for n, e, s in zip(xp.shape[2:], span, stride)]
    y = np.zeros((x.shape[0], f_total, *out))
    for n, f in itertools.product(range(x.shape[0]), range(f_total)):
        g = f // fg
        for o in itertools.product(*(range(v) for v in out)):
            window = xp[
                (n, slice(g * cg, (g + 1) * cg))
                + tuple(
                    slice(oi * s, oi * s + e, d) for oi, s, e, d in zip(o, stride, span, dilation)
                )
            ]
            y[(n, f, *o)] = np.sum(window * w[f]) + b[f]
    return y


def naive_conv_transpose(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    pad: int,
    out_pad: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
) -> np.ndarray:
    """Direct loop over input pixels, scattering x[n, c, i] * w[c, f, k] to i s + k d - p."""
    c_total, fg = w.shape[:2]
    cg = c_total // groups
    size = [
        (n - 1) * s + d * (k - 1) + 1 + op
        for n, s, d, k, op in zip(x.shape[2:], stride, dilation, w.shape[2:], out_pad)
    ]
    full = np.zeros((x.shape[0], fg * groups, *size))
    for n, c in itertools.product(range(x.shape[0]), range(c_total)):
        g = c // cg
        for i in itertools.product(*(range(v) for v in x.shape[2:])):
            for k in itertools.product(*(range(v) for v in w.shape[2:])):
                pos = tuple(ii * s + kk * d for ii, s, kk, d in zip(i, stride, k, dilation))
                full[(n, slice(g * fg, (g + 1) * fg), *pos)] += (
                    x[(n, c, *i)] * w[(c, slice(None), *k)]
                )
    return full[(slice(None), slice(None), *(slice(pad, v - pad) for v in size))]


@pytest.mark.parametrize("strat", ["one", "many"])
def test_conv_matches_naive_loop(strat: str) -> None:
    r = np.random.default_rng(8)
    x, w, b = r.standard_normal((2, 4, 7, 6)), r.standard_normal((6, 2, 3, 2)), r.standard_normal(6)
    with strategy(strat):
        y = C.conv2d(t(x), t(w), t(b), stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    assert_close(y, naive_conv(x, w, b, (2, 1), 1, (1, 2), 2))


def test_conv_nd_four_spatial_dims_matches_naive_loop() -> None:
    """conv_nd is general: a 4-d convolution (which PyTorch lacks) against the direct loop."""
    r = np.random.default_rng(9)
    x, w, b = (
        r.standard_normal((1, 2, 4, 3, 4, 3)),
        r.standard_normal((2, 2, 2, 2, 1, 2)),
        r.standard_normal(2),
    )
    y = C.conv_nd(t(x), t(w), t(b), stride=(1, 2, 1, 1), padding=1, dilation=(2, 1, 1, 1))
    assert_close(y, naive_conv(x, w, b, (1, 2, 1, 1), 1, (2, 1, 1, 1), 1))
    check_grad(lambda x_, w_: C.conv_nd(x_, w_, stride=(1, 2, 1, 1), padding=1), x, w)


def test_conv_transpose_matches_naive_scatter() -> None:
    r = np.random.default_rng(10)
    x, w = r.standard_normal((2, 4, 3, 4)), r.standard_normal((4, 3, 3, 2))
    kw = dict(stride=(2, 3), padding=1, output_padding=(1, 2), dilation=(1, 2), groups=2)
    y = C.conv_transpose2d(t(x), t(w), **kw)
    assert_close(y, naive_conv_transpose(x, w, (2, 3), 1, (1, 2), (1, 2), 2))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "dilation", "lo", "hi", "groups"),
    [
        ((2, 4, 7, 6), (6, 2, 3, 2), (1, 2), (1, 0), (2, 1), 2),
        ((1, 3, 9), (5, 3, 4), (2,), (3,), (1,), 1),
        ((2, 2, 4, 3, 5), (2, 1, 2, 3, 2), (1, 1, 2), (0, 1, 2), (1, 2, 0), 2),
    ],
)
def test_input_gradient_routes_agree(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    dilation: tuple[int, ...],
    lo: tuple[int, ...],
    hi: tuple[int, ...],
    groups: int,
) -> None:
    """Stride 1: the flipped-kernel correlation equals the shifted-slice accumulation."""
    r = np.random.default_rng(14)
    w = r.standard_normal(w_shape)
    nd = len(dilation)
    plan = conv_gemm.ConvPlan(x_shape[2:], w_shape[2:], (1,) * nd, dilation, lo, hi)
    dy = r.standard_normal((x_shape[0], w_shape[0], *plan.out_size))
    fp = plan.flip_plan
    assert fp is not None
    flipped = fp.unpack_output(
        fp.correlate(fp.pack_input(dy), conv_gemm.flip_kernel(w, groups), groups), len(dy), None
    )
    dph = plan.scatter_grad(plan.pack_output(dy), w, groups)
    assert_close(flipped, plan.unpack_input(dph, len(dy)))


def test_scratch_is_reused_per_thread_and_never_aliased() -> None:
    """Scratch buffers: one per thread and role, reused, and no result is a view of one."""
    import threading

    r = np.random.default_rng(21)
    w = r.standard_normal((4, 3, 3, 3))
    xs = [r.standard_normal((2, 3, 9, 8)) for _ in range(4)]
    serial = [C.conv2d(t(x), t(w), padding=1).data.copy() for x in xs]
    first = C.conv2d(t(xs[0]), t(w), padding=1).data
    C.conv2d(t(xs[1]), t(w), padding=1)  # a later call must not overwrite the first result
    assert_close(first, serial[0])
    buf = conv_gemm._scratch("conv.cols", (8,), np.float64)
    assert conv_gemm._scratch("conv.cols", (4,), np.float64).base is buf.base  # reused

    results: list[Any] = [None] * len(xs)
    bufs: list[Any] = [None] * len(xs)

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = C.conv2d(t(xs[i]), t(w), padding=1).data
        bufs[i] = conv_gemm._scratch("conv.cols", (1,), np.float64).base

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for got, want in zip(results, serial):
        assert_close(got, want)
    assert len({id(b) for b in bufs}) == len(xs)  # each thread had its own buffer


# ---------------------------------------------------------------------------- the mathematics
def test_translation_equivariance() -> None:
    """Shift the input, the output shifts by the same amount (stride 1), or by shift / stride."""
    r = np.random.default_rng(11)
    x, w = r.standard_normal((1, 2, 14, 12)), r.standard_normal((3, 2, 3, 3))
    y = C.conv2d(t(x), t(w)).data  # valid: y[o] depends on x[o : o + 3]
    y_shift = C.conv2d(t(x[..., 3:, 2:]), t(w)).data
    assert_close(y_shift, y[..., 3:, 2:])
    # with stride 2 a shift of the input by 4 shifts the output by 2
    y2 = C.conv2d(t(x), t(w), stride=2).data
    assert_close(C.conv2d(t(x[..., 4:, 2:]), t(w), stride=2).data, y2[..., 2:, 1:])
    # circular padding makes it exact on the whole grid: roll in, roll out
    xr = np.roll(x, (5, -3), axis=(2, 3))
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], mode="wrap")
    xrp = np.pad(xr, [(0, 0), (0, 0), (1, 1), (1, 1)], mode="wrap")
    y_full = C.conv2d(t(xp), t(w)).data
    assert_close(C.conv2d(t(xrp), t(w)).data, np.roll(y_full, (5, -3), axis=(2, 3)))


def test_multichannel_is_sum_of_single_channel_correlations() -> None:
    """y[f] = b[f] + sum_c correlate2d(x[c], w[f, c], 'valid'); F kernels stack into F channels."""
    r = np.random.default_rng(12)
    x, w, b = r.standard_normal((2, 3, 9, 8)), r.standard_normal((4, 3, 3, 2)), r.standard_normal(4)
    y = C.conv2d(t(x), t(w), t(b)).data
    for n, f in itertools.product(range(2), range(4)):
        per_channel = [scipy.signal.correlate2d(x[n, c], w[f, c], mode="valid") for c in range(3)]
        assert_close(y[n, f], b[f] + np.sum(per_channel, axis=0))
    # one output channel is the convolution with that kernel alone
    for f in range(4):
        assert_close(C.conv2d(t(x), t(w[f : f + 1]), t(b[f : f + 1])).data, y[:, f : f + 1])
    # and one input channel with its slice of the kernel is one term of the sum
    parts = sum(C.conv2d(t(x[:, c : c + 1]), t(w[:, c : c + 1])).data for c in range(3))
    assert_close(parts + b[:, None, None], y)


def test_gradients_are_full_convolution_and_correlation() -> None:
    """dx = full convolution of dy with the kernel; dw = correlation of x with dy ('valid')."""
    r = np.random.default_rng(13)
    x, w = r.standard_normal((1, 1, 8, 7)), r.standard_normal((1, 1, 3, 2))
    xt, wt = t(x, True), t(w, True)
    y = C.conv2d(xt, wt)
    dy = r.standard_normal(y.shape)
    y.backward(glassnet.tensor(dy))
    assert_close(xt.grad, scipy.signal.convolve2d(dy[0, 0], w[0, 0], mode="full")[None, None])
    assert_close(wt.grad, scipy.signal.correlate2d(x[0, 0], dy[0, 0], mode="valid")[None, None])


# ---------------------------------------------------------------------------- errors
def _x(*shape: int) -> glassnet.Tensor:
    return glassnet.zeros(*shape)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: C.conv2d(_x(8, 4, 32, 32), _x(8, 3, 3, 3)),
            r"conv2d expected input with 3 channels .*got \(8, 4, 32, 32\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 4, 4), _x(2, 3, 5, 5)),
            r"kernel size \(5, 5\) .* larger than the padded input \(4, 4\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 4, 4), _x(2, 3, 3, 3), dilation=2),
            r"kernel size \(5, 5\) .* larger than the padded input \(4, 4\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(2, 3, 3, 3), stride=2, padding="same"),
            r"padding='same' is not supported for strided convolutions, got stride=\(2, 2\)",
        ),
        (
            lambda: C.conv2d(_x(1, 4, 8, 8), _x(3, 2, 3, 3), groups=2),
            r"out_channels \(weight.shape\[0\] = 3\) divisible by groups=2",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 1, 3, 3), groups=2),
            r"in_channels \(3\) divisible by groups=2",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), groups=0),
            r"groups to be a positive int, got 0",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), padding=-1),
            r"conv2d expected padding non-negative, got \(-1, -1\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), padding="full"),
            r"padding 'valid', 'same' or ints, got 'full'",
        ),
        (lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), stride=0), r"stride >= 1, got \(0, 0\)"),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), stride=(1, 2, 3)),
            r"stride to be an int or a tuple of 2 ints, got \(1, 2, 3\)",
        ),
        (
            lambda: C.conv2d(_x(3, 8), _x(4, 3, 3, 3)),
            r"conv2d expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(3, 8\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3)),
            r"conv2d expected weight of shape .* with 4 dimensions, got \(4, 3, 3\)",
        ),
        (
            lambda: C.conv1d(_x(1, 3, 8, 8), _x(4, 3, 3)),
            r"conv1d expected input of shape \(N, C, L\) or \(C, L\), got \(1, 3, 8, 8\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), _x(3)),
            r"bias of shape \(4,\), got \(3,\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3).double()),
            r"conv2d expected input of dtype float64 \(its weight's dtype\), got float32",
        ),
        (
            lambda: C.conv_transpose2d(_x(1, 3, 2, 2), _x(3, 2, 3, 3), padding=3),
            r"padding=\(3, 3\) is too large .* output size would be \(-2, -2\)",
        ),
        (
            lambda: C.conv_transpose2d(_x(1, 3, 2, 2), _x(3, 2, 3, 3), padding=-1),
            r"padding non-negative, got \(-1, -1\)",
        ),
        (
            lambda: C.conv_transpose2d(_x(1, 3, 4, 4), _x(3, 2, 3, 3), stride=2, output_padding=2),
            r"output_padding smaller than stride or dilation .*"
            r"got output_padding=\(2, 2\), stride=\(2, 2\)",
        ),
        (
            lambda: C.conv_transpose2d(_x(1, 4, 4, 4), _x(3, 2, 3, 3)),
            r"conv_transpose2d expected input with 3 channels \(weight.shape\[0\]\)"
            r".*got \(1, 4, 4, 4\)",
        ),
        (
            lambda: C.conv_transpose2d(_x(1, 3, 4, 4), _x(3, 2, 3, 3), groups=2),
            r"in_channels \(weight.shape\[0\] = 3\) divisible by groups=2",
        ),
        (
            lambda: C.conv_transpose1d(_x(1, 3, 4, 4), _x(3, 2, 3)),
            r"conv_transpose1d expected input of shape \(N, C, L\) or \(C, L\), got \(1, 3, 4, 4\)",
        ),
        (
            lambda: C.conv2d(_x(1, 3, 0, 5), _x(4, 3, 1, 1)),
            r"conv2d expected input with non-zero channel and spatial sizes, got \(1, 3, 0, 5\)",
        ),
        (
            lambda: C.conv_nd(_x(1, 3, 4), _x(3, 2)),
            r"conv_nd expected weight with at least 3 dimensions .*got \(3, 2\)",
        ),
    ],
)
def test_clear_errors(call: Any, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_conv_plan_is_shared_per_geometry() -> None:
    """``conv_plan`` hands every call with one geometry the same plan, and a new one otherwise."""
    a = conv_gemm.conv_plan((9, 8), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1))
    assert conv_gemm.conv_plan([9, 8], (3, 3), (1, 1), (1, 1), (1, 1), (1, 1)) is a
    assert (
        a.flip_plan is conv_gemm.conv_plan((9, 8), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1)).flip_plan
    )
    b = conv_gemm.conv_plan((9, 8), (3, 3), (2, 2), (1, 1), (1, 1), (1, 1))
    assert b is not a and b.out_size == (5, 4) and a.out_size == (9, 8)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "dilation", "lo", "hi", "groups"),
    [
        ((2, 4, 7, 6), (6, 4, 3, 3), (1, 1), (1, 1), (1, 1), 1),
        ((2, 4, 7, 6), (4, 2, 2, 3), (2, 1), (1, 0), (0, 2), 2),
        ((1, 3, 5, 6, 4), (2, 3, 2, 3, 2), (1, 1, 2), (0, 1, 1), (1, 0, 1), 1),
        ((2, 4, 6, 5), (2, 4, 3, 1), (1, 1), (1, 0), (1, 0), 1),
        ((2, 3, 11), (4, 3, 5), (1,), (2,), (2,), 1),
        ((2, 4, 12), (4, 2, 3), (2,), (1,), (0,), 2),
    ],
)
def test_row_split_kernels_equal_plain_im2col(
    x_shape, w_shape, dilation, lo, hi, groups, monkeypatch
) -> None:
    """Stride 1: gathering some taps and shifting them (``splits``, ``wg_split``) gives the same
    forward and weight gradient as gathering every tap."""
    r = np.random.default_rng(15)
    nd = len(dilation)
    x, w = r.standard_normal(x_shape), r.standard_normal(w_shape)
    split = conv_gemm.ConvPlan(x_shape[2:], w_shape[2:], (1,) * nd, dilation, lo, hi)
    plain = conv_gemm.ConvPlan(x_shape[2:], w_shape[2:], (1,) * nd, dilation, lo, hi)
    plain.shiftable = plain.wg_split = False
    monkeypatch.setattr(conv_gemm, "_SPLIT_MIN_ROWS", 0)  # these layers are small
    assert split.wg_splits(w_shape[1]) and not plain.splits(1, 1)
    assert split.splits(w_shape[1], w_shape[0] // groups) == (len(dilation) > 1)
    n = x_shape[0]
    y = split.unpack_output(split.correlate(split.pack_input(x), w, groups), n, None)
    assert_close(y, plain.unpack_output(plain.correlate(plain.pack_input(x), w, groups), n, None))
    dy = plain.pack_output(r.standard_normal(y.shape)).copy()
    dw = split.weight_grad(split.pack_input(x, scratch=False), dy, w.shape, groups)
    assert_close(dw, plain.weight_grad(plain.pack_input(x, scratch=False), dy, w.shape, groups))


@pytest.mark.parametrize(
    ("size", "kernel", "dilation", "lo", "hi"),
    [((9, 8), (3, 3), (1, 1), (1, 1), (1, 1)), ((12,), (5,), (2,), (4,), (4,)),
     ((7, 6), (3, 2), (1, 1), (1, 0), (1, 1)), ((8, 8), (3, 3), (1, 1), (0, 0), (0, 0))],
)  # fmt: skip
def test_upstream_packed_once_serves_both_products(size, kernel, dilation, lo, hi) -> None:
    """``pack_upstream``: the packed dy and, where the grids agree, the flipped correlation's
    packed input as a view of the same memory, equal to packing dy twice."""
    r = np.random.default_rng(16)
    nd = len(size)
    plan = conv_gemm.ConvPlan(size, kernel, (1,) * nd, dilation, lo, hi)
    dy = r.standard_normal((2, 3, *plan.out_size))
    d_y, flip_in = (None if a is None else a.copy() for a in plan.pack_upstream(dy))  # scratch
    np.testing.assert_array_equal(d_y, plan.pack_output(dy))
    fp = plan.flip_plan
    assert fp is not None
    assert (flip_in is None) == (fp.phase_shape != plan.phase_shape)
    if flip_in is not None:
        np.testing.assert_array_equal(flip_in, fp.pack_input(dy))
    if size == (9, 8):
        assert flip_in is not None  # the usual 'same' convolution shares


@st.composite
def _stride1_geometry(draw):
    """A stride-1 convolution geometry (1-3 axes, dilation, uneven padding, groups)."""
    nd = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    lo = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    hi = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    size = tuple(
        max(1, d * (k - 1) + 1 - a - b) + draw(st.integers(0, 4))
        for k, d, a, b in zip(kernel, dilation, lo, hi)
    )
    groups, cg, fg = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return size, kernel, dilation, lo, hi, groups, cg, fg, draw(st.integers(0, 2**16))


@given(geo=_stride1_geometry())
def test_split_kernels_equal_plain_kernels_on_drawn_geometries(geo) -> None:
    """Row split (forced on, whatever the channel counts) and the shared dy packing give the
    plain im2col forward and weight gradient and the slice-accumulation input gradient."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_gemm, "_SPLIT_MIN_ROWS", 0)
        mp.setattr(conv_gemm.ConvPlan, "splits", lambda self, c_in, c_out: self.shiftable)
        _check_split_against_plain(*geo)


def _check_split_against_plain(size, kernel, dilation, lo, hi, groups, cg, fg, seed) -> None:
    nd = len(size)
    split = conv_gemm.ConvPlan(size, kernel, (1,) * nd, dilation, lo, hi)
    plain = conv_gemm.ConvPlan(size, kernel, (1,) * nd, dilation, lo, hi)
    plain.shiftable = plain.wg_split = False
    r = np.random.default_rng(seed)
    n = int(r.integers(1, 3))
    x, w = r.standard_normal((n, groups * cg, *size)), r.standard_normal((groups * fg, cg, *kernel))
    y = split.unpack_output(split.correlate(split.pack_input(x), w, groups), n, None)
    assert_close(y, plain.unpack_output(plain.correlate(plain.pack_input(x), w, groups), n, None))
    dy = r.standard_normal(y.shape)
    d_y = plain.pack_output(dy).copy()
    dw = split.weight_grad(split.pack_input(x, scratch=False), d_y, w.shape, groups)
    assert_close(dw, plain.weight_grad(plain.pack_input(x, scratch=False), d_y, w.shape, groups))
    dx_ref = plain.unpack_input(plain.scatter_grad(plain.pack_output(dy), w, groups), n).copy()
    packed, flip_in = split.pack_upstream(dy)
    assert_close(split.input_grad(dy, w, groups, packed, flip_in), dx_ref)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation", "lo", "hi"),
    [((8, 6), (3, 3), (2, 2), (1, 1), (1, 1), (1, 1)), ((9,), (1,), (3,), (1,), (0,), (0,)),
     ((5, 12), (2, 3), (1, 3), (1, 2), (0, 2), (1, 1)), ((4, 6, 8), (3, 1, 3), (2, 2, 2),
     (1, 1, 1), (1, 0, 1), (0, 0, 2)), ((7, 10), (3, 2), (3, 2), (1, 3), (1, 1), (2, 0))],
)  # fmt: skip
def test_column_split_packing_matches_plain_and_is_adjoint(
    size, kernel, stride, dilation, lo, hi
) -> None:
    """A strided last axis packs through whole-array column classes (``_column_classes``):
    the result equals the plain phase copies, and ``unpack_input`` stays its adjoint."""
    r = np.random.default_rng(17)
    plan = conv_gemm.ConvPlan(size, kernel, stride, dilation, lo, hi)
    x = r.standard_normal((2, 3, *size))
    assert plan._column_classes(x) is not None
    fast = plan.pack_input(x, scratch=False)
    np.testing.assert_array_equal(fast, plan.pack_input(np.asfortranarray(x), scratch=False))
    g = r.standard_normal(fast.shape)
    np.testing.assert_allclose(np.vdot(fast, g), np.vdot(x, plan.unpack_input(g, 2)), rtol=1e-12)
