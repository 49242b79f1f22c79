"""Quick side-by-side speed check of glassnet convolution against PyTorch CPU (float32).

Forward + backward of one layer on the five shapes of issue 3, glassnet and PyTorch alternating in
the same process with the same thread count, median of ``--reps`` timed runs after warm-up.
Peak memory of the glassnet side is measured with ``tracemalloc`` (NumPy reports its
allocations there) in a separate untimed run; "floor" is the memory any implementation must hold
(input, output, their gradients, weights and weight gradients).

    python benchmarks/bench_conv_quick.py [--reps 7] [--threads N] [--cases a,b,c]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_conv_quick.py   # single-threaded comparison

Timings on a shared machine are only meaningful when it is otherwise idle (the load average is
printed): with another process on the cores, OpenBLAS's threads wait for each other at every
GEMM call and NumPy-side times grow several-fold, far more than PyTorch's. The full benchmark
suite lives elsewhere; this script is for quick checks while tuning.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import torch

import glassnet
from glassnet import nn

# name: (spatial dims, N, C, F, size, kernel, stride, padding)
CASES: dict[str, tuple[int, int, int, int, tuple[int, ...], int, int, int]] = {
    "a": (2, 64, 1, 6, (28, 28), 5, 1, 0),
    "b": (2, 64, 32, 64, (28, 28), 3, 1, 1),
    "c": (2, 8, 64, 64, (56, 56), 3, 1, 1),
    "d": (2, 8, 64, 128, (56, 56), 3, 2, 1),
    "e": (1, 32, 64, 64, (1000,), 5, 1, 2),
}


def _layers(nd: int, c: int, f: int, k: int, s: int, p: int) -> tuple[nn.Module, torch.nn.Module]:
    ours = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[nd](c, f, k, s, p)
    ref = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[nd](c, f, k, s, p)
    ref.load_state_dict({key: torch.from_numpy(v.copy()) for key, v in ours.state_dict().items()})
    return ours, ref


def _time(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_case(name: str, reps: int, warmup: int) -> dict[str, float]:
    nd, n, c, f, size, k, s, p = CASES[name]
    ours, ref = _layers(nd, c, f, k, s, p)
    x_np = np.random.default_rng(0).standard_normal((n, c, *size)).astype(np.float32)
    x_g = glassnet.tensor(x_np, requires_grad=True)
    x_t = torch.tensor(x_np, requires_grad=True)
    y_shape = ours(x_g).shape
    dy_np = np.random.default_rng(1).standard_normal(y_shape).astype(np.float32)
    dy_g, dy_t = glassnet.tensor(dy_np), torch.tensor(dy_np)

    def step_ours() -> None:
        x_g.grad = None
        ours.zero_grad()
        ours(x_g).backward(dy_g)

    def step_torch() -> None:
        x_t.grad = None
        ref.zero_grad()
        ref(x_t).backward(dy_t)

    for _ in range(warmup):
        step_ours()
        step_torch()
    t_ours, t_torch = [], []
    for _ in range(reps):  # alternate so that background load hits both alike
        t_ours.append(_time(step_ours))
        t_torch.append(_time(step_torch))
    tracemalloc.start()
    step_ours()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    floor = 4 * (2 * x_np.size + 2 * dy_np.size + 2 * ours.weight.data.size)
    mo, mt = statistics.median(t_ours), statistics.median(t_torch)
    return {
        "ours_ms": 1e3 * mo,
        "torch_ms": 1e3 * mt,
        "ratio": mo / mt,
        "best": min(t_ours) / min(t_torch),
        "peak_mb": peak / 2**20,
        "floor_mb": floor / 2**20,
    }


def _load() -> str:
    return (
        " ".join(open("/proc/loadavg").read().split()[:3])
        if os.path.exists("/proc/loadavg")
        else "?"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("OPENBLAS_NUM_THREADS", len(os.sched_getaffinity(0)))),
        help="torch threads; match NumPy's OpenBLAS (one per core unless OPENBLAS_NUM_THREADS)",
    )
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads={args.threads} reps={args.reps} fwd+bwd float32; load average {_load()}")
    print("ratio = median ours / median torch; best = fastest ours / fastest torch")
    print(
        f"{'case':<5}{'glassnet ms':>12}{'torch ms':>10}{'ratio':>7}{'best':>6}"
        f"{'peak MB':>9}{'floor MB':>9}"
    )
    for name in args.cases.split(","):
        r = run_case(name, args.reps, args.warmup)
        print(
            f"{name:<5}{r['ours_ms']:12.1f}{r['torch_ms']:10.1f}{r['ratio']:7.2f}{r['best']:6.2f}"
            f"{r['peak_mb']:9.1f}{r['floor_mb']:9.1f}"
        )
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
