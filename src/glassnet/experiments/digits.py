"""A LeNet-style CNN on the bundled 8x8 digits."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import DataLoader, TensorDataset, load_digits
from ..models import LeNet
from ..ops.loss import cross_entropy
from ..optim import AdamW
from ..optim.lr_scheduler import CosineAnnealingLR
from ..train import Trainer, accuracy
from ._common import rng_for, timer


def stratified_split(
    labels: np.ndarray, test_fraction: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with ``round(test_fraction * n_c)`` test samples from each class c.

    >>> tr, te = stratified_split(np.array([0, 0, 1, 1]), 0.5, rng=np.random.default_rng(0))
    >>> sorted(np.concatenate([tr, te]).tolist()), sorted(np.array([0, 0, 1, 1])[te].tolist())
    ([0, 1, 2, 3], [0, 1])
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"stratified_split test_fraction must be in (0, 1), got {test_fraction}")
    test = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[: round(test_fraction * idx.shape[0])])
    te = np.sort(np.concatenate(test))
    tr = np.setdiff1d(np.arange(labels.shape[0]), te)
    return tr, te


def random_shift(
    images: np.ndarray, shift: int, fill: float, *, rng: np.random.Generator
) -> np.ndarray:
    """Translate each image by a random offset in [-shift, shift] pixels along each axis.

    Pixels shifted in from outside get ``fill``.

    Shapes:
        images: (N, C, H, W)   returns: (N, C, H, W)
    """
    N, C, H, W = images.shape
    padded = np.full((N, C, H + 2 * shift, W + 2 * shift), fill, images.dtype)
    padded[:, :, shift : shift + H, shift : shift + W] = images
    dy = np.asarray(rng.integers(0, 2 * shift + 1, size=N))  # (N,)
    dx = np.asarray(rng.integers(0, 2 * shift + 1, size=N))  # (N,)
    rows = dy[:, None] + np.arange(H)  # (N, H)
    cols = dx[:, None] + np.arange(W)  # (N, W)
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)


def digits_cnn(
    *,
    quick: bool = False,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int = 32,
    lr: float = 2e-3,
    test_fraction: float = 0.2,
    channels: tuple[int, ...] = (32, 64),
    hidden: tuple[int, ...] = (128,),
    dropout: float = 0.3,
    weight_decay: float = 1e-2,
    batch_norm: bool = True,
    shift: int = 0,
) -> list[dict[str, Any]]:
    """Train ``LeNet(image_size=8)`` on the digits; accuracy on a stratified held-out split.

    20% of each class is held out (fixed by ``seed``); grey levels are scaled to [0, 1] and
    standardised with the training mean and std. Two conv (3x3) -> batch norm -> ReLU -> max
    pool blocks, dropout before the linear layers, AdamW (decoupled weight decay) with a
    cosine learning-rate schedule, cross-entropy loss, trained with ``glassnet.train.Trainer``.
    ``shift > 0`` adds random translations by up to ``shift`` pixels during training.

    Returns:
        One row per epoch: ``epoch``, ``train loss``, ``train acc``, ``test acc``, ``seconds``
        (cumulative training wall time); the last row also gives the split sizes and model.
    """
    from ..autograd.tensor import Tensor

    images, labels = load_digits(normalize=True)
    tr, te = stratified_split(labels, test_fraction, rng=rng_for(seed, 0))
    if quick:
        tr = tr[:300]
    x = images[:, None, :, :]  # (N, 1, 8, 8)
    mean, std = float(x[tr].mean()), float(x[tr].std())
    x = ((x - mean) / std).astype(np.float32)
    train_ds = TensorDataset(Tensor(x[tr]), Tensor(labels[tr]))
    test_ds = TensorDataset(Tensor(x[te]), Tensor(labels[te]))
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, rng=rng_for(seed, 1))
    test_loader = DataLoader(test_ds, batch_size=256)
    n_epochs = epochs if epochs is not None else (2 if quick else 40)
    model = LeNet(
        1, 10, image_size=8, channels=channels, hidden=hidden, batch_norm=batch_norm,
        dropout=dropout, rng=rng_for(seed, 2),
    )  # fmt: skip
    opt = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = CosineAnnealingLR(opt, T_max=n_epochs)
    background = np.float32((0.0 - mean) / std)  # a blank pixel after standardisation
    aug_rng = rng_for(seed, 3)

    def step(net: Any, batch: Any) -> tuple[Any, Any, Any]:
        xb, yb = batch
        if shift and net.training:
            xb = Tensor(random_shift(xb.data, shift, background, rng=aug_rng))
        out = net(xb)
        return cross_entropy(out, yb), out, yb

    trainer = Trainer(
        model, None, opt, scheduler=sched, metrics={"acc": accuracy}, progress=False, step_fn=step
    )
    rows: list[dict[str, Any]] = []
    elapsed = 0.0
    for epoch in range(1, n_epochs + 1):
        with timer() as t:
            hist = trainer.fit(train_loader, epochs=epoch)
        elapsed += t[0]
        ev = trainer.evaluate(test_loader)
        rows.append(
            {
                "epoch": epoch,
                "train loss": hist["loss"][-1],
                "train acc": hist["acc"][-1],
                "test acc": ev["acc"],
                "seconds": elapsed,
            }
        )
    rows[-1].update(
        {
            "train images": int(tr.shape[0]),
            "test images": int(te.shape[0]),
            "test errors": round((1 - rows[-1]["test acc"]) * te.shape[0]),
            "model": f"LeNet(image_size=8, channels={channels}, hidden={hidden}, "
            f"batch_norm={batch_norm}, dropout={dropout}), AdamW wd={weight_decay}",
            "parameters": int(sum(p.data.size for p in model.parameters())),
        }
    )
    return rows
