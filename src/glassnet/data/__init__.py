"""Data: datasets and loaders, bundled data, time-series windows, text vocabularies.

- pipeline: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``,
  ``default_collate``;
- series: ``chronological_split``, ``Standardizer``, ``ar_windows``;
- bundled (offline): ``load_digits``, ``load_sunspots``, ``load_co2``, ``load_shakespeare``,
  and the generator ``noisy_sine``;
- downloaded (cached, checksum-verified): ``load_mnist``, ``load_fashion_mnist``; the IDX
  format: ``read_idx``, ``write_idx``;
- text: ``CharVocab``, ``sequential_batches``, ``sequential_streams``, ``random_batches``;
- user files (what the ``glassnet`` command reads): ``read_image_npz``, ``read_image_folder``,
  ``read_csv_column``, ``read_text_file``, ``read_npz``; each refuses what it cannot load
  faithfully with an ``InvalidFileError`` (a ``ValueError``, one line naming the file), as do
  ``read_idx`` (``IDXError``) and the MNIST loaders.

Sources and licences of the bundled files: ``docs/datasets.md``.
"""

from __future__ import annotations

from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import (
    CO2,
    NoisySine,
    Sunspots,
    load_co2,
    load_digits,
    load_shakespeare,
    load_sunspots,
    noisy_sine,
)
from .download import (
    FASHION_MNIST_CLASSES,
    ChecksumError,
    DownloadError,
    ImageSet,
    cache_dir,
    download_file,
    load_fashion_mnist,
    load_mnist,
)
from .files import read_csv_column, read_image_folder, read_image_npz, read_npz, read_text_file
from .idx import IDXError, read_idx, write_idx
from .series import Standardizer, ar_windows, chronological_split
from .text import CharVocab, random_batches, sequential_batches, sequential_streams
from .validate import InvalidFileError

__all__ = [
    "CO2",
    "FASHION_MNIST_CLASSES",
    "CharVocab",
    "ChecksumError",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "IDXError",
    "ImageSet",
    "InvalidFileError",
    "NoisySine",
    "Standardizer",
    "Subset",
    "Sunspots",
    "TensorDataset",
    "ar_windows",
    "cache_dir",
    "chronological_split",
    "default_collate",
    "download_file",
    "load_co2",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_shakespeare",
    "load_sunspots",
    "noisy_sine",
    "random_batches",
    "random_split",
    "read_csv_column",
    "read_idx",
    "read_image_folder",
    "read_image_npz",
    "read_npz",
    "read_text_file",
    "sequential_batches",
    "write_idx",
]
__all__ += ["sequential_streams"]
