"""Peak-RSS probe: ``python -m glassnet.bench.memprobe [--threads N] [--no-torch] [--quick] NAME``.

PyTorch's CPU allocations are invisible to ``tracemalloc``, so both sides are measured the same
way here, in a process of their own: glibc's malloc is told to serve every block of 64 KiB or
more by ``mmap`` (``mallopt(M_MMAP_THRESHOLD)``, which also stops its dynamic threshold), so
freed buffers go back to the kernel and the resident set follows the live memory. For each
case and side: build, run once (warm-up), reset the peak RSS (``echo 5 >
/proc/self/clear_refs``), read ``VmRSS``, run once more, read ``VmHWM``; the difference is the
extra memory that one call needed (glassnet's per-thread scratch buffers are dropped before
it, so they count). Limits: page granularity (4 KiB), thread stacks and library
code touched for the first time count too, and memory the call keeps alive afterwards (gradients,
optimizer state) is in the baseline of the next call, not in its peak.

Prints one JSON line ``{name: {"ours": MiB, "theirs": MiB or null}}``.
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
from collections.abc import Callable

from ..kernels import scratch

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def _set_malloc() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024)
        libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):  # not glibc: the numbers are less tight
        pass


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{key} not in /proc/self/status")


def _peak(fn: Callable[[], None]) -> float:
    fn()
    scratch.clear()  # glassnet's reused scratch buffers count as memory the call needs
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status("VmRSS")
    fn()
    return (_status("VmHWM") - base) / 2**20


def main(argv: list[str]) -> int:
    _set_malloc()
    threads = None
    if argv[:1] == ["--threads"]:
        threads, argv = int(argv[1]), argv[2:]
    no_torch = argv[:1] == ["--no-torch"]
    argv = argv[1:] if no_torch else argv
    quick = argv[:1] == ["--quick"]
    argv = argv[1:] if quick else argv
    from .cases import GROUPS, build_cases, torch_or_none

    torch = None if no_torch else torch_or_none()
    if torch is not None and threads:
        torch.set_num_threads(threads)
    cases = {c.name: c for c in build_cases(GROUPS, quick=quick)}
    gc.collect()
    gc.freeze()
    out: dict[str, dict[str, float | None]] = {}
    for name in argv:
        pair = cases[name].make(torch is not None)
        out[name] = {
            "ours": _peak(pair.ours),
            "theirs": _peak(pair.theirs) if pair.theirs is not None else None,
        }
        del pair
        gc.collect()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
