"""Conv and ConvTranspose layers (1/2/3-d): PyTorch parity, init, repr, output_size, errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn

from ..helpers import assert_close, parity, torch

OURS = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
THEIRS = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
OURS_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
THEIRS_T = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}


def _pair(ours: nn.Module, ref: Any) -> Any:
    """Copy our parameters into the torch module through state_dict; both in float64."""
    ours.double()
    ref.double()
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    return ref


def _layer_parity(ours: nn.Module, ref: Any, x: np.ndarray, **call: Any) -> None:
    """Forward, input gradient and parameter gradients against torch (float64)."""
    ref = _pair(ours, ref)
    parity(lambda a: ours(a, **call), lambda a: _quiet(ref, a, **call), x)
    # parameter gradients: same random upstream gradient on both sides
    xg = glassnet.tensor(x)
    yg = ours(xg, **call)
    yt = _quiet(ref, torch.tensor(x), **call)
    v = np.random.default_rng(1).standard_normal(yg.shape)
    (yg * glassnet.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    for (name, p), (tname, tp) in zip(ours.named_parameters(), ref.named_parameters()):
        assert name == tname
        assert_close(p.grad, tp.grad)


def _quiet(ref: Any, x: Any, **call: Any) -> Any:
    with warnings.catch_warnings():  # torch warns on 'same' with even kernels
        warnings.simplefilter("ignore", UserWarning)
        return ref(x, **call)


@st.composite
def layer_configs(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    ints = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(nd))  # noqa: E731
    groups = draw(st.integers(1, 2))
    k = ints(1, 3)
    s = ints(1, 2)
    d = ints(1, 2)
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    same = draw(st.booleans()) and all(v == 1 for v in s)
    padding: Any = "same" if same else ints(0, 2)
    pads = [dd * (kk - 1) for dd, kk in zip(d, k)] if same else [2 * p for p in padding]
    span = [dd * (kk - 1) + 1 for dd, kk in zip(d, k)]
    biggest_pad = [dd * (kk - 1) - dd * (kk - 1) // 2 for dd, kk in zip(d, k)] if same else padding
    size = tuple(
        max(e - p, bp + 1, 2) + draw(st.integers(0, 2))  # reflect needs pad < size
        for e, p, bp in zip(span, pads, biggest_pad)
    )
    c, f = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    args = dict(
        in_channels=c,
        out_channels=f,
        kernel_size=k,
        stride=s,
        padding=padding,
        dilation=d,
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=mode,
    )
    unbatched = draw(st.booleans())
    x_shape = (c, *size) if unbatched else (draw(st.integers(1, 2)), c, *size)
    return dict(nd=nd, args=args, x_shape=x_shape, seed=draw(st.integers(0, 2**16)))


@given(cfg=layer_configs())
def test_conv_layer_parity(cfg: dict[str, Any]) -> None:
    nd, args = cfg["nd"], cfg["args"]
    ours = OURS[nd](**args, rng=np.random.default_rng(cfg["seed"]))
    ref = THEIRS[nd](**args)
    x = np.random.default_rng(cfg["seed"] + 1).standard_normal(cfg["x_shape"])
    _layer_parity(ours, ref, x)


@st.composite
def transpose_layer_configs(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    ints = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(nd))  # noqa: E731
    groups = draw(st.integers(1, 2))
    k, s, d, p = ints(1, 3), ints(1, 3), ints(1, 2), ints(0, 1)
    op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    size = tuple(  # smallest input size with a positive output size, plus a little
        max(1, 1 + -(-(2 * pp - dd * (kk - 1) - o) // ss)) + draw(st.integers(0, 2))
        for pp, dd, kk, o, ss in zip(p, d, k, op, s)
    )
    c, f = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    args = dict(
        in_channels=c,
        out_channels=f,
        kernel_size=k,
        stride=s,
        padding=p,
        output_padding=op,
        groups=groups,
        bias=draw(st.booleans()),
        dilation=d,
    )
    unbatched = draw(st.booleans())
    x_shape = (c, *size) if unbatched else (draw(st.integers(1, 2)), c, *size)
    # output_size: any reachable size (between the smallest and smallest + stride - 1)
    base = [
        (n - 1) * ss - 2 * pp + dd * (kk - 1) + 1 for n, ss, pp, dd, kk in zip(size, s, p, d, k)
    ]
    out_size = tuple(b + draw(st.integers(0, ss - 1)) for b, ss in zip(base, s))
    use_size = draw(st.booleans()) and all(b >= 1 for b in base)
    return dict(
        nd=nd,
        args=args,
        x_shape=x_shape,
        seed=draw(st.integers(0, 2**16)),
        output_size=out_size if use_size else None,
    )


@given(cfg=transpose_layer_configs())
def test_conv_transpose_layer_parity(cfg: dict[str, Any]) -> None:
    nd, args = cfg["nd"], cfg["args"]
    ours = OURS_T[nd](**args, rng=np.random.default_rng(cfg["seed"]))
    ref = THEIRS_T[nd](**args)
    x = np.random.default_rng(cfg["seed"] + 1).standard_normal(cfg["x_shape"])
    call = {} if cfg["output_size"] is None else {"output_size": list(cfg["output_size"])}
    _layer_parity(ours, ref, x, **call)
    if cfg["output_size"] is not None:
        assert ours(glassnet.tensor(x), **call).shape[-nd:] == cfg["output_size"]


def test_output_size_full_shape_and_unreachable_size() -> None:
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, rng=glassnet.manual_seed(0))
    x = glassnet.ones(3, 4, 5, 5)
    assert up(x).shape == (3, 2, 9, 9)
    assert up(x, output_size=(10, 9)).shape == (3, 2, 10, 9)
    assert up(x, output_size=(3, 2, 10, 10)).shape == (3, 2, 10, 10)  # full shape accepted
    with pytest.raises(
        ValueError,
        match=r"output_size \(11, 9\) is unreachable; valid sizes "
        r"range from \(9, 9\) to \(10, 10\)",
    ):
        up(x, output_size=(11, 9))
    with pytest.raises(ValueError, match=r"output_size with 2 spatial sizes"):
        up(x, output_size=(10,))


# ---------------------------------------------------------------------------- init, repr, state
@pytest.mark.parametrize("transposed", [False, True])
def test_pytorch_initialisation_bounds(transposed: bool) -> None:
    """weight and bias ~ U(+-1/sqrt(fan_in)), fan_in = weight.shape[1] * prod(kernel)."""
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    layer = cls(8, 12, (3, 5), groups=2, rng=np.random.default_rng(0))
    fan_in = (12 // 2 if transposed else 8 // 2) * 15
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == ((8, 6, 3, 5) if transposed else (12, 4, 3, 5))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # std of U(-a, a) is a / sqrt(3)
    assert np.abs(b).max() <= bound and b.shape == (12,)
    torch_layer = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(
        8, 12, (3, 5), groups=2
    )
    t_bound = float(torch_layer.weight.detach().abs().max())
    assert t_bound <= bound and t_bound > 0.95 * bound


def test_rng_makes_initialisation_reproducible_and_dtype() -> None:
    a = nn.Conv1d(3, 4, 3, rng=np.random.default_rng(5))
    b = nn.Conv1d(3, 4, 3, rng=np.random.default_rng(5))
    assert np.array_equal(a.weight.data, b.weight.data) and a.weight.dtype == np.float32
    assert nn.Conv3d(1, 1, 1, dtype=np.float64).weight.dtype == np.float64


@pytest.mark.parametrize(
    "args",
    [
        dict(in_channels=3, out_channels=8, kernel_size=3),
        dict(
            in_channels=4,
            out_channels=8,
            kernel_size=3,
            stride=2,
            padding=1,
            dilation=2,
            groups=2,
            bias=False,
            padding_mode="reflect",
        ),
        dict(in_channels=3, out_channels=6, kernel_size=3, padding="same", padding_mode="circular"),
        dict(in_channels=3, out_channels=6, kernel_size=3, padding="valid"),
    ],
)
def test_repr_and_state_dict_match_torch(args: dict[str, Any]) -> None:
    for nd in (1, 2, 3):
        ours, ref = OURS[nd](**args), THEIRS[nd](**args)
        assert repr(ours) == repr(ref)
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in ref.state_dict().items()
        }
        assert ours.padding == ref.padding and ours.kernel_size == ref.kernel_size
    tuples = dict(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    assert repr(nn.Conv2d(2, 4, **tuples)) == repr(torch.nn.Conv2d(2, 4, **tuples))


def test_transpose_repr_and_state_dict_match_torch() -> None:
    args = dict(
        in_channels=4,
        out_channels=6,
        kernel_size=3,
        stride=2,
        padding=1,
        output_padding=1,
        groups=2,
        bias=False,
        dilation=1,
    )
    for nd in (1, 2, 3):
        ours, ref = OURS_T[nd](**args), THEIRS_T[nd](**args)
        assert repr(ours) == repr(ref)
        assert ours.weight.shape == tuple(ref.weight.shape)
        ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        ours.load_state_dict(ref.state_dict())


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nn.Conv2d(3, 8, 3, groups=2), r"in_channels \(3\) divisible by groups=2"),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), r"out_channels \(6\) divisible by groups=4"),
        (lambda: nn.Conv2d(4, 6, 3, groups=0), r"groups to be a positive int, got 0"),
        (
            lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"),
            r"padding='same' is not supported for strided convolutions, got stride=\(2, 2\)",
        ),
        (lambda: nn.Conv2d(3, 8, 3, padding=-1), r"non-negative padding, got \(-1, -1\)"),
        (
            lambda: nn.Conv2d(3, 8, 3, padding="full"),
            r"padding 'same', 'valid' or ints, got 'full'",
        ),
        (
            lambda: nn.Conv2d(3, 8, 3, padding_mode="mirror"),
            r"padding_mode to be one of .*'mirror'",
        ),
        (lambda: nn.Conv2d(3, 8, (3, 3, 3)), r"kernel_size to be an int or a tuple of 2 ints"),
        (lambda: nn.Conv2d(3, 8, 0), r"positive kernel_size, got \(0, 0\)"),
        (lambda: nn.Conv2d(0, 8, 3), r"positive int in_channels, got 0"),
        (
            lambda: nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect"),
            r"only padding_mode='zeros', got 'reflect'",
        ),
        (
            lambda: nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=2),
            r"output_padding smaller than stride or dilation, got output_padding=\(2, 2\)",
        ),
    ],
)
def test_constructor_errors(make: Any, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_forward_errors() -> None:
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(
        ValueError,
        match=r"Conv2d expected input of shape \(N, 3, H, W\) or "
        r"\(3, H, W\), got \(8, 4, 32, 32\)",
    ):
        conv(glassnet.zeros(8, 4, 32, 32))
    with pytest.raises(ValueError, match=r"got \(3, 32\)"):
        conv(glassnet.zeros(3, 32))
    with pytest.raises(
        ValueError, match=r"kernel size \(3, 3\) .* larger than the padded input \(2, 2\)"
    ):
        conv(glassnet.zeros(1, 3, 2, 2))
    with pytest.raises(TypeError, match=r"Conv2d expected a Tensor input, got ndarray"):
        conv(np.zeros((1, 3, 5, 5)))
    reflect = nn.Conv1d(2, 2, 5, padding=3, padding_mode="reflect")
    with pytest.raises(
        ValueError,
        match=r"padding \(3, 3\) is too large for padding_mode='reflect' "
        r"on an input axis of size 3 \(expected at most 2\)",
    ):
        reflect(glassnet.zeros(1, 2, 3))
    up = nn.ConvTranspose1d(2, 2, 3, padding=4)
    with pytest.raises(
        ValueError, match=r"padding=\(4,\) is too large .* output size would be \(-4,\)"
    ):
        up(glassnet.zeros(1, 2, 2))


def test_training_step_reduces_loss() -> None:
    """A tiny conv net learns to reproduce a fixed conv on random data (the layers compose)."""
    rng = np.random.default_rng(0)
    x = glassnet.tensor(rng.standard_normal((16, 2, 8, 8)).astype(np.float32))
    w_true = glassnet.tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32))
    target = glassnet.nn.functional.conv2d(x, w_true, padding=1).detach()
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, rng=rng), nn.ReLU(), nn.Conv2d(4, 3, 3, padding=1, rng=rng)
    )
    params = list(net.parameters())
    first = None
    for _ in range(60):
        loss = ((net(x) - target) ** 2).mean()
        first = float(loss.data) if first is None else first
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= 0.05 * p.grad.data
    assert float(loss.data) < 0.5 * first
