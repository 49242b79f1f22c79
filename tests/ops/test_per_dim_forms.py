"""The 1/2/3-d forms of conv, pool and pad (functions and layers) come from one N-d definition each:
their signatures, names, errors, doctests and rendered ``Shapes:`` blocks are those of real,
separate per-dimension definitions."""

from __future__ import annotations

import doctest
import inspect
import pydoc

import pytest

import glassnet
from glassnet import nn
from glassnet.ops import conv as OC
from glassnet.ops import pool as OP
from glassnet.ops._util import specialize

AXES = {1: "L", 2: "H, W", 3: "D, H, W"}
FUNCTIONS = [
    (OC, f"conv{d}d", d) for d in (1, 2, 3)
] + [(OC, f"conv_transpose{d}d", d) for d in (1, 2, 3)] + [
    (OP, f"{kind}{d}d", d)
    for kind in ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool")
    for d in (1, 2, 3)
]  # fmt: skip
LAYERS = [
    (f"{kind}{d}d", d)
    for kind in (
        "Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool",
        "ConstantPad", "ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad",
    )
    for d in (1, 2, 3)
]  # fmt: skip


@pytest.mark.parametrize("module, name, nd", FUNCTIONS, ids=[f[1] for f in FUNCTIONS])
def test_functional_forms_are_real_functions(module, name, nd):
    fn = getattr(module, name)
    assert inspect.isfunction(fn)
    assert (fn.__name__, fn.__qualname__, fn.__module__) == (name, name, module.__name__)
    params = inspect.signature(fn).parameters
    assert not any(p.startswith("_") for p in params), list(params)
    assert list(params)[0] == "input"
    doc = inspect.getdoc(fn)
    assert doc.startswith(f"{nd}-d ") and "\nShapes:\n" in doc, doc
    assert f"input: (N, C, {AXES[nd]}) or (C, {AXES[nd]})" in doc
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument 'nope'"):
        fn(glassnet.ones(*(1,) * (nd + 2)), 1, nope=1)
    with pytest.raises((TypeError, ValueError)) as bad:  # a wrong input: the traceback names fn
        fn(glassnet.ones(*(1,) * (nd + 3)), 1)
    assert name in [entry.name for entry in bad.traceback]


def test_the_per_dimension_forms_share_one_signature():
    for family in (["conv_nd", "conv1d", "conv2d", "conv3d"], ["max_pool1d", "max_pool3d"]):
        module = OC if family[0].startswith("conv") else OP
        sigs = {str(inspect.signature(getattr(module, n))) for n in family}
        assert len(sigs) == 1, sigs
    assert "divisor_override" not in inspect.signature(OP.avg_pool1d).parameters  # as PyTorch
    assert "divisor_override" in inspect.signature(OP.avg_pool2d).parameters


def test_doctest_finds_the_examples_of_the_generated_functions():
    names = {t.name.rsplit(".", 1)[-1] for m in (OC, OP) for t in doctest.DocTestFinder().find(m)}
    assert {"conv1d", "conv_transpose2d", "max_pool2d", "adaptive_max_pool1d"} <= names


@pytest.mark.parametrize("name, nd", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_docs_render_their_own_shapes(name, nd):
    cls = getattr(nn, name)
    doc = inspect.getdoc(cls)
    assert doc is not None and "\nShapes:\n" in doc, name
    spatial = "W" if name.endswith(f"Pad{nd}d") and nd == 1 else AXES[nd]
    assert f", {spatial})" in doc, doc
    other = [d for d in (1, 2, 3) if d != nd]
    assert not any(doc.startswith(f"{d}-d") for d in other)
    assert "Shapes:" in pydoc.render_doc(cls, renderer=pydoc.plaintext)


def test_specialize_fixes_only_keyword_only_arguments():
    def impl(x, y=2, *, _k=0):
        return x + y + _k

    f = specialize(impl, "plus_ten", "x + y + 10.", _k=10)
    assert f(1) == 13 and impl(1) == 3
    assert str(inspect.signature(f)) == "(x, y=2)" and f.__doc__ == "x + y + 10."
    with pytest.raises(AssertionError, match="no keyword-only"):
        specialize(impl, "bad", "", y=1)


@pytest.mark.parametrize(
    "fn, pair",
    [
        (glassnet.ops.reduce.max, glassnet.ops.reduce.min),
        (glassnet.ops.reduce.amax, glassnet.ops.reduce.amin),
        (glassnet.ops.reduce.argmax, glassnet.ops.reduce.argmin),
        (glassnet.ops.reduce.var, glassnet.ops.reduce.std),
        (glassnet.randn, glassnet.rand),
    ],
    ids=["max/min", "amax/amin", "argmax/argmin", "var/std", "randn/rand"],
)
def test_pairs_from_one_definition_keep_their_own_names(fn, pair):
    for f in (fn, pair):
        sig = inspect.signature(f)
        assert not any(p.startswith("_") for p in sig.parameters), sig
        with pytest.raises(TypeError, match=rf"^{f.__name__}\(\) got an unexpected keyword"):
            f(glassnet.ones(2), nope=1)
    assert inspect.signature(fn) == inspect.signature(pair) and fn.__doc__ != pair.__doc__
