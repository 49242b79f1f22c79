"""Invalid optimizer arguments and parameters give one clear error naming what is wrong."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim


def _p(*shape: int) -> nn.Parameter:
    return nn.Parameter(np.zeros(shape or (2,)))


@pytest.mark.parametrize(
    ("name", "kw", "exc", "match"),
    [
        ("SGD", {"lr": -0.1}, ValueError, r"SGD expected lr >= 0.0, got -0.1"),
        ("SGD", {"lr": "0.1"}, TypeError, r"SGD expected a real number for lr, got '0.1'"),
        ("SGD", {"lr": float("nan")}, ValueError, r"lr, got nan"),
        ("SGD", {"momentum": -0.5}, ValueError, r"momentum >= 0.0, got -0.5"),
        ("SGD", {"weight_decay": -1}, ValueError, r"weight_decay >= 0.0, got -1"),
        ("SGD", {"nesterov": True}, ValueError, r"Nesterov momentum requires momentum > 0"),
        (
            "SGD",
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
            ValueError,
            r"dampening = 0, got momentum=0.9 and dampening=0.1",
        ),
        ("SGD", {"maximize": 1}, TypeError, r"True or False for maximize, got 1"),
        ("Adam", {"betas": (1.0, 0.999)}, ValueError, r"Adam expected betas\[0\] < 1.0, got 1.0"),
        ("Adam", {"betas": (0.9, -0.1)}, ValueError, r"betas\[1\] >= 0.0, got -0.1"),
        ("Adam", {"betas": 0.9}, TypeError, r"betas to be a pair \(beta1, beta2\), got 0.9"),
        ("Adam", {"eps": -1e-8}, ValueError, r"eps >= 0.0"),
        ("Adam", {"weight_decay": -0.1}, ValueError, r"weight_decay >= 0.0"),
        ("AdamW", {"lr": -1.0}, ValueError, r"AdamW expected lr >= 0.0, got -1.0"),
        ("AdamW", {"amsgrad": "yes"}, TypeError, r"AdamW expected True or False for amsgrad"),
        ("RMSprop", {"alpha": -0.1}, ValueError, r"RMSprop expected alpha >= 0.0, got -0.1"),
        ("RMSprop", {"momentum": -0.1}, ValueError, r"momentum >= 0.0"),
        ("RMSprop", {"eps": -1.0}, ValueError, r"eps >= 0.0"),
        ("RMSprop", {"centered": None}, TypeError, r"True or False for centered"),
    ],
)
def test_invalid_options(name: str, kw: dict[str, Any], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        getattr(optim, name)([_p()], **kw)


def test_invalid_option_in_a_group_names_the_group() -> None:
    with pytest.raises(ValueError, match=r"SGD expected lr >= 0.0, got -1 \(param group 1\)"):
        optim.SGD([{"params": [_p()]}, {"params": [_p()], "lr": -1}], lr=0.1)
    opt = optim.Adam([_p()])
    with pytest.raises(ValueError, match=r"betas\[0\] < 1.0, got 2 \(param group 1\)"):
        opt.add_param_group({"params": [_p()], "betas": (2, 0.5)})
    assert len(opt.param_groups) == 1


def test_invalid_params() -> None:
    w = _p()
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        optim.SGD(w)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SGD got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="got a set"):
        optim.SGD({w})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"can only optimize Tensors, but params\[1\] is a ndarray"):
        optim.SGD([w, np.zeros(2)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf Tensor \(params\[0\] was"):
        optim.SGD([w * 2])
    with pytest.raises(TypeError, match="floating-point tensors, params\\[0\\] has dtype int64"):
        optim.SGD([glassnet.tensor([1, 2])])
    with pytest.raises(ValueError, match="a parameter appears twice in one group"):
        optim.SGD([w, w])
    with pytest.raises(ValueError, match=r"in more than one group \(param group 1\)"):
        optim.SGD([{"params": [w]}, {"params": [w]}])
    with pytest.raises(TypeError, match="each param group to be a dict, got list"):
        optim.SGD([{"params": [w]}]).add_param_group([_p()])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="param group has no 'params' entry"):
        optim.SGD([{"lr": 0.1}])


def test_gradient_of_wrong_shape() -> None:
    w = _p(2, 3)
    w.grad = glassnet.tensor(np.ones((3, 2)))
    opt = optim.Adam([w])
    with pytest.raises(
        ValueError, match=r"gradient of params\[0\] in param group 0 has shape \(3, 2\), expected"
    ):
        opt.step()
    assert not opt.state  # nothing half-done


def test_base_step_is_abstract() -> None:
    with pytest.raises(NotImplementedError, match=r"Optimizer\.step"):
        optim.Optimizer([_p()], {"lr": 0.1}).step()
