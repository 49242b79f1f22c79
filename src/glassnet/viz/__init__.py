"""Figures and the HTML run report.

Every figure function takes plain NumPy data (never a model), writes one image (PNG unless the
path says otherwise) and returns the path written. Figures are drawn on matplotlib's Agg canvas
without ``pyplot``: no display is needed, nothing global is changed, nothing is left open.
``Report`` assembles headings, text, tables, code and figures into one self-contained
``report.html``.

Import explicitly (``import glassnet.viz``); ``import glassnet`` does not load matplotlib.

>>> import numpy as np, tempfile, os
>>> from glassnet.viz import Report, plot_filters
>>> out = tempfile.mkdtemp()
>>> weights = np.random.default_rng(0).normal(size=(6, 1, 5, 5))
>>> png = plot_filters(weights, os.path.join(out, "w.png"))
>>> report = Report("Demo")
>>> report.add_figure(png, "First-layer kernels")
>>> report.write(out).name
'report.html'
"""

from .conv import plot_feature_maps, plot_filters, plot_images, plot_signal_convolution
from .report import Report
from .sequence import plot_forecast, plot_gradient_heatmap, plot_gradient_norms
from .training import plot_bar_table, plot_training_curves, training_series

__all__ = [
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
