"""glassnet: convolutional and recurrent neural networks from first principles on NumPy.

Every forward and backward pass is written out in ``glassnet.ops``; layers in ``glassnet.nn``
follow PyTorch's names, arguments and state_dict keys.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Subpackages that import nothing heavy; glassnet.viz (matplotlib) and glassnet.bench are
# imported explicitly by whoever needs them.
from . import (
    autograd,
    cuda,
    data,
    diagnostics,
    io,
    models,
    nn,
    onnx,
    ops,
    optim,
    seq,
    signal,
    train,
)
from ._dtype import (
    bool_,
    can_cast,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    is_floating,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)
from ._factory import (
    arange,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ._random import default_generator, manual_seed
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from .autograd import Tensor, enable_grad, no_grad, set_grad_enabled
from .autograd.grad_mode import inference_mode, is_grad_enabled, is_inference_mode_enabled
from .device import device
from .ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from .ops.compare import allclose, isclose, isfinite, isinf, isnan
from .ops.einsum import bmm, einsum
from .ops.elementwise import (
    abs,
    add,
    clamp,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from .ops.gather import gather, scatter, scatter_add
from .ops.layout import flip, t
from .ops.linalg import matmul
from .ops.reduce import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from .ops.sampling import multinomial
from .ops.scan import cumsum
from .ops.select import all, any, masked_fill
from .ops.shape import (
    cat,
    chunk,
    clone,
    concatenate,
    expand,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .ops.sort import argsort, sort, topk
from .ops.unary import ceil, cos, expm1, floor, log1p, round, sign, sin
from .ops.vector_norm import norm
from .serialization import load, save

__all__ = [
    "all",
    "any",
    "as_tensor",
    "bmm",
    "cuda",
    "device",
    "einsum",
    "get_printoptions",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "masked_fill",
    "norm",
    "printoptions",
    "set_printoptions",
    "t",
    "train",
    "seq",
    "nn",
    "models",
    "diagnostics",
    "Tensor",
    "__version__",
    "abs",
    "add",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "autograd",
    "bool_",
    "can_cast",
    "cat",
    "chunk",
    "clamp",
    "clip",
    "clone",
    "concatenate",
    "data",
    "default_generator",
    "div",
    "empty",
    "enable_grad",
    "exp",
    "expand",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "get_default_dtype",
    "int32",
    "int64",
    "io",
    "is_floating",
    "linspace",
    "log",
    "log_softmax",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "no_grad",
    "onnx",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "permute",
    "pow",
    "promote_types",
    "rand",
    "randint",
    "randn",
    "relu",
    "reshape",
    "result_type",
    "set_default_dtype",
    "set_grad_enabled",
    "sigmoid",
    "signal",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
    "allclose",
    "argsort",
    "ceil",
    "cos",
    "cumsum",
    "expm1",
    "flip",
    "floor",
    "gather",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "load",
    "log1p",
    "multinomial",
    "randperm",
    "round",
    "save",
    "scatter",
    "scatter_add",
    "sign",
    "sin",
    "sort",
    "topk",
]

# PyTorch's other names of these dtypes: glassnet.long is int64, glassnet.float float32, ...
# (last in the module: they shadow the builtins int, float and bool in it)
half, float, double = float16, float32, float64
short, int, long, bool = int16, int32, int64, bool_
__all__ += ["int8", "int16", "uint8", "half", "float", "double", "short", "int", "long", "bool"]
