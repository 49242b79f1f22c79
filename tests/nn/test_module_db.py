"""PyTorch's own module test inputs (``module_db``) run as a peer suite for glassnet's layers.

For every entry of ``torch.testing._internal.common_modules.module_db`` whose class name exists in
``glassnet.nn`` (found by name, so a layer added later is covered as soon as it exists), each
sample input PyTorch provides is built in float64 on the CPU, in training mode and, where the
entry says the modes differ, in eval mode. Both modules get the same constructor arguments, the
torch weights and buffers are copied in through ``state_dict``, and then must agree (float64,
1e-10 relative; NaN where PyTorch gives NaN counts as equal):

* every forward output, and the warnings the forward gives;
* the state_dict after the forward (running statistics);
* every input gradient and every parameter gradient under one random upstream gradient.

A case that cannot apply is skipped with one of the reasons in ``SKIP_REASONS`` below; nothing
else is skipped and no case is expected to fail.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import glassnet
from glassnet import nn
from glassnet.nn.utils.rnn import PackedSequence

from ..helpers import assert_close, assert_same_grads, backward_random, torch

TorchPackedSequence = torch.nn.utils.rnn.PackedSequence

# The only reasons a case may be skipped; ``_why_skip`` says which applies.
SKIP_REASONS = {
    "dtype": "glassnet has float32/float64, integer and bool tensors only (no complex, half, "
    "bfloat16)",
    "device": "glassnet runs on the CPU only",
}

_GLASSNET_DTYPES = {
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.int64: np.int64,
    torch.int32: np.int32,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
}


def _import_module_db() -> list[Any]:
    """PyTorch's module_db, imported without letting its test harness change ours: importing
    ``common_utils`` loads its own hypothesis profile (200 ms deadline, 10 examples) globally."""
    import hypothesis

    hypothesis.settings.register_profile("glassnet-saved", parent=hypothesis.settings.default)
    from torch.testing._internal.common_modules import module_db

    hypothesis.settings.load_profile("glassnet-saved")
    return list(module_db)


MODULE_DB = _import_module_db()


@functools.cache
def _samples(entry: int, training: bool) -> list[Any]:
    """PyTorch's sample inputs for ``MODULE_DB[entry]`` (seeded, so every call agrees)."""
    info = MODULE_DB[entry]
    torch.manual_seed(entry)
    return list(
        info.module_inputs_func(
            info,
            device="cpu",
            dtype=torch.float64,
            requires_grad=True,
            training=training,
            with_packed_sequence=True,  # RNN and GRU add PackedSequence samples; others ignore it
        )
    )


def _cases() -> Iterator[Any]:
    for entry, info in enumerate(MODULE_DB):
        name = info.module_cls.__name__
        ours = getattr(nn, name, None)
        if not (isinstance(ours, type) and issubclass(ours, nn.Module)):
            continue
        for training in (True, False) if info.train_and_eval_differ else (True,):
            for i, s in enumerate(_samples(entry, training)):
                mode = "train" if training else "eval"
                yield pytest.param(
                    entry, training, i, id=f"{name}-{mode}-{i}-{s.desc or 'default'}"
                )


CASES = list(_cases())


# ---------------------------------------------------------------------------- the adapter
def _walk(v: Any) -> Iterator[Any]:
    """Every leaf of nested tuples, lists and dicts."""
    if isinstance(v, (tuple, list)):
        for x in v:
            yield from _walk(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _walk(x)
    else:
        yield v


def _why_skip(sample: Any) -> str | None:
    """The key in SKIP_REASONS that applies to this sample, or None."""
    inputs = [sample.constructor_input.args, sample.constructor_input.kwargs]
    if sample.forward_input is not None:
        inputs += [sample.forward_input.args, sample.forward_input.kwargs]
    for v in _walk(inputs):
        if isinstance(v, torch.Tensor):
            if v.dtype not in _GLASSNET_DTYPES:
                return "dtype"
            if v.device.type != "cpu":
                return "device"
        elif isinstance(v, torch.dtype) and v not in _GLASSNET_DTYPES:
            return "dtype"
        elif isinstance(v, torch.device) and v.type != "cpu":
            return "device"
    return None


def _to_glassnet(v: Any, leaves: list[tuple[Any, Any]]) -> Any:
    """Convert torch arguments to glassnet ones, recursing into tuples, lists and dicts.

    A torch tensor becomes a glassnet tensor with a copy of its values (and its requires_grad);
    the pair is appended to ``leaves`` so that gradients can be compared later. A torch dtype
    becomes the NumPy dtype, a PackedSequence glassnet's; everything else passes through.
    """
    if isinstance(v, TorchPackedSequence):
        return PackedSequence(*(_to_glassnet(x, leaves) for x in v))
    if isinstance(v, torch.Tensor):
        g = glassnet.tensor(v.detach().numpy().copy(), requires_grad=v.requires_grad)
        leaves.append((g, v))
        return g
    if isinstance(v, torch.dtype):
        return np.dtype(_GLASSNET_DTYPES[v])
    if isinstance(v, torch.device):
        return str(v)
    if isinstance(v, tuple):
        return tuple(_to_glassnet(x, leaves) for x in v)
    if isinstance(v, list):
        return [_to_glassnet(x, leaves) for x in v]
    if isinstance(v, dict):
        return {k: _to_glassnet(x, leaves) for k, x in v.items()}
    return v


def _fresh(v: Any) -> Any:
    """A new torch leaf for every tensor in ``v`` (cached samples stay untouched)."""
    if isinstance(v, torch.Tensor):
        return v.detach().clone().requires_grad_(v.requires_grad)
    if isinstance(v, tuple):  # a named tuple (PackedSequence) keeps its type
        items = [_fresh(x) for x in v]
        return type(v)(*items) if hasattr(v, "_fields") else tuple(items)
    if isinstance(v, list):
        return [_fresh(x) for x in v]
    if isinstance(v, dict):
        return {k: _fresh(x) for k, x in v.items()}
    return v


def _outputs(out: Any) -> list[Any]:
    """The tensors of a forward result, in order (nested tuples flattened)."""
    return [t for t in _walk(out) if isinstance(t, (torch.Tensor, glassnet.Tensor))]


def _call(fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _forward(module: Any, args: Any, kwargs: Any) -> tuple[list[Any], list[type]]:
    """The output tensors of ``module(*args, **kwargs)`` and the categories of its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _outputs(module(*args, **kwargs))
    return out, [w.category for w in caught]


# ---------------------------------------------------------------------------- the test
@pytest.mark.parametrize(("entry", "training", "index"), CASES)
def test_module_db_case(entry, training, index):
    info = MODULE_DB[entry]
    sample = _samples(entry, training)[index]
    reason = _why_skip(sample)
    if reason is not None:
        pytest.skip(SKIP_REASONS[reason])
    ours_cls = getattr(nn, info.module_cls.__name__)

    torch.manual_seed(0)
    c_args = _fresh(sample.constructor_input.args)
    c_kwargs = _fresh(sample.constructor_input.kwargs)
    theirs = _call(info.module_cls, c_args, c_kwargs).to(torch.float64).train(training)
    ours = _call(ours_cls, *_to_glassnet((c_args, c_kwargs), [])).double().train(training)
    ours.load_state_dict(theirs.state_dict())

    f_args = _fresh(sample.forward_input.args)
    f_kwargs = _fresh(sample.forward_input.kwargs)
    leaves: list[tuple[Any, Any]] = []
    g_args, g_kwargs = _to_glassnet((f_args, f_kwargs), leaves)
    out_t, warned_t = _forward(theirs, f_args, f_kwargs)
    out_g, warned_g = _forward(ours, g_args, g_kwargs)
    assert warned_g == warned_t, "glassnet warns differently from PyTorch"

    assert len(out_g) == len(out_t), f"{len(out_g)} outputs, PyTorch gives {len(out_t)}"
    for a, b in zip(out_g, out_t):
        assert a.dtype == _GLASSNET_DTYPES[b.dtype], f"output dtype {a.dtype}, PyTorch {b.dtype}"
    sd_t = theirs.state_dict()
    sd_g = ours.state_dict()
    assert list(sd_g) == list(sd_t)
    for k in sd_t:
        assert_close(sd_g[k], sd_t[k])

    # outputs equal; then one random upstream gradient per differentiable output
    if backward_random(out_g, out_t, index):
        params = dict(ours.named_parameters())
        assert_same_grads(leaves + [(params[n], p) for n, p in theirs.named_parameters()])


def test_every_case_is_collected():
    """The suite finds glassnet's layers (a broken name lookup would pass vacuously)."""
    covered = {MODULE_DB[p.values[0]].module_cls.__name__ for p in CASES}
    assert {"Linear", "Conv2d", "LSTM", "BatchNorm2d", "CrossEntropyLoss"} <= covered


def test_importing_module_db_keeps_our_hypothesis_profile():
    import hypothesis

    assert hypothesis.settings.default.deadline is None  # tests/conftest.py; torch's is 200 ms


# ---------------------------------------------------------------------------- the dtype rule
def _has_floating_parameters(module: nn.Module) -> bool:
    return any(p.dtype.kind == "f" for p in module.parameters())


def _dtype_cases() -> Iterator[Any]:
    """For every glassnet layer in module_db with floating parameters: its first such sample."""
    for entry, training, index in (p.values for p in CASES):
        if not training:
            continue
        info, sample = MODULE_DB[entry], _samples(entry, True)[index]
        if _why_skip(sample) is not None:
            continue
        name = info.module_cls.__name__
        c = sample.constructor_input
        if _has_floating_parameters(
            _call(getattr(nn, name), *_to_glassnet((c.args, c.kwargs), []))
        ):
            yield pytest.param(entry, index, id=name)
            CLASSES_WITH_WEIGHTS.add(name)


CLASSES_WITH_WEIGHTS: set[str] = set()
DTYPE_CASES = list({p.id: p for p in reversed(list(_dtype_cases()))}.values())  # first per class


def _kinds(v: Any) -> set[str]:
    """'f' if ``v`` holds a floating tensor, 'i' if an integer one."""
    return {"f" if t.is_floating_point() else "i" for t in _walk(v) if isinstance(t, torch.Tensor)}


def _cast(v: Any, kinds: str, dtype: torch.dtype) -> Any:
    """``v`` with every tensor whose dtype kind is in ``kinds`` ('f' float, 'i' int) cast."""
    if isinstance(v, torch.Tensor):
        kind = "f" if v.is_floating_point() else "i"
        return v.detach().to(dtype) if kind in kinds else v.detach()
    if isinstance(v, (tuple, list)):
        return type(v)(_cast(x, kinds, dtype) for x in v)
    if isinstance(v, dict):
        return {k: _cast(x, kinds, dtype) for k, x in v.items()}
    return v


@pytest.mark.parametrize(("entry", "index"), DTYPE_CASES)
def test_layers_with_weights_follow_one_dtype_rule(entry, index):
    """float64 input to float32 weights, int input, float32 input to float64 weights: where
    PyTorch refuses, glassnet raises a TypeError naming the layer, both dtypes and the fix;
    where PyTorch accepts (Embedding's integer indices), glassnet gives the same dtype."""
    info, sample = MODULE_DB[entry], _samples(entry, True)[index]
    name = info.module_cls.__name__
    c, f = sample.constructor_input, sample.forward_input
    variants = [  # (layer dtype, which inputs to cast, to what)
        (torch.float32, "f", torch.float64),
        (torch.float32, "f", torch.int64),
        (torch.float64, "f", torch.float32),
        (torch.float32, "i", torch.float64),
    ]
    for layer_dtype, kinds, to in variants:
        if kinds not in _kinds((f.args, f.kwargs)):
            continue  # no input of that kind to cast (Embedding has no float input)
        args, kwargs = _cast(f.args, kinds, to), _cast(f.kwargs, kinds, to)
        torch.manual_seed(0)
        theirs = _call(info.module_cls, c.args, c.kwargs).to(layer_dtype)
        ours = _call(getattr(nn, name), *_to_glassnet((c.args, c.kwargs), []))
        ours.to(_GLASSNET_DTYPES[layer_dtype])
        g_args, g_kwargs = _to_glassnet((args, kwargs), [])
        try:
            expected = _outputs(_call(theirs, args, kwargs))
        except Exception:  # PyTorch refuses: so must we, and say why
            with pytest.raises(TypeError) as err:
                _call(ours, g_args, g_kwargs)
            msg = str(err.value)
            given = str(np.dtype(_GLASSNET_DTYPES[to]))
            weight = str(next(p.dtype for p in ours.parameters()))
            assert name in msg and given in msg and weight in msg, msg
            if kinds == "f":
                assert ".float()" in msg and ".double()" in msg, msg
            continue
        got = _outputs(_call(ours, g_args, g_kwargs))
        assert [a.dtype for a in got] == [_GLASSNET_DTYPES[b.dtype] for b in expected]


def test_dtype_rule_covers_the_layers_with_weights():
    assert {"Linear", "Conv1d", "ConvTranspose3d", "BatchNorm2d", "LSTM", "GRUCell"} <= (
        CLASSES_WITH_WEIGHTS
    )
    assert "Embedding" in CLASSES_WITH_WEIGHTS and "ReLU" not in CLASSES_WITH_WEIGHTS


# ---------------------------------------------------------------------------- error inputs
# PyTorch's module_db also lists inputs each layer must refuse. glassnet refuses every one: a
# TypeError where PyTorch raises TypeError, an IndexError where PyTorch does (an index out of
# range), else a ValueError or TypeError (glassnet's errors for bad values and bad types, where
# PyTorch often raises RuntimeError), from glassnet's own checks, never from inside NumPy. An
# input whose dtype does not match the weights' is a TypeError (glassnet's dtype rule,
# docs/pytorch.md), where PyTorch's recurrent layers raise ValueError.
_DTYPE_MISMATCH = ("does not match weight dtype", "expected scalar type")


def _error_cases() -> Iterator[Any]:
    for entry, info in enumerate(MODULE_DB):
        name = info.module_cls.__name__
        if info.module_error_inputs_func is None or not hasattr(nn, name):
            continue
        errors = info.module_error_inputs_func(
            info, device="cpu", dtype=torch.float64, requires_grad=False, training=True
        )
        for i, _ in enumerate(errors):
            yield pytest.param(entry, i, id=f"{name}-{i}")


ERROR_CASES = list(_error_cases())


@functools.cache
def _error_inputs(entry: int) -> list[Any]:
    info = MODULE_DB[entry]
    torch.manual_seed(entry)
    return list(
        info.module_error_inputs_func(
            info, device="cpu", dtype=torch.float64, requires_grad=False, training=True
        )
    )


@pytest.mark.parametrize(("entry", "index"), ERROR_CASES)
def test_module_db_error_input_is_refused(entry, index):
    info = MODULE_DB[entry]
    error = _error_inputs(entry)[index]
    sample = error.module_error_input
    reason = _why_skip(sample)
    if reason is not None:
        pytest.skip(SKIP_REASONS[reason])
    c, f = sample.constructor_input, sample.forward_input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        allowed = (TypeError, ValueError) + (
            (IndexError,) if error.error_type is IndexError else ()
        )
        with pytest.raises(allowed) as caught:
            ours = _call(
                getattr(nn, info.module_cls.__name__), *_to_glassnet((c.args, c.kwargs), [])
            )
            if f is not None:  # else the constructor must refuse
                _call(ours, *_to_glassnet((f.args, f.kwargs), []))
    assert f is not None or error.error_on.name == "CONSTRUCTION_ERROR"
    if error.error_type is TypeError or any(m in error.error_regex for m in _DTYPE_MISMATCH):
        assert caught.type is TypeError, caught.value
    last = caught.traceback[-1].path
    assert "numpy" not in str(last), f"raised inside NumPy ({last}): {caught.value}"
    assert "\n" not in str(caught.value)


def test_every_error_case_is_collected():
    names = {MODULE_DB[p.values[0]].module_cls.__name__ for p in ERROR_CASES}
    assert {"LSTM", "GRUCell", "CrossEntropyLoss", "Embedding", "MaxPool2d"} <= names
    assert len(ERROR_CASES) >= 80
