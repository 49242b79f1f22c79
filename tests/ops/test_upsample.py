"""F.interpolate / nn.Upsample: PyTorch parity, naive references, gradchecks, adjoint, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet import nn
from glassnet.ops import upsample
from glassnet.ops.upsample import interpolation_matrix, interpolation_taps

from ..helpers import assert_close, check_grad, parity, torch

TF = torch.nn.functional
MODE_DIMS = {
    "nearest": (1, 2, 3),
    "nearest-exact": (1, 2, 3),
    "area": (1, 2, 3),
    "linear": (1,),
    "bilinear": (2,),
    "bicubic": (2,),
    "trilinear": (3,),
}
FACTORS = [0.5, 0.7, 1.0, 1.1, 1.5, 2.0, 2.3, 3.0, 1 / 3, 2 / 3]


def torch_backward_is_not_the_adjoint(mode, spatial, kw):
    """PyTorch's nearest backward (1-d, 3-d) copies an axis that keeps its size and halves one
    that doubles, its bicubic backward copies a tensor whose size does not change, even when
    the forward resampled with ``1 / scale_factor``: its gradient is not its forward's adjoint."""
    sf = kw.get("scale_factor")
    if sf is None or kw.get("recompute_scale_factor") or mode not in ("nearest", "bicubic"):
        return False
    if mode == "nearest" and len(spatial) == 2:
        return False  # the 2-d nearest forward copies those axes too: consistent
    sfs = sf if isinstance(sf, tuple) else (sf,) * len(spatial)
    if mode == "bicubic":
        same = all(math.floor(n * f) == n for n, f in zip(spatial, sfs))
        return same and any(f != 1 for f in sfs)
    for n, f in zip(spatial, sfs):
        o = math.floor(n * f)
        if (o == n or (mode == "nearest" and o == 2 * n)) and f != o / n:
            return True
    return False


@st.composite
def interp_config(draw):
    mode = draw(st.sampled_from(list(MODE_DIMS)))
    d = draw(st.sampled_from(MODE_DIMS[mode]))
    top = 7 if d < 3 else 4
    spatial = tuple(draw(st.integers(1, top)) for _ in range(d))
    kw: dict = {}
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, top + 3)) for _ in range(d))
    else:
        kw["scale_factor"] = tuple(draw(st.sampled_from(FACTORS)) for _ in range(d))
        if any(math.floor(n * f) < 1 for n, f in zip(spatial, kw["scale_factor"])):
            kw["scale_factor"] = tuple(max(f, 1.0) for f in kw["scale_factor"])
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kw["align_corners"] = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial)
    return mode, np.random.default_rng(seed).standard_normal(shape), kw, seed


# ---------------------------------------------------------------------------- parity
@given(cfg=interp_config())
def test_interpolate_parity_with_torch(cfg):
    mode, x, kw, seed = cfg
    ours = lambda t: F.interpolate(t, mode=mode, **kw)  # noqa: E731
    theirs = lambda t: TF.interpolate(t, mode=mode, **kw)  # noqa: E731
    if torch_backward_is_not_the_adjoint(mode, x.shape[2:], kw):
        assert_close(ours(glassnet.tensor(x)), theirs(torch.tensor(x)))
    else:
        parity(ours, theirs, x, seed=seed)


@pytest.mark.parametrize(
    "mode, shape, kw",
    [
        ("nearest", (1, 2, 5), dict(scale_factor=1.1)),  # 5 -> 5 with 1 / 1.1
        ("nearest", (1, 2, 3), dict(scale_factor=2.3)),  # 3 -> 6 with 1 / 2.3
        ("nearest", (1, 1, 3, 2, 4), dict(scale_factor=(1.1, 2.3, 1.5))),
        ("bicubic", (1, 2, 7, 3), dict(scale_factor=(1.1, 1.0))),
    ],
)
def test_where_torch_backward_is_not_its_forwards_adjoint_ours_is(mode, shape, kw):
    """Measured: PyTorch's <y, v> - <x, dx> is far from 0 here; glassnet's is 0 (rounding)."""
    r = np.random.default_rng(0)
    x = r.standard_normal(shape)
    t, g = torch.tensor(x, requires_grad=True), glassnet.tensor(x, requires_grad=True)
    yt, yg = TF.interpolate(t, mode=mode, **kw), F.interpolate(g, mode=mode, **kw)
    assert_close(yg, yt)  # the forwards agree
    v = r.standard_normal(tuple(yt.shape))
    (yt * torch.tensor(v)).sum().backward()
    (yg * glassnet.tensor(v)).sum().backward()
    theirs = (yt.detach().numpy() * v).sum() - (x * t.grad.numpy()).sum()
    ours = (yg.data * v).sum() - (x * g.grad.data).sum()
    assert abs(theirs) > 1e-3 and abs(ours) < 1e-12


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
def test_float32_source_positions_match_torch(mode):
    """PyTorch floors positions in float32: the same indices (a wrong one is off by ~1, float32
    rounding of the 4-tap cubic sums by ~2e-6)."""
    r = np.random.default_rng(0)
    for n, f in itertools.product([3, 5, 7, 10, 13], [0.3, 0.7, 1.1, 1.3, 2.3, 2.6, 1 / 3]):
        if math.floor(n * f) < 1:
            continue
        x = r.standard_normal((1, 2, n, 4)).astype(np.float32)
        kw = dict(scale_factor=(f, 1.5))
        if mode in ("bilinear", "bicubic"):
            kw["align_corners"] = False
        got = F.interpolate(glassnet.tensor(x), mode=mode, **kw)
        want = TF.interpolate(torch.tensor(x), mode=mode, **kw)
        assert got.dtype == np.float32
        assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n, f", [(11, 3.7), (12, 4.9)])
def test_float64_positions_are_floored_in_float32_as_pytorch(n, f):
    """Here floor(j / f) in float64 and in float32 differ for some j: PyTorch floors float32."""
    j = np.arange(math.floor(n * f))
    assert (np.floor(j * (1 / f)) != np.floor((j * (1 / f)).astype(np.float32))).any()
    x = np.arange(float(n)).reshape(1, 1, n)
    got = F.interpolate(glassnet.tensor(x), scale_factor=f)
    assert_close(got, TF.interpolate(torch.tensor(x), scale_factor=f), 0, 0)


def test_inf_stays_where_it_is_read():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.inf
    for mode in ("nearest", "bilinear"):
        with np.errstate(invalid="ignore"):
            got = F.interpolate(glassnet.tensor(x), scale_factor=2, mode=mode).data
        want = TF.interpolate(torch.tensor(x), scale_factor=2, mode=mode).numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        assert np.isfinite(got[0, 0, 4:, 4:]).all()


# ---------------------------------------------------------------------------- references
def naive_linear(x, out, align_corners, scales=None):
    """Separable linear interpolation, output pixel by output pixel, from the documented rule."""
    spatial = x.shape[2:]
    y = np.empty(x.shape[:2] + tuple(out))
    per_axis = []
    for axis, (n, o) in enumerate(zip(spatial, out)):
        taps = []
        for j in range(o):
            if n == o:
                taps.append(((j, 1.0), (j, 0.0)))
                continue
            if align_corners:
                src = j * (n - 1) / (o - 1) if o > 1 else 0.0
            else:
                s = 1 / scales[axis] if scales else n / o
                src = max(s * (j + 0.5) - 0.5, 0.0)
            i0 = min(math.floor(src), n - 1)
            lam = min(max(src - i0, 0.0), 1.0)
            taps.append(((i0, 1 - lam), (min(i0 + 1, n - 1), lam)))
        per_axis.append(taps)
    for pos in itertools.product(*(range(o) for o in out)):
        acc = 0.0
        for combo in itertools.product(*(per_axis[a][j] for a, j in enumerate(pos))):
            w = math.prod(c[1] for c in combo)
            acc = acc + w * x[(slice(None), slice(None), *(c[0] for c in combo))]
        y[(slice(None), slice(None), *pos)] = acc
    return y


@pytest.mark.parametrize(
    "shape, out, align, scales",
    [
        ((2, 1, 5), (9,), False, None),
        ((1, 2, 4, 3), (2, 7), True, None),
        ((1, 1, 3, 4), (6, 4), False, (2.0, 1.1)),
        ((1, 1, 2, 3, 4), (3, 1, 9), False, None),
        ((1, 1, 2, 3, 4), (4, 4, 2), True, None),
    ],
)
def test_linear_modes_match_the_naive_reference(shape, out, align, scales):
    x = np.random.default_rng(0).standard_normal(shape)
    mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(out)]
    kw = dict(scale_factor=scales) if scales else dict(size=out)
    got = F.interpolate(glassnet.tensor(x), mode=mode, align_corners=align, **kw)
    assert_close(got, naive_linear(x, out, align, scales), rtol=1e-12, atol=1e-14)


def test_nearest_matches_the_naive_reference():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 7))
    got = F.interpolate(glassnet.tensor(x), size=(3, 11), mode="nearest").data
    want = np.empty((1, 2, 3, 11))
    for i, j in itertools.product(range(3), range(11)):
        want[:, :, i, j] = x[:, :, min(int(i * 5 / 3), 4), min(int(j * 7 / 11), 6)]
    assert_close(got, want, 0, 0)
    got = F.interpolate(glassnet.tensor(x), size=(3, 11), mode="nearest-exact").data
    for i, j in itertools.product(range(3), range(11)):
        want[:, :, i, j] = x[:, :, min(int((i + 0.5) * 5 / 3), 4), min(int((j + 0.5) * 7 / 11), 6)]
    assert_close(got, want, 0, 0)


def test_taps_and_matrix_rows_sum_to_one():
    for mode, n, o in itertools.product(["nearest", "linear", "bicubic"], [1, 3, 8], [1, 4, 13]):
        for align in (False, True):
            a = interpolation_matrix(n, interpolation_taps(n, o, mode, align), np.float64)
            assert a.shape == (o, n)
            np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------------- properties
@given(cfg=interp_config())
def test_output_size_formula_and_adjoint(cfg):
    mode, x, kw, seed = cfg
    t = glassnet.tensor(x, requires_grad=True)
    y = F.interpolate(t, mode=mode, **kw)
    spatial = x.shape[2:]
    if "size" in kw:
        assert y.shape[2:] == kw["size"]
    else:
        assert y.shape[2:] == tuple(math.floor(n * f) for n, f in zip(spatial, kw["scale_factor"]))
    v = np.random.default_rng(seed).standard_normal(y.shape)
    (y * glassnet.tensor(v)).sum().backward()
    # <A x, v> = <x, A^T v>: the gather forward and the matrix backward are one linear map
    assert np.isclose((y.data * v).sum(), (x * t.grad.data).sum(), rtol=1e-10, atol=1e-10)


@given(cfg=interp_config())
def test_blocked_backward_matches_the_dense_one(cfg):
    """Long axes go through A^T in row blocks (adjoint_along): forced here on small ones."""
    mode, x, kw, seed = cfg
    v = None
    grads = []
    for limit in (upsample._DENSE_LIMIT, 3):
        previous, upsample._DENSE_LIMIT = upsample._DENSE_LIMIT, limit
        try:
            t = glassnet.tensor(x, requires_grad=True)
            y = F.interpolate(t, mode=mode, **kw)
            v = np.random.default_rng(seed).standard_normal(y.shape) if v is None else v
            (y * glassnet.tensor(v)).sum().backward()
            grads.append(t.grad.data)
        finally:
            upsample._DENSE_LIMIT = previous
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_a_long_signal_resamples_without_a_dense_map(mode):
    """16,000 -> 32,000 samples: a dense A would hold 5.1e8 entries; the blocks stay small."""
    x = np.random.default_rng(0).standard_normal((2, 1, 16000))
    kw = {} if mode == "nearest" else {"align_corners": False}
    parity(
        lambda t: F.interpolate(t, scale_factor=2.0, mode=mode, **kw),
        lambda t: TF.interpolate(t, scale_factor=2.0, mode=mode, **kw),
        x,
        seed=1,
    )


@pytest.mark.parametrize(
    "mode, shape, kw",
    [
        ("nearest", (2, 2, 5), dict(scale_factor=1.7)),
        ("nearest-exact", (1, 2, 3, 4), dict(size=(5, 2))),
        ("linear", (2, 2, 5), dict(scale_factor=2.5, align_corners=False)),
        ("bilinear", (1, 2, 4, 3), dict(size=(7, 2), align_corners=True)),
        ("bicubic", (1, 2, 4, 5), dict(scale_factor=1.5, align_corners=False)),
        ("trilinear", (1, 1, 2, 3, 4), dict(scale_factor=(1.5, 0.7, 2.0))),
        ("area", (1, 2, 5, 7), dict(size=(3, 4))),
    ],
)
def test_interpolate_gradcheck(mode, shape, kw):
    x = np.random.default_rng(0).standard_normal(shape)
    check_grad(lambda t: F.interpolate(t, mode=mode, **kw), x)


# ---------------------------------------------------------------------------- layers
def test_upsample_layers_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for args, kw in [
        ((), dict(scale_factor=2)),
        ((), dict(size=(3, 8), mode="bilinear")),
        ((), dict(scale_factor=(1.5, 0.5), mode="bicubic", align_corners=True)),
        ((), dict(scale_factor=0.6, mode="bilinear", recompute_scale_factor=True)),
    ]:
        ours, theirs = nn.Upsample(*args, **kw), torch.nn.Upsample(*args, **kw)
        assert repr(ours) == repr(theirs)
        parity(ours, theirs, x)
    for name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        ours, theirs = getattr(nn, name)(scale_factor=2), getattr(torch.nn, name)(scale_factor=2)
        assert repr(ours) == repr(theirs)
        parity(ours, theirs, x)
        parity(getattr(nn, name)(size=(3, 7)), getattr(torch.nn, name)(size=(3, 7)), x)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "shape, kw, err, match",
    [
        ((1, 1, 4), dict(scale_factor=2, mode="cubic"), ValueError, "mode must be one of"),
        ((1, 1, 4), dict(scale_factor=2, mode="bilinear"), ValueError, r"4-D \(N, C, H, W\)"),
        ((1, 1, 4, 4), dict(scale_factor=2, mode="trilinear"), ValueError, "5-D"),
        ((1, 4), dict(scale_factor=2), ValueError, "3-D .* got \\(1, 4\\)"),
        ((1, 1, 1, 1, 1, 4), dict(scale_factor=2), ValueError, "5-D"),
        ((1, 1, 4), dict(scale_factor=2, align_corners=True), ValueError, "align_corners is only"),
        ((1, 1, 4), dict(size=2, scale_factor=2), ValueError, "exactly one of size"),
        ((1, 1, 4), dict(), ValueError, "exactly one of size and scale_factor"),
        ((1, 1, 4, 4), dict(size=(2, 2, 2)), ValueError, "one value per spatial dimension"),
        ((1, 1, 4), dict(size=2.5), TypeError, "size as an int"),
        ((1, 1, 4), dict(scale_factor="2"), TypeError, "scale_factor as a number"),
        ((1, 1, 4), dict(scale_factor=float("inf")), ValueError, "finite scale_factor"),
        ((1, 1, 4), dict(size=3, recompute_scale_factor=True), ValueError, "explicit size"),
        ((1, 1, 4), dict(scale_factor=0.2), ValueError, r"greater than 0.*output \(0,\)"),
        ((1, 1, 0), dict(size=3), ValueError, r"input \(0,\)"),
        ((1, 1, 4), dict(size=3, antialias=True), ValueError, "antialias"),
    ],
)
def test_interpolate_errors_name_the_argument(shape, kw, err, match):
    with pytest.raises(err, match=match):
        F.interpolate(glassnet.ones(*shape), **kw)


def test_interpolate_rejects_non_float_input():
    with pytest.raises(TypeError, match="floating-point"):
        F.interpolate(glassnet.tensor(np.zeros((1, 1, 4), np.int64)), size=3)
    with pytest.raises(TypeError, match="Tensor"):
        F.interpolate([1.0, 2.0], size=3)
