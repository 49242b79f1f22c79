"""An ordinary PyTorch training-and-sampling script runs unchanged with ``import glassnet as
torch`` (issue 21): the same function is run with real torch and with glassnet, and the parts
that do not depend on the random stream agree."""

from __future__ import annotations

import numpy as np

import glassnet
import glassnet.nn.functional as gF

from .helpers import torch


def script(torch, F, path):
    """Train a small classifier, checkpoint it, reload it, and sample from it (top-k, then
    top-p) as a language-model sampling loop would."""
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 6))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(32, 8)
    y = torch.randint(0, 6, (32,))
    perm = torch.randperm(32)
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x[perm]), y[perm])
        loss.backward()
        opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    ckpt = torch.load(path)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    with torch.no_grad():
        logits = model(x[:4])
        values, indices = torch.topk(logits, 3, dim=-1)
        choice = torch.multinomial(torch.softmax(values / 0.8, dim=-1), 1)
        top_k_ids = torch.gather(indices, -1, choice)
        ranked, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(ranked, dim=-1)
        outside = torch.cumsum(probs, dim=-1) - probs > 0.9  # top-p: keep the head
        kept = ranked.masked_fill(outside, float("-inf"))
        pick = torch.multinomial(torch.softmax(kept, dim=-1), 2, replacement=True)
        top_p_ids = order.gather(-1, pick)
        ok = torch.isfinite(kept).any(dim=-1).all() & ~torch.isnan(kept).any()
        back = torch.zeros(4, 6).scatter_(1, order, ranked)  # undo the sort
    return {
        "epoch": ckpt["epoch"],
        "top_k_in_top_3": bool((top_k_ids == indices).any(dim=-1).all()),
        "top_p_kept": bool(torch.isfinite(kept.gather(-1, pick)).all()),
        "top_p_shape": tuple(top_p_ids.shape),
        "ok": bool(ok),
        "unsorted": bool(torch.allclose(back, logits)),
        "flip": torch.flip(ranked, dims=[1])[:, 0].tolist() == ranked[:, -1].tolist(),
        "floor": torch.floor(logits * 0).sum().item(),
    }


def test_the_same_script_runs_with_torch_and_with_glassnet(tmp_path):
    theirs = script(torch, torch.nn.functional, tmp_path / "torch.pt")
    ours = script(glassnet, gF, tmp_path / "glassnet.pt")
    assert ours == theirs
    assert ours["top_k_in_top_3"] and ours["top_p_kept"] and ours["unsorted"] and ours["ok"]
    assert np.isfinite(ours["floor"])
