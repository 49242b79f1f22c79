"""nn.RNN / nn.LSTM / nn.GRU against torch.nn on hypothesis-drawn configurations of every option."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn
from glassnet.nn.rnn import RNNBase

from ..helpers import assert_close, backward_random, torch

KINDS = ("RNN", "LSTM", "GRU")


def make_pair(kind: str, D: int, H: int, seed: int = 0, **kw: Any) -> tuple[Any, Any]:
    """A float64 glassnet layer and its torch twin, loaded through state_dict."""
    ours = getattr(nn, kind)(D, H, rng=np.random.default_rng(seed), **kw).double()
    theirs = getattr(torch.nn, kind)(D, H, **kw).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def flat_outputs(out: Any) -> list[Any]:
    y, st = out
    return [y, *st] if isinstance(st, tuple) else [y, st]


def compare_run(
    ours: Any,
    theirs: Any,
    x: np.ndarray,
    states: list[np.ndarray] | None,
    lengths: list[int] | None = None,
    seed: int = 0,
) -> None:
    """Forward and every gradient (input, initial states, parameters) equal torch's."""
    xg = glassnet.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    sg = sts = None
    if states is not None:
        sg = [glassnet.tensor(s, requires_grad=True) for s in states]
        sts = [torch.tensor(s, requires_grad=True) for s in states]
    hx_g = None if sg is None else (tuple(sg) if len(sg) == 2 else sg[0])
    hx_t = None if sts is None else (tuple(sts) if len(sts) == 2 else sts[0])
    if lengths is None:
        out_g = ours(xg, hx_g)
        out_t = theirs(xt, hx_t)
    else:
        out_g = ours(xg, hx_g, lengths=lengths)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=ours.batch_first, enforce_sorted=False
        )
        yp, st_t = theirs(packed, hx_t)
        y_t, _ = torch.nn.utils.rnn.pad_packed_sequence(
            yp, batch_first=ours.batch_first, total_length=x.shape[1 if ours.batch_first else 0]
        )
        out_t = (y_t, st_t)
    backward_random(flat_outputs(out_g), flat_outputs(out_t), seed)
    assert_close(xg.grad, xt.grad)
    for a, b in zip(sg or [], sts or []):
        assert_close(a.grad, b.grad)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        assert_close(p.grad, tp[name].grad)


@st.composite
def configs(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    H = draw(st.integers(2, 5))
    kw: dict[str, Any] = {
        "num_layers": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bidirectional": draw(st.booleans()),
    }
    if kw["num_layers"] > 1:
        kw["dropout"] = draw(st.sampled_from([0.0, 0.3]))  # eval mode: no effect, as torch
    if kind == "RNN":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    if kind == "LSTM":
        kw["proj_size"] = draw(st.integers(0, H - 1))
    return {
        "kind": kind,
        "D": draw(st.integers(1, 4)),
        "H": H,
        "T": draw(st.integers(1, 6)),
        "N": draw(st.integers(1, 4)),
        "kw": kw,
        "unbatched": draw(st.booleans()),
        "with_state": draw(st.booleans()),
        "ragged": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def _states(c: dict[str, Any], ours: Any, r: np.random.Generator) -> list[np.ndarray] | None:
    if not c["with_state"]:
        return None
    kw = c["kw"]
    L = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    P = kw.get("proj_size", 0) or c["H"]
    lead = (L,) if c["unbatched"] else (L, c["N"])
    shapes = [(*lead, P)] + ([(*lead, c["H"])] if c["kind"] == "LSTM" else [])
    return [r.standard_normal(s) for s in shapes]


@given(configs())
def test_parity_with_torch(c: dict[str, Any]) -> None:
    ours, theirs = make_pair(c["kind"], c["D"], c["H"], c["seed"], **c["kw"])
    ours.eval()
    theirs.eval()
    r = np.random.default_rng(c["seed"])
    T, N, D = c["T"], c["N"], c["D"]
    if c["unbatched"]:
        x = r.standard_normal((T, D))
    else:
        x = r.standard_normal((N, T, D) if c["kw"]["batch_first"] else (T, N, D))
    lengths = None
    if c["ragged"] and not c["unbatched"]:
        lengths = r.integers(1, T + 1, size=N).tolist()
    compare_run(ours, theirs, x, _states(c, ours, r), lengths, c["seed"])


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_keys_and_init(kind: str) -> None:
    kw = {"num_layers": 2, "bidirectional": True}
    if kind == "LSTM":
        kw["proj_size"] = 3
    ours = getattr(nn, kind)(5, 7, **kw)
    theirs = getattr(torch.nn, kind)(5, 7, **kw)
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    assert all(sd[k].shape == tuple(v.shape) for k, v in theirs.state_dict().items())
    assert all(v.dtype == np.float32 for v in sd.values())
    bound = 1 / np.sqrt(7)
    values = np.concatenate([v.ravel() for v in sd.values()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.9 * bound  # spread over the whole range, not a narrow init
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    back = getattr(nn, kind)(5, 7, **kw)
    back.load_state_dict(theirs.state_dict())
    for k, v in back.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])


def test_keys_without_bias_and_seeded_init() -> None:
    a = nn.GRU(3, 4, bias=False, rng=np.random.default_rng(5))
    b = nn.GRU(3, 4, bias=False, rng=np.random.default_rng(5))
    assert list(a.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    np.testing.assert_array_equal(a.weight_hh_l0.data, b.weight_hh_l0.data)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_matches_torch(kind: str) -> None:
    ours = getattr(nn, kind)(3, 6, num_layers=2, rng=np.random.default_rng(0))
    theirs = getattr(torch.nn, kind)(3, 6, num_layers=2)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((20, 4, 3)).astype(np.float32)
    y, _ = ours(glassnet.tensor(x))
    y_t, _ = theirs(torch.from_numpy(x))
    assert y.dtype == np.float32
    assert_close(y, y_t, rtol=1e-4, atol=1e-5)


def test_dropout_between_layers_in_training() -> None:
    """Training-mode dropout: torch layers stacked by hand with the same masks agree."""
    p, L, T, N, D, H = 0.4, 3, 5, 3, 2, 4
    ours = nn.LSTM(D, H, num_layers=L, dropout=p, rng=np.random.default_rng(0)).double()
    x = np.random.default_rng(1).standard_normal((T, N, D))
    # one mask per inner layer output, drawn from the layer's generator
    ours.rng = np.random.default_rng(7)
    y2, _ = ours(glassnet.tensor(x))
    ours.rng = np.random.default_rng(7)
    y3, _ = ours(glassnet.tensor(x))
    assert_close(y2, y3)
    gen = np.random.default_rng(7)
    masks = [(gen.random((T, N, H)) >= p) / (1 - p) for _ in range(L - 1)]
    ours.rng = np.random.default_rng(7)
    xg = glassnet.tensor(x, requires_grad=True)
    y, (h, c) = ours(xg)
    xt = torch.tensor(x, requires_grad=True)
    inp, hs, cs = xt, [], []
    sd = ours.state_dict()
    layers = []
    for k in range(L):
        layer = torch.nn.LSTM(D if k == 0 else H, H).double()
        layer.load_state_dict(
            {n[:-1] + "0": torch.from_numpy(sd[n]) for n in sd if n[-1] == str(k)}
        )
        layers.append(layer)
        out, (hk, ck) = layer(inp)
        hs.append(hk)
        cs.append(ck)
        inp = out * torch.from_numpy(masks[k]) if k < L - 1 else out
    assert_close(y, inp)
    assert_close(h, torch.cat(hs))
    assert_close(c, torch.cat(cs))
    v = np.random.default_rng(2).standard_normal(y.shape)
    (y * glassnet.tensor(v)).sum().backward()
    (inp * torch.from_numpy(v)).sum().backward()
    assert_close(xg.grad, xt.grad)
    assert_close(ours.weight_ih_l0.grad, layers[0].weight_ih_l0.grad)
    # eval mode switches dropout off
    ours.eval()
    ye, _ = ours(glassnet.tensor(x))
    ye2, _ = ours(glassnet.tensor(x))
    assert_close(ye, ye2)


def test_dropout_with_one_layer_warns() -> None:
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(2, 3, dropout=0.5)


def test_outputs_zero_past_each_end_and_h_n_at_last_step() -> None:
    ours = nn.GRU(2, 3, bidirectional=True, rng=np.random.default_rng(0)).double()
    x = np.random.default_rng(1).standard_normal((6, 3, 2))
    lengths = [2, 6, 4]
    y, h = ours(glassnet.tensor(x), lengths=lengths)
    for n, L in enumerate(lengths):
        y1, h1 = ours(glassnet.tensor(x[:L, n : n + 1]))
        assert_close(y.data[:L, n], y1.data[:, 0])
        assert not np.any(y.data[L:, n])
        assert_close(h.data[:, n], h1.data[:, 0])


def test_unbatched_input_with_resets() -> None:
    lstm = nn.LSTM(2, 3, rng=np.random.default_rng(0)).double()
    x = np.random.default_rng(1).standard_normal((6, 2))
    resets = np.array([False, False, True, False, False, True])
    y, (h, c) = lstm(glassnet.tensor(x), resets=resets)
    yb, (hb, cb) = lstm(glassnet.tensor(x[:, None]), resets=resets[:, None])
    assert_close(h, hb.data[:, 0])
    assert y.shape == (6, 3) and h.shape == (1, 3)
    assert_close(y, yb.data[:, 0])
    assert_close(c, cb.data[:, 0])
    y_tail, _ = lstm(glassnet.tensor(x[5:]))
    assert_close(y.data[5:], y_tail.data)


def test_bptt_hook_via_module() -> None:
    lstm = nn.LSTM(2, 3, num_layers=2, rng=np.random.default_rng(0)).double()
    events: list[Any] = []
    handle = lstm.register_bptt_hook(lambda m, e: events.append((m, e)))
    y, _ = lstm(glassnet.tensor(np.ones((4, 2, 2))))
    (y * y).sum().backward()
    assert [(e.layer, e.t) for _, e in events] == [(1, t) for t in (3, 2, 1, 0)] + [
        (0, t) for t in (3, 2, 1, 0)
    ]
    assert all(m is lstm and e.grad_c is not None for m, e in events)
    assert events[0][1].grad_h.shape == (2, 3)
    handle.remove()
    events.clear()
    y, _ = lstm(glassnet.tensor(np.ones((4, 2, 2))))
    y.sum().backward()
    assert events == []


def test_repr() -> None:
    assert repr(nn.LSTM(3, 4, num_layers=2, proj_size=2)) == "LSTM(3, 4, proj_size=2, num_layers=2)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bidirectional=True)) == (
        "RNN(3, 4, nonlinearity='relu', bidirectional=True)"
    )


# ---------------------------------------------------------------------------- errors
def test_bad_hyper_parameters() -> None:
    with pytest.raises(ValueError, match="proj_size < hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size is only supported by LSTM"):
        RNNBase(3, 4, proj_size=2)
    for p in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"dropout in \[0, 1\)"):
            nn.GRU(3, 4, num_layers=2, dropout=p)
    with pytest.raises(ValueError, match="hidden_size"):
        nn.RNN(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_wrong_input_size_and_rank() -> None:
    lstm = nn.LSTM(3, 4)
    with pytest.raises(
        ValueError, match=r"expected input with 3 features .* got input of shape \(5, 2, 2\)"
    ):
        lstm(glassnet.zeros(5, 2, 2))
    with pytest.raises(ValueError, match=r"unbatched \(T, 3\), got \(5,\)"):
        lstm(glassnet.zeros(5))
    with pytest.raises(TypeError, match="Tensor input"):
        lstm(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(TypeError, match=r"LSTM expected input of dtype float32.*got float64"):
        lstm(glassnet.zeros(5, 2, 3, dtype=np.float64))


def test_wrong_state_shapes() -> None:
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    x = glassnet.zeros(5, 2, 3)
    with pytest.raises(
        ValueError, match=r"h_0 of shape \(4, 2, 4\) \(D\*num_layers, N, H_out\), got \(2, 2, 4\)"
    ):
        gru(x, glassnet.zeros(2, 2, 4))
    lstm = nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match=r"c_0 of shape \(1, 2, 4\)"):
        lstm(x, (glassnet.zeros(1, 2, 2), glassnet.zeros(1, 2, 2)))
    with pytest.raises(TypeError, match="pair"):
        lstm(x, glassnet.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"h_0 of shape \(1, 4\)"):
        nn.RNN(3, 4)(glassnet.zeros(5, 3), glassnet.zeros(1, 2, 4))


def test_bad_lengths() -> None:
    rnn = nn.RNN(3, 4)
    x = glassnet.zeros(5, 2, 3)
    with pytest.raises(ValueError, match=r"lengths in \[1, 5\] .* from 0 to 3"):
        rnn(x, lengths=[3, 0])
    with pytest.raises(ValueError, match=r"lengths in \[1, 5\] .* from 2 to 6"):
        rnn(x, lengths=[6, 2])
    with pytest.raises(ValueError, match=r"lengths of shape \(2,\)"):
        rnn(x, lengths=[3, 2, 1])
    with pytest.raises(TypeError, match="integers"):
        rnn(x, lengths=[3.0, 2.0])
    with pytest.raises(ValueError, match="batched"):
        rnn(glassnet.zeros(5, 3), lengths=[3])


def test_bad_resets_and_truncation() -> None:
    x = glassnet.zeros(5, 2, 3)
    bi = nn.LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match="resets are not supported with bidirectional"):
        bi(x, resets=np.zeros((5, 2), bool))
    with pytest.raises(ValueError, match="bptt_steps is not supported with bidirectional"):
        bi(x, bptt_steps=2)
    uni = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"resets of shape \(5, 2\)"):
        uni(x, resets=np.zeros((2, 5), bool))
    with pytest.raises(TypeError, match="boolean"):
        uni(x, resets=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="bptt_steps >= 1"):
        uni(x, bptt_steps=0)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_bptt_hook_may_run_another_backward(cls: Any) -> None:
    """A hook that runs a backward of the same kind of layer leaves the outer gradients intact.

    (The kernels reuse per-thread scratch buffers; the ones live while a hook runs are private.)
    """
    r = np.random.default_rng(0)
    outer = cls(3, 4, rng=np.random.default_rng(1)).double()
    inner = cls(3, 4, rng=np.random.default_rng(2)).double()
    x = r.standard_normal((6, 2, 3))

    def nested(*_: Any) -> None:
        with glassnet.enable_grad():
            inner(glassnet.tensor(r.standard_normal((6, 2, 3))))[0].sum().backward()

    def grads(hook: Any) -> list[np.ndarray]:
        for p in outer.parameters():
            p.grad = None
        handle = outer.register_bptt_hook(hook)
        xg = glassnet.tensor(x, requires_grad=True)
        y, _ = outer(xg)
        (y * y).sum().backward()
        handle.remove()
        return [xg.grad.data.copy()] + [p.grad.data.copy() for p in outer.parameters()]

    for a, b in zip(grads(lambda *_: None), grads(nested)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_empty_batch(cls: Any) -> None:
    """A batch of 0 sequences, as in PyTorch: empty outputs and states, zero weight gradients."""
    m = cls(3, 4, num_layers=2, bidirectional=True).double()
    x = glassnet.tensor(np.zeros((5, 0, 3)), requires_grad=True)
    y, state = m(x)
    h = state[0] if isinstance(state, tuple) else state
    theirs = getattr(torch.nn, cls.__name__)(3, 4, num_layers=2, bidirectional=True)
    ty, tstate = theirs(torch.zeros(5, 0, 3))
    th = tstate[0] if isinstance(tstate, tuple) else tstate
    assert y.shape == tuple(ty.shape) and h.shape == tuple(th.shape)
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == (5, 0, 3)
    for p in m.parameters():
        assert p.grad is not None and not p.grad.data.any()
