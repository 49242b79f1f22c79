"""Reference forms: the textbook forward and backward of convolution, pooling and recurrence.

What a reader finds here: every op written the way a textbook writes it, in plain NumPy, with
no layout tricks, so that it can be read top to bottom and stepped through in a debugger.

* :class:`ConvNd` / :func:`conv` (``convolution.py``) - N-d convolution (PyTorch's
  cross-correlation) by im2col; its backward states the two identities as code: the input
  gradient is a correlation of the stride-dilated, padded upstream gradient with the *flipped*
  kernel, the weight gradient a correlation of the input with the upstream gradient.
* :class:`MaxPoolNd`, :class:`AvgPoolNd` (``pooling.py``) - pooling with the windows made visible
  (the same im2col windows), and their backward as a scatter of the upstream gradient back into
  them.
* :class:`RNN`, :class:`LSTM`, :class:`GRU` (``recurrence.py``) - one layer, one direction,
  forward as a loop over time and backpropagation through time as a literal
  ``for t in reversed(range(T))`` loop, one line per derivative equation. Weight layout as
  PyTorch: gate rows ``i, f, g, o`` (LSTM) and ``r, z, n`` (GRU,
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``).

Each is a :class:`~glassnet.autograd.Function`, so it works on Tensors with autograd: a learner
can train a small model on these ops. The fast kernels in :mod:`glassnet.ops.conv`,
:mod:`glassnet.ops.pool` and :mod:`glassnet.ops.recurrent` compute the same thing (the tests
check forward and every gradient against these forms); they are only arranged for speed.

>>> import glassnet
>>> from glassnet.ops import reference
>>> reference.conv2d(glassnet.ones(1, 1, 4, 4), glassnet.ones(2, 1, 3, 3)).shape
(1, 2, 2, 2)
"""

from __future__ import annotations

from .convolution import ConvNd, Ints, col2im, conv, conv1d, conv2d, conv3d, correlate, im2col
from .pooling import (
    AvgPoolNd,
    MaxPoolNd,
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from .recurrence import GRU, LSTM, RNN, gru, lstm, rnn

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "AvgPoolNd",
    "ConvNd",
    "Ints",
    "MaxPoolNd",
    "avg_pool",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "col2im",
    "conv",
    "conv1d",
    "conv2d",
    "conv3d",
    "correlate",
    "gru",
    "im2col",
    "lstm",
    "max_pool",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "rnn",
]
