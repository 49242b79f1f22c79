"""ModuleDict, ParameterList, ParameterDict: the same operations as on PyTorch's, the same result.

Hypothesis drives random sequences of container operations on glassnet's and PyTorch's
containers side by side; keys, order, state_dict keys, lengths, membership and repr layout agree.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet import nn

from ..helpers import assert_close, torch

tnn = torch.nn
KEYS = ["a", "b", "c", "d", "e"]


def _torch_repr(s: str) -> str:
    """PyTorch's repr with its dtype names written as glassnet's (the only difference)."""
    for t, g in (("torch.float32", "float32"), ("torch.float64", "float64")):
        s = s.replace(t, g)
    return s.replace("torch.FloatTensor", "float32").replace("torch.DoubleTensor", "float64")


def _same_params(ours, theirs):
    sd, sd_t = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(sd_t)
    for k in sd:
        assert_close(sd[k], sd_t[k].numpy())


def _remove(ours, theirs, kind, key):
    """``del`` or ``pop`` on both; a missing key raises KeyError on ours. Returns what pop gave."""
    if key not in theirs:
        with pytest.raises(KeyError):
            ours.__delitem__(key) if kind == "del" else ours.pop(key)
        return None
    if kind == "del":
        del ours[key], theirs[key]
        return None
    return ours.pop(key), theirs.pop(key)


# ---------------------------------------------------------------------------- ModuleDict
md_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.sampled_from(KEYS), st.integers(1, 3)),
        st.tuples(st.just("del"), st.sampled_from(KEYS)),
        st.tuples(st.just("pop"), st.sampled_from(KEYS)),
        st.tuples(st.just("update_dict"), st.lists(st.sampled_from(KEYS), max_size=3)),
        st.tuples(st.just("update_pairs"), st.lists(st.sampled_from(KEYS), max_size=3)),
        st.tuples(st.just("clear")),
    ),
    max_size=10,
)


def _linear_pair(n, seed):
    ours = nn.Linear(2, n).double()
    theirs = tnn.Linear(2, n).double()
    r = np.random.default_rng(seed)
    ours.load_state_dict({k: r.standard_normal(v.shape) for k, v in ours.state_dict().items()})
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@given(ops=md_ops)
def test_module_dict_operations_match_pytorch(ops):
    ours, theirs = nn.ModuleDict(), tnn.ModuleDict()
    for i, op in enumerate(ops):
        kind = op[0]
        if kind == "set":
            a, b = _linear_pair(op[2], i)
            ours[op[1]], theirs[op[1]] = a, b
        elif kind in ("del", "pop"):
            popped = _remove(ours, theirs, kind, op[1])
            assert popped is None or isinstance(popped[0], nn.Linear)
        elif kind.startswith("update"):
            pairs = [(k, _linear_pair(1, i + j)) for j, k in enumerate(op[1])]
            wrap = dict if kind == "update_dict" else list
            ours.update(wrap((k, p[0]) for k, p in pairs))
            theirs.update(wrap((k, p[1]) for k, p in pairs))
        else:
            ours.clear()
            theirs.clear()
        assert list(ours.keys()) == list(theirs.keys()) == list(ours)
        assert len(ours) == len(theirs)
    _same_params(ours, theirs)
    for k in KEYS:
        assert (k in ours) == (k in theirs)
    assert [type(m).__name__ for m in ours.values()] == ["Linear"] * len(ours)
    assert [k for k, _ in ours.items()] == list(theirs)


def test_module_dict_in_a_model_registers_and_loads_torch_weights():
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})

        def forward(self, x):
            return {k: m(x) for k, m in self.heads.items()}

    class THeads(tnn.Module):
        def __init__(self):
            super().__init__()
            self.heads = tnn.ModuleDict({"cls": tnn.Linear(4, 3), "box": tnn.Linear(4, 2)})

    ours, theirs = Heads().double(), THeads().double()
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 4))
    out = ours(glassnet.tensor(x))
    for k in ("cls", "box"):
        assert_close(out[k], theirs.heads[k](torch.tensor(x)))
    assert ours.heads.cls is ours.heads["cls"]
    assert repr(ours.heads) == repr(theirs.heads)
    ours.eval()
    assert not ours.heads["box"].training


# ---------------------------------------------------------------------------- ParameterList
pl_ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 3)),
        st.tuples(st.just("extend"), st.lists(st.integers(1, 3), max_size=3)),
        st.tuples(st.just("iadd"), st.lists(st.integers(1, 3), max_size=2)),
        st.tuples(st.just("set"), st.integers(-4, 4), st.integers(1, 3)),
        st.tuples(
            st.just("append_object"),
        ),
    ),
    max_size=10,
)


@given(ops=pl_ops, seed=st.integers(0, 2**16))
def test_parameter_list_operations_match_pytorch(ops, seed):
    r = np.random.default_rng(seed)
    ours, theirs = nn.ParameterList(), tnn.ParameterList()

    def pair(n):
        a = r.standard_normal(n)
        return glassnet.tensor(a), torch.tensor(a)  # plain tensors become Parameters

    for op in ops:
        kind = op[0]
        if kind == "append":
            a, b = pair(op[1])
            ours.append(a)
            theirs.append(b)
        elif kind in ("extend", "iadd"):
            pairs = [pair(n) for n in op[1]]
            if kind == "extend":
                ours.extend([p[0] for p in pairs])
                theirs.extend([p[1] for p in pairs])
            else:
                ours += [p[0] for p in pairs]
                theirs += [p[1] for p in pairs]
        elif kind == "set":
            a, b = pair(op[2])
            if not -len(theirs) <= op[1] < len(theirs):
                with pytest.raises(IndexError, match="out of range"):
                    ours[op[1]] = a
                continue
            ours[op[1]], theirs[op[1]] = a, b
        else:
            ours.append("note")
            theirs.append("note")
        assert len(ours) == len(theirs)
    _same_params(ours, theirs)
    assert [name for name, _ in ours.named_parameters()] == [
        name for name, _ in theirs.named_parameters()
    ]
    assert all(isinstance(p, nn.Parameter) or p == "note" for p in ours)
    assert repr(ours) == _torch_repr(repr(theirs))
    if len(ours) > 1:
        sliced, sliced_t = ours[1::2], theirs[1::2]
        assert len(sliced) == len(sliced_t) and all(a is b for a, b in zip(sliced, ours[1::2]))
        assert ours[-1] is list(ours)[-1]


def test_parameter_list_shares_arrays_trains_and_converts_dtype():
    w = glassnet.tensor(np.ones(3))
    ps = nn.ParameterList([w, nn.Parameter(np.zeros((2, 2)))])
    assert ps[0].data is w.data and ps[0].requires_grad
    (ps[0].sum() * 2 + ps[1].sum()).backward()
    assert_close(ps[0].grad, np.full(3, 2.0))
    ps.float()
    assert ps[1].dtype == np.float32
    assert "0" not in dir(ps) and "append" in dir(ps)
    with pytest.raises(RuntimeError, match="should not be called"):
        ps(1)
    with pytest.raises(TypeError, match="extend should be called with an iterable"):
        ps.extend(glassnet.ones(3))
    with pytest.raises(TypeError, match="indices must be integers"):
        ps["0"]


# ---------------------------------------------------------------------------- ParameterDict
pd_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.sampled_from(KEYS), st.integers(1, 3)),
        st.tuples(st.just("del"), st.sampled_from(KEYS)),
        st.tuples(st.just("pop"), st.sampled_from(KEYS)),
        st.tuples(st.just("popitem")),
        st.tuples(st.just("setdefault"), st.sampled_from(KEYS)),
        st.tuples(st.just("update_dict"), st.lists(st.sampled_from(KEYS), max_size=3)),
        st.tuples(st.just("update_ordered"), st.lists(st.sampled_from(KEYS), max_size=3)),
        st.tuples(st.just("update_pairs"), st.lists(st.sampled_from(KEYS), max_size=3)),
        st.tuples(st.just("or"), st.lists(st.sampled_from(KEYS), max_size=3)),
        st.tuples(st.just("clear")),
    ),
    max_size=10,
)


@given(ops=pd_ops, seed=st.integers(0, 2**16))
def test_parameter_dict_operations_match_pytorch(ops, seed):
    r = np.random.default_rng(seed)
    ours, theirs = nn.ParameterDict(), tnn.ParameterDict()

    def pair(n=2):
        a = r.standard_normal(n)
        return glassnet.tensor(a), torch.tensor(a)

    for op in ops:
        kind = op[0]
        if kind == "set":
            a, b = pair(op[2])
            ours[op[1]], theirs[op[1]] = a, b
        elif kind in ("del", "pop"):
            popped = _remove(ours, theirs, kind, op[1])
            if popped is not None:
                assert_close(*popped)
        elif kind == "popitem":
            if not len(theirs):
                with pytest.raises(KeyError):
                    ours.popitem()
                continue
            (k, v), (kt, vt) = ours.popitem(), theirs.popitem()
            assert k == kt
            assert_close(v, vt)
        elif kind == "setdefault":
            a, b = pair()
            assert_close(ours.setdefault(op[1], a), theirs.setdefault(op[1], b))
        elif kind == "clear":
            ours.clear()
            theirs.clear()
        else:
            pairs = [(k, pair()) for k in op[1]]
            wrap = {"update_dict": dict, "update_ordered": OrderedDict}.get(kind, list)
            mine, other = wrap((k, p[0]) for k, p in pairs), wrap((k, p[1]) for k, p in pairs)
            if kind == "or":
                ours = ours | nn.ParameterDict(OrderedDict(mine))
                theirs = theirs | tnn.ParameterDict(OrderedDict(other))
            else:
                ours.update(mine)
                theirs.update(other)
        assert list(ours.keys()) == list(theirs.keys()) == list(ours)
        assert list(reversed(ours)) == list(reversed(theirs))
    _same_params(ours, theirs)
    for k in KEYS:
        assert (k in ours) == (k in theirs)
        assert (ours.get(k) is None) == (theirs.get(k) is None)
    assert repr(ours) == _torch_repr(repr(theirs))
    copy = ours.copy()
    assert list(copy) == list(ours) and all(copy[k] is ours[k] for k in ours)


def test_parameter_dict_keys_objects_and_errors():
    pd = nn.ParameterDict({"w": glassnet.ones(2), "note": "text"})
    assert [n for n, _ in pd.named_parameters()] == ["w"] and pd["note"] == "text"
    assert list(pd.fromkeys(["x", "y"])) == ["x", "y"]
    assert repr(pd) == _torch_repr(repr(tnn.ParameterDict({"w": torch.ones(2), "note": "text"})))
    with pytest.raises(TypeError, match="keys must be strings"):
        pd[1] = glassnet.ones(1)
    with pytest.raises(KeyError, match='name can.*t contain "[.]", got: a.b'):
        pd["a.b"] = glassnet.ones(1)
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        pd["keys"] = glassnet.ones(1)
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pd(1)


def test_update_argument_errors():
    for container in (nn.ModuleDict(), nn.ParameterDict()):
        name = type(container).__name__
        with pytest.raises(TypeError, match=f"{name}.update should be called with an iterable"):
            container.update(3)
        with pytest.raises(TypeError, match="element #0 should be Iterable"):
            container.update([5])
        with pytest.raises(ValueError, match="element #1 has length 3; 2 is required"):
            container.update([("a", None), ("b", None, None)])
    md = nn.ModuleDict()
    with pytest.raises(TypeError, match="expected a Module at 'x', got int"):
        md["x"] = 3
    with pytest.raises(KeyError, match="name can.*t be empty string"):
        md[""] = nn.ReLU()
    with pytest.raises(KeyError, match="attribute 'update' already exists"):
        md["update"] = nn.ReLU()
    with pytest.raises(NotImplementedError):
        md(1)
