"""RNNCell / LSTMCell / GRUCell: torch parity, finite differences, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet import nn

from ..helpers import assert_close, backward_random, check_grad, torch


def _pair(kind: str, D: int, H: int, seed: int, **kw: Any) -> tuple[Any, Any]:
    ours = getattr(nn, kind)(D, H, rng=np.random.default_rng(seed), **kw).double()
    theirs = getattr(torch.nn, kind)(D, H, **kw).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@given(
    kind=st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]),
    relu=st.booleans(),
    N=st.integers(1, 4),
    D=st.integers(1, 4),
    H=st.integers(1, 5),
    bias=st.booleans(),
    batched=st.booleans(),
    with_state=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cells_match_torch(
    kind: str, relu: bool, N: int, D: int, H: int, bias: bool, batched: bool, with_state: bool,
    seed: int,
) -> None:  # fmt: skip
    kw: dict[str, Any] = {"bias": bias}
    if kind == "RNNCell":
        kw["nonlinearity"] = "relu" if relu else "tanh"
    ours, theirs = _pair(kind, D, H, seed, **kw)
    r = np.random.default_rng(seed)
    lead = (N,) if batched else ()
    x = r.standard_normal((*lead, D))
    xg, xt = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sg: list[Any] = []
    stt: list[Any] = []
    if with_state:
        for _ in range(2 if kind == "LSTMCell" else 1):
            s = r.standard_normal((*lead, H))
            sg.append(glassnet.tensor(s, requires_grad=True))
            stt.append(torch.tensor(s, requires_grad=True))
    hx_g = None if not sg else (tuple(sg) if kind == "LSTMCell" else sg[0])
    hx_t = None if not stt else (tuple(stt) if kind == "LSTMCell" else stt[0])
    out_g, out_t = ours(xg, hx_g), theirs(xt, hx_t)
    out_g = list(out_g) if isinstance(out_g, tuple) else [out_g]
    out_t = list(out_t) if isinstance(out_t, tuple) else [out_t]
    backward_random(out_g, out_t, r)
    assert_close(xg.grad, xt.grad)
    for a, b in zip(sg, stt):
        assert_close(a.grad, b.grad)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, tp[name].grad)


@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_cells_gradcheck(kind: str) -> None:
    r = np.random.default_rng(1)
    N, D, H = 2, 3, 2
    G = {"lstm": 4, "gru": 3}.get(kind, 1)
    arrays = [r.standard_normal((N, D)), r.standard_normal((N, H))]
    if kind == "lstm":
        arrays.append(r.standard_normal((N, H)))
    arrays += [r.standard_normal((G * H, D)), r.standard_normal((G * H, H))]
    arrays += [r.standard_normal(G * H), r.standard_normal(G * H)]
    if kind == "lstm":
        check_grad(lambda x, h, c, *w: F.lstm_cell(x, (h, c), *w), *arrays)
    elif kind == "gru":
        check_grad(lambda x, h, *w: F.gru_cell(x, h, *w), *arrays)
    else:
        nl = kind.split("_")[1]
        arrays[0] = arrays[0] + 0.05  # keep pre-activations away from relu's kink
        check_grad(lambda x, h, *w: F.rnn_cell(x, h, *w, nonlinearity=nl), *arrays)


def test_cell_errors() -> None:
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"input of shape \(N, 3\) or \(3,\) .* got \(2, 5\)"):
        cell(glassnet.zeros(2, 5))
    with pytest.raises(ValueError, match=r"hidden state of shape \(2, 4\), got \(2, 3\)"):
        cell(glassnet.zeros(2, 3), (glassnet.zeros(2, 3), glassnet.zeros(2, 4)))
    with pytest.raises(TypeError, match="pair"):
        cell(glassnet.zeros(2, 3), glassnet.zeros(2, 4))
    with pytest.raises(ValueError, match=r"hidden state of shape \(4,\)"):
        nn.GRUCell(3, 4)(glassnet.zeros(3), glassnet.zeros(1, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(TypeError, match="dtype"):
        nn.RNNCell(3, 4)(glassnet.zeros(2, 3, dtype=np.float64))


def test_cell_state_dict_keys() -> None:
    for kind in ("RNNCell", "LSTMCell", "GRUCell"):
        assert list(getattr(nn, kind)(2, 3).state_dict()) == list(
            getattr(torch.nn, kind)(2, 3).state_dict()
        )
        assert list(getattr(nn, kind)(2, 3, bias=False).state_dict()) == [
            "weight_ih",
            "weight_hh",
        ]
