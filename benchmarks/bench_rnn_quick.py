"""Quick side-by-side speed of glassnet's RNN/LSTM/GRU against PyTorch CPU (forward + backward).

Configurations (issue 4), float32, 1 layer unless stated:
    (a) batch 32, T=100, input 64, hidden 256
    (b) batch 64, T=35, input 650, hidden 650, 2 layers
    (c) batch 1, T=1000, input 1, hidden 32

Each repetition times one forward and one backward (input requires grad, upstream gradient of
ones on the output) of glassnet and of PyTorch, alternating, after warm-up, with a short idle gap
(``--gap``) before each timed run so that the other library's BLAS/OpenMP worker threads, which
spin for a while after each call, have gone to sleep. The table shows the medians and their ratio
(ours / PyTorch), the ratio of the minimum times (the least disturbed runs, useful on a busy
machine), and the peak of glassnet's NumPy allocations during one forward+backward
(tracemalloc). PyTorch runs with 2 threads (``--threads``); NumPy's BLAS uses its default.

Usage::

    python benchmarks/bench_rnn_quick.py [--kinds LSTM GRU RNN] [--configs a b c] [--reps 7]
        [--gap 0.2]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import torch

import glassnet
from glassnet import nn

CONFIGS = {
    "a": {"N": 32, "T": 100, "D": 64, "H": 256, "L": 1},
    "b": {"N": 64, "T": 35, "D": 650, "H": 650, "L": 2},
    "c": {"N": 1, "T": 1000, "D": 1, "H": 32, "L": 1},
}
TARGETS = {"LSTM": {"a": 1.3, "b": 1.3, "c": 2.5}, "GRU": {}, "RNN": {}}


def _pair(kind: str, cfg: dict[str, int], seed: int = 0):  # type: ignore[no-untyped-def]
    ours = getattr(nn, kind)(cfg["D"], cfg["H"], cfg["L"], rng=np.random.default_rng(seed))
    theirs = getattr(torch.nn, kind)(cfg["D"], cfg["H"], cfg["L"])
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(seed + 1).standard_normal((cfg["T"], cfg["N"], cfg["D"]))
    x = x.astype(np.float32)

    def run_ours() -> None:
        xg = glassnet.tensor(x, requires_grad=True)
        y, _ = ours(xg)
        y.backward(np.ones(y.shape, np.float32))

    def run_theirs() -> None:
        xt = torch.tensor(x, requires_grad=True)
        y, _ = theirs(xt)
        y.backward(torch.ones_like(y))

    return run_ours, run_theirs


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench(kind: str, name: str, reps: int, gap: float) -> dict[str, float]:
    run_ours, run_theirs = _pair(kind, CONFIGS[name])
    for _ in range(2):
        run_ours()
        run_theirs()
    ours, theirs = [], []
    for _ in range(reps):
        time.sleep(gap)
        ours.append(_time(run_ours))
        time.sleep(gap)
        theirs.append(_time(run_theirs))
    tracemalloc.start()
    run_ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    o, t = float(np.median(ours)), float(np.median(theirs))
    best = min(ours) / min(theirs)
    return {"ours": o, "torch": t, "ratio": o / t, "best": best, "peak_mb": peak / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kinds", nargs="+", default=["LSTM", "GRU", "RNN"])
    ap.add_argument("--configs", nargs="+", default=["a", "b", "c"])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gap", type=float, default=0.2, help="idle seconds before each timed run")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'layer':6} {'cfg':3} {'ours ms':>9} {'torch ms':>9} {'ratio':>6} {'min r':>6} "
          f"{'target':>6} {'peak MB':>8}")  # fmt: skip
    for kind in args.kinds:
        for name in args.configs:
            r = bench(kind, name, args.reps, args.gap)
            target = TARGETS[kind].get(name, 1.0)
            print(
                f"{kind:6} {name:3} {r['ours'] * 1e3:9.1f} {r['torch'] * 1e3:9.1f} "
                f"{r['ratio']:6.2f} {r['best']:6.2f} {target:6.1f} {r['peak_mb']:8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
