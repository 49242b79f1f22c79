"""Drawing category indices from probabilities held in a tensor: ``multinomial``.

Not differentiable (its results are indices). Randomness is explicit, as everywhere in glassnet:
the keyword-only ``rng`` (or PyTorch's name for it, ``generator``) is a
``numpy.random.Generator``; ``None`` means the package generator that ``glassnet.manual_seed``
seeds. The draws follow PyTorch's distribution, not its random stream: the same seed gives
other samples than ``torch.multinomial``.
"""

from __future__ import annotations

import numpy as np

from .._random import resolve_rng
from ..autograd.tensor import Tensor
from ._util import require_tensor, shape_str


def _inverse_cdf(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each row i of ``cdf`` (N, C) and each u[i, s] in [0, 1): the first category j with
    ``cdf[i, j] > u[i, s]``, by bisection over the categories for all draws at once.

    The category drawn with probability ``cdf[i, j] - cdf[i, j - 1]``; ``cdf[i, -1]`` must be 1
    exactly, so the answer always exists and is never a zero-probability category.
    """
    rows = np.arange(cdf.shape[0])[:, None]  # (N, 1)
    lo = np.zeros(u.shape, np.int64)  # (N, S) the answer is in [lo, hi]
    hi = np.full(u.shape, cdf.shape[1] - 1, np.int64)
    for _ in range(int(cdf.shape[1]).bit_length()):  # each step halves [lo, hi]
        mid = (lo + hi) // 2
        right = cdf[rows, mid] <= u  # (N, S) the answer lies above mid
        lo = np.where(right, mid + 1, lo)
        hi = np.where(right, hi, mid)
    return lo


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: np.random.Generator | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Draw ``num_samples`` category indices from each row of ``input`` (as ``torch.multinomial``).

    Each row holds non-negative weights over C categories; they need not sum to 1 (a row is
    divided by its sum). With ``replacement`` every draw is independent; without it (the
    default), each draw removes its category and the next draws from the rest, so a row's
    samples are distinct and in the order drawn (the exponential race: the ``num_samples``
    smallest of ``E_j / p_j`` with ``E_j ~ Exp(1)``). Zero-weight categories are never drawn.

    Args:
        input: weights, of shape (C,) or (N, C), floating-point.
        num_samples: samples per row, at least 1 (at most C without replacement).
        replacement: draw with replacement.
        generator: PyTorch's name for ``rng`` (a ``numpy.random.Generator`` too).
        rng: the generator (the package generator when None).

    Returns:
        int64 indices, of shape (num_samples,) or (N, num_samples).

    Raises:
        ValueError: a weight that is negative, NaN or infinite; a row whose weights sum to 0;
            without replacement, ``num_samples`` above C or above a row's number of
            nonzero-weight categories (PyTorch then draws zero-weight categories).

    Shapes:
        input: (C,) or (N, C)   y: (num_samples,) or (N, num_samples)

    >>> import numpy as np, glassnet
    >>> probs = glassnet.tensor([0.0, 0.2, 0.8])
    >>> draws = glassnet.multinomial(probs, 1000, replacement=True, rng=np.random.default_rng(0))
    >>> draws.shape, sorted(set(draws.tolist()))
    ((1000,), [1, 2])
    """
    op = "multinomial"
    g = resolve_rng(rng, generator, op)
    t = require_tensor(input, "input", op)
    if t.ndim not in (1, 2):
        raise ValueError(
            f"{op} expected input of shape (C,) or (N, C) (weights over C categories), got "
            f"{shape_str(t.shape)}"
        )
    if t.dtype.kind != "f":
        raise TypeError(f"{op} expected floating-point weights, got dtype {t.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"{op} expected an int num_samples, got {type(num_samples).__name__}")
    if num_samples < 1:
        raise ValueError(f"{op} expected num_samples >= 1, got {num_samples}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise TypeError(f"{op} expected True or False for replacement, got {replacement!r}")
    n, c = t.shape if t.ndim == 2 else (1, t.shape[0])
    p = t.data.astype(np.float64).reshape(n, c)  # (N, C)
    k = int(num_samples)
    bad = ~np.isfinite(p) | (p < 0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad.reshape(t.shape))[0])
        raise ValueError(
            f"{op} expected finite non-negative weights, got {t.data[where]} at {where}"
        )
    cdf = np.cumsum(p, axis=1)  # (N, C)
    total = cdf[:, -1] if c else np.zeros(n)  # (N,) the sum cumsum reached, so cdf ends at 1
    if n and (total <= 0).any():
        raise ValueError(
            f"{op} expected weights with a positive sum in every row, row "
            f"{int(np.argmax(total <= 0))} sums to 0"
        )
    if replacement:
        out = _inverse_cdf(cdf / total[:, None], g.random((n, k)))  # (N, k)
    else:
        if k > c:
            raise ValueError(
                f"{op} without replacement expected num_samples <= {c} (the number of "
                f"categories), got {k}"
            )
        nonzero = (p > 0).sum(axis=1)  # (N,)
        if n and (nonzero < k).any():
            i = int(np.argmin(nonzero))
            raise ValueError(
                f"{op} without replacement cannot draw {k} samples from row {i}: only "
                f"{nonzero[i]} of its categories have nonzero weight"
            )
        with np.errstate(divide="ignore"):
            keys = g.standard_exponential((n, c)) / p  # (N, C) inf for zero weights
        # the k smallest keys of each row (in any order), then in increasing order
        first = np.argpartition(keys, k - 1, axis=1)[:, :k]  # (N, k)
        order = np.argsort(np.take_along_axis(keys, first, axis=1), axis=1, kind="stable")
        out = np.take_along_axis(first, order, axis=1)  # (N, k) smallest keys first
    out = out.astype(np.int64)
    return Tensor(out.reshape(k) if t.ndim == 1 else out)
