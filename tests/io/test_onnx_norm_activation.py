"""ONNX export of the normalisation layers, channel dropout and SiLU/Softplus/Hardtanh/PReLU/Mish.

Every graph passes the full checker and matches glassnet in onnxruntime (``check`` of
``test_onnx``), at opset 17 (decompositions) and at the opsets that have the operator.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import nn
from tests.io.test_onnx import check, rand

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _randomise(model, seed=0):
    """Random affine parameters and running statistics (variances positive)."""
    r = np.random.default_rng(seed)
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.dtype.kind != "f":
            continue
        v = (
            r.uniform(0.5, 2.0, t.shape)
            if name.endswith("running_var")
            else r.standard_normal(t.shape)
        )
        t.data[...] = v.astype(t.dtype)
    return model


def _ops(proto):
    return [n.op_type for n in proto.graph.node]


LN, IN, BN = "LayerNormalization", "InstanceNormalization", "BatchNormalization"
NORMS = [
    (lambda: nn.LayerNorm(6), (2, 3, 6), LN),
    (lambda: nn.LayerNorm((3, 6), elementwise_affine=False), (2, 3, 6), LN),
    (lambda: nn.LayerNorm([4, 5], bias=False), (2, 3, 4, 5), LN),
    (lambda: nn.GroupNorm(2, 6), (2, 6, 5), IN),
    (lambda: nn.GroupNorm(3, 6, affine=False), (2, 6, 3, 4), IN),
    (lambda: nn.GroupNorm(1, 4, bias=False), (3, 4), IN),
    (lambda: nn.GroupNorm(4, 4), (2, 4, 3, 2, 2), IN),
    (lambda: nn.InstanceNorm1d(3), (2, 3, 7), IN),
    (lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 5), IN),
    (lambda: nn.InstanceNorm3d(3, affine=True, bias=False), (2, 3, 2, 3, 4), IN),
    (lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True), (2, 3, 7), BN),
    (lambda: nn.InstanceNorm2d(3, track_running_stats=True), (2, 3, 4, 5), BN),
]  # fmt: skip


@pytest.mark.parametrize("make, shape, op", NORMS, ids=[f"{i}-{n[2]}" for i, n in enumerate(NORMS)])
def test_normalisation_layers_with_dynamic_batch(make, shape, op, tmp_path):
    model = _randomise(make())
    proto = check(
        model,
        rand(*shape),
        [(rand(*shape, seed=1),), (rand(5, *shape[1:], seed=2),)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )
    assert op in _ops(proto)


@pytest.mark.parametrize(
    "layer", [nn.InstanceNorm1d(3), nn.InstanceNorm1d(3, affine=True, track_running_stats=True)]
)
def test_unbatched_instance_norm(layer, tmp_path):
    _randomise(layer)
    check(
        layer,
        rand(3, 8),
        [(rand(3, 8, seed=1),), (rand(3, 5, seed=2),)],
        tmp_path,
        dynamic_axes={"input": {1: "length"}},
    )


def test_group_norm_opset_21_uses_group_normalization(tmp_path):
    model = _randomise(nn.GroupNorm(2, 6))
    proto = check(
        model,
        rand(2, 6, 5),
        [(rand(3, 6, 4, seed=1),)],
        tmp_path,
        opset_version=21,
        dynamic_axes={"input": {0: "n", 2: "l"}},
    )
    assert "GroupNormalization" in _ops(proto)


ACTIVATIONS = [
    nn.SiLU(), nn.Softplus(), nn.Softplus(2.0, 1.0), nn.Softplus(0.5, -3.0), nn.Hardtanh(),
    nn.Hardtanh(-0.5, 2.0), nn.ReLU6(), nn.PReLU(), nn.PReLU(3, init=0.1), nn.Mish(),
]  # fmt: skip


@pytest.mark.parametrize("opset", [17, 18])
@pytest.mark.parametrize("layer", ACTIVATIONS, ids=repr)
def test_activations(layer, opset, tmp_path):
    _randomise(layer)
    x = rand(2, 3, 4) * 4
    check(
        layer,
        x,
        [(x,), (rand(5, 3, 2, seed=1) * 8,)],
        tmp_path,
        opset_version=opset,
        dynamic_axes={"input": {0: "n", 2: "l"}},
    )


def test_prelu_shapes(tmp_path):
    one, per_channel = _randomise(nn.PReLU()), _randomise(nn.PReLU(4))
    for layer, shape in [
        (one, (5,)),
        (one, ()),
        (per_channel, (3, 4)),
        (per_channel, (2, 4, 3, 3)),
    ]:
        check(layer, rand(*shape), [(rand(*shape, seed=1),)], tmp_path)


def test_channel_dropout_exports_as_identity(tmp_path):
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.Dropout2d(0.5), nn.Flatten(0, 1), nn.Dropout1d(0.3)
    )
    proto = check(model, rand(2, 2, 5, 5), [(rand(2, 2, 5, 5, seed=1),)], tmp_path)
    assert "Dropout" not in _ops(proto)


def test_functional_forms_in_a_custom_forward(tmp_path):
    F = nn.functional

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(rand(4) + 2)
            self.b = nn.Parameter(rand(4, seed=1))
            self.a = nn.Parameter(np.full(4, 0.2, np.float32))

        def forward(self, x):
            y = F.group_norm(x, 2, self.w, self.b, eps=1e-3)
            y = F.layer_norm(F.silu(y), (x.shape[-1],))
            y = F.instance_norm(F.prelu(y, self.a), weight=self.w)
            y = F.softplus(y, beta=2.0, threshold=1.0) + F.mish(y)
            return F.hardtanh(y, -0.5, 0.5) + F.relu6(y * 4)

    check(
        Functional(),
        rand(2, 4, 6),
        [(rand(2, 4, 6, seed=1),), (rand(3, 4, 9, seed=2),)],
        tmp_path,
        dynamic_axes={"input": {0: "n", 2: "l"}},
    )


def test_supported_layers_lists_the_new_layers():
    names = set(glassnet.onnx.supported_layers())
    assert {
        "LayerNorm",
        "GroupNorm",
        "SiLU",
        "Softplus",
        "Hardtanh",
        "ReLU6",
        "PReLU",
        "Mish",
    } <= names
    assert {"Dropout1d", "Dropout2d", "Dropout3d"} <= names
