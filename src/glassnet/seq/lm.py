"""Language modelling: perplexity, sampling, and truncated-BPTT training of character models.

A language model gives P(x_t | x_<t); by the chain rule P(x_1..x_L) = prod_t P(x_t | x_<t), so
the negative log-likelihood of a text is the sum of the per-token cross-entropies and the
*perplexity* exp(mean NLL) is the size of a uniform vocabulary that would be equally
surprised: a model that always predicts the uniform distribution over V tokens has perplexity
exactly V, and the unigram (character-frequency) model is the baseline to beat.

The models follow ``CharLM``'s interface: ``model(ids (N, T), state) -> (logits (N, T, V),
state)``. Text goes in through a ``CharVocab``; characters outside a fixed vocabulary follow the
vocabulary's policy (``unknown='error'`` raises naming them, ``'replace'`` maps them to
``'<unk>'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._random import get_rng
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..data.text import CharVocab, sequential_streams
from ..models._validate import positive_int
from ..ops.loss import cross_entropy
from ..progress import Progress, as_progress
from .tbptt import tbptt_iter


def _ids(data: Any, vocab: CharVocab | None, who: str, least: int = 1) -> np.ndarray:
    """Token ids from a text (through ``vocab``) or from an integer sequence."""
    if isinstance(data, str):
        if vocab is None:
            raise ValueError(f"{who} got a text; pass vocab= (a CharVocab) to encode it")
        ids = vocab.encode(data)
    else:
        ids = data.data if isinstance(data, Tensor) else np.asarray(data)
        if ids.ndim != 1:
            raise ValueError(f"{who} expected a 1-d sequence of token ids, got shape {ids.shape}")
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"{who} expected integer token ids, got dtype {ids.dtype}")
        ids = ids.astype(np.int64, copy=False)
    if ids.shape[0] < least:
        raise ValueError(f"{who} needs at least {least} tokens, got {ids.shape[0]}")
    return ids


def _check_vocab(model: Any, vocab: CharVocab | None, who: str) -> None:
    v = getattr(model, "vocab_size", None)
    if vocab is not None and v is not None and v != len(vocab):
        raise ValueError(
            f"{who}: the model's vocab_size is {v} but the vocabulary has {len(vocab)} tokens"
        )


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def nll_from_logits(logits: Any, targets: Any) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) of ``targets`` under softmax(``logits``).

    Returns:
        ``(total_nll, count)``.

    Shapes:
        logits: (*, V)   targets: (*) integer ids in [0, V)
    """
    lg = np.asarray(logits.data if isinstance(logits, Tensor) else logits)
    tg = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if lg.ndim < 1 or lg.shape[:-1] != tg.shape:
        raise ValueError(
            f"nll_from_logits expected logits (*, V) and targets (*), got {lg.shape} and {tg.shape}"
        )
    if tg.size and (tg.dtype.kind not in "iu" or tg.min() < 0 or tg.max() >= lg.shape[-1]):
        raise ValueError(f"nll_from_logits expected integer targets in [0, {lg.shape[-1]})")
    lp = _log_softmax(lg.reshape(-1, lg.shape[-1]))  # (M, V)
    t = tg.reshape(-1)  # (M,)
    return float(-lp[np.arange(t.shape[0]), t].sum()), int(t.shape[0])


def lm_nll(
    model: Any,
    data: Any,
    *,
    vocab: CharVocab | None = None,
    batch_size: int = 16,
    num_steps: int = 128,
) -> tuple[float, int]:
    """Total negative log-likelihood of a token stream under a language model.

    The stream is cut into ``batch_size`` contiguous parts, each read from the zero state in
    chunks of ``num_steps`` with the state carried across chunks, so every token of a part
    after its first is scored given all the part's tokens before it (the chain rule). At most
    ``batch_size`` - 1 trailing tokens are not scored; ``batch_size=1`` scores every token after
    the first given the whole text before it.

    Args:
        model: a ``CharLM``-like model.
        data: a text (with ``vocab``) or a 1-d sequence of token ids.
        vocab: the ``CharVocab`` for a text.
        batch_size: parallel parts (speed); num_steps: steps per forward call (memory).

    Returns:
        ``(total_nll, count)``: the NLL in nats summed over ``count`` scored tokens.
    """
    who = "lm_nll"
    _check_vocab(model, vocab, who)
    B = positive_int(batch_size, "batch_size", who)
    T = positive_int(num_steps, "num_steps", who)
    ids = _ids(data, vocab, who, least=B + 1)
    per = (ids.shape[0] - 1) // B  # scored tokens per part
    X = ids[: B * per].reshape(B, per)  # (B, per)
    Y = ids[1 : B * per + 1].reshape(B, per)  # (B, per), Y[:, t] follows X[:, t] in the text
    total, count = 0.0, 0
    was = getattr(model, "training", None)
    model.eval()
    try:
        with grad_mode.no_grad():
            state = None
            for a in range(0, per, T):
                logits, state = model(Tensor(X[:, a : a + T]), state)  # (B, t, V)
                nll, n = nll_from_logits(logits.data, Y[:, a : a + T])
                total += nll
                count += n
    finally:
        if was is not None:
            model.train(was)
    return total, count


def perplexity(
    model: Any,
    data: Any,
    *,
    vocab: CharVocab | None = None,
    batch_size: int = 16,
    num_steps: int = 128,
) -> float:
    """exp(mean negative log-likelihood per token) of ``data`` under ``model``.

    See :func:`lm_nll` for how the stream is read. A model predicting the uniform distribution
    over V tokens has perplexity V.
    """
    total, count = lm_nll(model, data, vocab=vocab, batch_size=batch_size, num_steps=num_steps)
    return float(np.exp(total / count))


def unigram_perplexity(
    train: Any,
    evaluate: Any,
    vocab_size: int | None = None,
    *,
    vocab: CharVocab | None = None,
    smoothing: float = 1.0,
) -> float:
    """Perplexity of ``evaluate`` under character frequencies counted on ``train``.

    p(v) = (count_train(v) + smoothing) / (len(train) + smoothing * V): the best model that
    ignores context. Texts need ``vocab``; ``vocab_size`` defaults to ``len(vocab)``.

    >>> round(unigram_perplexity([0, 1, 0, 1], [0, 1, 1, 0], 2, smoothing=0.0), 6)
    2.0
    """
    who = "unigram_perplexity"
    tr = _ids(train, vocab, who)
    ev = _ids(evaluate, vocab, who)
    if vocab_size is None:
        if vocab is None:
            raise ValueError(f"{who} needs vocab_size or vocab")
        vocab_size = len(vocab)
    V = positive_int(vocab_size, "vocab_size", who)
    if not smoothing >= 0:
        raise ValueError(f"{who} smoothing must be >= 0, got {smoothing!r}")
    for name, a in (("train", tr), ("evaluate", ev)):
        if a.min() < 0 or a.max() >= V:
            raise ValueError(f"{who} expected {name} ids in [0, {V}), got [{a.min()}, {a.max()}]")
    counts = np.bincount(tr, minlength=V).astype(np.float64) + smoothing  # (V,)
    p = counts / counts.sum()
    pe = p[ev]
    if np.any(pe == 0):
        raise ValueError(
            f"{who}: a token of evaluate never occurs in train and smoothing=0 gives it "
            "probability 0 (infinite perplexity); use smoothing > 0"
        )
    return float(np.exp(-np.log(pe).mean()))


def next_token_probs(
    logits: Any, *, temperature: float = 1.0, top_k: int | None = None, exclude: Any = None
) -> np.ndarray:
    """The sampling distribution softmax(logits / temperature), limited to the top-k tokens.

    Args:
        logits: (V,) scores of the next token.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep the k most likely tokens (ties broken by index), renormalised; ``1`` is
            greedy decoding.
        exclude: token ids never sampled (e.g. ``'<unk>'``).

    Returns:
        float64 probabilities (V,).

    >>> next_token_probs([0.0, 0.0, 10.0], top_k=1).tolist()
    [0.0, 0.0, 1.0]
    """
    who = "next_token_probs"
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if z.ndim != 1 or z.shape[0] == 0:
        raise ValueError(f"{who} expected logits of shape (V,), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError(f"{who} got non-finite logits")
    if isinstance(temperature, bool) or not (
        isinstance(temperature, (int, float, np.floating)) and temperature > 0
    ):
        raise ValueError(
            f"{who} temperature must be a number > 0 (use top_k=1 for greedy), got {temperature!r}"
        )
    z = z / float(temperature)
    allowed = np.ones(z.shape[0], bool)
    if exclude is not None:
        allowed[np.asarray(exclude, dtype=np.int64)] = False
        if not allowed.any():
            raise ValueError(f"{who}: every token is excluded")
    if top_k is not None:
        k = positive_int(top_k, "top_k", who)
        if k < int(allowed.sum()):
            order = np.lexsort((np.arange(z.shape[0]), -np.where(allowed, z, -np.inf)))
            keep = np.zeros_like(allowed)
            keep[order[:k]] = True
            allowed &= keep
    z = np.where(allowed, z, -np.inf)
    e = np.exp(z - z[allowed].max())  # (V,)
    return e / e.sum()


def sample(
    model: Any,
    vocab: CharVocab,
    prefix: str,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> str:
    """Generate ``length`` characters after ``prefix``.

    The model first reads the whole prefix (warm-up: the state then summarises it), then each
    drawn character is fed back as the next input. ``'<unk>'`` is never drawn.

    Args:
        model: a ``CharLM``-like model.
        vocab: its vocabulary; characters of ``prefix`` outside it follow the vocabulary's
            policy (``unknown='error'`` raises a ValueError naming them).
        prefix: non-empty text to condition on.
        length: characters to generate (>= 0).
        temperature, top_k: see :func:`next_token_probs`; ``top_k=1`` is greedy.
        rng: generator of the draws (the package generator when None).

    Returns:
        ``prefix`` followed by the generated characters.
    """
    who = "sample"
    if not isinstance(vocab, CharVocab):
        raise TypeError(f"{who} expected a CharVocab as vocab, got {type(vocab).__name__}")
    _check_vocab(model, vocab, who)
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"{who} needs a non-empty prefix text to warm up on, got {prefix!r}")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"{who} length must be an int >= 0, got {length!r}")
    gen = get_rng(rng)
    ids = vocab.encode(prefix)  # (P,)
    exclude = [vocab.unk_index] if vocab.unk_index is not None else None
    out: list[int] = []
    was = getattr(model, "training", None)
    model.eval()
    try:
        with grad_mode.no_grad():
            logits, state = model(Tensor(ids[None, :]))  # (1, P, V)
            for _ in range(int(length)):
                p = next_token_probs(
                    logits.data[0, -1], temperature=temperature, top_k=top_k, exclude=exclude
                )
                nxt = int(gen.choice(p.shape[0], p=p))
                out.append(nxt)
                logits, state = model(Tensor(np.array([[nxt]], dtype=np.int64)), state)
    finally:
        if was is not None:
            model.train(was)
    return prefix + vocab.decode(np.array(out, dtype=np.int64))


def train_lm_epoch(
    model: Any,
    data: Any,
    optimizer: Any,
    *,
    vocab: CharVocab | None = None,
    batch_size: int = 32,
    num_steps: int = 64,
    clip_grad_norm: float | None = 1.0,
    rng: np.random.Generator | None = None,
    callback: Callable[[int, float], Any] | None = None,
    progress: Progress | bool | str | None = None,
    desc: str = "train_lm_epoch",
) -> float:
    """One epoch of truncated-BPTT training over sequential minibatches.

    ``glassnet.data.sequential_streams`` cuts the stream (after a random offset) into
    ``batch_size`` parallel streams, which the truncated-BPTT driver (``tbptt_iter`` with
    k1 = k2 = ``num_steps``) reads ``num_steps`` at a time: the state is carried from one batch
    to the next *detached*, so values flow across the whole epoch while gradients stop at batch
    boundaries (truncation after ``num_steps`` steps). The batches are those of
    ``sequential_batches``.

    Args:
        model: a ``CharLM``-like model; optimizer: over its parameters.
        data: a text (with ``vocab``) or 1-d token ids.
        clip_grad_norm: clip the gradient norm before every step (None disables).
        rng: generator of the epoch's offset.
        callback: ``callback(batch_index, loss)`` after every step.
        progress: report the batches with their running mean loss (``True``: a bar on a
            terminal or in Jupyter, lines in a pipe; see ``glassnet.progress``); off by default.
        desc: the label of that report (e.g. ``"epoch 3/8"``).

    Returns:
        The mean cross-entropy (nats per token) over the epoch's batches.
    """
    who = "train_lm_epoch"
    _check_vocab(model, vocab, who)
    ids = _ids(data, vocab, who)
    X, Y = sequential_streams(ids, batch_size, num_steps, rng=rng)  # (B, n * T) each
    model.train()
    total, n = 0.0, 0
    with as_progress(progress).task(X.shape[1] // num_steps, desc, unit="batch") as task:
        for u in tbptt_iter(
            model, X, Y, num_steps, num_steps, next_token_loss, optimizer, time_dim=1,
            max_grad_norm=clip_grad_norm,
        ):  # fmt: skip
            total += u.loss
            if callback is not None:
                callback(n, u.loss)
            n += 1
            task.update(loss=total / n)
    return total / n


def next_token_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy of next-token ``logits`` (*, V) against ``targets`` (*)."""
    V = logits.shape[-1]
    return cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
