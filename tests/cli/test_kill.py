"""SIGKILL at random points, then --resume: the result is bit-identical to an uninterrupted run.

While each killed run is alive, a second run on the same --out is refused (the run lock).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from glassnet.cli import main
from glassnet.train import load_state

ARGS = ["train", "forecast", "--model", "mlp", "--hidden", "8", "--no-progress", "--no-figures"]
ARGS += ["--epochs", "16"]
ENTRY = "import sys; from glassnet.cli import main; sys.exit(main())"
CK = "checkpoint.safetensors"


def _records(out):
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [(r["event"], r["step"], r["loss"]) for r in map(json.loads, lines)]


def _wait_for_lock(out, pid, proc, timeout=60.0):
    """Until the child holds the run lock (it writes its pid into the lock file)."""
    lock = out / (CK + ".lock")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if lock.read_text() == f"{pid}\n":
                return True
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    return False


def _last_step(out):
    """The step of the last whole record in the run's log (0 if none)."""
    try:
        lines = (out / "metrics.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            return json.loads(line)["step"]
        except (ValueError, KeyError):
            continue  # a line torn by an earlier kill
    return 0


def test_kill_9_loop_then_resume_is_bit_identical(tmp_path, capsys):
    ref = tmp_path / "ref"
    assert main([*ARGS, "--out", str(ref)]) == 0  # 16 epochs of 15 steps
    out = tmp_path / "killed"
    rng = np.random.default_rng(2024)
    kills = 0
    for _ in range(3):
        more = ["--resume"] if (out / CK).exists() else ["--overwrite"] * out.exists()
        # kill once the child has logged 4 to 50 steps past anything logged before: at a random
        # point of its training (mid-step, mid-log-line or mid-save), whatever the machine's speed
        target = _last_step(out) + int(rng.integers(4, 50))
        proc = subprocess.Popen(
            [sys.executable, "-c", ENTRY, *ARGS, "--out", str(out), *more],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert _wait_for_lock(out, proc.pid, proc)
            capsys.readouterr()
            code = main([*ARGS, "--out", str(out), "--resume"])  # a concurrent second run
            err = capsys.readouterr().err
            assert code == 2 and f"in use by process {proc.pid}" in err, err
            while proc.poll() is None and _last_step(out) < target:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.02))
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            _, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err
        if (out / CK).exists():
            load_state(out / CK)  # whole after every kill: never half-written
    assert kills == 3
    assert main([*ARGS, "--out", str(out), "--resume"]) == 0
    got, want = load_state(out / CK)["model"], load_state(ref / CK)["model"]
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    assert _records(out) == _records(ref)  # every step logged once, with the same loss
    assert sorted(p.name for p in out.iterdir()) == [CK, CK + ".json", "metrics.jsonl"]
