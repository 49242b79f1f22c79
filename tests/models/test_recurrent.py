"""RNNForecaster and CharLM: shapes, state handling, PyTorch parity through state_dict."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.models import CharLM, RNNForecaster, detach_state
from tests.helpers import assert_close, torch

TORCH_RNN = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def _states_close(a, b, rtol=1e-10):
    if isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            assert_close(x, y, rtol=rtol, atol=1e-12)
    else:
        assert_close(a, b, rtol=rtol, atol=1e-12)


class _TorchForecaster(torch.nn.Module if torch else object):
    def __init__(self, cell: str, hidden: int, layers: int) -> None:
        super().__init__()
        self.rnn = getattr(torch.nn, TORCH_RNN[cell])(1, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x, state=None):
        out, state = self.rnn(x.unsqueeze(-1), state)
        return self.head(out).squeeze(-1), state


class _TorchCharLM(torch.nn.Module if torch else object):
    def __init__(self, cell: str, V: int, E: int, H: int, layers: int) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = getattr(torch.nn, TORCH_RNN[cell])(E, H, layers, batch_first=True)
        self.fc = torch.nn.Linear(H, V)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embedding(x), state)
        return self.fc(out), state


def _load(tmodel, model):
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return tmodel.double()


@pytest.mark.parametrize(("cell", "layers"), [("lstm", 2), ("gru", 1), ("rnn", 1)])
def test_forecaster_matches_torch(cell, layers):
    model = RNNForecaster(
        cell, hidden_size=5, num_layers=layers, rng=np.random.default_rng(0)
    ).double()
    tmodel = _load(_TorchForecaster(cell, 5, layers), model)
    x = np.random.default_rng(1).standard_normal((3, 7))
    y, state = model(glassnet.tensor(x))
    ty, tstate = tmodel(torch.tensor(x))
    assert y.shape == (3, 7)
    assert_close(y, ty)
    _states_close(state, tstate)
    g = np.random.default_rng(2).standard_normal(y.shape)
    (y * glassnet.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    tparams = dict(tmodel.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad, tparams[name].grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("cell", "layers"), [("lstm", 1), ("gru", 2)])
def test_char_lm_matches_torch(cell, layers):
    lm = CharLM(
        11,
        embedding_dim=4,
        hidden_size=6,
        num_layers=layers,
        cell=cell,
        rng=np.random.default_rng(0),
    ).double()
    tlm = _load(_TorchCharLM(cell, 11, 4, 6, layers), lm)
    ids = np.random.default_rng(1).integers(0, 11, size=(2, 9))
    state0 = lm.init_state(2)
    logits, state = lm(glassnet.tensor(ids), state0)
    tlogits, tstate = tlm(torch.tensor(ids))
    assert logits.shape == (2, 9, 11)
    assert_close(logits, tlogits)
    _states_close(state, tstate)
    g = np.random.default_rng(2).standard_normal(logits.shape)
    (logits * glassnet.tensor(g)).sum().backward()
    (tlogits * torch.tensor(g)).sum().backward()
    tparams = dict(tlm.named_parameters())
    for name, p in lm.named_parameters():
        assert_close(p.grad, tparams[name].grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_carrying_the_state_equals_one_long_pass(cell):
    lm = CharLM(7, 3, 5, num_layers=2, cell=cell, rng=np.random.default_rng(0)).double()
    ids = np.random.default_rng(1).integers(0, 7, size=(2, 10))
    full, s_full = lm(ids)
    a, s = lm(ids[:, :4])
    b, s = lm(ids[:, 4:], detach_state(s))
    assert_close(glassnet.cat([a, b], dim=1), full)
    _states_close(s, s_full)
    fc = RNNForecaster(cell, 4, rng=np.random.default_rng(0)).double()
    x = np.random.default_rng(2).standard_normal((2, 10))
    yf, _ = fc(glassnet.tensor(x))
    y1, st = fc(glassnet.tensor(x[:, :6]))
    y2, _ = fc(glassnet.tensor(x[:, 6:]), st)
    assert_close(glassnet.cat([y1, y2], dim=1), yf)


def test_detached_state_stops_the_gradient():
    lm = CharLM(5, 3, 4, rng=np.random.default_rng(0)).double()
    ids = np.random.default_rng(1).integers(0, 5, size=(2, 6))
    _, s = lm(ids[:, :3])
    ds = detach_state(s)
    assert all(t.is_leaf and not t.requires_grad for t in ds)
    assert all(np.shares_memory(t.data, u.data) for t, u in zip(ds, s))
    logits, _ = lm(ids[:, 3:], ds)
    logits.sum().backward()
    g_carried = {n: p.grad.data.copy() for n, p in lm.named_parameters()}
    lm.zero_grad()
    const = tuple(glassnet.tensor(t.data.copy()) for t in s)  # the same values as constants
    logits2, _ = lm(ids[:, 3:], const)
    logits2.sum().backward()
    for n, p in lm.named_parameters():
        assert_close(p.grad, g_carried[n])


def test_init_state_and_detach_helpers():
    lstm = RNNForecaster("lstm", 6, num_layers=3)
    h, c = lstm.init_state(4)
    assert h.shape == c.shape == (3, 4, 6) and not h.data.any()
    gru = CharLM(5, 2, 6, cell="GRU")
    assert gru.init_state(2).shape == (1, 2, 6)
    assert gru.init_state(2).dtype == np.float32
    assert detach_state(None) is None
    assert CharLM.detach_state(None) is None
    with pytest.raises(TypeError, match="detach_state expected"):
        detach_state([h])


def test_recurrent_errors():
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNForecaster("transformer")
    with pytest.raises(ValueError, match="hidden_size"):
        CharLM(5, hidden_size=0)
    fc = RNNForecaster("lstm", 4)
    with pytest.raises(ValueError, match=r"input values of shape \(N, T\)"):
        fc(glassnet.zeros(2, 3, 1))
    with pytest.raises(ValueError, match=r"a tuple \(h, c\) of Tensors of shape \(1, 2, 4\)"):
        fc(glassnet.zeros(2, 3), glassnet.zeros(1, 2, 4))
    lm = CharLM(5, 2, 3, cell="gru")
    with pytest.raises(ValueError, match=r"token ids in \[0, 5\), got values in \[0, 7\]"):
        lm(np.array([[0, 7]]))
    with pytest.raises(TypeError, match="integer token ids"):
        lm(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"shape \(N, T\)"):
        lm(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"a Tensor of shape \(1, 1, 3\)"):
        lm(np.array([[1, 2]]), lm.init_state(2))
