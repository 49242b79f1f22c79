"""Data: datasets and loaders, bundled data, time-series windows, text vocabularies.

- pipeline: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``,
  ``default_collate``;
- series: ``chronological_split``, ``Standardizer``, ``ar_windows``;
- bundled (offline): ``load_digits``, ``load_sunspots``, ``load_co2``, ``load_shakespeare``,
  and the generator ``noisy_sine``;
- downloaded (cached, checksum-verified): ``load_mnist``, ``load_fashion_mnist``; the IDX
  format: ``read_idx``, ``write_idx``;
- text: ``CharVocab``, ``sequential_batches``, ``sequential_streams``, ``random_batches``.

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
from .idx import IDXError, read_idx, write_idx
from .series import Standardizer, ar_windows, chronological_split
from .text import CharVocab, random_batches, sequential_batches, sequential_streams

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
    "read_idx",
    "sequential_batches",
    "write_idx",
]
__all__ += ["sequential_streams"]
