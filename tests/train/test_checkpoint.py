"""Checkpoint format 2: a checksum over every byte, and malformed files as one-line errors."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from glassnet.train import CheckpointError
from glassnet.train import checkpoint as C
from glassnet.train.checkpoint import load_state, save_state


def _state():
    return {
        "model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(3)},
        "optimizer": {"param_groups": [{"lr": 0.05, "betas": (0.9, 0.999)}], "state": {}},
        "config": {"task": "demo", "hidden": 8},
    }


def _seal(tmp_path, skeleton, arrays=None, name="crafted.safetensors", **meta):
    """A file with a valid checksum around an arbitrary (possibly malformed) structure."""
    metadata = {"format": C.FORMAT, "version": C.VERSION}
    metadata["state"] = skeleton if isinstance(skeleton, str) else json.dumps(skeleton)
    metadata.update(meta)
    path = tmp_path / name
    path.write_bytes(C._serialize(dict(arrays or {}), metadata))
    return path


def test_round_trip_keeps_zero_d_arrays_and_colliding_keys(tmp_path):
    state = {"s": np.array(2.5), "a/b": np.ones(2), "a": {"b": np.zeros(3)}, "e": np.zeros((0, 4))}
    got = load_state(save_state(tmp_path / "c.safetensors", state))
    assert got["s"].shape == () and got["s"] == 2.5
    np.testing.assert_array_equal(got["a/b"], np.ones(2))
    np.testing.assert_array_equal(got["a"]["b"], np.zeros(3))
    assert got["e"].shape == (0, 4)
    got["a"]["b"] += 1  # arrays come back writable (optimizer buffers are updated in place)


def test_checkpoint_is_plain_safetensors_for_other_readers(tmp_path):
    from safetensors.numpy import load_file

    path = save_state(tmp_path / "c.safetensors", _state())
    arrays = load_file(str(path))
    np.testing.assert_array_equal(arrays["/model/w"], _state()["model"]["w"])


def test_every_flipped_byte_is_refused(tmp_path):
    path = save_state(tmp_path / "c.safetensors", _state())
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    assert len(data) < 3000  # so that flipping every byte stays fast
    for i in range(len(data)):
        for mask in (0x01, 0xFF):
            flipped = bytearray(data)
            flipped[i] ^= mask
            with pytest.raises(CheckpointError) as e:
                C.parse_state(bytes(flipped), "bad.safetensors")
            assert "\n" not in str(e.value), (i, mask)
    assert n > 100  # the header (structure, config, lr) was covered, not only the tensors


def test_tampered_learning_rate_and_appended_bytes_are_refused(tmp_path):
    path = save_state(tmp_path / "c.safetensors", _state())
    data = path.read_bytes()
    assert data.count(b"0.05") == 1
    path.write_bytes(data.replace(b"0.05", b"0.06"))
    with pytest.raises(CheckpointError, match="checksum"):
        load_state(path)
    path.write_bytes(data + b"\0" * 8)
    with pytest.raises(CheckpointError, match="checksum"):
        load_state(path)
    path.write_bytes(data)
    assert load_state(path)["optimizer"]["param_groups"][0]["lr"] == 0.05


def test_format_1_is_refused_with_a_clear_message(tmp_path):
    path = _seal(tmp_path, {"__items__": []}, version="1")
    with pytest.raises(CheckpointError, match="format 1, which is no longer read"):
        load_state(path)


@pytest.mark.parametrize(
    ("skeleton", "message"),
    [
        ("[" * 100_000, "unreadable state section"),  # json.loads would raise RecursionError
        ("not json", "unreadable state section"),
        ({"__items__": [[1]]}, "unexpected dict item"),
        ({"__items__": [[[1], 2]]}, "unexpected dict item"),
        ({"__items__": "abc"}, "unexpected entry"),
        ({"__array__": 5}, "missing array"),
        ({"__array__": "/nope"}, "missing array"),
        ({"foo": 1}, "unexpected entry"),
        ({"__list__": [1], "__tuple__": [2]}, "unexpected entry"),
        ([1, 2], "unexpected entry"),
        ({"__list__": [1]}, "does not hold a state dictionary"),
    ],
)
def test_malformed_structures_are_checkpoint_errors(tmp_path, skeleton, message):
    with pytest.raises(CheckpointError, match=message) as e:
        load_state(_seal(tmp_path, skeleton))
    assert "\n" not in str(e.value)


def test_nesting_is_bounded_when_loading_and_saving(tmp_path):
    skeleton: dict = {"__items__": []}
    for _ in range(C.MAX_DEPTH + 5):  # deeper than MAX_DEPTH, shallow enough for json
        skeleton = {"__list__": [skeleton]}
    with pytest.raises(CheckpointError, match="nested deeper"):
        load_state(_seal(tmp_path, skeleton))

    deep: list = []
    for _ in range(C.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        save_state(tmp_path / "c.safetensors", {"x": deep})


def _raw_file(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


@pytest.mark.parametrize(
    "header",
    [
        {"x": {"dtype": "F32", "shape": "abc", "data_offsets": [0, 4]}},
        {"x": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}},
        {"x": {"dtype": "F32", "shape": [1]}},
        {"x": 5},
        {"__metadata__": {"format": 1}},
        {"__metadata__": {"format": C.FORMAT, "version": C.VERSION}},  # no checksum, no state
    ],
)
def test_malformed_headers_are_checkpoint_errors(tmp_path, header):
    path = tmp_path / "h.safetensors"
    path.write_bytes(_raw_file(header) + b"\0" * 8)
    with pytest.raises(CheckpointError) as e:
        load_state(path)
    assert "\n" not in str(e.value)


def test_missing_state_section_and_unwritten_dtypes(tmp_path, monkeypatch):
    path = tmp_path / "c.safetensors"
    path.write_bytes(C._serialize({}, {"format": C.FORMAT, "version": C.VERSION}))
    with pytest.raises(CheckpointError, match="no state section"):
        load_state(path)
    monkeypatch.setitem(C._NAMES, np.dtype(np.float16), "BF16")  # a dtype save never writes
    path = _seal(tmp_path, {"__array__": "w"}, {"w": np.zeros(2, np.float16)})
    with pytest.raises(CheckpointError, match="BF16"):
        load_state(path)
