"""Downloads into a cache directory with checksum verification; MNIST and Fashion-MNIST.

The cache is ``$GLASSNET_CACHE`` if set, else ``~/.cache/glassnet``. Each dataset has its own
folder (``mnist/``, ``fashion_mnist/``) holding the original ``.gz`` files; they are verified
against their published MD5 checksums, written atomically (temporary file, then rename), and
decompressed when read. Offline, place the four files in that folder by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..progress import as_progress
from .idx import read_idx
from .validate import check_array, check_labels

# The opener used for every download; tests replace it to simulate being offline.
_urlopen = urllib.request.urlopen

_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A file could not be downloaded from any mirror (offline, HTTP error, bad checksum)."""


class ChecksumError(DownloadError):
    """A file's checksum does not match the published one."""


def cache_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``root``, else ``$GLASSNET_CACHE``, else ``~/.cache/glassnet``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("GLASSNET_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "glassnet"


def file_digest(path: str | os.PathLike[str], algorithm: str = "md5") -> str:
    """Hex digest of a file (``'md5'`` or ``'sha256'``), read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _length(response: Any) -> int | None:
    """The Content-Length of an HTTP response, if it sent one."""
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def download_file(
    urls: list[str] | str,
    dest: str | os.PathLike[str],
    *,
    md5: str | None = None,
    sha256: str | None = None,
    timeout: float = 60.0,
    progress: Any = True,
) -> Path:
    """Download the first mirror that works to ``dest``, verifying its checksum.

    The bytes go to a temporary file beside ``dest`` and are renamed into place only after the
    checksum matched, so ``dest`` is never a partial or corrupt file.

    Args:
        urls: one URL or mirrors tried in order.
        dest: the final path.
        md5, sha256: the expected hex digest (at least one should be given).
        timeout: seconds per connection attempt.
        progress: report the bytes received (``glassnet.progress``: a bar on a terminal or in
            Jupyter, a line every 10 s and one at the end in a pipe or log); ``False`` is
            silent, a ``Progress`` chooses the stream and interval.

    Raises:
        DownloadError: every mirror failed; the message lists each URL with its reason and says
            where to place the file by hand.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    mirrors = [urls] if isinstance(urls, str) else list(urls)
    report = as_progress(progress)
    failures: list[str] = []
    for url in mirrors:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        try:
            h_md5 = hashlib.md5(usedforsecurity=False)
            h_sha = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=timeout) as response:
                with report.task(_length(response), f"downloading {dest.name}", bytes=True) as t:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        out.write(chunk)
                        h_md5.update(chunk)
                        h_sha.update(chunk)
                        t.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            for algo, want, h in (("MD5", md5, h_md5), ("SHA-256", sha256, h_sha)):
                if want is not None and h.hexdigest() != want.lower():
                    raise ChecksumError(
                        f"{algo} checksum mismatch: expected {want}, got {h.hexdigest()}"
                    )
            os.replace(tmp, dest)
            return dest
        except (OSError, http.client.HTTPException, ValueError, DownloadError) as exc:
            # URLError, HTTPError and socket timeouts are OSErrors; urlopen raises ValueError
            # for malformed URLs.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            failures.append(f"  {url}: {type(exc).__name__}: {reason}")
        finally:
            Path(tmp).unlink(missing_ok=True)
    checksum = f"MD5 {md5}" if md5 else f"SHA-256 {sha256}" if sha256 else "no checksum"
    raise DownloadError(
        f"could not download {dest.name}; tried:\n" + "\n".join(failures) + "\n"
        f"If you are offline, download the file elsewhere and place it at {dest} "
        f"(expected {checksum})."
    )


@dataclass(frozen=True)
class _IdxSet:
    name: str
    folder: str
    mirrors: tuple[str, ...]
    md5: dict[str, str]


# MD5 checksums of the gzip files as published by the dataset authors and used by torchvision.
MNIST_SOURCE = _IdxSet(
    name="MNIST",
    folder="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    md5={
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
)
FASHION_MNIST_SOURCE = _IdxSet(
    name="Fashion-MNIST",
    folder="fashion_mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
)

NUM_CLASSES = 10  # MNIST digits and Fashion-MNIST articles alike
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class ImageSet(NamedTuple):
    """Labelled images: ``images`` (N, H, W) and ``labels`` (N,) int64."""

    images: np.ndarray
    labels: np.ndarray


def _fetch(src: _IdxSet, filename: str, folder: Path, download: bool) -> Path:
    """Path of a verified copy of ``filename`` in ``folder``, downloading it if allowed."""
    gz = folder / filename
    raw = folder / filename[: -len(".gz")]
    want = src.md5[filename]
    if gz.is_file():
        got = file_digest(gz, "md5")
        if got == want:
            return gz
        if not download:
            raise ChecksumError(
                f"{src.name} file {gz} has MD5 {got}, expected {want}: it is corrupt or a "
                "different file. Delete it, or call with download=True to fetch it again."
            )
    elif raw.is_file():
        return raw  # decompressed by the user; read_idx validates its structure
    elif not download:
        raise FileNotFoundError(
            f"{src.name} file {filename} not found in {folder}. Call with download=True, or "
            f"download it from {src.mirrors[0]}{filename} and place it there "
            f"(MD5 {want})."
        )
    return download_file([m + filename for m in src.mirrors], gz, md5=want)


def _load_idx_set(
    src: _IdxSet, root: Any, train: bool, download: bool, normalize: bool
) -> ImageSet:
    folder = cache_dir(root) / src.folder
    prefix = "train" if train else "t10k"
    images_file = _fetch(src, f"{prefix}-images-idx3-ubyte.gz", folder, download)
    labels_file = _fetch(src, f"{prefix}-labels-idx1-ubyte.gz", folder, download)
    images = check_array(
        read_idx(images_file), str(images_file), "images", kinds="u", ndim=3
    )  # uint8: the only unsigned IDX type
    labels = check_labels(
        read_idx(labels_file), str(labels_file), count=images.shape[0], num_classes=NUM_CLASSES
    )
    imgs: np.ndarray = (images.astype(np.float32) / 255.0) if normalize else images
    return ImageSet(imgs, labels)


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    train: bool = True,
    download: bool = True,
    *,
    normalize: bool = False,
) -> ImageSet:
    """MNIST handwritten digits (60,000 training / 10,000 test images, 28x28, 10 classes).

    Args:
        root: the cache directory (files go in ``root/mnist/``); ``None`` means
            ``$GLASSNET_CACHE`` or ``~/.cache/glassnet``.
        train: the training set (True) or the test set.
        download: fetch missing files from the mirrors (checksum-verified). If ``False``, or if
            the machine is offline, place ``train-images-idx3-ubyte.gz`` etc. in the folder by
            hand (the gzip files, or their decompressed versions).
        normalize: images as float32 in [0, 1] instead of uint8 0..255.

    Returns:
        ``ImageSet(images, labels)``: images (N, 28, 28) uint8 (or float32), labels (N,) int64.

    Raises:
        DownloadError: offline or every mirror failed (the message says where to put the files).
        ChecksumError: a cached file is corrupt and ``download=False``.
        FileNotFoundError: a file is missing and ``download=False``.
        InvalidFileError: a file (checksum-verified or placed by hand) is not valid IDX
            (``IDXError``), its images are not uint8 (N, H, W), or its labels are not N class
            indices in [0, 10).
    """
    return _load_idx_set(MNIST_SOURCE, root, train, download, normalize)


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None,
    train: bool = True,
    download: bool = True,
    *,
    normalize: bool = False,
) -> ImageSet:
    """Fashion-MNIST (Zalando article images; same sizes and format as MNIST).

    Files go in ``root/fashion_mnist/``; class names are in ``FASHION_MNIST_CLASSES``. Arguments,
    return value and errors as ``load_mnist``.
    """
    return _load_idx_set(FASHION_MNIST_SOURCE, root, train, download, normalize)
