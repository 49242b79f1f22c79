"""Safe checkpoints: nested training state in one safetensors file, written atomically.

A checkpoint holds any nested structure of dicts, lists, numbers, strings and arrays (model and
optimizer ``state_dict``s, scheduler state, random-generator states, config, progress). Arrays go
into the safetensors tensor section; the structure around them is JSON in the safetensors header
metadata. Nothing is ever unpickled: loading parses JSON and raw little-endian arrays only, so a
checkpoint cannot execute code.

Integrity: the header metadata holds a SHA-256 of the *whole file* (the 8-byte length, the JSON
header with the structure and config, and every tensor byte), computed with the 64 hex digits of
the checksum itself written as zeros. A flipped byte anywhere, or an edited value in the JSON
state (a learning rate, a config entry), fails the check. The checksum guards against damage and
accidental edits, not against someone who recomputes it: loading therefore also bounds nesting,
validates every structural entry and raises ``CheckpointError`` (one line) for anything malformed,
never another exception. Format 1 (glassnet 0.1.0 before this change, whose checksum covered the
tensors only) is refused with a message saying so.

The file is self-contained and replaced atomically (temp file + rename): an interrupted save leaves
the previous checkpoint intact. A small human-readable JSON summary is written beside it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes, atomic_write_text
from ..autograd.tensor import Tensor
from ..data.validate import InvalidFileError
from ..io.weights import _DTYPES, header_length, parse_header

FORMAT = "glassnet-checkpoint"
VERSION = "2"
MAX_DEPTH = 64  # nesting of dicts/lists in a state; training states need about 6
_CHECKSUM = "sha256"
_ZEROS = "0" * 64
_NAMES = {dt: name for name, dt in _DTYPES.items()}


class CheckpointError(InvalidFileError):
    """A checkpoint file is missing, truncated, modified or not a glassnet checkpoint."""


def check_finite(tree: Any, part: str) -> None:
    """Refuse NaN/inf in the floating arrays of a checkpoint's ``part`` (model, optimizer).

    The trainer never writes a non-finite parameter or optimizer buffer, so a checkpoint that
    holds one was crafted or damaged beneath a recomputed checksum; loading it would only give
    NaN outputs.

    Raises:
        CheckpointError: naming the first keys that hold NaN/inf.
    """
    bad: list[str] = []

    def visit(node: Any, key: str) -> None:
        if isinstance(node, np.ndarray):
            if node.dtype.kind == "f" and not np.isfinite(node).all():
                bad.append(key)
        elif isinstance(node, dict):
            for k, v in node.items():
                visit(v, f"{key}.{k}" if key else str(k))
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                visit(v, f"{key}.{i}" if key else str(i))

    visit(tree, "")
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise CheckpointError(
            f"the {part} entries {', '.join(bad[:3])}{more} hold NaN/inf, which glassnet never "
            "saves: the file was crafted or damaged"
        )


# ----------------------------------------------------------------------------- structure
def _encode(obj: Any, key: str, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """Replace arrays by references into ``arrays``; tag containers so decoding is unambiguous."""
    if depth > MAX_DEPTH:
        raise ValueError(f"cannot checkpoint {key!r}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        le = obj.dtype.newbyteorder("<")
        if le not in _NAMES:
            raise TypeError(f"cannot checkpoint array {key!r} of dtype {obj.dtype}")
        name = key if key not in arrays else f"{key}#{len(arrays)}"  # "a/b" vs "a" -> "b"
        # np.require keeps 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)
        arrays[name] = np.require(obj.astype(le, copy=False), requirements="C")
        return {"__array__": name}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {
            "__items__": [
                [_encode_key(k), _encode(v, f"{key}/{k}", arrays, depth + 1)]
                for k, v in obj.items()
            ]
        }
    if isinstance(obj, (list, tuple)):
        tag = "__list__" if isinstance(obj, list) else "__tuple__"
        return {tag: [_encode(v, f"{key}/{i}", arrays, depth + 1) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint {key!r} of type {type(obj).__name__}")


def _encode_key(k: Any) -> Any:
    if isinstance(k, (str, int)) and not isinstance(k, bool):
        return k
    raise TypeError(f"checkpoint dict keys must be str or int, got {type(k).__name__}")


def _decode(obj: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """The inverse of ``_encode``; anything ``_encode`` cannot have written is a CheckpointError."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"the state is nested deeper than {MAX_DEPTH} levels")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if not isinstance(obj, dict) or len(obj) != 1:
        raise CheckpointError(f"unexpected entry in the state structure: {_show(obj)}")
    ((tag, value),) = obj.items()
    if tag == "__array__":
        if not isinstance(value, str) or value not in arrays:
            raise CheckpointError(f"the state refers to a missing array {_show(value)}")
        return arrays[value]
    if not isinstance(value, list):
        raise CheckpointError(f"unexpected entry in the state structure: {_show(obj)}")
    if tag == "__list__":
        return [_decode(v, arrays, depth + 1) for v in value]
    if tag == "__tuple__":
        return tuple(_decode(v, arrays, depth + 1) for v in value)
    if tag == "__items__":
        out = {}
        for item in value:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or isinstance(item[0], bool)
                or not isinstance(item[0], (str, int))
            ):
                raise CheckpointError(f"unexpected dict item in the state structure: {_show(item)}")
            out[item[0]] = _decode(item[1], arrays, depth + 1)
        return out
    raise CheckpointError(f"unexpected entry in the state structure: {_show(obj)}")


def _show(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------- bytes
def _serialize(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """A safetensors file whose metadata checksum covers every byte of it."""
    header: dict[str, Any] = {}
    chunks = []
    offset = 0
    for key in sorted(arrays):
        a = arrays[key]
        chunks.append(a.tobytes())
        header[key] = {
            "dtype": _NAMES[a.dtype],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    header["__metadata__"] = {**metadata, _CHECKSUM: _ZEROS}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # tensor data starts 8-byte aligned, as safetensors writes it
    blob = bytearray(struct.pack("<Q", len(raw)) + raw + b"".join(chunks))
    field = _field(_ZEROS)
    at = raw.index(field)
    assert raw.count(field) == 1, "the checksum placeholder must be unique"
    start = 8 + at + len(field) - 65  # the 64 digits, before the closing quote
    blob[start : start + 64] = hashlib.sha256(blob).hexdigest().encode()
    return bytes(blob)


def _field(digest: str) -> bytes:
    return f'"{_CHECKSUM}":"{digest}"'.encode()


def _verify(data: bytes, n: int, meta: dict[str, str], where: str) -> None:
    """Check the whole-file checksum (see the module docstring)."""
    digest = meta.get(_CHECKSUM, "")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise CheckpointError(f"{where} has no valid checksum: the file was modified")
    field = _field(digest)
    head = data[8 : 8 + n]
    if head.count(field) != 1:
        raise CheckpointError(f"{where} failed its checksum: the file was modified or corrupted")
    start = 8 + head.index(field) + len(field) - 65
    h = hashlib.sha256()
    view = memoryview(data)
    h.update(view[:start])
    h.update(_ZEROS.encode())
    h.update(view[start + 64 :])
    if h.hexdigest() != digest:
        raise CheckpointError(f"{where} failed its checksum: the file was modified or corrupted")


def _array(data: bytes, start: int, entry: dict[str, Any], key: str, where: str) -> np.ndarray:
    dtype = _DTYPES.get(entry["dtype"])
    if dtype is None:
        raise CheckpointError(f"{where}: array {key!r} has dtype {entry['dtype']}, never written")
    shape = tuple(entry["shape"])
    count = math.prod(shape)
    if count == 0:
        return np.zeros(shape, dtype.newbyteorder("="))
    flat = np.frombuffer(data, dtype, count=count, offset=start + entry["data_offsets"][0])
    return flat.reshape(shape).astype(dtype.newbyteorder("="))  # a writable native copy


# ----------------------------------------------------------------------------- public
def save_state(
    path: str | os.PathLike[str], state: dict[str, Any], summary: dict[str, Any] | None = None
) -> Path:
    """Write ``state`` to ``path`` (safetensors) atomically; ``summary`` goes to ``path``.json.

    Returns:
        The checkpoint path.
    """
    arrays: dict[str, np.ndarray] = {}
    skeleton = _encode(state, "", arrays)
    metadata = {"format": FORMAT, "version": VERSION, "state": json.dumps(skeleton)}
    target = atomic_write_bytes(path, _serialize(arrays, metadata))
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


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by ``save_state``, validating checksum and structure.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IsADirectoryError: ``path`` is a directory.
        CheckpointError: anything else wrong with the file, in one line.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"checkpoint {p} does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"checkpoint path {p} is a directory, expected a file")
    return parse_state(p.read_bytes(), str(p))


def parse_state(data: bytes, where: str) -> dict[str, Any]:
    """The state in the bytes of a checkpoint file (``where`` names it in messages)."""
    p = where
    if data[:4] == b"PK\x03\x04":  # torch.save (and .npz) files are zip archives
        raise CheckpointError(
            f"{p} is a zip archive (torch.save and np.savez write these), not a glassnet "
            "checkpoint (safetensors); load PyTorch weights into a model with "
            "glassnet.io.load_into"
        )
    try:
        n = header_length(data[:8], len(data), where)
        header, meta = parse_header(data[8 : 8 + n], len(data), where)
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{p} is a safetensors file but not a glassnet checkpoint (format "
            f"{meta.get('format')!r}); to load plain weights use glassnet.io.load"
        )
    if meta.get("version") == "1":
        raise CheckpointError(
            f"{p} is a glassnet checkpoint of format 1, which is no longer read: its checksum "
            "covered the tensors only; retrain, or read its arrays with glassnet.io.load"
        )
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{p} has checkpoint version {meta.get('version')!r}, expected {VERSION}"
        )
    _verify(data, n, meta, where)
    arrays = {k: _array(data, 8 + n, entry, k, where) for k, entry in header.items()}
    try:
        skeleton = json.loads(meta["state"])
    except KeyError:
        raise CheckpointError(f"{p} has no state section") from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{p} has an unreadable state section: {type(e).__name__}") from None
    try:
        state = _decode(skeleton, arrays)
    except CheckpointError as e:
        raise CheckpointError(f"{p}: {e}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{p} does not hold a state dictionary")
    return state


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A JSON-serialisable snapshot of a NumPy generator."""
    return dict(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Restore a generator snapshot taken by ``rng_state``."""
    name = type(rng.bit_generator).__name__
    if not isinstance(state, dict) or state.get("bit_generator") != name:
        got = state.get("bit_generator") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"random state is for {got!r}, the generator is {name!r}")
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:  # -1 for a uint64
        raise CheckpointError(f"invalid {name} random state: {type(e).__name__}: {e}") from None
