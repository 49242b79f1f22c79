"""SGD, Adam, AdamW and RMSprop: 10 steps match torch.optim in float64, for every option."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn, optim

from ..helpers import assert_close, torch
from ._common import data, loss_ours, models, train_ours, train_torch

OPTIONS: dict[str, list[dict[str, Any]]] = {
    "SGD": [
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.1, "weight_decay": 0.1},
        {"lr": 0.1, "maximize": True},
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.05, "maximize": True},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True},
    ],
    "Adam": [
        {"lr": 0.01},
        {"lr": 0.02, "betas": (0.8, 0.99)},
        {"lr": 0.01, "eps": 1e-3},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.9, 0.5), "amsgrad": True},
        {"lr": 0.01, "maximize": True},
        {"lr": 0.01, "betas": (0.7, 0.6), "weight_decay": 0.05, "amsgrad": True, "maximize": True},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ],
    "AdamW": [
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.2},
        {"lr": 0.01, "betas": (0.9, 0.5), "amsgrad": True},
        {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-4, "maximize": True},
    ],
    "RMSprop": [
        {"lr": 0.01},
        {"lr": 0.01, "alpha": 0.9},
        {"lr": 0.01, "eps": 1e-4},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.01, "centered": True},
        {"lr": 0.01, "maximize": True},
        {
            "lr": 0.005,
            "alpha": 0.8,
            "momentum": 0.5,
            "centered": True,
            "weight_decay": 0.01,
            "maximize": True,
        },
    ],
}
CASES = [(name, kw) for name, kws in OPTIONS.items() for kw in kws]


def _compare_state(ours: optim.Optimizer, theirs: Any) -> None:
    """Our state_dict equals torch's: same indices, buffers, step counts and options."""
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, s in sd["state"].items():
        ts = tsd["state"][i]
        assert sorted(s) == sorted(k for k, v in ts.items() if v is not None)
        for k, v in s.items():
            if k == "step":
                assert v == float(ts[k])
            else:
                assert isinstance(v, np.ndarray)
                assert_close(v, ts[k])
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg["params"]
        for k, v in g.items():
            assert tg[k] == v, k


def _run_parity(name: str, kw: dict[str, Any], steps: int = 10) -> optim.Optimizer:
    net, ref = models()
    opt = getattr(optim, name)(net.parameters(), **kw)
    topt = getattr(torch.optim, name)(ref.parameters(), **kw)
    for i in range(steps):
        train_ours(net, opt, 1, seed=i)
        train_torch(ref, topt, 1, seed=i)
        for p, tp in zip(net.parameters(), ref.parameters()):
            assert_close(p, tp)  # after every step
    _compare_state(opt, topt)
    return opt


@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_ten_steps_match_torch(name: str, kw: dict[str, Any]) -> None:
    opt = _run_parity(name, kw)
    if kw.get("amsgrad"):  # the running maximum was active, not just equal to exp_avg_sq
        st_ = opt.state_dict()["state"]
        assert any(np.any(s["max_exp_avg_sq"] > s["exp_avg_sq"]) for s in st_.values())


def test_parameters_moved() -> None:
    """The parity above is not vacuous: each optimizer changes every parameter."""
    for name in OPTIONS:
        net, _ = models()
        before = [p.data.copy() for p in net.parameters()]
        train_ours(net, getattr(optim, name)(net.parameters(), lr=0.01), 3)
        for b, p in zip(before, net.parameters()):
            assert np.abs(p.data - b).max() > 1e-4


_real = st.floats(0.0, 0.2)
STRATEGIES = {
    "SGD": st.fixed_dictionaries(
        {"lr": st.floats(1e-3, 0.2), "weight_decay": _real, "maximize": st.booleans()}
    ).flatmap(
        lambda d: st.one_of(
            st.just({**d, "momentum": 0.0}),
            st.builds(
                lambda m, damp: {**d, "momentum": m, "dampening": damp},
                st.floats(0.1, 0.95),
                st.floats(0.0, 0.9),
            ),
            st.builds(lambda m: {**d, "momentum": m, "nesterov": True}, st.floats(0.1, 0.95)),
        )
    ),
    "Adam": st.fixed_dictionaries(
        {
            "lr": st.floats(1e-3, 0.05),
            "betas": st.tuples(st.floats(0.0, 0.95), st.floats(0.3, 0.999)),
            "eps": st.sampled_from([1e-8, 1e-6, 1e-3]),
            "weight_decay": _real,
            "amsgrad": st.booleans(),
            "maximize": st.booleans(),
            "decoupled_weight_decay": st.booleans(),
        }
    ),
    "AdamW": st.fixed_dictionaries(
        {
            "lr": st.floats(1e-3, 0.05),
            "betas": st.tuples(st.floats(0.0, 0.95), st.floats(0.3, 0.999)),
            "weight_decay": _real,
            "amsgrad": st.booleans(),
            "maximize": st.booleans(),
        }
    ),
    "RMSprop": st.fixed_dictionaries(
        {
            "lr": st.floats(1e-3, 0.02),
            "alpha": st.floats(0.5, 0.99),
            "eps": st.sampled_from([1e-8, 1e-6, 1e-3]),
            "weight_decay": _real,
            "momentum": st.sampled_from([0.0, 0.5, 0.9]),
            "centered": st.booleans(),
            "maximize": st.booleans(),
        }
    ),
}


@pytest.mark.parametrize("name", list(STRATEGIES))
@given(data=st.data())
def test_random_options_match_torch(name: str, data: st.DataObject) -> None:
    kw = data.draw(STRATEGIES[name], label="options")
    _run_parity(name, kw, steps=5)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_param_groups_and_missing_grads_match_torch(name: str) -> None:
    """Per-group options override the defaults; a parameter without a gradient is skipped."""
    net, ref = models()
    unused = nn.Parameter(np.ones(3))  # never in the graph: its grad stays None
    t_unused = torch.ones(3, dtype=torch.float64, requires_grad=True)
    extra = {"SGD": {"momentum": 0.5}, "Adam": {"betas": (0.5, 0.9)}, "AdamW": {"eps": 1e-3}}
    extra["RMSprop"] = {"centered": True}

    def groups(m: Any, u: Any) -> list[dict[str, Any]]:
        ps = list(m.parameters())
        return [
            {"params": ps[:2], "lr": 0.05, **extra[name]},
            {"params": [*ps[2:], u], "weight_decay": 0.1},
        ]

    opt = getattr(optim, name)(groups(net, unused), lr=0.01)
    topt = getattr(torch.optim, name)(groups(ref, t_unused), lr=0.01)
    train_ours(net, opt, 10)
    train_torch(ref, topt, 10)
    for p, tp in zip(net.parameters(), ref.parameters()):
        assert_close(p, tp)
    assert unused.grad is None and np.all(unused.data == 1) and unused not in opt.state
    _compare_state(opt, topt)
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[1]["lr"] == 0.01


def test_step_counts_per_parameter() -> None:
    """Adam's bias correction uses each parameter's own step count, as torch."""
    net, ref = models()
    opt, topt = optim.Adam(net.parameters(), lr=0.05), torch.optim.Adam(ref.parameters(), lr=0.05)
    for i in range(6):
        x, y = data(i)
        for o, model, lossf in ((opt, net, loss_ours), (topt, ref, None)):
            o.zero_grad()
            if lossf is not None:
                lossf(model, x, y).backward()
            else:
                ((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
            if i % 2:  # the first layer's weight only gets a gradient every other step
                next(iter(model.parameters())).grad = None
            o.step()
    for p, tp in zip(net.parameters(), ref.parameters()):
        assert_close(p, tp)
    steps = [s["step"] for s in opt.state_dict()["state"].values()]
    assert steps == [3.0, 6.0, 6.0, 6.0]


def test_updates_in_place_and_bump_version() -> None:
    w = nn.Parameter(np.array([1.0, 2.0]))
    arr, version = w.data, w._version[0]
    y = w * glassnet.tensor([3.0, 4.0])  # saves w for its backward
    (w * w).sum().backward()
    opt = optim.SGD([w], lr=0.1)
    opt.step()
    assert w.data is arr and w._version[0] == version + 1
    assert_close(w, [0.8, 1.6])
    with pytest.raises(RuntimeError, match=r"in-place|modified"):
        y.sum().backward()  # w changed after y saved it: refused, not a wrong gradient


def test_float32_parameters_stay_float32() -> None:
    for name in OPTIONS:
        w = nn.Parameter(np.ones(3, np.float32))
        w.grad = glassnet.tensor(np.full(3, 0.5, np.float32))
        kw = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        opt = getattr(optim, name)([w], lr=0.1, **kw)
        opt.step()
        opt.step()
        assert w.dtype == np.float32
        assert all(
            v.dtype == np.float32 for v in opt.state[w].values() if isinstance(v, np.ndarray)
        )


def test_zero_grad() -> None:
    net, _ = models()
    opt = optim.SGD(net.parameters(), lr=0.1)
    x, y = data()
    loss_ours(net, x, y).backward()
    grads = [p.grad for p in net.parameters()]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(net.parameters(), grads):
        assert p.grad is g and g.shape == p.shape and not np.any(g.data)
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_closure_returns_loss_and_matches_torch() -> None:
    net, ref = models()
    opt, topt = optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    x, y = data()

    def closure() -> glassnet.Tensor:
        opt.zero_grad()
        loss = loss_ours(net, x, y)
        loss.backward()
        return loss

    def tclosure() -> Any:
        topt.zero_grad()
        loss = ((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        with glassnet.no_grad():  # the closure re-enables recording, as torch's step does
            loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert_close(loss, tloss)
    for p, tp in zip(net.parameters(), ref.parameters()):
        assert_close(p, tp)


def test_named_parameters_and_repr() -> None:
    net, _ = models()
    opt = optim.Adam(net.named_parameters(), lr=0.01)
    assert opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"][0] == "0.weight"
    text = repr(opt)
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.01" in text


def test_add_param_group() -> None:
    net, ref = models()
    ps, tps = list(net.parameters()), list(ref.parameters())
    opt = optim.SGD(ps[:2], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tps[:2], lr=0.1, momentum=0.9)
    train_ours(net, opt, 3)
    train_torch(ref, topt, 3)
    opt.add_param_group({"params": ps[2:], "lr": 0.02})
    topt.add_param_group({"params": tps[2:], "lr": 0.02})
    train_ours(net, opt, 3, seed=3)
    train_torch(ref, topt, 3, seed=3)
    for p, tp in zip(ps, tps):
        assert_close(p, tp)
    assert opt.param_groups[1]["momentum"] == 0.9  # defaults fill the new group
