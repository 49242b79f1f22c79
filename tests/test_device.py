"""The device API: ``glassnet.device``, ``.to``/``.cpu``/``.cuda`` on tensors and modules,
``glassnet.cuda``, ``device=`` on factories and ``as_tensor``, compared with PyTorch."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import glassnet
from glassnet import nn

from .helpers import assert_close, torch


@pytest.mark.parametrize("spec", [("cpu",), ("cpu:0",), ("cpu", 0), ("cpu:3",)])
def test_device_repr_str_equality_hash_as_torch(spec):
    ours, theirs = glassnet.device(*spec), torch.device(*spec)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert (ours == glassnet.device("cpu")) == (theirs == torch.device("cpu"))
    assert ours != str(ours)  # never equal to a string, as torch
    assert glassnet.device(ours) == ours and hash(glassnet.device(ours)) == hash(ours)
    assert pickle.loads(pickle.dumps(ours)) == ours


def test_accelerators_and_bad_devices_raise_clearly():
    for name in ["cuda", "cuda:0", "mps", "xla"]:
        with pytest.raises(
            RuntimeError,
            match=f"'{name.split(':')[0]}' is not available: glassnet is a CPU-only build",
        ):
            glassnet.device(name)
    with pytest.raises(RuntimeError, match="CPU-only build"):
        glassnet.device(0)
    with pytest.raises(ValueError, match="device type such as 'cpu'.*got 'gpu'"):
        glassnet.device("gpu")
    with pytest.raises(ValueError, match="non-negative index"):
        glassnet.device("cpu:x")
    with pytest.raises(ValueError, match="index in one place"):
        glassnet.device("cpu:0", 0)
    with pytest.raises(TypeError, match="string such as 'cpu'"):
        glassnet.device(1.5)


def test_cuda_module_and_tensor_device_attributes():
    assert glassnet.cuda.is_available() is torch.cuda.is_available() is False
    assert glassnet.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CUDA is not available: glassnet is a CPU-only build"):
        glassnet.cuda.current_device()
    x = glassnet.ones(2)
    assert x.device == glassnet.device("cpu") and str(x.device) == str(torch.ones(2).device)
    assert x.is_cpu and not x.is_cuda
    assert x.cpu() is x
    with pytest.raises(RuntimeError, match="CPU-only build"):
        x.cuda()
    device = "cuda" if glassnet.cuda.is_available() else "cpu"  # the portable PyTorch idiom
    assert x.to(device) is x


def _to_cases():
    f64 = glassnet.float64
    t64 = torch.float64
    return [
        (("cpu",), {}, ("cpu",), {}),
        ((), {"device": "cpu"}, (), {"device": "cpu"}),
        ((f64,), {}, (t64,), {}),
        ((), {"dtype": f64}, (), {"dtype": t64}),
        (("cpu", f64), {}, ("cpu", t64), {}),
        (
            (glassnet.device("cpu"), f64, False, True),
            {},
            (torch.device("cpu"), t64, False, True),
            {},
        ),
        (("cpu",), {"copy": True}, ("cpu",), {"copy": True}),
        ((f64,), {"non_blocking": True}, (t64,), {"non_blocking": True}),
        ((glassnet.float32,), {"copy": True}, (torch.float32,), {"copy": True}),
        ((), {}, (), {}),
    ]


@pytest.mark.parametrize("ours_args, ours_kw, theirs_args, theirs_kw", _to_cases())
def test_tensor_to_overloads_as_torch(ours_args, ours_kw, theirs_args, theirs_kw):
    a = np.array([1.0, 2.0, 3.0], np.float32)
    x = glassnet.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y = x.to(*ours_args, **ours_kw)
    ty = tx.to(*theirs_args, **theirs_kw)
    assert (y is x) == (ty is tx)
    assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
    assert (y.grad_fn is None) == (ty.grad_fn is None)
    w = np.array([0.5, -1.0, 2.0])
    (y * glassnet.tensor(w.astype(y.dtype))).sum().backward()
    (ty * torch.tensor(w, dtype=ty.dtype)).sum().backward()
    assert_close(x.grad, tx.grad)
    if y is not x:
        assert not np.shares_memory(y.data, x.data)  # a real copy, as torch's copy=True


def test_tensor_to_like_another_tensor_and_errors():
    x = glassnet.ones(2)
    other = glassnet.zeros(3, dtype=glassnet.float64)
    assert x.to(other).dtype == np.float64 and x.to(x) is x
    assert x.to("float64").dtype == np.float64  # a dtype string, where torch wants torch.float64
    with pytest.raises(RuntimeError, match="CPU-only build"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="CPU-only build"):
        x.to(device="mps")
    with pytest.raises(TypeError, match="expected a device .* or a dtype"):
        x.to("gpu")
    with pytest.raises(TypeError, match="unexpected keyword argument 'memory_format'"):
        x.to(memory_format=None)
    with pytest.raises(TypeError, match="positional arguments"):
        x.to("cpu", glassnet.float32, False, False, 1)
    with pytest.raises(TypeError, match="device 'cpu' where a dtype belongs"):
        x.to(dtype="cpu")


def test_module_to_cpu_cuda_as_torch():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert net.to("cpu") is net and ref.to("cpu") is ref
    assert net.cpu() is net
    assert net.to("cpu", glassnet.float64, True) is net
    assert all(p.dtype == np.float64 for p in net.parameters())
    net.to(glassnet.ones(1))
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.to(device=glassnet.device("cpu"), dtype=glassnet.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    with pytest.raises(TypeError, match="floating dtype, got int64"):
        net.to(glassnet.int64)
    with pytest.raises(RuntimeError, match="CPU-only build"):
        net.cuda()
    with pytest.raises(RuntimeError, match="CPU-only build"):
        net.to("cuda")
    with pytest.raises(TypeError, match="unexpected keyword argument 'copy'"):
        net.to("cpu", copy=True)


def test_factories_accept_the_cpu_device_and_refuse_others():
    makers = [
        lambda d: glassnet.tensor([1.0], device=d),
        lambda d: glassnet.as_tensor([1.0], device=d),
        lambda d: glassnet.zeros(2, device=d),
        lambda d: glassnet.ones(2, device=d),
        lambda d: glassnet.full((2,), 3.0, device=d),
        lambda d: glassnet.empty(2, device=d),
        lambda d: glassnet.zeros_like(glassnet.ones(2), device=d),
        lambda d: glassnet.ones_like(glassnet.ones(2), device=d),
        lambda d: glassnet.eye(2, device=d),
        lambda d: glassnet.arange(3, device=d),
        lambda d: glassnet.linspace(0, 1, 3, device=d),
        lambda d: glassnet.randn(2, device=d),
        lambda d: glassnet.rand(2, device=d),
        lambda d: glassnet.randint(0, 3, (2,), device=d),
    ]
    for make in makers:
        assert make("cpu").device == glassnet.device("cpu")
        assert make(glassnet.ones(1).device).device.type == "cpu"
        with pytest.raises(RuntimeError, match="CPU-only build"):
            make("cuda")


@pytest.mark.parametrize(
    "data",
    [
        [1.0, 2.0],
        3.5,
        [1, 2],
        7,
        [True, False],
        [1, 2.5],
        np.ones(2),
        np.ones(2, np.float32),
        np.arange(3, dtype=np.int32),
        np.float64(1.5),
        np.float32(1.5),
    ],
    ids=repr,
)
def test_as_tensor_dtypes_match_torch(data):
    ours = glassnet.as_tensor(data)
    theirs = torch.as_tensor(data)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    glassnet.set_default_dtype(np.float64)
    torch.set_default_dtype(torch.float64)
    try:
        assert str(glassnet.as_tensor(data).dtype) == str(torch.as_tensor(data).dtype)[6:]
    finally:
        glassnet.set_default_dtype(np.float32)
        torch.set_default_dtype(torch.float32)


def test_as_tensor_shares_memory_as_torch():
    a = np.zeros(3)
    ours, theirs = glassnet.as_tensor(a), torch.as_tensor(a)
    a[0] = 5.0
    assert ours.data[0] == theirs[0].item() == 5.0
    cast = glassnet.as_tensor(a, dtype=glassnet.float32)
    tcast = torch.as_tensor(a, dtype=torch.float32)
    a[1] = 7.0  # another dtype means a copy, in both
    assert cast.data[1] == tcast[1].item() == 0.0
    x = glassnet.ones(2, requires_grad=True)
    assert glassnet.as_tensor(x) is x
    y = glassnet.as_tensor(x, dtype=glassnet.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None  # stays in the graph, as torch
    t = torch.tensor([1.0, 2.0])
    np.testing.assert_array_equal(glassnet.as_tensor(t).data, [1.0, 2.0])
