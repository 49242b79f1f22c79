"""What the Trainer prints: a bar that stays, a Keras-like line per epoch, plain lines in a pipe."""

from __future__ import annotations

import io
import re

import numpy as np

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.progress import Progress
from glassnet.train import Trainer, accuracy

NUM = r"[-+0-9.e]+"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _trainer(progress, sched=False):
    glassnet.manual_seed(0)
    r = np.random.default_rng(0)
    x = r.standard_normal((40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(x, y), 10, shuffle=True, rng=np.random.default_rng(1))
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        scheduler=optim.lr_scheduler.StepLR(opt, 1, gamma=0.5) if sched else None,
        metrics={"acc": accuracy},
        progress=progress,
    )
    return trainer, loader


def test_one_summary_line_per_epoch_with_validation_metrics():
    out = io.StringIO()
    trainer, loader = _trainer(Progress("lines", file=out, interval=0))
    hist = trainer.fit(loader, 2, loader)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    # 4 batches per epoch: one plain progress line each (interval 0), then the epoch's line
    assert [bool(re.match(r"epoch \d/2  \d/4 \(", line)) for line in lines] == [True] * 4 + [
        False
    ] + [True] * 4 + [False]
    epoch = rf"epoch 2/2  loss {NUM}  acc {NUM}  val_loss {NUM}  val_acc {NUM}  \d+\.\ds"
    assert re.fullmatch(epoch, lines[-1]), lines[-1]
    assert f"val_acc {hist['val_acc'][-1]:.4g}" in lines[-1]
    assert f"loss {hist['loss'][-1]:.4g}" in lines[-1]
    assert "grad_norm" not in lines[-1]  # in the log and the figures, not in the line


def test_summary_mode_prints_only_the_epoch_lines_and_the_lr_of_a_schedule():
    out = io.StringIO()
    trainer, loader = _trainer(Progress("summary", file=out), sched=True)
    trainer.fit(loader, 2)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(rf"epoch 1/2  loss {NUM}  acc {NUM}  lr 0.025  \d+\.\ds", lines[0])


def test_on_a_terminal_each_epoch_bar_stays_above_its_line():
    out = Tty()
    trainer, loader = _trainer(Progress(file=out))
    trainer.fit(loader, 2, loader)
    text = out.getvalue()
    for e in (1, 2):
        bar = text.rindex(f"epoch {e}/2: 100%")
        summary = text.index(f"epoch {e}/2  loss")
        assert bar < text.index("\n", bar) < summary  # the finished bar keeps its line
    assert "4/4" in text and "batch/s" in text


def test_silent_when_progress_is_false(capsys):
    trainer, loader = _trainer(False)
    trainer.fit(loader, 1)
    assert capsys.readouterr().out == ""
    trainer.progress = "summary"  # set after construction, as with the other attributes
    trainer.fit(loader, 2)
    assert capsys.readouterr().out.startswith("epoch 2/2  loss")
