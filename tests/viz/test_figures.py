"""Figure functions: each writes a valid, small PNG whose pixels show what was asked for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.colors import to_rgb

import glassnet
from glassnet import viz
from glassnet.viz import training_series

from ._png import count, grid_of, mask, pixels, png_size

C0, C1, C2 = to_rgb("C0"), to_rgb("C1"), to_rgb("C2")


def check_png(path: Path, expected: Path, min_bytes: int = 4000) -> tuple[int, int]:
    """The returned path is the requested one and holds a small, plausible PNG at ~100 dpi."""
    assert Path(path) == expected and expected.is_file()
    size = expected.stat().st_size
    assert min_bytes < size < 300_000, f"{expected.name}: {size} bytes"
    width, height = png_size(expected)
    assert 200 <= width <= 2000 and 150 <= height <= 2000, (width, height)
    leftovers = [p.name for p in expected.parent.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    return width, height


# ----------------------------------------------------------------------------- training curves
def epochs(n: int = 8, val: bool = True) -> list[dict[str, float]]:
    out = []
    for e in range(1, n + 1):
        rec = {"epoch": e, "loss": 1.0 / e, "acc": 1 - 0.5 / e}
        if val:
            rec |= {"val_loss": 1.2 / e + 0.1, "val_acc": 1 - 0.6 / e}
        out.append(rec)
    return out


def test_training_curves_train_and_validation_on_the_same_axes(tmp_path):
    both = viz.plot_training_curves(epochs(), tmp_path / "both.png", title="digits CNN")
    check_png(both, tmp_path / "both.png")
    img = pixels(both)
    assert count(img, C0) > 100 and count(img, C1) > 100  # train (C0) and validation (C1) lines
    only = viz.plot_training_curves(epochs(val=False), tmp_path / "train.png", logy=True)
    img = pixels(only)
    assert count(img, C0) > 100 and count(img, C1) == 0


def test_training_curves_dict_of_lists_with_log_scale(tmp_path):
    history = {"train_loss": [2.0, 1.0, 0.5, 0.2], "val_loss": [2.2, 1.3, 0.9, 0.8]}
    history["perplexity"] = list(np.exp(history["train_loss"]))
    out = viz.plot_training_curves(history, tmp_path / "curves", logy=True)
    check_png(out, tmp_path / "curves.png")  # the missing suffix becomes .png


def test_training_series_grouping_rules():
    panels, x = training_series(
        {
            "epoch": [1, 2, 3],
            "loss": [3, 2, 1],
            "val_loss": [4, 3, 2],
            "train/acc": [0.1, 0.5, 0.9],
            "acc/val": [0.1, 0.4, 0.8],
            "lr": [0.1, 0.1, 0.01],
            "time": [1, 2, 3],
            "note": ["a"] * 3,
        }
    )
    assert x == "epoch"
    assert list(panels) == ["loss", "acc", "lr"]  # loss first, time and text dropped
    assert set(panels["loss"]) == {None, "validation"}
    assert set(panels["acc"]) == {"train", "validation"}
    np.testing.assert_array_equal(panels["loss"]["validation"][0], [1, 2, 3])
    np.testing.assert_array_equal(panels["acc"]["validation"][1], [0.1, 0.4, 0.8])


def test_training_series_per_step_records_with_phases_and_gaps():
    records = [{"epoch": 1, "step": s, "loss": 1.0 / s} for s in range(1, 5)]
    records.append({"epoch": 1, "step": 4, "phase": "val", "loss": 0.9, "acc": 0.7})
    records.append({"epoch": 2, "step": 8, "loss": float("nan"), "acc": None})
    panels, x = training_series(records[:4] + records[5:])
    assert x == "step"  # epoch repeats, so steps are the x axis
    np.testing.assert_array_equal(panels["loss"][None][0], [1, 2, 3, 4])  # NaN dropped
    assert "acc" not in panels  # only None values: nothing to plot
    panels, _ = training_series(records)
    assert set(panels["loss"]) == {None, "validation"} and set(panels["acc"]) == {"validation"}
    np.testing.assert_array_equal(panels["loss"]["validation"][1], [0.9])


@pytest.mark.parametrize(
    ("history", "error", "match"),
    [
        ([], ValueError, "non-empty history"),
        ("loss", TypeError, "dict of lists or a list of dicts"),
        ([1, 2], TypeError, "item 0 is int"),
        ({"epoch": [1, 2]}, ValueError, "no numeric metric"),
        ({"loss": [[1.0, 2.0]]}, ValueError, "1-d array"),
    ],
)
def test_training_curves_errors(tmp_path, history, error, match):
    with pytest.raises(error, match=match):
        viz.plot_training_curves(history, tmp_path / "x.png")


# ----------------------------------------------------------------------------- filters
def test_filters_grid_single_channel_and_diverging_scale_centred_at_zero(tmp_path):
    w = np.zeros((6, 1, 3, 3))
    w[0], w[1], w[5] = 2.0, -1.0, 1.0  # filters 2..4 stay exactly 0
    out = viz.plot_filters(w, tmp_path / "filters.png")
    check_png(out, tmp_path / "filters.png", min_bytes=2000)
    img = pixels(out)[:, :-100]  # left of the colour bar
    cmap = mpl.colormaps["RdBu_r"]
    # centred at 0 with scale ±2: 2 -> top, -1 -> a quarter, 0 -> the middle (white-ish), 1 -> 3/4
    for value, tiles in ((1.0, 1), (0.25, 1), (0.5, 3), (0.75, 1)):
        assert count(img, cmap(value)) > 9 * 16 * tiles, value
    # 6 kernels fill a 2 x 3 grid
    # zero kernels sit at row 0 col 2 and row 1 cols 0-1: one per column, two in the fullest row
    assert grid_of(mask(img, cmap(0.5), tol=2)) == (1, 2)
    tiles = np.logical_or.reduce([mask(img, cmap(v)) for v in (1.0, 0.25, 0.5, 0.75)])
    assert grid_of(tiles) == (2, 3)


def test_filters_multi_channel_rows_are_filters_and_columns_channels(tmp_path):
    w = np.full((5, 3, 4, 4), 1.0)
    out = viz.plot_filters(w, tmp_path / "f.png", max_filters=4)
    img = pixels(out)[:, :-100]
    top = mask(img, mpl.colormaps["RdBu_r"](1.0), tol=2)
    assert grid_of(top) == (4, 3)  # max_filters=4 rows x 3 input channels
    width, height = png_size(out)
    assert height > width / 2  # tall: four rows of three


def test_filters_accepts_3d_and_2d_and_rejects_bad_input(tmp_path):
    w3 = np.random.default_rng(0).normal(size=(4, 5, 5))
    viz.plot_filters(w3, tmp_path / "w3.png")
    viz.plot_filters(glassnet.tensor(w3[0]), tmp_path / "w2.png")  # a glassnet Tensor works too
    with pytest.raises(ValueError, match=r"weights as a 2-d or 3-d or 4-d array, got shape \(5,\)"):
        viz.plot_filters(np.ones(5), tmp_path / "bad.png")
    with pytest.raises(ValueError, match="max_filters as a positive integer"):
        viz.plot_filters(w3, tmp_path / "bad.png", max_filters=0)
    with pytest.raises(ValueError, match="path must end in one of"):
        viz.plot_filters(w3, tmp_path / "bad.xyz")


# ----------------------------------------------------------------------------- feature maps
def test_feature_maps_each_vs_shared_normalisation(tmp_path):
    maps = np.stack([np.full((6, 6), float(i)) for i in range(5)])  # map i is constant i
    cmap = mpl.colormaps["viridis"]
    shared = pixels(viz.plot_feature_maps(maps, tmp_path / "shared.png", normalize="shared"))
    for i in range(5):
        assert count(shared, cmap(i / 4)) > 200, i  # a distinct colour per map
    each = pixels(viz.plot_feature_maps(maps, tmp_path / "each.png"))
    assert count(each, cmap(0.0)) > 5 * 200 and count(each, cmap(1.0)) == 0
    assert grid_of(mask(each, cmap(0.0))) == (2, 3)  # 5 maps in a 2 x 3 grid


def test_feature_maps_batch_of_one_and_errors(tmp_path):
    x = np.random.default_rng(1).normal(size=(1, 8, 12, 12))
    check_png(viz.plot_feature_maps(x, tmp_path / "fm.png"), tmp_path / "fm.png")
    with pytest.raises(ValueError, match=r"batch of one \(1, C, H, W\), got \(2, 8, 12, 12\)"):
        viz.plot_feature_maps(np.ones((2, 8, 12, 12)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="normalize 'each' or 'shared'"):
        viz.plot_feature_maps(x, tmp_path / "x.png", normalize="global")


# ----------------------------------------------------------------------------- images
def test_images_grid_and_right_wrong_colours(tmp_path):
    images = np.zeros((7, 10, 10))  # black squares
    out = viz.plot_images(
        images, [0, 1, 2, 3, 4, 5, 6], tmp_path / "img.png", preds=[0, 1, 2, 3, 4, 5, 9]
    )
    check_png(out, tmp_path / "img.png", min_bytes=2000)
    img = pixels(out)
    assert grid_of(mask(img, (0, 0, 0), tol=0)) == (3, 3)  # 7 images: 3 x 3, two cells empty
    green = count(img, to_rgb("tab:green"), tol=40)
    red = count(img, to_rgb("tab:red"), tol=40)
    assert green > 2 * red > 0  # six right (green titles), one wrong (red)


def test_images_layouts_and_colour(tmp_path):
    rng = np.random.default_rng(2)
    size = png_size(viz.plot_images(rng.random((4, 8, 8)), None, tmp_path / "a.png"))
    assert png_size(viz.plot_images(rng.random((4, 1, 8, 8)), None, tmp_path / "b.png")) == size
    red = np.zeros((3, 3, 8, 8))
    red[:, 0] = 1.0  # NCHW colour: pure red
    out = viz.plot_images(red, ["a", "b", "c"], tmp_path / "c.png", class_names=["x"])
    assert count(pixels(out), (1, 0, 0), tol=0) == 3 * 8 * 8 * 10 * 10  # upsampled x10
    with pytest.raises(ValueError, match=r"one of labels per image \(3\), got 2"):
        viz.plot_images(red, [1, 2], tmp_path / "d.png")
    with pytest.raises(ValueError, match="images as"):
        viz.plot_images(np.ones((2, 5, 8, 8)), None, tmp_path / "d.png")


# ----------------------------------------------------------------------------- forecast
def test_forecast_shades_the_held_out_region(tmp_path):
    t = np.arange(200.0)
    y = np.sin(t / 8)
    ar = np.concatenate([np.full(3, np.nan), y[3:] + 0.1])
    kstep = (t[150:], 0.8 * y[150:])
    out = viz.plot_forecast(
        t, y, {"AR(3)": ar, "10-step": kstep}, tmp_path / "fc.png", split_index=150
    )
    width, height = check_png(out, tmp_path / "fc.png")
    img = pixels(out)
    shade = mask(img[: height // 2], (0.925, 0.925, 0.925), tol=2)  # 15% grey on white
    cols = np.flatnonzero(shade.sum(0) > 50)
    assert cols.size > 0.15 * width
    assert 0.6 * width < cols.min() < 0.8 * width  # starts at 150/200 of the axis
    # the lower panel shows the held-out part alone: t from 145 (a tenth of it before the
    # boundary) to 199, shaded from 150 on, so the shade covers about 49/54 of the axis
    zoom = mask(img[height // 2 :], (0.925, 0.925, 0.925), tol=2)
    cols = np.flatnonzero(zoom.sum(0) > 50)
    ax = out.axes[1]
    assert ax.get_xlim() == pytest.approx((145.1, 199.0))
    assert 0.75 * width < cols.size < 0.95 * width
    assert cols.min() < 0.2 * width
    plain = pixels(viz.plot_forecast(None, y, {}, tmp_path / "plain.png"))
    assert mask(plain, (0.925, 0.925, 0.925), tol=2).sum(0).max() < 50  # no boundary, no shade
    preds = {"AR(3)": ar, "10-step": kstep}
    same = viz.plot_forecast(t, y, preds, tmp_path / "same.png", held_out_start=150.0)
    assert np.array_equal(pixels(same), pixels(out))  # a time value marks the same boundary


def test_forecast_errors(tmp_path):
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="split_index or held_out_start, not both"):
        viz.plot_forecast(None, y, {}, tmp_path / "x.png", 5, held_out_start=5.0)
    with pytest.raises(ValueError, match=r"split_index in \[1, 9\]"):
        viz.plot_forecast(None, y, {}, tmp_path / "x.png", 10)
    with pytest.raises(ValueError, match=r"predictions\['m'\] of length 10 .* got shape \(4,\)"):
        viz.plot_forecast(None, y, {"m": np.ones(4)}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="t and actual of equal length"):
        viz.plot_forecast(np.arange(5), y, {}, tmp_path / "x.png")


# ----------------------------------------------------------------------------- gradient flow
def test_gradient_norms_log_axis_and_zeros(tmp_path):
    k = np.arange(60)
    gru = np.concatenate([0.9 ** k[:40], np.zeros(20)])  # underflowed to exactly 0
    curves = {"RNN": 0.7**k, "LSTM": (k + 1, 0.97**k), "GRU": gru}  # an (x, y) pair too
    out = viz.plot_gradient_norms(curves, tmp_path / "g.png")
    img = pixels(out)
    assert min(count(img, c) for c in (C0, C1, C2)) > 100
    zeros = viz.plot_gradient_norms(np.zeros(10), tmp_path / "z.png")  # nothing positive: linear
    check_png(zeros, tmp_path / "z.png")
    with pytest.raises(ValueError, match=r"norms\['x'\] as an \(x, y\) pair of equal length"):
        viz.plot_gradient_norms({"x": (k, k[:3])}, tmp_path / "bad.png")


def test_gradient_heatmap_log_colours_and_zero_cells(tmp_path):
    m = np.exp(-np.arange(30)[None, :] * np.linspace(0.1, 0.5, 12)[:, None])  # (12, 30)
    m[0, :5] = 0.0  # zeros cannot be placed on a log scale: drawn grey
    out = viz.plot_gradient_heatmap(m, tmp_path / "h.png", steps=np.arange(0, 120, 10))
    img = pixels(out)
    magma = mpl.colormaps["magma"]
    assert count(img, (0.75, 0.75, 0.75), tol=1) > 100  # the zero cells
    assert count(img, magma(1.0), tol=6) > 100 and count(img, magma(0.0), tol=6) > 100
    viz.plot_gradient_heatmap(np.zeros((3, 4)), tmp_path / "z.png")
    with pytest.raises(ValueError, match=r"one step per row of matrix \(12\), got 3"):
        viz.plot_gradient_heatmap(m, tmp_path / "x.png", steps=[1, 2, 3])


# ----------------------------------------------------------------------------- bars, convolution
def test_bar_table_groups_baselines_and_missing_values(tmp_path):
    names = ["adding", "copy", "parity"]
    vals = {"RNN": [0.3, 0.1, 0.5], "LSTM": [0.9, 0.8, 0.5], "GRU": [0.95, np.nan, 0.6]}
    out = viz.plot_bar_table(names, vals, tmp_path / "bars.png", baseline=0.5)
    img = pixels(out)
    assert min(count(img, c, tol=0) for c in (C0, C1, C2)) > 500
    viz.plot_bar_table(names, [1.2, 0.9, 2.5], tmp_path / "b2.png", baseline=[1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"one value per name \(3\) in values\['RNN'\], got 2"):
        viz.plot_bar_table(names, {"RNN": [1, 2]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="baseline as one number or one per name"):
        viz.plot_bar_table(names, [1, 2, 3], tmp_path / "x.png", baseline=[1, 2])


def test_signal_convolution_discrete_continuous_and_2d(tmp_path):
    f, g = [1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 2.0, 1.0]
    out = viz.plot_signal_convolution(f, g, glassnet.signal.convolve(f, g), tmp_path / "d.png")
    check_png(out, tmp_path / "d.png")
    box = lambda x: np.ones_like(x)  # noqa: E731
    r = glassnet.signal.convolve_continuous(box, box, (0, 1), 0.01, support_g=(0, 1))
    xs = np.linspace(0, 1, 101)
    viz.plot_signal_convolution(
        box(xs), box(xs), r.values, tmp_path / "c.png", x_f=xs, x_g=xs, x_conv=r.x
    )
    image = np.random.default_rng(3).random((12, 12))
    kernel = np.array([[1.0, 0.0, -1.0]] * 3)
    out = viz.plot_signal_convolution(
        image, kernel, glassnet.signal.correlate(image, kernel, mode="valid"), tmp_path / "2d.png"
    )
    img = pixels(out)
    rdbu = mpl.colormaps["RdBu_r"]
    assert count(img, rdbu(1.0), tol=2) > 100 and count(img, rdbu(0.0), tol=2) > 100  # the kernel
    with pytest.raises(ValueError, match="all 1-d or all 2-d"):
        viz.plot_signal_convolution(f, kernel, g, tmp_path / "x.png")
    with pytest.raises(ValueError, match="x_conv of length 199, got 101"):
        viz.plot_signal_convolution(xs, xs, np.ones(199), tmp_path / "x.png", x_conv=xs)


# ----------------------------------------------------------------------------- no globals
def test_import_is_light_and_figures_never_touch_pyplot(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        import glassnet
        assert "matplotlib" not in sys.modules, "import glassnet must not load matplotlib"
        import matplotlib
        matplotlib.use("svg")  # a user's own backend choice must survive
        import glassnet.viz
        glassnet.viz.plot_training_curves({{"loss": [1.0, 0.5]}}, {str(tmp_path / "c.png")!r})
        assert "matplotlib.pyplot" not in sys.modules
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert png_size(tmp_path / "c.png")[0] > 0


# ----------------------------------------------------------------------------- returned figures
def _every_figure(path):
    """Each figure function called once, writing to ``path(name)`` (or not, with None)."""
    rng = np.random.default_rng(0)
    y = np.sin(np.arange(60.0) / 4)
    return {
        "curves": lambda: viz.plot_training_curves({"loss": [1.0, 0.5]}, path("curves")),
        "bars": lambda: viz.plot_bar_table(["a", "b"], [1.0, 2.0], path("bars")),
        "filters": lambda: viz.plot_filters(rng.normal(size=(4, 1, 3, 3)), path("filters")),
        "maps": lambda: viz.plot_feature_maps(rng.random((3, 6, 6)), path("maps")),
        "images": lambda: viz.plot_images(rng.random((3, 8, 8)), [0, 1, 2], path("images")),
        "signal": lambda: viz.plot_signal_convolution([1.0], [1.0, 2.0], [1.0, 2.0], path("sig")),
        "forecast": lambda: viz.plot_forecast(None, y, {"m": y}, path("fc"), split_index=40),
        "norms": lambda: viz.plot_gradient_norms(np.exp(-np.arange(8.0)), path("norms")),
        "heatmap": lambda: viz.plot_gradient_heatmap(rng.random((4, 6)), path("heat")),
    }


def test_every_figure_function_returns_the_figure_and_saves_only_when_asked(tmp_path):
    from matplotlib.figure import Figure

    for name, draw in _every_figure(lambda _: None).items():
        fig = draw()
        assert isinstance(fig, Figure) and fig.path is None, name
        assert fig._repr_png_().startswith(b"\x89PNG"), name
        with pytest.raises(TypeError, match="this figure was not saved"):
            os.fspath(fig)
    assert list(tmp_path.iterdir()) == []
    for name, draw in _every_figure(lambda n: tmp_path / f"{n}.png").items():
        fig = draw()
        assert fig.path == Path(fig) == tmp_path / f"{fig.path.stem}.png", name
        assert fig.path.read_bytes().startswith(b"\x89PNG"), name
        # what callers of the old return value (the path) asked still works
        assert (
            fig.exists() and fig.name == fig.path.name and fig.read_bytes() == fig.path.read_bytes()
        )
    unsaved = viz.plot_gradient_norms([1.0, 0.5])
    assert not hasattr(unsaved, "name") and not hasattr(unsaved, "exists")
    assert len(list(tmp_path.iterdir())) == 9
    assert isinstance(fig, viz.Figure)


def _panels(fig):
    """{title: (axes, height in figure fractions)}."""
    return {ax.get_title(): (ax, ax.get_position().height) for ax in fig.axes}


def test_curves_put_the_gradient_norm_in_a_strip_and_a_fixed_lr_in_the_title(tmp_path):
    history = {
        "loss": [2.0, 1.0, 0.5, 0.4, 0.3],
        "val_loss": [2.1, 1.2, 0.8, 0.7, 0.7],
        "acc": [0.5, 0.7, 0.8, 0.85, 0.9],
        "grad_norm": [3.0, 1.0, 0.3, 0.1, 0.05],
        "lr": [0.003] * 5,
        "time": [1.0] * 5,
    }
    fig = viz.plot_training_curves(history, tmp_path / "c.png", title="run")
    panels = _panels(fig)
    assert set(panels) == {"loss", "acc", "grad_norm"}  # no flat lr panel
    assert fig.get_suptitle() == "run  (lr 0.003 throughout)"
    assert panels["grad_norm"][1] < 0.6 * panels["loss"][1]  # a short strip, not a full panel
    assert panels["grad_norm"][0].get_yscale() == "log"
    for ax, _ in panels.values():  # integer epoch ticks only (no 2.5)
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    history["lr"] = [0.003, 0.002, 0.001, 0.0005, 0.0]  # a schedule: now the lr is shown
    panels = _panels(viz.plot_training_curves(history, tmp_path / "d.png", title="run"))
    assert set(panels) == {"loss", "acc", "grad_norm", "lr"}
    assert panels["lr"][1] == pytest.approx(panels["grad_norm"][1])
    one = _panels(viz.plot_training_curves({"loss": [2.0], "lr": [0.1]}, tmp_path / "e.png"))
    ax = one["loss"][0]
    assert [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]] == [1.0]


def test_filters_are_framed_and_spaced_even_when_they_are_zero(tmp_path):
    out = viz.plot_filters(np.zeros((16, 1, 3, 3)), tmp_path / "z.png")  # 16 white kernels
    img = pixels(out)[:, :-100]
    frame = mask(img, (0.35, 0.35, 0.35), tol=2)
    rows, cols = np.flatnonzero(frame.sum(1) > 100), np.flatnonzero(frame.sum(0) > 100)
    # a 4 x 4 grid: 8 horizontal and 8 vertical frame lines, one pixel each
    assert len(rows) == len(cols) == 8
    gaps = np.diff(cols)[1::2]  # from one kernel's right frame to the next one's left frame
    assert np.all(gaps == 7)  # an 8-pixel gap holds both frames and 6 white pixels
