"""Timing harness: warm-up, alternating phases, medians, GEMM peak, thread pools and memory.

How a case is timed (see docs/benchmarks.md for the reasoning):

1. both sides are built once (same weights, same input arrays) and each runs ``warmup`` times,
   so first-call allocations, lazy imports and thread-pool start-up are not timed;
2. the timed repetitions run in *phases* of ``phase`` calls of one side, then ``phase`` calls of
   the other, alternating, with the order flipped every phase (ABBA...), so slow drift and
   background load hit both sides alike while the two BLAS thread pools (NumPy's OpenBLAS and
   PyTorch's) never interleave call by call;
3. the garbage collector is collected before each phase and disabled inside it;
4. reported: median, min and spread (interquartile range / median) of each side, the ratio of
   the medians (ours / PyTorch), and GFLOPS from the case's FLOP count.

Peak memory: glassnet's side with ``tracemalloc`` (NumPy reports its data buffers to it) during
one untimed call; both sides also in a separate process through the peak resident set size
(``VmHWM`` after resetting it with ``/proc/self/clear_refs``), see :mod:`glassnet.bench.memprobe`.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..kernels import scratch
from .cases import Case, torch_or_none

__all__ = [
    "Result",
    "Settings",
    "blas_threads",
    "gemm_peak_gflops",
    "machine_info",
    "run_case",
    "rss_peaks",
]


@dataclass
class Settings:
    """How many times to run things. ``quick()`` is the smoke-test preset."""

    warmup: int = 2
    repeat: int = 12  # timed calls per side
    phase: int = 3  # calls of one side before switching to the other
    memory: bool = True  # measure peak memory (tracemalloc and the RSS probe)

    @classmethod
    def quick(cls) -> Settings:
        return cls(warmup=1, repeat=2, phase=1)


@dataclass
class Stats:
    """Summary of one side's timings, in seconds."""

    median: float
    min: float
    spread: float  # interquartile range / median
    n: int

    @classmethod
    def of(cls, times: list[float]) -> Stats:
        med = statistics.median(times)
        if len(times) >= 4:
            q = statistics.quantiles(times, n=4)
            iqr = q[2] - q[0]
        else:
            iqr = max(times) - min(times)
        return cls(med, min(times), iqr / med if med > 0 else 0.0, len(times))


@dataclass
class Result:
    """Everything measured for one case (times in seconds, memory in MiB)."""

    name: str
    group: str
    shape: str
    flops: float | None
    ours: Stats
    theirs: Stats | None = None
    ratio: float | None = None
    ours_gflops: float | None = None
    theirs_gflops: float | None = None
    ours_tracemalloc_mb: float | None = None
    ours_rss_mb: float | None = None
    theirs_rss_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def blas_threads() -> tuple[int, str]:
    """Threads of NumPy's BLAS, and how that number was found.

    threadpoolctl when installed; else ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` when set;
    else the CPUs this process may run on (OpenBLAS's default is one thread per core).
    """
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return int(pool["num_threads"]), "threadpoolctl"
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var]), var
    try:
        return len(os.sched_getaffinity(0)), "sched_getaffinity"
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1, "os.cpu_count"


def gemm_peak_gflops(n: int = 1024, reps: int = 5) -> float:
    """Best float32 GEMM rate of NumPy's BLAS on ``n x n`` matrices, in GFLOPS."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)  # warm-up
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best / 1e9


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_name() -> str:
    try:
        cfg: Any = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # best effort: varies across NumPy versions
        return "unknown"


def machine_info() -> dict[str, Any]:
    """CPU, cores, load, library versions and BLAS of this machine."""
    torch = torch_or_none()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        load = []
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": load,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _blas_name(),
        "torch": torch.__version__ if torch is not None else None,
        "platform": platform.platform(),
    }


def _timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _phases(sides: list[Callable[[], None]], repeat: int, phase: int) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    while len(times[0]) < repeat:
        k = min(phase, repeat - len(times[0]))
        for i in order:
            gc.collect()
            gc.disable()
            try:
                for _ in range(k):
                    times[i].append(_timed(sides[i]))
            finally:
                gc.enable()
        order.reverse()
    return times


def _tracemalloc_peak(fn: Callable[[], None]) -> float:
    scratch.clear()  # reused scratch buffers are memory the call needs: let it allocate them
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20


def run_case(case: Case, settings: Settings, with_torch: bool = True) -> Result:
    """Time one case (both sides when PyTorch is installed and ``with_torch``)."""
    with_torch = with_torch and torch_or_none() is not None
    pair = case.make(with_torch)
    sides = [pair.ours] + ([pair.theirs] if pair.theirs is not None else [])
    warmup, repeat, phase = settings.warmup, settings.repeat, settings.phase
    if case.repeat is not None:
        # an end-to-end run of seconds: hundreds of steps are their own warm-up (and the first
        # call's one-time costs are part of what a user waits for); alternate call by call
        warmup, repeat, phase = 0, min(repeat, case.repeat), 1
    for _ in range(warmup):
        for fn in sides:
            fn()
    times = _phases(sides, repeat, phase)
    res = Result(case.name, case.group, case.shape, case.flops, Stats.of(times[0]))
    if case.flops:
        res.ours_gflops = case.flops / res.ours.median / 1e9
    if len(sides) == 2:
        res.theirs = Stats.of(times[1])
        res.ratio = res.ours.median / res.theirs.median
        if case.flops:
            res.theirs_gflops = case.flops / res.theirs.median / 1e9
    if settings.memory and case.repeat is None:  # an end-to-end run: its peak is a step's
        res.ours_tracemalloc_mb = _tracemalloc_peak(pair.ours)
    return res


def rss_peaks(
    names: list[str], threads: int, quick: bool = False, timeout: float = 900.0
) -> dict[str, dict]:
    """Peak-RSS growth of each side for the named cases, measured in a fresh subprocess.

    Returns ``{name: {"ours": MiB, "theirs": MiB or None}}``; empty when the probe is not
    available on this system (no ``/proc/self/clear_refs``) or fails.
    """
    if not names:
        return {}
    cmd = [sys.executable, "-m", "glassnet.bench.memprobe", "--threads", str(threads)]
    if torch_or_none() is None:  # the parent has no PyTorch: neither measures it
        cmd.append("--no-torch")
    cmd += ["--quick", *names] if quick else names
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
        return {}
    try:
        out: dict[str, dict] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    return out
