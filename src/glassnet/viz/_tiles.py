"""Pixel-exact tile grids (kernels, feature maps, images) drawn with one ``figimage``.

A grid of dozens of small images as dozens of matplotlib axes is slow (each axes lays out its
ticks and titles) and resamples every tile. Here the whole grid is composed in NumPy at screen
resolution -- each tile upsampled by an integer factor with ``np.repeat`` so every data pixel
becomes an exact square -- and blitted once with ``Figure.figimage``; labels are figure text at
pixel positions. One figure, one image, crisp pixels, a few milliseconds of layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import DPI, MplFigure, PathLike, figure, finish

_MARGIN = 10  # px around everything
_TITLE_LINE = 15  # px per title line
_LABEL = 14  # px band above each tile for its label
_HEADER = 14  # px band for column headers
_ROW_LABEL = 34  # px column for row labels
_COLORBAR = 90  # px to the right of the grid for a colour bar and its labels


def tile_scale(h: int, w: int, rows: int, cols: int, target: int, max_w: int, max_h: int) -> int:
    """Integer upsampling factor: tiles about ``target`` px on their long side, grid within bounds.

    Returns a positive factor, or a negative one ``-k`` meaning "take every k-th pixel" for tiles
    larger than the target.
    """
    longest = max(h, w)
    if longest > target:
        return -math.ceil(longest / target)
    s = max(1, round(target / longest))
    s = min(s, max(1, max_w // (cols * w)), max(1, max_h // (rows * h)))
    return s


def _text_width(text: str, size: float) -> float:
    """Rendered width in pixels of the widest line of ``text`` at font ``size``."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, DPI)
    font = FontProperties(size=size)
    return max(
        renderer.get_text_width_height_descent(line, font, ismath=False)[0]
        for line in text.split("\n")
    )


def _resize(tile: np.ndarray, s: int) -> np.ndarray:
    """Upsample by ``s`` (pixel replication) or, for ``s < 0``, subsample by ``-s``."""
    if s < 0:
        return tile[::-s, ::-s]
    return np.repeat(np.repeat(tile, s, axis=0), s, axis=1)


def render_tiles(
    tiles: Sequence[np.ndarray],
    cols: int,
    path: PathLike | None = None,
    *,
    title: str,
    target: int,
    gap: int,
    gap_color: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    frame_color: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    label_colors: Sequence[Any] | None = None,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    colorbar: tuple[Any, Any, str] | None = None,
    max_w: int = 1100,
    max_h: int = 1500,
) -> MplFigure:
    """Compose RGBA ``tiles`` (all ``(h, w, 4)`` in [0, 1]) into a grid and save it.

    Args:
        tiles: the tiles, filled row by row into ``cols`` columns.
        cols: tiles per row.
        path: where to write the figure.
        title: figure title (may contain newlines).
        target: about this many pixels on a tile's long side.
        gap: pixels between tiles, filled with ``gap_color``.
        frame_color: a one-pixel frame of this colour around every tile (inside the gap, which
            must be at least 2), so tiles whose edges match the gap colour stay apart.
        labels, label_colors: a short label above each tile and its colour.
        row_labels, col_labels: labels left of each row / above each column.
        colorbar: ``(cmap, norm, label)`` for a colour bar right of the grid.
        max_w, max_h: the grid shrinks (integer factors) to stay within these pixel bounds.
    """
    n = len(tiles)
    rows = math.ceil(n / cols)
    h, w = tiles[0].shape[:2]
    s = tile_scale(h, w, rows, cols, target, max_w, max_h)
    th, tw = _resize(tiles[0], s).shape[:2]
    band = _LABEL if labels is not None else 0
    if frame_color is not None and gap < 2:
        raise ValueError(f"render_tiles: a frame needs a gap of at least 2 pixels, got {gap}")
    frame = None if frame_color is None else np.asarray(frame_color, dtype=np.float64)
    pad = 1 if frame is not None else 0  # room for the outer frames on every side
    grid_w = cols * tw + (cols - 1) * gap + 2 * pad
    grid_h = rows * (band + th) + (rows - 1) * gap + 2 * pad
    canvas = np.ones((grid_h, grid_w, 4))
    gap_rgba = np.asarray(gap_color, dtype=np.float64)
    if gap > 0:  # paint the separators; tile areas are overwritten below
        canvas[:] = gap_rgba
        for r in range(rows):
            y = pad + r * (band + th + gap)
            canvas[y : y + band, :] = 1.0  # label bands stay white
    for i, tile in enumerate(tiles):  # one paste per tile
        r, c = divmod(i, cols)
        y = pad + r * (band + th + gap) + band
        x = pad + c * (tw + gap)
        if frame is not None:
            canvas[y - 1 : y + th + 1, x - 1 : x + tw + 1] = frame
        canvas[y : y + th, x : x + tw] = _resize(tile, s)
    if n < rows * cols:  # empty cells of the last row: white
        y = pad + (rows - 1) * (band + th + gap)
        for c in range(n - (rows - 1) * cols, cols):
            x = pad + c * (tw + gap)
            canvas[y:, max(x - gap + pad, 0) : x + tw + pad] = 1.0

    title_h = _TITLE_LINE * (title.count("\n") + 1) + 6
    left = _MARGIN + (_ROW_LABEL if row_labels is not None else 0)
    top = _MARGIN + title_h + (_HEADER if col_labels is not None else 0)
    right = _MARGIN + (_COLORBAR if colorbar is not None else 0)
    bottom = _MARGIN
    width = max(left + grid_w + right, math.ceil(_text_width(title, 10)) + 2 * _MARGIN, 240)
    height = top + grid_h + bottom
    left += (width - (left + grid_w + right)) // 2  # centre a narrow grid under the title

    with figure((width / DPI, height / DPI), constrained=False) as fig:
        fig.figimage(canvas, xo=left, yo=bottom, origin="upper", resize=False)

        def text(x: float, y_from_top: float, s: str, **kw: Any) -> None:
            fig.text(x / width, 1.0 - y_from_top / height, s, **kw)

        text(width / 2, _MARGIN, title, ha="center", va="top", fontsize=10, linespacing=1.3)
        if labels is not None:
            for i, label in enumerate(labels):
                r, c = divmod(i, cols)
                color = label_colors[i] if label_colors is not None else "black"
                text(
                    left + pad + c * (tw + gap) + tw / 2,
                    top + pad + r * (band + th + gap) + band / 2,
                    label,
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=color,
                )
        if col_labels is not None:
            for c, label in enumerate(col_labels):
                text(
                    left + pad + c * (tw + gap) + tw / 2,
                    top - _HEADER / 2,
                    label,
                    ha="center",
                    va="center",
                    fontsize=7.5,
                )
        if row_labels is not None:
            for r, label in enumerate(row_labels):
                text(
                    left - 4,
                    top + pad + r * (band + th + gap) + band + th / 2,
                    label,
                    ha="right",
                    va="center",
                    fontsize=7.5,
                )
        if colorbar is not None:
            from matplotlib.cm import ScalarMappable

            cmap, norm, cb_label = colorbar
            bar_h = max(min(grid_h, 300), 60)
            cax = fig.add_axes(
                (
                    (left + grid_w + 14) / width,
                    (bottom + (grid_h - bar_h) / 2) / height,
                    12 / width,
                    bar_h / height,
                )
            )
            fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, label=cb_label)
        return finish(fig, path)
