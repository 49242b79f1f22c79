"""IDX parsing and the MNIST / Fashion-MNIST cache (no network: downloads are simulated)."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error

import numpy as np
import pytest

from glassnet.data import (
    ChecksumError,
    DownloadError,
    IDXError,
    cache_dir,
    download_file,
    load_fashion_mnist,
    load_mnist,
    read_idx,
    write_idx,
)
from glassnet.data import download as dl
from glassnet.data.idx import idx_bytes


def _images(n=5, h=28, w=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)


# ----------------------------------------------------------------------------- read_idx
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_roundtrip(tmp_path, dtype, suffix):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, a)
    raw = path.read_bytes()
    assert raw[:2] == (b"\x1f\x8b" if suffix else b"\x00\x00")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == (2, 3, 4)
    np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(read_idx(raw), a)  # bytes work too
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_idx_is_big_endian_as_published():
    # the MNIST label header, written out by hand: magic 0x00000801, 3 items
    data = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    np.testing.assert_array_equal(read_idx(data), [7, 2, 1])
    ints = (
        bytes([0, 0, 0x0C, 1, 0, 0, 0, 2])
        + (258).to_bytes(4, "big")
        + (-1).to_bytes(4, "big", signed=True)
    )
    assert read_idx(ints).tolist() == [258, -1]
    assert idx_bytes(np.array([258, -1], np.int32)) == ints


def test_read_idx_wrong_magic(tmp_path):
    good = idx_bytes(_images(2, 4, 4))
    with pytest.raises(IDXError, match=r"wrong magic number 0x01000803"):
        read_idx(b"\x01" + good[1:])
    p = tmp_path / "bad.idx"
    p.write_bytes(b"PK\x03\x04" + good[4:])
    with pytest.raises(IDXError, match=r"bad\.idx: wrong magic number 0x504b0304"):
        read_idx(p)
    with pytest.raises(IDXError, match="unknown IDX type code 0x07"):
        read_idx(bytes([0, 0, 7, 1, 0, 0, 0, 1, 0]))
    with pytest.raises(IDXError, match="declares 0 dimensions"):
        read_idx(bytes([0, 0, 8, 0]))
    assert issubclass(IDXError, ValueError)


def test_read_idx_truncated(tmp_path):
    good = idx_bytes(_images(2, 4, 4))  # 16-byte header + 32 bytes of pixels
    with pytest.raises(
        IDXError, match=r"truncated data: shape \(2, 4, 4\) of uint8 needs 32 bytes"
    ):
        read_idx(good[:-1])
    with pytest.raises(IDXError, match="truncated header: 3 dimensions need 16 bytes, file has 10"):
        read_idx(good[:10])
    with pytest.raises(IDXError, match="too short for an IDX header"):
        read_idx(b"\x00\x00")
    with pytest.raises(IDXError, match="1 unexpected trailing bytes"):
        read_idx(good + b"\x00")
    gz = gzip.compress(good)
    with pytest.raises(IDXError, match="corrupt or truncated gzip data"):
        read_idx(gz[: len(gz) // 2])
    p = tmp_path / "cut-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(good[:-5]))
    with pytest.raises(IDXError, match=r"cut-idx3-ubyte\.gz: truncated data"):
        read_idx(p)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_idx(tmp_path / "missing")
    with pytest.raises(TypeError, match="expected a path or bytes"):
        read_idx(3)  # type: ignore[arg-type]


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="cannot store dtype int64"):
        write_idx(tmp_path / "x", np.arange(3))


# ----------------------------------------------------------------------------- downloads
class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable binary stream usable as a context manager."""


def _fake_server(files: dict[str, bytes], log: list[str]):
    def urlopen(url, timeout=None):
        log.append(url)
        name = url.rsplit("/", 1)[-1]
        if name not in files:
            raise urllib.error.URLError(
                "simulated: [Errno -3] Temporary failure in name resolution"
            )
        return FakeResponse(files[name])

    return urlopen


def _offline(url, timeout=None):
    raise urllib.error.URLError("simulated: network is unreachable")


@pytest.fixture
def mnist_files():
    """Tiny gzip IDX files with the MNIST names; the published checksums patched to match."""
    train_x, test_x = _images(6, seed=1), _images(3, seed=2)
    train_y = np.array([5, 0, 4, 1, 9, 2], np.uint8)
    test_y = np.array([7, 2, 1], np.uint8)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(idx_bytes(train_x)),
        "train-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(train_y)),
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(test_x)),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(test_y)),
    }
    md5 = {k: hashlib.md5(v).hexdigest() for k, v in files.items()}
    arrays = {"train": (train_x, train_y), "test": (test_x, test_y)}
    return files, md5, arrays


def _patch_checksums(monkeypatch, md5):
    for src in (dl.MNIST_SOURCE, dl.FASHION_MNIST_SOURCE):
        for name, digest in md5.items():
            monkeypatch.setitem(src.md5, name, digest)


def test_published_checksums_are_md5_hex():
    for src in (dl.MNIST_SOURCE, dl.FASHION_MNIST_SOURCE):
        assert len(src.md5) == 4
        for digest in src.md5.values():
            assert len(digest) == 32 and int(digest, 16) >= 0
    assert dl.MNIST_SOURCE.md5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv("GLASSNET_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "glassnet"


def test_load_mnist_downloads_verifies_and_caches(monkeypatch, tmp_path, mnist_files):
    files, md5, arrays = mnist_files
    _patch_checksums(monkeypatch, md5)
    log: list[str] = []
    monkeypatch.setattr(dl, "_urlopen", _fake_server(files, log))
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path))
    images, labels = load_mnist()
    np.testing.assert_array_equal(images, arrays["train"][0])
    assert labels.dtype == np.int64 and labels.tolist() == [5, 0, 4, 1, 9, 2]
    assert log[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]  # only the verified files: no temporary ".part" files remain
    test = load_mnist(train=False, normalize=True)
    assert test.images.dtype == np.float32 and test.images.max() <= 1.0
    np.testing.assert_allclose(test.images * 255, arrays["test"][0], atol=1e-4)
    n_calls = len(log)
    monkeypatch.setattr(dl, "_urlopen", _offline)
    load_mnist()  # cached: no network needed
    load_mnist(download=False)
    assert len(log) == n_calls


def test_load_mnist_falls_back_to_second_mirror(monkeypatch, tmp_path, mnist_files):
    files, md5, arrays = mnist_files
    _patch_checksums(monkeypatch, md5)
    log: list[str] = []
    server = _fake_server(files, log)

    def first_mirror_down(url, timeout=None):
        if "ossci" in url:
            log.append(url)
            raise urllib.error.HTTPError(url, 503, "Service Unavailable", None, None)
        return server(url, timeout)

    monkeypatch.setattr(dl, "_urlopen", first_mirror_down)
    images, _ = load_mnist(tmp_path)
    np.testing.assert_array_equal(images, arrays["train"][0])
    assert log[1] == "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz"


def test_offline_error_names_file_url_and_remedy(monkeypatch, tmp_path):
    monkeypatch.setattr(dl, "_urlopen", _offline)
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path)
    msg = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in msg
    assert "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz" in msg
    assert "network is unreachable" in msg
    assert f"place it at {tmp_path / 'mnist' / 'train-images-idx3-ubyte.gz'}" in msg
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg
    assert not any((tmp_path / "mnist").iterdir())  # nothing partial left behind
    with pytest.raises(DownloadError, match=r"fashion-mnist\.s3-website"):
        load_fashion_mnist(tmp_path)


def test_bad_checksum_is_rejected_and_discarded(monkeypatch, tmp_path, mnist_files):
    files, md5, _ = mnist_files
    # published checksums kept: the tiny test files cannot match them
    monkeypatch.setattr(dl, "_urlopen", _fake_server(files, []))
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path)
    msg = str(info.value)
    assert "MD5 checksum mismatch: expected f68b3c2dcbeaaa9fbdd348bbdeb94873, got " in msg
    assert md5["train-images-idx3-ubyte.gz"] in msg
    assert not any((tmp_path / "mnist").iterdir())


def test_download_file_sha256(monkeypatch, tmp_path):
    payload = b"hello idx"
    monkeypatch.setattr(dl, "_urlopen", _fake_server({"f.bin": payload}, []))
    out = download_file(
        "http://example.invalid/f.bin",
        tmp_path / "f.bin",
        sha256=hashlib.sha256(payload).hexdigest(),
    )
    assert out.read_bytes() == payload
    with pytest.raises(DownloadError, match="SHA-256 checksum mismatch"):
        download_file("http://example.invalid/f.bin", tmp_path / "g.bin", sha256="0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_manually_placed_files(monkeypatch, tmp_path, mnist_files):
    files, _, arrays = mnist_files
    monkeypatch.setattr(dl, "_urlopen", _offline)
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    with pytest.raises(
        FileNotFoundError, match=r"train-images-idx3-ubyte.gz not found in .*fashion_mnist"
    ):
        load_fashion_mnist(tmp_path, download=False)
    # decompressed files placed by hand are read as they are
    for name, blob in files.items():
        (folder / name[: -len(".gz")]).write_bytes(gzip.decompress(blob))
    images, labels = load_fashion_mnist(tmp_path, train=False, download=False)
    np.testing.assert_array_equal(images, arrays["test"][0])
    assert labels.tolist() == [7, 2, 1]
    # a gzip file whose checksum does not match is reported, not silently used
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(files["t10k-images-idx3-ubyte.gz"])
    with pytest.raises(
        ChecksumError, match=r"has MD5 [0-9a-f]{32}, expected bef4ecab320f06d8554ea6380940ec79"
    ):
        load_fashion_mnist(tmp_path, train=False, download=False)


def test_corrupt_cached_file_gives_idx_error(monkeypatch, tmp_path, mnist_files):
    files, md5, _ = mnist_files
    bad = gzip.compress(b"\x00\x00\x08\x03" + bytes(10))  # declares 3 dims, then truncated
    files = dict(files, **{"train-images-idx3-ubyte.gz": bad})
    md5 = dict(md5, **{"train-images-idx3-ubyte.gz": hashlib.md5(bad).hexdigest()})
    _patch_checksums(monkeypatch, md5)
    monkeypatch.setattr(dl, "_urlopen", _fake_server(files, []))
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte\.gz: truncated"):
        load_mnist(tmp_path)
