"""The seed's fourteen claims, each with a check that asserts it (``glassnet verify``).

Every claim is a :class:`Claim`: its statement, what its check asserts, the tests that assert it
in CI, and ``run(results)``, which raises ``AssertionError`` when the claim fails and returns a
line of evidence when it holds. Checks read the experiment runs of
:class:`glassnet.experiments.verify.Results` (the same runs that regenerate the docs), or make
their own small computation. Where a source ran at its quick size (``glassnet verify --quick``)
the check asserts what that size can show (said in ``quick`` below); at full size it asserts the
figure the docs give.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..ops import conv as C
from ..signal import convolve, convolve_continuous, correlate


@dataclass(frozen=True)
class Claim:
    number: int
    claim: str
    check: str  # what ``run`` asserts (full size)
    quick: str  # what it asserts at quick size ("same" when nothing changes)
    tests: tuple[str, ...]  # the CI tests that assert it as well
    run: Callable[[Any], str]


def expect(condition: Any, message: str) -> None:
    """``assert`` that survives ``python -O``: a claim check must be able to fail."""
    if not condition:
        raise AssertionError(message)


def _max(a: Any) -> float:
    return float(np.max(np.abs(a)))


# ----------------------------------------------------------------------------- 1-5: convolution


def _discrete(r: Any) -> str:
    g = np.random.default_rng(1)
    f1, g1 = g.standard_normal(40), g.standard_normal(9)
    f2, g2 = g.standard_normal((12, 10)), g.standard_normal((4, 3))
    defining = np.array(
        [sum(f1[a] * g1[i - a] for a in range(40) if 0 <= i - a < 9) for i in range(48)]
    )  # [f*g](i) = sum_a f(a) g(i - a), term by term
    d_comm = max(
        _max(convolve(f1, g1) - convolve(g1, f1)), _max(convolve(f2, g2) - convolve(g2, f2))
    )
    d_def = _max(convolve(f1, g1) - defining)
    expect(d_comm <= 1e-12, f"f*g - g*f reaches {d_comm:.1e}")
    expect(d_def <= 1e-12, f"convolve differs from the defining sum by {d_def:.1e}")
    return f"max |f*g - g*f| = {d_comm:.1e} (1-d and 2-d); against the defining sum {d_def:.1e}"


def _gaussian(mu: float, var: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.exp(-((x - mu) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)


def _unit_area(p: np.polynomial.Polynomial, lo: float, hi: float) -> np.polynomial.Polynomial:
    antiderivative = p.integ()
    return p / (antiderivative(hi) - antiderivative(lo))


# Two smooth bumps of compact support and unit area, neither symmetric nor a Gaussian (for which
# the trapezoid rule is exact to rounding and would test nothing): f(z) ~ z^5 (1 - z)^5 on [0, 1],
# g(z) ~ (z + 1)^5 (1 - z)^6 on [-1, 1]. Both are C^4 on R (their first four derivatives vanish
# at the ends of the support), so the trapezoid (C^2) and Simpson (C^4) bounds both apply.
_P = np.polynomial.Polynomial
BUMPS = {
    "f": (_unit_area(_P([0, 1]) ** 5 * _P([1, -1]) ** 5, 0.0, 1.0), (0.0, 1.0)),
    "g": (_unit_area(_P([1, 1]) ** 5 * _P([1, -1]) ** 6, -1.0, 1.0), (-1.0, 1.0)),
}


def _bump(poly: np.polynomial.Polynomial, support: tuple[float, float]) -> Callable:
    lo, hi = support
    return lambda z: np.where((z >= lo) & (z <= hi), poly(np.clip(z, lo, hi)), 0.0)


def continuous_commutativity(h: float, rule: str = "trapezoid") -> dict[str, Any]:
    """f*g and g*f of the two :data:`BUMPS` by ``convolve_continuous``, with their stated bounds.

    Each direction integrates over its own first function's support, so the two results are
    different quadratures of the same integral. The bound of ``convolve_continuous`` for f*g at
    x is ``(b - a) h^2 / 12 max_z |phi_x''(z)|`` (trapezoid; Simpson: ``h^4 / 180`` and the fourth
    derivative) with phi_x(z) = f(z) g(x - z); the derivative comes from the Leibniz rule on the
    polynomials, its maximum from 2001 samples of z, times 1.01 for what sampling can miss.
    ``h`` is rounded down to the nearest 1 / (2 m), so that both directions use the same step
    and output grid (an even number of intervals on each support, as Simpson needs).

    Returns:
        ``x`` (the common output grid), ``fg``, ``gf``, ``bound_fg``, ``bound_gf``.
    """
    order = 2 if rule == "trapezoid" else 4
    scale = 12 if rule == "trapezoid" else 180
    h = 1.0 / (2 * math.ceil(1.0 / (2 * h)))  # divides both supports evenly: one common grid
    out: dict[str, Any] = {}
    for first, second in (("f", "g"), ("g", "f")):
        (p1, s1), (p2, s2) = BUMPS[first], BUMPS[second]
        res = convolve_continuous(
            _bump(p1, s1), _bump(p2, s2), s1, h, out_range=(-1.0, 2.0), rule=rule
        )
        z = np.linspace(s1[0], s1[1], 2001)[None, :]  # (1, Z)
        u = res.x[:, None] - z  # (K, Z): the argument of the second function
        deriv = sum(
            math.comb(order, j)
            * p1.deriv(j)(z)
            * (-1) ** (order - j)
            * _bump(p2.deriv(order - j) if order > j else p2, s2)(u)
            for j in range(order + 1)
        )  # d^order/dz^order of p1(z) p2(x - z), (K, Z)
        bound = (s1[1] - s1[0]) * res.h[0] ** order / scale * np.abs(deriv).max(axis=1) * 1.01
        out["x"] = res.x
        out[first + second], out[f"bound_{first}{second}"] = res.values, bound
    return out


def _continuous(r: Any) -> str:
    found = {}
    for rule in ("trapezoid", "simpson"):
        c = continuous_commutativity(0.05, rule)
        diff = np.abs(c["fg"] - c["gf"])
        bound = c["bound_fg"] + c["bound_gf"]
        expect(
            np.all(diff <= bound),
            f"{rule}: |f*g - g*f| exceeds the bound by {(diff - bound).max():.1e}",
        )
        found[rule] = (diff.max(), bound.max())
    f, g, h = (0.3, 0.5), (-0.8, 1.5), 0.2
    half = h * math.ceil(8 * math.sqrt(f[1]) / h)
    gauss = convolve_continuous(
        _gaussian(*f), _gaussian(*g), (f[0] - half, f[0] + half), h, out_range=(-6, 6)
    )
    err = _max(gauss.values - _gaussian(f[0] + g[0], f[1] + g[1])(gauss.x))
    expect(err <= 1e-6, f"N(0.3, 0.5) * N(-0.8, 1.5) differs from N(-0.5, 2) by {err:.1e}")
    return (
        "bumps, h = 0.05: max |f*g - g*f| "
        + ", ".join(f"{d:.1e} ({rule}, bound up to {b:.1e})" for rule, (d, b) in found.items())
        + f"; N(0.3,0.5)*N(-0.8,1.5) = N(-0.5,2) to {err:.1e}"
    )


def _equivariance(r: Any) -> str:
    g = np.random.default_rng(2)
    x, w = g.standard_normal((1, 2, 16, 16)), g.standard_normal((3, 2, 3, 3))
    y = C.conv2d(Tensor(x), Tensor(w), padding=1).data
    ys = C.conv2d(Tensor(np.roll(x, (2, 3), axis=(2, 3))), Tensor(w), padding=1).data
    d = _max(np.roll(y, (2, 3), axis=(2, 3))[..., 4:-4, 4:-4] - ys[..., 4:-4, 4:-4])
    expect(d <= 1e-12, f"shifted input, output differs from the shifted output by {d:.1e}")
    return (
        f"conv2d of an input shifted by (2, 3) px = its output shifted by (2, 3): max diff {d:.1e}"
    )


def _locality(r: Any) -> str:
    from ..diagnostics.receptive import ConvGeometry, input_gradient_support, receptive_field

    g = np.random.default_rng(3)
    stacks = {
        "one layer k3 s1 p1": [ConvGeometry(3, 1, 1)],
        "two layers k3 s2 p1, k3 d2": [ConvGeometry(3, 2, 1), ConvGeometry(3, 1, 0, 2)],
    }
    n, lines = 15, []
    for name, stack in stacks.items():
        ws = [g.standard_normal((2, 2, s.kernel, s.kernel)) for s in stack]

        def model(x: Tensor, ws: list = ws, stack: list = stack) -> Tensor:
            for w, s in zip(ws, stack):
                x = C.conv2d(x, Tensor(w), stride=s.stride, padding=s.padding, dilation=s.dilation)
            return x

        x = g.standard_normal((1, 2, n, n))
        out = model(Tensor(x)).shape[2]
        for i, j in ((0, 0), (out // 2, out - 1)):
            support = input_gradient_support(model, x, (i, j))
            rows, cols = receptive_field(stack, n, i), receptive_field(stack, n, j)
            want = np.zeros((n, n), bool)
            want[np.ix_(sorted(rows), sorted(cols))] = True
            expect(
                (support == want).all(),
                f"{name}, output ({i}, {j}): gradient support "
                f"{np.argwhere(support).tolist()} != receptive field",
            )
        lines.append(f"{name}: {int(want.sum())} inputs")
    return "gradient support = receptive field exactly (" + "; ".join(lines) + ")"


def _textbook_layer(r: Any) -> str:
    g = np.random.default_rng(4)
    x, w = g.standard_normal((1, 3, 9, 8)), g.standard_normal((2, 3, 3, 2))
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = C.conv2d(xt, wt)
    dy = g.standard_normal(y.shape)
    y.backward(Tensor(dy))
    assert xt.grad is not None and wt.grad is not None
    fwd = max(
        _max(y.data[0, f] - sum(correlate(x[0, c], w[f, c], mode="valid") for c in range(3)))
        for f in range(2)
    )
    dx = max(
        _max(xt.grad.data[0, c] - sum(convolve(dy[0, f], w[f, c]) for f in range(2)))
        for c in range(3)
    )
    dw = max(
        _max(wt.grad.data[f, c] - correlate(x[0, c], dy[0, f], mode="valid"))
        for f in range(2)
        for c in range(3)
    )
    worst = max(fwd, dx, dw)
    expect(worst <= 1e-12, f"conv2d differs from the textbook formulas by {worst:.1e}")
    return (
        f"y_f = sum_c correlate(x_c, w_fc) {fwd:.1e}; dx_c = sum_f convolve(dy_f, w_fc) "
        f"{dx:.1e}; dw_fc = correlate(x_c, dy_f) {dw:.1e}"
    )


def _digits(r: Any) -> str:
    res = r["digits"]
    accs = {sd: rows[-1]["test acc"] for sd, rows in res["seeds"].items()}
    need = 0.98 if r.full("digits") else 0.9
    expect(all(a >= need for a in accs.values()), f"held-out accuracy below {need:.0%}: {accs}")
    epochs = next(iter(res["seeds"].values()))[-1]["epoch"]
    return f"held-out accuracy after {epochs} epochs " + ", ".join(
        f"{a:.2%} (seed {s})" for s, a in accs.items()
    )


# ----------------------------------------------------------------------------- 6-11: sequences


def _order(r: Any) -> str:
    acf = r["acf"]
    for true, shuf in zip(acf[::2], acf[1::2]):
        expect(true["r_1"] > 0.8, f"{true['series']}: r_1 = {true['r_1']:.3f}, not > 0.8")
        expect(abs(shuf["r_1"]) < 2 * shuf["2/sqrt(T)"], f"{shuf['series']}: |r_1| too large")
    rows = [x for x in r["order"] if not x["model"].startswith("reference")]
    checked = rows if r.full("order") else [x for x in rows if x["model"].startswith("linear")]
    for x in checked:
        ratio = x["ratio shuffled/true"]
        expect(ratio > 1.5, f"{x['series']} {x['model']}: shuffled/true RMSE only {ratio:.2f}")
    lo = min(x["ratio shuffled/true"] for x in checked)
    return (
        f"r_1 > 0.8 on every series, within 2 x 2/sqrt(T) when shuffled; trained on a shuffled "
        f"copy, {len(checked)} models lose: RMSE x{lo:.1f} or more"
    )


def _ar_fit(r: Any) -> str:
    rows = r["ar"]
    closed = max(x["rel_diff"] for x in rows if "closed form" in x["fit"])
    gd = rows[-1]
    expect(closed < 1e-8, f"closed form differs from OLS by {closed:.1e}")
    expect(gd["rel_diff"] < 1e-3, f"gradient descent ends {gd['rel_diff']:.1e} from OLS")
    first = gd["steps_to_1e-3"]
    return f"closed form vs OLS {closed:.1e}; gradient descent within 1e-3 after {first} steps"


def _tau(r: Any) -> str:
    from .tau import tau_choice

    rows = list(r["tau"]) if r.full("tau") else list(r["tau_linear"])
    lines = []
    for c in tau_choice(rows):
        block = [x for x in rows if (x["series"], x["model"]) == (c["series"], c["model"])]
        taus = [x["tau"] for x in block]
        chosen = c["chosen tau (validation)"]
        if c["model"] == "linear AR":
            expect(
                min(taus) < chosen < max(taus),
                f"{c['series']}: validation chose tau="
                f"{chosen}, an end of the range {taus}: no interior minimum",
            )
        gain = 1 - c["test RMSE (chosen)"] / c["test RMSE (tau=1)"]
        expect(
            gain > 0.2,
            f"{c['series']} {c['model']}: tau={chosen} only {gain:.0%} better "
            "than tau=1 on the test years",
        )
        near = c["test RMSE (chosen)"] / c["test RMSE (best)"]
        expect(
            near < 1.1,
            f"{c['series']} {c['model']}: the validation choice is {near:.2f}x the best test RMSE",
        )
        lines.append(f"{c['series']} {c['model']}: tau={chosen}, {gain:.0%} below tau=1")
    return "; ".join(lines)


def _k_step(r: Any) -> str:
    rows = r["sine"]
    ar = [x["linear AR(4), least squares"] for x in rows]
    expect(all(a < b for a, b in itertools.pairwise(ar)), f"k-step MSE not increasing in k: {ar}")
    expect(0.03 < ar[0] < 0.06, f"one-step MSE {ar[0]:.4f} not near the noise variance 0.04")
    return "noisy sine, AR(4): MSE " + " < ".join(f"{a:.3f} (k={x['k']})" for a, x in zip(ar, rows))


def _latent(r: Any) -> str:
    from .latent import window_crossover

    rows = r["latent"]
    names = [x["forecaster"] for x in rows if x["forecaster"].endswith("forecaster, hidden 16")]
    win, lin = (20, 200) if r.full("latent") else (10, 100)
    lines = []
    for name in names:
        c = window_crossover(rows, name)
        expect(
            c["beats_every_window_up_to"] >= win,
            f"{name} beats the window bound only up to "
            f"tau={c['beats_every_window_up_to']} (claimed {win})",
        )
        expect(
            c["beats_every_linear_ar_up_to"] >= lin,
            f"{name} beats linear AR only up to "
            f"tau={c['beats_every_linear_ar_up_to']} (claimed {lin})",
        )
        lines.append(f"{name.split()[0]} MSE {c['test MSE']:.4f}")
    return (
        f"{', '.join(lines)}: below every linear AR(tau <= {lin}) and the best forecast "
        f"from any window of tau <= {win}"
    )


def _perplexity(r: Any) -> str:
    from ..seq.lm import perplexity

    class Uniform:  # a model whose every prediction is uniform over V = 7 tokens
        vocab_size, training = 7, False

        def __call__(self, ids: Any, state: Any = None) -> tuple[Tensor, Any]:
            return Tensor(np.zeros((*ids.shape, 7))), state

        def eval(self) -> None:
            pass

        def train(self, mode: bool = True) -> None:
            pass

    ids = np.random.default_rng(5).integers(0, 7, 500)
    ppl_uniform = perplexity(Uniform(), ids)
    expect(abs(ppl_uniform - 7) < 1e-9, f"uniform model perplexity {ppl_uniform}, not V = 7")
    names = ("sonnets", "tragedies") if r.full("sonnets") else ("sonnets",)
    lines = [f"uniform over 7 tokens: {ppl_uniform:.6f}"]
    for name in names:
        last = r[name][-1]
        ratio = last["unigram val perplexity"] / last["val perplexity"]
        need = 3.0 if r.full(name) else 1.0
        expect(ratio > need, f"{name}: perplexity only {ratio:.2f}x below the unigram model")
        lines.append(
            f"{name} {last['val perplexity']:.2f} vs unigram {last['unigram val perplexity']:.2f}"
        )
    return "; ".join(lines)


# ----------------------------------------------------------------------------- 12-14: BPTT


def _jacobians(r: Any) -> str:
    ar = r["arithmetic"].tables["arithmetic"]
    expect(all(x["exact"] for x in ar), "the doubling/halving arithmetic is not exact")
    at10 = {x["factor"]: x["grad_h_measured"] for x in ar if x["distance_k"] == 10}
    expect(at10 == {2.0: 1024.0, 0.5: 0.5**10}, f"after ten steps: {at10}")
    rad = r["radius"].tables
    k = max(int(c[len("grad_ratio_k") :]) for c in rad["radius"][0] if c.startswith("grad_ratio_k"))
    far = [x[f"grad_ratio_k{k}"] for x in rad["radius"]]
    expect(far == sorted(far), f"gradient at k={k} not increasing with the radius: {far}")
    expect(far[0] < 1e-10 and far[-1] > 1, f"no vanishing/exploding at the ends: {far}")
    train = {(x["radius"], x["clip"]): x["diverged"] for x in rad["radius_training"]}
    top = max(x["radius"] for x in rad["radius_training"])
    if r.full("radius"):
        expect(
            train[(top, "none")] and not train[(top, 1.0)],
            f"radius {top}: diverged without clipping {train[(top, 'none')]}, with "
            f"{train[(top, 1.0)]}",
        )
    return (
        f"2^10 = 1024 and 2^-10 exact; ratio at k={k} from {far[0]:.1e} (radius 0.5) to "
        f"{far[-1]:.1e} (1.5); radius {top}: SGD diverges without clipping, not with it"
    )


def _gated(r: Any) -> str:
    res = r["gated"]
    lines = []
    for seed, rows in res.items():
        for cell in ("LSTM", "GRU"):
            x = rows[cell]
            expect(
                x["ratio"] < 0.1,
                f"seed {seed}: {cell} ended at {x['ratio']:.3f} x baseline "
                f"after {x['steps']} updates",
            )
        rnn = rows["RNN"]
        expect(
            rnn["best_ratio"] > 0.5,
            f"seed {seed}: the RNN reached {rnn['best_ratio']:.3f} x "
            "baseline: the task no longer separates the cells",
        )
    worst = {c: max(rows[c]["steps"] for rows in res.values()) for c in ("LSTM", "GRU")}
    rnn_best = min(rows["RNN"]["best_ratio"] for rows in res.values())
    lines.append(
        f"adding T=100, seeds {sorted(res)}: LSTM below 10% of the baseline within "
        f"{worst['LSTM']} updates, GRU within {worst['GRU']}; RNN never below "
        f"{rnn_best:.2f} x baseline"
    )
    if r.full("memory"):
        mem = {(x["task"], x["cell"]): x for x in r["memory"].tables["memory"] if x["T"] == 100}
        for cell in ("LSTM", "GRU"):
            expect(
                mem[("adding", cell)]["ratio"] < 0.1,
                f"memory lab: {cell} adding T=100 ratio {mem[('adding', cell)]['ratio']:.3f}",
            )
        expect(mem[("adding", "RNN")]["ratio"] > 0.5, "memory lab: the RNN solved adding T=100")
        lines.append("memory lab at T=100 agrees")
    return "; ".join(lines)


CLAIMS: list[Claim] = [
    Claim(
        1,
        "Discrete convolution is the flipped-kernel sum [f*g](i) = sum_a f(a) g(i-a) and "
        "is commutative",
        "convolve(f, g) = convolve(g, f) (1-d, 2-d) and = the defining sum, to 1e-12",
        "same",
        (
            "tests/signal/test_discrete.py::test_convolution_is_commutative",
            "tests/signal/test_discrete.py::test_matches_numpy_1d",
        ),
        _discrete,
    ),
    Claim(
        2,
        "Continuous convolution [f*g](x) = integral f(z) g(x-z) dz is commutative and "
        "turns two Gaussians into one whose variance is the sum",
        "|f*g - g*f| within the sum of convolve_continuous's stated bounds of the two "
        "(compact bumps, where the rule's error is visible); N(0.3,0.5)*N(-0.8,1.5) = "
        "N(-0.5,2) to 1e-6",
        "same",
        (
            "tests/signal/test_continuous.py::test_continuous_convolution_commutes_within_bound",
            "tests/signal/test_continuous.py::test_gaussian_identity_1d_within_bound",
        ),
        _continuous,
    ),
    Claim(
        3,
        "A convolution layer is translation-equivariant: shift the input, the output shifts",
        "conv2d(shift(x)) = shift(conv2d(x)) away from the borders, to 1e-12",
        "same",
        ("tests/ops/test_conv.py::test_translation_equivariance",),
        _equivariance,
    ),
    Claim(
        4,
        "Convolution is local: an output depends only on its receptive field, which grows "
        "with depth",
        "the input gradient of an output is non-zero exactly on its receptive field, one and "
        "two layers (stride, padding, dilation)",
        "same",
        ("tests/diagnostics/test_receptive.py::test_gradient_support_is_the_receptive_field",),
        _locality,
    ),
    Claim(
        5,
        "A conv layer is the textbook operation: channels summed, gradients are convolutions again",
        "y_f = sum_c correlate(x_c, w_fc); dx = full convolution of dy with w; dw = "
        "correlate(x, dy), to 1e-12",
        "same",
        (
            "tests/ops/test_conv.py::test_multichannel_is_sum_of_single_channel_correlations",
            "tests/ops/test_conv.py::test_gradients_are_full_convolution_and_correlation",
        ),
        _textbook_layer,
    ),
    Claim(
        6,
        "A small CNN learns to read handwritten digits",
        "LeNet on the 8x8 digits: >= 98% held-out accuracy for seeds 0, 1, 2 (40 epochs)",
        ">= 90% after the quick run",
        ("tests/experiments/test_experiments.py::test_digits_quick_run_and_split",),
        _digits,
    ),
    Claim(
        7,
        "Sequence data is not i.i.d.: order carries the information",
        "r_1 > 0.8 for every bundled series, |r_1| < 2 x 2/sqrt(T) when shuffled; AR and LSTM "
        "trained on a shuffled copy have > 1.5x the test RMSE",
        "the same for the AR models (the LSTM rows need the full run)",
        (
            "tests/experiments/test_experiments.py::test_order_matters_for_the_ar_model",
            "tests/experiments/test_experiments.py::"
            "test_acf_table_separates_ordered_and_shuffled_series",
        ),
        _order,
    ),
    Claim(
        8,
        "AR(tau) is linear regression on the last tau values: closed form = OLS, and "
        "gradient descent gets there",
        "closed form vs OLS < 1e-8; gradient descent within 1e-3",
        "same",
        (
            "tests/models/test_ar.py::test_least_squares_equals_ols_with_intercept",
            "tests/models/test_ar.py::test_gradient_descent_reaches_least_squares",
        ),
        _ar_fit,
    ),
    Claim(
        9,
        "The choice of tau matters",
        "tau chosen on a validation split inside the training years: an interior minimum "
        "(linear AR), > 20% below tau=1 on the test years and within 10% of the best tau, "
        "for linear AR and MLP-AR on sunspots and CO2",
        "the same for linear AR",
        ("tests/experiments/test_tau.py::test_validation_choice_beats_small_windows",),
        _tau,
    ),
    Claim(
        10,
        "k-step-ahead forecasts degrade as k grows",
        "noisy sine, AR(4): MSE strictly increasing over k = 1, 4, 16, 64; one-step MSE "
        "within [0.03, 0.06] (noise variance 0.04)",
        "same",
        ("tests/experiments/test_experiments.py::test_noisy_sine_errors_grow_with_the_horizon",),
        _k_step,
    ),
    Claim(
        11,
        "A latent-AR model's hidden state carries what no affordable window does",
        "on the regime series, GRU and RNN forecasters beat every linear AR(tau <= 200) and the "
        "Bayes bound of any window of tau <= 20",
        "tau <= 100 and <= 10 on the quick series",
        ("tests/experiments/test_latent.py::test_recurrent_forecaster_beats_every_window",),
        _latent,
    ),
    Claim(
        12,
        "A language model is scored by perplexity exp(mean NLL); a character LSTM beats "
        "the unigram model by far",
        "a uniform model has perplexity V exactly; val perplexity > 3x below unigram on "
        "sonnets and tragedies",
        "the uniform identity; quick sonnets model below unigram",
        (
            "tests/seq/test_lm.py::test_uniform_model_has_perplexity_vocab_size",
            "tests/experiments/test_experiments.py::test_char_lm_quick_run",
        ),
        _perplexity,
    ),
    Claim(
        13,
        "BPTT multiplies Jacobians: factors 2 explode (1024 after 10 steps), 1/2 vanish; "
        "clipping stops the explosion",
        "doubling/halving exact through the real backward; gradient at distance 99 grows with "
        "the spectral radius from < 1e-10 to > 1; at radius 1.5 plain SGD diverges without "
        "clipping and not with it",
        "same",
        (
            "tests/diagnostics/test_gradients.py::test_doubling_and_halving_through_the_real_backward",
            "tests/diagnostics/test_experiments.py::test_radius_quick",
        ),
        _jacobians,
    ),
    Claim(
        14,
        "LSTM and GRU fix long-range dependencies that defeat the plain RNN",
        "adding T=100: LSTM and GRU below 10% of the baseline 1/6 within the budget for every "
        "seed of the sweep, the RNN never below 50%; the memory lab agrees at T=100",
        "seed 0 of the same check",
        ("tests/diagnostics/test_memory.py::test_gated_cells_solve_adding_where_the_rnn_fails",),
        _gated,
    ),
]

__all__ = ["BUMPS", "CLAIMS", "Claim", "continuous_commutativity", "expect"]
