"""``glassnet.save`` / ``glassnet.load``: PyTorch's ``torch.save(model.state_dict(), path)``
and ``torch.load(path)`` for state dicts, written as safetensors and never pickled.

Two kinds of object are saved, each in a safetensors file that loading never executes:

* a **state dict** (a mapping of string keys to tensors or arrays: ``model.state_dict()``) is
  a plain safetensors file, the same as ``glassnet.io.save`` writes, which PyTorch reads with
  ``safetensors.torch.load_file``;
* a **nested state** (a dict holding state dicts, lists, tuples, numbers, strings and None:
  ``optimizer.state_dict()``, or ``{'model': ..., 'optimizer': ..., 'epoch': 3}``) is a glassnet
  checkpoint (``glassnet.train.save_state``): the arrays in the tensor section, the structure as
  JSON in the header, with a checksum.

``load`` reads either and gives the arrays back as tensors, ready for
``model.load_state_dict`` and ``optimizer.load_state_dict``. Whole modules, optimizers and other
Python objects are refused with a ``TypeError`` that says what to save instead: PyTorch pickles
them, and a pickle runs code when it is loaded.

>>> import os, tempfile, glassnet
>>> from glassnet import nn
>>> net = nn.Linear(3, 2)
>>> opt = glassnet.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
>>> folder = tempfile.mkdtemp()
>>> glassnet.save(net.state_dict(), os.path.join(folder, "net.safetensors"))
>>> net.load_state_dict(glassnet.load(os.path.join(folder, "net.safetensors")))
IncompatibleKeys(missing_keys=[], unexpected_keys=[])
>>> ckpt = {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
>>> glassnet.save(ckpt, os.path.join(folder, "ckpt.safetensors"))
>>> state = glassnet.load(os.path.join(folder, "ckpt.safetensors"))
>>> opt.load_state_dict(state["optimizer"]); state["epoch"]
3
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .autograd.tensor import Tensor
from .device import check_device, device

PathLike = str | os.PathLike[str]

_WHAT = (
    "a state dict (a mapping of names to tensors, such as model.state_dict()) or a dict of "
    "state dicts, numbers, strings and lists (such as optimizer.state_dict(), or "
    "{'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'epoch': epoch})"
)


def _is_array(v: Any) -> bool:
    return isinstance(v, (Tensor, np.ndarray)) or (hasattr(v, "detach") and hasattr(v, "numpy"))


def _refusal(obj: Any) -> TypeError:
    """The TypeError for an object glassnet does not save, naming what to save instead."""
    from .nn.module import Module
    from .optim.optimizer import Optimizer

    kind = type(obj).__name__
    if isinstance(obj, Module):
        fix = (
            f"save its state dict: glassnet.save(model.state_dict(), path), and later "
            f"model = {kind}(...); model.load_state_dict(glassnet.load(path))"
        )
    elif isinstance(obj, Optimizer):
        fix = (
            "save its state dict: glassnet.save(optimizer.state_dict(), path), and later "
            "optimizer.load_state_dict(glassnet.load(path))"
        )
    elif isinstance(obj, Tensor):
        fix = "put it in a dict: glassnet.save({'x': x}, path), glassnet.load(path)['x']"
    else:
        fix = "save its arrays and settings in a dict"
    return TypeError(
        f"glassnet.save expected {_WHAT}, got a {kind}; {fix}. (glassnet writes safetensors "
        "and never pickles objects, since loading a pickle runs code.)"
    )


def _path(f: Any, op: str) -> Path:
    if isinstance(f, (str, os.PathLike)):
        return Path(f)
    raise TypeError(
        f"glassnet.{op} expected a file path (a str or os.PathLike), got {type(f).__name__}; "
        "file objects such as io.BytesIO are not supported"
    )


def save(obj: Mapping[str, Any], f: PathLike, *, metadata: Mapping[str, str] | None = None) -> None:
    """Save a state dict, or a dict of state dicts and plain values, to the file ``f``.

    PyTorch's ``torch.save`` for the objects glassnet can store safely (see the module
    docstring): a flat mapping of string keys to tensors/arrays becomes a plain safetensors
    file (``metadata``, string pairs, go in its header), anything else in a dict a glassnet
    checkpoint. The write is atomic (a temporary file renamed over ``f``).

    Raises:
        TypeError: ``obj`` is not a dict of that kind (a module, an optimizer, a tensor on its
            own, or a dict holding such objects); ``f`` is not a path.
    """
    path = _path(f, "save")
    if not isinstance(obj, Mapping):
        raise _refusal(obj)
    if all(isinstance(k, str) and _is_array(v) for k, v in obj.items()):
        from .io.weights import save as save_weights

        save_weights(obj, path, metadata=metadata)
        return
    if metadata is not None:
        raise TypeError(
            "glassnet.save takes metadata only for a flat state dict (a plain safetensors file)"
        )
    from .train.checkpoint import save_state

    try:
        save_state(path, dict(obj))
    except TypeError as e:  # a module, optimizer, function, ... somewhere inside the dict
        raise TypeError(f"glassnet.save expected {_WHAT}: {e}") from None


def _tensors(node: Any) -> Any:
    """The loaded structure with every array turned into a tensor (sharing its memory)."""
    if isinstance(node, np.ndarray):
        return Tensor(node)
    if isinstance(node, dict):
        return {k: _tensors(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(_tensors(v) for v in node)
    return node


def load(
    f: PathLike, map_location: Any = None, *, weights_only: bool | None = None, **kwargs: Any
) -> Any:
    """Load what ``glassnet.save`` wrote (or any safetensors file) from ``f``, arrays as tensors.

    A plain safetensors file comes back as an ordered dict of tensors in file order (the
    safetensors writer orders keys by dtype and name, not as saved); a glassnet
    checkpoint as the dict that was saved. Everything loads to the CPU, the only device:
    ``map_location`` is accepted in PyTorch's forms (a device, a string, a dict or a function),
    and a string or device naming an accelerator raises as ``glassnet.device`` does.
    ``weights_only`` is accepted with either value: nothing is ever unpickled.

    Raises:
        FileNotFoundError: ``f`` does not exist.
        ValueError: ``f`` is not a safetensors file, is damaged, or is a ``torch.save`` file
            (load those into a model with ``glassnet.io.load_into``, which reads them with
            ``torch.load(weights_only=True)``).
    """
    from .data.validate import InvalidFileError
    from .io.weights import load as load_weights
    from .io.weights import load_metadata
    from .train.checkpoint import FORMAT, load_state

    if kwargs:
        raise TypeError(f"glassnet.load() got an unexpected keyword argument {sorted(kwargs)[0]!r}")
    if isinstance(map_location, (str, device)):
        check_device(map_location)  # an accelerator raises: the CPU-only build
    path = _path(f, "load")
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(4) == b"PK\x03\x04":  # a zip archive, as torch.save writes
                raise InvalidFileError(
                    f"{str(path)!r} was written by torch.save (a pickle in a zip archive), "
                    "which glassnet does not unpickle; load its state dict into a model with "
                    "glassnet.io.load_into(model, path) (reads it with torch.load("
                    "weights_only=True), or save it as safetensors in PyTorch"
                )
    if load_metadata(path).get("format") == FORMAT:
        return _tensors(load_state(path))
    return OrderedDict((k, Tensor(v)) for k, v in load_weights(path).items())
