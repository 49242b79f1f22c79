"""Figures for convolution: kernels, feature maps, images with labels, and ``f``, ``g``, ``f*g``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import MplFigure, PathLike, as_array, check_positive_int, figure, finish, grid_shape
from ._tiles import render_tiles


def _rgba(tile: np.ndarray, cmap: Any, norm: Any) -> np.ndarray:
    """Colour-map one 2-d tile to ``(h, w, 4)`` RGBA in [0, 1] (NaN gets the "bad" colour)."""
    return np.asarray(cmap(norm(np.ma.masked_invalid(tile))), dtype=np.float64)


def _finite_range(a: np.ndarray) -> tuple[float, float]:
    finite = a[np.isfinite(a)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def plot_filters(
    weights: Any,
    path: PathLike | None = None,
    title: str = "Convolution filters",
    *,
    max_filters: int = 64,
    max_channels: int = 16,
    cmap: str = "RdBu_r",
) -> MplFigure:
    """Show conv kernels as a grid, on one diverging colour scale centred at 0.

    Red is positive, blue negative, white zero (``RdBu_r``); the scale is ``±max|w|`` over the
    kernels shown, so tiles compare directly. Each kernel has a thin dark frame and white space
    around it, so kernels stay apart even where their edge weights are near zero (white).

    Args:
        weights: ``(F, C, kh, kw)`` (a Conv2d weight), ``(F, kh, kw)`` or one ``(kh, kw)`` kernel.
            With ``C == 1`` the kernels fill a near-square grid (:func:`grid_shape`); otherwise
            each row is a filter and each column an input channel.
        path: where to write the figure.
        title: figure title.
        max_filters, max_channels: at most this many filters (rows) and channels are shown.
        cmap: a diverging matplotlib colormap name.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    import matplotlib as mpl
    from matplotlib.colors import Normalize

    fn = "plot_filters"
    w = as_array(weights, "weights", (2, 3, 4), fn)
    if w.ndim == 2:
        w = w[None, None]  # (1, 1, kh, kw)
    elif w.ndim == 3:
        w = w[:, None]  # (F, 1, kh, kw)
    max_filters = check_positive_int(max_filters, "max_filters", fn)
    max_channels = check_positive_int(max_channels, "max_channels", fn)
    f, c, kh, kw = w.shape
    nf, nc = min(f, max_filters), min(c, max_channels)
    shown = w[:nf, :nc]  # (nf, nc, kh, kw)
    lo, hi = _finite_range(shown)
    vmax = max(abs(lo), abs(hi)) or 1.0
    colors = mpl.colormaps[cmap].with_extremes(bad="0.55")
    norm = Normalize(-vmax, vmax)
    tiles = [_rgba(shown[i, j], colors, norm) for i in range(nf) for j in range(nc)]
    count = f"{nf} of {f}" if f > nf else f"{f}"
    chans = f"{nc} of {c}" if c > nc else f"{c}"
    subtitle = f"{count} filters x {chans} input channel{'s' if c > 1 else ''}, {kh}x{kw}"
    row_labels: list[str] | None = None
    col_labels: list[str] | None = None
    if nc == 1:
        cols = grid_shape(nf)[1]
    else:
        cols = nc
        row_labels = [f"f{i}" for i in range(nf)]
        col_labels = [f"in{j}" for j in range(nc)]
    return render_tiles(
        tiles,
        cols,
        path,
        title=f"{title}\n{subtitle}",
        target=56 if nc == 1 else 36,
        gap=8 if nc == 1 else 5,
        frame_color=(0.35, 0.35, 0.35, 1.0),
        row_labels=row_labels,
        col_labels=col_labels,
        colorbar=(colors, norm, "weight"),
    )


def plot_feature_maps(
    maps: Any,
    path: PathLike | None = None,
    title: str = "Feature maps",
    *,
    max_maps: int = 32,
    cmap: str = "viridis",
    normalize: str = "each",
) -> MplFigure:
    """Show the channels of one activation ``(C, H, W)`` as a grid of images.

    Args:
        maps: ``(C, H, W)``, ``(1, C, H, W)`` (a batch of one) or one ``(H, W)`` map.
        path: where to write the figure.
        title: figure title.
        max_maps: at most this many channels are shown.
        cmap: matplotlib colormap name.
        normalize: ``"each"`` scales every map to its own range (structure is visible in
            each); ``"shared"`` uses one range and a colour bar (magnitudes compare).

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    import matplotlib as mpl
    from matplotlib.colors import Normalize

    fn = "plot_feature_maps"
    m = as_array(maps, "maps", (2, 3, 4), fn)
    if m.ndim == 4:
        if m.shape[0] != 1:
            raise ValueError(
                f"{fn} expected maps as (C, H, W) or a batch of one (1, C, H, W), got {m.shape}"
            )
        m = m[0]
    elif m.ndim == 2:
        m = m[None]
    if normalize not in ("each", "shared"):
        raise ValueError(f"{fn} expected normalize 'each' or 'shared', got {normalize!r}")
    max_maps = check_positive_int(max_maps, "max_maps", fn)
    c = m.shape[0]
    n = min(c, max_maps)
    colors = mpl.colormaps[cmap].with_extremes(bad="0.75")
    shared = Normalize(*_finite_range(m[:n]))
    tiles = [
        _rgba(m[i], colors, shared if normalize == "shared" else Normalize(*_finite_range(m[i])))
        for i in range(n)
    ]
    shown = f"{n} of {c}" if c > n else f"{c}"
    scale = "" if normalize == "shared" else ", each scaled to its own range"
    return render_tiles(
        tiles,
        grid_shape(n)[1],
        path,
        title=f"{title}\n{shown} channels, {m.shape[1]}x{m.shape[2]}{scale}",
        target=72,
        gap=6,
        labels=[f"ch {i}" for i in range(n)],
        colorbar=(colors, shared, "activation") if normalize == "shared" else None,
    )


def _as_images(images: Any, fn: str) -> np.ndarray:
    """(N, H, W), (N, 1|3, H, W) or (N, H, W, 1|3|4) -> (N, H, W) or (N, H, W, 3|4)."""
    x = as_array(images, "images", (3, 4), fn)
    if x.ndim == 4:
        if x.shape[1] in (1, 3):
            x = np.moveaxis(x, 1, -1)  # NCHW -> NHWC
        elif x.shape[-1] not in (1, 3, 4):
            raise ValueError(
                f"{fn} expected images as (N, H, W), (N, 1|3, H, W) or (N, H, W, 1|3|4), "
                f"got {x.shape}"
            )
        if x.shape[-1] == 1:
            x = x[..., 0]
    return x


def plot_images(
    images: Any,
    labels: Sequence[Any] | None,
    path: PathLike | None = None,
    *,
    preds: Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    max_images: int = 32,
    cmap: str = "gray",
) -> MplFigure:
    """Show a grid of images titled with their labels and/or predictions.

    With both ``labels`` and ``preds`` each image is titled ``pred / true``, green when right
    and red when wrong, and the figure title counts the correct ones.

    Args:
        images: ``(N, H, W)`` grey, ``(N, 1, H, W)``/``(N, 3, H, W)`` (NCHW) or
            ``(N, H, W, 3)`` colour images. Grey images are scaled to their own range; colour
            values outside ``[0, 1]`` are rescaled per image.
        labels: true labels (ints or strings), one per image, or None.
        path: where to write the figure.
        preds: predicted labels, one per image, or None.
        class_names: names for integer labels.
        title: figure title (default: a summary of what is shown).
        max_images: at most this many images are shown.
        cmap: colormap for grey images.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    import matplotlib as mpl
    from matplotlib.colors import Normalize

    fn = "plot_images"
    x = _as_images(images, fn)
    max_images = check_positive_int(max_images, "max_images", fn)
    total = x.shape[0]
    for name, seq in (("labels", labels), ("preds", preds)):
        if seq is not None and len(seq) != total:
            raise ValueError(f"{fn} expected one of {name} per image ({total}), got {len(seq)}")
    n = min(total, max_images)

    def name_of(v: Any) -> str:
        if isinstance(v, np.generic):
            v = v.item()
        if class_names is not None and isinstance(v, int) and 0 <= v < len(class_names):
            return str(class_names[v])
        return str(v)

    tiles = []
    colors = mpl.colormaps[cmap]
    for img in x[:n]:
        if img.ndim == 2:
            tiles.append(_rgba(img, colors, Normalize(*_finite_range(img))))
            continue
        lo, hi = _finite_range(img)
        if lo < 0 or hi > 1:
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        rgb = np.clip(np.nan_to_num(img[..., :3]), 0.0, 1.0)
        tiles.append(np.concatenate([rgb, np.ones(rgb.shape[:2] + (1,))], axis=-1))

    tile_labels: list[str] | None = None
    tile_colors: list[str] | None = None
    correct = 0
    if labels is not None and preds is not None:
        pairs = [(name_of(p), name_of(t)) for p, t in zip(preds[:n], labels[:n])]
        tile_labels = [f"{p} / {t}" for p, t in pairs]
        tile_colors = ["tab:green" if p == t else "tab:red" for p, t in pairs]
        correct = sum(p == t for p, t in pairs)
    elif labels is not None:
        tile_labels = [name_of(t) for t in labels[:n]]
    elif preds is not None:
        tile_labels = [f"pred {name_of(p)}" for p in preds[:n]]
    if title is None:
        title = f"{n} of {total} images" if total > n else f"{n} images"
        if labels is not None and preds is not None:
            title += f": {correct}/{n} predicted correctly (pred / true)"
    return render_tiles(
        tiles,
        grid_shape(n)[1],
        path,
        title=title,
        target=84,
        gap=6,
        labels=tile_labels,
        label_colors=tile_colors,
    )


def plot_signal_convolution(
    f: Any,
    g: Any,
    conv: Any,
    path: PathLike | None = None,
    *,
    x_f: Any = None,
    x_g: Any = None,
    x_conv: Any = None,
    names: tuple[str, str, str] = ("f", "g", "f * g"),
    title: str = "Convolution",
) -> MplFigure:
    """Show ``f``, ``g`` and their convolution ``f*g``: the mathematics before the layer.

    1-d signals are drawn in three stacked panels on a shared x axis: as stems against their
    index when no coordinates are given (a discrete ``full`` convolution then lines up with
    ``f`` and ``g``), as curves against ``x_f``/``x_g``/``x_conv`` when they are (e.g. the
    ``grid`` of ``glassnet.signal.convolve_continuous``). 2-d arrays (an image, a kernel and the
    result) are drawn side by side, the kernel and result on diverging scales centred at 0.

    Args:
        f, g, conv: the two operands and the result, all 1-d or all 2-d.
        path: where to write the figure.
        x_f, x_g, x_conv: coordinates of the 1-d samples (optional).
        names: panel titles.
        title: figure title.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    fn = "plot_signal_convolution"
    arrays = [as_array(v, n, (1, 2), fn) for v, n in zip((f, g, conv), ("f", "g", "conv"))]
    dims = {a.ndim for a in arrays}
    if len(dims) != 1:
        raise ValueError(
            f"{fn} expected f, g and conv all 1-d or all 2-d, got shapes "
            f"{[a.shape for a in arrays]}"
        )
    if dims == {2}:
        return _plot_convolution_2d(arrays, path, names, title)
    coords: list[np.ndarray | None] = []
    for arr, xv, name in zip(arrays, (x_f, x_g, x_conv), ("x_f", "x_g", "x_conv")):
        if xv is None:
            coords.append(None)
            continue
        xa = as_array(xv, name, 1, fn)
        if xa.shape != arr.shape:
            raise ValueError(f"{fn} expected {name} of length {arr.shape[0]}, got {xa.shape[0]}")
        coords.append(xa)
    with figure((7.0, 6.0)) as fig:
        axes = fig.subplots(3, 1, sharex=True)
        for ax, arr, xc, name, color in zip(axes, arrays, coords, names, ("C0", "C2", "C3")):
            if xc is None and arr.shape[0] <= 80:
                idx = np.arange(arr.shape[0])
                markers, stems, _ = ax.stem(idx, arr, basefmt=" ")
                markers.set_color(color)
                markers.set_markersize(4)
                stems.set_color(color)
                ax.set_xlabel("index")
            else:
                xs = np.arange(arr.shape[0]) if xc is None else xc
                ax.plot(xs, arr, color=color, linewidth=1.6)
                ax.fill_between(xs, arr, 0.0, color=color, alpha=0.15)
                ax.set_xlabel("x" if xc is not None else "index")
            ax.axhline(0.0, color="0.5", linewidth=0.8)
            ax.set_title(name, loc="left")
            ax.grid(True)
        for ax in axes[:-1]:
            ax.set_xlabel("")
        fig.suptitle(title)
        return finish(fig, path)


def _plot_convolution_2d(
    arrays: list[np.ndarray], path: PathLike | None, names: tuple[str, str, str], title: str
) -> MplFigure:
    """Image, kernel and result side by side (kernel and result centred at 0)."""
    widths = [max(a.shape[1] / a.shape[0], 0.5) for a in arrays]
    with figure((3.2 * len(arrays) + 0.6, 3.4)) as fig:
        axes = fig.subplots(1, 3, width_ratios=widths)
        for k, (ax, arr, name) in enumerate(zip(axes, arrays, names)):
            finite = arr[np.isfinite(arr)]
            if k == 0:
                im = ax.imshow(arr, cmap="gray")
            else:
                vmax = float(np.max(np.abs(finite))) if finite.size else 0.0
                vmax = vmax if vmax > 0 else 1.0
                im = ax.imshow(arr, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_title(f"{name}  {arr.shape[0]}x{arr.shape[1]}")
            ax.set_xticks([])
            ax.set_yticks([])
            fig.colorbar(im, ax=ax, shrink=0.75)
        fig.suptitle(title)
        return finish(fig, path)
