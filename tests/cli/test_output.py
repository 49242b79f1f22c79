"""What `glassnet train` shows and writes: progress in a pipe and on a terminal, honest --help
defaults, validation curves, the forecast figure, the CNN recipe flags and ONNX metadata."""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from glassnet.cli import main
from glassnet.cli import train as train_cli
from glassnet.cli.main import build_parser, show_default
from glassnet.train import load_state, save_state

from ..viz._png import count, pixels

ENTRY = "import sys; from glassnet.cli import main; sys.exit(main())"
FC = ["train", "forecast", "--model", "mlp", "--hidden", "8", "--epochs", "2", "--no-figures"]
NUM = r"[-+0-9.e]+"
ROOT = Path(__file__).resolve().parents[2]


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLASSNET_PROGRESS")}
    return env | extra


def _run_in_pty(args: list[str], env: dict[str, str], cols: int = 120) -> tuple[int, str]:
    """Run ``python -c ENTRY args`` on a pseudo-terminal; its exit code and everything shown."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.execve(sys.executable, [sys.executable, "-c", ENTRY, *args], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, cols, 0, 0))
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


# ----------------------------------------------------------------------------- pipe and pty
def _in_a_pipe(out: Path, **env: str) -> str:
    """What ``glassnet FC --out out`` writes to stdout when that is a pipe."""
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY, *FC, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(**env),
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_in_a_pipe_progress_is_plain_lines(tmp_path):
    out = _in_a_pipe(tmp_path / "o", GLASSNET_PROGRESS_INTERVAL="0")
    assert "\r" not in out and "\x1b" not in out
    lines = out.splitlines()
    progress = [i for i, s in enumerate(lines) if re.match(r"epoch 1/2  \d+/15 \(\d+%\)", s)]
    assert len(progress) == 15  # one line per batch at interval 0
    summary = lines.index(next(s for s in lines if s.startswith("epoch 1/2  loss")))
    assert max(progress) < summary  # the epoch's line follows its progress
    assert re.fullmatch(rf"epoch 2/2  loss {NUM}  \d+\.\ds", lines[summary + 16])
    assert lines[summary + 17].startswith("forecast (mlp) on sunspots")


def test_default_interval_in_a_pipe_gives_only_the_epoch_lines(tmp_path):
    lines = _in_a_pipe(tmp_path / "o").splitlines()
    assert [s.split("  ")[0] for s in lines[:2]] == ["epoch 1/2", "epoch 2/2"]
    assert all("loss" in s for s in lines[:2])  # runs of a few seconds: no progress lines


def test_on_a_terminal_the_bars_stay_and_each_epoch_has_its_line(tmp_path):
    code, shown = _run_in_pty([*FC, "--out", str(tmp_path / "o")], _env())
    assert code == 0, shown
    for e in (1, 2):
        bar = shown.rindex(f"epoch {e}/2: 100%")
        summary = shown.index(f"epoch {e}/2  loss")
        assert "15/15" in shown[bar:summary]
        assert bar < shown.index("\n", bar) < summary  # the finished bar keeps its own line
    assert "\r" in shown  # a live bar (rewritten in place)


def test_no_progress_prints_only_the_epoch_lines(tmp_path, capsys):
    code, out, _ = run([*FC, "--no-progress", "--out", tmp_path / "o"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert [bool(re.fullmatch(rf"epoch \d/2  loss {NUM}  \d+\.\ds", s)) for s in lines[:3]] == [
        True,
        True,
        False,
    ]


# ----------------------------------------------------------------------------- --help
def _parsers() -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        found[name] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, p in action.choices.items():
                    walk(p, f"{name} {sub}".strip())

    walk(build_parser(), "")
    return found


def _help_entries(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's help entry (its lines of --help, joined), by its first option string."""
    entries: dict[str, str] = {}
    current = None
    for line in parser.format_help().splitlines():
        if re.match(r"  -", line):
            current = line.split()[0].rstrip(",")
            entries[current] = line
        elif current is not None and line.startswith("    "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def test_help_shows_every_default():
    missing = []
    for name, parser in _parsers().items():
        entries = _help_entries(parser)
        for action in parser._actions:
            if not action.option_strings or action.default in (argparse.SUPPRESS, []):
                continue
            if action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction):
                continue  # plain flags (--resume): off unless given
            entry = " ".join(entries[action.option_strings[0]].split())
            if action.default is None or isinstance(action.default, bool):
                ok = "(default: " in entry or "default: " in entry
            else:
                ok = f"(default: {show_default(action.default)})" in entry
            if not ok:
                missing.append(f"glassnet {name} {action.option_strings[0]}: {entry}")
    assert not missing, missing


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["train", "charlm"], ["--cell {lstm,gru,rnn} recurrent cell (default: lstm)"]),
        (["train", "charlm"], ["(default: 64)", "--clip NORM", "(default: 1.0)"]),
        (["train", "forecast"], ["forecaster (default: lstm)", "(default: 1.0)"]),
        (["train", "cnn"], ["no clipping (default: none)", "(default: on)", "(default: 20)"]),
        (["generate"], ["(default: 300)", "(default: 0.8)", "(default: all)", "(default: '\\n')"]),
        (["forecast"], ["values to forecast (default: 20)"]),
    ],
)
def test_help_names_the_defaults_the_issue_asked_for(command, shown):
    text = " ".join(_parsers()[" ".join(command)].format_help().split())
    for fragment in shown:
        assert fragment in text, (fragment, text)


def test_the_clip_a_run_uses_is_the_one_help_shows(tmp_path, capsys, monkeypatch):
    used = []

    class Recording(train_cli.Trainer):
        def __init__(self, *args, **kwargs):
            used.append(kwargs["clip_grad_norm"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(train_cli, "Trainer", Recording)
    lstm = ["train", "forecast", "--hidden", "4", "--epochs", "1", "--no-figures"]
    assert run([*lstm, "--out", tmp_path / "a"], capsys)[0] == 0
    assert run([*lstm, "--clip", "none", "--out", tmp_path / "b"], capsys)[0] == 0
    assert run([*lstm, "--clip", "2.5", "--out", tmp_path / "c"], capsys)[0] == 0
    assert used == [1.0, None, 2.5]
    parser = _parsers()["train forecast"]
    assert next(a.default for a in parser._actions if a.dest == "clip") == 1.0
    saved = [load_state(tmp_path / d / "checkpoint.safetensors")["config"] for d in "abc"]
    assert [c["args"]["clip"] for c in saved] == [1.0, None, 2.5]


def test_a_checkpoint_from_before_the_honest_defaults_resumes_as_it_ran(tmp_path, capsys):
    """Old configs recorded clip none for runs that clipped at 1.0, and had no CNN recipe flags."""
    gru = ["train", "forecast", "--model", "gru", "--hidden", "4", "--no-figures"]
    out = tmp_path / "o"
    assert run([*gru, "--epochs", "1", "--out", out], capsys)[0] == 0
    ckpt = out / "checkpoint.safetensors"
    state = load_state(ckpt)
    state["config"].pop("args_version")
    state["config"]["args"]["clip"] = None
    save_state(ckpt, state)
    assert run([*gru, "--epochs", "2", "--out", out, "--resume"], capsys)[0] == 0
    assert load_state(ckpt)["config"]["args"]["clip"] == 1.0  # what the old run really did
    cnn = ["train", "cnn", "--channels", "2", "--hidden", "4", "--no-figures", "--no-progress"]
    out = tmp_path / "cnn"
    assert run([*cnn, "--epochs", "1", "--no-batch-norm", "--out", out], capsys)[0] == 0
    ckpt = out / "checkpoint.safetensors"
    state = load_state(ckpt)
    state["config"].pop("args_version")
    for flag in ("batch_norm", "dropout", "weight_decay", "schedule"):
        state["config"]["args"].pop(flag)
    save_state(ckpt, state)
    assert run([*cnn, "--epochs", "2", "--out", out, "--resume"], capsys)[0] == 0
    assert load_state(ckpt)["config"]["args"]["batch_norm"] is False
    code, _, err = run([*cnn, "--epochs", "3", "--out", out, "--resume", "--batch-norm"], capsys)
    assert code == 2 and "--batch-norm True differs from the checkpoint's False" in err


# ----------------------------------------------------------------------------- what runs write
def test_charlm_has_a_validation_curve_that_matches_the_printed_perplexity(tmp_path, capsys):
    (tmp_path / "t.txt").write_text("the quick brown fox jumps over the lazy dog. " * 40)
    out = tmp_path / "lm"
    args = ["train", "charlm", "--data", tmp_path / "t.txt", "--epochs", 2, "--hidden", 16]
    args += ["--embed", 8, "--seq-len", 16, "--batch-size", 4, "--out", out, "--no-progress"]
    code, printed, _ = run(args, capsys)
    assert code == 0
    lines = printed.splitlines()
    assert re.fullmatch(rf"epoch 2/2  loss {NUM}  val_loss {NUM}  \d+\.\ds", lines[1])
    history = load_state(out / "checkpoint.safetensors")["history"]
    ppl = float(re.search(r"validation perplexity ([0-9.]+)", printed).group(1))
    assert math.exp(history["val_loss"][-1]) == pytest.approx(ppl, abs=0.006)  # printed to .2f
    img = pixels(out / "curves.png")
    assert count(img, to_rgb("C1")) > 100  # the validation curve (C1) next to training (C0)


def test_forecast_writes_its_forecast_and_curves(tmp_path, capsys):
    out = tmp_path / "fc"
    code, _, _ = run(
        ["train", "forecast", "--model", "ar", "--epochs", 3, "--out", out, "--no-progress"], capsys
    )
    assert code == 0
    for name in ("forecast.png", "curves.png"):
        assert (out / name).stat().st_size > 10_000
    img = pixels(out / "forecast.png")
    on_shade = 0.9 * np.array(to_rgb("C0")) + 0.1 * 0.925  # alpha 0.9 over the held-out shade
    assert count(img, tuple(on_shade), tol=4) > 300  # the model's one-step forecasts


def test_cnn_recipe_flags(tmp_path, capsys):
    out = tmp_path / "cnn"
    args = ["train", "cnn", "--channels", "4", "--hidden", "8", "--epochs", "3", "--no-figures"]
    args += ["--dropout", "0.3", "--weight-decay", "0.01", "--schedule", "cosine", "--lr", "2e-3"]
    code, printed, _ = run([*args, "--out", out, "--no-progress"], capsys)
    assert code == 0
    state = load_state(out / "checkpoint.safetensors")
    model = state["config"]["model"]
    assert model["batch_norm"] is True and model["dropout"] == 0.3  # batch norm by default
    assert any("running_mean" in k for k in state["model"])
    assert state["history"]["lr"] == pytest.approx([1.5e-3, 0.5e-3, 0.0], abs=1e-12)  # cosine
    assert state["optimizer"]["param_groups"][0]["weight_decay"] == 0.01  # AdamW
    assert " lr 0.0015 " in printed.splitlines()[0]  # a schedule shows its lr per epoch
    code, printed, _ = run(["eval", out / "checkpoint.safetensors"], capsys)
    assert code == 0 and printed.startswith("accuracy ")


# ----------------------------------------------------------------------------- ONNX metadata
def _interop_snippet() -> str:
    doc = (ROOT / "docs" / "interop.md").read_text()
    section = doc[doc.index("## What an exported file tells its user") :]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


def test_onnx_metadata_and_the_documented_way_to_use_it(tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.txt").write_text("Shall I compare thee to a summer's day? " * 30)
    runs = {
        "cnn": ["train", "cnn", "--channels", "4", "--hidden", "8", "--epochs", "1"],
        "charlm": ["train", "charlm", "--data", "t.txt", "--hidden", "8", "--embed", "4"],
        "forecast": ["train", "forecast", "--model", "gru", "--hidden", "4", "--epochs", "2"],
    }
    runs["charlm"] += ["--epochs", "1", "--seq-len", "8", "--batch-size", "4"]
    for name, args in runs.items():
        assert run([*args, "--out", name, "--no-figures", "--no-progress"], capsys)[0] == 0
        ckpt = f"{name}/checkpoint.safetensors"
        assert run(["export", ckpt, "--onnx", f"{name}.onnx"], capsys)[0] == 0
    namespace: dict = {}
    exec(compile(_interop_snippet(), "docs/interop.md", "exec"), namespace)
    assert namespace["predicted"] == ["0", "0"] or all(
        p in [str(c) for c in range(10)] for p in namespace["predicted"]
    )
    cfg = load_state("charlm/checkpoint.safetensors")["config"]
    assert namespace["itos"] == ["<unk>", *cfg["vocab"]["chars"]]
    assert namespace["text"].startswith("Shall I") and len(namespace["text"]) == 47
    code, printed, _ = run(["forecast", "forecast/checkpoint.safetensors", "--steps", 1], capsys)
    assert code == 0
    first = float(printed.splitlines()[1].split(",")[1])
    assert namespace["next_value"] == pytest.approx(first, rel=1e-4)
    meta = namespace["fc"].get_modelmeta().custom_metadata_map
    assert (
        json.loads(meta["scaler"])
        == load_state("forecast/checkpoint.safetensors")["config"]["scaler"]
    )
    assert meta["task"] == "forecast" and "standardised" in meta["input"]


def test_export_metadata_must_be_strings():
    import glassnet
    from glassnet import nn

    with pytest.raises(TypeError, match="metadata keys and values as strings.*'n': int"):
        glassnet.onnx.export(nn.Linear(2, 1), glassnet.randn(1, 2), metadata={"n": 3})
    proto = glassnet.onnx.export(nn.Linear(2, 1), glassnet.randn(1, 2), metadata={"k": "v"})
    assert [(p.key, p.value) for p in proto.metadata_props] == [("k", "v")]
