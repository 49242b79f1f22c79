"""The Trainer never loses a good model: non-finite steps, run locks, logs and stale files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.autograd import Function
from glassnet.data import DataLoader, TensorDataset
from glassnet.train import (
    CheckpointError,
    RunLock,
    RunLockedError,
    Trainer,
    TrainingDiverged,
)
from glassnet.train.checkpoint import load_state, save_state

from .lock_holder import lock_held_elsewhere


def _setup(x=None, on_nonfinite="stop", log_path=None, clip=None):
    glassnet.manual_seed(0)
    r = np.random.default_rng(0)
    if x is None:
        x = r.standard_normal((40, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    loader = DataLoader(TensorDataset(x, y), 10, shuffle=False)  # 4 batches an epoch
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=0.01),
        progress=False,
        on_nonfinite=on_nonfinite,
        log_path=log_path,
        clip_grad_norm=clip,
    )
    return trainer, loader


def _nan_rows(rows):
    x = np.random.default_rng(0).standard_normal((40, 3))
    x[rows, 1] = np.nan
    return x


def _weights(trainer):
    return {k: v.copy() for k, v in trainer.model.state_dict().items()}


def _log(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_nonfinite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer, loader = _setup(log_path=tmp_path / "m.jsonl")
    ckpt = tmp_path / "c.safetensors"
    trainer.fit(loader, 2, checkpoint_path=ckpt)
    good = ckpt.read_bytes()
    before = _weights(trainer)
    loader.dataset.tensors[0].data[25, 1] = np.nan  # batch 3 of epoch 3 = step 11
    with pytest.raises(TrainingDiverged) as e:
        trainer.fit(loader, 4, checkpoint_path=ckpt)
    assert (e.value.epoch, e.value.step, e.value.checkpoint) == (3, 11, ckpt)
    assert "epoch 3 at step 11" in str(e.value) and "kept" in str(e.value)
    assert ckpt.read_bytes() == good
    after = _weights(trainer)  # steps 9, 10 were applied, step 11 not: all finite
    assert all(np.isfinite(v).all() for v in after.values())
    assert any(not np.array_equal(before[k], after[k]) for k in before)
    last = _log(tmp_path / "m.jsonl")[-1]
    assert last["event"] == "nonfinite" and last["step"] == 11


class InfiniteSlope(Function):
    """0 in value, an infinite gradient: as sqrt at 0."""

    def forward(self, w):
        self.shape = w.shape
        return np.zeros(())

    def backward(self, dy):
        return np.full(self.shape, np.inf)


def test_nonfinite_gradient_with_finite_loss_is_caught():
    trainer, loader = _setup()

    def step(model, batch):
        x, y = batch
        loss = nn.functional.cross_entropy(model(x), y) + InfiniteSlope.apply(model[0].weight)
        return loss, None, y

    original = trainer.model[0].weight.data.copy()
    trainer.step_fn = step
    with pytest.raises(TrainingDiverged, match="loss 0.6[0-9]*, gradient norm inf") as e:
        trainer.fit(loader, 1)
    assert e.value.step == 1
    np.testing.assert_array_equal(trainer.model[0].weight.data, original)


def test_skip_mode_drops_bad_steps_and_continues(tmp_path):
    trainer, loader = _setup(_nan_rows([12]), "skip", tmp_path / "m.jsonl", clip=1.0)
    hist = trainer.fit(loader, 3, checkpoint_path=tmp_path / "c.safetensors")
    assert all(np.isfinite(v) for v in hist["loss"])
    records = _log(tmp_path / "m.jsonl")
    skipped = [r["step"] for r in records if r["event"] == "skipped"]
    assert skipped == [2, 6, 10]  # batch 2 of each epoch
    assert [r.get("skipped") for r in records if r["event"] == "epoch"] == [1, 1, 1]
    state = load_state(tmp_path / "c.safetensors")
    assert state["progress"]["global_step"] == 12
    assert all(np.isfinite(v).all() for v in state["model"].values())


def test_skip_mode_stops_when_nothing_is_finite():
    trainer, loader = _setup(_nan_rows(slice(None)), "skip")
    with pytest.raises(TrainingDiverged, match="every step of epoch 1 was non-finite"):
        trainer.fit(loader, 3)
    long = DataLoader(TensorDataset(_nan_rows(slice(None)), np.zeros(40, np.int64)), 2)
    with pytest.raises(TrainingDiverged, match="11 non-finite steps in a row") as e:
        trainer.fit(long, 3)
    assert e.value.step == 11


def test_nonfinite_weights_are_never_saved(tmp_path):
    trainer, loader = _setup()
    ckpt = tmp_path / "c.safetensors"
    trainer.fit(loader, 1, checkpoint_path=ckpt)
    good = ckpt.read_bytes()
    trainer.model[2].bias.data[0] = np.inf
    with pytest.raises(TrainingDiverged, match="hold NaN/inf; the checkpoint was not written"):
        trainer.save_checkpoint(ckpt)
    assert ckpt.read_bytes() == good


def test_on_nonfinite_is_checked():
    with pytest.raises(ValueError, match="on_nonfinite must be 'stop' or 'skip'"):
        _setup(on_nonfinite="ignore")


def test_resume_cuts_the_log_back_to_the_checkpoint(tmp_path):
    log = tmp_path / "m.jsonl"
    trainer, loader = _setup(log_path=log)
    ckpt = tmp_path / "c.safetensors"
    trainer.fit(loader, 2, checkpoint_path=ckpt)
    # what a run killed before its third checkpoint leaves: epoch 3 logged, then a torn line
    with log.open("a") as f:
        for step in (9, 10, 11, 12):
            f.write(json.dumps({"event": "step", "epoch": 3, "step": step, "loss": 0.5}) + "\n")
        f.write('{"event": "step", "epo')
    resumed, loader2 = _setup(log_path=log)
    resumed.fit(loader2, 3, checkpoint_path=ckpt, resume=True)
    steps = [r["step"] for r in _log(log) if r["event"] == "step"]
    assert steps == list(range(1, 13))
    assert [r["epoch"] for r in _log(log) if r["event"] == "epoch"] == [1, 2, 3]


def test_fit_removes_stale_temporary_files_of_its_checkpoint(tmp_path):
    ckpt = tmp_path / "c.safetensors"
    stale = [
        tmp_path / ".c.safetensors.k2x9_q1a.tmp",
        tmp_path / ".c.safetensors.json.0a1b2c3d.tmp",
    ]
    other = [tmp_path / ".d.safetensors.k2x9_q1a.tmp", tmp_path / ".c.safetensors.notours.tmp"]
    for p in stale + other:
        p.write_bytes(b"half a checkpoint")
    trainer, loader = _setup()
    trainer.fit(loader, 1, checkpoint_path=ckpt)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in other)


def test_a_second_process_is_refused_and_a_killed_holder_releases(tmp_path):
    ckpt = tmp_path / "c.safetensors"
    trainer, loader = _setup()
    with lock_held_elsewhere(ckpt) as proc:
        with pytest.raises(RunLockedError, match=f"in use by process {proc.pid}"):
            trainer.fit(loader, 1, checkpoint_path=ckpt)
        assert not ckpt.exists()
    assert (tmp_path / "c.safetensors.lock").exists()  # stale file, no holder: SIGKILLed
    trainer.fit(loader, 1, checkpoint_path=ckpt)
    assert ckpt.exists() and not (tmp_path / "c.safetensors.lock").exists()


def test_run_lock_is_reentrant_within_a_process(tmp_path):
    with RunLock(tmp_path / "c"), RunLock(tmp_path / "c"):
        assert (tmp_path / "c.lock").read_text().strip() == str(os.getpid())
    assert not (tmp_path / "c.lock").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("progress"), "lacks \\['progress'\\]"),
        (lambda s: s["progress"].pop("global_step"), "lacks 'global_step'"),
        (lambda s: s["progress"].update(epoch="3"), "'epoch' must be an int >= 0"),
        (lambda s: s["progress"].update(epoch_order=np.arange(7)), "sample order is for 7"),
        (lambda s: s["progress"].update(batch_in_epoch=99), "after batch 99"),
        (lambda s: s.update(history={"loss": ["a"]}), "list of numbers"),
        (lambda s: s["optimizer"].pop("param_groups"), "saved optimizer state does not fit"),
        (lambda s: s["model"].pop("0.weight"), "saved model state does not fit"),
        (lambda s: s["rng"]["loader"].update(state=5), "invalid PCG64 random state"),
        (lambda s: s.update(callbacks={}), "'callbacks' must be a list"),
    ],
)
def test_malformed_training_states_are_checkpoint_errors(tmp_path, edit, message):
    trainer, loader = _setup()
    loader.rng = np.random.default_rng(1)
    trainer.fit(loader, 1)  # weights, optimizer and progress unlike a fresh trainer's
    ckpt = tmp_path / "c.safetensors"
    trainer.save_checkpoint(ckpt, loader)
    state = load_state(ckpt)
    state["progress"]["epoch_order"] = np.arange(40)
    edit(state)
    save_state(ckpt, state)  # a crafted file with a valid checksum
    fresh, loader2 = _setup()
    loader2.rng = np.random.default_rng(1)
    before = fresh.state_dict(loader2)
    with pytest.raises(CheckpointError, match=message) as e:
        fresh.load_checkpoint(ckpt, loader2)
    assert "\n" not in str(e.value) and str(ckpt) in str(e.value)
    _assert_same_state(fresh.state_dict(loader2), before)  # a failed load changes nothing


def _assert_same_state(a, b, where="state"):
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same_state(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_state(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where
