"""Gradient recording switches: ``no_grad``, ``enable_grad`` and the anomaly mode."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_grad_enabled = True
_anomaly_enabled = False
_inference_depth = 0


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are being recorded."""
    return _grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode for its body."""

    mode: bool = True

    def __enter__(self) -> None:
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disable graph recording (inference, optimizer updates).

    >>> import glassnet
    >>> x = glassnet.ones(2, requires_grad=True)
    >>> with glassnet.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Set grad mode to ``mode`` (usable as a function or a context manager)."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.mode = bool(mode)
        self._prev = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._prev


class inference_mode(_GradMode):
    """``no_grad`` under PyTorch's other name (``mode=False`` leaves grad mode as it is).

    PyTorch's inference mode also marks the tensors made inside as "inference tensors" that may
    never enter a graph later; glassnet has no such tensors, so this is exactly ``no_grad`` (see
    docs/pytorch.md). Usable as a context manager or a decorator, with or without parentheses.

    >>> import glassnet
    >>> x = glassnet.ones(2, requires_grad=True)
    >>> with glassnet.inference_mode():
    ...     y = x * 2
    >>> y.requires_grad, glassnet.is_inference_mode_enabled()
    (False, False)
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # used bare, ``@inference_mode``, as PyTorch allows
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        self.enabled = bool(mode)

    def __enter__(self) -> None:
        global _grad_enabled, _inference_depth
        self._prev = _grad_enabled
        if self.enabled:
            _grad_enabled = False
            _inference_depth += 1

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled, _inference_depth
        _grad_enabled = self._prev
        if self.enabled:
            _inference_depth -= 1

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(self.enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_inference_mode_enabled() -> bool:
    """Whether the code runs inside an active ``inference_mode`` block."""
    return _inference_depth > 0


def is_anomaly_enabled() -> bool:
    """Whether every op's forward output and backward gradients are checked for NaN/inf."""
    return _anomaly_enabled


def set_detect_anomaly(mode: bool) -> None:
    """Switch the anomaly mode on or off globally."""
    global _anomaly_enabled
    _anomaly_enabled = bool(mode)


class detect_anomaly:
    """Context manager: raise at the first op whose forward or backward makes NaN or inf.

    The error names the op (its ``Function`` class), which output or input gradient went bad,
    and, for backward errors, where in user code the op was created.

    >>> import glassnet
    >>> x = glassnet.tensor([-1.0], requires_grad=True)
    >>> with glassnet.autograd.detect_anomaly():
    ...     glassnet.log(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.autograd.function.AnomalyError: Log produced nan in its forward output 0 ...
    """

    def __enter__(self) -> None:
        global _anomaly_enabled
        self._prev = _anomaly_enabled
        _anomaly_enabled = True

    def __exit__(self, *exc: object) -> None:
        global _anomaly_enabled
        _anomaly_enabled = self._prev
