"""Run the suite and present it: a text table, JSON, and the Markdown page of the docs."""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .._atomic import atomic_write_text
from .cases import GROUPS, build_cases, torch_or_none
from .harness import Result, Settings, blas_threads, gemm_peak_gflops, machine_info, rss_peaks
from .harness import run_case as _run_case

__all__ = ["COLUMNS", "Report", "format_markdown", "format_table", "run_suite"]

# (header, width) of the text table, in order
COLUMNS: list[tuple[str, int]] = [
    ("case", 26),
    ("shape", 36),
    ("ours ms", 9),
    ("min", 8),
    ("spr%", 5),
    ("torch ms", 9),
    ("min", 8),
    ("spr%", 5),
    ("ratio", 6),
    ("GFLOPS", 7),
    ("%peak", 6),
    ("tGFLOPS", 8),
    ("ours MB", 8),
    ("oRSS MB", 8),
    ("tRSS MB", 8),
]


class Report(dict[str, Any]):
    """JSON-ready result of :func:`run_suite`: ``machine``, ``settings``, ``results``."""

    @property
    def results(self) -> list[dict[str, Any]]:
        return self["results"]


def run_suite(
    groups: Sequence[str] = GROUPS,
    *,
    quick: bool = False,
    repeat: int | None = None,
    memory: bool = True,
    names: Sequence[str] | None = None,
    progress: TextIO | None = None,
) -> Report:
    """Run the benchmark cases of ``groups`` (optionally only ``names``) and collect the results.

    Args:
        groups: any of ``'conv'``, ``'pool'``, ``'rnn'``, ``'train'``.
        quick: the smoke preset (1 warm-up, 2 timed calls per side, smaller GEMM probe).
        repeat: timed calls per side (overrides the preset).
        memory: measure peak memory (tracemalloc in-process, RSS in a subprocess).
        names: restrict to these case names.
        progress: stream to print one line per finished case (e.g. ``sys.stderr``).
    """
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise ValueError(f"run_suite expected groups from {GROUPS}, got {bad}")
    settings = Settings.quick() if quick else Settings()
    if repeat is not None:
        if repeat < 1:
            raise ValueError(f"run_suite expected repeat >= 1, got {repeat}")
        settings.repeat = repeat
    settings.memory = memory
    torch = torch_or_none()
    threads, how = blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    peak = gemm_peak_gflops(512 if quick else 1024, 3 if quick else 7)
    cases = build_cases(tuple(groups), quick=quick)
    if names is not None:
        unknown = set(names) - {c.name for c in cases}
        if unknown:
            raise ValueError(f"run_suite: unknown case names {sorted(unknown)}")
        cases = [c for c in cases if c.name in set(names)]
    results: list[Result] = []
    gc.collect()
    gc.freeze()  # the libraries' objects: later collections (one per phase) stay cheap
    for case in cases:
        r = _run_case(case, settings)
        if r.ours_gflops is not None:
            r.extra["ours_peak_fraction"] = r.ours_gflops / peak
        results.append(r)
        if progress is not None:
            print(_row(r.to_dict()), file=progress, flush=True)
    if memory:
        rss = rss_peaks([c.name for c in cases if c.repeat is None], threads, quick)
        for r in results:
            if r.name in rss:
                r.ours_rss_mb = rss[r.name]["ours"]
                r.theirs_rss_mb = rss[r.name]["theirs"]
    info = machine_info()
    info["gemm_peak_gflops"] = peak
    return Report(
        machine=info,
        settings={
            "quick": quick,
            "warmup": settings.warmup,
            "repeat": settings.repeat,
            "phase": settings.phase,
            "threads": threads,
            "threads_source": how,
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "memory": memory,
            "groups": list(groups),
            "wall_s": time.perf_counter() - t0,
        },
        results=[r.to_dict() for r in results],
    )


def _fmt(x: float | None, spec: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def _cells(r: dict[str, Any]) -> list[str]:
    o, t = r["ours"], r["theirs"] or {}
    frac = r.get("extra", {}).get("ours_peak_fraction")
    return [
        r["name"],
        r["shape"],
        _fmt(o["median"] * 1e3, ".2f"),
        _fmt(o["min"] * 1e3, ".2f"),
        _fmt(o["spread"] * 100, ".0f"),
        _fmt(t.get("median", 0) * 1e3 if t else None, ".2f"),
        _fmt(t.get("min", 0) * 1e3 if t else None, ".2f"),
        _fmt(t.get("spread", 0) * 100 if t else None, ".0f"),
        _fmt(r["ratio"], ".2f"),
        _fmt(r["ours_gflops"], ".1f"),
        _fmt(frac * 100 if frac is not None else None, ".0f"),
        _fmt(r["theirs_gflops"], ".1f"),
        _fmt(r["ours_tracemalloc_mb"], ".1f"),
        _fmt(r["ours_rss_mb"], ".1f"),
        _fmt(r["theirs_rss_mb"], ".1f"),
    ]


def _row(r: dict[str, Any]) -> str:
    cells = _cells(r)
    return " ".join(
        c.ljust(w) if i < 2 else c.rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS))
    )


def _header_lines(report: Report) -> list[str]:
    m, s = report["machine"], report["settings"]
    return [
        f"machine: {m['cpu']}, {m['usable_cpus']} usable CPUs, load {m['load_average']}",
        f"numpy {m['numpy']} ({m['numpy_blas']}), torch {m['torch'] or 'not installed'}, "
        f"python {m['python']}; float32 GEMM peak {m['gemm_peak_gflops']:.1f} GFLOPS",
        f"threads {s['threads']} ({s['threads_source']}), warm-up {s['warmup']}, "
        f"{s['repeat']} timed calls per side in alternating phases of {s['phase']}"
        + (" [quick]" if s["quick"] else ""),
    ]


def format_table(report: Report) -> str:
    """The plain-text table (header lines, column header, one row per case)."""
    head = " ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(COLUMNS))
    lines = [*_header_lines(report), "", head, "-" * len(head)]
    lines += [_row(r) for r in report.results]
    lines += end_to_end_lines(report)
    return "\n".join(lines)


def end_to_end_lines(report: Report) -> list[str]:
    """The end-to-end rows restated as the headline figures (empty when they were not run)."""
    rows = {r["name"]: r for r in report.results}
    out: list[str] = []
    digits, lm = rows.get("lenet_digits/time_to_acc"), rows.get("charlm_lstm/train_steps")
    if digits is not None:
        o, t = digits["ours"]["median"], (digits["theirs"] or {}).get("median")
        line = f"digits CNN, time to held-out target ({digits['shape']}): ours {o:.2f} s"
        if t:
            line += f", PyTorch {t:.2f} s, ratio {o / t:.2f}"
        out.append(line)
    if lm is not None:
        steps = int(lm["shape"].rsplit(",", 1)[1].split()[0])
        o, t = lm["ours"]["median"], (lm["theirs"] or {}).get("median")
        line = f"char-LSTM training: ours {steps / o:.1f} steps/s"
        if t:
            line += f", PyTorch {steps / t:.1f} steps/s, time ratio {o / t:.2f}"
        out.append(line)
    return ["", "end to end:", *(f"  {x}" for x in out)] if out else []


def format_markdown(report: Report, command: str = "glassnet bench all --markdown PATH") -> str:
    """A Markdown table of the results with the machine description."""
    head = [h for h, _ in COLUMNS]
    lines = [f"- {line}" for line in _header_lines(report)]
    lines += [f"- regenerate with `{command}`", ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in report.results]
    return "\n".join(lines)


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=1) + "\n")


def write_markdown_page(
    report: Report,
    path: Path,
    begin: str = "<!-- bench-table:begin -->",
    end: str = "<!-- bench-table:end -->",
) -> None:
    """Replace the text between the two markers of ``path`` with the table (or create it)."""
    table = format_markdown(report)
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        raise ValueError(f"{path} lacks the markers {begin!r} / {end!r}")
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    atomic_write_text(path, f"{pre}{begin}\n{table}\n{end}{post}")
