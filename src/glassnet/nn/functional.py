"""The functional forms of every layer (PyTorch's ``torch.nn.functional``).

Each name is defined at the bottom of its op's file in ``glassnet.ops``; this module gathers them.
"""

from ..ops.activation import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from ..ops.conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_nd,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    conv_transpose_nd,
)
from ..ops.dropout import dropout
from ..ops.embedding import embedding
from ..ops.fold import fold, unfold
from ..ops.linalg import linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.norm import batch_norm
from ..ops.pixelshuffle import pixel_shuffle, pixel_unshuffle
from ..ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from ..ops.recurrent import gru, gru_cell, lstm, lstm_cell, rnn, rnn_cell
from ..ops.select import one_hot
from ..ops.shape import flatten, pad
from ..ops.upsample import interpolate, upsample, upsample_bilinear, upsample_nearest

__all__ = [
    "gru",
    "gru_cell",
    "lstm",
    "lstm_cell",
    "rnn",
    "rnn_cell",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_nd",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "conv_transpose_nd",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "batch_norm",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "flatten",
    "gelu",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "fold",
    "unfold",
    "pixel_shuffle",
    "pixel_unshuffle",
    "interpolate",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
    "binary_cross_entropy",
    "huber_loss",
    "kl_div",
    "smooth_l1_loss",
]

# normalisation, channel dropout, activations (issue 14)
from ..ops.activation import hardtanh, mish, prelu, relu6, silu, softplus
from ..ops.dropout import dropout1d, dropout2d, dropout3d
from ..ops.norm import group_norm, instance_norm, layer_norm

__all__ += [
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "group_norm",
    "hardtanh",
    "instance_norm",
    "layer_norm",
    "mish",
    "prelu",
    "relu6",
    "silu",
    "softplus",
]
