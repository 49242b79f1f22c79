"""Figures and the HTML run report.

Every figure function takes plain NumPy data (never a model) and returns the matplotlib
``Figure``; given a path, it also writes the image (PNG unless the path says otherwise). The
returned figure shows itself inline in Jupyter, remembers where it was saved (``fig.path``) and
is then path-like, so ``Report.add_figure(fig)`` and ``Path(fig)`` work. Figures are drawn on
matplotlib's Agg canvas without ``pyplot``: no display is needed, nothing global is changed,
nothing is left open. ``Report`` assembles headings, text, tables, code and figures into one
self-contained ``report.html``, and previews itself in Jupyter (``_repr_html_``).

Import explicitly (``import glassnet.viz``); ``import glassnet`` does not load matplotlib.

>>> import numpy as np, tempfile, os
>>> from glassnet.viz import Report, plot_filters
>>> out = tempfile.mkdtemp()
>>> weights = np.random.default_rng(0).normal(size=(6, 1, 5, 5))
>>> fig = plot_filters(weights, os.path.join(out, "w.png"))
>>> fig.path.name
'w.png'
>>> report = Report("Demo")
>>> report.add_figure(fig, "First-layer kernels")
>>> report.write(out).name
'report.html'
"""

from typing import Any

from .conv import plot_feature_maps, plot_filters, plot_images, plot_signal_convolution
from .report import Report
from .sequence import plot_forecast, plot_gradient_heatmap, plot_gradient_norms
from .training import plot_bar_table, plot_training_curves, training_series

__all__ = [
    "Figure",
    "Report",
    "plot_bar_table",
    "plot_feature_maps",
    "plot_filters",
    "plot_forecast",
    "plot_gradient_heatmap",
    "plot_gradient_norms",
    "plot_images",
    "plot_signal_convolution",
    "plot_training_curves",
    "training_series",
]


def __getattr__(name: str) -> Any:
    if name == "Figure":  # created on first use: importing glassnet.viz does not load matplotlib
        from ._common import figure_class

        return figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
