"""Docstrings of the pooling functional forms (``glassnet.ops.pool``), shared with nn.pooling."""

from __future__ import annotations

from ._util import dim_doc

# The output-size formulas of the docstrings (``dim_fields`` fills in the axes; p, d, k, s are
# the padding, dilation, kernel size and stride of that axis), shared with glassnet.nn.pooling.
MAX_POOL_OUT = "{X}_out = floor(({X} + 2p - d(k - 1) - 1 [+ s - 1 with ceil_mode]) / s) + 1{alike}"
AVG_POOL_OUT = "{X}_out = floor(({X} + 2p - k [+ s - 1 with ceil_mode]) / s) + 1{alike}"
ADAPTIVE_BIN = "bin i of an axis of I inputs and O outputs spans [floor(i I/O), ceil((i + 1) I/O))"

_MAX_POOL_DOC = """{nd}-d max pooling (padding, ties and ceil_mode: see the module docstring).
Reference (textbook) form: ``glassnet.ops.reference.max_pool``.

``return_indices`` gives the flat index ({flat}) of each maximum inside its (n, c) plane.

Shapes:
    input: (N, C, {S}) or (C, {S})   y, indices: (N, C, {S_out})
    {out}
{example}"""

_AVG_POOL_DOC = """{nd}-d average pooling (zero padding; divisor rules in the module docstring).
Reference (textbook) form: ``glassnet.ops.reference.avg_pool``.

Shapes:
    input: (N, C, {S}) or (C, {S})   y: (N, C, {S_out})
    {out}
{example}"""

_ADAPTIVE_DOC = """{nd}-d adaptive {kind} pooling over ``output_size`` bins per axis.{note}

Shapes:
    input: (N, C, {S}) or (C, {S})   y{indices}: (N, C, {O})
    {out}
{example}"""

_FLAT = {1: "l", 2: "h * W + w", 3: "(d * H + h) * W + w"}
_NOTES = {
    "adaptive_avg_pool2d": "``None`` in ``output_size`` keeps that size; 1 is global pooling.",
    "adaptive_max_pool1d": "``return_indices`` gives the flat index in each (n, c) plane.",
}
_EXAMPLES = {
    "max_pool1d": """>>> import glassnet
>>> max_pool1d(glassnet.tensor([[[1.0, 3.0, 2.0, 2.0, 0.0]]]), 2)
tensor([[[3., 2.]]])""",
    "max_pool2d": """>>> import glassnet
>>> y, i = max_pool2d(glassnet.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
>>> y.shape, i.tolist()
((1, 1, 2, 2), [[[[5, 7], [13, 15]]]])""",
    "avg_pool1d": """>>> import glassnet
>>> avg_pool1d(glassnet.tensor([[[1.0, 3.0, 2.0, 2.0]]]), 2)
tensor([[[2., 2.]]])""",
    "avg_pool2d": """>>> import glassnet
>>> avg_pool2d(glassnet.ones(1, 1, 4, 6), 2, divisor_override=1).tolist()
[[[[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]]]""",
    "adaptive_avg_pool1d": """>>> import glassnet
>>> adaptive_avg_pool1d(glassnet.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2)
tensor([[[2., 4.]]])""",
    "adaptive_max_pool1d": """>>> import glassnet
>>> adaptive_max_pool1d(glassnet.tensor([[[1.0, 5.0, 3.0, 4.0, 2.0]]]), 2)
tensor([[[5., 4.]]])""",
}


def _doc(name: str, nd: int) -> str:
    """The docstring of the functional form ``name`` (``max_pool2d``) of dimension ``nd``."""
    example, note = _EXAMPLES.get(name, ""), _NOTES.get(name, "")
    if name.startswith("max_pool"):
        return dim_doc(_MAX_POOL_DOC, nd, MAX_POOL_OUT, example, flat=_FLAT[nd])
    if name.startswith("avg_pool"):
        return dim_doc(_AVG_POOL_DOC, nd, AVG_POOL_OUT, example)
    kind = "max" if name.startswith("adaptive_max") else "average"
    return dim_doc(
        _ADAPTIVE_DOC, nd, ADAPTIVE_BIN, example, kind=kind, note=f"\n\n{note}" if note else "",
        indices=", indices" if kind == "max" else "",
    )  # fmt: skip
