"""The benchmark suite: structure of its table and JSON (never its times)."""

from __future__ import annotations

import argparse
import json
import math

import pytest

from glassnet.bench import COLUMNS, GROUPS, build_cases, format_table, run_suite
from glassnet.bench.cases import torch_or_none
from glassnet.bench.suite import format_markdown, write_markdown_page
from glassnet.cli import bench as bench_cli
from glassnet.cli.main import CLIError

HAVE_TORCH = torch_or_none() is not None


@pytest.fixture(scope="module")
def quick_report():
    # memory probes are checked separately on one case, to keep this test short
    return run_suite(GROUPS, quick=True, memory=False)


def test_every_required_case_is_present():
    names = {c.name for c in build_cases()}
    for key in ("conv2d_a", "conv2d_b", "conv2d_c", "conv2d_d", "conv1d_e"):
        assert {f"{key}/fwd", f"{key}/fwd+bwd"} <= names
    for kind in ("lstm", "gru", "rnn"):
        for shape in "abc":
            assert {f"{kind}_{shape}/fwd", f"{kind}_{shape}/fwd+bwd"} <= names
    assert any(n.startswith("max_pool2d") for n in names)
    assert any(n.startswith("avg_pool2d") for n in names)
    assert {"lenet_digits/train_step", "charlm_lstm/train_step", "charlm_lstm/stream_step"} <= names
    assert len(names) == len(build_cases())  # unique


def test_full_shapes_are_the_issue_shapes():
    shapes = {c.name: c.shape for c in build_cases()}
    assert shapes["conv2d_d/fwd"] == "N=8 64->128 56x56 k3 s2 p1"
    assert shapes["conv1d_e/fwd+bwd"] == "N=32 64->64 1000 k5 s1 p2"
    assert shapes["lstm_b/fwd"] == "N=64 T=35 D=650 H=650 L=2"
    assert shapes["gru_c/fwd+bwd"] == "N=1 T=1000 D=1 H=32 L=1"
    # forward+backward is counted as three forward passes
    flops = {c.name: c.flops for c in build_cases()}
    assert flops["conv2d_b/fwd+bwd"] == 3 * flops["conv2d_b/fwd"] == 3 * 2.0 * 64 * 64 * 784 * 288


def test_quick_suite_table_and_json(quick_report, tmp_path):
    results = quick_report.results
    assert [r["name"] for r in results] == [c.name for c in build_cases(quick=True)]
    caps = {c.name: c.repeat for c in build_cases(quick=True)}
    for r in results:
        repeat = quick_report["settings"]["repeat"]
        assert r["ours"]["n"] == (repeat if caps[r["name"]] is None else caps[r["name"]])
        assert r["ours"]["median"] > 0 and r["ours"]["min"] <= r["ours"]["median"]
        if HAVE_TORCH:
            assert r["theirs"] is not None and math.isfinite(r["ratio"]) and r["ratio"] > 0
            assert math.isclose(r["ratio"], r["ours"]["median"] / r["theirs"]["median"])
        if r["flops"]:
            assert r["ours_gflops"] == pytest.approx(r["flops"] / r["ours"]["median"] / 1e9)
    assert quick_report["machine"]["gemm_peak_gflops"] > 0
    json.loads(json.dumps(quick_report))  # JSON-serialisable

    table = format_table(quick_report).splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("case"))
    assert table[header].split() == [w for h, _ in COLUMNS for w in h.split()]
    rows = table[header + 2 : header + 2 + len(results)]
    assert table[header + 2 + len(results) :][:2] == ["", "end to end:"]
    for row, r in zip(rows, results):
        assert row.startswith(r["name"])
        if HAVE_TORCH:
            ratio = row[sum(w + 1 for _, w in COLUMNS[:8]) :].split()[0]
            assert math.isfinite(float(ratio))

    page = tmp_path / "bench.md"
    page.write_text(
        "# B\n\nintro\n<!-- bench-table:begin -->\nold\n<!-- bench-table:end -->\nend\n"
    )
    write_markdown_page(quick_report, page)
    text = page.read_text()
    assert "old" not in text and text.startswith("# B\n\nintro") and text.endswith("end\n")
    assert format_markdown(quick_report) in text


@pytest.mark.skipif(not HAVE_TORCH, reason="RSS probe of the PyTorch side needs torch")
def test_memory_columns_on_one_case():
    from pathlib import Path

    rep = run_suite(("rnn",), quick=True, repeat=1, names=["lstm_a/fwd+bwd"])
    (r,) = rep.results
    assert r["ours_tracemalloc_mb"] > 0  # buffers of the forward and backward pass
    if Path("/proc/self/clear_refs").exists():
        assert r["ours_rss_mb"] is not None and r["theirs_rss_mb"] is not None


def main(argv):
    """``glassnet bench ...`` through the subcommand's own parser (as cli.main wires it)."""
    parser = argparse.ArgumentParser(prog="glassnet")
    bench_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_group_json_and_errors(tmp_path, capsys):
    out = tmp_path / "b.json"
    code = main(["bench", "pool", "--quick", "--repeat", "1", "--no-memory", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert {r["group"] for r in data["results"]} == {"pool"}
    assert all(r["name"] in printed for r in data["results"])
    with pytest.raises(CLIError, match="--repeat"):
        main(["bench", "pool", "--quick", "--repeat", "0"])
    with pytest.raises(SystemExit):
        main(["bench", "nonsense"])


def test_run_suite_rejects_unknown_group():
    with pytest.raises(ValueError, match="groups"):
        run_suite(["convolution"])


def test_end_to_end_rows(quick_report):
    rows = {r["name"]: r for r in quick_report.results}
    digits, lm = rows["lenet_digits/time_to_acc"], rows["charlm_lstm/train_steps"]
    assert digits["ours"]["n"] == lm["ours"]["n"] == 1  # one run per side on the quick budget
    assert "to 30% of 360 held-out" in digits["shape"]
    lines = format_table(quick_report).split("end to end:\n", 1)[1].splitlines()
    assert lines[0].lstrip().startswith("digits CNN, time to held-out target")
    assert lines[1].lstrip().startswith("char-LSTM training: ours ")
    steps_per_s = float(lines[1].split("ours ", 1)[1].split()[0])
    assert steps_per_s == pytest.approx(2 / lm["ours"]["median"], rel=0.06)
    if HAVE_TORCH:
        ratio = float(lines[0].rsplit("ratio ", 1)[1])
        assert ratio == pytest.approx(digits["ratio"], abs=0.006)


def test_digits_run_that_misses_its_target_raises():
    from glassnet.bench.cases import _make_digits_run

    pair = _make_digits_run(HAVE_TORCH, 1.01, 1)  # accuracy never exceeds 1
    with pytest.raises(RuntimeError, match="did not reach held-out accuracy 1.01 in 1 epochs"):
        pair.ours()
    if pair.theirs is not None:
        with pytest.raises(RuntimeError, match="PyTorch did not reach"):
            pair.theirs()
