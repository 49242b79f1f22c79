"""Module mechanics, core layers, init and gradient clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn
from glassnet.nn import init
from glassnet.nn.utils import clip_grad_norm_, clip_grad_value_

from ..helpers import assert_close, parity, torch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1, bias=False)])
        self.register_buffer("steps", glassnet.zeros(1))

    def forward(self, x):
        h = self.body(x)
        return self.heads[0](h), self.heads[1](h)


def test_named_parameters_use_pytorch_dotted_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "body.0.weight",
        "body.0.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
    ]
    assert list(net.state_dict()) == [  # PyTorch's order: own tensors, then children's
        "steps",
        "body.0.weight",
        "body.0.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
    ]
    assert [n for n, _ in net.named_modules()][:3] == ["", "body", "body.0"]
    assert len(list(net.children())) == 2


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_zero_grad_double():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    out = net(glassnet.ones(5, 3))
    (out[0].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.steps.dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_repr_is_readable():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 1, bias=False))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2)\n"
        "  (3): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )


def test_state_dict_round_trip_with_torch():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    ref = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    ).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert_close(net(glassnet.tensor(x)), ref(torch.from_numpy(x)))
    # and back: torch weights into a fresh glassnet model
    ref2 = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    ).double()
    net2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    net2.load_state_dict(ref2.state_dict())
    assert_close(net2(glassnet.tensor(x)), ref2(torch.from_numpy(x)))
    parity(net2, ref2, x)


def test_state_dict_is_a_copy():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    with glassnet.no_grad():
        lin.weight.add_(1.0)
    assert not np.allclose(sd["weight"], lin.weight.data)


def test_load_state_dict_lists_every_problem():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    sd = net.state_dict()
    del sd["0.bias"]
    del sd["1.weight"]
    sd["extra.weight"] = np.zeros(1)
    sd["1.bias"] = np.zeros(2)
    with pytest.raises(ValueError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert "missing keys (2): 0.bias, 1.weight" in msg
    assert "unexpected keys (1): extra.weight" in msg
    assert "1.bias: expected float32 (1,), got float64 (2,)" in msg
    before = net[0].weight.data.copy()
    sd2 = net.state_dict()
    sd2["0.weight"] = np.ones((2, 2))
    with pytest.raises(ValueError):
        net.load_state_dict(sd2)
    np.testing.assert_array_equal(net[0].weight.data, before)  # nothing changed on failure
    result = net.load_state_dict({"0.weight": np.ones((3, 2))}, strict=False)
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias"]
    np.testing.assert_array_equal(net[0].weight.data, 1.0)


def test_linear_init_matches_pytorch_bounds():
    lin = nn.Linear(50, 30, rng=np.random.default_rng(0))
    bound = 1 / math.sqrt(50)
    assert np.abs(lin.weight.data).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.9 * bound
    assert np.abs(lin.bias.data).max() <= bound


def test_linear_errors():
    with pytest.raises(ValueError, match=r"Linear expected input of shape \(\*, 3\), got \(2, 4\)"):
        nn.Linear(3, 2)(glassnet.ones(2, 4))
    with pytest.raises(ValueError, match="non-negative int in_features"):
        nn.Linear(-1, 2)


def test_embedding_parity_and_padding_idx():
    emb = nn.Embedding(10, 4, padding_idx=0).double()
    ref = torch.nn.Embedding(10, 4, padding_idx=0).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in emb.state_dict().items()})
    idx = np.array([[1, 0, 3], [3, 3, 9]])
    out = emb(idx)
    tout = ref(torch.from_numpy(idx))
    assert_close(out, tout)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_close(emb.weight.grad, ref.weight.grad)
    assert not emb.weight.grad.data[0].any()
    with pytest.raises(IndexError, match=r"indices in \[0, 10\).*got 10"):
        emb(np.array([10]))
    with pytest.raises(TypeError, match="integer indices"):
        emb(np.array([1.0]))


@given(p=st.sampled_from([0.0, 0.3, 0.9]), seed=st.integers(0, 1000))
def test_dropout_mask_scale_and_gradient(p, seed):
    drop = nn.Dropout(p, rng=np.random.default_rng(seed))
    x = glassnet.tensor(np.ones((200, 50)), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert np.allclose(y.data[kept], 1 / (1 - p))
    assert abs(kept.mean() - (1 - p)) < 0.02
    y.sum().backward()
    assert_close(x.grad, kept / (1 - p))
    drop.eval()
    assert drop(x) is x


def test_activation_modules_match_torch():
    x = np.random.default_rng(0).standard_normal((3, 5))
    pairs = [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
        (nn.ELU(0.5), torch.nn.ELU(0.5)),
        (nn.GELU(), torch.nn.GELU()),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Softmax(1), torch.nn.Softmax(1)),
        (nn.LogSoftmax(0), torch.nn.LogSoftmax(0)),
        (nn.Identity(), torch.nn.Identity()),
        (nn.Flatten(0), torch.nn.Flatten(0)),
    ]
    for ours, theirs in pairs:
        parity(ours, theirs, x)


def test_forward_hook():
    lin = nn.Linear(2, 2)
    seen = []
    handle = lin.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    lin(glassnet.ones(3, 2))
    handle.remove()
    lin(glassnet.ones(3, 2))
    assert seen == [(3, 2)]


def test_init_functions():
    r = np.random.default_rng(0)
    w = nn.Parameter(np.zeros((200, 100)))
    init.xavier_uniform_(w, rng=r)
    a = math.sqrt(6 / 300)
    assert np.abs(w.data).max() <= a and w.data.std() == pytest.approx(a / math.sqrt(3), rel=0.05)
    init.xavier_normal_(w, gain=2.0, rng=r)
    assert w.data.std() == pytest.approx(2 * math.sqrt(2 / 300), rel=0.05)
    init.kaiming_normal_(w, nonlinearity="relu", rng=r)
    assert w.data.std() == pytest.approx(math.sqrt(2 / 100), rel=0.05)
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", rng=r)
    assert np.abs(w.data).max() <= math.sqrt(3) * math.sqrt(2 / 200)
    init.orthogonal_(w, gain=1.5, rng=r)
    assert_close(w.data.T @ w.data, 2.25 * np.eye(100), rtol=0, atol=1e-10)
    c = nn.Parameter(np.zeros((4, 3, 5, 5)))
    assert init._calculate_fan_in_and_fan_out(c) == (75, 100)
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    init.normal_(w, 1.0, 0.1, rng=r)
    assert w.data.mean() == pytest.approx(1.0, abs=0.01)
    init.constant_(w, 0.5)
    assert (w.data == 0.5).all()
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(w, mode="fan")
    # the same rng state gives the same weights
    a1 = init.uniform_(nn.Parameter(np.zeros(5)), rng=np.random.default_rng(7)).data
    a2 = init.uniform_(nn.Parameter(np.zeros(5)), rng=np.random.default_rng(7)).data
    np.testing.assert_array_equal(a1, a2)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    r = np.random.default_rng(0)
    grads = [r.standard_normal((3, 4)), r.standard_normal(5)]
    ps = [nn.Parameter(np.zeros_like(g)) for g in grads]
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad = glassnet.tensor(g.copy())
        tp.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(ps, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(ps, tps):
        assert_close(p.grad, tp.grad)


def test_clip_grad_value_matches_torch():
    g = np.random.default_rng(0).standard_normal((4, 4))
    p = nn.Parameter(np.zeros((4, 4)))
    p.grad = glassnet.tensor(g.copy())
    tp = torch.zeros((4, 4), dtype=torch.float64, requires_grad=True)
    tp.grad = torch.from_numpy(g.copy())
    clip_grad_value_([p], 0.5)
    torch.nn.utils.clip_grad_value_([tp], 0.5)
    assert_close(p.grad, tp.grad)


def test_module_attribute_errors():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign ndarray to 'weight'"):
        lin.weight = np.zeros((2, 2))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lin.nope


@given(v=st.integers(2, 6), d=st.integers(1, 4), seed=st.integers(0, 1000))
def test_embedding_gradcheck_and_parity(v, d, seed):
    from ..helpers import check_grad

    r = np.random.default_rng(seed)
    idx = r.integers(0, v, (3, 4))  # repeated indices accumulate
    w = r.standard_normal((v, d))
    check_grad(lambda t: glassnet.nn.functional.embedding(idx, t), w, seed=seed)
    parity(
        lambda t: glassnet.nn.functional.embedding(idx, t, padding_idx=0),
        lambda t: torch.nn.functional.embedding(torch.from_numpy(idx), t, padding_idx=0),
        w,
        seed=seed,
    )


def test_dropout_gradient_is_the_forward_mask():
    x = glassnet.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    y = glassnet.nn.functional.dropout(x, 0.5, rng=np.random.default_rng(1))
    g = np.random.default_rng(2).standard_normal((4, 5))
    y.backward(g)
    scale = np.where(y.data != 0, 2.0, 0.0)  # kept elements were scaled by 1 / (1 - p)
    assert_close(x.grad, g * scale)


def test_reassigned_parameter_and_module_keep_their_place_as_in_pytorch():
    import torch

    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    ours.weight = nn.Parameter(np.zeros((3, 2), np.float32))
    theirs.weight = torch.nn.Parameter(torch.zeros(3, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    tnet = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    net[0] = nn.Linear(2, 2)
    tnet[0] = torch.nn.Linear(2, 2)
    setattr(net, "0", nn.Linear(2, 2))
    setattr(tnet, "0", torch.nn.Linear(2, 2))
    assert list(net.state_dict()) == list(tnet.state_dict()) == ["0.weight", "0.bias"]
    assert [n for n, _ in net.named_children()] == ["0", "1"]


def test_sequential_and_module_list_edit_by_position_as_pytorch():
    import torch

    for lib, cls in (
        (nn, "Sequential"),
        (torch.nn, "Sequential"),
        (nn, "ModuleList"),
        (torch.nn, "ModuleList"),
    ):
        m = (
            getattr(lib, cls)([lib.ReLU(), lib.Tanh(), lib.Sigmoid()])
            if cls == "ModuleList"
            else getattr(lib, cls)(lib.ReLU(), lib.Tanh(), lib.Sigmoid())
        )
        del m[0]  # Tanh, Sigmoid
        m.insert(1, lib.ReLU())  # Tanh, ReLU, Sigmoid
        m.insert(0, lib.ELU())  # ELU, Tanh, ReLU, Sigmoid
        assert type(m.pop(-1)).__name__ == "Sigmoid"
        m[-1] = lib.GELU()  # ELU, Tanh, GELU
        m.extend([lib.Tanh()])
        assert [n for n, _ in m.named_children()] == ["0", "1", "2", "3"], (lib, cls)
        assert [type(c).__name__ for c in m] == ["ELU", "Tanh", "GELU", "Tanh"], (lib, cls)
    with pytest.raises(IndexError, match="out of range for Sequential of length 1"):
        nn.Sequential(nn.ReLU())[3] = nn.ReLU()
    with pytest.raises(TypeError, match="expected a Module"):
        nn.ModuleList([nn.ReLU()])[0] = 3
    with pytest.raises(IndexError, match="out of range"):
        nn.ModuleList([nn.ReLU()]).insert(5, nn.ReLU())
