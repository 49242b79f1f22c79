"""Generated blocks: the measured numbers of a Markdown page, written by code and checked by it.

A page marks each generated part with a pair of HTML comments (invisible when rendered)::

    <!-- generated: ar -->
    | fit | reference | rel_diff | ...
    <!-- end generated: ar -->

``glassnet verify`` recomputes every block's text from the experiments and compares it with the
page; ``--write`` puts the new text in place. Text written by hand stays outside the blocks.

Comparison (:func:`compare`) is by tokens: the page's block and the fresh text are split into
numbers and the text between them. The text must be identical; each pair of numbers must agree
within the block's tolerance, ``|a - b| <= atol + rtol * max(|a|, |b|)``. A number followed by a
unit of time (``12.3 s``, ``40 ms``, ``6.5 min``) is a wall time: it depends on the machine and
its load, so it is rewritten by ``--write`` but never compared.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_BEGIN = re.compile(r"^<!-- generated: ([\w.-]+) -->\n", re.MULTILINE)
_END = "<!-- end generated: {} -->"
_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w)(?!\.\d)"
    r"|(?<![\w.])[-+]?(?:inf|nan)(?!\w)"
)
_TIME_UNIT = re.compile(r"\s?(?:s|ms|min|h)\b")


@dataclass(frozen=True)
class Block:
    """One generated block of a page: ``body`` is the text between the markers."""

    name: str
    body: str
    start: int  # offset of the body in the page
    end: int  # offset just after the body (where the end marker starts)


class BlockError(ValueError):
    """A page whose markers do not pair up."""


def find_blocks(text: str, where: str = "the page") -> dict[str, Block]:
    """Every generated block of ``text`` by name; markers must pair up and names be unique."""
    blocks: dict[str, Block] = {}
    pos = 0
    while (m := _BEGIN.search(text, pos)) is not None:
        name = m.group(1)
        end_marker = _END.format(name)
        end = text.find(end_marker, m.end())
        if end < 0:
            raise BlockError(f"{where}: block {name!r} has no '{end_marker}'")
        nested = _BEGIN.search(text, m.end(), end)
        if nested is not None:
            raise BlockError(f"{where}: block {nested.group(1)!r} starts inside block {name!r}")
        if name in blocks:
            raise BlockError(f"{where}: block {name!r} appears twice")
        blocks[name] = Block(name, text[m.end() : end], m.end(), end)
        pos = end + len(end_marker)
    stray = re.search(r"<!-- end generated: ([\w.-]+) -->", _strip_blocks(text, blocks))
    if stray is not None:
        raise BlockError(f"{where}: '{stray.group(0)}' without its opening marker")
    return blocks


def _strip_blocks(text: str, blocks: dict[str, Block]) -> str:
    out, pos = [], 0
    for b in sorted(blocks.values(), key=lambda b: b.start):
        out.append(text[pos : b.start])
        pos = b.end + len(_END.format(b.name))
    out.append(text[pos:])
    return "".join(out)


def replace_blocks(text: str, bodies: dict[str, str], where: str = "the page") -> str:
    """``text`` with the body of each named block replaced (a body ends with a newline)."""
    blocks = find_blocks(text, where)
    missing = sorted(set(bodies) - set(blocks))
    if missing:
        raise BlockError(f"{where}: no block named {', '.join(map(repr, missing))}")
    out, pos = [], 0
    for b in sorted(blocks.values(), key=lambda b: b.start):
        out.append(text[pos : b.start])
        body = bodies.get(b.name, b.body)
        out.append(body if body.endswith("\n") or not body else body + "\n")
        pos = b.end
    out.append(text[pos:])
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """(kind, token, is_time) with kind "text" or "num", alternating from a text token."""
    toks: list[tuple[str, str, bool]] = []
    pos = 0
    for m in _NUMBER.finditer(text):
        toks.append(("text", text[pos : m.start()], False))
        toks.append(("num", m.group(0), bool(_TIME_UNIT.match(text, m.end()))))
        pos = m.end()
    toks.append(("text", text[pos:], False))
    return toks


def _line_of(text: str, token_index: int, toks: list[tuple[str, str, bool]]) -> int:
    return "".join(t for _, t, _ in toks[:token_index]).count("\n") + 1


def _close(a: str, b: str, rtol: float, atol: float) -> bool:
    if a == b:
        return True
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return False
    return abs(x - y) <= atol + rtol * max(abs(x), abs(y))


def compare(documented: str, fresh: str, *, rtol: float = 0.0, atol: float = 0.0) -> list[str]:
    """Where ``documented`` and ``fresh`` disagree, one line per difference (empty: they agree).

    >>> compare("| AR | 19.44 | 0.0008 s |", "| AR | 19.4401 | 0.0011 s |", rtol=1e-4)
    []
    >>> compare("accuracy 99.16%", "accuracy 98.61%", rtol=1e-3)
    ['line 1: documented 99.16, measured 98.61']
    """
    a, b = _tokens(documented), _tokens(fresh)
    problems = []
    for i, (ta, tb) in enumerate(zip(a, b)):
        if ta[0] != tb[0]:
            break
        if ta[0] == "text":
            if ta[1] != tb[1]:
                problems.append(
                    f"line {_line_of(documented, i, a)}: documented text {ta[1].strip()!r}, "
                    f"generated {tb[1].strip()!r}"
                )
                break  # the layout differs: what follows would not line up
        elif not (ta[2] or tb[2]) and not _close(ta[1], tb[1], rtol, atol):
            problems.append(
                f"line {_line_of(documented, i, a)}: documented {ta[1]}, measured {tb[1]}"
            )
    if not problems and len(a) != len(b):
        problems.append(
            f"the documented block has {len(a) // 2} numbers, the generated one {len(b) // 2}"
        )
    return problems


__all__ = ["Block", "BlockError", "compare", "find_blocks", "replace_blocks"]
