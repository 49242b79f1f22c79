"""Module.load_state_dict, io.load_into and checkpoint loading: each misfit named with its key.

A value loads when it is an array of the tensor's shape and dtype kind whose values survive the
cast; anything else is a ValueError naming the key, the expected dtype and shape, and what came.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet import io as gio
from glassnet import nn
from glassnet.optim import Adam
from glassnet.train import CheckpointError, Trainer, load_state, save_state
from glassnet.train.checkpoint import check_finite

from ..helpers import torch


def _net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def _refused(state, *fragments, strict=True):
    net = _net()
    before = net.state_dict()
    with pytest.raises(ValueError) as e:
        net.load_state_dict(state, strict=strict)
    message = str(e.value)
    assert "\n" not in message and message.startswith("load_state_dict failed for Sequential: ")
    for f in fragments:
        assert f in message, (f, message)
    for k, v in net.state_dict().items():  # nothing changed
        np.testing.assert_array_equal(v, before[k])
    return message


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        (
            "0.weight",
            np.ones((4, 3), np.int64),
            "wrong dtype kind (1): 0.weight: expected floating-point values for float32 (4, 3), "
            "got int64 (4, 3)",
        ),
        ("0.weight", np.ones((4, 3), complex), "floating-point values for float32 (4, 3), got "),
        ("0.bias", np.ones(4, bool), "0.bias: expected floating-point values for float32 (4,)"),
        (
            "1.num_batches_tracked",
            np.array(3.0),
            "1.num_batches_tracked: expected integer values for int64 (), got float64 ()",
        ),
        (
            "0.weight",
            "weights",
            "not arrays (1): 0.weight: expected a float32 (4, 3) array, got str",
        ),
        ("0.weight", [[1.0] * 3] * 4, "0.weight: expected a float32 (4, 3) array, got list"),
        ("0.bias", None, "0.bias: expected a float32 (4,) array, got NoneType"),
        ("0.weight", np.array([None] * 12).reshape(4, 3), "got object (4, 3)"),
        (
            "0.weight",
            np.ones((3, 4), np.float32),
            "mis-shaped keys (1): 0.weight: expected float32 ",
        ),
        (
            "1.running_var",
            np.full(4, 1e300),
            "out of range (1): 1.running_var: expected values within the range of float32 (4,), "
            "got float64 values up to 1e+300",
        ),
        (
            "1.num_batches_tracked",
            np.array(2**63, np.uint64),
            "expected values within the range of int64 (), got uint64 values in "
            "[9223372036854775808, 9223372036854775808]",
        ),
    ],
)
def test_a_misfit_names_key_expected_dtype_and_shape(key, value, fragment):
    state = _net().state_dict()
    state[key] = value
    _refused(state, fragment)


def test_every_problem_at_once_and_strict_false():
    state = _net().state_dict()
    del state["0.bias"]
    state["extra"] = np.zeros(1)
    state["0.weight"] = np.ones((4, 3), np.int32)
    state["1.weight"] = "w"
    message = _refused(state, "missing keys (1): 0.bias", "unexpected keys (1): extra")
    assert "wrong dtype kind (1): 0.weight" in message and "not arrays (1): 1.weight" in message
    message = _refused(state, "wrong dtype kind", strict=False)
    assert "missing" not in message and "unexpected" not in message


def test_conversions_within_a_kind_and_nan_load_as_in_pytorch():
    net = _net()
    state = {
        k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in net.state_dict().items()
    }
    state["0.weight"] = np.full((4, 3), 0.1)  # float64: rounds to float32
    state["0.bias"] = np.array([np.nan, 1, 2, 3], np.float16)  # NaN is a value PyTorch loads
    state["1.num_batches_tracked"] = np.array(7, np.uint8)
    net.load_state_dict(state)
    assert net[0].weight.dtype == np.float32 and net[0].weight.data[0, 0] == np.float32(0.1)
    assert np.isnan(net[0].bias.data[0]) and net[1].num_batches_tracked.data == 7


@pytest.mark.skipif(torch is None, reason="needs torch")
def test_torch_values_bfloat16_and_unrepresentable_dtypes():
    net = _net()
    state = {k: torch.from_numpy(v) for k, v in net.state_dict().items()}
    state["0.weight"] = torch.full((4, 3), 1.5, dtype=torch.bfloat16)
    net.load_state_dict(state)
    assert net[0].weight.data[0, 0] == 1.5
    state["0.weight"] = torch.ones(4, 3, dtype=torch.complex64)
    _refused(state, "0.weight: expected floating-point values for float32 (4, 3), got complex64")
    state["0.weight"] = torch.ones(4, 3).to_sparse()
    _refused(state, "not arrays (1): 0.weight: expected a float32 (4, 3) array, got a torch tensor")


DTYPES = ["float16", "float32", "float64", "int8", "int64", "uint64", "bool", "complex64", "<U1"]


@given(
    dtype=st.sampled_from(DTYPES),
    shape=st.sampled_from([(2, 3), (2, 3), (3, 2), (6,), (), (2, 3, 1)]),
    scale=st.sampled_from([1.0, 1e30, 1e300]),
)
def test_load_state_dict_refuses_or_loads_faithfully(dtype, shape, scale):
    """Either a one-line ValueError naming the key and 'float32 (2, 3)', or the exact cast that
    PyTorch's load_state_dict makes of the same float64 value."""
    lin = nn.Linear(3, 2)
    values = np.random.default_rng(0).standard_normal(shape) * scale
    with np.errstate(over="ignore", invalid="ignore"):  # the cast to an odd dtype may overflow
        value = values.astype(dtype)
    floating = np.dtype(dtype).kind == "f"
    finite = value[np.isfinite(value)] if floating else value
    fits = floating and shape == (2, 3) and bool((np.abs(finite) <= np.finfo(np.float32).max).all())
    state = {"weight": value, "bias": np.zeros(2, np.float32)}
    try:
        lin.load_state_dict(state)
    except ValueError as e:
        message = str(e)
        assert "\n" not in message and "weight: expected " in message
        assert "float32 (2, 3)" in message
        assert not fits, message
        return
    assert fits
    assert lin.weight.dtype == np.float32
    expected = value.astype(np.float32)
    np.testing.assert_array_equal(lin.weight.data, expected)
    if torch is not None:  # PyTorch's copy_ rounds the same way
        ref = torch.nn.Linear(3, 2)
        ref.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
        np.testing.assert_array_equal(ref.weight.detach().numpy(), expected)


def test_load_into_uses_the_same_checks(tmp_path):
    state = _net().state_dict()
    state["0.weight"] = np.full((4, 3), 1e300)
    with pytest.raises(
        ValueError, match=r"out of range \(1\): 0.weight: .* values up to 1e\+300"
    ) as e:
        gio.load_into(_net(), state)
    assert "\n" not in str(e.value)


# ----------------------------------------------------------------------------- training checkpoints
def _trainer():
    model = nn.Sequential(nn.Linear(3, 2))
    return Trainer(model, nn.MSELoss(), Adam(model.parameters()), progress=False)


def test_trainer_refuses_nan_weights_and_bad_random_states(tmp_path):
    trainer = _trainer()
    path = trainer.save_checkpoint(tmp_path / "c.safetensors")
    state = load_state(path)
    state["model"]["0.weight"][0, 1] = np.nan
    save_state(tmp_path / "nan.safetensors", state)  # a valid checksum around NaN weights
    before = trainer.model.state_dict()
    with pytest.raises(CheckpointError, match="the model entries 0.weight hold NaN/inf") as e:
        _trainer().load_checkpoint(tmp_path / "nan.safetensors")
    assert str(e.value).startswith(str(tmp_path / "nan.safetensors"))
    np.testing.assert_array_equal(trainer.model.state_dict()["0.weight"], before["0.weight"])
    state = load_state(path)
    state["rng"]["glassnet"]["state"]["state"] = -1  # a PCG64 state is a uint128
    save_state(tmp_path / "rng.safetensors", state)
    with pytest.raises(CheckpointError, match="invalid PCG64 random state: OverflowError"):
        _trainer().load_checkpoint(tmp_path / "rng.safetensors")


def test_check_finite_names_nested_keys():
    check_finite({"a": [np.zeros(2), np.ones(1)], "b": np.arange(3)}, "optimizer")
    with pytest.raises(CheckpointError, match=r"the optimizer entries state\.0\.exp_avg, "):
        check_finite(
            {"state": {0: {"exp_avg": np.array([np.inf]), "step": 1}}, "x": [np.array(np.nan)]},
            "optimizer",
        )
