"""Optimizer state_dict: PyTorch's layout, round trips (NumPy, JSON, torch) and clear errors."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from glassnet import nn, optim

from ..helpers import assert_close, torch
from ._common import models, train_ours, train_torch

CONFIGS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.6), "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
]
IDS = [c[0] for c in CONFIGS]


def _to_json(sd: dict[str, Any]) -> dict[str, Any]:
    """A JSON round trip, arrays written as nested lists."""

    def default(o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"not JSON-serialisable: {type(o).__name__}")

    return json.loads(json.dumps(sd, default=default))


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
@pytest.mark.parametrize("via_json", [False, True], ids=["arrays", "json"])
def test_resume_after_five_steps_equals_ten(name: str, kw: dict[str, Any], via_json: bool) -> None:
    straight, _ = models()
    train_ours(straight, getattr(optim, name)(straight.parameters(), **kw), 10)

    net, _ = models()
    opt = getattr(optim, name)(net.parameters(), **kw)
    train_ours(net, opt, 5)
    params_at_5, sd = net.state_dict(), opt.state_dict()
    frozen = _to_json(sd)
    train_ours(net, opt, 2, seed=5)  # the saved state is a copy: later steps leave it alone
    assert _to_json(sd) == frozen != _to_json(opt.state_dict())

    resumed_net, _ = models(seed=7)
    resumed_net.load_state_dict(params_at_5)
    resumed = getattr(optim, name)(resumed_net.parameters())  # default options until loaded
    resumed.load_state_dict(frozen if via_json else sd)
    assert resumed.param_groups[0]["lr"] == kw["lr"]
    train_ours(resumed_net, resumed, 5, seed=5)
    for p, q in zip(resumed_net.parameters(), straight.parameters()):
        assert_close(p, q)


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_state_dict_is_arrays_and_json(name: str, kw: dict[str, Any]) -> None:
    net, _ = models()
    opt = getattr(optim, name)(net.parameters(), **kw)
    train_ours(net, opt, 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    for i, p in enumerate(net.parameters()):
        for k, v in sd["state"][i].items():
            if k == "step":
                assert isinstance(v, float) and v == 2.0
            else:
                assert isinstance(v, np.ndarray) and v.shape == p.shape and v.dtype == p.dtype
                assert v is not opt.state[p][k]  # a copy
    arrays_removed = {
        "state": {i: {k: v for k, v in s.items() if k == "step"} for i, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    json.dumps(arrays_removed)  # everything but the arrays is plain JSON


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_loads_into_torch_and_from_torch(name: str, kw: dict[str, Any]) -> None:
    """Our state_dict (arrays as tensors) drives torch.optim, and torch's drives ours."""
    net, ref = models()
    opt = getattr(optim, name)(net.parameters(), **kw)
    topt = getattr(torch.optim, name)(ref.parameters(), **kw)
    train_ours(net, opt, 5)
    train_torch(ref, topt, 5)

    ours_sd = opt.state_dict()
    as_torch = {
        "state": {
            i: {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for i, s in ours_sd["state"].items()
        },
        "param_groups": ours_sd["param_groups"],
    }
    torch_sd = topt.state_dict()
    topt.load_state_dict(as_torch)
    opt.load_state_dict(torch_sd)
    train_ours(net, opt, 5, seed=5)
    train_torch(ref, topt, 5, seed=5)
    for p, tp in zip(net.parameters(), ref.parameters()):
        assert_close(p, tp)


def _trained(name: str = "Adam", **kw: Any) -> tuple[nn.Module, optim.Optimizer]:
    net, _ = models()
    opt = getattr(optim, name)(net.parameters(), lr=0.01, **kw)
    train_ours(net, opt, 2)
    return net, opt


def test_error_wrong_number_of_groups() -> None:
    net, opt = _trained()
    ps = list(net.parameters())
    other = optim.Adam([{"params": ps[:2]}, {"params": ps[2:]}])
    with pytest.raises(ValueError, match="has 1 parameter groups, this optimizer has 2"):
        other.load_state_dict(opt.state_dict())


def test_error_wrong_group_size() -> None:
    net, opt = _trained()
    other = optim.Adam(list(net.parameters())[:3])
    with pytest.raises(
        ValueError, match=r"param group 0 of the state_dict has 4 parameters.*has 3"
    ):
        other.load_state_dict(opt.state_dict())


def test_error_mismatched_shapes_and_nothing_changes() -> None:
    net, opt = _trained()
    ps = list(net.parameters())
    other = optim.Adam([ps[1], ps[0], *ps[2:]])  # same count, shapes in another order
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(6, 4\), expected"):
        other.load_state_dict(opt.state_dict())
    assert other.state_dict() == before


def test_error_bad_layout() -> None:
    _, opt = _trained()
    with pytest.raises(ValueError, match="missing \\['param_groups'\\]"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(TypeError, match="expected a dict, got list"):
        opt.load_state_dict([])  # type: ignore[arg-type]
    sd = opt.state_dict()
    sd["state"][9] = sd["state"][0]
    with pytest.raises(ValueError, match="state for parameter 9, which no param group lists"):
        opt.load_state_dict(sd)
    sd = opt.state_dict()
    sd["param_groups"][0]["betas"] = (0.9, 1.5)
    with pytest.raises(ValueError, match=r"betas\[1\] < 1.0, got 1.5 \(param group 0 of the"):
        opt.load_state_dict(sd)


def test_param_names_kept_when_the_state_has_none() -> None:
    net, opt = _trained()
    named = optim.Adam(net.named_parameters(), lr=0.01)
    named.load_state_dict(opt.state_dict())
    assert named.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert named.state_dict()["state"].keys() == opt.state_dict()["state"].keys()
