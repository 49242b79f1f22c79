"""Readers for the user files the ``glassnet`` command takes: image ``.npz``, image folders,
CSV columns and text files.

Each either returns finite arrays of the documented dtype or raises ``InvalidFileError`` (a
``ValueError``) whose one-line message starts with the file and says what was expected: a file
that is not the container it claims (not a zip archive, a damaged member, a lying array header),
the wrong dtype kind (complex, bool, strings, objects where numbers are meant), the wrong number
of dimensions, NaN or infinite values, labels that are not class indices. A missing file is a
``FileNotFoundError``. Nothing is ever unpickled.
"""

from __future__ import annotations

import csv
import io
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from .validate import InvalidFileError, check_array, check_labels, to_float32

PathLike = str | os.PathLike[str]

MAX_CLASSES = 10_000  # labels are class indices below this: one logit (and name) per class
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive
# Everything the zip and zlib readers raise for a damaged archive: BadZipFile (bad CRC, bad
# headers), EOFError and zlib.error (truncated or corrupt compressed data), NotImplementedError
# (an unknown compression method), RuntimeError (an encrypted member), OSError, ValueError.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
)


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:160]}" if text else type(e).__name__


def _existing_file(path: PathLike, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} {str(p)!r} does not exist or is not a file")
    return p


# ----------------------------------------------------------------------------- .npz
def _read_npy(fp: IO[bytes], where: str, name: str) -> np.ndarray:
    """One ``.npy`` member, its array header checked against the bytes that follow it."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:  # 3.0 only exists for structured dtypes with non-Latin-1 field names
        raise InvalidFileError(f"{where}: {name!r} is a .npy of version {version}, not an array")
    if dtype.hasobject:
        raise InvalidFileError(
            f"{where}: {name!r} holds Python objects (pickled data), which glassnet never "
            "unpickles; save numeric arrays"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    data = fp.read()  # what the member holds: a shape with a flipped digit allocates nothing
    if len(data) != nbytes:
        raise InvalidFileError(
            f"{where}: {name!r} is damaged: its header declares shape {shape} of {dtype} "
            f"({nbytes} bytes) but {len(data)} bytes of data follow it"
        )
    if dtype.itemsize == 0:
        return np.zeros(shape, dtype)
    flat = np.frombuffer(data, dtype)
    return flat.reshape(shape, order="F") if fortran else flat.reshape(shape)


def read_npz(path: PathLike, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of an ``.npz`` file (``np.savez``), read without unpickling.

    Raises:
        FileNotFoundError: no such file.
        InvalidFileError: not a zip archive (or a single ``.npy``), a damaged archive or member,
            an array header that disagrees with the member's size, object arrays, or a missing
            name (the message lists those present).
    """
    p = _existing_file(path, "the .npz file")
    where = str(p)
    with open(p, "rb") as f:
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        raise InvalidFileError(
            f"{where} is a single .npy array, not an .npz archive; save with "
            f"np.savez(path, {', '.join(f'{n}=...' for n in names)})"
        )
    if not head.startswith(_ZIP_MAGICS):
        raise InvalidFileError(
            f"{where} is not an .npz file (a zip archive of .npy arrays): it starts with bytes "
            f"{head[:4].hex() or '(none: the file is empty)'}"
        )
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(p) as zf:
            members: dict[str, zipfile.ZipInfo] = {}
            for info in zf.infolist():  # np.load finds 'x' as 'x.npy' or 'x'
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                members.setdefault(key, info)
            missing = [n for n in names if n not in members]
            if missing:
                found = sorted(k for k in members if not k.endswith("/"))[:10]
                raise InvalidFileError(
                    f"{where}: missing array(s) {missing}; the archive holds {found}"
                )
            for n in names:
                with zf.open(members[n]) as fp:
                    out[n] = _read_npy(fp, where, n)
    except InvalidFileError:
        raise
    except _ZIP_ERRORS as e:
        raise InvalidFileError(f"{where}: not a readable .npz archive ({_first_line(e)})") from None
    return out


def read_image_npz(path: PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Labelled images from an ``.npz`` with arrays ``images`` and ``labels``.

    ``images`` (N, H, W) or (N, C, H, W) of real numbers (integers or floats; never bool or
    complex), finite and within float32's range; ``labels`` (N,) integer class indices in
    ``[0, MAX_CLASSES)``. Images whose maximum exceeds 1 are divided by it.

    Returns:
        ``(images, labels, class_names)``: images float32 finite (the stored rank), labels
        int64, class names ``'0'``, ``'1'``, ... up to the largest label.
    """
    arrays = read_npz(path, ("images", "labels"))
    where = str(path)
    images = check_array(arrays["images"], where, "images", kinds="iuf", ndim=(3, 4))
    labels = check_labels(arrays["labels"], where, count=images.shape[0], num_classes=MAX_CLASSES)
    out = to_float32(images, where, "images")
    top = float(out.max())
    if top > 1.0:
        out /= np.float32(top)
    return out, labels, [str(c) for c in range(int(labels.max()) + 1)]


# ----------------------------------------------------------------------------- image folder
def _grey(img: np.ndarray, f: Path) -> np.ndarray:
    """A decoded image as float32 grey levels in [0, 1], (H, W)."""
    if img.dtype.kind == "u":
        img = img.astype(np.float32) / np.float32(np.iinfo(img.dtype).max)
    img = check_array(img, str(f), "image", kinds="f", ndim=(2, 3)).astype(np.float32)
    if img.ndim == 3:
        channels = img.shape[2]
        if channels in (1, 2):  # grey (and alpha, ignored)
            img = img[..., 0]
        elif channels in (3, 4):  # RGB (and alpha, ignored)
            img = img[..., :3].mean(axis=2)
        else:
            raise InvalidFileError(f"{f}: an image of {channels} channels (expected 1 to 4)")
    return img


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")  # .ipynb_checkpoints, macOS ._* resource files


def read_image_folder(path: PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images in one sub-folder per class (``root/cats/1.png``, ``root/dogs/7.jpg``).

    Classes are the visible sub-folders in sorted order (hidden ones, such as
    ``.ipynb_checkpoints``, are skipped), each holding at least one image
    (``.png .jpg .jpeg .bmp .gif``). Colour images are averaged to grey; alpha is ignored.

    Returns:
        ``(images, labels, class_names)``: images (N, H, W) float32 in [0, 1], labels (N,) int64.

    Raises:
        FileNotFoundError: no such folder.
        InvalidFileError: no class folders, an empty class folder, an unreadable image (naming
            it), or images of different sizes.
    """
    import matplotlib.image as mpimg

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"the image folder {str(root)!r} does not exist")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and _visible(p))
    if not classes:
        raise InvalidFileError(f"{root}: expected one sub-folder of images per class, found none")
    if len(classes) > MAX_CLASSES:
        raise InvalidFileError(f"{root}: {len(classes)} class folders, more than {MAX_CLASSES}")
    images, labels, empty = [], [], []
    for c, name in enumerate(classes):
        files = sorted(
            p
            for p in (root / name).iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and _visible(p) and p.is_file()
        )
        if not files:
            empty.append(name)
        for f in files:
            try:
                decoded = np.asarray(mpimg.imread(f))
            except Exception as e:  # Pillow raises many types (OSError, SyntaxError, ...)
                raise InvalidFileError(f"{f}: cannot read the image ({_first_line(e)})") from None
            images.append(_grey(decoded, f))
            labels.append(c)
    if empty:
        raise InvalidFileError(
            f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in the class folder(s) {empty[:5]}"
        )
    shapes = sorted({im.shape for im in images})
    if len(shapes) != 1:
        raise InvalidFileError(f"{root}: all images must have the same size, found {shapes[:3]}")
    return np.stack(images), np.array(labels, np.int64), classes


# ----------------------------------------------------------------------------- CSV
def read_csv_column(path: PathLike, column: str, *, min_values: int = 1) -> np.ndarray:
    """The numbers in one column of a CSV file with a header row (UTF-8, a BOM is fine).

    Returns:
        float64 (T,), every value finite, at least ``min_values`` of them.

    Raises:
        FileNotFoundError: no such file.
        InvalidFileError: not UTF-8 text, no such column (listing those present), an empty,
            non-numeric or non-finite value (naming the line), a malformed CSV line, or fewer
            than ``min_values`` values.
    """
    p = _existing_file(path, "the CSV file")
    text = _decode(p, "CSV")
    values = []
    lineno = 1
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = reader.fieldnames
        if not fields or column not in fields:
            raise InvalidFileError(f"{p}: no column {column!r}; the columns are {fields or []}")
        for row in reader:
            lineno = reader.line_num
            cell = row.get(column)
            cell = cell.strip() if isinstance(cell, str) else ""
            if cell == "":
                raise InvalidFileError(f"{p}:{lineno}: empty value in column {column!r}")
            try:
                v = float(cell)
            except ValueError:
                raise InvalidFileError(
                    f"{p}:{lineno}: non-numeric value {cell[:40]!r} in column {column!r}"
                ) from None
            if not math.isfinite(v):
                raise InvalidFileError(
                    f"{p}:{lineno}: value {cell[:40]!r} in column {column!r} is not finite"
                )
            values.append(v)
    except csv.Error as e:
        raise InvalidFileError(f"{p}: malformed CSV after line {lineno} ({e})") from None
    if len(values) < min_values:
        raise InvalidFileError(
            f"{p}: column {column!r} has {len(values)} values; need at least {min_values}"
        )
    return np.array(values, dtype=np.float64)


# ----------------------------------------------------------------------------- text
def _decode(p: Path, what: str) -> str:
    raw = p.read_bytes()
    nul = raw.find(b"\0")
    if nul >= 0:
        raise InvalidFileError(
            f"{p}: a binary file (it holds NUL bytes, the first at byte {nul}), not {what} text"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidFileError(
            f"{p}: not UTF-8 {what} text (byte 0x{raw[e.start]:02x} at position {e.start} is "
            "invalid)"
        ) from None


def read_text_file(path: PathLike) -> str:
    """A UTF-8 text (a leading BOM is dropped) that is not blank and holds no NUL bytes.

    Raises:
        FileNotFoundError: no such file.
        InvalidFileError: a binary file, not UTF-8, or empty / only whitespace.
    """
    p = _existing_file(path, "the text file")
    text = _decode(p, "plain")
    if not text.strip():
        raise InvalidFileError(f"{p}: the text file is empty (or only whitespace)")
    return text
