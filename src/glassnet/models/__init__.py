"""Ready-made models.

- ``LeNet``: a LeNet-style CNN for small images (8x8 digits, 28x28 MNIST);
- ``LinearAR``: linear AR(tau), fitted in closed form (``fit_least_squares``) or by gradient
  descent; ``MLPAR``: a non-linear AR(tau);
- ``RNNForecaster``: a latent-autoregressive forecaster on an RNN, LSTM or GRU;
- ``CharLM``: a character language model (Embedding -> LSTM/GRU/RNN -> Linear).

The forecasting and language-modelling tools that use them are in ``glassnet.seq``.
"""

from __future__ import annotations

from .ar import MLPAR, LinearAR
from .lenet import LeNet
from .recurrent import CharLM, RNNForecaster, detach_state

__all__ = ["MLPAR", "CharLM", "LeNet", "LinearAR", "RNNForecaster", "detach_state"]
