"""safetensors checkpoints: round trips, atomic writes, validation of damaged files, load_into."""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import glassnet
from glassnet import io, nn
from tests.helpers import torch


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _raw(header: dict, data: bytes = b"", header_len: int | None = None) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h) if header_len is None else header_len) + h + data


# ---------------------------------------------------------------------------- save / load
def test_round_trip_keeps_keys_shapes_dtypes_and_values(tmp_path):
    net = _net()
    path = tmp_path / "net.safetensors"
    io.save(net, path, metadata={"epoch": "3"})
    state = io.load(path)
    want = net.state_dict()
    assert set(state) == set(want)
    for k, v in want.items():
        assert state[k].dtype == v.dtype and state[k].shape == v.shape
        np.testing.assert_array_equal(state[k], v)
    assert state["2.num_batches_tracked"].dtype == np.int64
    meta = io.load_metadata(path)
    assert meta["epoch"] == "3" and meta["format"] == "pt"


def test_save_accepts_mappings_of_arrays_tensors_and_scalars(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save(
        {"a": np.arange(6, dtype=np.int32).reshape(2, 3), "b": glassnet.ones(2), "c": np.bool_(1)},
        path,
    )
    s = io.load(path)
    assert s["a"].dtype == np.int32 and s["a"].shape == (2, 3)
    assert s["b"].dtype == np.float32 and s["c"].dtype == np.bool_ and s["c"].shape == ()


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    io.save({"w": np.ones(3, np.float32)}, path)
    with pytest.raises(TypeError, match="dtype"):
        io.save({"w": np.ones(3, np.complex64)}, path)  # fails before touching the file
    np.testing.assert_array_equal(io.load(path)["w"], np.ones(3, np.float32))
    io.save({"w": np.zeros(3, np.float32)}, path)  # replaces the old file
    np.testing.assert_array_equal(io.load(path)["w"], np.zeros(3, np.float32))
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]


def test_save_rejects_bad_keys_values_and_metadata(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="string keys"):
        io.save({1: np.ones(2)}, path)
    with pytest.raises(TypeError, match="object"):
        io.save({"a": object()}, path)
    with pytest.raises(TypeError, match="metadata"):
        io.save({"a": np.ones(2)}, path, metadata={"n": 3})
    with pytest.raises(TypeError, match="Module or a mapping"):
        io.save([np.ones(2)], path)
    assert not os.listdir(tmp_path)


def test_files_written_by_safetensors_torch_load_and_back(tmp_path):
    from safetensors.torch import load_file, save_file

    net = _net()
    path = tmp_path / "g.safetensors"
    io.save(net, path)
    t_state = load_file(str(path))
    assert set(t_state) == set(net.state_dict())
    theirs = tmp_path / "t.safetensors"
    save_file({k: v * 2 for k, v in t_state.items() if v.is_floating_point()}, str(theirs))
    back = io.load(theirs)
    np.testing.assert_array_equal(back["0.weight"], 2 * net[0].weight.data)


def test_bfloat16_is_widened_exactly_to_float32(tmp_path):
    from safetensors.torch import save_file

    t = torch.tensor([1.0, -2.5, 3.140625, 1e-3]).to(torch.bfloat16)
    path = tmp_path / "bf.safetensors"
    save_file({"w": t, "u": torch.ones(2)}, str(path))
    s = io.load(path)
    assert s["w"].dtype == np.float32
    np.testing.assert_array_equal(s["w"], t.float().numpy())


# ---------------------------------------------------------------------------- damaged files
def test_not_a_safetensors_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "notes.safetensors"
    path.write_text("hello, this is just text and certainly not a checkpoint")
    with pytest.raises(ValueError, match="not a safetensors file"):
        io.load(path)
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"abc")
    with pytest.raises(ValueError, match="too short"):
        io.load(short)
    js = tmp_path / "js.safetensors"
    js.write_bytes(struct.pack("<Q", 4) + b"\xff\xfe{}")
    with pytest.raises(ValueError, match="header is not JSON"):
        io.load(js)
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "missing.safetensors")


def test_pickle_is_never_executed(tmp_path):
    """A pickle carrying code, named like a checkpoint, is rejected without running the code."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps({"w": Evil()})
    for name in ("evil.safetensors", "evil.pt"):
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(ValueError):
            io.load_into(_net(), path)
    assert not marker.exists()


def test_truncated_file_gives_a_clear_error(tmp_path):
    good = tmp_path / "good.safetensors"
    io.save(_net(), good)
    raw = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(raw[:-10])
    with pytest.raises(ValueError, match="truncated"):
        io.load(cut)
    cut.write_bytes(raw[:20])  # inside the header
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        io.load(cut)


def test_header_that_lies_about_sizes_is_rejected(tmp_path):
    path = tmp_path / "lies.safetensors"
    path.write_bytes(
        _raw({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 32]}}, b"\0" * 32)
    )
    with pytest.raises(ValueError, match="lies about sizes.*needs 64 bytes"):
        io.load(path)
    path.write_bytes(
        _raw(
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
            },
            b"\0" * 12,
        )
    )
    with pytest.raises(ValueError, match="overlap"):
        io.load(path)
    path.write_bytes(
        _raw({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4)
    )
    with pytest.raises(ValueError, match="invalid shape"):
        io.load(path)
    path.write_bytes(_raw({"w": [1, 2]}, b""))
    with pytest.raises(ValueError, match="dtype, shape and data_offsets"):
        io.load(path)
    path.write_bytes(_raw({}, b"", header_len=2**40))
    with pytest.raises(ValueError, match="not a safetensors file"):
        io.load(path)


def test_unsupported_dtype_in_file_is_named(tmp_path):
    path = tmp_path / "f8.safetensors"
    path.write_bytes(
        _raw({"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4)
    )
    with pytest.raises(ValueError, match="'w' has unsupported dtype 'F8_E4M3'"):
        io.load(path)


# ---------------------------------------------------------------------------- load_into
def test_load_into_converts_floating_dtypes_and_reports_it(tmp_path):
    src = _net().double()
    path = tmp_path / "d.safetensors"
    io.save(src, path)
    dst = _net()
    report = io.load_into(dst, path)
    assert "0.weight: float64 -> float32" in report.converted
    assert dst[0].weight.dtype == np.float32
    np.testing.assert_array_equal(dst[0].weight.data, src[0].weight.data.astype(np.float32))


def test_wrong_dtype_kind_gives_a_clear_error_and_changes_nothing(tmp_path):
    net = _net()
    state = net.state_dict()
    state["0.weight"] = np.ones((4, 3), np.int32)
    state["2.num_batches_tracked"] = np.array(1.5)
    path = tmp_path / "bad.safetensors"
    io.save(state, path)
    dst = _net()
    before = dst[0].weight.data.copy()
    with pytest.raises(ValueError, match="wrong dtype kind") as e:
        io.load_into(dst, path)
    msg = str(e.value)
    assert "0.weight: expected floating-point values for float32 (4, 3), got int32 (4, 3)" in msg
    assert "2.num_batches_tracked: expected integer values for int64 (), got float64 ()" in msg
    assert "\n" not in msg
    np.testing.assert_array_equal(dst[0].weight.data, before)


def test_load_into_lists_all_missing_unexpected_and_mis_shaped_keys(tmp_path):
    state = _net().state_dict()
    del state["0.bias"], state["3.weight"]
    state["extra.weight"] = np.ones(2, np.float32)
    state["2.weight"] = np.ones(5, np.float32)
    path = tmp_path / "partial.safetensors"
    io.save(state, path)
    dst = _net()
    with pytest.raises(ValueError) as e:
        io.load_into(dst, path)
    msg = str(e.value)
    assert "missing keys (2): 0.bias, 3.weight" in msg
    assert "unexpected keys (1): extra.weight" in msg
    assert "mis-shaped keys (1): 2.weight: expected float32 (4,), got float32 (5,)" in msg
    del state["2.weight"]
    io.save(state, path)
    report = io.load_into(dst, path, strict=False)
    assert report.missing_keys == ["0.bias", "2.weight", "3.weight"]
    assert report.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(dst[0].weight.data, state["0.weight"])


def test_data_parallel_prefix_gets_a_hint():
    state = {f"module.{k}": v for k, v in _net().state_dict().items()}
    with pytest.raises(ValueError, match="strip the 'module.' prefix"):
        io.load_into(_net(), state)


def test_load_into_reads_pt_files_with_weights_only(tmp_path):
    t_net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    path = tmp_path / "model.pt"
    torch.save({"epoch": 2, "model_state_dict": t_net.state_dict()}, path)
    net = _net()
    io.load_into(net, path)
    np.testing.assert_array_equal(net[3].weight.data, t_net[3].weight.detach().numpy())


def test_pt_file_without_torch_gives_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    path.write_bytes(b"anything")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="needs torch"):
        io.load_into(_net(), path)


def test_torch_bridge_round_trip():
    net = _net()
    t_net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    t_net.load_state_dict(io.to_torch_state_dict(net))
    back = _net()
    io.from_torch(back, t_net)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v)


# ---------------------------------------------------------------------------- properties
_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]


@settings(deadline=None)
@given(
    arrays=st.lists(
        st.sampled_from(_DTYPES).flatmap(
            lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0))
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_state_round_trips_exactly(arrays):
    import tempfile

    state = {f"layer{i}.w": a for i, a in enumerate(arrays)}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.safetensors")
        io.save(state, path)
        back = io.load(path)
    assert set(back) == set(state)  # safetensors orders tensors by dtype size, then name
    for k, a in state.items():
        assert back[k].dtype == a.dtype and back[k].shape == a.shape
        np.testing.assert_array_equal(back[k], a)
