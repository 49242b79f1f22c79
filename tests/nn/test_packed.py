"""nn.utils.rnn (padding, packing, PackedSequence) and RNN/LSTM/GRU on packed input vs torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn
from glassnet.nn.utils import rnn as R

from ..helpers import assert_close, backward_random, check_grad, torch

TR = torch.nn.utils.rnn
KINDS = ("RNN", "LSTM", "GRU")


def from_torch(p: Any, requires_grad: bool = False) -> R.PackedSequence:
    """A torch PackedSequence as ours (same rows, same order)."""
    idx = [None if i is None else i.numpy().copy() for i in (p.sorted_indices, p.unsorted_indices)]
    data = glassnet.tensor(p.data.detach().numpy().copy(), requires_grad=requires_grad)
    return R.PackedSequence(data, p.batch_sizes.numpy().copy(), *idx)


# ---------------------------------------------------------------------------- the utilities
@st.composite
def batches(draw: Any) -> dict[str, Any]:
    lens = draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))
    enforce_sorted = draw(st.booleans())
    if enforce_sorted:
        lens.sort(reverse=True)
    T = max(lens) + draw(st.integers(0, 2))  # the padded length may exceed the longest sequence
    return {
        "lens": lens,
        "T": T,
        "feat": tuple(draw(st.lists(st.integers(1, 3), max_size=2))),
        "batch_first": draw(st.booleans()),
        "enforce_sorted": enforce_sorted,
        "total_length": draw(st.sampled_from([None, 0, 2])),  # extra steps beyond the longest
        "padding_value": draw(st.sampled_from([0.0, -1.5, 7.0])),
        "lengths_as": draw(st.sampled_from(["list", "array", "tensor"])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _lengths_arg(lens: list[int], kind: str) -> Any:
    if kind == "list":
        return list(lens)
    arr = np.array(lens, np.int64)
    return arr if kind == "array" else glassnet.tensor(arr)


@given(batches())
def test_pack_pad_round_trip_matches_torch(c: dict[str, Any]) -> None:
    """pack_padded_sequence then pad_packed_sequence: values, lengths and input gradients."""
    lens, T, N, bf = c["lens"], c["T"], len(c["lens"]), c["batch_first"]
    x = np.random.default_rng(c["seed"]).standard_normal(((N, T) if bf else (T, N)) + c["feat"])
    xg = glassnet.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    pg = R.pack_padded_sequence(xg, _lengths_arg(lens, c["lengths_as"]), bf, c["enforce_sorted"])
    pt = TR.pack_padded_sequence(xt, torch.tensor(lens), bf, c["enforce_sorted"])
    assert isinstance(pg, R.PackedSequence)
    np.testing.assert_array_equal(pg.batch_sizes.data, pt.batch_sizes.numpy())
    assert pg.batch_sizes.dtype == np.int64
    if c["enforce_sorted"]:
        assert pg.sorted_indices is None and pg.unsorted_indices is None
        assert_close(pg.data, pt.data, 0, 0)
    else:
        si = pg.sorted_indices.data
        assert pg.sorted_indices.dtype == np.int64
        np.testing.assert_array_equal(si, np.argsort(-np.array(lens), kind="stable"))  # stable
        np.testing.assert_array_equal(pg.unsorted_indices.data, np.argsort(si))
        # torch's sort may order tied lengths differently; with our order its rows are ours
        ref = TR.pack_padded_sequence(
            xt.detach().index_select(0 if bf else 1, torch.from_numpy(si)),
            torch.tensor(lens)[torch.from_numpy(si)],
            bf,
        )
        assert_close(pg.data, ref.data, 0, 0)
    total = None if c["total_length"] is None else T + c["total_length"]
    yg, lg = R.pad_packed_sequence(pg, bf, c["padding_value"], total)
    yt, lt = TR.pad_packed_sequence(pt, bf, c["padding_value"], total)
    np.testing.assert_array_equal(lg.data, lt.numpy())
    assert lg.dtype == np.int64
    backward_random([yg], [yt], c["seed"])
    assert_close(xg.grad, xt.grad, 0, 0)


@given(batches(), st.sampled_from(["left", "right"]))
def test_pad_sequence_matches_torch(c: dict[str, Any], side: str) -> None:
    r = np.random.default_rng(c["seed"])
    arrays = [r.standard_normal((L, *c["feat"])) for L in [0, *c["lens"]][c["seed"] % 2 :]]
    sg = [glassnet.tensor(a, requires_grad=True) for a in arrays]
    st_ = [torch.tensor(a, requires_grad=True) for a in arrays]
    yg = R.pad_sequence(sg, c["batch_first"], c["padding_value"], side)
    yt = TR.pad_sequence(st_, c["batch_first"], c["padding_value"], side)
    backward_random([yg], [yt], c["seed"])
    for a, b in zip(sg, st_):
        assert_close(a.grad, b.grad, 0, 0)


@given(batches())
def test_pack_sequence_and_unpacking_match_torch(c: dict[str, Any]) -> None:
    r = np.random.default_rng(c["seed"])
    arrays = [r.standard_normal((L, *c["feat"])) for L in c["lens"]]
    sg = [glassnet.tensor(a, requires_grad=True) for a in arrays]
    st_ = [torch.tensor(a, requires_grad=True) for a in arrays]
    pg = R.pack_sequence(sg, c["enforce_sorted"])
    pt = TR.pack_sequence(st_, c["enforce_sorted"])
    np.testing.assert_array_equal(pg.batch_sizes.data, pt.batch_sizes.numpy())
    # unpack_sequence undoes the packing whatever the order of ties; gradients flow back
    ug = R.unpack_sequence(pg)
    ut = TR.unpack_sequence(pt)
    assert len(ug) == len(ut) == len(arrays)
    for a, u in zip(arrays, ug):
        assert_close(u, a, 0, 0)
    backward_random(ug, ut, c["seed"])
    for a, b in zip(sg, st_):
        assert_close(a.grad, b.grad, 0, 0)


@given(batches())
def test_unpad_sequence_matches_torch(c: dict[str, Any]) -> None:
    lens, T, bf = [*c["lens"], 0], c["T"], c["batch_first"]
    N = len(lens)
    x = np.random.default_rng(c["seed"]).standard_normal(((N, T) if bf else (T, N)) + c["feat"])
    xg = glassnet.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ug = R.unpad_sequence(xg, _lengths_arg(lens, c["lengths_as"]), bf)
    ut = TR.unpad_sequence(xt.clone(), torch.tensor(lens), bf)  # torch transposes in place
    backward_random(ug, ut, c["seed"])
    assert_close(xg.grad, xt.grad, 0, 0)
    np.testing.assert_array_equal(xg.data, x)  # ours leaves the input alone


def test_gradcheck_through_packing() -> None:
    r = np.random.default_rng(0)

    def through(x: Any, a: Any, b: Any) -> Any:
        p = R.pack_padded_sequence(x, [2, 4, 3], batch_first=True, enforce_sorted=False)
        y, _ = R.pad_packed_sequence(p, total_length=5, padding_value=0.5)
        return y * 2.0, R.pad_sequence([a, b], padding_side="left"), p.data

    check_grad(through, r.standard_normal((3, 4, 2)), r.standard_normal((3, 2)),
               r.standard_normal((1, 2)))  # fmt: skip


def test_integer_sequences_pack_without_gradients() -> None:
    """Token ids (int64) pad and pack as in PyTorch's docstring examples."""
    seqs = [glassnet.tensor([1, 2, 3]), glassnet.tensor([4, 5]), glassnet.tensor([6])]
    p = R.pack_sequence(seqs)
    np.testing.assert_array_equal(p.data.data, [1, 4, 6, 2, 5, 3])
    assert p.data.dtype == np.int64 and not p.data.requires_grad
    x = glassnet.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    q = R.pack_padded_sequence(x, [2, 1, 3], batch_first=True, enforce_sorted=False)
    np.testing.assert_array_equal(q.data.data, [4, 1, 3, 5, 2, 6])
    np.testing.assert_array_equal(q.sorted_indices.data, [2, 0, 1])
    np.testing.assert_array_equal(q.unsorted_indices.data, [1, 2, 0])
    padded, lengths = R.pad_packed_sequence(q, batch_first=True)
    np.testing.assert_array_equal(padded.data, x.data)
    np.testing.assert_array_equal(lengths.data, [2, 1, 3])


def test_packed_sequence_is_a_named_tuple_like_torchs() -> None:
    x = glassnet.tensor(np.arange(6.0).reshape(3, 2, 1))
    p = R.pack_padded_sequence(x, [1, 3], enforce_sorted=False)
    assert p._fields == TR.PackedSequence._fields
    data, batch_sizes, _, ui = p
    assert data is p.data and batch_sizes is p.batch_sizes
    q = R.PackedSequence(p.data, p.batch_sizes, p.sorted_indices)  # unsorted filled in
    np.testing.assert_array_equal(q.unsorted_indices.data, ui.data)
    r = R.PackedSequence((p.data, [2, 1, 1]))
    assert r.sorted_indices is None and r.batch_sizes.dtype == np.int64
    assert type(p._replace(data=p.data * 2)) is R.PackedSequence
    assert p.to(np.float32).data.dtype == np.float32 and p.float().batch_sizes is p.batch_sizes
    assert p.double() is p.double().double()
    d = p.double()  # PyTorch's Tensor.to forms: device, device + dtype, another tensor's dtype
    assert d.to("cpu") is d and d.cpu() is d and d.to(glassnet.device("cpu")) is d
    assert d.to("cpu", np.float32).data.dtype == np.float32
    assert d.to(glassnet.zeros(1)).data.dtype == glassnet.get_default_dtype()
    with pytest.raises(RuntimeError, match="CPU"):
        d.to("cuda")
    np.testing.assert_array_equal(R.invert_permutation([2, 0, 1]).data, [1, 2, 0])
    assert R.invert_permutation(None) is None


# ---------------------------------------------------------------------------- recurrent layers
def make_pair(kind: str, D: int, H: int, seed: int, **kw: Any) -> tuple[Any, Any]:
    ours = getattr(nn, kind)(D, H, rng=np.random.default_rng(seed), **kw).double()
    theirs = getattr(torch.nn, kind)(D, H, **kw).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def run_packed(ours: Any, theirs: Any, pt: Any, hx: list[np.ndarray] | None, seed: int) -> None:
    """Forward (output rows, h_n, c_n) and every gradient (data, h_0, c_0, parameters)."""
    pg = from_torch(pt, requires_grad=True)
    hg = None if hx is None else [glassnet.tensor(h, requires_grad=True) for h in hx]
    ht = None if hx is None else [torch.tensor(h, requires_grad=True) for h in hx]
    arg_g = None if hg is None else (tuple(hg) if len(hg) == 2 else hg[0])
    arg_t = None if ht is None else (tuple(ht) if len(ht) == 2 else ht[0])
    yg, sg = ours(pg, arg_g)
    yt, st_ = theirs(pt, arg_t)
    assert isinstance(yg, R.PackedSequence)
    np.testing.assert_array_equal(yg.batch_sizes.data, yt.batch_sizes.numpy())
    for a, b in (
        (yg.sorted_indices, yt.sorted_indices),
        (yg.unsorted_indices, yt.unsorted_indices),
    ):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.data, b.numpy())
    sg = list(sg) if isinstance(sg, tuple) else [sg]
    st_ = list(st_) if isinstance(st_, tuple) else [st_]
    backward_random([yg.data, *sg], [yt.data, *st_], seed)
    assert_close(pg.data.grad, pt.data.grad)
    for a, b in zip(hg or [], ht or []):
        assert_close(a.grad, b.grad)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, tp[name].grad)


@st.composite
def packed_configs(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    kw: dict[str, Any] = {
        "num_layers": draw(st.integers(1, 2)),
        "bidirectional": draw(st.booleans()),
        "batch_first": draw(st.booleans()),  # ignored for packed input, as in PyTorch
        "bias": draw(st.booleans()),
    }
    if kind == "LSTM":
        kw["proj_size"] = draw(st.sampled_from([0, 2]))
    if kind == "RNN":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    return {
        "kind": kind,
        "kw": kw,
        "lens": draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)),
        "enforce_sorted": draw(st.booleans()),
        "with_state": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@given(packed_configs())
def test_recurrent_layers_on_packed_input_match_torch(c: dict[str, Any]) -> None:
    D, H = 3, 4
    ours, theirs = make_pair(c["kind"], D, H, c["seed"], **c["kw"])
    r = np.random.default_rng(c["seed"])
    lens = sorted(c["lens"], reverse=True) if c["enforce_sorted"] else c["lens"]
    N, T = len(lens), max(lens)
    x = torch.from_numpy(r.standard_normal((T, N, D)))
    pt = TR.pack_padded_sequence(x, lens, enforce_sorted=c["enforce_sorted"])
    pt.data.requires_grad_(True)
    hx = None
    if c["with_state"]:
        L = c["kw"]["num_layers"] * (2 if c["kw"]["bidirectional"] else 1)
        P = c["kw"].get("proj_size", 0) or H
        hx = [r.standard_normal((L, N, P))] + (
            [r.standard_normal((L, N, H))] * (c["kind"] == "LSTM")
        )
    run_packed(ours, theirs, pt, hx, c["seed"])


@pytest.mark.parametrize("kind", KINDS)
def test_pack_run_pad_from_a_padded_batch(kind: str) -> None:
    """The user's pattern end to end (our packing on both ends), batch_first, h_n in batch order."""
    kw: dict[str, Any] = {"num_layers": 2, "bidirectional": True, "batch_first": True}
    if kind == "LSTM":
        kw["proj_size"] = 2
    ours, theirs = make_pair(kind, 2, 3, 0, **kw)
    lens = [3, 5, 1, 5]
    x = np.random.default_rng(1).standard_normal((4, 6, 2))
    xg = glassnet.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yg, sg = ours(R.pack_padded_sequence(xg, lens, batch_first=True, enforce_sorted=False))
    yt, st_ = theirs(TR.pack_padded_sequence(xt, lens, batch_first=True, enforce_sorted=False))
    pg, _ = R.pad_packed_sequence(yg, batch_first=True, total_length=6)
    pt, _ = TR.pad_packed_sequence(yt, batch_first=True, total_length=6)
    sg = list(sg) if isinstance(sg, tuple) else [sg]
    st_ = list(st_) if isinstance(st_, tuple) else [st_]
    backward_random([pg, *sg], [pt, *st_], 2)
    assert_close(xg.grad, xt.grad)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, tp[name].grad)


def test_packed_path_agrees_with_the_lengths_path() -> None:
    """Packed input is the lengths= option underneath: same outputs, gradients and BPTT hooks."""
    lstm = nn.LSTM(2, 3, bidirectional=True).double()
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    v = np.random.default_rng(1).standard_normal((4, 3, 6))
    lens = [2, 4, 1]
    runs = []
    for packed in (False, True):
        events: list[Any] = []
        handle = lstm.register_bptt_hook(lambda m, e, ev=events: ev.append(e))
        xg = glassnet.tensor(x, requires_grad=True)
        if packed:
            yp, (h, c) = lstm(R.pack_padded_sequence(xg, lens, enforce_sorted=False))
            y = R.pad_packed_sequence(yp)[0]
        else:
            y, (h, c) = lstm(xg, lengths=lens)
        ((y * glassnet.tensor(v)).sum() + h.sum() + c.sum()).backward()
        handle.remove()
        runs.append((y, h, c, xg.grad, events))
    for a, b in zip(runs[0][:4], runs[1][:4]):
        assert_close(a, b, 0, 0)
    assert len(runs[0][4]) == len(runs[1][4]) == 8
    for e, f in zip(runs[0][4], runs[1][4]):
        assert (e.layer, e.direction, e.t) == (f.layer, f.direction, f.t)
        assert_close(e.grad_h, f.grad_h, 0, 0)  # rows in the batch order either way


# ---------------------------------------------------------------------------- module_db
def _module_db_packed_cases() -> list[tuple[str, dict[str, Any], Any]]:
    """module_db's packed-sequence samples (RNN and GRU); LSTM's constructors on the same inputs.

    PyTorch's module_db builds packed samples for RNN and GRU only (``with_packed_sequence``);
    its LSTM samples have none, so each LSTM constructor of module_db runs on RNN's packed inputs.
    """
    from torch.testing._internal.common_modules import module_db

    infos = {m.module_cls.__name__: m for m in module_db if m.module_cls.__name__ in KINDS}
    cases, packed_inputs = [], []
    for kind in ("RNN", "GRU", "LSTM"):
        mi = infos[kind]
        samples = mi.module_inputs_func(
            mi, device="cpu", dtype=torch.float64, requires_grad=True, training=True,
            with_packed_sequence=True,
        )  # fmt: skip
        for s in samples:
            args = s.forward_input.args
            if args and isinstance(args[0], TR.PackedSequence):
                cases.append((kind, s.constructor_input.kwargs, s.forward_input))
                packed_inputs.append(s.forward_input)
            elif kind == "LSTM" and len(args) == 1:
                cases += [(kind, s.constructor_input.kwargs, f) for f in packed_inputs[:2]]
    return cases


def test_module_db_packed_cases() -> None:
    cases = _module_db_packed_cases()
    counts = {k: sum(c[0] == k for c in cases) for k in KINDS}
    assert counts == {"RNN": 32, "GRU": 16, "LSTM": 32}, counts
    for i, (kind, kwargs, fwd) in enumerate(cases):
        kw = dict(kwargs)
        D, H = kw.pop("input_size"), kw.pop("hidden_size")
        ours, theirs = make_pair(kind, D, H, i, **kw)
        pt = fwd.args[0]
        pt = TR.PackedSequence(pt.data.detach().clone().requires_grad_(True), *pt[1:])
        run_packed(ours, theirs, pt, None, i)


# ---------------------------------------------------------------------------- errors
X = np.zeros((5, 3, 2))


def _both(ours: Any, theirs: Any, exc: type, match: str) -> None:
    """Ours raises ``exc`` with a message matching ``match``; torch refuses the same input."""
    with pytest.raises(exc, match=match):
        ours()
    with pytest.raises(Exception):  # noqa: B017 - torch's types vary (RuntimeError mostly)
        theirs()


@pytest.mark.parametrize(
    ("lengths", "kw", "exc", "match"),
    [
        ([3, 5, 2], {}, ValueError, r"lengths sorted in decreasing order .* lengths\[1\] = 5"),
        ([5, 3, 0], {}, ValueError, r"lengths in \[1, 5\] .* from 0 to 5"),
        ([5, 3, -1], {"enforce_sorted": False}, ValueError, r"lengths in \[1, 5\]"),
        ([5, 3], {}, ValueError, r"3 lengths .* got 2"),
        ([5, 3, 2, 1], {}, ValueError, r"3 lengths .* got 4"),
        ([[5, 3, 2]], {}, ValueError, r"lengths as a 1-D sequence .* shape \(1, 3\)"),
        (5, {}, TypeError, r"lengths as a list, array or Tensor of ints, got int"),
        ("abc", {}, TypeError, r"lengths as a list, array or Tensor of ints, got str"),
        ([[5], [3, 2], [2]], {}, TypeError, r"lengths as a flat list of ints"),
        ([5, 3, 3], {"batch_first": True}, ValueError, r"5 lengths"),
    ],
)
def test_pack_padded_sequence_errors(
    lengths: Any, kw: dict[str, Any], exc: type, match: str
) -> None:
    t_len = lengths if isinstance(lengths, (str, list)) else torch.tensor(lengths)
    _both(
        lambda: R.pack_padded_sequence(glassnet.tensor(X), lengths, **kw),
        lambda: TR.pack_padded_sequence(torch.tensor(X), t_len, **kw),
        exc,
        "^pack_padded_sequence expected " + match,
    )


def test_pack_padded_sequence_refuses_what_torch_does_not_check() -> None:
    """Too-long lengths (torch reads past the input) and fractional ones (torch truncates)."""
    x = glassnet.tensor(X)
    with pytest.raises(
        ValueError, match=r"lengths in \[1, 5\] \(T = 5, .*\), got values from 2 to 6"
    ):
        R.pack_padded_sequence(x, [6, 3, 2])
    with pytest.raises(TypeError, match="lengths to hold integers, got dtype float64"):
        R.pack_padded_sequence(x, [5.5, 3.0, 2.0])
    with pytest.raises(TypeError, match="lengths to hold integers, got dtype bool"):
        R.pack_padded_sequence(x, [True, True, True])
    with pytest.raises(TypeError, match="expected input to be a Tensor, got ndarray"):
        R.pack_padded_sequence(X, [5, 3, 2])


def test_other_utility_errors() -> None:
    x = glassnet.tensor(X)
    p = R.pack_padded_sequence(x, [5, 3, 2])
    pt = TR.pack_padded_sequence(torch.tensor(X), [5, 3, 2])
    a, b = glassnet.zeros(3, 2), glassnet.zeros(2, 3)
    cases = [
        (lambda: R.pack_padded_sequence(glassnet.zeros(5), [5]),
         lambda: TR.pack_padded_sequence(torch.zeros(5), [5]),
         ValueError, r"pack_padded_sequence expected input of shape \(T, N, \*\), got \(5,\)"),
        (lambda: R.pack_padded_sequence(glassnet.zeros(5, 0, 2), []),
         lambda: TR.pack_padded_sequence(torch.zeros(5, 0, 2), []),
         ValueError, r"cannot pack an empty batch: input of shape \(5, 0, 2\)"),
        (lambda: R.pad_packed_sequence(p, total_length=4),
         lambda: TR.pad_packed_sequence(pt, total_length=4),
         ValueError, r"pad_packed_sequence expected total_length >= 5 .* got 4"),
        (lambda: R.pad_packed_sequence(x),
         lambda: TR.pad_packed_sequence(torch.tensor(X)),
         TypeError, r"pad_packed_sequence expected a PackedSequence, got Tensor"),
        (lambda: R.pad_sequence([]), lambda: TR.pad_sequence([]),
         ValueError, r"pad_sequence expected a non-empty list of sequences"),
        (lambda: R.pad_sequence([a, b]),
         lambda: TR.pad_sequence([torch.zeros(3, 2), torch.zeros(2, 3)]),
         ValueError, r"every sequence of shape \(L, 2\) .* sequences\[1\] of shape \(2, 3\)"),
        (lambda: R.pad_sequence([a, a], padding_side="up"),
         lambda: TR.pad_sequence([torch.zeros(3, 2)], padding_side="up"),
         ValueError, r"padding_side 'left' or 'right', got 'up'"),
        (lambda: R.pad_sequence([glassnet.tensor(1.0)]),
         lambda: TR.pad_sequence([torch.tensor(1.0)]),
         ValueError, r"sequences\[0\] of shape \(L, \*\), got a 0-d tensor"),
        (lambda: R.pad_sequence(5), lambda: TR.pad_sequence(5),
         TypeError, r"pad_sequence expected sequences as a list of tensors, got int"),
        (lambda: R.pad_sequence([a, np.zeros((2, 2))]),
         lambda: TR.pad_sequence([torch.zeros(3, 2), np.zeros((2, 2))]),
         TypeError, r"sequences\[1\] to be a Tensor, got ndarray"),
        (lambda: R.pack_sequence([glassnet.zeros(2), glassnet.zeros(3)]),
         lambda: TR.pack_sequence([torch.zeros(2), torch.zeros(3)]),
         ValueError, r"pack_sequence expected lengths sorted in decreasing order"),
        (lambda: R.pack_sequence([glassnet.zeros(2), glassnet.zeros(0)]),
         lambda: TR.pack_sequence([torch.zeros(2), torch.zeros(0)]),
         ValueError, r"pack_sequence expected sequences of length >= 1, got sequences\[1\]"),
    ]  # fmt: skip
    for ours, theirs, exc, match in cases:
        _both(ours, theirs, exc, match)
    # mixed dtypes: torch casts silently to the first sequence's dtype; we refuse
    with pytest.raises(TypeError, match=r"sequences of one dtype, got float64 .* float32"):
        R.pad_sequence([glassnet.zeros(2, dtype=np.float64), glassnet.zeros(2, dtype=np.float32)])
    with pytest.raises(TypeError, match="an int total_length, got float"):
        R.pad_packed_sequence(p, total_length=6.0)
    with pytest.raises(TypeError, match="a number padding_value, got str"):
        R.pad_packed_sequence(p, padding_value="0")
    with pytest.raises(ValueError, match=r"unpad_sequence expected lengths in \[0, 5\]"):
        R.unpad_sequence(x, [6, 0, 1])
    with pytest.raises(ValueError, match=r"data with batch_sizes.sum\(\) = 10 rows, got \(9, 2\)"):
        R.pad_packed_sequence(R.PackedSequence(glassnet.zeros(9, 2), p.batch_sizes))
    with pytest.raises(ValueError, match=r"positive, non-increasing batch_sizes, got \[1, 2\]"):
        R.pad_packed_sequence(R.PackedSequence(glassnet.zeros(3, 2), [1, 2]))
    with pytest.raises(ValueError, match=r"sorted_indices to be a permutation of range\(3\)"):
        R.pad_packed_sequence(R.PackedSequence(p.data, p.batch_sizes, [0, 0, 1], [0, 1, 2]))
    with pytest.raises(TypeError, match=r"PackedSequence expected data and batch_sizes"):
        R.PackedSequence(p.data)


@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_layer_errors_on_packed_input(kind: str) -> None:
    ours, theirs = make_pair(kind, 2, 3, 0)
    p = R.pack_padded_sequence(glassnet.tensor(X), [5, 3, 2])
    pt = TR.pack_padded_sequence(torch.tensor(X), [5, 3, 2])
    h_bad = np.zeros((1, 2, 3))  # batch 2, the packed batch is 3
    hx_g: Any = glassnet.tensor(h_bad)
    hx_t: Any = torch.tensor(h_bad)
    if kind == "LSTM":
        hx_g = (hx_g, glassnet.zeros(1, 3, 3, dtype=np.float64))
        hx_t = (hx_t, torch.zeros(1, 3, 3, dtype=torch.float64))
    _both(lambda: ours(p, hx_g), lambda: theirs(pt, hx_t), ValueError,
          rf"{kind} expected h_0 of shape \(1, 3, 3\)")  # fmt: skip
    with pytest.raises(ValueError, match=rf"{kind} takes no lengths= with a PackedSequence"):
        ours(p, lengths=[5, 3, 2])
    with pytest.raises(ValueError, match=rf"{kind} takes no resets= with a PackedSequence"):
        ours(p, resets=np.zeros((5, 3), bool))
    bad = R.PackedSequence(glassnet.zeros(10, 2, 1, dtype=np.float64), p.batch_sizes)
    with pytest.raises(ValueError, match=rf"{kind} expected a PackedSequence with data of shape"):
        ours(bad)
    wide = R.PackedSequence(glassnet.zeros(10, 4, dtype=np.float64), p.batch_sizes)
    with pytest.raises(ValueError, match=rf"{kind} expected input with 2 features"):
        ours(wide)
