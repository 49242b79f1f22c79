"""Checkpoints in safetensors: ``save``, ``load``, ``load_metadata`` and ``load_into``.

safetensors is a flat format: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian bytes. Reading it never runs
code (unlike pickle), so a checkpoint from anywhere is safe to open. Keys and shapes are
PyTorch's ``state_dict`` keys and shapes, so the same file loads into the equivalent PyTorch
model with ``safetensors.torch.load_file`` and ``load_state_dict``.

Dtypes: tensors keep their dtype on disk. ``load`` returns NumPy arrays of the stored dtype
(``BF16`` is widened to float32, exactly, since NumPy has no bfloat16). ``load_into`` converts a
floating value to the dtype of the floating parameter it fills (float64 -> float32 rounds, as
PyTorch's ``load_state_dict`` does) and an integer value to an integer buffer's dtype; a floating
value for an integer buffer, or an integer/bool/complex value for a floating parameter, is an
error, and so is a value beyond the range of the dtype it would be cast to.

A file that is not what it claims raises ``InvalidFileError`` (a ``ValueError``) in one line
naming it.

>>> import os, tempfile, glassnet
>>> from glassnet import nn
>>> net = nn.Linear(3, 2)
>>> path = os.path.join(tempfile.mkdtemp(), "linear.safetensors")
>>> save(net, path, metadata={"note": "demo"})
>>> sorted(load(path))
['bias', 'weight']
>>> load_metadata(path)["note"]
'demo'
>>> load_into(nn.Linear(3, 2), path)
LoadReport(missing_keys=[], unexpected_keys=[], converted=[])
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .._atomic import atomic_write_bytes
from ..autograd.tensor import Tensor
from ..data.validate import InvalidFileError
from ..nn.module import Module, check_state

PathLike = str | os.PathLike[str]

# safetensors dtype name -> NumPy dtype (little-endian, as the format stores them)
_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_ITEMSIZE = {name: dt.itemsize for name, dt in _DTYPES.items()} | {"BF16": 2}
_MAX_HEADER = 100_000_000  # the safetensors reference implementation's limit


class LoadReport(NamedTuple):
    """What ``load_into`` did beyond a plain copy.

    Attributes:
        missing_keys: model keys the checkpoint lacked (left unchanged; only with strict=False).
        unexpected_keys: checkpoint keys the model lacks (ignored; only with strict=False).
        converted: ``"key: float64 -> float32"`` for each value cast to the model's dtype.
    """

    missing_keys: list[str]
    unexpected_keys: list[str]
    converted: list[str]


# ---------------------------------------------------------------------------- save
def _as_array(key: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        arr = value.data
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        t = value.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        arr = np.asarray(t.numpy())
    elif isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        arr = np.asarray(value)
    else:
        raise TypeError(
            f"save expected arrays or tensors as values, got {type(value).__name__} for {key!r}"
        )
    if arr.dtype.newbyteorder("<") not in _DTYPES.values():
        raise TypeError(
            f"save cannot store dtype {arr.dtype} (key {key!r}); supported: float16/32/64, "
            "int8/16/32/64, uint8/16/32/64, bool"
        )
    # np.require keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d)
    return np.require(arr.astype(arr.dtype.newbyteorder("<"), copy=False), requirements="C")


def save(
    state_or_module: Module | Mapping[str, Any],
    path: PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a module's ``state_dict`` (or a mapping of arrays) to ``path`` in safetensors.

    The write is atomic: the bytes go to a temporary file in the same directory, are flushed to
    disk (``fsync``) and then renamed over ``path``, so a crash never leaves a half-written
    checkpoint under the final name.

    Args:
        state_or_module: a ``Module`` (its ``state_dict()`` is saved) or a mapping from key to
            NumPy array, glassnet tensor or torch tensor.
        path: the file to write (conventionally ``*.safetensors``).
        metadata: optional string-to-string pairs stored in the header (``"format": "pt"`` is
            added unless given, which ``transformers`` and others expect).

    Raises:
        TypeError: a key or metadata entry that is not a string, or an unsupported dtype.
    """
    from safetensors.numpy import save as save_bytes

    if isinstance(state_or_module, Module):
        state: Mapping[str, Any] = state_or_module.state_dict()
    elif isinstance(state_or_module, Mapping):
        state = state_or_module
    else:
        raise TypeError(
            f"save expected a Module or a mapping of arrays, got {type(state_or_module).__name__}"
        )
    arrays: dict[str, np.ndarray] = {}
    for k, v in state.items():
        if not isinstance(k, str):
            raise TypeError(f"save expected string keys, got {k!r} ({type(k).__name__})")
        arrays[k] = _as_array(k, v)
    meta = {"format": "pt"}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"save expected string metadata keys and values, got {k!r}: {v!r}")
        meta[k] = v
    atomic_write_bytes(path, save_bytes(arrays, metadata=meta))


# ---------------------------------------------------------------------------- load
def _read_header(path: PathLike) -> tuple[dict[str, Any], dict[str, str], int]:
    """Parse and check the header: (tensor entries, metadata, offset of the data section).

    Every check that a hostile or damaged file could fail is made here, before any data is read,
    so the error says what is wrong with the file instead of surfacing from deep inside a reader.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such checkpoint file: {str(p)!r}")
    size = p.stat().st_size
    where = f"{str(p)!r}"
    with open(p, "rb") as f:
        n = header_length(f.read(8), size, where)
        raw = f.read(n)
    header, meta = parse_header(raw, size, where)
    return header, meta, 8 + n


def header_length(head: bytes, size: int, where: str) -> int:
    """The header length announced by the first 8 bytes of a ``size``-byte file, checked."""
    if len(head) < 8:
        raise InvalidFileError(
            f"{where} is not a safetensors file: {size} bytes, too short for the 8-byte "
            "header length"
        )
    n = int.from_bytes(head[:8], "little")
    if n > _MAX_HEADER or n < 2:
        raise InvalidFileError(
            f"{where} is not a safetensors file: its first 8 bytes give a header length of "
            f"{n} bytes (file size {size})"
        )
    if n > size - 8:
        raise InvalidFileError(
            f"{where} is truncated or not a safetensors file: the header length is {n} bytes "
            f"but only {size - 8} bytes follow"
        )
    return n


def parse_header(raw: bytes, size: int, where: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the JSON header ``raw`` of a ``size``-byte file: (tensor entries, metadata).

    Raises ``ValueError`` naming ``where`` for a header that is not JSON, metadata that is not
    string-to-string, an entry without dtype/shape/data_offsets, an unsupported dtype, a shape
    or byte range that disagree, overlapping tensors, or tensors past the end of the file.
    """
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InvalidFileError(
            f"{where} is not a safetensors file: its header is not JSON"
        ) from None
    if not isinstance(header, dict):
        raise InvalidFileError(
            f"{where} is not a safetensors file: its header is not a JSON object"
        )
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise InvalidFileError(f"{where}: __metadata__ must map strings to strings")
    data_len = size - 8 - len(raw)
    end_max = 0
    spans = []
    for key, entry in header.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
            raise InvalidFileError(
                f"{where}: header entry {key!r} must have dtype, shape and data_offsets"
            )
        dtype, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _ITEMSIZE:
            raise InvalidFileError(
                f"{where}: tensor {key!r} has unsupported dtype {dtype!r}; glassnet reads "
                f"{', '.join(sorted(_ITEMSIZE))}"
            )
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise InvalidFileError(f"{where}: tensor {key!r} has an invalid shape {shape!r}")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)
            or not 0 <= offs[0] <= offs[1]
        ):
            raise InvalidFileError(f"{where}: tensor {key!r} has invalid data_offsets {offs!r}")
        need = math.prod(shape) * _ITEMSIZE[dtype]
        if offs[1] - offs[0] != need:
            raise InvalidFileError(
                f"{where}: the header lies about sizes: tensor {key!r} ({dtype}, shape "
                f"{tuple(shape)}) needs {need} bytes but its data_offsets {offs} span "
                f"{offs[1] - offs[0]}"
            )
        end_max = max(end_max, offs[1])
        spans.append((offs[0], offs[1], key))
    if end_max > data_len:
        raise InvalidFileError(
            f"{where} is truncated: the header describes {end_max} bytes of tensor data but the "
            f"file holds {data_len}"
        )
    spans.sort()
    for (_, e0, k0), (b1, _, k1) in itertools.pairwise(spans):
        if b1 < e0:
            raise InvalidFileError(
                f"{where}: the header lies about sizes: {k0!r} and {k1!r} overlap"
            )
    return header, meta


def load_metadata(path: PathLike) -> dict[str, str]:
    """The string metadata stored in a safetensors file's header (no tensor data is read)."""
    _, meta, _ = _read_header(path)
    return dict(meta)


def load(path: PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a safetensors file into an ordered dict of NumPy arrays (keys in file order).

    The header is validated first: a file that is not safetensors, a truncated file, a header
    whose sizes disagree with its shapes and dtypes, or an unsupported dtype gives a
    ``ValueError`` naming the file and the problem. Nothing is ever unpickled or executed.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is damaged, not safetensors, or uses an unsupported dtype.
    """
    from safetensors import SafetensorError, safe_open

    header, _, data_start = _read_header(path)
    order = sorted(header, key=lambda k: header[k]["data_offsets"][0])
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    try:
        with safe_open(os.fspath(path), framework="numpy") as f:
            for key in order:
                entry = header[key]
                if entry["dtype"] == "BF16":  # NumPy has no bfloat16: widen to float32 exactly
                    out[key] = _read_bf16(path, data_start, entry)
                else:
                    arr = f.get_tensor(key).reshape(entry["shape"])  # 0-d comes back as (1,)
                    out[key] = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    except SafetensorError as e:
        raise InvalidFileError(f"{str(path)!r} is not a valid safetensors file: {e}") from None
    return out


def _read_bf16(path: PathLike, data_start: int, entry: Mapping[str, Any]) -> np.ndarray:
    b, e = entry["data_offsets"]
    with open(path, "rb") as f:
        f.seek(data_start + b)
        raw = f.read(e - b)
    bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32).reshape(entry["shape"])


# ---------------------------------------------------------------------------- load into a model
def _torch_load(path: Path) -> Mapping[str, Any]:
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"reading the PyTorch checkpoint {str(path)!r} needs torch (pip install torch); "
            "or save it as safetensors in PyTorch with "
            "safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
        ) from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise InvalidFileError(
            f"{str(path)!r} is not a PyTorch checkpoint that torch.load(weights_only=True) "
            f"reads ({type(e).__name__}: {first})"
        ) from None
    return _unwrap_state(obj, str(path), InvalidFileError)


def _unwrap_state(obj: Any, where: str, error: type[ValueError] = ValueError) -> Mapping[str, Any]:
    """The state dict inside a checkpoint: the mapping itself, or a common nesting of it.

    ``error`` is raised when there is none (``InvalidFileError`` for a file).
    """
    if not isinstance(obj, Mapping):
        raise error(f"{where}: expected a state dict (a mapping), got {type(obj).__name__}")

    def is_state(m: Mapping[str, Any]) -> bool:
        return all(isinstance(k, str) and hasattr(v, "shape") for k, v in m.items())

    if is_state(obj):
        return obj
    for key in ("state_dict", "model_state_dict", "model"):
        inner = obj.get(key)
        if isinstance(inner, Mapping) and is_state(inner):
            return inner
    raise error(
        f"{where}: not a state dict and no state dict found under 'state_dict', "
        f"'model_state_dict' or 'model'; top-level keys: {', '.join(map(str, list(obj)[:10]))}"
    )


def load_into(
    model: Module, path_or_state: PathLike | Mapping[str, Any], strict: bool = True
) -> LoadReport:
    """Load a checkpoint into ``model`` by PyTorch key name, reporting every problem at once.

    ``path_or_state`` may be a ``.safetensors`` file, a PyTorch ``.pt``/``.pth`` file (read with
    ``torch.load(weights_only=True)``, which refuses arbitrary pickled objects; torch must be
    installed), or a mapping such as ``torch_model.state_dict()``.

    Nothing in the model changes unless the whole load succeeds.

    Args:
        model: the glassnet model to fill.
        path_or_state: the checkpoint.
        strict: if True (default) missing and unexpected keys are errors; if False they are
            returned in the report and the matching keys load.

    Returns:
        A ``LoadReport`` (missing keys, unexpected keys, dtype conversions made).

    Raises:
        ValueError: listing every missing and unexpected key (strict only) and every value that
            does not fit (not an array, another shape or dtype kind, beyond the dtype's range;
            see ``glassnet.nn.module.check_state``), each with the expected dtype and shape.
        InvalidFileError: (a ``ValueError``) a damaged file, or one that holds no state dict.
        ImportError: a ``.pt``/``.pth`` file without torch installed.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load_into expected a glassnet Module, got {type(model).__name__}")
    if isinstance(path_or_state, Mapping):
        state: Mapping[str, Any] = _unwrap_state(path_or_state, "the given state")
        source = "the given state dict"
    else:
        p = Path(path_or_state)
        source = repr(str(p))
        if p.suffix in (".pt", ".pth", ".bin", ".ckpt"):
            if not p.is_file():
                raise FileNotFoundError(f"no such checkpoint file: {str(p)!r}")
            state = _torch_load(p)
        else:
            state = load(p)
    own = model._state_tensors()
    check = check_state(own, state)
    problems = check.problems(strict)
    if problems:
        who = type(model).__name__
        raise ValueError(f"cannot load {source} into {who}: " + " | ".join(problems))
    model.load_state_dict(check.arrays, strict=False)
    return LoadReport(check.missing, check.unexpected, check.converted)
