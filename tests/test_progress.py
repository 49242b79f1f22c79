"""The progress reporter: a bar that stays on a terminal, plain flushed lines elsewhere."""

from __future__ import annotations

import io
import re
import sys
import types
import typing

import pytest

from glassnet.progress import Progress, as_progress, format_logs


class Stream(io.StringIO):
    """A text stream that counts flushes and says whether it is a terminal."""

    def __init__(self, tty: bool = False) -> None:
        super().__init__()
        self.tty, self.flushes = tty, 0

    def isatty(self) -> bool:
        return self.tty

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_plain_lines_are_flushed_one_by_one_and_never_rewritten():
    out = Stream()
    p = Progress("lines", file=out, interval=0)
    with p.task(4, "epoch 2/5", unit="batch") as task:
        for i in range(4):
            task.update(loss=1.0 / (i + 1), acc=0.5)
            assert out.flushes == i + 1  # each line reaches the pipe when it is written
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 4  # the last update was printed: closing adds nothing
    assert re.fullmatch(r"epoch 2/5  1/4 \(25%\)  loss 1  acc 0.5  \d+\.\ds", lines[0])
    assert re.fullmatch(r"epoch 2/5  4/4 \(100%\)  loss 0.25  acc 0.5  \d+\.\ds", lines[3])


def test_a_long_interval_prints_only_the_final_line():
    out = Stream()
    with Progress("lines", file=out, interval=3600).task(None, "file.gz", bytes=True) as task:
        for _ in range(3):
            task.update(1500)
    assert re.fullmatch(r"file.gz  4.5 kB  \d+\.\ds\n", out.getvalue())
    out = Stream()
    with Progress("lines", file=out, interval=3600).task(3, "epoch", final_line=False) as task:
        task.update(3)
    assert out.getvalue() == ""  # the caller prints its own summary line


def test_auto_is_lines_in_a_pipe_and_a_bar_that_stays_on_a_terminal():
    pipe = Stream(tty=False)
    p = Progress(file=pipe, interval=0)
    assert p.style() == "lines"
    tty = Stream(tty=True)
    p = Progress(file=tty)
    assert p.style() == "bar"
    with p.task(3, "epoch 1/1", unit="batch") as task:
        for _ in range(3):
            task.update(loss=0.5)
        p.line("written above the bar")
    p.line("epoch 1/1  loss 0.5  0.1s")
    text = tty.getvalue()
    assert "\r" in text and "3/3" in text and "loss=0.5" in text
    # leave=True: the finished bar stays on its own line, the summary comes after it
    last_bar = text.rindex("100%")
    assert text.index("\n", last_bar) < text.index("epoch 1/1  loss 0.5")
    assert "written above the bar" in text


def test_summary_and_off():
    out = Stream()
    p = Progress("summary", file=out, interval=0)
    with p.task(2, "epoch") as task:
        task.update(2, loss=1.0)
    p.line("epoch 1/1  loss 1")
    assert out.getvalue() == "epoch 1/1  loss 1\n"
    out = Stream(tty=True)
    p = Progress("off", file=out)
    with p.task(2, "epoch") as task:
        task.update(2)
    p.line("nothing")
    assert out.getvalue() == ""


def test_environment_variables(monkeypatch):
    out = Stream(tty=True)
    monkeypatch.setenv("GLASSNET_PROGRESS", "lines")
    assert Progress(file=out).style() == "lines"  # applies where "auto" was asked for
    assert Progress("summary", file=out).style() == "summary"
    monkeypatch.setenv("GLASSNET_PROGRESS", "loud")
    with pytest.raises(ValueError, match="GLASSNET_PROGRESS must be one of"):
        Progress(file=out).style()
    monkeypatch.delenv("GLASSNET_PROGRESS")
    monkeypatch.setenv("GLASSNET_PROGRESS_INTERVAL", "2.5")
    assert Progress().interval == 2.5
    monkeypatch.setenv("GLASSNET_PROGRESS_INTERVAL", "soon")
    with pytest.raises(ValueError, match="GLASSNET_PROGRESS_INTERVAL must be a number"):
        Progress()


def test_a_jupyter_kernel_gets_the_bar(monkeypatch):
    class Shell:
        config: typing.ClassVar[dict] = {"IPKernelApp": {}}

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: Shell()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert Progress(file=Stream(tty=False)).style() == "bar"  # notebook output is no terminal
    Shell.config = {}  # a terminal IPython: decided by the stream as usual
    assert Progress(file=Stream(tty=False)).style() == "lines"


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="mode must be one of"):
        Progress("fancy")
    with pytest.raises(ValueError, match="interval must be >= 0"):
        Progress(interval=-1)
    assert as_progress(False).mode == "off" and as_progress(None).mode == "off"
    assert as_progress(True).mode == "auto" and as_progress("lines").mode == "lines"
    p = Progress("summary")
    assert as_progress(p) is p
    with pytest.raises(TypeError, match="progress must be True/False"):
        as_progress(3)
    assert format_logs({"loss": 0.412345, "n": 3, "x": float("nan")}) == "loss 0.4123  n 3  x nan"


def test_track_counts_the_items():
    out = Stream()
    items = list(Progress("lines", file=out, interval=0).track(range(3), "cases"))
    assert items == [0, 1, 2]
    assert out.getvalue().splitlines()[-1].startswith("cases  3/3 (100%)")
