"""Safe checkpoints: nested training state in one safetensors file, written atomically.

A checkpoint holds any nested structure of dicts, lists, numbers, strings and arrays (model and
optimizer ``state_dict``s, scheduler state, random-generator states, config, progress). Arrays go
into the safetensors tensor section; the structure around them is JSON in the safetensors header
metadata, together with a SHA-256 of the tensor bytes. Nothing is ever unpickled: loading parses
JSON and raw little-endian arrays only, so a checkpoint cannot execute code.

The file is self-contained and replaced atomically (temp file + rename): an interrupted save leaves
the previous checkpoint intact. A small human-readable JSON summary is written beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes, atomic_write_text
from ..autograd.tensor import Tensor

FORMAT = "glassnet-checkpoint"
VERSION = "1"


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, modified or not a glassnet checkpoint."""


def _encode(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """Replace arrays by references into ``arrays``; tag containers so decoding is unambiguous."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"cannot checkpoint array {key!r} of dtype {obj.dtype}")
        arrays[key] = np.ascontiguousarray(obj)
        return {"__array__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {
            "__items__": [
                [_encode_key(k), _encode(v, f"{key}/{k}", arrays)] for k, v in obj.items()
            ]
        }
    if isinstance(obj, (list, tuple)):
        tag = "__list__" if isinstance(obj, list) else "__tuple__"
        return {tag: [_encode(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint {key!r} of type {type(obj).__name__}")


def _encode_key(k: Any) -> Any:
    if isinstance(k, (str, int)) and not isinstance(k, bool):
        return k
    raise TypeError(f"checkpoint dict keys must be str or int, got {type(k).__name__}")


def _decode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, dict):
        if "__array__" in obj:
            key = obj["__array__"]
            if key not in arrays:
                raise CheckpointError(f"checkpoint refers to a missing array {key!r}")
            return arrays[key]
        if "__items__" in obj:
            return {k: _decode(v, arrays) for k, v in obj["__items__"]}
        if "__list__" in obj:
            return [_decode(v, arrays) for v in obj["__list__"]]
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        raise CheckpointError(f"unexpected entry in checkpoint structure: {sorted(obj)}")
    return obj


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = arrays[k]
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_state(
    path: str | os.PathLike[str], state: dict[str, Any], summary: dict[str, Any] | None = None
) -> Path:
    """Write ``state`` to ``path`` (safetensors) atomically; ``summary`` goes to ``path``.json.

    Returns:
        The checkpoint path.
    """
    from safetensors.numpy import save

    arrays: dict[str, np.ndarray] = {}
    skeleton = _encode(state, "", arrays)
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "state": json.dumps(skeleton),
        "sha256": _digest(arrays),
    }
    data = save(arrays, metadata=metadata) if arrays else _empty_safetensors(metadata)
    target = atomic_write_bytes(path, data)
    if summary is not None:
        atomic_write_text(
            Path(str(target) + ".json"), json.dumps(summary, indent=2, default=_json_default) + "\n"
        )
    return target


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _empty_safetensors(metadata: dict[str, str]) -> bytes:
    header = json.dumps({"__metadata__": metadata}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header


def _read_header(data: bytes, path: Path) -> dict[str, Any]:
    if len(data) < 8:
        raise CheckpointError(f"{path} is not a glassnet checkpoint: only {len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n > 100_000_000:
        raise CheckpointError(
            f"{path} is truncated or not a safetensors file: header of {n} bytes announced, "
            f"{len(data) - 8} bytes present"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(
            f"{path} is not a safetensors file (unreadable header: {e})"
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a safetensors file (header is not an object)")
    end = 8 + n
    for key, info in header.items():
        if key == "__metadata__":
            continue
        stop = info.get("data_offsets", (0, 0))[1] if isinstance(info, dict) else 0
        if end + stop > len(data):
            raise CheckpointError(
                f"{path} is truncated: tensor {key!r} ends at byte {end + stop}, "
                f"the file has {len(data)}"
            )
    return header


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by ``save_state``, validating structure and checksum."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"checkpoint {p} does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"checkpoint path {p} is a directory, expected a file")
    data = p.read_bytes()
    header = _read_header(data, p)
    meta = header.get("__metadata__") or {}
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{p} is a safetensors file but not a glassnet checkpoint (format "
            f"{meta.get('format')!r}); to load plain weights use glassnet.io.load"
        )
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{p} has checkpoint version {meta.get('version')!r}, expected {VERSION}"
        )
    try:
        arrays = load(data) if len(header) > 1 else {}
    except SafetensorError as e:
        raise CheckpointError(f"{p} is corrupted: {e}") from None
    if _digest(arrays) != meta.get("sha256"):
        raise CheckpointError(f"{p} failed its checksum: the file was modified or corrupted")
    try:
        skeleton = json.loads(meta["state"])
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{p} has an unreadable state section: {e}") from None
    state = _decode(skeleton, arrays)
    if not isinstance(state, dict):
        raise CheckpointError(f"{p} does not hold a state dictionary")
    return state


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A JSON-serialisable snapshot of a NumPy generator."""
    return dict(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Restore a generator snapshot taken by ``rng_state``."""
    name = type(rng.bit_generator).__name__
    if state.get("bit_generator") != name:
        raise CheckpointError(
            f"random state is for {state.get('bit_generator')!r}, the generator is {name!r}"
        )
    rng.bit_generator.state = state
