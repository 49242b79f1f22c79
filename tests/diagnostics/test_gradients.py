"""Gradient flow diagnostics: PyTorch parity of per-step gradient norms and Jacobian products,
the exact doubling / halving arithmetic through the real backward pass, spectra and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import glassnet
from glassnet import nn
from glassnet.diagnostics import (
    grad_norms_through_time,
    jacobian_product,
    recurrent_spectrum,
    scale_to_spectral_radius,
)
from tests.helpers import assert_close, torch

MODES = ["RNN", "LSTM", "GRU"]
T, N, D, H = 7, 3, 4, 5


def _pair(mode: str, seed: int = 0) -> tuple[Any, Any]:
    ours = getattr(nn, mode)(D, H, rng=np.random.default_rng(seed)).double()
    theirs = getattr(torch.nn, mode)(D, H).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _torch_cell(mode: str, layer: Any) -> Any:
    cell = getattr(torch.nn, mode + "Cell")(D, H).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(layer, name + "_l0"))
    return cell


def _torch_states(mode: str, cell: Any, x: Any, h0: Any) -> list[Any]:
    """States H_{-1}..H_{T-1} of a torch cell run step by step (LSTM: concatenated [h, c])."""
    states = [h0]
    for t in range(x.shape[0]):
        prev = states[-1]
        if mode == "LSTM":
            h, c = cell(x[t], (prev[..., :H], prev[..., H:]))
            states.append(torch.cat([h, c], -1))
        else:
            states.append(cell(x[t], prev))
    return states


@pytest.mark.parametrize("mode", MODES)
def test_grad_norms_match_torch_autograd(mode: str) -> None:
    ours, theirs = _pair(mode)
    r = np.random.default_rng(1)
    x = r.standard_normal((T, N, D))
    w = r.standard_normal((T, N, H))  # the loss reads every step, so dL/dh_t sums two paths
    g = grad_norms_through_time(
        ours, glassnet.tensor(x), lambda o: (o[0] * glassnet.tensor(w)).sum()
    )
    # torch: the same weights in a cell run step by step, retaining every h_t's gradient
    cell = _torch_cell(mode, theirs)
    xt = torch.from_numpy(x)
    hs, cs, h, c = [], [], torch.zeros(N, H, dtype=torch.float64), None
    c = torch.zeros(N, H, dtype=torch.float64)
    for t in range(T):
        if mode == "LSTM":
            h, c = cell(xt[t], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = cell(xt[t], h)
        h.retain_grad()
        hs.append(h)
    y = torch.stack(hs)
    assert_close(y, theirs(xt)[0], 1e-12, 1e-12)  # the step-by-step twin is the layer
    (y * torch.from_numpy(w)).sum().backward()
    want = np.array([float(torch.linalg.norm(hh.grad)) for hh in hs])
    assert_close(g.norms, want, 1e-10, 1e-12)
    if mode == "LSTM":
        want_c = np.array([float(torch.linalg.norm(cc.grad)) for cc in cs])
        assert_close(g.cell_curves[".l0"], want_c, 1e-10, 1e-12)
    assert_close(g.by_distance(), want[::-1], 1e-10, 1e-12)


def test_grad_norms_leave_parameter_grads_alone_and_respect_truncation() -> None:
    rnn = nn.RNN(D, H, rng=np.random.default_rng(0)).double()
    x = glassnet.tensor(np.random.default_rng(2).standard_normal((T, N, D)))
    g = grad_norms_through_time(rnn, x, lambda o: o[0].sum(), bptt_steps=3)
    assert all(p.grad is None for p in rnn.parameters())
    assert (g.norms[: T - 3] == 0).all() and (g.norms[T - 3 :] > 0).all()
    kept = grad_norms_through_time(rnn, x, lambda o: o[0].sum(), keep_grads=True)
    assert rnn.weight_hh_l0.grad is not None
    assert (kept.norms > 0).all()


def test_grad_norms_on_a_model_with_two_layers_and_directions() -> None:
    model = _TwoRNNs()
    x = glassnet.tensor(np.random.default_rng(3).standard_normal((T, N, D)))
    g = grad_norms_through_time(model, x, lambda o: o.sum())
    assert sorted(g.curves) == ["a.l0", "a.l0_reverse", "a.l1", "a.l1_reverse", "b.l0"]
    assert all(c.shape == (T,) and (c > 0).all() for c in g.curves.values())


class _TwoRNNs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.GRU(D, H, num_layers=2, bidirectional=True, rng=np.random.default_rng(0))
        self.b = nn.RNN(2 * H, H, rng=np.random.default_rng(1))
        self.double()

    def forward(self, x: Any) -> Any:
        return self.b(self.a(x)[0])[0]


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_product_matches_torch_autograd(mode: str) -> None:
    ours, theirs = _pair(mode, seed=4)
    r = np.random.default_rng(5)
    x = r.standard_normal((T, N, D))
    S = 2 * H if mode == "LSTM" else H
    h0 = r.standard_normal(S) * 0.5
    n = 1
    jp = jacobian_product(ours, glassnet.tensor(x), h0, batch_index=n)
    cell = _torch_cell(mode, theirs)
    xt = torch.from_numpy(x[:, n : n + 1])
    states = _torch_states(mode, cell, xt, torch.from_numpy(h0)[None])
    assert_close(jp.states, torch.cat(states).detach(), 1e-12, 1e-12)
    for t in range(T):  # each step Jacobian dH_t/dH_{t-1}
        j = torch.autograd.functional.jacobian(
            lambda s, t=t: _torch_states(mode, cell, xt[t : t + 1], s[None])[-1][0],
            states[t][0].detach(),
        )
        assert_close(jp.steps[t], j, 1e-10, 1e-12)
    # the whole product dH_{T-1}/dH_i from torch, run from H_i to the end
    for i in (-1, 2, T - 2):
        j = torch.autograd.functional.jacobian(
            lambda s, i=i: _torch_states(mode, cell, xt[i + 1 :], s[None])[-1][0],
            states[i + 1][0].detach(),
        )
        assert_close(jp.product(T - 1, i), j, 1e-10, 1e-12)
        k = T - 1 - i
        assert jp.norms_vs_distance()[k] == pytest.approx(
            float(torch.linalg.matrix_norm(j, 2)), rel=1e-10
        )


def test_jacobian_product_of_cell_and_batch_first_layer_agree() -> None:
    layer = nn.LSTM(D, H, batch_first=True, rng=np.random.default_rng(0)).double()
    cell = nn.LSTMCell(D, H).double()
    for a, b in (("weight_ih", "weight_ih_l0"), ("weight_hh", "weight_hh_l0"),
                 ("bias_ih", "bias_ih_l0"), ("bias_hh", "bias_hh_l0")):  # fmt: skip
        getattr(cell, a).data[...] = getattr(layer, b).data
    x = np.random.default_rng(6).standard_normal((N, T, D))
    ja = jacobian_product(layer, x, batch_index=2)
    jb = jacobian_product(cell, x.transpose(1, 0, 2), batch_index=2)
    assert_close(ja.steps, jb.steps, 1e-14, 1e-14)
    assert_close(ja.states[1:, :H], layer(glassnet.tensor(x))[0].data[2], 1e-12, 1e-12)


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_doubling_and_halving_through_the_real_backward(factor: float) -> None:
    """ReLU RNN, W_hh = f I, positive states: the BPTT loop multiplies by exactly f per step."""
    steps, width = 11, 3
    rnn = nn.RNN(1, width, nonlinearity="relu", bias=False).double()
    rnn.weight_ih_l0.data[...] = 1.0
    rnn.weight_hh_l0.data[...] = factor * np.eye(width)
    xa = np.zeros((steps, 2, 1))
    xa[0] = 1.0
    x = glassnet.tensor(xa, requires_grad=True)
    seen: dict[int, np.ndarray] = {}
    handle = rnn.register_bptt_hook(lambda m, e: seen.__setitem__(e.t, e.grad_h))
    out, _ = rnn(x)
    out[-1].sum().backward()
    handle.remove()
    for t in range(steps):
        assert (seen[t] == factor ** (steps - 1 - t)).all()  # exact: powers of two
    assert x.grad is not None
    assert (x.grad.data[0] == width * factor ** (steps - 1)).all()
    if factor == 2.0:
        assert seen[0][0, 0] == 1024.0
    g = grad_norms_through_time(rnn, xa, lambda o: o[0][-1].sum())
    assert (g.by_distance() == np.sqrt(2 * width) * factor ** np.arange(steps)).all()
    jn = jacobian_product(rnn, xa).norms_vs_distance()
    assert_close(jn[:steps], factor ** np.arange(steps), 1e-15, 0)


def test_recurrent_spectrum_conditions() -> None:
    r = np.random.default_rng(0)
    w = scale_to_spectral_radius(r.standard_normal((8, 8)), 0.9)
    s = recurrent_spectrum(w)
    assert s.spectral_radius == pytest.approx(0.9)
    assert s.sigma_max == pytest.approx(np.linalg.norm(w, 2))
    assert s.sigma_max >= s.spectral_radius
    # a random matrix at radius 0.9 has sigma_max > 1: vanishing is not guaranteed
    assert s.exploding_necessary == (s.sigma_max > 1) and not s.vanishing_sufficient
    small = recurrent_spectrum(w / s.sigma_max * 0.99)
    assert small.vanishing_sufficient and not small.exploding_necessary
    sig = recurrent_spectrum(w / s.sigma_max * 3.0, "sigmoid")  # gamma 1/4: threshold 4
    assert sig.gamma == 0.25 and sig.vanishing_sufficient
    assert recurrent_spectrum(2 * np.eye(3), 0.5).as_dict()["threshold_1_over_gamma"] == 2.0


def test_sufficient_condition_bounds_the_measured_decay() -> None:
    """With gamma * sigma_max = eta < 1, ||dh_t/dh_{t-k}|| <= eta^k on a real tanh RNN."""
    rnn = nn.RNN(D, H, rng=np.random.default_rng(0)).double()
    w = rnn.weight_hh_l0.data
    rnn.weight_hh_l0.data[...] = w / np.linalg.norm(w, 2) * 0.8
    eta = recurrent_spectrum(rnn.weight_hh_l0).sigma_max
    jn = jacobian_product(
        rnn, np.random.default_rng(1).standard_normal((20, D))
    ).norms_vs_distance()
    assert (jn <= eta ** np.arange(21) * (1 + 1e-12)).all()


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="square"):
        recurrent_spectrum(np.ones((8, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        recurrent_spectrum(np.eye(2), "softplus")
    with pytest.raises(ValueError, match="1-layer"):
        jacobian_product(nn.RNN(2, 3, num_layers=2), np.ones((4, 2)))
    with pytest.raises(TypeError, match="got Linear"):
        jacobian_product(nn.Linear(2, 3), np.ones((4, 2)))
    with pytest.raises(ValueError, match="3 features"):
        jacobian_product(nn.GRU(3, 2), np.ones((4, 2)))
    with pytest.raises(ValueError, match="h0 with 4 values"):
        jacobian_product(nn.LSTM(2, 2), np.ones((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="containing one"):
        grad_norms_through_time(nn.Linear(2, 3), np.ones((4, 2)), lambda o: o.sum())
    with pytest.raises(ValueError, match="scalar Tensor"):
        grad_norms_through_time(nn.RNN(2, 3), glassnet.ones(4, 2), lambda o: o[0])
