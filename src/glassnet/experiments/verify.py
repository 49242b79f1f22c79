"""``glassnet verify``: every claim checked, every documented number regenerated and compared.

Three registries meet here:

* **sources** (:data:`SOURCES`): the experiment runs the docs are made of, each a function of
  ``quick`` returning its result, marked ``cheap`` when its full size fits in the quick budget;
* **blocks** (:data:`BLOCKS`): the generated parts of ``docs/*.md`` (see
  :mod:`glassnet.experiments.docblocks`), each rendered from full-size sources;
* **claims** (:data:`glassnet.experiments.claims.CLAIMS`): the seed's claims, each an asserting
  check on the sources (or on its own small computation).

``verify(quick=False)`` runs every source at full size (the numbers of the docs), every claim
and every block; ``quick=True`` runs the cheap sources at full size and the others at their
quick size, so every claim is checked (its quick thresholds) and the blocks made of cheap
sources are compared, except those of sources marked not ``portable`` (trained runs whose
digits differ from machine to machine at the same code, so CI on another machine cannot compare
them; the full run on the machine the docs were measured on does). A block that disagrees with
its page fails the run; ``write=True`` rewrites it instead (and refreshes the figures the pages
show).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import docblocks


@dataclass(frozen=True)
class Source:
    """An experiment run: ``run(quick, out_dir)`` returns its result."""

    name: str
    run: Callable[[bool, Path], Any]
    cheap: bool
    command: str  # the command that reproduces it by itself
    # False where the same code gives other digits on another machine (BLAS/SIMD kernels): a
    # quick run (CI, on whatever machine it gets) does not compare its blocks
    portable: bool = True


@dataclass(frozen=True)
class InlineNumber:
    """A number inside hand-written text outside ``docs/`` (the README), checked in place.

    ``pattern`` is a regular expression whose one group is the number; ``render(results)`` gives
    the text it must read. Files without a match fail the run; missing files are skipped.
    """

    file: str  # relative to the folder above docs/
    name: str
    pattern: str
    sources: tuple[str, ...]
    render: Callable[[Results], str]


@dataclass(frozen=True)
class BlockSpec:
    """A generated block of ``page``: ``render(results)`` returns its text."""

    page: str  # file name under docs/
    name: str
    sources: tuple[str, ...]
    render: Callable[[Results], str]
    rtol: float = 1e-3  # agreement of numbers: |a - b| <= atol + rtol max(|a|, |b|)
    atol: float = 0.0
    figures: tuple[str, ...] = ()  # files of the run directory copied to docs/figures on write


class Results:
    """Runs each source once (at full size, or quick size when ``quick`` and not cheap)."""

    def __init__(
        self,
        sources: dict[str, Source],
        *,
        quick: bool,
        out_dir: Path,
        echo: Callable[[str], Any] = print,
    ):
        self.sources, self.quick, self.out_dir, self.echo = sources, quick, out_dir, echo
        self._cache: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}

    def full(self, name: str) -> bool:
        """Whether ``name`` runs (ran) at the size the docs give."""
        return not self.quick or self.sources[name].cheap

    def __getitem__(self, name: str) -> Any:
        if name not in self._cache:
            src = self.sources[name]
            out = self.out_dir / name
            out.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            self._cache[name] = src.run(not self.full(name), out)
            self.seconds[name] = time.perf_counter() - t0
            size = "full size" if self.full(name) else "quick size"
            self.echo(f"  ran {name} ({size}, {self.seconds[name]:.1f} s)")
        return self._cache[name]


@dataclass
class Report:
    """What a run found: failed claims, drifted blocks, and what was skipped."""

    claims: list[tuple[int, str, bool, str]] = field(default_factory=list)  # (n, claim, ok, why)
    blocks: list[tuple[str, str, str, list[str]]] = field(default_factory=list)  # status + diffs

    @property
    def ok(self) -> bool:
        return all(c[2] for c in self.claims) and not any(
            b[2] in ("drift", "error") for b in self.blocks
        )


def default_docs_dir() -> Path:
    """``docs/`` of the source checkout this package runs from, else ``./docs``."""
    here = Path(__file__).resolve().parents[3] / "docs"
    return here if (here / "results.md").exists() else Path("docs")


def verify(
    *,
    quick: bool = False,
    write: bool = False,
    docs_dir: str | Path | None = None,
    only: tuple[str, ...] = (),
    out_dir: str | Path | None = None,
    echo: Callable[[str], Any] = print,
) -> Report:
    """Check the claims and the generated blocks of the docs; see the module docstring.

    Args:
        quick: cheap sources at full size, the others at quick size (claims use their quick
            thresholds; blocks of non-cheap or non-portable sources are skipped).
        write: rewrite every regenerated block (and its figures) instead of failing on drift.
        docs_dir: the folder holding the pages (default :func:`default_docs_dir`).
        only: restrict to these claim numbers (as strings), page names or block names.
        out_dir: where sources write their run files (default: a temporary folder).
        echo: where progress and results are printed.
    """
    from .claims import CLAIMS
    from .pages import BLOCKS, INLINE, SOURCES

    docs = Path(docs_dir) if docs_dir is not None else default_docs_dir()
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="glassnet-verify-")
        out_dir = tmp.name
    results = Results(SOURCES, quick=quick, out_dir=Path(out_dir), echo=echo)
    report = Report()
    try:
        claims = [c for c in CLAIMS if not only or str(c.number) in only]
        blocks = [b for b in BLOCKS if not only or b.page in only or b.name in only]
        inline = [n for n in INLINE if not only or n.file in only or n.name in only]
        if only and not claims and not blocks and not inline:
            raise ValueError(f"verify --only matched no claim, page or block: {list(only)}")
        if claims:
            echo("claims")
        for c in claims:
            t0 = time.perf_counter()
            try:
                evidence = c.run(results)
                ok = True
            except AssertionError as e:
                evidence, ok = f"FAILED: {e}", False
            report.claims.append((c.number, c.claim, ok, evidence))
            mark = "ok  " if ok else "FAIL"
            echo(f"{mark} {c.number:2d}. {c.claim}  ({time.perf_counter() - t0:.1f} s)")
            echo(f"        {evidence}")
        if blocks:
            echo("generated blocks")
        _check_blocks(blocks, results, docs, write, report, echo)
        _check_inline(inline, results, docs.parent, write, report, echo)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return report


def _check_blocks(
    blocks: list[BlockSpec],
    results: Results,
    docs: Path,
    write: bool,
    report: Report,
    echo: Callable[[str], Any],
) -> None:
    by_page: dict[str, list[BlockSpec]] = {}
    for b in blocks:
        by_page.setdefault(b.page, []).append(b)
    for page, specs in by_page.items():
        path = docs / page
        if not path.exists():
            raise FileNotFoundError(f"verify: {path} not found (pass --docs DIR)")
        text = path.read_text()
        found = docblocks.find_blocks(text, str(path))
        fresh: dict[str, str] = {}
        for b in specs:
            where = f"{page}:{b.name}"
            if b.name not in found:
                report.blocks.append((where, b.name, "error", [f"no block {b.name!r} in {page}"]))
                echo(f"FAIL {where}: the page has no such block")
                continue
            if not all(results.full(s) for s in b.sources):
                report.blocks.append((where, b.name, "skipped", []))
                echo(f"skip {where} (made of full-size runs: glassnet verify without --quick)")
                continue
            if results.quick and not all(results.sources[s].portable for s in b.sources):
                report.blocks.append((where, b.name, "skipped", []))
                echo(f"skip {where} (its digits vary by machine: glassnet verify without --quick)")
                continue
            try:
                body = b.render(results)
            except Exception:  # a renderer that breaks is a failure of this block, not of all
                report.blocks.append((where, b.name, "error", [traceback.format_exc()]))
                echo(f"FAIL {where}: rendering raised\n{traceback.format_exc()}")
                continue
            body = body if body.endswith("\n") else body + "\n"
            diffs = docblocks.compare(found[b.name].body, body, rtol=b.rtol, atol=b.atol)
            status = "ok" if not diffs else ("written" if write else "drift")
            report.blocks.append((where, b.name, status, diffs))
            echo(f"{'ok  ' if status != 'drift' else 'FAIL'} {where}: {status}")
            for d in diffs[:8]:
                echo(f"        {d}")
            if write:
                fresh[b.name] = body
                _copy_figures(b, results, docs)
        if write and fresh:
            new = docblocks.replace_blocks(text, fresh, str(path))
            if new != text:
                path.write_text(new)


def _check_inline(
    numbers: list[InlineNumber],
    results: Results,
    root: Path,
    write: bool,
    report: Report,
    echo: Callable[[str], Any],
) -> None:
    import re

    for n in numbers:
        path, where = root / n.file, f"{n.file}:{n.name}"
        if not path.exists():
            report.blocks.append((where, n.name, "skipped", []))
            continue
        if not all(results.full(s) for s in n.sources):
            report.blocks.append((where, n.name, "skipped", []))
            echo(f"skip {where} (made of full-size runs: glassnet verify without --quick)")
            continue
        text = path.read_text()
        m = re.search(n.pattern, text)
        if m is None:
            report.blocks.append((where, n.name, "error", [f"no match for {n.pattern!r}"]))
            echo(f"FAIL {where}: {n.file} has no text matching {n.pattern!r}")
            continue
        fresh = n.render(results)
        if m.group(1) == fresh:
            status, diffs = "ok", []
        else:
            status = "written" if write else "drift"
            diffs = [f"documented {m.group(1)}, measured {fresh}"]
        report.blocks.append((where, n.name, status, diffs))
        echo(f"{'FAIL' if status == 'drift' else 'ok  '} {where}: {status}")
        for d in diffs:
            echo(f"        {d}")
        if write and diffs:
            path.write_text(text[: m.start(1)] + fresh + text[m.end(1) :])


def _copy_figures(b: BlockSpec, results: Results, docs: Path) -> None:
    for rel in b.figures:
        src = results.out_dir / rel
        if not src.exists():
            raise FileNotFoundError(f"verify: block {b.name} expected the figure {src}")
        dest = docs / "figures" / Path(rel).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)


__all__ = [
    "BlockSpec",
    "InlineNumber",
    "Report",
    "Results",
    "Source",
    "default_docs_dir",
    "verify",
]
