"""The IDX file format of MNIST and Fashion-MNIST: ``read_idx`` and ``write_idx``.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimension sizes, then the values in C order, big-endian. ``<type>`` is 0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64. Files are often gzip-compressed.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from .validate import InvalidFileError

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(InvalidFileError):
    """A file is not a valid IDX file (wrong magic number, unknown type, truncated, ...)."""


def _load_bytes(source: Any) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw, name = bytes(source), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"read_idx: no such file {str(path)!r}") from None
        name = str(path)
    else:
        raise TypeError(f"read_idx expected a path or bytes, got {type(source).__name__}")
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise IDXError(f"{name}: corrupt or truncated gzip data ({exc})") from None
    return raw, name


def read_idx(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a native-endian NumPy array.

    Args:
        source: a path, or the file's bytes. Gzip data is recognised by its magic bytes.

    Raises:
        IDXError: (a ``ValueError``) wrong magic number, unknown type code, zero dimensions,
            a header or data section shorter than declared (truncated), or trailing bytes.

    >>> header = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3])  # uint8, 2 dims: 2 x 3
    >>> a = read_idx(header + bytes(range(6)))
    >>> a.shape, a.dtype, a[1].tolist()
    ((2, 3), dtype('uint8'), [3, 4, 5])
    """
    raw, name = _load_bytes(source)
    if len(raw) < 4:
        raise IDXError(f"{name}: too short for an IDX header ({len(raw)} bytes, need at least 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXError(
            f"{name}: wrong magic number 0x{raw[:4].hex()}; an IDX file starts with two zero bytes "
            "(e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IDXError(f"{name}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXError(f"{name}: the IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(
            f"{name}: truncated header: {ndim} dimensions need {header} bytes, file has {len(raw)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: 255 dims of 2**32 cannot wrap
    got = len(raw) - header
    if got < expected:
        raise IDXError(
            f"{name}: truncated data: shape {dims} of {dtype.newbyteorder('=')} needs {expected} "
            f"bytes after the header, file has {got}"
        )
    if got > expected:
        raise IDXError(
            f"{name}: {got - expected} unexpected trailing bytes after the data of shape {dims}"
        )
    arr = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))  # a writable native-endian copy


def idx_bytes(array: Any) -> bytes:
    """The IDX encoding of ``array`` (uint8, int8, int16, int32, float32 or float64)."""
    a = np.asarray(array)
    native = a.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            f"idx_bytes cannot store dtype {a.dtype}; IDX holds uint8, int8, int16, int32, "
            "float32 and float64"
        )
    if a.ndim == 0 or a.ndim > 255:
        raise ValueError(f"idx_bytes expected 1 to 255 dimensions, got {a.ndim}")
    code = _CODES[native]
    head = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    return head + np.ascontiguousarray(a, IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: Any) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when ``path`` ends in ``.gz``), atomically.

    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte.gz")
    >>> write_idx(p, np.arange(4, dtype=np.uint8))
    >>> read_idx(p).tolist()
    [0, 1, 2, 3]
    """
    data = idx_bytes(array)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)
