"""In Jupyter: figures and reports show inline, training progress is a widget that stays.

A real notebook is executed headless (nbclient and an IPython kernel, test-only dependencies);
the reprs behind it are also tested directly, so a failure says which part broke.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from glassnet import viz

PNG = b"\x89PNG\r\n\x1a\n"

CELLS = [
    "import numpy as np\nimport glassnet.viz as viz",
    'viz.plot_training_curves({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]})',
    'report = viz.Report("in a notebook")\nreport.add_text("hello **world**")\nreport',
    """\
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.train import Trainer, accuracy

x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64)
model = nn.Linear(3, 2)
trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                  metrics={"acc": accuracy})
history = trainer.fit(DataLoader(TensorDataset(x, y), 5), 2, DataLoader(TensorDataset(x, y), 20))
""",
]


@pytest.mark.slow
def test_a_notebook_run_headless_shows_figures_reports_and_progress_widgets(monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path migration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        nbformat = pytest.importorskip("nbformat")
        nbclient = pytest.importorskip("nbclient")
        pytest.importorskip("ipykernel")
        pytest.importorskip("ipywidgets")
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
        env = os.environ.copy()
        env.pop("GLASSNET_PROGRESS", None)
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute(env=env)
    figure, report, training = (cell.outputs for cell in nb.cells[1:])
    assert figure[0]["output_type"] == "execute_result"
    assert "image/png" in figure[0]["data"]  # the returned Figure shows itself inline
    html = report[0]["data"]["text/html"]
    assert '<div class="glassnet-report">' in html and "<strong>world</strong>" in html
    assert "<html" not in html and "<body" not in html  # a fragment, its CSS scoped to it
    view = "application/vnd.jupyter.widget-view+json"
    widgets = [o for o in training if view in o.get("data", {})]
    assert len(widgets) == 2  # one progress widget per epoch, left in the output
    text = "".join(o.get("text", "") for o in training if o["output_type"] == "stream")
    assert "epoch 1/2  loss" in text and "epoch 2/2  loss" in text and "val_acc" in text


def test_figures_render_inline_without_pyplot():
    fig = viz.plot_gradient_norms({"RNN": np.exp(-np.arange(10.0))})
    assert fig.path is None
    png = fig._repr_png_()
    assert png.startswith(PNG) and len(png) > 5000


def test_report_repr_html_is_a_scoped_fragment(tmp_path):
    r = viz.Report("Run", timestamp=False)
    r.add_heading("Figures")
    r.add_figure(viz.plot_gradient_norms({"RNN": np.exp(-np.arange(10.0))}), "unsaved figure")
    r.add_text("note")
    html = r._repr_html_()
    assert html.startswith('<div class="glassnet-report">') and html.endswith("</div>")
    assert "<html" not in html and "<body" not in html and "<main" not in html
    assert html.count("data:image/png;base64,") == 1
    css = html[html.index("<style>") + 7 : html.index("</style>")]
    rules = [rule.split("{")[0].strip() for rule in css.split("}") if rule.strip()]
    assert rules and all(
        all(sel.strip().startswith(".glassnet-report") for sel in rule.split(",")) for rule in rules
    )
    assert "<h2" in html and "unsaved figure" in html  # the same blocks as the page
    assert all(block in r.to_html() for block in r._blocks)
