"""``glassnet tour``: the whole library on bundled data, offline, in a few minutes.

1. Convolution as mathematics: commutativity, the continuous Gaussian identity.
2. Convolution as a layer: edge filters on digit images, translation equivariance.
3. A LeNet-style CNN trained on the digits.
4. Forecasting sunspots: tau chosen by validation, then AR(tau) against latent-AR models.
5. Gradient flow through time in RNN, LSTM and GRU, measured in a real backward pass.
6. A character LSTM on Shakespeare's sonnets, with a generated sample.

Every number printed is measured in the run; ``report.html`` in the output directory gathers the
tables and figures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import data as D
from . import manual_seed, nn, signal, viz
from .autograd import grad_mode
from .autograd.tensor import Tensor
from .models import CharLM, LeNet, LinearAR, RNNForecaster
from .nn import functional as F
from .optim import Adam
from .progress import Progress
from .seq import lm as LM
from .seq.forecast import fit_rnn_forecaster, one_step_forecast, rmse
from .train import Trainer, accuracy


class Tour:
    """Runs the sections, prints a summary line per result, and builds the report."""

    def __init__(
        self, out: Path, *, quick: bool = False, seed: int = 0, echo: Callable[[str], Any] = print
    ):
        self.out, self.quick, self.seed, self.echo = Path(out), quick, seed, echo
        self.fig_dir = self.out / "figures"
        self.report = viz.Report("glassnet tour", subtitle="convolution and recurrence, measured")
        self.summary: list[tuple[str, str]] = []
        # live progress in every long section: a bar on a terminal, a widget in Jupyter, plain
        # lines in a pipe (see glassnet.progress)
        self.progress = Progress("auto")

    def fig(self, name: str) -> Path:
        return self.fig_dir / f"{name}.png"

    def note(self, key: str, value: str) -> None:
        self.summary.append((key, value))
        self.echo(f"  {key}: {value}")

    def run(self) -> Path:
        start = time.perf_counter()
        sections = [
            ("1. Convolution as mathematics", self.convolution_math),
            ("2. Convolution as a layer", self.convolution_layer),
            ("3. A CNN on handwritten digits", self.cnn),
            ("4. Forecasting: the choice of tau, AR and latent AR", self.forecasting),
            ("5. Gradient flow through time", self.gradient_flow),
            ("6. A character LSTM on the sonnets", self.char_lm),
        ]
        for title, fn in sections:
            t0 = time.perf_counter()
            self.echo(title)
            self.report.add_heading(title)
            fn()
            self.echo(f"  ({time.perf_counter() - t0:.1f} s)")
        total = time.perf_counter() - start
        self.report.add_heading("Summary")
        self.report.add_table([{"result": k, "value": v} for k, v in self.summary])
        self.report.add_text(f"Total wall time: {total:.1f} s.")
        path = self.report.write(self.out)
        self.echo(f"report: {path} ({total:.0f} s)")
        return path

    # ------------------------------------------------------------------------- 1
    def convolution_math(self) -> None:
        r = np.random.default_rng(self.seed)
        f, g = r.standard_normal(40), r.standard_normal(9)
        comm = float(np.abs(signal.convolve(f, g) - signal.convolve(g, f)).max())
        ref = float(np.abs(signal.convolve(f, g) - np.convolve(f, g)).max())
        self.note("convolve(f, g) - convolve(g, f)", f"max |difference| {comm:.1e} (commutative)")
        self.note("glassnet.signal vs numpy.convolve", f"max |difference| {ref:.1e}")

        def gauss(var: float) -> Callable[[np.ndarray], np.ndarray]:
            return lambda x: np.exp(-(x**2) / (2 * var)) / math.sqrt(2 * math.pi * var)

        conv = signal.convolve_continuous(
            gauss(1.0), gauss(0.5), (-10, 10), 0.05, out_range=(-6, 6)
        )
        err = float(np.abs(conv.values - gauss(1.5)(conv.x)).max())
        self.note("N(0,1) * N(0,0.5) vs N(0,1.5)", f"max |error| {err:.1e} on a grid of step 0.05")
        self.report.add_text(
            "The discrete convolution `[f*g](i) = sum_a f(a) g(i-a)` flips the kernel and is "
            "commutative; the continuous one `[f*g](x) = integral f(z) g(x-z) dz` of two Gaussians "
            "is a Gaussian whose variances add."
        )
        box = np.where(np.abs(np.linspace(-3, 3, 121)) < 1, 1.0, 0.0)
        tri = signal.convolve(box, box, mode="same") * (6 / 120)
        fig = viz.plot_signal_convolution(
            box,
            box,
            tri,
            self.fig("convolution_math"),
            title="A box convolved with itself is a triangle",
        )
        self.report.add_figure(fig, "f, g and f*g: sliding one function across the other")

    # ------------------------------------------------------------------------- 2
    def convolution_layer(self) -> None:
        digits = D.load_digits(normalize=True)
        x = Tensor(digits.images[:4, None].astype(np.float32))  # (4, 1, 8, 8)
        sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
        kernels = np.stack(
            [sobel, sobel.T, np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)]
        )
        w = Tensor(kernels[:, None])  # (3, 1, 3, 3): three output channels
        y = F.conv2d(x, w, padding=1)  # (4, 3, 8, 8)
        shifted = F.conv2d(Tensor(np.roll(x.data, 2, axis=3)), w, padding=1)
        inner = np.abs(np.roll(y.data, 2, axis=3)[..., 3:-3] - shifted.data[..., 3:-3]).max()
        self.note(
            "translation equivariance",
            f"shift input by 2 px: output shifts, max |diff| {inner:.1e} away from borders",
        )
        maps = np.concatenate([x.data[0], y.data[0]])  # (4, 8, 8)
        fig = viz.plot_feature_maps(
            maps, self.fig("edge_filters"), title="digit, Sobel x, Sobel y, Laplacian"
        )
        self.report.add_figure(
            fig, "Three hand-made 3x3 kernels slid over a digit (one conv2d call)"
        )

    # ------------------------------------------------------------------------- 3
    def cnn(self) -> None:
        from .experiments import stratified_split

        digits = D.load_digits(normalize=True)
        images = digits.images[:, None].astype(np.float32)
        tr, te = stratified_split(digits.labels, 0.2, rng=np.random.default_rng(self.seed))
        manual_seed(self.seed)
        model = LeNet(image_size=8, channels=(16, 32), hidden=(64,), batch_norm=True)
        loader = D.DataLoader(
            D.TensorDataset(images[tr], digits.labels[tr]),
            32,
            shuffle=True,
            rng=np.random.default_rng(self.seed),
        )
        test = D.DataLoader(D.TensorDataset(images[te], digits.labels[te]), 512)
        trainer = Trainer(
            model,
            nn.CrossEntropyLoss(),
            Adam(model.parameters(), lr=3e-3),
            metrics={"acc": accuracy},
            progress=Progress("summary", file=self.progress.file),  # a line per (short) epoch
        )
        t0 = time.perf_counter()
        epochs = 2 if self.quick else 20
        hist = trainer.fit(loader, epochs, test)
        secs = time.perf_counter() - t0
        self.note(
            "LeNet on 8x8 digits",
            f"held-out accuracy {hist['val_acc'][-1]:.2%} on {len(te)} images after {epochs} "
            f"epochs ({secs:.0f} s)",
        )
        self.report.add_figure(
            viz.plot_training_curves(hist, self.fig("cnn_curves"), title="LeNet on digits"),
            "Loss and accuracy per epoch",
        )
        self.report.add_figure(
            viz.plot_filters(model.features[0].weight.data, self.fig("cnn_filters")),
            "The 16 learned 3x3 kernels of the first layer",
        )
        with grad_mode.no_grad():
            fmap = model.features[:2](Tensor(images[te[:1]])).data[0]
            preds = model(Tensor(images[te[:16]])).data.argmax(1)
        self.report.add_figure(
            viz.plot_feature_maps(
                fmap, self.fig("cnn_feature_maps"), title="first-layer feature maps"
            ),
            "What the first layer sees in one test digit",
        )
        self.report.add_figure(
            viz.plot_images(
                images[te[:16], 0], digits.labels[te[:16]], self.fig("cnn_predictions"), preds=preds
            ),
            "Predictions on held-out digits",
        )

    # ------------------------------------------------------------------------- 4
    def forecasting(self) -> None:
        from .experiments.tau import plot_tau_lab, tau_choice, tau_lab

        # the window length is chosen on validation years inside the training part
        lab = tau_lab("sunspots", models=("linear AR",)) + tau_lab("co2", models=("linear AR",))
        for c in tau_choice(lab):
            self.note(
                f"{c['series']}: tau chosen by validation",
                f"{c['chosen tau (validation)']} (test RMSE {c['test RMSE (chosen)']:.3g}; "
                f"tau=1: {c['test RMSE (tau=1)']:.3g}; best on test: tau="
                f"{c['best tau on test']})",
            )
        for path in plot_tau_lab(lab, self.fig_dir):
            self.report.add_figure(
                path,
                "Linear AR(tau): RMSE on the validation years (used to choose tau) and on the "
                "test years (never used) against tau",
            )
        tau = next(r["tau"] for r in lab if r["series"] == "sunspots" and r["chosen"])
        s = D.load_sunspots()
        values = s.values.astype(np.float64)
        n_train = round(0.8 * len(values))
        scaler = D.Standardizer().fit(values[:n_train])
        z = scaler.transform(values)
        ar = LinearAR(tau, dtype=np.float64).fit_least_squares(z[:n_train])
        preds = {
            f"AR({tau})": np.asarray(
                scaler.inverse_transform(one_step_forecast(ar, z, start=n_train))
            )
        }
        for cell in ("lstm", "gru"):
            manual_seed(self.seed)
            model = RNNForecaster(cell, hidden_size=32)
            fit_rnn_forecaster(
                model,
                z[:n_train],
                epochs=5 if self.quick else 60,
                rng=np.random.default_rng(self.seed),
                progress=self.progress,
                desc=f"{cell.upper()} on sunspots",
            )
            preds[cell.upper()] = np.asarray(
                scaler.inverse_transform(one_step_forecast(model, z, start=n_train))
            )
        target = values[n_train:]
        rows = [{"model": "persistence", "RMSE": rmse(values[n_train - 1 : -1], target)}]
        rows += [{"model": k, "RMSE": rmse(v, target)} for k, v in preds.items()]
        self.report.add_table(rows)
        for r in rows:
            self.note(
                f"sunspots RMSE, {r['model']}",
                f"{r['RMSE']:.1f} (last {len(target)} years held out)",
            )
        curves = {k: np.concatenate([np.full(n_train, np.nan), v]) for k, v in preds.items()}
        fig = viz.plot_forecast(
            s.years,
            values,
            curves,
            self.fig("sunspots_forecast"),
            split_index=n_train,
            title="One-step-ahead forecasts of yearly sunspots",
        )
        self.report.add_figure(
            fig, "Training years left of the line; the shaded years were never seen"
        )

    # ------------------------------------------------------------------------- 5
    def gradient_flow(self) -> None:
        T, H = (20, 16) if self.quick else (60, 32)
        r = np.random.default_rng(self.seed)
        x = Tensor(r.standard_normal((T, 4, 8)).astype(np.float32))
        curves: dict[str, np.ndarray] = {}
        for name, cls in (("RNN", nn.RNN), ("LSTM", nn.LSTM), ("GRU", nn.GRU)):
            manual_seed(self.seed)
            layer = cls(8, H)
            norms = np.zeros(T)

            def hook(module: Any, event: Any, norms: np.ndarray = norms) -> None:
                norms[event.t] = float(np.linalg.norm(event.grad_h))

            handle = layer.register_bptt_hook(hook)
            out, _ = layer(x)
            out[-1].sum().backward()  # the loss reads only the last step
            handle.remove()
            curves[name] = norms[::-1] / norms[-1]  # index k = distance from the last step
            self.note(
                f"{name}: ||dL/dh_(T-k)|| / ||dL/dh_T|| at k = {T - 1}", f"{curves[name][-1]:.1e}"
            )
        fig = viz.plot_gradient_norms(
            curves,
            self.fig("gradient_flow"),
            title=f"Gradient reaching h_(T-k) from a loss at step T (T={T}, at initialisation)",
        )
        ratios = ", ".join(f"{k} {v[-1]:.1e}" for k, v in curves.items())
        self.report.add_figure(
            fig,
            "Each curve is ||dL/dh_(T-k)|| / ||dL/dh_T||, measured by a hook inside the fused "
            "BPTT backward; it carries the product of Jacobians dh_j/dh_(j-1) (the reverse-time "
            "loops are written out in glassnet.ops.reference). "
            f"At k = {T - 1}: {ratios}.",
        )

    # ------------------------------------------------------------------------- 6
    def char_lm(self) -> None:
        text = D.load_shakespeare("sonnets")
        if self.quick:
            text = text[:20_000]
        n_val = len(text) // 10
        train_text, val_text = text[:-n_val], text[-n_val:]
        vocab = D.CharVocab(text)
        ids = vocab.encode(train_text)
        manual_seed(self.seed)
        hidden, steps, batch = (32, 32, 16) if self.quick else (192, 64, 32)
        model = CharLM(len(vocab), embedding_dim=32, hidden_size=hidden)
        opt = Adam(model.parameters(), lr=3e-3)
        epochs = 1 if self.quick else 8
        rng = np.random.default_rng(self.seed)
        t0 = time.perf_counter()
        curves: dict[str, list[float]] = {"loss": [], "val_loss": []}  # nats per character
        for e in range(epochs):  # truncated BPTT, state carried (detached) across batches
            curves["loss"].append(
                LM.train_lm_epoch(
                    model,
                    ids,
                    opt,
                    batch_size=batch,
                    num_steps=steps,
                    rng=rng,
                    progress=self.progress,
                    desc=f"char LSTM epoch {e + 1}/{epochs}",
                )
            )
            curves["val_loss"].append(math.log(LM.perplexity(model, val_text, vocab=vocab)))
        secs = time.perf_counter() - t0
        ppl = math.exp(curves["val_loss"][-1])
        uni = LM.unigram_perplexity(train_text, val_text, vocab=vocab)
        sample = LM.sample(
            model, vocab, "Shall I", 240, temperature=0.7, rng=np.random.default_rng(self.seed)
        )
        self.note(
            "char LSTM validation perplexity",
            f"{ppl:.2f} vs unigram {uni:.2f} ({secs:.0f} s of training, {epochs} epochs)",
        )
        self.report.add_text(
            f"A {hidden}-unit LSTM read the sonnets in streams of {steps} characters "
            "(truncated BPTT, "
            f"state carried across batches). Validation perplexity {ppl:.2f}; "
            f"a unigram model scores {uni:.2f}."
        )
        fig = viz.plot_training_curves(
            curves,
            self.fig("charlm_curves"),
            title="Char LSTM on the sonnets",
        )
        self.report.add_figure(
            fig,
            "Training loss (mean over each epoch's batches) and validation loss (log of the "
            "validation perplexity) in nats per character",
        )
        self.report.add_code(sample)
        self.echo("  sample:\n" + "\n".join("    " + line for line in sample.splitlines()))


def run_tour(out: str | Path = "runs/tour", *, quick: bool = False, seed: int = 0) -> Path:
    """Run the tour and return the path of ``report.html``."""
    return Tour(Path(out), quick=quick, seed=seed).run()
