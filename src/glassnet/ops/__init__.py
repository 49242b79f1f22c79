"""Every differentiable operation, as ``Function`` subclasses with their functional forms.

This is the only place with forward/backward mathematics. ``nn`` layers call the functional
forms; nothing here knows about ``nn``.
"""

from . import (
    activation,
    conv,
    dropout,
    einsum,
    elementwise,
    embedding,
    fold,
    layout,
    linalg,
    loss,
    norm,
    packing,
    pixelshuffle,
    pool,
    recurrent,
    reduce,
    select,
    shape,
    upsample,
    vector_norm,
)

__all__ = [
    "activation",
    "conv",
    "dropout",
    "elementwise",
    "embedding",
    "linalg",
    "loss",
    "norm",
    "packing",
    "pool",
    "recurrent",
    "reduce",
    "shape",
    "einsum",
    "layout",
    "select",
    "vector_norm",
    "upsample",
    "pixelshuffle",
    "fold",
]
