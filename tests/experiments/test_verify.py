"""``glassnet verify``: the quick run CI relies on passes on the real docs, and drift is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from glassnet.cli.main import main
from glassnet.experiments import pages
from glassnet.experiments.claims import CLAIMS
from glassnet.experiments.verify import Source, default_docs_dir, verify

DOCS = default_docs_dir()


@pytest.mark.slow
def test_verify_quick_passes_on_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    """Every claim at quick size, and every block of cheap sources equal to the docs."""
    assert main(["verify", "--quick"]) == 0
    out = capsys.readouterr().out
    assert f"{len(CLAIMS)} of {len(CLAIMS)} claims hold" in out and "0 drifted" in out


def test_fourteen_claims_each_with_a_check_and_tests() -> None:
    assert [c.number for c in CLAIMS] == list(range(1, 15))
    assert all(c.check and c.quick and c.tests for c in CLAIMS)
    root = DOCS.parent
    for c in CLAIMS:  # every test a claim names exists
        for t in c.tests:
            path, name = t.split("::")
            assert f"def {name}(" in (root / path).read_text(), t


def _copy_docs(tmp_path: Path) -> Path:
    dest = tmp_path / "docs"
    shutil.copytree(DOCS, dest, ignore=shutil.ignore_patterns("*.png", "*.json"))
    return dest


def test_a_drifted_number_fails_and_write_restores_it(tmp_path: Path) -> None:
    docs = _copy_docs(tmp_path)
    page = docs / "results.md"
    text = page.read_text()
    block = text[text.index("<!-- generated: acf -->") : text.index("<!-- end generated: acf -->")]
    assert "| 0.82 |" in block
    page.write_text(text.replace(block, block.replace("| 0.82 |", "| 0.83 |", 1)))
    report = verify(quick=True, docs_dir=docs, only=("acf",), echo=lambda s: None)
    assert not report.ok
    [(where, _, status, diffs)] = report.blocks
    assert where == "results.md:acf" and status == "drift"
    assert diffs == ["line 3: documented 0.83, measured 0.82"]
    assert verify(quick=True, docs_dir=docs, only=("acf",), write=True, echo=lambda s: None).ok
    assert page.read_text() == text
    assert verify(quick=True, docs_dir=docs, only=("acf",), echo=lambda s: None).ok


def test_a_failing_claim_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"fit": "closed form", "rel_diff": 1e-15},
        {"fit": "gradient descent", "rel_diff": 0.5, "steps_to_1e-3": "> 2000"},
    ]
    monkeypatch.setitem(pages.SOURCES, "ar", Source("ar", lambda q, out: rows, True, "x"))
    assert main(["verify", "--quick", "--only", "8", "--docs", str(_copy_docs(tmp_path))]) == 1
    out = capsys.readouterr().out
    assert "FAIL  8." in out and "gradient descent ends 5.0e-01 from OLS" in out


def test_only_names_something(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--only", "nothing", "--docs", str(_copy_docs(tmp_path))]) == 2
    assert "matched no claim, page or block" in capsys.readouterr().err


def test_a_machine_bound_block_is_compared_by_the_full_run_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _copy_docs(tmp_path)
    acf = pages.SOURCES["acf"]
    bound = Source("acf", acf.run, True, acf.command, portable=False)
    monkeypatch.setitem(pages.SOURCES, "acf", bound)
    page = docs / "results.md"
    page.write_text(page.read_text().replace("| 0.82 |", "| 0.83 |", 1))
    quick = verify(quick=True, docs_dir=docs, only=("acf",), echo=lambda s: None)
    assert quick.ok and [b[2] for b in quick.blocks] == ["skipped"]
    full = verify(quick=False, docs_dir=docs, only=("acf",), echo=lambda s: None)
    assert not full.ok and [b[2] for b in full.blocks] == ["drift"]
