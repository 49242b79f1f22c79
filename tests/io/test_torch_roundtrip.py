"""Round trips with PyTorch through safetensors (and .pt): equal outputs in float32."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import io
from tests.helpers import torch
from tests.io.models import MODELS, example, outputs, randomize_buffers, torch_models

KINDS = ["lenet", "bilstm", "grulm"]


def _close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_glassnet_to_safetensors_to_torch(kind, tmp_path):
    from safetensors.torch import load_file

    model = randomize_buffers(MODELS[kind]()).eval()
    path = tmp_path / f"{kind}.safetensors"
    io.save(model, path)
    t_model = torch_models()[kind]()
    t_model.load_state_dict(load_file(str(path)), strict=True)
    t_model.eval()
    x = example(kind)
    with torch.no_grad():
        theirs = outputs(t_model(torch.from_numpy(x)))
    _close(outputs(model(glassnet.tensor(x))), theirs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
def test_torch_to_glassnet(kind, fmt, tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    t_model = torch_models()[kind]()
    for name, b in t_model.named_buffers():  # non-trivial running statistics
        if name.endswith("running_mean"):
            b.normal_()
        elif name.endswith("running_var"):
            b.uniform_(0.5, 2.0)
    t_model.eval()
    path = tmp_path / f"{kind}.{fmt}"
    if fmt == "pt":
        torch.save(t_model.state_dict(), path)
    else:
        save_file(t_model.state_dict(), str(path))
    model = MODELS[kind]()
    report = io.load_into(model, path)
    assert report.missing_keys == [] and report.unexpected_keys == [] and report.converted == []
    model.eval()
    x = example(kind, n=2, t=7, seed=1)
    with torch.no_grad():
        theirs = outputs(t_model(torch.from_numpy(x)))
    _close(outputs(model(glassnet.tensor(x))), theirs)


def test_state_dict_keys_and_shapes_match_torch():
    for kind in KINDS:
        ours = MODELS[kind]().state_dict()
        theirs = torch_models()[kind]().state_dict()
        assert list(ours) == list(theirs)
        assert all(ours[k].shape == tuple(theirs[k].shape) for k in ours)
