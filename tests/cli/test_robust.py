"""`glassnet train` never loses a good model and never misleads: the cases of issue 20."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli import main, tasks
from glassnet.train import load_state, save_state

from ..train.lock_holder import lock_held_elsewhere

FC = ["train", "forecast", "--model", "mlp", "--hidden", "8", "--no-progress", "--no-figures"]


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def user_error(args, capsys, *fragments):
    """Run; assert exit 2 with a one-line error containing every fragment; return it."""
    code, _, err = run(args, capsys)
    assert code == 2 and err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    for f in fragments:
        assert f in err, (f, err)
    return err


def weights(path):
    return load_state(path)["model"]


@pytest.fixture
def fc_run(tmp_path, capsys):
    """A two-epoch MLP forecaster on sunspots in tmp_path/fc."""
    out = tmp_path / "fc"
    assert run([*FC, "--epochs", 2, "--out", out], capsys)[0] == 0
    return out


# ----------------------------------------------------------------------------- NaN / inf
def test_diverging_run_stops_naming_the_step_and_writes_no_checkpoint(tmp_path, capsys):
    out = tmp_path / "nan"
    with np.errstate(over="ignore", invalid="ignore"):  # the user's default: warnings only
        err = user_error(
            ["train", "forecast", "--model", "mlp", "--lr", "1e30", "--epochs", 3, "--out", out],
            capsys,
            "epoch 1 at step 2",
            "non-finite loss nan",
            "no checkpoint was written",
            "--on-nonfinite skip",
        )
    assert not (out / "checkpoint.safetensors").exists(), err
    with np.errstate(over="ignore", invalid="ignore"):
        user_error(
            [
                *FC,
                "--lr",
                "1e30",
                "--epochs",
                3,
                "--out",
                tmp_path / "skip",
                "--on-nonfinite",
                "skip",
            ],
            capsys,
            "11 non-finite steps in a row",
        )


def test_a_diverging_run_prints_one_error_line_and_no_numpy_warnings(tmp_path):
    # a real process with NumPy's default error handling (warnings), as a user runs it
    cmd = [*FC, "--lr", "1e30", "--epochs", "3", "--out", str(tmp_path / "nan")]
    proc = subprocess.run(
        [sys.executable, "-m", "glassnet", *cmd], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("glassnet: error: training")
    assert "RuntimeWarning" not in proc.stdout + proc.stderr


def test_divergence_after_good_epochs_keeps_the_checkpoint(fc_run, capsys):
    ckpt = fc_run / "checkpoint.safetensors"
    good = ckpt.read_bytes()
    with np.errstate(over="ignore", invalid="ignore"):
        user_error(
            [*FC, "--out", fc_run, "--resume", "--epochs", 4, "--lr", "1e30", "--override", "lr"],
            capsys,
            "epoch 3 at step",
            f"the last good checkpoint {ckpt} is kept",
        )
    assert ckpt.read_bytes() == good
    code, printed, _ = run(["forecast", ckpt, "--steps", 3], capsys)
    assert code == 0 and "nan" not in printed.lower() and len(printed.splitlines()) == 4


def test_forecast_refuses_nonfinite_weights_and_outputs(fc_run, capsys):
    state = load_state(fc_run / "checkpoint.safetensors")
    model = state["model"]
    state["model"] = {k: np.full_like(v, np.nan) for k, v in model.items()}
    save_state(fc_run / "nan.safetensors", state)  # a crafted file: the trainer never writes one
    user_error(["forecast", fc_run / "nan.safetensors"], capsys, "hold NaN/inf")
    user_error(["eval", fc_run / "nan.safetensors"], capsys, "hold NaN/inf")
    state["model"] = {k: v * np.float32(1e30) for k, v in model.items()}
    save_state(fc_run / "huge.safetensors", state)
    user_error(
        ["forecast", fc_run / "huge.safetensors", "--csv", fc_run / "f.csv"],
        capsys,
        "forecast is not finite",
    )
    assert not (fc_run / "f.csv").exists()


def test_nan_images_and_absurd_labels_are_refused_up_front(tmp_path, capsys):
    images = np.random.default_rng(0).random((12, 8, 8)).astype(np.float32)
    labels = np.arange(12) % 3
    np.savez(tmp_path / "nan.npz", images=np.where(images > 0.99, np.nan, images), labels=labels)
    user_error(["train", "cnn", "--data", tmp_path / "nan.npz"], capsys, "NaN or infinite")
    big = labels.copy()
    big[0] = 10**9  # would allocate a billion class names and logits
    np.savez(tmp_path / "big.npz", images=images, labels=big)
    user_error(
        ["train", "cnn", "--data", tmp_path / "big.npz"], capsys, "[0, 10000)", "1000000000]"
    )
    np.savez(tmp_path / "neg.npz", images=images, labels=labels - 1)
    user_error(["train", "cnn", "--data", tmp_path / "neg.npz"], capsys, "got values in [-1, 1]")
    np.savez(tmp_path / "float.npz", images=images, labels=labels.astype(float))
    user_error(["train", "cnn", "--data", tmp_path / "float.npz"], capsys, "must hold integers")


# ----------------------------------------------------------------------------- resume checks
@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--lr", "0.5"], ["--lr 0.5 differs from the checkpoint's 0.01", "--override lr"]),
        (["--batch-size", "8"], ["--batch-size 8 differs from the checkpoint's 16"]),
        (["--clip", "2"], ["--clip 2.0 differs from the checkpoint's 1.0"]),
        (["--clip", "none"], ["--clip (none) differs from the checkpoint's 1.0"]),
        (["--seed", "7"], ["--seed 7 differs from the checkpoint's 0", "cannot change"]),
        (["--hidden", "9"], ["--hidden 9 differs", "cannot change on resume"]),
        (["--tau", "3"], ["--tau 3 differs"]),
        (["--test-fraction", "0.3"], ["--test-fraction 0.3 differs"]),
        (["--data", "co2"], ["the training data 'co2' differs", "fingerprints"]),
        (["--seed", "7", "--override", "lr"], ["--seed 7 differs"]),
        (["--override", "lr"], ["--override lr: pass the new --lr value"]),
        (["--overwrite"], ["pick one"]),
    ],
)
def test_resume_refuses_flags_that_change_the_run(fc_run, capsys, flags, fragments):
    before = (fc_run / "checkpoint.safetensors").read_bytes()
    user_error([*FC, "--out", fc_run, "--resume", "--epochs", 3, *flags], capsys, *fragments)
    assert (fc_run / "checkpoint.safetensors").read_bytes() == before


def test_override_needs_resume_and_a_known_flag(tmp_path, capsys):
    user_error([*FC, "--out", tmp_path / "o", "--override", "lr"], capsys, "only applies with")
    with pytest.raises(SystemExit) as e:
        main([*FC, "--override", "hidden"])
    assert e.value.code == 2 and "--lr, --batch-size, --clip" in capsys.readouterr().err


def test_resume_with_flags_left_out_equals_an_uninterrupted_run(tmp_path, capsys):
    flags = ["--lr", "0.02", "--batch-size", "8", "--tau", "5"]
    assert run([*FC, *flags, "--epochs", 3, "--out", tmp_path / "full"], capsys)[0] == 0
    assert run([*FC, *flags, "--epochs", 1, "--out", tmp_path / "part"], capsys)[0] == 0
    assert run([*FC, "--epochs", 3, "--out", tmp_path / "part", "--resume"], capsys)[0] == 0
    full = weights(tmp_path / "full" / "checkpoint.safetensors")
    part = weights(tmp_path / "part" / "checkpoint.safetensors")
    for k in full:
        np.testing.assert_array_equal(part[k], full[k], err_msg=k)
    assert records(tmp_path / "part") == records(tmp_path / "full")


def records(out):
    """(event, step, loss) of every line of a run's metrics log."""
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [(r["event"], r["step"], r["loss"]) for r in map(json.loads, lines)]


def test_overrides_take_effect(fc_run, capsys):
    args = [*FC, "--out", fc_run, "--resume"]
    assert run([*args, "--epochs", 3, "--lr", "0.002", "--override", "lr"], capsys)[0] == 0
    state = load_state(fc_run / "checkpoint.safetensors")
    assert state["optimizer"]["param_groups"][0]["lr"] == 0.002
    assert state["config"]["args"]["lr"] == 0.002
    steps = state["progress"]["global_step"]
    code = run([*args, "--epochs", 4, "--batch-size", "200", "--override", "batch-size"], capsys)[0]
    assert code == 0
    state = load_state(fc_run / "checkpoint.safetensors")
    assert state["progress"]["global_step"] - steps == 2  # 229 windows in batches of 200
    assert run([*args, "--epochs", 5], capsys)[0] == 0  # the new values are now the recorded ones


def test_same_data_at_another_path_resumes_other_data_does_not(tmp_path, capsys):
    t = np.arange(120)
    (tmp_path / "a.csv").write_text("v\n" + "\n".join(f"{np.sin(0.3 * i):.5f}" for i in t) + "\n")
    (tmp_path / "b.csv").write_text((tmp_path / "a.csv").read_text())
    base = [*FC, "--column", "v", "--tau", 4, "--out", tmp_path / "o"]
    assert run([*base, "--data", tmp_path / "a.csv", "--epochs", 1], capsys)[0] == 0
    assert run([*base, "--data", tmp_path / "b.csv", "--epochs", 2, "--resume"], capsys)[0] == 0
    # the run now records b.csv; edited under its name, it no longer resumes
    (tmp_path / "b.csv").write_text((tmp_path / "a.csv").read_text().replace("0.", "1.", 1))
    user_error([*base, "--epochs", 3, "--resume"], capsys, "b.csv' differs", "fingerprints")
    assert run([*base, "--data", tmp_path / "a.csv", "--epochs", 3, "--resume"], capsys)[0] == 0


def test_cnn_resume_with_another_seed_is_refused(tmp_path, capsys):
    r = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", images=r.random((30, 8, 8)), labels=np.arange(30) % 3)
    base = ["train", "cnn", "--data", tmp_path / "d.npz", "--channels", "2", "--hidden", "4"]
    base += ["--out", tmp_path / "o", "--no-progress"]
    assert run([*base, "--epochs", 1], capsys)[0] == 0
    user_error([*base, "--epochs", 2, "--resume", "--seed", "7"], capsys, "--seed 7 differs")
    np.savez(tmp_path / "other.npz", images=r.random((30, 8, 8)), labels=np.arange(30) % 3)
    user_error(
        [*base, "--epochs", 2, "--resume", "--data", tmp_path / "other.npz"],
        capsys,
        "differs from the data the checkpoint was trained on",
    )
    user_error(["train", "charlm", "--out", tmp_path / "o", "--resume"], capsys, "is a cnn run")


# ----------------------------------------------------------------------------- --out
def test_fresh_run_refuses_a_non_empty_out_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"event": "step", "step": 1, "loss": 9}\n')
    (out / "notes.txt").write_text("mine")
    user_error([*FC, "--epochs", 1, "--out", out], capsys, "is not empty (metrics.jsonl, notes")
    assert run([*FC, "--epochs", 2, "--out", out, "--overwrite"], capsys)[0] == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["event"] == "step"] == list(range(1, 31))
    assert (out / "notes.txt").read_text() == "mine"
    user_error([*FC, "--epochs", 2, "--out", out], capsys, "--resume", "--overwrite")


def test_stale_temporary_files_are_removed_at_start(fc_run, capsys):
    stale = fc_run / ".checkpoint.safetensors.x1y2z3w4.tmp"
    stale.write_bytes(b"the first half of a checkpoint, then SIGKILL")
    assert run([*FC, "--out", fc_run, "--resume", "--epochs", 3], capsys)[0] == 0
    assert not stale.exists()
    assert sorted(p.name for p in fc_run.iterdir()) == [
        "checkpoint.safetensors",
        "checkpoint.safetensors.json",
        "metrics.jsonl",
    ]


def test_a_locked_out_is_refused(tmp_path, capsys):
    out = tmp_path / "o"
    with lock_held_elsewhere(out / "checkpoint.safetensors") as proc:
        user_error([*FC, "--epochs", 1, "--out", out], capsys, f"in use by process {proc.pid}")
    assert run([*FC, "--epochs", 1, "--out", out], capsys)[0] == 0  # a stale lock file is fine


# ----------------------------------------------------------------------------- export
def test_export_never_replaces_a_training_checkpoint(fc_run, tmp_path, capsys):
    ckpt = fc_run / "checkpoint.safetensors"
    good = ckpt.read_bytes()
    user_error(["export", ckpt, "--safetensors", ckpt], capsys, "is the checkpoint being exported")
    user_error(["export", ckpt, "--onnx", ckpt], capsys, "is the checkpoint being exported")
    (tmp_path / "link").symlink_to(fc_run)
    user_error(
        ["export", ckpt, "--safetensors", tmp_path / "link" / "checkpoint.safetensors"],
        capsys,
        "is the checkpoint being exported",
    )
    other = tmp_path / "other.safetensors"
    other.write_bytes(good)
    user_error(["export", ckpt, "--safetensors", other], capsys, "is a training checkpoint")
    assert ckpt.read_bytes() == good and other.read_bytes() == good
    w = tmp_path / "w.safetensors"
    for _ in range(2):  # replacing an earlier export is fine
        assert run(["export", ckpt, "--safetensors", w], capsys)[0] == 0
    assert set(__import__("glassnet").io.load(w)) == set(load_state(ckpt)["model"])


# ----------------------------------------------------------------------------- crafted configs
@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda c: c["model"].update(hidden_size=200_000), "model of 2000001 values"),
        (lambda c: c["model"].update(hidden_size=10**12), "must be an int in [1, 1048576]"),
        (lambda c: c["model"].update(hidden_size="8"), "model.hidden_size must be an int"),
        (lambda c: c["model"].update(tau=-1), "model.tau must be an int"),
        (lambda c: c["model"].update(kind="transformer"), "model.kind must be one of"),
        (lambda c: c["model"].pop("tau"), "lacks model.tau"),
        (lambda c: c.pop("model"), "lacks config.model"),
        (lambda c: c["data"].update(test_fraction=2), "test_fraction must be a number in (0, 1)"),
        (lambda c: c["data"].update(spec=["x"]), "data.spec must be a string"),
        (lambda c: c.update(task="gan"), "not written by `glassnet train`"),
        (lambda c: c.pop("args"), "lacks config.args"),
    ],
)
def test_crafted_configs_are_refused_before_any_allocation(
    fc_run, capsys, monkeypatch, edit, fragment
):
    state = load_state(fc_run / "checkpoint.safetensors")
    edit(state["config"])
    save_state(fc_run / "crafted.safetensors", state)  # with a valid checksum

    def never(*args, **kwargs):
        raise AssertionError("a model was built from an unchecked config")

    monkeypatch.setattr(tasks, "build_forecaster", never)
    for command in ("eval", "forecast", "export"):
        extra = ["--safetensors", fc_run / "w.safetensors"] if command == "export" else []
        user_error([command, fc_run / "crafted.safetensors", *extra], capsys, fragment)


def test_crafted_recorded_flags_are_refused_on_resume(fc_run, capsys):
    ckpt = fc_run / "checkpoint.safetensors"
    state = load_state(ckpt)
    state["config"]["args"]["lr"] = "fast"
    save_state(ckpt, state)
    user_error([*FC, "--out", fc_run, "--resume", "--epochs", 3], capsys, "no valid --lr")


def test_old_format_checkpoints_get_a_clear_error(fc_run, capsys):
    ckpt = fc_run / "checkpoint.safetensors"
    data = ckpt.read_bytes()
    assert data.count(b'"version":"2"') == 1
    ckpt.write_bytes(data.replace(b'"version":"2"', b'"version":"1"'))
    user_error(["eval", ckpt], capsys, "format 1, which is no longer read")


def test_batch_size_changes_only_at_an_epoch_boundary(fc_run, capsys):
    ckpt = fc_run / "checkpoint.safetensors"
    state = load_state(ckpt)
    state["progress"]["batch_in_epoch"] = 3  # as Ctrl-C in the middle of an epoch leaves it
    save_state(ckpt, state)
    user_error(
        [*FC, "--out", fc_run, "--resume", "--epochs", 3, "--batch-size", 4]
        + ["--override", "batch-size"],
        capsys,
        "only at an epoch boundary",
    )
