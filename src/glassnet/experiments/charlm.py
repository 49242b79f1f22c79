"""Character language models on the bundled Shakespeare texts."""

from __future__ import annotations

from typing import Any

from ..data import CharVocab, load_shakespeare
from ..models import CharLM
from ..optim import Adam
from ..seq.lm import perplexity, sample, train_lm_epoch, unigram_perplexity
from ._common import rng_for, timer

PREFIXES = {"sonnets": "Shall I compare thee", "tragedies": "HAMLET.\n"}


def char_lm(
    which: str = "sonnets",
    *,
    quick: bool = False,
    seed: int = 0,
    cell: str = "lstm",
    hidden_size: int = 256,
    embedding_dim: int = 64,
    num_layers: int = 1,
    batch_size: int = 32,
    num_steps: int = 64,
    epochs: int | None = None,
    lr: float = 2e-3,
    clip_grad_norm: float = 1.0,
    val_fraction: float = 0.1,
    sample_length: int = 400,
    temperature: float = 0.8,
) -> list[dict[str, Any]]:
    """Train a character LSTM on a Shakespeare text by truncated BPTT; report perplexities.

    The last ``val_fraction`` of the text is held out (cut at a character, nothing shuffled).
    The vocabulary is built from the training part (``unknown='replace'``: a character first
    seen in validation would be scored as ``'<unk>'``). Training carries the detached state
    across sequential minibatches (``train_lm_epoch``) with Adam and gradient clipping. The
    validation perplexity is exp(mean NLL) over the validation text read in 16 parallel parts;
    the baseline is the unigram (character frequency) model of the training part, on the same
    text. A sample at ``temperature`` follows a fixed prefix.

    Returns:
        One row per epoch: ``epoch``, ``train loss`` (nats/char), ``val perplexity``,
        ``unigram val perplexity``, ``seconds`` (cumulative training wall time, evaluation
        excluded); the last row also holds the corpus sizes and ``sample``.
    """
    text = load_shakespeare(which)
    if quick:
        text = text[:20000]
        hidden_size, embedding_dim, num_steps = min(hidden_size, 32), min(embedding_dim, 16), 32
    cut = round(len(text) * (1 - val_fraction))
    train_text, val_text = text[:cut], text[cut:]
    vocab = CharVocab(train_text, unknown="replace")
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    n_epochs = epochs if epochs is not None else (3 if quick else {"sonnets": 20}.get(which, 3))
    model = CharLM(
        len(vocab), embedding_dim, hidden_size, num_layers, cell=cell, rng=rng_for(seed, 1)
    )
    opt = Adam(model.parameters(), lr=lr)
    uni = unigram_perplexity(train_ids, val_ids[1:], len(vocab))
    gen = rng_for(seed, 2)
    rows: list[dict[str, Any]] = []
    elapsed = 0.0
    for epoch in range(1, n_epochs + 1):
        with timer() as t:
            loss = train_lm_epoch(
                model, train_ids, opt, batch_size=batch_size, num_steps=num_steps,
                clip_grad_norm=clip_grad_norm, rng=gen,
            )  # fmt: skip
        elapsed += t[0]
        ppl = perplexity(model, val_ids, batch_size=16, num_steps=256)
        rows.append(
            {
                "epoch": epoch,
                "train loss": loss,
                "val perplexity": ppl,
                "unigram val perplexity": uni,
                "seconds": elapsed,
            }
        )
    rows[-1].update(
        {
            "corpus": which,
            "train chars": len(train_text),
            "val chars": len(val_text),
            "vocab": len(vocab),
            "model": f"CharLM({cell}, E={embedding_dim}, H={hidden_size}, L={num_layers}), "
            f"batch {batch_size} x {num_steps} steps, Adam lr={lr}",
            "parameters": int(sum(p.data.size for p in model.parameters())),
            "sample": sample(
                model,
                vocab,
                PREFIXES.get(which, train_text[:10]),
                sample_length,
                temperature=temperature,
                rng=rng_for(seed, 3),
            ),
        }
    )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The last row without the sample: the figures of a finished run."""
    last = dict(rows[-1])
    last.pop("sample", None)
    return last


__all__ = ["PREFIXES", "char_lm", "summary"]
