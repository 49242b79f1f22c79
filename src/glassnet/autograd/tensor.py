"""``Tensor``: an ndarray with a gradient and a link to the op that made it."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._dtype import (
    can_cast,
    get_default_dtype,
    is_floating,
    number_dtype,
    promote_types,
    result_type,
)
from . import grad_mode

Index = Any


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an ndarray: Python floats get the default dtype, arrays keep theirs."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        if hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
            arr = np.asarray(data.detach().cpu().numpy())
        else:
            arr = np.asarray(data)
            if dtype is None and arr.dtype.kind in "biufc":  # a given dtype applies unrounded
                arr = arr.astype(_python_data_dtype(data), copy=False)
        if arr.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


_PY_NUMBERS = frozenset((bool, int, float, complex))


def _python_data_dtype(data: Any) -> np.dtype:
    """The dtype PyTorch gives a Python scalar or nested sequence: its elements' types promoted.

    A Python float counts as the default dtype, an int as int64, a bool as bool, a complex as
    the default dtype's complex; a NumPy scalar or array, or a tensor, inside the sequence as its
    own dtype (``torch.tensor([np.float64(1)])`` is float64, ``[np.int32(1)]`` int32); then
    ``promote_types`` (int32 with a Python float gives the default float). No elements: the
    default.
    """
    found: set[Any] = set()
    _element_types(data, found)
    dtypes = [number_dtype(t) if t in _PY_NUMBERS else t for t in found]
    return promote_types(*dtypes) if dtypes else get_default_dtype()


def _element_types(data: Any, found: set[Any]) -> None:
    """Add the leaf types of ``data`` to ``found``: Python scalar types, or dtypes."""
    if not isinstance(data, (list, tuple)):
        data = [data]
    types = set(map(type, data))
    found |= types & _PY_NUMBERS
    if types <= _PY_NUMBERS:  # the common case: no element needs a closer look
        return
    for item in data:
        if isinstance(item, (list, tuple)):
            _element_types(item, found)
        elif isinstance(item, Tensor):
            found.add(item.data.dtype)
        elif type(item) not in _PY_NUMBERS:  # np.float64 subclasses float: not a Python float
            found.add(np.asarray(item).dtype)  # NumPy scalars and arrays, torch tensors, ...


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Attributes:
        data: the values, a NumPy array (shared, not copied, when built from one).
        grad: accumulated gradient (a ``Tensor``) after ``backward``, or ``None``.
        requires_grad: whether operations on this tensor are recorded.
        creator: the ``Function`` node that produced this tensor (``None`` for leaves);
            ``grad_fn`` is an alias.

    >>> import glassnet
    >>> x = glassnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: np.ndarray = _as_array(data, dtype)
        self.grad: Tensor | None = None
        self.creator: Any = None
        self._index = 0
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, creator: Any, index: int) -> Tensor:
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.creator = creator
        t._index = index
        t._version = [0]
        t.requires_grad = requires_grad
        return t

    # ----------------------------------------------------------------- basic properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def grad_fn(self) -> Any:
        return self.creator

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (no copy)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return np.array(a, copy=True) if copy else a

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from .._tensor_str import tensor_repr

        return tensor_repr(self)

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not is_floating(self.data.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        if not requires_grad and self.creator is not None:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor; use detach() to cut it from the graph"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Backpropagate from this tensor; see ``glassnet.autograd.backward``."""
        from .engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self) -> None:
        """Also store ``.grad`` on this non-leaf tensor during backward."""
        if self.creator is None:
            return
        if self.creator._retained is None:
            self.creator._retained = {}
        self.creator._retained[self._index] = weakref.ref(self)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's array (and its in-place version counter)."""
        t = Tensor._make(self.data, False, None, 0)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        self.creator = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        from ..ops import shape

        return shape.clone(self)

    # ----------------------------------------------------------------- in-place updates
    def _check_inplace(self, what: str) -> None:
        if grad_mode.is_grad_enabled() and self.requires_grad:
            kind = "a leaf tensor that requires grad" if self.is_leaf else "a tensor in a graph"
            raise RuntimeError(
                f"{what}: in-place change of {kind}; wrap it in glassnet.no_grad() "
                "(optimizer-style updates) or use the out-of-place operation"
            )
        self._version[0] += 1

    def _inplace(self, what: str, value: np.ndarray) -> Tensor:
        self._check_inplace(what)
        self.data[...] = value
        return self

    def _check_inplace_dtype(self, what: str, *operands: Any, floating: bool = False) -> None:
        """PyTorch's rule for ``x.op_(other)``: the result dtype must cast to ``x``'s dtype
        without changing kind downwards (no float into an integer tensor, nothing into bool)."""
        result = result_type(self, *operands)
        if floating and result.kind in "biu":
            result = get_default_dtype()  # true division
        if not can_cast(result, self.dtype):
            raise TypeError(
                f"{what}: the result dtype {result} cannot be cast to this tensor's dtype "
                f"{self.dtype} in place (as in PyTorch); use the out-of-place operation"
            )

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        self._check_inplace_dtype("add_", other, *([] if alpha == 1 else [alpha]))
        return self._inplace("add_", self.data + alpha * _data(other))

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        _ops.elementwise.refuse_bool_subtraction(self, other)
        self._check_inplace_dtype("sub_", other, *([] if alpha == 1 else [alpha]))
        return self._inplace("sub_", self.data - alpha * _data(other))

    def mul_(self, other: Any) -> Tensor:
        self._check_inplace_dtype("mul_", other)
        return self._inplace("mul_", self.data * _data(other))

    def div_(self, other: Any) -> Tensor:
        self._check_inplace_dtype("div_", other, floating=True)
        return self._inplace("div_", self.data / _data(other))

    def zero_(self) -> Tensor:
        return self._inplace("zero_", np.zeros((), self.dtype))

    def fill_(self, value: float) -> Tensor:
        return self._inplace("fill_", np.asarray(value, self.dtype))

    def copy_(self, src: Any) -> Tensor:
        s = _data(src)
        if np.broadcast_shapes(np.shape(s), self.shape) != self.shape:
            raise ValueError(f"copy_ expected a source broadcastable to {self.shape}")
        return self._inplace("copy_", s)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        return self._inplace("clamp_", np.clip(self.data, min, max))

    def uniform_(
        self, a: float = 0.0, b: float = 1.0, *, rng: Any = None, generator: Any = None
    ) -> Tensor:
        from .._random import resolve_rng

        g = resolve_rng(rng, generator, "uniform_")  # generator: PyTorch's name for rng
        return self._inplace("uniform_", g.uniform(a, b, self.shape))

    def normal_(
        self, mean: float = 0.0, std: float = 1.0, *, rng: Any = None, generator: Any = None
    ) -> Tensor:
        from .._random import resolve_rng

        g = resolve_rng(rng, generator, "normal_")  # generator: PyTorch's name for rng
        return self._inplace("normal_", g.normal(mean, std, self.shape))

    def __setitem__(self, index: Index, value: Any) -> None:
        self._check_inplace("__setitem__")
        self.data[_index_data(index)] = _data(value)

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, o: Any) -> Tensor:
        return _ops.elementwise.add(self, o)

    def __radd__(self, o: Any) -> Tensor:
        return _ops.elementwise.add(o, self)

    def __sub__(self, o: Any) -> Tensor:
        return _ops.elementwise.sub(self, o)

    def __rsub__(self, o: Any) -> Tensor:
        return _ops.elementwise.sub(o, self)

    def __mul__(self, o: Any) -> Tensor:
        return _ops.elementwise.mul(self, o)

    def __rmul__(self, o: Any) -> Tensor:
        return _ops.elementwise.mul(o, self)

    def __truediv__(self, o: Any) -> Tensor:
        return _ops.elementwise.div(self, o)

    def __rtruediv__(self, o: Any) -> Tensor:
        return _ops.elementwise.div(o, self)

    def __pow__(self, o: Any) -> Tensor:
        return _ops.elementwise.pow(self, o)

    def __rpow__(self, o: Any) -> Tensor:
        return _ops.elementwise.pow(o, self)

    def __matmul__(self, o: Any) -> Tensor:
        return _ops.linalg.matmul(self, o)

    def __rmatmul__(self, o: Any) -> Tensor:
        return _ops.linalg.matmul(o, self)

    def __neg__(self) -> Tensor:
        return _ops.elementwise.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.elementwise.abs(self)

    def __getitem__(self, index: Index) -> Tensor:
        return _ops.shape.getitem(self, index)

    # comparisons give boolean tensors and are not differentiable
    def __lt__(self, o: Any) -> Tensor:
        return Tensor(self.data < _data(o))

    def __le__(self, o: Any) -> Tensor:
        return Tensor(self.data <= _data(o))

    def __gt__(self, o: Any) -> Tensor:
        return Tensor(self.data > _data(o))

    def __ge__(self, o: Any) -> Tensor:
        return Tensor(self.data >= _data(o))

    def __eq__(self, o: Any) -> Tensor:
        return Tensor(self.data == _data(o))

    def __ne__(self, o: Any) -> Tensor:
        return Tensor(self.data != _data(o))

    # ----------------------------------------------------------------- math methods
    def exp(self) -> Tensor:
        return _ops.elementwise.exp(self)

    def log(self) -> Tensor:
        return _ops.elementwise.log(self)

    def sqrt(self) -> Tensor:
        return _ops.elementwise.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.elementwise.abs(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _ops.elementwise.clamp(self, min, max)

    clip = clamp

    def pow(self, exponent: Any) -> Tensor:
        return _ops.elementwise.pow(self, exponent)

    def tanh(self) -> Tensor:
        return _ops.activation.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.activation.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.activation.relu(self)

    def softmax(self, dim: int) -> Tensor:
        return _ops.activation.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _ops.activation.log_softmax(self, dim)

    def matmul(self, o: Any) -> Tensor:
        return _ops.linalg.matmul(self, o)

    # reductions also take NumPy's axis= and keepdims= (as PyTorch does), see ops.reduce
    def sum(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, **numpy: Any
    ) -> Tensor:
        return _ops.reduce.sum(self, dim, keepdim, **numpy)

    def mean(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, **numpy: Any
    ) -> Tensor:
        return _ops.reduce.mean(self, dim, keepdim, **numpy)

    def var(
        self,
        dim: int | Sequence[int] | None = None,
        *,
        correction: int = 1,
        keepdim: bool = False,
        **numpy: Any,
    ) -> Tensor:
        return _ops.reduce.var(self, dim, correction=correction, keepdim=keepdim, **numpy)

    def std(
        self,
        dim: int | Sequence[int] | None = None,
        *,
        correction: int = 1,
        keepdim: bool = False,
        **numpy: Any,
    ) -> Tensor:
        return _ops.reduce.std(self, dim, correction=correction, keepdim=keepdim, **numpy)

    def max(self, dim: int | None = None, keepdim: bool = False, **numpy: Any) -> Any:
        return _ops.reduce.max(self, dim, keepdim, **numpy)

    def min(self, dim: int | None = None, keepdim: bool = False, **numpy: Any) -> Any:
        return _ops.reduce.min(self, dim, keepdim, **numpy)

    def amax(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, **numpy: Any
    ) -> Tensor:
        return _ops.reduce.amax(self, dim, keepdim, **numpy)

    def amin(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, **numpy: Any
    ) -> Tensor:
        return _ops.reduce.amin(self, dim, keepdim, **numpy)

    def argmax(self, dim: int | None = None, keepdim: bool = False, **numpy: Any) -> Tensor:
        return _ops.reduce.argmax(self, dim, keepdim, **numpy)

    def argmin(self, dim: int | None = None, keepdim: bool = False, **numpy: Any) -> Tensor:
        return _ops.reduce.argmin(self, dim, keepdim, **numpy)

    # ----------------------------------------------------------------- shape methods
    def reshape(self, *shape: Any) -> Tensor:
        return _ops.shape.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        return _ops.shape.reshape(self, *shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _ops.shape.flatten(self, start_dim, end_dim)

    def permute(self, *dims: Any) -> Tensor:
        return _ops.shape.permute(self, *dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _ops.shape.transpose(self, dim0, dim1)

    def squeeze(self, dim: int | None = None) -> Tensor:
        return _ops.shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _ops.shape.unsqueeze(self, dim)

    def expand(self, *shape: Any) -> Tensor:
        return _ops.shape.expand(self, *shape)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _ops.shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _ops.shape.chunk(self, chunks, dim)

    # ----------------------------------------------------------------- PyTorch API: devices, hooks
    _hooks: dict[int, Any] | None = None  # register_hook on a leaf (non-leaves: on the creator)

    @property
    def device(self) -> Any:
        """Always ``device(type='cpu')``: glassnet tensors live in NumPy arrays."""
        from ..device import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    def cpu(self) -> Tensor:
        """This tensor (it is on the CPU already)."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Raises: glassnet is a CPU-only build."""
        from ..device import not_available

        raise not_available("CUDA")

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` with this tensor's gradient during backward (PyTorch's semantics).

        The hook sees the total gradient of this tensor (read-only) and may return a tensor of
        the same shape and dtype to replace it: for a leaf, before it is accumulated into
        ``.grad``; for a non-leaf, before it flows on to the ops that made the tensor (and
        before ``retain_grad`` stores it). Hooks run in registration order. Returns a handle
        whose ``remove()`` unregisters the hook.

        >>> import glassnet
        >>> x = glassnet.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([20., 40.])
        >>> h.remove()
        """
        from .hooks import RemovableHandle

        if not callable(hook):
            raise TypeError(f"register_hook expected a callable, got {type(hook).__name__}")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.creator is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            if self.creator._tensor_hooks is None:
                self.creator._tensor_hooks = {}
            hooks = self.creator._tensor_hooks.setdefault(self._index, {})
        return RemovableHandle(hooks, hook)

    # ----------------------------------------------------------------- PyTorch API: layout
    def contiguous(self) -> Tensor:
        return _ops.layout.contiguous(self)

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def t(self) -> Tensor:
        return _ops.layout.t(self)

    @property
    def mT(self) -> Tensor:
        return _ops.layout.matrix_transpose(self)

    def repeat(self, *sizes: Any) -> Tensor:
        return _ops.layout.repeat(self, *sizes)

    # ----------------------------------------------------------------- PyTorch API: masks, logic
    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return _ops.select.masked_fill(self, mask, value)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        m = _ops.select.check_mask(self, mask, "masked_fill_")
        fill = np.asarray(_data(value), self.dtype)
        return self._inplace("masked_fill_", np.where(m, fill, self.data))

    def any(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return _ops.select.any(self, dim, keepdim)

    def all(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return _ops.select.all(self, dim, keepdim)

    # ----------------------------------------------------------------- PyTorch API: norms, bmm
    def norm(
        self,
        p: Any = "fro",
        dim: int | Sequence[int] | None = None,
        keepdim: bool = False,
        dtype: Any = None,
    ) -> Tensor:
        return _ops.vector_norm.norm(self, p, dim, keepdim, dtype)

    def bmm(self, mat2: Tensor) -> Tensor:
        return _ops.einsum.bmm(self, mat2)

    # ----------------------------------------------------------------- PyTorch API: ranking, scans
    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        return _ops.sort.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        return _ops.sort.argsort(self, dim, descending, stable=stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return _ops.sort.topk(self, k, dim, largest, sorted)

    def flip(self, *dims: Any, **kw: Any) -> Tensor:
        """``x.flip(0, 1)``, ``x.flip((0, 1))`` or ``x.flip(dims=(0, 1))``, as PyTorch."""
        if "dims" in kw:
            if dims or set(kw) != {"dims"}:
                raise TypeError("flip() takes the dims once: flip(0, 1) or flip(dims=(0, 1))")
            return _ops.layout.flip(self, kw["dims"])
        if kw:
            raise TypeError(f"flip() got an unexpected keyword argument {sorted(kw)[0]!r}")
        if not dims:
            raise TypeError("flip() missing the dims, e.g. x.flip(0)")
        one = len(dims) == 1 and isinstance(dims[0], (tuple, list))
        return _ops.layout.flip(self, tuple(dims[0]) if one else dims)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return _ops.scan.cumsum(self, dim, dtype=dtype)

    # ----------------------------------------------------------------- PyTorch API: gather, scatter
    def gather(self, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
        return _ops.gather.gather(self, dim, index, sparse_grad=sparse_grad)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        return _ops.gather.scatter(self, dim, index, src, value=value)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        return _ops.gather.scatter_add(self, dim, index, src)

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        y = _ops.gather.scatter(self.detach(), dim, index, src, value=value)
        return self._inplace("scatter_", y.data)

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        y = _ops.gather.scatter_add(self.detach(), dim, index, src)
        return self._inplace("scatter_add_", y.data)

    # ----------------------------------------------------------------- PyTorch API: sampling
    def multinomial(
        self,
        num_samples: int,
        replacement: bool = False,
        *,
        generator: Any = None,
        rng: Any = None,
    ) -> Tensor:
        return _ops.sampling.multinomial(
            self, num_samples, replacement, generator=generator, rng=rng
        )

    # ----------------------------------------------------------------- PyTorch API: float tests
    def isnan(self) -> Tensor:
        return _ops.compare.isnan(self)

    def isinf(self) -> Tensor:
        return _ops.compare.isinf(self)

    def isfinite(self) -> Tensor:
        return _ops.compare.isfinite(self)

    def isclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Tensor:
        return _ops.compare.isclose(self, other, rtol, atol, equal_nan)

    def allclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Any:
        return _ops.compare.allclose(self, other, rtol, atol, equal_nan)

    # ----------------------------------------------------------------- PyTorch API: mask logic
    # ~, &, |, ^ on boolean masks (logical) and integer tensors (bitwise), as PyTorch; not
    # differentiable. Python numbers take the tensor's dtype.
    def _bitwise(self, other: Any, op: Any, symbol: str, reflected: bool = False) -> Tensor:
        a = self.data
        b = np.asarray(_data(other))
        if isinstance(other, (bool, int)) and a.dtype.kind in "biu":
            b = b.astype(a.dtype)
        if a.dtype.kind not in "biu" or b.dtype.kind not in "biu":
            raise TypeError(
                f"{symbol} expected boolean or integer tensors, got {a.dtype} and {b.dtype}; "
                "compare floats first (x > 0) to get a mask"
            )
        return Tensor(op(b, a) if reflected else op(a, b))

    def __invert__(self) -> Tensor:
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ expected a boolean or integer tensor, got {self.data.dtype}")
        return Tensor(~self.data)

    def __and__(self, o: Any) -> Tensor:
        return self._bitwise(o, np.bitwise_and, "&")

    def __rand__(self, o: Any) -> Tensor:
        return self._bitwise(o, np.bitwise_and, "&", reflected=True)

    def __or__(self, o: Any) -> Tensor:
        return self._bitwise(o, np.bitwise_or, "|")

    def __ror__(self, o: Any) -> Tensor:
        return self._bitwise(o, np.bitwise_or, "|", reflected=True)

    def __xor__(self, o: Any) -> Tensor:
        return self._bitwise(o, np.bitwise_xor, "^")

    def __rxor__(self, o: Any) -> Tensor:
        return self._bitwise(o, np.bitwise_xor, "^", reflected=True)

    # ----------------------------------------------------------------- PyTorch API: math
    def sin(self) -> Tensor:
        return _ops.unary.sin(self)

    def cos(self) -> Tensor:
        return _ops.unary.cos(self)

    def log1p(self) -> Tensor:
        return _ops.unary.log1p(self)

    def expm1(self) -> Tensor:
        return _ops.unary.expm1(self)

    def sign(self) -> Tensor:
        return _ops.unary.sign(self)

    def floor(self) -> Tensor:
        return _ops.unary.floor(self)

    def ceil(self) -> Tensor:
        return _ops.unary.ceil(self)

    def round(self, *, decimals: int = 0) -> Tensor:
        return _ops.unary.round(self, decimals=decimals)

    # ----------------------------------------------------------------- dtype
    # (last in the class: these method names shadow the builtins int/float/bool below them)
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's overloads: ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, each with
        ``non_blocking`` and ``copy``.

        Returns this tensor when nothing changes (and ``copy`` is False), else a new one that
        stays in the graph. The device can only be the CPU; a dtype is anything ``np.dtype``
        takes (a dtype string such as ``'float64'`` too, where PyTorch wants ``torch.float64``).

        >>> import glassnet
        >>> x = glassnet.ones(2)
        >>> x.to("cpu") is x, x.to("cpu", glassnet.float64).dtype
        (True, dtype('float64'))
        """
        from ..device import parse_to
        from ..ops import elementwise, shape

        dtype, copy = parse_to(args, kwargs, method="Tensor.to")
        if dtype is not None and dtype != self.dtype:
            return elementwise.cast(self, dtype)
        return shape.clone(self) if copy else self

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)


class Parameter(Tensor):
    """A tensor that a ``Module`` registers as a learnable parameter (requires grad by default).

    >>> import numpy as np, glassnet
    >>> p = glassnet.nn.Parameter(np.zeros(3))
    >>> p.requires_grad, p.dtype
    (True, dtype('float64'))
    """

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data.data if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _index_data(index: Index) -> Index:
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


from .. import ops as _ops  # noqa: E402  (ops needs Tensor defined first)
