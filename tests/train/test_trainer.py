"""Trainer, callbacks and checkpoints: exact resume, atomic saves, clear errors."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.train import CheckpointError, EarlyStopping, Trainer, TrainingInterrupted, accuracy
from glassnet.train.checkpoint import load_state, save_state


def _data(n=64, seed=0):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 5))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _setup(seed=0, dropout=0.2, lr=0.05, sched=True):
    glassnet.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(5, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 2)
    ).double()
    opt = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if sched else None
    x, y = _data()
    loader = DataLoader(
        TensorDataset(x, y), batch_size=10, shuffle=True, rng=np.random.default_rng(1)
    )
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        scheduler=scheduler,
        metrics={"acc": accuracy},
        clip_grad_norm=1.0,
        progress=False,
    )
    return trainer, loader


def test_fit_learns_and_logs(tmp_path):
    trainer, loader = _setup()
    trainer.log_path = tmp_path / "metrics.jsonl"
    hist = trainer.fit(loader, 6, val_loader=loader)
    assert len(hist["loss"]) == 6 and hist["loss"][-1] < hist["loss"][0]
    assert hist["val_acc"][-1] > 0.8
    assert hist["lr"] == [0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625]
    records = [json.loads(line) for line in trainer.log_path.read_text().splitlines()]
    assert sum(r["event"] == "step" for r in records) == 6 * len(loader)
    assert sum(r["event"] == "epoch" for r in records) == 6
    assert {"loss", "acc", "grad_norm"} <= set(records[0])


def _weights(trainer):
    return {k: v.copy() for k, v in trainer.model.state_dict().items()}


def test_resume_after_interrupt_matches_uninterrupted_run(tmp_path):
    full, loader = _setup()
    full.fit(loader, 4)
    expected = _weights(full)

    part, loader2 = _setup()
    ckpt = tmp_path / "ckpt.safetensors"

    class Interrupt(glassnet.train.Callback):
        def on_batch_end(self, trainer, step, logs):
            if step == 9:  # in the middle of the second epoch
                os.kill(os.getpid(), signal.SIGINT)

    part.callbacks.append(Interrupt())
    with pytest.raises(TrainingInterrupted) as e:
        part.fit(loader2, 4, checkpoint_path=ckpt)
    assert e.value.checkpoint == ckpt
    summary = json.loads((tmp_path / "ckpt.safetensors.json").read_text())
    assert summary["epoch"] == 1 and summary["batch_in_epoch"] == 2

    resumed, loader3 = _setup(seed=123)  # different initial weights: all must come from the file
    resumed.fit(loader3, 4, checkpoint_path=ckpt, resume=True)
    got = _weights(resumed)
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k])
    assert resumed.history["loss"] == full.history["loss"]


def test_early_stopping_restores_best():
    trainer, loader = _setup(lr=0.5, sched=False)
    stopper = EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)  # never improves enough
    trainer.callbacks.append(stopper)
    hist = trainer.fit(loader, 20, val_loader=loader)
    assert len(hist["loss"]) == 3 and stopper.stopped_epoch == 3
    assert stopper.best_epoch == 1
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        t2, l2 = _setup()
        t2.callbacks.append(EarlyStopping())
        t2.fit(l2, 1)


def test_checkpoint_round_trip_types(tmp_path):
    state = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "nested": {0: {"step": 3, "m": np.ones(2)}, "x": [1, 2.5, None, "s", (True, np.int64(4))]},
        "empty": {},
    }
    path = save_state(tmp_path / "s.safetensors", state)
    got = load_state(path)
    np.testing.assert_array_equal(got["a"], state["a"])
    assert got["a"].dtype == np.float32
    assert got["nested"][0]["step"] == 3 and isinstance(list(got["nested"])[0], int)
    assert got["nested"]["x"] == [1, 2.5, None, "s", (True, 4)]
    assert got["empty"] == {}


def test_checkpoint_truncated_tampered_and_foreign_files(tmp_path):
    path = save_state(tmp_path / "c.safetensors", {"w": np.arange(100.0)})
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) - 40])
    with pytest.raises(CheckpointError, match="truncated"):
        load_state(tmp_path / "trunc.safetensors")
    tampered = bytearray(data)
    tampered[-3] ^= 0xFF
    (tmp_path / "tamp.safetensors").write_bytes(bytes(tampered))
    with pytest.raises(CheckpointError, match="checksum"):
        load_state(tmp_path / "tamp.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint at all, just text")
    with pytest.raises(CheckpointError, match="not a safetensors file|truncated"):
        load_state(tmp_path / "junk.safetensors")
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(CheckpointError, match="not a glassnet checkpoint"):
        load_state(tmp_path / "plain.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_state(tmp_path / "missing.safetensors")


def test_crash_during_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = save_state(tmp_path / "c.safetensors", {"w": np.zeros(3)})
    import glassnet._atomic as atomic

    def crash(*args, **kwargs):
        raise OSError("simulated crash in the middle of the rename")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        save_state(path, {"w": np.ones(3)})
    monkeypatch.undo()
    np.testing.assert_array_equal(load_state(path)["w"], np.zeros(3))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_trainer_argument_errors():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(model, nn.MSELoss(), opt, scheduler_interval="batch")
    with pytest.raises(ValueError, match="clip_grad_norm"):
        Trainer(model, nn.MSELoss(), opt, clip_grad_norm=0)
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_path"):
        Trainer(model, nn.MSELoss(), opt, progress=False).fit([], 1, resume=True)
