"""Benchmark suite: glassnet against PyTorch CPU, side by side in one process.

``glassnet bench [conv|pool|rnn|train|all]`` (or :func:`run_suite`) times each case on both
sides with identical shapes, weights and data, after warm-up, in alternating phases, and reports
median/min/spread, the ratio ours / PyTorch, GFLOPS against NumPy's measured float32 GEMM peak
and peak memory. Importable without PyTorch (the PyTorch columns are then empty).
See docs/benchmarks.md.
"""

from __future__ import annotations

from .cases import GROUPS, Case, Pair, build_cases
from .harness import Result, Settings, blas_threads, gemm_peak_gflops, machine_info, run_case
from .suite import COLUMNS, Report, format_markdown, format_table, run_suite

__all__ = [
    "COLUMNS",
    "GROUPS",
    "Case",
    "Pair",
    "Report",
    "Result",
    "Settings",
    "blas_threads",
    "build_cases",
    "format_markdown",
    "format_table",
    "gemm_peak_gflops",
    "machine_info",
    "run_case",
    "run_suite",
]
