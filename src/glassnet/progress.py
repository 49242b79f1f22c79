"""Progress of long-running work: one reporter for training, fitting and downloads.

Where the output goes decides how progress looks (``mode="auto"``, the default):

- a terminal: a tqdm bar that stays on screen when its task is done;
- Jupyter: tqdm's notebook widget (``tqdm.auto``), which also stays;
- anything else (a pipe, a file, CI): plain lines, flushed as they are written and never
  rewritten with carriage returns: one every ``interval`` seconds (10 by default) while a task
  runs, so a log shows progress as it happens.

``Progress.line`` prints a line that is always kept (the Trainer's per-epoch summary), in every
mode but ``"off"``. The other modes force a style: ``"bar"``, ``"lines"``, ``"summary"`` (only
``line`` output, no bars) and ``"off"`` (nothing). The environment variables
``GLASSNET_PROGRESS`` (a mode, applied where ``"auto"`` was asked for) and
``GLASSNET_PROGRESS_INTERVAL`` (seconds) change the defaults without touching code.

>>> import io
>>> out = io.StringIO()
>>> p = Progress("lines", file=out, interval=0)
>>> with p.task(2, "epoch 1/3") as task:
...     task.update(loss=0.75)
...     task.update(loss=0.5)
>>> p.line("epoch 1/3  loss 0.625")
>>> print(out.getvalue().replace("0.0s", "T"))
epoch 1/3  1/2 (50%)  loss 0.75  T
epoch 1/3  2/2 (100%)  loss 0.5  T
epoch 1/3  loss 0.625
<BLANKLINE>
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO, TypeVar

__all__ = ["MODES", "Progress", "Task", "as_progress", "format_logs"]

MODES = ("auto", "bar", "lines", "summary", "off")
DEFAULT_INTERVAL = 10.0  # seconds between plain progress lines

T = TypeVar("T")


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython with an ``IPKernelApp``)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _width(stream: Any) -> dict[str, Any]:
    """tqdm's width: follow the terminal, or 100 columns where it reports none (a bare pty)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no fileno (Jupyter, StringIO), no terminal
        columns = None
    return {"ncols": 100} if columns == 0 else {"dynamic_ncols": True}


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def format_logs(logs: Mapping[str, Any]) -> str:
    """``{"loss": 0.41234, "val_acc": 0.9624}`` -> ``"loss 0.4123  val_acc 0.9624"``."""
    return "  ".join(f"{k} {_number(v)}" for k, v in logs.items())


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


class Progress:
    """A progress reporter: bars, plain lines or nothing, depending on where output goes.

    Args:
        mode: ``"auto"`` (a bar on a terminal or in Jupyter, plain lines elsewhere), ``"bar"``,
            ``"lines"``, ``"summary"`` (only :meth:`line` output) or ``"off"``.
        file: the stream to write to; ``None`` means ``sys.stdout`` at the time of writing.
        interval: seconds between plain lines of a running task (default 10, or
            ``$GLASSNET_PROGRESS_INTERVAL``); 0 prints one line per update.
    """

    def __init__(
        self, mode: str = "auto", *, file: TextIO | None = None, interval: float | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"Progress mode must be one of {list(MODES)}, got {mode!r}")
        if interval is None:
            env = os.environ.get("GLASSNET_PROGRESS_INTERVAL")
            try:
                interval = float(env) if env else DEFAULT_INTERVAL
            except ValueError:
                raise ValueError(
                    f"GLASSNET_PROGRESS_INTERVAL must be a number of seconds, got {env!r}"
                ) from None
        if not interval >= 0:
            raise ValueError(f"Progress interval must be >= 0 seconds, got {interval!r}")
        self.mode, self.file, self.interval = mode, file, float(interval)
        self._open_bars = 0

    def __repr__(self) -> str:
        return f"Progress({self.mode!r}, interval={self.interval})"

    @property
    def stream(self) -> TextIO:
        return self.file if self.file is not None else sys.stdout

    def style(self) -> str:
        """What ``mode`` means now: ``"bar"``, ``"lines"``, ``"summary"`` or ``"off"``."""
        mode = self.mode
        if mode == "auto":
            env = os.environ.get("GLASSNET_PROGRESS", "auto")
            if env not in MODES:
                raise ValueError(f"GLASSNET_PROGRESS must be one of {list(MODES)}, got {env!r}")
            mode = env
        if mode == "auto":
            mode = "bar" if _in_notebook() or _isatty(self.stream) else "lines"
        return mode

    def task(
        self,
        total: int | None,
        desc: str,
        *,
        unit: str = "it",
        bytes: bool = False,
        initial: int = 0,
        final_line: bool = True,
    ) -> Task:
        """Start reporting a task of ``total`` steps (None if unknown).

        Args:
            total: the number of steps (or bytes), if known.
            desc: what is running (``"epoch 3/10"``, a file name).
            unit: the step's name in a bar (``"batch"``).
            bytes: steps are bytes: sizes are shown as kB/MB.
            initial: steps already done (a resumed epoch).
            final_line: in plain-line style, print a last line when the task closes (leave it
                off when a summary line follows anyway).
        """
        return Task(self, total, desc, unit=unit, bytes=bytes, initial=initial, final=final_line)

    def track(self, iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
        """Iterate over ``iterable``, reporting one step per item."""
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        with self.task(total, desc) as task:
            for item in iterable:
                yield item
                task.update()

    def line(self, text: str) -> None:
        """Print a line that stays (above any live bar); nothing in mode ``"off"``."""
        if self.style() == "off":
            return
        if self._open_bars:
            from tqdm.auto import tqdm

            tqdm.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class Task:
    """One running task of a :class:`Progress` (a context manager; see ``Progress.task``)."""

    def __init__(
        self,
        progress: Progress,
        total: int | None,
        desc: str,
        *,
        unit: str,
        bytes: bool,
        initial: int,
        final: bool,
    ) -> None:
        self.progress, self.total, self.desc = progress, total, desc
        self.n, self.bytes, self.final = int(initial), bytes, final
        self.postfix: dict[str, Any] = {}
        self.style = progress.style()
        self.start = self._last = time.monotonic()
        self._bar: Any = None
        self._closed = False
        self._printed: int | None = None  # the count of the last plain line
        if self.style == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total,
                desc=desc,
                unit="B" if bytes else unit,
                unit_scale=bytes,
                unit_divisor=1000,
                initial=initial,
                leave=True,
                file=progress.stream,
                **_width(progress.stream),
            )
            progress._open_bars += 1

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1, **postfix: Any) -> None:
        """``n`` more steps done; keyword values (``loss=0.4``) are shown beside the count."""
        self.n += n
        if postfix:
            self.postfix = postfix
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix({k: _number(v) for k, v in postfix.items()}, refresh=False)
            self._bar.update(n)
        elif self.style == "lines":
            now = time.monotonic()
            if now - self._last >= self.progress.interval:
                self._last = now
                self._write()

    def _write(self) -> None:
        count = _size(self.n) if self.bytes else str(self.n)
        if self.total:
            of = _size(self.total) if self.bytes else str(self.total)
            count = f"{count}/{of} ({100 * self.n / self.total:.0f}%)"
        parts = [self.desc, count]
        if self.postfix:
            parts.append(format_logs(self.postfix))
        parts.append(f"{time.monotonic() - self.start:.1f}s")
        self._printed = self.n
        self.progress.line("  ".join(parts))

    def close(self) -> None:
        """Finish: the bar stays; in plain-line style a last line is printed (``final_line``)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
            self.progress._open_bars -= 1
        elif self.style == "lines" and self.final and self._printed != self.n:
            self._write()


def as_progress(value: Progress | bool | str | None) -> Progress:
    """A ``Progress`` from the ``progress=`` argument of glassnet functions.

    ``True`` is ``Progress("auto")``, ``False``/``None`` is ``Progress("off")``, a string is a
    mode, and a ``Progress`` is used as it is.
    """
    if isinstance(value, Progress):
        return value
    if value is None or value is False:
        return Progress("off")
    if value is True:
        return Progress("auto")
    if isinstance(value, str):
        return Progress(value)
    raise TypeError(
        f"progress must be True/False, a mode {list(MODES)} or a glassnet.progress.Progress, "
        f"got {type(value).__name__}"
    )
