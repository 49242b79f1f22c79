"""The speed-targets table over several benchmark runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from glassnet.bench import targets


def _report(ratios: dict[str, float]) -> dict[str, Any]:
    return {"results": [{"name": n, "ratio": r} for n, r in ratios.items()]}


def test_every_run_must_be_within_the_target(tmp_path: Path, capsys: Any) -> None:
    names = [name for _, cases, _ in targets.TARGETS for _, name, _ in cases]
    good = {n: 0.5 for n in names}
    one_bad = dict(good, **{"conv2d_b/fwd+bwd": 1.6, "lstm_c/fwd+bwd": 2.5})
    table = targets.targets_table([_report(good), _report(one_bad)])
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()[2:]}
    assert rows["conv <= 1.5"].endswith("| yes: a, c, d, e; no: b |")
    assert "b 0.50 / 1.60" in rows["conv <= 1.5"]
    assert rows["LSTM <= 1.3 on (a), (b); <= 2.5 on (c)"].endswith("| yes |")  # 2.5 is within
    assert rows["GRU <= 1.0"].endswith("| yes |")
    # issue 15's conv and pooling targets go by the median: one run over the bound is not a miss
    conv15 = "issue 15: conv (b), (e) <= 1.5; (c), (d) <= 1.3 (median of the runs)"
    assert "b 0.50 / 1.60 (median 1.05)" in rows[conv15]
    assert rows[conv15].endswith("| yes |")
    # a case missing from a run is reported, not guessed
    partial = {n: r for n, r in good.items() if not n.startswith("rnn_c")}
    assert "not measured: c" in targets.targets_table([_report(partial)])
    # the command line reads --json reports
    paths = []
    for i, r in enumerate([good, one_bad]):
        p = tmp_path / f"run{i}.json"
        p.write_text(json.dumps(_report(r)))
        paths.append(str(p))
    assert targets.main(paths) == 0
    assert capsys.readouterr().out == table


def test_errors(tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(ValueError, match="at least one benchmark report"):
        targets.targets_table([])
    assert targets.main([str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"loss": 1.0}')
    assert targets.main([str(other)]) == 2
    assert "'results' list" in capsys.readouterr().err


def test_median_targets_miss_when_the_median_is_over() -> None:
    names = [name for _, cases, _ in targets.TARGETS for _, name, _ in cases]
    runs = [{n: 0.5 for n in names} for _ in range(3)]
    for run, ratio in zip(runs, (1.2, 1.4, 1.35)):
        run["max_pool2d_b/fwd+bwd"] = ratio  # median 1.35 > 1.3
        run["lenet_digits/time_to_acc"] = 0.9 if ratio < 1.3 else 1.01  # "every": one miss is out
    table = targets.targets_table([_report(r) for r in runs])
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()[2:]}
    pool = rows["issue 15: pooling <= 1.3 (median of the runs)"]
    assert "max b 1.20 / 1.40 / 1.35 (median 1.35)" in pool
    assert pool.endswith("| yes: max a, avg a, avg b; no: max b |")
    assert rows["issue 15: end to end <= 1.0"].endswith("| yes: char-LSTM; no: digits |")
