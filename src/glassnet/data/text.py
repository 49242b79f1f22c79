"""Character vocabularies and minibatch streams for language models (truncated BPTT)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from .._random import get_rng
from ..autograd.tensor import Tensor

UNK = "<unk>"
_FORMAT = "glassnet.CharVocab"


class CharVocab:
    """A character-level vocabulary: each distinct character gets an integer id.

    Args:
        text: the text (or any iterable of single characters) the vocabulary is built from;
            its distinct characters, sorted by code point, get ids 0, 1, 2, ...
        unknown: what ``encode`` does with a character that is not in the vocabulary:

            - ``'error'`` (default): raise a ``ValueError`` listing the offending characters
              and the position of the first one;
            - ``'replace'``: map it to the dedicated token ``'<unk>'``, which takes id 0 (the
              characters then start at id 1); ``decode`` writes it back as ``'<unk>'``.

    Attributes:
        itos: list, id -> token.   stoi: dict, token -> id.   unk_index: id of ``'<unk>'`` or
        ``None``.

    >>> v = CharVocab("hello")
    >>> len(v), v.itos
    (4, ['e', 'h', 'l', 'o'])
    >>> v.encode("hole").tolist(), v.decode([1, 3, 2, 0])
    ([1, 3, 2, 0], 'hole')
    >>> CharVocab("hello", unknown="replace").encode("help").tolist()
    [2, 1, 3, 0]
    """

    def __init__(self, text: str | Iterable[str], unknown: str = "error") -> None:
        if unknown not in ("error", "replace"):
            raise ValueError(f"CharVocab unknown must be 'error' or 'replace', got {unknown!r}")
        chars = sorted(set(text))
        if not chars:
            raise ValueError("CharVocab needs a non-empty text to build the vocabulary from")
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise TypeError(f"CharVocab expected text or single characters, got {bad[:3]!r}")
        self.unknown = unknown
        self.itos: list[str] = ([UNK] if unknown == "replace" else []) + chars
        self.unk_index: int | None = 0 if unknown == "replace" else None
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        # Sorted code points: encoding a long text is one vectorised binary search.
        self._codes = np.array([ord(c) for c in chars], dtype=np.int64)  # (V',)
        self._first = 1 if unknown == "replace" else 0  # id of the first character

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, ch: object) -> bool:
        return ch in self.stoi and ch != UNK

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CharVocab)
            and self.itos == other.itos
            and self.unknown == other.unknown
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} tokens, unknown={self.unknown!r})"

    @property
    def chars(self) -> list[str]:
        """The characters, without ``'<unk>'``."""
        return self.itos[1:] if self.unk_index is not None else list(self.itos)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text``, an int64 array of shape (len(text),)."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode expected a str, got {type(text).__name__}")
        if not text:
            return np.zeros(0, dtype=np.int64)
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(
            np.int64
        )  # (L,)
        pos = np.searchsorted(self._codes, cp)  # (L,)
        unknown = pos == self._codes.shape[0]
        unknown[~unknown] = self._codes[pos[~unknown]] != cp[~unknown]
        ids = pos + self._first
        if unknown.any():
            if self.unk_index is None:
                where = np.flatnonzero(unknown)
                offending = sorted({text[i] for i in where.tolist()})
                shown = ", ".join(repr(c) for c in offending[:10])
                more = f" and {len(offending) - 10} more" if len(offending) > 10 else ""
                raise ValueError(
                    f"CharVocab.encode: {len(offending)} character(s) not in the vocabulary: "
                    f"{shown}{more} ({where.size} occurrence(s), first at position "
                    f"{int(where[0])}); "
                    "build the vocabulary from text that contains them, or use "
                    "unknown='replace' to map them to '<unk>'"
                )
            ids[unknown] = self.unk_index
        return ids

    def decode(self, ids: Any) -> Any:
        """The text for a 1-d sequence of ids (a list of texts for a 2-d batch of rows)."""
        a = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if a.size == 0 and a.ndim <= 1:
            return ""
        if a.dtype.kind not in "iu":
            raise TypeError(f"CharVocab.decode expected integer ids, got dtype {a.dtype}")
        if a.ndim == 2:
            return [self.decode(row) for row in a]
        if a.ndim != 1:
            raise ValueError(
                f"CharVocab.decode expected ids of shape (L,) or (N, L), got shape {a.shape}"
            )
        bad = (a < 0) | (a >= len(self))
        if bad.any():
            vals = np.unique(a[bad])[:5].tolist()
            raise ValueError(f"CharVocab.decode expected ids in [0, {len(self)}), got {vals}")
        return "".join(self.itos[i] for i in a.tolist())

    def to_dict(self) -> dict[str, Any]:
        return {"format": _FORMAT, "version": 1, "unknown": self.unknown, "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CharVocab:
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"not a saved CharVocab (expected format {_FORMAT!r})")
        if d.get("version") != 1:
            raise ValueError(f"unsupported CharVocab file version {d.get('version')!r}")
        chars = d.get("chars")
        if not isinstance(chars, list) or len(set(chars)) != len(chars):
            raise ValueError("saved CharVocab has a missing or duplicated character list")
        vocab = cls(chars, unknown=d.get("unknown", "error"))
        if vocab.chars != chars:
            raise ValueError("saved CharVocab characters are not sorted; the file was edited")
        return vocab

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON, atomically (temporary file, then rename)."""
        text = json.dumps(self.to_dict(), ensure_ascii=True, indent=1)
        atomic_write_bytes(path, text.encode("ascii"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CharVocab:
        """Read a vocabulary written by ``save``."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a JSON CharVocab file ({exc})") from None
        try:
            return cls.from_dict(d)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: {exc}") from None


def _token_ids(ids: Any, who: str) -> np.ndarray:
    a = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if a.ndim != 1:
        raise ValueError(f"{who} expected a 1-d sequence of token ids, got shape {a.shape}")
    if a.size and a.dtype.kind not in "iu":
        raise TypeError(f"{who} expected integer token ids, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def _positive(value: Any, name: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who} {name} must be an int >= 1, got {value!r}")
    return int(value)


def _corpus(ids: Any, batch_size: int, num_steps: int, who: str, what: str) -> np.ndarray:
    """The token ids, checked to hold one batch of ``batch_size`` ``what`` x ``num_steps``."""
    corpus = _token_ids(ids, who)
    B = _positive(batch_size, "batch_size", who)
    T = _positive(num_steps, "num_steps", who)
    if corpus.shape[0] - 1 < B * T:
        raise ValueError(
            f"{who} needs at least batch_size * num_steps + 1 = {B * T + 1} tokens for one batch "
            f"of {B} {what} x {T} steps, got {corpus.shape[0]}"
        )
    return corpus


def _offset(L: int, B: int, T: int, rng: np.random.Generator | None) -> int:
    """A random start in ``[0, num_steps)`` that still leaves one full batch."""
    return int(get_rng(rng).integers(0, min(T - 1, L - 1 - B * T) + 1))


def _streams(
    ids: Any, B: int, T: int, rng: np.random.Generator | None, random_offset: bool, who: str
) -> tuple[np.ndarray, np.ndarray]:
    corpus = _corpus(ids, B, T, who, "streams")
    B, T, L = int(B), int(T), corpus.shape[0]
    offset = _offset(L, B, T, rng) if random_offset else 0
    per_stream = (L - offset - 1) // B
    n = per_stream * B
    whole = per_stream // T * T  # the steps of whole batches
    Xs = corpus[offset : offset + n].reshape(B, per_stream)[:, :whole]  # (B, n * T)
    Ys = corpus[offset + 1 : offset + 1 + n].reshape(B, per_stream)[:, :whole]  # (B, n * T)
    return Xs, Ys


def sequential_streams(
    ids: Any,
    batch_size: int,
    num_steps: int,
    *,
    rng: np.random.Generator | None = None,
    random_offset: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The streams :func:`sequential_batches` reads, whole: inputs and targets, one row each.

    Row b is the b-th of ``batch_size`` equal contiguous parts of the corpus (after the same
    random offset), without the steps after its last whole batch of ``num_steps``; batch k of
    ``sequential_batches`` is columns ``k*num_steps .. (k+1)*num_steps - 1``. A truncated-BPTT
    driver reads them batch-first (``glassnet.seq.TBPTTStream(X, Y, num_steps, time_dim=1)``).

    Returns:
        ``(X, Y)`` int64 arrays (views of the corpus) with ``Y[:, t] == X[:, t + 1]``.

    Shapes:
        ids: (L,)   X: (B, n * T)   Y: (B, n * T), n = ((L - offset - 1) // B) // T

    >>> import numpy as np
    >>> X, Y = sequential_streams(np.arange(20), 2, 3, random_offset=False)
    >>> X.tolist()
    [[0, 1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16, 17]]
    """
    return _streams(ids, batch_size, num_steps, rng, random_offset, "sequential_streams")


def sequential_batches(
    ids: Any,
    batch_size: int,
    num_steps: int,
    *,
    rng: np.random.Generator | None = None,
    random_offset: bool = True,
) -> Iterator[tuple[Tensor, Tensor]]:
    """One epoch of minibatches by sequential partitioning, for truncated BPTT.

    The corpus (after skipping a random offset in ``[0, num_steps)``) is cut into
    ``batch_size`` contiguous streams of equal length, one per batch row. Batch k holds steps
    ``k*num_steps .. (k+1)*num_steps - 1`` of every stream, so row b of batch k+1 continues
    exactly where row b of batch k stopped: the hidden state can be carried across batches
    (detached). The target Y is X shifted by one token.

    Args:
        ids: 1-d integer token ids (array, list or Tensor), length L.
        batch_size: number of parallel streams B.
        num_steps: time steps per batch T.
        rng: generator for the offset (the package generator when ``None``).
        random_offset: draw a new offset each call (epoch); ``False`` starts at token 0.

    Yields:
        ``(X, Y)`` int64 Tensors of shape (B, T) with ``Y[:, t] == X[:, t + 1]`` within a batch.
        There are ``((L - offset - 1) // B) // T`` batches; every token is used at most once.

    Shapes:
        ids: (L,)   X: (B, T)   Y: (B, T)

    >>> import numpy as np
    >>> X, Y = next(sequential_batches(np.arange(20), 2, 3, random_offset=False))
    >>> X.tolist(), Y.tolist()
    ([[0, 1, 2], [9, 10, 11]], [[1, 2, 3], [10, 11, 12]])
    """
    Xs, Ys = _streams(ids, batch_size, num_steps, rng, random_offset, "sequential_batches")
    T = int(num_steps)
    for k in range(Xs.shape[1] // T):
        cols = slice(k * T, (k + 1) * T)
        yield Tensor(Xs[:, cols].copy()), Tensor(Ys[:, cols].copy())


def random_batches(
    ids: Any,
    batch_size: int,
    num_steps: int,
    *,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """One epoch of minibatches of random, non-overlapping subsequences.

    After a random offset in ``[0, num_steps)``, the corpus is cut into subsequences of
    ``num_steps`` tokens, which are shuffled and grouped ``batch_size`` at a time (the last
    incomplete batch is dropped). Neighbouring batches are not adjacent in the text, so the
    hidden state must be reset for every batch.

    Yields:
        ``(X, Y)`` int64 Tensors of shape (B, T), Y being X shifted by one token.

    Shapes:
        ids: (L,)   X: (B, T)   Y: (B, T)
    """
    corpus = _corpus(ids, batch_size, num_steps, "random_batches", "subsequences")
    B, T, L = int(batch_size), int(num_steps), corpus.shape[0]
    gen = get_rng(rng)
    offset = _offset(L, B, T, gen)
    n_sub = (L - offset - 1) // T
    starts = offset + T * gen.permutation(n_sub)  # (n_sub,)
    steps = np.arange(T)  # (T,)
    for k in range(n_sub // B):
        s = starts[k * B : (k + 1) * B, None] + steps  # (B, T)
        yield Tensor(corpus[s]), Tensor(corpus[s + 1])
