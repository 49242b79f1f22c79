"""glassnet.save / glassnet.load: torch.save/torch.load for state dicts, as safetensors."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import glassnet
from glassnet import nn
from glassnet.data.validate import InvalidFileError

from .helpers import torch


def _net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_state_dict_round_trip_is_a_plain_safetensors_file(tmp_path):
    net, other = _net(), _net()
    path = tmp_path / "net.pt"  # any name: the content is safetensors
    glassnet.save(net.state_dict(), path)
    loaded = glassnet.load(path)
    assert isinstance(loaded, OrderedDict) and set(loaded) == set(net.state_dict())
    assert all(isinstance(v, glassnet.Tensor) for v in loaded.values())
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    other.load_state_dict(loaded)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k].data, v.data)
    # the same file PyTorch reads with safetensors, into the equivalent torch model
    from safetensors.torch import load_file

    tnet = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    tnet.load_state_dict(load_file(str(path)))
    np.testing.assert_array_equal(tnet[0].weight.detach().numpy(), net[0].weight.data)
    assert glassnet.io.load(path).keys() == loaded.keys()  # glassnet.io reads it too


def test_mappings_of_arrays_torch_tensors_and_metadata(tmp_path):
    path = str(tmp_path / "arrays.safetensors")
    glassnet.save(
        {"a": np.arange(3.0), "b": torch.ones(2, dtype=torch.int32), "c": glassnet.tensor(2.0)},
        path,
        metadata={"note": "hi"},
    )
    got = glassnet.load(path)
    assert got["a"].tolist() == [0.0, 1.0, 2.0] and got["b"].dtype == np.int32
    assert got["c"].shape == () and glassnet.io.load_metadata(path)["note"] == "hi"
    glassnet.save({}, path)
    assert glassnet.load(path) == OrderedDict()


def test_training_checkpoint_with_optimizer_state_round_trips(tmp_path):
    glassnet.manual_seed(0)
    net = _net()
    opt = glassnet.optim.Adam(net.parameters(), lr=1e-2, betas=(0.8, 0.9))
    for _ in range(2):
        opt.zero_grad()
        net(glassnet.randn(5, 3)).pow(2).mean().backward()
        opt.step()
    ckpt = {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 2, "tag": None}
    path = tmp_path / "ckpt.pt"
    glassnet.save(ckpt, path)
    state = glassnet.load(path, map_location="cpu", weights_only=True)
    assert state["epoch"] == 2 and state["tag"] is None
    assert isinstance(state["model"]["0.weight"], glassnet.Tensor)  # arrays come back tensors
    assert isinstance(state["optimizer"]["state"][0]["exp_avg"], glassnet.Tensor)
    assert state["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9)
    assert set(state["optimizer"]["state"]) == set(range(6))  # integer keys come back integers
    net2 = _net()
    opt2 = glassnet.optim.Adam(net2.parameters(), lr=0.5)
    net2.load_state_dict(state["model"])
    opt2.load_state_dict(state["optimizer"])
    assert opt2.param_groups[0]["lr"] == 1e-2
    # both continue identically
    x = glassnet.randn(5, 3)
    for m, o in ((net, opt), (net2, opt2)):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()
    for a, b in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    opt_only = tmp_path / "opt.pt"
    glassnet.save(opt.state_dict(), opt_only)
    opt2.load_state_dict(glassnet.load(opt_only))


def test_objects_that_would_be_pickled_are_refused_with_the_fix(tmp_path):
    net = _net()
    path = tmp_path / "x.pt"
    cases = [
        (
            net,
            r"got a Sequential; save its state dict: glassnet.save\(model.state_dict\(\), path\)",
        ),
        (
            glassnet.optim.SGD(net.parameters(), lr=0.1),
            r"got a SGD; save its state dict: glassnet.save\(optimizer.state_dict\(\), path\)",
        ),
        (glassnet.ones(2), r"got a Tensor; put it in a dict: glassnet.save\(\{'x': x\}, path\)"),
        ([np.ones(2)], "got a list"),
        ({"model": net}, "cannot checkpoint '/model' of type Sequential"),
        ({"fn": print}, "cannot checkpoint '/fn'"),
    ]
    for obj, match in cases:
        with pytest.raises(TypeError, match=match):
            glassnet.save(obj, path)
    assert not path.exists()
    with pytest.raises(TypeError, match="never pickles"):
        glassnet.save(net, path)
    with pytest.raises(TypeError, match="metadata only for a flat state dict"):
        glassnet.save({"epoch": 1}, path, metadata={"a": "b"})


def test_paths_devices_and_files_load_refuses(tmp_path):
    import io

    with pytest.raises(TypeError, match="expected a file path.*got BytesIO"):
        glassnet.save({"a": np.ones(1)}, io.BytesIO())
    with pytest.raises(TypeError, match="expected a file path"):
        glassnet.load(io.BytesIO())
    with pytest.raises(FileNotFoundError):
        glassnet.load(tmp_path / "missing.pt")
    path = tmp_path / "w.safetensors"
    glassnet.save({"a": np.ones(1)}, path)
    for where in (None, "cpu", glassnet.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        assert glassnet.load(path, map_location=where)["a"].tolist() == [1.0]
    with pytest.raises(RuntimeError, match="CPU-only build"):
        glassnet.load(path, map_location="cuda")
    with pytest.raises(TypeError, match="unexpected keyword argument 'mmap'"):
        glassnet.load(path, mmap=True)
    pt = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, pt)
    with pytest.raises(InvalidFileError, match=r"written by torch.save.*glassnet.io.load_into"):
        glassnet.load(pt)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a safetensors file"):
        glassnet.load(bad)
