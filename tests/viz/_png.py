"""Reading back the PNGs the figure functions write: signature, size, pixels, colour runs."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG: starts with {data[:8]!r}"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def pixels(path: Path) -> np.ndarray:
    """RGB pixels as uint8, shape (H, W, 3)."""
    from matplotlib.image import imread

    img = imread(path)  # float32 in [0, 1] for PNG
    return np.round(img[..., :3] * 255).astype(np.int16)


def mask(img: np.ndarray, rgb: tuple[float, ...], tol: int = 3) -> np.ndarray:
    """Pixels within ``tol`` (0-255 units, per channel) of the colour ``rgb`` in [0, 1]."""
    target = np.round(np.asarray(rgb[:3]) * 255).astype(np.int16)
    return np.all(np.abs(img - target) <= tol, axis=-1)


def count(img: np.ndarray, rgb: tuple[float, ...], tol: int = 3) -> int:
    return int(mask(img, rgb, tol).sum())


def runs(line: np.ndarray, min_len: int = 8) -> int:
    """Number of runs of True at least ``min_len`` long (shorter ones are text strokes)."""
    padded = np.concatenate([[False], line, [False]]).astype(np.int8)
    starts = np.flatnonzero(np.diff(padded) == 1)
    ends = np.flatnonzero(np.diff(padded) == -1)
    return int(np.sum(ends - starts >= min_len))


def grid_of(m: np.ndarray) -> tuple[int, int]:
    """(rows, cols) of rectangular blocks in a boolean mask, read along the fullest row/column."""
    return runs(m[:, int(np.argmax(m.sum(0)))]), runs(m[int(np.argmax(m.sum(1)))])
