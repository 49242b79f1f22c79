"""ONNX export of padding, interpolation, pixel shuffle and (un)fold, checked in onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
import glassnet.nn.functional as F
from glassnet import nn
from tests.io.test_onnx import check, rand

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class Fn(nn.Module):
    """A functional call as a model (its operation is traced, not a layer)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def ops_of(proto):
    return [n.op_type for n in proto.graph.node]


# ---------------------------------------------------------------------------- padding
@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
        (nn.ConstantPad1d((2, -1), 1.5), (2, 3, 5)),
        (nn.ConstantPad3d((1, 0, -1, 2, 0, 1), -2.0), (2, 1, 3, 4, 5)),
        (nn.ReflectionPad1d((3, 1)), (2, 3, 5)),
        (nn.ReflectionPad2d((-1, 2, 1, -2)), (2, 3, 4, 5)),
        (nn.ReflectionPad3d(1), (1, 2, 3, 4, 3)),
        (nn.ReplicationPad1d((4, 2)), (2, 3, 5)),
        (nn.ReplicationPad2d((2, -1, -2, 3)), (2, 3, 4, 5)),
        (nn.ReplicationPad3d((1, 2, 0, 1, 2, 0)), (1, 2, 3, 4, 3)),
        (nn.CircularPad1d((3, 1)), (2, 3, 4)),
        (nn.CircularPad2d((-1, 2, 1, -1)), (2, 3, 4, 5)),
        (nn.CircularPad3d((1, 0, 2, 1, 0, 3)), (1, 2, 3, 4, 3)),
        (nn.ReflectionPad2d(1), (3, 4, 5)),  # unbatched
    ],
)
def test_padding_layers_with_dynamic_batch(layer, shape, tmp_path):
    dyn = {"input": {0: "batch"}}
    feeds = [(rand(n, *shape[1:], seed=n),) for n in (1, 4)]
    check(layer, rand(*shape), feeds, tmp_path, dynamic_axes=dyn)


@pytest.mark.parametrize(
    "pad, mode",
    [
        ((-1, -2), "reflect"),
        ((0, 0, -1, 0), "constant"),
        ((0, 0), "replicate"),
        ((2, -3), "circular"),
    ],
)
def test_pads_that_crop_or_do_nothing(pad, mode, tmp_path):
    model = Fn(lambda x: F.pad(x, pad, mode=mode))
    check(model, rand(2, 3, 6), [(rand(2, 3, 6, seed=1),)], tmp_path)


# ---------------------------------------------------------------------------- interpolation
@pytest.mark.parametrize(
    "kw, shape",
    [
        (dict(scale_factor=2, mode="nearest"), (2, 3, 5)),
        (dict(scale_factor=(2, 3), mode="nearest"), (2, 3, 4, 5)),
        (dict(scale_factor=(1.5, 0.5, 2), mode="nearest"), (1, 2, 3, 4, 6)),
        (dict(size=(7, 3), mode="nearest"), (2, 3, 4, 5)),
        (dict(scale_factor=(1.1, 2.3), mode="nearest"), (2, 3, 5, 3)),  # PyTorch's 2-d rules
        (dict(size=7, mode="nearest-exact"), (2, 3, 5)),
        (dict(scale_factor=(1.7, 0.6), mode="nearest-exact"), (2, 3, 4, 5)),
        (dict(scale_factor=2.5, mode="linear"), (2, 3, 5)),
        (dict(size=9, mode="linear", align_corners=True), (2, 3, 5)),
        (dict(size=1, mode="linear"), (2, 3, 4)),
        (dict(scale_factor=(2, 0.5), mode="bilinear"), (2, 3, 4, 6)),
        (dict(scale_factor=(1.1, 1.7), mode="bilinear"), (2, 3, 5, 4)),  # first axis copied
        (dict(size=(3, 8), mode="bilinear", align_corners=True), (2, 3, 4, 6)),
        (dict(scale_factor=0.7, mode="bilinear", recompute_scale_factor=True), (2, 3, 10, 6)),
        (dict(scale_factor=(2, 1.5, 0.5), mode="trilinear"), (1, 2, 3, 4, 6)),
        (dict(size=(4, 4, 4), mode="trilinear", align_corners=True), (1, 2, 3, 2, 5)),
        (dict(scale_factor=2, mode="bicubic"), (2, 3, 4, 5)),
        (dict(size=(7, 3), mode="bicubic", align_corners=True), (2, 3, 4, 5)),
        (dict(scale_factor=0.5, mode="area"), (2, 3, 8, 6)),
    ],
)
def test_upsample_with_dynamic_batch(kw, shape, tmp_path):
    proto = check(
        nn.Upsample(**kw),
        rand(*shape),
        [(rand(n, *shape[1:], seed=n),) for n in (1, 3)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )
    assert ("Resize" in ops_of(proto)) == (kw["mode"] != "area")


def test_interpolate_in_a_custom_forward(tmp_path):
    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            y = F.interpolate(self.conv(x), scale_factor=2, mode="bilinear", align_corners=False)
            return F.pad(y, (1, 1, 1, 1), mode="reflect")

    check(Decoder(), rand(2, 3, 4, 5), [(rand(2, 3, 4, 5, seed=1),)], tmp_path)


# ---------------------------------------------------------------------------- pixel shuffle
@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.PixelShuffle(2), (2, 8, 3, 4)),
        (nn.PixelShuffle(3), (18, 2, 3)),
        (nn.PixelShuffle(2), (2, 3, 4, 2, 3)),
        (nn.PixelUnshuffle(2), (2, 3, 4, 6)),
        (nn.PixelUnshuffle(3), (2, 6, 3)),
        (nn.PixelUnshuffle(2), (2, 3, 2, 4, 2)),
    ],
)
def test_pixel_shuffle_layers(layer, shape, tmp_path):
    proto = check(layer, rand(*shape), [(rand(*shape, seed=1),)], tmp_path)
    if isinstance(layer, nn.PixelShuffle):
        assert "DepthToSpace" in ops_of(proto)


def test_pixel_shuffle_with_dynamic_batch(tmp_path):
    model = nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(12, 12, 1), nn.PixelShuffle(2))
    feeds = [(rand(n, 3, 4, 6, seed=n),) for n in (1, 5)]
    check(model, rand(2, 3, 4, 6), feeds, tmp_path, dynamic_axes={"input": {0: "batch"}})


# ---------------------------------------------------------------------------- fold / unfold
@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3),
        dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 1)),
        dict(kernel_size=2, stride=2),
    ],
)
def test_unfold_and_fold(kw, tmp_path):
    shape = (2, 3, 7, 6)
    proto = check(
        nn.Unfold(**kw),
        rand(*shape),
        [(rand(n, *shape[1:], seed=n),) for n in (1, 3)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )
    assert "Conv" in ops_of(proto)
    cols = nn.Unfold(**kw)(glassnet.tensor(rand(*shape))).shape
    proto = check(
        nn.Fold(output_size=shape[2:], **kw),
        rand(*cols),
        [(rand(n, *cols[1:], seed=n),) for n in (1, 3)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )
    assert "ConvTranspose" in ops_of(proto)


def test_unbatched_unfold_and_fold(tmp_path):
    check(nn.Unfold(2, padding=1), rand(3, 4, 5), [(rand(3, 4, 5, seed=1),)], tmp_path)
    check(nn.Fold((4, 5), 2), rand(12, 12), [(rand(12, 12, seed=1),)], tmp_path)
    np.testing.assert_allclose(  # the sum of overlaps, as a check that Fold is not Unfold
        nn.Fold((3, 3), 2)(glassnet.ones(1, 4, 4)).data[0, 0],
        [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
    )


@pytest.mark.parametrize("opset", [17, 18, 20])
def test_a_decoder_at_several_opsets(opset, tmp_path):
    model = nn.Sequential(
        nn.ReplicationPad2d((1, 0, 0, 1)),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.PixelUnshuffle(2),
        nn.Conv2d(12, 12, 1),
        nn.PixelShuffle(2),
        nn.Unfold(2),
    )
    check(model, rand(2, 3, 4, 5), [(rand(2, 3, 4, 5, seed=1),)], tmp_path, opset_version=opset)


def test_scale_factor_upsampling_follows_dynamic_spatial_sizes(tmp_path):
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1))
    feeds = [(rand(1, 3, h, w, seed=h),) for h, w in [(2, 3), (5, 7)]]
    dyn = {"input": {0: "batch", 2: "h", 3: "w"}}
    check(model, rand(2, 3, 4, 5), feeds, tmp_path, dynamic_axes=dyn)
