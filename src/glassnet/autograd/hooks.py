"""``RemovableHandle``: what ``register_hook`` and ``register_forward_hook`` return."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """Registers ``hook`` in ``hooks`` under a fresh id; ``remove()`` takes it out again.

    Also a context manager, as PyTorch's: the hook is removed when the ``with`` block ends.
    """

    def __init__(self, hooks: dict[int, Any], hook: Callable[..., Any]) -> None:
        self.id = next(_ids)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
