"""ONNX export: every graph passes the full checker and matches glassnet in onnxruntime."""

from __future__ import annotations

import sys

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import assume, given, settings

import glassnet
import glassnet.onnx as gonnx
from glassnet import nn
from glassnet.io._onnx_convert import _reshape_spec
from tests.io.models import MODELS, E, H, V, example, randomize_buffers

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _flat(o)]
    return [out.data]


def check(model, example_input, feeds_list, tmp_path, atol=1e-5, **kw):
    """Export once, check the graph, then compare onnxruntime with glassnet on every feed.

    ``feeds_list`` holds tuples of arrays (the forward's positional arguments, flattened in the
    order of the graph inputs); ``build`` (in kw) rebuilds nested arguments from them.
    """
    build = kw.pop("build", lambda *a: a)
    path = tmp_path / "model.onnx"
    model.train()
    proto = gonnx.export(model, example_input, path, **kw)
    assert all(m.training for m in model.modules())  # export restores the training flags
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded.opset_import[0].version == kw.get("opset_version", 17)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    model.eval()
    for feeds in feeds_list:
        got = sess.run(None, dict(zip(names, feeds)))
        with glassnet.no_grad():
            want = _flat(model(*build(*[glassnet.tensor(f) for f in feeds])))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=atol)
    return proto


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


# ---------------------------------------------------------------------------- the three models
def test_lenet_exports_with_dynamic_batch(tmp_path):
    model = randomize_buffers(MODELS["lenet"]())
    proto = check(
        model,
        example("lenet"),
        [(example("lenet", n=n, seed=n),) for n in (1, 3, 8)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )
    assert dims(proto.graph.output[0]) == ["batch", 10]
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Conv") == 2 and "BatchNormalization" in ops and "Dropout" not in ops
    inits = {i.name for i in proto.graph.initializer}
    assert {"features.0.weight", "features.1.running_var", "classifier.4.bias"} <= inits


def test_bilstm_with_initial_states_and_dynamic_time_and_batch(tmp_path):
    model = MODELS["bilstm"]()
    x, h0, c0 = rand(5, 3, E), rand(4, 3, H, seed=1), rand(4, 3, H, seed=2)
    feeds = [
        (rand(t, n, E, seed=t), rand(4, n, H, seed=n), rand(4, n, H, seed=9))
        for t, n in [(1, 1), (7, 2), (12, 5)]
    ]
    proto = check(
        model,
        (x, (glassnet.tensor(h0), glassnet.tensor(c0))),
        feeds,
        tmp_path,
        build=lambda x, h, c: (x, (h, c)),
        input_names=["x", "h0", "c0"],
        output_names=["logits", "h_n", "c_n"],
        dynamic_axes={"x": {0: "time", 1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}},
    )
    assert dims(proto.graph.output[0]) == ["time", "batch", 5]
    assert dims(proto.graph.output[1]) == [4, "batch", H]
    lstm = [n for n in proto.graph.node if n.op_type == "LSTM"]
    assert len(lstm) == 2
    assert all(a.s == b"bidirectional" for n in lstm for a in n.attribute if a.name == "direction")


def test_bilstm_without_initial_states(tmp_path):
    model = MODELS["bilstm"]()
    check(
        model,
        rand(5, 3, E),
        [(rand(t, n, E, seed=t),) for t, n in [(2, 1), (9, 4)]],
        tmp_path,
        dynamic_axes={"input": {0: "time", 1: "batch"}},
    )


def test_gru_language_model(tmp_path):
    model = MODELS["grulm"]()
    tokens, h0 = example("grulm"), rand(1, 3, H)
    feeds = [
        (example("grulm", n=n, t=t, seed=t), rand(1, n, H, seed=n))
        for n, t in [(1, 1), (3, 5), (6, 11)]
    ]
    proto = check(
        model,
        (tokens, h0),
        feeds,
        tmp_path,
        input_names=["tokens", "h0"],
        output_names=["logits", "h_n"],
        dynamic_axes={"tokens": {0: "batch", 1: "time"}, "h0": {1: "batch"}},
    )
    assert dims(proto.graph.output[0]) == ["batch", "time", V]
    gru = next(n for n in proto.graph.node if n.op_type == "GRU")
    assert {a.name: a.i for a in gru.attribute}["linear_before_reset"] == 1
    assert next(i for i in proto.graph.input if i.name == "tokens").type.tensor_type.elem_type == (
        onnx.TensorProto.INT64
    )


def test_gate_order_is_onnx_order(tmp_path):
    """The LSTM W initializer holds PyTorch's (i, f, g, o) blocks as ONNX's (i, o, f, c)."""
    model = nn.LSTM(2, 3)
    proto = gonnx.export(model, glassnet.randn(4, 1, 2))
    w = next(
        onnx.numpy_helper.to_array(i) for i in proto.graph.initializer if i.name.endswith("/W")
    )
    i, f, g, o = np.split(model.weight_ih_l0.data, 4)
    np.testing.assert_array_equal(w[0], np.concatenate([i, o, f, g]))
    gru = nn.GRU(2, 3)
    proto = gonnx.export(gru, glassnet.randn(4, 1, 2))
    w = next(
        onnx.numpy_helper.to_array(i) for i in proto.graph.initializer if i.name.endswith("/W")
    )
    r, z, n = np.split(gru.weight_ih_l0.data, 3)
    np.testing.assert_array_equal(w[0], np.concatenate([z, r, n]))


# ---------------------------------------------------------------------------- recurrent options
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "opts",
    [
        dict(),
        dict(num_layers=3, bidirectional=True, batch_first=True, bias=False),
        dict(num_layers=2, nonlinearity="relu"),
    ],
)
def test_recurrent_layers(kind, opts, tmp_path):
    if "nonlinearity" in opts and kind != "RNN":
        opts = {k: v for k, v in opts.items() if k != "nonlinearity"}
    model = getattr(nn, kind)(3, 4, **opts)
    bf = opts.get("batch_first", False)
    L = opts.get("num_layers", 1) * (2 if opts.get("bidirectional") else 1)

    def x_of(t, n, seed=0):
        return rand(n, t, 3, seed=seed) if bf else rand(t, n, 3, seed=seed)

    states = 2 if kind == "LSTM" else 1
    feeds = [
        (x_of(t, n, t), *[rand(L, n, 4, seed=s + n) for s in range(states)])
        for t, n in [(1, 1), (6, 3)]
    ]
    build = (lambda x, h, c: (x, (h, c))) if kind == "LSTM" else (lambda x, h: (x, h))
    example_in = build(*[glassnet.tensor(a) for a in feeds[1]])
    names = ["x", "h0", "c0"][: 1 + states]
    dyn = {"x": {1 - bf: "batch", int(bf): "time"}, **{n: {1: "batch"} for n in names[1:]}}
    check(model, example_in, feeds, tmp_path, build=build, input_names=names, dynamic_axes=dyn)


def test_unbatched_sequence_and_variable_lengths(tmp_path):
    gru = nn.GRU(3, 4, bidirectional=True)
    check(
        gru,
        rand(5, 3),
        [(rand(t, 3, seed=t),) for t in (1, 8)],
        tmp_path,
        dynamic_axes={"input": {0: "time"}},
    )
    lstm = nn.LSTM(3, 4, bidirectional=True)

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x, lengths):
            y, (h, _) = self.lstm(x, lengths=lengths)
            return y, h

    feeds = [(rand(6, 3, 3), np.array([6, 2, 4])), (rand(4, 2, 3, seed=1), np.array([1, 4]))]
    check(
        Packed(),
        feeds[0],
        feeds,
        tmp_path,
        dynamic_axes={"input_0": {0: "time", 1: "batch"}, "input_1": {0: "batch"}},
    )


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(kind, tmp_path):
    cell = getattr(nn, kind)(3, 4)
    states = 2 if kind == "LSTMCell" else 1
    build = (lambda x, h, c: (x, (h, c))) if states == 2 else (lambda x, h: (x, h))
    feeds = [(rand(n, 3, seed=n), *[rand(n, 4, seed=s) for s in range(states)]) for n in (1, 5)]
    names = ["x", "h", "c"][: 1 + states]
    check(
        cell,
        build(*[glassnet.tensor(a) for a in feeds[1]]),
        feeds,
        tmp_path,
        build=build,
        input_names=names,
        dynamic_axes={n: {0: "batch"} for n in names},
    )


# ---------------------------------------------------------------------------- convolution layers
CONVS = [
    (nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (2, 4, 11)),
    (nn.Conv1d(4, 4, 4, padding="same", padding_mode="reflect"), (2, 4, 9)),
    (nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), groups=2, bias=False), (2, 4, 9, 8)),
    (nn.Conv2d(3, 4, 3, padding=2, padding_mode="circular"), (2, 3, 7, 6)),
    (nn.Conv2d(3, 4, 3, padding=1, padding_mode="replicate", dilation=2), (2, 3, 7, 6)),
    (nn.Conv2d(3, 4, 4, padding="same", dilation=(1, 2)), (2, 3, 7, 9)),
    (nn.Conv3d(2, 4, 3, stride=2, padding=1, groups=2), (2, 2, 5, 6, 7)),
    (nn.Conv3d(2, 3, 2, padding=1, padding_mode="reflect"), (2, 2, 4, 4, 5)),
    (nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 7)),
    (nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, dilation=2, output_padding=1), (2, 4, 5, 6)),
    (nn.ConvTranspose2d(2, 4, (2, 3), stride=(1, 2), groups=2, bias=False), (2, 2, 4, 5)),
    (nn.ConvTranspose3d(2, 2, 3, stride=2, padding=1, output_padding=(0, 1, 1)), (2, 2, 3, 4, 3)),
]


@pytest.mark.parametrize("layer, shape", CONVS, ids=[repr(c[0]) for c in CONVS])
def test_convolutions_with_dynamic_batch_and_size(layer, shape, tmp_path):
    _, c, *s = shape
    sizes = {0: "batch", **{2 + i: f"s{i}" for i in range(len(s))}}
    feeds = [(rand(*shape),), (rand(1, c, *[v + 2 for v in s], seed=1),)]
    check(layer, feeds[0], feeds, tmp_path, dynamic_axes={"input": sizes})


def test_unbatched_convolution_and_conv_transpose_output_size(tmp_path):
    check(nn.Conv2d(3, 2, 3, padding=1), rand(3, 5, 5), [(rand(3, 5, 5),)], tmp_path)
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)

    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = up

        def forward(self, x):
            return self.up(x, output_size=(10, 10))

    proto = check(
        Up(), rand(2, 3, 5, 5), [(rand(4, 3, 5, 5),)], tmp_path, dynamic_axes={"input": [0]}
    )
    assert dims(proto.graph.output[0]) == ["input_dynamic_axes_1", 2, 10, 10]


# ---------------------------------------------------------------------------- pooling
POOLS = [
    (nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    (nn.MaxPool2d(3, stride=2, padding=1, dilation=2), (2, 3, 9, 10)),
    (nn.MaxPool2d((2, 3), ceil_mode=True), (2, 3, 7, 8)),
    (nn.MaxPool3d(2, stride=1, padding=1), (2, 2, 4, 5, 3)),
    (nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 9)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 9)),
    (nn.AvgPool2d(2, padding=1, divisor_override=3), (2, 3, 6, 7)),
    (nn.AvgPool3d(2, stride=2, ceil_mode=True), (2, 2, 5, 4, 3)),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 7, 5)),
    (nn.AdaptiveMaxPool1d(1), (2, 3, 7)),
    (nn.AdaptiveAvgPool3d((1, 1, 1)), (2, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("layer, shape", POOLS, ids=[repr(p[0]) for p in POOLS])
def test_pools_with_dynamic_sizes(layer, shape, tmp_path):
    _, c, *s = shape
    sizes = {0: "batch", **{2 + i: f"s{i}" for i in range(len(s))}}
    feeds = [(rand(*shape),), (rand(3, c, *[v + 3 for v in s], seed=2),)]
    proto = check(layer, feeds[0], feeds, tmp_path, dynamic_axes={"input": sizes})
    if "count_include_pad" in repr(vars(layer)):
        pool = next(n for n in proto.graph.node if n.op_type == "AveragePool")
        assert "count_include_pad" in {a.name for a in pool.attribute}  # always set explicitly


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 6, 9)),  # divisible: one pooling op
        (nn.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 5)),  # uneven bins along H only
        (nn.AdaptiveMaxPool2d((4, 3)), (2, 3, 10, 7)),
        (nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
        (nn.AdaptiveMaxPool3d((2, 1, 3)), (1, 2, 5, 4, 7)),
    ],
)
def test_general_adaptive_pools_with_static_size(layer, shape, tmp_path):
    x = rand(*shape)
    check(
        layer,
        x,
        [(x,), (rand(4, *shape[1:], seed=3),)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )


def test_max_pool_indices(tmp_path):
    pool = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    check(
        pool,
        rand(2, 3, 7, 8),
        [(rand(2, 3, 7, 8),), (rand(1, 3, 9, 5, seed=1),)],
        tmp_path,
        dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}},
    )


# ---------------------------------------------------------------------------- other layers
def test_batch_norm_layers(tmp_path):
    for bn, shape in [
        (nn.BatchNorm1d(4), (3, 4)),
        (nn.BatchNorm1d(4, affine=False), (3, 4, 6)),
        (nn.BatchNorm2d(4), (2, 4, 3, 5)),
        (nn.BatchNorm3d(4), (2, 4, 3, 2, 3)),
    ]:
        randomize_buffers(bn)
        if bn.weight is not None:
            bn.weight.data[...] = rand(4)
            bn.bias.data[...] = rand(4, seed=1)
        check(
            bn,
            rand(*shape),
            [(rand(*shape),), (rand(5, *shape[1:], seed=4),)],
            tmp_path,
            dynamic_axes={"input": {0: "batch"}},
        )


def test_batch_norm_without_running_stats_uses_batch_statistics(tmp_path):
    bn = nn.BatchNorm2d(3, track_running_stats=False)
    check(
        bn,
        rand(4, 3, 5, 5),
        [(rand(4, 3, 5, 5),), (rand(2, 3, 5, 5, seed=1),)],
        tmp_path,
        dynamic_axes={"input": {0: "batch"}},
    )


@pytest.mark.parametrize("opset", [17, 18, 20])
def test_activations_softmax_linear_flatten(opset, tmp_path):
    model = nn.Sequential(
        nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU("tanh"), nn.ELU(0.7),
        nn.LeakyReLU(0.2), nn.Tanh(), nn.Sigmoid(), nn.Identity(), nn.Dropout(0.5),
        nn.Softmax(dim=1), nn.Flatten(0, 1), nn.LogSoftmax(0),
    )  # fmt: skip
    check(
        model,
        rand(2, 3, 6),
        [(rand(2, 3, 6),), (rand(4, 1, 6, seed=1),)],
        tmp_path,
        opset_version=opset,
        dynamic_axes={"input": {0: "a", 1: "b"}},
    )


def test_flatten_variants_and_embedding(tmp_path):
    for start, end in [(1, -1), (0, -1), (1, 2), (2, 3), (0, 0)]:
        layer = nn.Flatten(start, end)
        check(
            layer,
            rand(2, 3, 4, 5),
            [(rand(2, 3, 4, 5),), (rand(3, 2, 5, 4, seed=1),)],
            tmp_path,
            dynamic_axes={"input": [0, 1, 2, 3]},
        )
    emb = nn.Embedding(10, 4)
    idx = np.array([[1, 2, 9], [0, 0, 3]])
    check(emb, idx, [(idx,), (np.array([[5]]),)], tmp_path, dynamic_axes={"input": [0, 1]})


# ---------------------------------------------------------------------------- custom forwards
class Residual(nn.Module):
    """A custom forward mixing layers with tensor operations (traced operation by operation)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(8, 3)
        self.scale = nn.Parameter(np.full(4, 0.5, np.float32))

    def forward(self, x):
        y = self.conv2(glassnet.relu(self.conv1(x)))
        y = (x + y * self.scale.reshape(1, 4, 1, 1)).clamp(min=-1.0)
        mean = y.mean(dim=(2, 3))  # (N, 4)
        peak = y.amax(dim=(2, 3))
        z = glassnet.cat([mean, peak], dim=1)  # (N, 8)
        logits = self.fc(z)
        gate = glassnet.where(logits > 0, logits, logits * 0.1)
        return gate - logits.exp().sum(dim=1, keepdim=True).log(), y[:, -1, 1:, ::2]


def test_custom_module_with_tensor_operations(tmp_path):
    check(
        Residual(),
        rand(2, 4, 6, 6),
        [(rand(2, 4, 6, 6),), (rand(5, 4, 7, 9, seed=1),)],
        tmp_path,
        dynamic_axes={"input": {0: "batch", 2: "h", 3: "w"}},
    )


class TensorClamp(nn.Module):
    """clamp with tensor bounds (both, one, a number beside a tensor; one column with lo > hi)."""

    def __init__(self):
        super().__init__()
        self.lo = nn.Parameter(np.array([-0.5, 0.0, 0.2, -1.0], np.float32))
        self.hi = nn.Parameter(np.array([0.5, 0.3, 0.1, 2.0], np.float32))

    def forward(self, x):
        return x.clamp(self.lo, self.hi), x.clamp(min=self.lo), glassnet.clamp(x, -0.25, self.hi)


def test_clamp_with_tensor_bounds(tmp_path):
    check(
        TensorClamp(),
        rand(3, 4),
        [(rand(3, 4),), (rand(5, 4, seed=1),)],
        tmp_path,
        dynamic_axes={"input": [0]},
    )


class SeqHead(nn.Module):
    """Reshape, transpose, stack, split, getitem and matmul in a recurrent model's head."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.w = nn.Parameter(np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32))

    def forward(self, x):
        y, (h, _) = self.lstm(x)  # (N, T, 4)
        n, t, _ = y.shape
        flat = y.reshape(n * t, 4) @ self.w  # (N*T, 2)
        a, b = flat.split(1, dim=1)
        both = glassnet.stack([a.squeeze(1), b.squeeze(1)], dim=0).reshape(2, n, t)
        last = y[:, -1] + h[0]  # (N, 4)
        return both.transpose(0, 1), last.unsqueeze(1).expand(n, 3, 4), y.var(dim=1)


def test_custom_recurrent_head(tmp_path):
    check(
        SeqHead(),
        rand(2, 5, 3),
        [(rand(2, 5, 3),), (rand(4, 9, 3, seed=1),)],
        tmp_path,
        dynamic_axes={"input": {0: "batch", 1: "time"}},
    )


def test_functional_layers_in_a_custom_forward(tmp_path):
    F = nn.functional

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(rand(3, 2, 3, 3))
            self.emb = nn.Parameter(rand(7, 5))

        def forward(self, x, idx):
            y = F.conv2d(x, self.w, padding=1)
            y = F.max_pool2d(y, 2, ceil_mode=True)
            y = F.avg_pool2d(y, 2, padding=1, count_include_pad=False)
            y = F.adaptive_avg_pool2d(y, 1).flatten(1)
            return y, F.embedding(idx, self.emb).sum(dim=1)

    idx = np.array([[1, 6], [0, 2]])
    feeds = [(rand(2, 2, 9, 9), idx), (rand(1, 2, 6, 11, seed=2), np.array([[3, 3]]))]
    check(
        Functional(),
        feeds[0],
        feeds,
        tmp_path,
        dynamic_axes={"input_0": {0: "n", 2: "h", 3: "w"}, "input_1": {0: "n"}},
    )


# ---------------------------------------------------------------------------- clear errors
def test_unsupported_layer_is_named(tmp_path):
    from glassnet.autograd import Function

    class Cube(Function):
        def forward(self, x):
            return x**3

    class Odd(nn.Module):
        def forward(self, x):
            return Cube.apply(x)

    model = nn.Sequential(nn.Linear(2, 2), Odd())
    with pytest.raises(gonnx.OnnxExportError, match=r"Cube called in Odd at '1'"):
        gonnx.export(model, glassnet.randn(2, 2), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_lstm_projection_and_advanced_indexing_are_refused():
    with pytest.raises(gonnx.OnnxExportError, match="proj_size"):
        gonnx.export(nn.LSTM(3, 4, proj_size=2), glassnet.randn(2, 1, 3))

    class Pick(nn.Module):
        def forward(self, x):
            return x[np.array([0, 0])]

    with pytest.raises(gonnx.OnnxExportError, match="advanced indexing"):
        gonnx.export(Pick(), glassnet.randn(2, 3))


def test_trace_check_catches_values_frozen_outside_operations():
    class Leaky(nn.Module):
        def forward(self, x):
            mask = glassnet.tensor((x.data > 0).astype(np.float32))  # frozen through .data
            return x * mask

    with pytest.raises(gonnx.OnnxExportError, match="depends on the example input"):
        gonnx.export(Leaky(), glassnet.randn(3, 4))

    class Sized(nn.Module):
        def forward(self, x):
            return x * glassnet.ones(x.shape[0], 1)  # a constant built from a dynamic size

    with pytest.raises(gonnx.OnnxExportError, match="constant .* changed"):
        gonnx.export(Sized(), glassnet.randn(3, 4), dynamic_axes={"input": {0: "batch"}})
    # without dynamic axes the size is fixed, so the same model exports
    gonnx.export(Sized(), glassnet.randn(3, 4))


def test_trace_check_catches_axes_that_cannot_be_dynamic():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    with pytest.raises(gonnx.OnnxExportError, match="really free to change"):
        gonnx.export(model, glassnet.randn(2, 1, 8, 8), dynamic_axes={"input": {2: "h", 3: "w"}})


def test_argument_errors(tmp_path, monkeypatch):
    net = nn.Linear(2, 2)
    x = glassnet.randn(1, 2)
    with pytest.raises(ValueError, match="opset_version between 17"):
        gonnx.export(net, x, opset_version=13)
    with pytest.raises(ValueError, match="1 distinct input_names"):
        gonnx.export(net, x, input_names=["a", "b"])
    with pytest.raises(ValueError, match="not an input or output name"):
        gonnx.export(net, x, dynamic_axes={"x": [0]})
    with pytest.raises(TypeError, match="example_input"):
        gonnx.export(net, "text")

    class Const(nn.Module):
        def forward(self, x):
            return glassnet.ones(2)

    with pytest.raises(gonnx.OnnxExportError, match="does not depend on the inputs"):
        gonnx.export(Const(), x)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"glassnet\[onnx\]"):
        gonnx.export(net, x)


def test_in_place_change_of_a_traced_tensor_is_refused():
    class InPlace(nn.Module):
        def forward(self, x):
            y = x * 2
            y[0] = 0.0
            return y + 1

    with pytest.raises(gonnx.OnnxExportError, match="in place"):
        gonnx.export(InPlace(), glassnet.randn(2, 2))


def test_reshape_spec_follows_dynamic_sizes():
    assert _reshape_spec((4, 3, 5), (4, 15)) == [0, -1]
    assert _reshape_spec((7, 4, 8), (28, 8)) == [-1, 8]
    assert _reshape_spec((4, 6), (4, 2, 3)) == [0, -1, 3]
    assert _reshape_spec((2, 3), (6,)) == [-1]


# ---------------------------------------------------------------------------- properties
_PART = st.one_of(
    st.integers(-3, 2),
    st.builds(
        slice,
        st.one_of(st.none(), st.integers(-4, 4)),
        st.one_of(st.none(), st.integers(-4, 4)),
        st.sampled_from([None, 1, 2, -1, -2]),
    ),
    st.none(),
)


@settings(deadline=None)
@given(parts=st.lists(_PART, max_size=4), ellipsis_at=st.one_of(st.none(), st.integers(0, 4)))
def test_basic_indexing_matches_numpy(parts, ellipsis_at):
    """Any basic index (ints, slices with steps, None, ...) exports to what NumPy computes."""
    if ellipsis_at is not None:
        parts.insert(min(ellipsis_at, len(parts)), Ellipsis)
    index = tuple(parts)
    x = rand(3, 4, 5)
    try:
        want = x[index]
    except IndexError:
        return  # not a valid index for this shape
    assume(want.size > 0)

    class Index(nn.Module):
        def forward(self, t):
            return t[index]

    proto = gonnx.export(Index(), x)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(sess.run(None, {"input": x})[0], want)
