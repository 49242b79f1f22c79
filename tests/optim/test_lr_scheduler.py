"""LR schedulers give PyTorch's learning-rate sequences and resume from their state."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from glassnet import nn, optim
from glassnet.optim import lr_scheduler as ls

from ..helpers import assert_close, torch
from ._common import models, train_ours, train_torch

LRS = (0.1, 0.03)  # two param groups with their own rates


def _pair() -> tuple[optim.Optimizer, Any]:
    ours = optim.SGD([{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in LRS])
    theirs = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in LRS]
    )
    return ours, theirs


def _warm_cos(m: Any, opt: Any) -> Any:
    return m.SequentialLR(
        opt,
        [m.LinearLR(opt, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(opt, T_max=20)],
        milestones=[5],
    )


def _three(m: Any, opt: Any) -> Any:
    return m.SequentialLR(
        opt,
        [
            m.ExponentialLR(opt, gamma=0.8),
            m.StepLR(opt, step_size=3, gamma=0.5),
            m.LambdaLR(opt, lambda e: 1 / (e + 1)),
        ],
        milestones=[4, 12],
    )


def _half(e: int) -> float:
    return 0.5 ** (e // 4)


def _decay(e: int) -> float:
    return 0.9**e


def _warm(e: int) -> float:
    return min(1.0, (e + 1) / 6)


SCHEDULES: dict[str, Callable[[Any, Any], Any]] = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "StepLR-default": lambda m, o: m.StepLR(o, step_size=7),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 10, 10, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-7": lambda m, o: m.CosineAnnealingLR(o, T_max=7),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=5),
    "LinearLR-default": lambda m, o: m.LinearLR(o),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=8),
    "LambdaLR": lambda m, o: m.LambdaLR(o, _half),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [_decay, _warm]),
    "SequentialLR-warmup-cosine": _warm_cos,
    "SequentialLR-three": _three,
}


def _sequence(opt: Any, sched: Any, steps: int = 30) -> np.ndarray:
    lrs = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(lrs, dtype=np.float64)


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_sequence_matches_torch(kind: str) -> None:
    ours, theirs = _pair()
    make = SCHEDULES[kind]
    seq = _sequence(ours, make(ls, ours))
    ref = _sequence(theirs, make(torch.optim.lr_scheduler, theirs))
    assert_close(seq, ref, rtol=1e-13, atol=0)
    assert len(np.unique(seq[:, 0])) > 2  # the schedule really changes the rate


def test_closed_forms() -> None:
    """The recursive updates follow the documented closed forms."""
    ours, _ = _pair()
    seq = _sequence(ours, ls.CosineAnnealingLR(ours, T_max=10, eta_min=0.001))[:, 0]
    t = np.arange(31)
    assert_close(seq, 0.001 + (0.1 - 0.001) * (1 + np.cos(np.pi * t / 10)) / 2, rtol=1e-12)
    ours, _ = _pair()
    seq = _sequence(ours, ls.LinearLR(ours, start_factor=0.2, end_factor=0.9, total_iters=4))
    expected = 0.1 * (0.2 + 0.7 * np.minimum(t, 4) / 4)
    assert_close(seq[:, 0], expected, rtol=1e-12)
    ours, _ = _pair()
    seq = _sequence(ours, ls.MultiStepLR(ours, milestones=[3, 8, 8]))[:, 1]
    assert_close(seq, 0.03 * 0.1 ** ((t >= 3) + 2 * (t >= 8)), rtol=1e-12)


def test_scheduler_drives_training_like_torch() -> None:
    net, ref = models()
    opt = optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
    topt = torch.optim.SGD(ref.parameters(), lr=0.2, momentum=0.9)
    train_ours(net, opt, 10, sched=_warm_cos(ls, opt))
    train_torch(ref, topt, 10, sched=_warm_cos(torch.optim.lr_scheduler, topt))
    for p, tp in zip(net.parameters(), ref.parameters()):
        assert_close(p, tp)


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_state_dict_resume(kind: str) -> None:
    """Save after 12 steps (through JSON), load into fresh objects: the rest is unchanged."""
    make = SCHEDULES[kind]
    ours, _ = _pair()
    straight = _sequence(ours, make(ls, ours), steps=25)

    opt, _ = _pair()
    sched = make(ls, opt)
    _sequence(opt, sched, steps=12)
    saved_sched = json.loads(json.dumps(sched.state_dict()))
    saved_opt = json.loads(json.dumps(opt.state_dict()))
    assert saved_sched["last_epoch"] == 12

    opt2, _ = _pair()
    sched2 = make(ls, opt2)
    sched2.load_state_dict(saved_sched)  # as torch: the scheduler first, then the optimizer
    opt2.load_state_dict(saved_opt)
    rest = _sequence(opt2, sched2, steps=13)
    assert_close(rest, straight[12:], rtol=1e-13, atol=0)


def test_lambda_state_keeps_callable_objects_attributes() -> None:
    class Scale:
        def __init__(self, k: float) -> None:
            self.k = k

        def __call__(self, epoch: int) -> float:
            return self.k * (epoch + 1)

    opt, _ = _pair()
    sched = ls.LambdaLR(opt, [Scale(2.0), _decay])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"k": 2.0}, None]
    other = ls.LambdaLR(_pair()[0], [Scale(5.0), _decay])
    other.load_state_dict(json.loads(json.dumps(sd)))
    assert other.lr_lambdas[0].k == 2.0


def test_resume_with_last_epoch_matches_torch() -> None:
    ours, theirs = _pair()
    for o in (ours, theirs):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
    seq = _sequence(ours, ls.CosineAnnealingLR(ours, T_max=10, last_epoch=4), steps=8)
    ref = _sequence(theirs, torch.optim.lr_scheduler.CosineAnnealingLR(theirs, 10, last_epoch=4), 8)
    assert_close(seq, ref, rtol=1e-13, atol=0)
    assert seq[0, 0] == 0.1  # as torch: resuming keeps the current rate for epoch 5


def test_warns_when_stepped_before_optimizer() -> None:
    opt, _ = _pair()
    sched = ls.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"StepLR.step\(\) was called before optimizer.step\(\)"):
        sched.step()
    opt, _ = _pair()
    sched = ls.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    with pytest.warns(UserWarning, match="use get_last_lr"):
        sched.get_lr()


def test_errors() -> None:
    opt, topt = _pair()
    with pytest.raises(TypeError, match="StepLR expected a glassnet Optimizer, got SGD"):
        ls.StepLR(topt, step_size=2)
    with pytest.raises(ValueError, match="StepLR expected step_size >= 1, got 0"):
        ls.StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match=r"StepLR expected an int step_size, got 2\.5"):
        ls.StepLR(opt, step_size=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ExponentialLR expected gamma >= 0, got -0\.5"):
        ls.ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(ValueError, match="MultiStepLR expected milestones entry >= 0, got -1"):
        ls.MultiStepLR(opt, milestones=[3, -1])
    with pytest.raises(ValueError, match="CosineAnnealingLR expected T_max >= 1, got 0"):
        ls.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match=r"LinearLR expected start_factor in \(0, 1\], got 0"):
        ls.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match=r"LinearLR expected end_factor in \[0, 1\], got 1.5"):
        ls.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match=r"LambdaLR expected 2 lr_lambdas \(one per param"):
        ls.LambdaLR(opt, [_decay])
    with pytest.raises(TypeError, match=r"LambdaLR expected callable lr_lambda, got 0\.5"):
        ls.LambdaLR(opt, 0.5)  # type: ignore[arg-type]
    fresh, _ = _pair()
    with pytest.raises(KeyError, match="param group 0 has no 'initial_lr'"):
        ls.StepLR(fresh, step_size=2, last_epoch=3)

    a, b = ls.LinearLR(opt), ls.ExponentialLR(opt, gamma=0.9)
    with pytest.raises(ValueError, match=r"expected 1 milestones .* got 2"):
        ls.SequentialLR(opt, [a, b], milestones=[3, 5])
    with pytest.raises(ValueError, match="expected increasing milestones"):
        ls.SequentialLR(opt, [a, b, b], milestones=[5, 3])
    other, _ = _pair()
    with pytest.raises(ValueError, match=r"scheduler 1 \(StepLR\) drives another one"):
        ls.SequentialLR(opt, [a, ls.StepLR(other, 2)], milestones=[3])

    sched = ls.StepLR(opt, step_size=2)
    with pytest.raises(
        ValueError, match=r"missing keys \['step_size'\], unexpected keys \['T_max'\]"
    ):
        sched.load_state_dict(ls.ExponentialLR(opt, gamma=0.9).state_dict() | {"T_max": 3})
    sd = sched.state_dict()
    sd["base_lrs"] = [0.1]
    with pytest.raises(ValueError, match="the state has 1 base_lrs, the optimizer has 2"):
        sched.load_state_dict(sd)
