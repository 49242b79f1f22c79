"""Small models shared by the interoperability tests, in glassnet and in PyTorch (same keys)."""

from __future__ import annotations

import numpy as np

import glassnet
from glassnet import nn
from tests.helpers import torch

V, E, H = 20, 8, 16  # vocabulary, embedding size, hidden size


class LeNet(nn.Module):
    """LeNet-style CNN for 1x16x16 images: two conv/BN/ReLU/pool blocks and an MLP head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class BiLSTM(nn.Module):
    """2-layer bidirectional LSTM tagger: per-step logits and the final states."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(E, H, num_layers=2, bidirectional=True)
        self.head = nn.Linear(2 * H, 5)

    def forward(self, x, hx=None):
        y, (h, c) = self.lstm(x, hx)
        return self.head(y), h, c


class GRULM(nn.Module):
    """GRU language model: Embedding -> GRU (batch_first) -> Linear to the vocabulary."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.gru = nn.GRU(E, H, batch_first=True)
        self.out = nn.Linear(H, V)

    def forward(self, tokens, h=None):
        y, h = self.gru(self.embed(tokens), h)
        return self.out(y), h


def torch_models():
    """The same three models in PyTorch (built lazily: torch is a test dependency)."""
    tnn = torch.nn

    class TLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(1, 6, 5, padding=2), tnn.BatchNorm2d(6), tnn.ReLU(), tnn.MaxPool2d(2),
                tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            )  # fmt: skip
            self.classifier = tnn.Sequential(
                tnn.Flatten(), tnn.Linear(64, 32), tnn.ReLU(), tnn.Dropout(0.3), tnn.Linear(32, 10)
            )

        def forward(self, x):
            return self.classifier(self.features(x))

    class TBiLSTM(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(E, H, num_layers=2, bidirectional=True)
            self.head = tnn.Linear(2 * H, 5)

        def forward(self, x, hx=None):
            y, (h, c) = self.lstm(x, hx)
            return self.head(y), h, c

    class TGRULM(tnn.Module):
        def __init__(self):
            super().__init__()
            self.embed = tnn.Embedding(V, E)
            self.gru = tnn.GRU(E, H, batch_first=True)
            self.out = tnn.Linear(H, V)

        def forward(self, tokens, h=None):
            y, h = self.gru(self.embed(tokens), h)
            return self.out(y), h

    return {"lenet": TLeNet, "bilstm": TBiLSTM, "grulm": TGRULM}


MODELS = {"lenet": LeNet, "bilstm": BiLSTM, "grulm": GRULM}


def randomize_buffers(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give batch-norm running statistics non-trivial values (so loading them matters)."""
    r = np.random.default_rng(seed)
    for name, b in model.named_buffers():
        if name.endswith("running_mean"):
            b.data[...] = r.standard_normal(b.shape)
        elif name.endswith("running_var"):
            b.data[...] = r.uniform(0.5, 2.0, b.shape)
    return model


def example(kind: str, n: int = 3, t: int = 5, seed: int = 0) -> np.ndarray:
    r = np.random.default_rng(seed)
    if kind == "lenet":
        return r.standard_normal((n, 1, 16, 16)).astype(np.float32)
    if kind == "bilstm":
        return r.standard_normal((t, n, E)).astype(np.float32)
    return r.integers(0, V, (n, t)).astype(np.int64)


def outputs(result) -> list[np.ndarray]:
    """Model outputs as a flat list of arrays (glassnet or torch)."""
    items = result if isinstance(result, tuple) else (result,)
    out = []
    for o in items:
        out.append(o.data if isinstance(o, glassnet.Tensor) else o.detach().numpy())
    return out
