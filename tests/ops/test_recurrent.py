"""Fused RNN/LSTM/GRU sequence ops: BPTT against a tape of cells, a plain reverse-time NumPy
reference, finite differences, truncation, resets, the gradient hook and 10,000 steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
import glassnet.nn.functional as F
from glassnet.ops.recurrent import StepGrad

from ..helpers import assert_close, check_grad, torch

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(a / 2))


def random_weights(
    kind: str, D: int, H: int, r: np.random.Generator, bias: bool = True, P: int = 0
) -> list[np.ndarray | None]:
    G = GATES[kind]
    Hout = P or H
    w: list[np.ndarray | None] = [
        r.uniform(-0.6, 0.6, (G * H, D)),
        r.uniform(-0.6, 0.6, (G * H, Hout)),
    ]
    w += [r.uniform(-0.5, 0.5, G * H), r.uniform(-0.5, 0.5, G * H)] if bias else [None, None]
    if kind == "lstm":
        w.append(r.uniform(-0.6, 0.6, (P, H)) if P else None)
    return w


def run_fused(kind: str, x: Any, states: list[Any], w: list[Any], **kw: Any) -> list[Any]:
    """Call the functional form with one layer; returns [y, h_n, (c_n)]."""
    if kind == "lstm":
        y, (h, c) = F.lstm(x, (states[0], states[1]), [w], **kw)
        return [y, h, c]
    if kind == "gru":
        y, h = F.gru(x, states[0], [w], **kw)
    else:
        y, h = F.rnn(x, states[0], [w], nonlinearity=kind[4:], **kw)
    return [y, h]


# ---------------------------------------------------------------------------- plain reference
def reference(
    kind: str,
    x: np.ndarray,
    states: list[np.ndarray],
    w: list[Any],
    grads_out: list[np.ndarray],
    keep: np.ndarray | None = None,
    k: int | None = None,
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Textbook forward, then BPTT as a plain ``for t in reversed(range(T))`` loop.

    keep (T, N): multiply the previous state by it before step t (resets). k: backpropagate
    through the last k steps only. Returns the outputs and the gradients.
    """
    T, N, _ = x.shape
    w_ih, w_hh, b_ih, b_hh = w[:4]
    w_hr = w[4] if kind == "lstm" else None
    b_ih = np.zeros(w_ih.shape[0]) if b_ih is None else b_ih
    b_hh = np.zeros(w_ih.shape[0]) if b_hh is None else b_hh
    H = w_hh.shape[0] // GATES[kind]
    keep = np.ones((T, N)) if keep is None else keep
    h = states[0][0]
    c = states[1][0] if kind == "lstm" else None
    cache, ys = [], []
    for t in range(T):
        hp = h * keep[t][:, None]
        ax = x[t] @ w_ih.T + b_ih
        ah = hp @ w_hh.T + b_hh
        if kind == "lstm":
            cp = c * keep[t][:, None]
            a = ax + ah
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H])
            g, o = np.tanh(a[:, 2 * H : 3 * H]), sigmoid(a[:, 3 * H :])
            c = f * cp + i * g
            m = o * np.tanh(c)
            h = m @ w_hr.T if w_hr is not None else m
            cache.append((hp, cp, i, f, g, o, c, m))
        elif kind == "gru":
            r = sigmoid(ax[:, :H] + ah[:, :H])
            z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
            n = np.tanh(ax[:, 2 * H :] + r * ah[:, 2 * H :])
            h = (1 - z) * n + z * hp
            cache.append((hp, r, z, n, ah[:, 2 * H :]))
        else:
            a = ax + ah
            h = np.maximum(a, 0) if kind == "rnn_relu" else np.tanh(a)
            cache.append((hp, h))
        ys.append(h)
    outs = [np.stack(ys), h[None]] + ([c[None]] if kind == "lstm" else [])

    g: dict[str, np.ndarray] = {
        "x": np.zeros_like(x),
        "w_ih": np.zeros_like(w_ih),
        "w_hh": np.zeros_like(w_hh),
        "b_ih": np.zeros_like(b_ih),
        "b_hh": np.zeros_like(b_hh),
    }
    if w_hr is not None:
        g["w_hr"] = np.zeros_like(w_hr)
    dy = grads_out[0]
    dh_next = grads_out[1][0].copy()
    dc_next = grads_out[2][0].copy() if kind == "lstm" else None
    t0 = 0 if k is None else max(0, T - k)
    for t in reversed(range(t0, T)):
        dh = dy[t] + dh_next
        if kind == "lstm":
            hp, cp, i, f, gg, o, c, m = cache[t]
            if w_hr is not None:
                g["w_hr"] += dh.T @ m
                dm = dh @ w_hr
            else:
                dm = dh
            tc = np.tanh(c)
            dc = dc_next + dm * o * (1 - tc**2)
            da = np.concatenate(
                [dc * gg * i * (1 - i), dc * cp * f * (1 - f), dc * i * (1 - gg**2),
                 dm * tc * o * (1 - o)], axis=1,
            )  # fmt: skip
            dax = dah = da
            dc_next = dc * f * keep[t][:, None]
            extra = 0.0
        elif kind == "gru":
            hp, r, z, n, hn = cache[t]
            dn = dh * (1 - z) * (1 - n**2)
            dz = dh * (hp - n) * z * (1 - z)
            dr = dn * hn * r * (1 - r)
            dax = np.concatenate([dr, dz, dn], axis=1)
            dah = np.concatenate([dr, dz, dn * r], axis=1)
            extra = dh * z
        else:
            hp, hh = cache[t]
            dax = dah = dh * ((hh > 0) if kind == "rnn_relu" else (1 - hh**2))
            extra = 0.0
        g["x"][t] = dax @ w_ih
        g["w_ih"] += dax.T @ x[t]
        g["w_hh"] += dah.T @ hp
        g["b_ih"] += dax.sum(0)
        g["b_hh"] += dah.sum(0)
        dh_next = (dah @ w_hh + extra) * keep[t][:, None]
    g["h0"] = dh_next[None] if t0 == 0 else np.zeros_like(states[0])
    if kind == "lstm":
        g["c0"] = dc_next[None] if t0 == 0 else np.zeros_like(states[1])
    return outs, g


@given(
    kind=st.sampled_from(sorted(GATES)),
    T=st.integers(1, 7),
    N=st.integers(1, 3),
    D=st.integers(1, 3),
    H=st.integers(2, 4),
    bias=st.booleans(),
    proj=st.booleans(),
    with_resets=st.booleans(),
    k=st.one_of(st.none(), st.integers(1, 8)),
    seed=st.integers(0, 2**16),
)
def test_fused_bptt_equals_plain_reference(
    kind: str, T: int, N: int, D: int, H: int, bias: bool, proj: bool, with_resets: bool,
    k: int | None, seed: int,
) -> None:  # fmt: skip
    r = np.random.default_rng(seed)
    P = H - 1 if proj and kind == "lstm" else 0
    w = random_weights(kind, D, H, r, bias, P)
    x = r.standard_normal((T, N, D))
    states = [r.standard_normal((1, N, P or H))] + (
        [r.standard_normal((1, N, H))] if kind == "lstm" else []
    )
    resets = r.random((T, N)) < 0.3 if with_resets else None
    keep = None if resets is None else (~resets).astype(float)
    xg = glassnet.tensor(x, requires_grad=True)
    sg = [glassnet.tensor(s, requires_grad=True) for s in states]
    wg = [None if a is None else glassnet.tensor(a, requires_grad=True) for a in w]
    outs = run_fused(kind, xg, sg, wg, resets=resets, bptt_steps=k)
    grads_out = [r.standard_normal(o.shape) for o in outs]
    ref_outs, ref_g = reference(kind, x, states, w, grads_out, keep, k)
    loss = 0
    for o, ro, go in zip(outs, ref_outs, grads_out):
        assert_close(o, ro)
        loss = loss + (o * glassnet.tensor(go)).sum()
    loss.backward()
    assert_close(xg.grad, ref_g["x"])
    assert_close(sg[0].grad, ref_g["h0"])
    if kind == "lstm":
        assert_close(sg[1].grad, ref_g["c0"])
    names = ["w_ih", "w_hh", "b_ih", "b_hh", "w_hr"]
    for name, t in zip(names, wg):
        if t is not None:
            assert_close(t.grad, ref_g[name])


# ---------------------------------------------------------------------------- tape of cells
def tape(kind: str, x: Any, states: list[Any], w: list[Any], reverse: bool) -> list[Any]:
    """The same layer as T cell nodes (one direction)."""
    h = states[0]
    c = states[1] if kind == "lstm" else None
    ys: list[Any] = [None] * x.shape[0]
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        if kind == "lstm":
            h, c = F.lstm_cell(x[t], (h, c), *w[:4])
        elif kind == "gru":
            h = F.gru_cell(x[t], h, *w)
        else:
            h = F.rnn_cell(x[t], h, *w, nonlinearity=kind[4:])
        ys[t] = h
    return [glassnet.stack(ys), h] + ([c] if kind == "lstm" else [])


@pytest.mark.parametrize("kind", sorted(GATES))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_equals_tape_of_cells(kind: str, bidirectional: bool) -> None:
    T, N, D, H = 6, 3, 2, 4
    r = np.random.default_rng(3)
    ndir = 2 if bidirectional else 1
    ws = [random_weights(kind, D, H, r) for _ in range(ndir)]
    x = r.standard_normal((T, N, D))
    states = [r.standard_normal((ndir, N, H)) for _ in range(2 if kind == "lstm" else 1)]
    v = [r.standard_normal(s) for s in [(T, N, ndir * H)] + [(ndir, N, H)] * len(states)]

    def grads(fused: bool) -> list[np.ndarray]:
        xg = glassnet.tensor(x, requires_grad=True)
        sg = [glassnet.tensor(s, requires_grad=True) for s in states]
        wg = [
            [None if a is None else glassnet.tensor(a, requires_grad=True) for a in w] for w in ws
        ]
        if fused:
            fn = {"lstm": F.lstm, "gru": F.gru}.get(kind, F.rnn)
            kw = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
            hx = (sg[0], sg[1]) if kind == "lstm" else sg[0]
            y, st_ = fn(xg, hx, wg, bidirectional=bidirectional, **kw)
            outs = [y, *(st_ if isinstance(st_, tuple) else (st_,))]
        else:
            per = [tape(kind, xg, [s[d] for s in sg], wg[d], d == 1) for d in range(ndir)]
            outs = [glassnet.cat([p[0] for p in per], -1)]
            outs += [glassnet.stack([p[j] for p in per]) for j in range(1, len(per[0]))]
        loss = sum((o * glassnet.tensor(g)).sum() for o, g in zip(outs, v))
        loss.backward()  # type: ignore[union-attr]
        leaves = [xg, *sg, *(t for w in wg for t in w if t is not None)]
        return [o.data for o in outs] + [t.grad.data for t in leaves]  # type: ignore[union-attr]

    for a, b in zip(grads(True), grads(False)):
        assert_close(a, b)


# ---------------------------------------------------------------------------- finite differences
@pytest.mark.parametrize(
    "kind, opts",
    [
        ("lstm", {"bidirectional": True, "lengths": [3, 1]}),
        ("lstm", {"proj": 2, "resets": True}),
        ("gru", {"bidirectional": True, "lengths": [2, 3]}),
        ("gru", {"resets": True}),
        ("rnn_tanh", {"bidirectional": True, "lengths": [1, 3]}),
        ("rnn_relu", {"resets": True}),
    ],
)
def test_gradcheck(kind: str, opts: dict[str, Any]) -> None:
    T, N, D, H = 3, 2, 2, 3
    r = np.random.default_rng(5)
    ndir = 2 if opts.get("bidirectional") else 1
    P = opts.get("proj", 0)
    ws = [random_weights(kind, D, H, r, P=P) for _ in range(ndir)]
    flat = [a for w in ws for a in w if a is not None]
    per = len([a for a in ws[0] if a is not None])
    resets = (
        np.array([[False, False], [True, False], [False, True]]) if opts.get("resets") else None
    )
    arrays = [r.standard_normal((T, N, D)), r.standard_normal((ndir, N, P or H))]
    if kind == "lstm":
        arrays.append(r.standard_normal((ndir, N, H)))

    def f(x: Any, *rest: Any) -> list[Any]:
        ns = 2 if kind == "lstm" else 1
        states, params = list(rest[:ns]), list(rest[ns:])
        groups = []
        for d in range(ndir):
            it = iter(params[d * per : (d + 1) * per])
            groups.append([None if a is None else next(it) for a in ws[d]])
        fn = {"lstm": F.lstm, "gru": F.gru}.get(kind, F.rnn)
        kw: dict[str, Any] = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
        hx = tuple(states) if kind == "lstm" else states[0]
        y, s = fn(x, hx, groups, bidirectional=ndir == 2, lengths=opts.get("lengths"),
                  resets=resets, **kw)  # fmt: skip
        return [y, *(s if isinstance(s, tuple) else (s,))]

    if kind == "rnn_relu":
        arrays[0] = np.abs(arrays[0])  # stay away from relu's kink
    check_grad(f, *arrays, *flat)


# ---------------------------------------------------------------------------- truncation
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_truncated_backward_equals_torch_detach(kind: str) -> None:
    """bptt_steps=k: torch runs the first T - k steps without a graph, then the last k."""
    T, N, D, H, k = 9, 2, 3, 4, 4
    r = np.random.default_rng(7)
    name = {"lstm": "LSTM", "gru": "GRU"}.get(kind, "RNN")
    ours = getattr(glassnet.nn, name)(D, H, rng=np.random.default_rng(1)).double()
    ref = getattr(torch.nn, name)(D, H).double()
    ref.load_state_dict({a: torch.from_numpy(b) for a, b in ours.state_dict().items()})
    x = r.standard_normal((T, N, D))
    xg = glassnet.tensor(x, requires_grad=True)
    y, s = ours(xg, bptt_steps=k)
    outs = [y, *(s if isinstance(s, tuple) else (s,))]
    vs = [r.standard_normal(o.shape) for o in outs]
    sum((o * glassnet.tensor(v)).sum() for o, v in zip(outs, vs)).backward()  # type: ignore[union-attr]
    xt = torch.tensor(x, requires_grad=True)
    with torch.no_grad():
        y_early, s_early = ref(xt[: T - k])
    y_late, s_late = ref(xt[T - k :], s_early)
    outs_t = [torch.cat([y_early, y_late]), *(s_late if isinstance(s_late, tuple) else (s_late,))]
    for a, b in zip(outs, outs_t):
        assert_close(a, b)  # truncation changes nothing in the forward pass
    loss_t = (y_late * torch.from_numpy(vs[0][T - k :])).sum()
    loss_t = loss_t + sum((o * torch.from_numpy(v)).sum() for o, v in zip(outs_t[1:], vs[1:]))
    loss_t.backward()
    assert not np.any(xg.grad.data[: T - k])
    assert_close(xg.grad.data[T - k :], xt.grad[T - k :])
    tp = dict(ref.named_parameters())
    for n, p in ours.named_parameters():
        assert_close(p.grad, tp[n].grad)


def test_truncation_keeps_only_the_last_steps() -> None:
    x = glassnet.tensor(np.ones((50, 2, 3)))
    w = [
        glassnet.tensor(a, requires_grad=True)
        for a in random_weights("lstm", 3, 4, np.random.default_rng(0))[:4]
    ]
    y, _ = F.lstm(x, None, [w], bptt_steps=5)
    saved = y.creator.saved[0]
    assert saved["G"].shape[0] == 5 and saved["S"].shape[0] == 6


# ---------------------------------------------------------------------------- resets and lengths
def test_reset_restarts_the_sample() -> None:
    r = np.random.default_rng(2)
    lstm = glassnet.nn.LSTM(2, 3, rng=np.random.default_rng(0)).double()
    x = r.standard_normal((8, 2, 2))
    resets = np.zeros((8, 2), bool)
    resets[5, 1] = True
    y, _ = lstm(glassnet.tensor(x), resets=resets)
    y_fresh, _ = lstm(glassnet.tensor(x[5:, 1:]))
    y_plain, _ = lstm(glassnet.tensor(x))
    assert_close(y.data[5:, 1], y_fresh.data[:, 0])
    assert_close(y.data[:, 0], y_plain.data[:, 0])
    assert_close(y.data[:5, 1], y_plain.data[:5, 1])


# ---------------------------------------------------------------------------- gradient hook
def test_hook_reports_dl_dh_t_as_torch() -> None:
    """grad_h of every event equals dL/dh_t from a torch step loop with retain_grad."""
    T, N, D, H = 5, 2, 3, 4
    r = np.random.default_rng(4)
    lstm = glassnet.nn.LSTM(D, H, rng=np.random.default_rng(0)).double()
    ref = torch.nn.LSTM(D, H).double()
    ref.load_state_dict({a: torch.from_numpy(b) for a, b in lstm.state_dict().items()})
    x = r.standard_normal((T, N, D))
    v = r.standard_normal((T, N, H))
    events: list[StepGrad] = []
    lstm.register_bptt_hook(lambda m, e: events.append(e))
    y, _ = lstm(glassnet.tensor(x))
    (y * glassnet.tensor(v)).sum().backward()
    # the torch step written out, so that h_t is a function of c_t (dL/dc_t is the total)
    w = dict(ref.named_parameters())
    h = c = torch.zeros(N, H, dtype=torch.float64)
    hs, cs = [], []
    for t in range(T):
        a = torch.from_numpy(x[t]) @ w["weight_ih_l0"].T + h @ w["weight_hh_l0"].T
        a = a + w["bias_ih_l0"] + w["bias_hh_l0"]
        s = a.sigmoid()
        i, f, g, o = s[:, :H], s[:, H : 2 * H], a[:, 2 * H : 3 * H].tanh(), s[:, 3 * H :]
        c = f * c + i * g
        h = o * c.tanh()
        h.retain_grad()
        c.retain_grad()
        hs.append(h)
        cs.append(c)
    (torch.stack(hs) * torch.from_numpy(v)).sum().backward()
    assert [e.t for e in events] == list(range(T - 1, -1, -1))
    for e in events:
        assert_close(e.grad_h, hs[e.t].grad)
        assert_close(e.grad_c, cs[e.t].grad)


def test_hook_with_unsorted_lengths_and_both_directions() -> None:
    gru = glassnet.nn.GRU(2, 3, bidirectional=True, rng=np.random.default_rng(0)).double()
    r = np.random.default_rng(1)
    T, lengths = 5, [2, 5, 3]
    x = r.standard_normal((T, 3, 2))
    v = r.standard_normal((T, 3, 6))
    mask = (np.arange(T)[:, None] < np.array(lengths))[..., None]
    events: dict[tuple[int, int], np.ndarray] = {}
    gru.register_bptt_hook(lambda m, e: events.__setitem__((e.direction, e.t), e.grad_h))
    y, _ = gru(glassnet.tensor(x), lengths=lengths)
    (y * glassnet.tensor(v)).sum().backward()
    assert sorted(events) == [(d, t) for d in (0, 1) for t in range(T)]
    for n, L in enumerate(lengths):
        solo: dict[tuple[int, int], np.ndarray] = {}
        g1 = glassnet.nn.GRU(2, 3, bidirectional=True).double()
        g1.load_state_dict(gru.state_dict())
        g1.register_bptt_hook(
            lambda m, e, solo=solo: solo.__setitem__((e.direction, e.t), e.grad_h)
        )
        y1, _ = g1(glassnet.tensor(x[:L, n : n + 1]))
        (y1 * glassnet.tensor((v * mask)[:L, n : n + 1])).sum().backward()
        for (d, t), gh in events.items():
            if t < L:
                assert_close(gh[n], solo[(d, t)][0])
            else:
                assert not np.any(gh[n])


def test_no_hook_means_no_events() -> None:
    calls: list[Any] = []
    w = [
        glassnet.tensor(a, requires_grad=True)
        for a in random_weights("gru", 2, 3, np.random.default_rng(0))
    ]
    y, _ = F.gru(glassnet.ones(4, 1, 2, dtype=np.float64), None, [w], grad_hook=calls.append)
    y.sum().backward()
    assert len(calls) == 4
    y, _ = F.gru(glassnet.ones(4, 1, 2, dtype=np.float64), None, [w])
    assert y.creator.hook is None


# ---------------------------------------------------------------------------- long sequences
def test_backward_through_10000_steps_matches_torch() -> None:
    T, N, D, H = 10_000, 2, 2, 5
    lstm = glassnet.nn.LSTM(D, H, rng=np.random.default_rng(0)).double()
    ref = torch.nn.LSTM(D, H).double()
    ref.load_state_dict({a: torch.from_numpy(b) for a, b in lstm.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((T, N, D))
    xg, xt = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, (h, c) = lstm(xg)
    y_t, (h_t, c_t) = ref(xt)
    assert_close(h, h_t, rtol=1e-9)
    ((y * y).sum() + c.sum()).backward()
    ((y_t * y_t).sum() + c_t.sum()).backward()
    assert_close(xg.grad, xt.grad, rtol=1e-9, atol=1e-11)
    assert_close(lstm.weight_hh_l0.grad, ref.weight_hh_l0.grad, rtol=1e-9)


# ---------------------------------------------------------------------------- saturated gates
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ragged", [False, True])
def test_saturated_lstm_gates_match_torch(dtype: str, ragged: bool) -> None:
    """Pre-activations of +-1e4 drive ``exp`` past its range (inf): the gates must come out as
    exact 0 / 1 (and g as +-1) like PyTorch's, with no overflow warning (warnings are errors
    here) and no NaN, on the dense and the masked (ragged) step loops."""
    T, N, D, H = 6, 3, 4, 5
    lstm = glassnet.nn.LSTM(D, H, rng=np.random.default_rng(0)).to(dtype)
    ref = torch.nn.LSTM(D, H).to(getattr(torch, dtype))
    ref.load_state_dict({a: torch.from_numpy(b) for a, b in lstm.state_dict().items()})
    x = (np.random.default_rng(1).standard_normal((T, N, D)) * 1e4).astype(dtype)
    lengths = [6, 4, 2] if ragged else None
    xg, xt = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if lengths is None:
        (y, (h, c)), (y_t, (h_t, c_t)) = lstm(xg), ref(xt)
        y_, yt_ = y, y_t
    else:
        pg = glassnet.nn.utils.rnn.pack_padded_sequence(xg, lengths)
        pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths)
        (y, (h, c)), (y_t, (h_t, c_t)) = lstm(pg), ref(pt)
        y_, yt_ = y.data, y_t.data
    assert np.isfinite(y_.numpy()).all() and np.isfinite(c.numpy()).all()
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_close(y_, yt_, rtol=tol, atol=tol)
    assert_close(h, h_t, rtol=tol, atol=tol)
    assert_close(c, c_t, rtol=tol, atol=tol)
    (y_.sum() + c.sum()).backward()
    (yt_.sum() + c_t.sum()).backward()
    assert_close(xg.grad, xt.grad, rtol=tol, atol=tol)
    assert_close(lstm.weight_hh_l0.grad, ref.weight_hh_l0.grad, rtol=tol, atol=tol)
