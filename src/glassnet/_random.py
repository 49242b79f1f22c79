"""The package-wide random generator and ``manual_seed``.

Everything random in glassnet takes a keyword-only ``rng: np.random.Generator | None``; ``None``
means the package generator below, which ``glassnet.manual_seed(n)`` re-seeds. NumPy's legacy
global state (``np.random.seed``) is never used.
"""

from __future__ import annotations

import numpy as np

_generator: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the package default generator and return it.

    >>> import glassnet
    >>> a = glassnet.manual_seed(0).standard_normal()
    >>> b = glassnet.manual_seed(0).standard_normal()
    >>> a == b
    True
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed expected a non-negative seed, got {seed}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The package default generator (re-seeded by ``manual_seed``)."""
    return _generator


def get_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """Return ``rng`` if given, else the package default generator."""
    if rng is None:
        return _generator
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def resolve_rng(
    rng: np.random.Generator | None, generator: np.random.Generator | None, op: str
) -> np.random.Generator:
    """The generator of a call that takes both ``rng`` and PyTorch's name for it, ``generator``.

    Either may be given (not both); ``generator`` must be a NumPy generator too, since glassnet
    draws with NumPy: ``np.random.default_rng(0)`` in place of
    ``torch.Generator().manual_seed(0)``.
    """
    if generator is None:
        return get_rng(rng)
    if rng is not None:
        raise TypeError(f"{op} got both rng and generator (PyTorch's name for it); give one")
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{op} expected generator to be a numpy.random.Generator (glassnet draws with NumPy: "
            f"np.random.default_rng(seed) in place of torch.Generator().manual_seed(seed)), got "
            f"{type(generator).__module__}.{type(generator).__name__}"
        )
    return generator
