"""The readers of user files: each odd or damaged file named in one line (issue 17's cases)."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pytest

from glassnet import data as D
from glassnet.cli import main
from glassnet.data import InvalidFileError
from glassnet.data import download as dl
from glassnet.data.idx import idx_bytes


def one_line_error(argv, capsys, *fragments):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for f in fragments:
        assert f in err, (f, err)
    return err


def refuse(fn, *fragments):
    with pytest.raises(InvalidFileError) as e:
        fn()
    message = str(e.value)
    assert "\n" not in message
    for f in fragments:
        assert f in message, (f, message)
    return message


def _images(n=12, dtype=np.float32):
    return np.random.default_rng(0).random((n, 8, 8)).astype(dtype)


def _labels(n=12):
    return np.arange(n) % 3


# ----------------------------------------------------------------------------- the cases
def test_a_file_that_is_not_a_zip_archive_is_one_line(tmp_path, capsys):
    bad = tmp_path / "notzip.npz"
    for content in (b"PK\x03\x04 a zip header, then nothing", b"just some text", b""):
        bad.write_bytes(content)
        err = one_line_error(["train", "cnn", "--data", bad, "--out", tmp_path / "o"], capsys)
        assert str(bad) in err and ".npz" in err
    assert not (tmp_path / "o" / "checkpoint.safetensors").exists()


def test_the_command_in_its_own_process_prints_one_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "notzip.npz").write_bytes(b"PK\x03\x04 truncated")
    proc = subprocess.run(
        [sys.executable, "-m", "glassnet", "train", "cnn", "--data", "notzip.npz"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "glassnet: error: notzip.npz: not a readable .npz archive (BadZipFile: File is not a zip "
        "file)\n"
    )


@pytest.mark.parametrize(
    ("images", "got"),
    [
        (_images() + 1j * _images(), "got complex64 (complex numbers) array of shape (12, 8, 8)"),
        (_images() > 0.5, "got bool array of shape (12, 8, 8)"),
        (_images().astype("U8"), "got <U8 (strings) array"),
    ],
)
def test_images_that_are_not_real_numbers_are_refused(tmp_path, capsys, images, got):
    np.savez(tmp_path / "d.npz", images=images, labels=_labels())
    argv = ["train", "cnn", "--data", tmp_path / "d.npz", "--out", tmp_path / "o"]
    one_line_error(argv, capsys, "'images' must hold real numbers (integers or floats)", got)


# ----------------------------------------------------------------------------- .npz
def test_npz_containers_that_are_not_what_they_claim(tmp_path):
    p = tmp_path / "d.npz"
    np.save(tmp_path / "one.npy", _images())
    p.write_bytes((tmp_path / "one.npy").read_bytes())
    refuse(lambda: D.read_image_npz(p), "is a single .npy array, not an .npz archive")
    np.savez(p, images=np.array([None, 1], dtype=object), labels=_labels(2))
    refuse(lambda: D.read_image_npz(p), "'images' holds Python objects", "never unpickles")
    np.savez(p, pictures=_images(), labels=_labels())
    refuse(lambda: D.read_image_npz(p), "missing array(s) ['images']", "['labels', 'pictures']")
    with pytest.raises(FileNotFoundError):
        D.read_image_npz(tmp_path / "missing.npz")


def _npy(array, shape):
    """The .npy bytes of ``array`` whose header declares ``shape`` (same header length)."""
    buf = io.BytesIO()
    np.save(buf, array)
    blob = buf.getvalue()
    old, new = str(array.shape).encode(), str(shape).encode()
    assert len(old) == len(new) and blob.count(old) == 1
    return blob.replace(old, new)


def test_a_lying_array_header_is_refused_before_anything_is_allocated(tmp_path):
    p = tmp_path / "d.npz"
    for shape, fragment in (
        ((99999, 8), "declares shape (99999, 8) of float32 (3199968 bytes) but 3072 bytes"),
        ((12, 8, 4), "declares shape (12, 8, 4) of float32 (1536 bytes) but 3072 bytes of data"),
    ):
        with zipfile.ZipFile(p, "w") as z:  # valid CRCs around the lying header
            z.writestr("images.npy", _npy(_images(), shape))
            z.writestr("labels.npy", _npy(_labels(), (12,)))
        refuse(lambda: D.read_image_npz(p), "'images' is damaged: its header", fragment)


def test_damaged_archive_members_are_one_line(tmp_path):
    p = tmp_path / "d.npz"
    np.savez_compressed(p, images=_images(), labels=_labels())
    blob = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("images.npy")
    blob[info.header_offset + 60] ^= 0xFF  # inside the deflated data
    p.write_bytes(bytes(blob))
    refuse(lambda: D.read_image_npz(p), "not a readable .npz archive")


@pytest.mark.parametrize(
    ("images", "labels", "fragment"),
    [
        (_images()[:, :, 0], _labels(), "'images' must have 3 or 4 dimensions, got shape (12, 8)"),
        (_images()[:0], _labels(0), "'images' is empty (shape (0, 8, 8))"),
        (_images(dtype=np.float64) * 1e300, _labels(), "beyond the float32 range"),
        (_images(), _labels()[:, None], "'labels' must have 1 dimension, got shape (12, 1)"),
        (_images(), _labels(11), "one label per image (12), got shape (11,)"),
        (_images(), _labels() > 0, "'labels' must hold integers, got bool"),
        (_images(), _labels() - 1, "class indices in [0, 10000), got values in [-1, 1]"),
    ],
)
def test_npz_arrays_of_the_wrong_kind_rank_or_range(tmp_path, images, labels, fragment):
    p = tmp_path / "d.npz"
    np.savez(p, images=images, labels=labels)
    assert refuse(lambda: D.read_image_npz(p), fragment).startswith(str(p))


def test_npz_odd_but_valid_arrays_load_as_float32(tmp_path):
    p = tmp_path / "d.npz"
    raw = (np.arange(12 * 64) % 700).reshape(12, 1, 8, 8)
    np.savez_compressed(
        p, images=np.asfortranarray(raw.astype(">u2")), labels=_labels().astype(">i2")
    )
    images, labels, names = D.read_image_npz(p)
    assert images.dtype == np.float32 and images.shape == (12, 1, 8, 8)
    np.testing.assert_allclose(images, raw / 699, rtol=1e-6)
    assert labels.dtype == np.int64 and labels.tolist() == _labels().tolist()
    assert names == ["0", "1", "2"]


# ----------------------------------------------------------------------------- image folder
def _png(path, grey, mode="L"):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(grey, np.uint8)).convert(mode).save(path)


def test_image_folder_reads_by_dtype_skips_hidden_and_refuses_empty_classes(tmp_path):
    root = tmp_path / "imgs"
    _png(root / "a" / "0.png", np.full((4, 4), 51))
    _png(root / "b" / "0.bmp", np.full((4, 4), 1))  # uint8 when read: 1/255, not 1.0
    _png(root / "b" / "1.png", np.full((4, 4), 102), mode="RGBA")  # alpha is ignored
    _png(root / ".ipynb_checkpoints" / "0.png", np.zeros((9, 9)))
    (root / "a" / "._0.png").write_bytes(b"macOS resource fork")
    images, labels, classes = D.read_image_folder(root)
    assert classes == ["a", "b"] and labels.tolist() == [0, 1, 1]
    assert images.dtype == np.float32 and images.shape == (3, 4, 4)
    np.testing.assert_allclose(images[:, 0, 0], [0.2, 1 / 255, 0.4], rtol=1e-6)
    (root / "c").mkdir()
    refuse(lambda: D.read_image_folder(root), "no images", "class folder(s) ['c']")


def test_image_folder_names_the_unreadable_image(tmp_path):
    root = tmp_path / "imgs"
    _png(root / "a" / "0.png", np.zeros((4, 4)))
    (root / "a" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    refuse(lambda: D.read_image_folder(root), f"{root / 'a' / '1.png'}: cannot read the image")
    (root / "a" / "1.png").unlink()
    _png(root / "a" / "2.png", np.zeros((5, 4)))
    refuse(lambda: D.read_image_folder(root), "all images must have the same size")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "0.png").write_bytes((root / "a" / "0.png").read_bytes())
    refuse(lambda: D.read_image_folder(tmp_path / "flat"), "one sub-folder of images per class")


# ----------------------------------------------------------------------------- CSV and text
def test_csv_encodings_binary_files_and_malformed_lines(tmp_path):
    p = tmp_path / "s.csv"
    rows = "".join(f"{i},{i / 2}\n" for i in range(25))
    p.write_bytes(("\ufefft,v\n" + rows).encode())  # Excel's BOM: the first column is still 't'
    values = D.read_csv_column(p, "v", min_values=20)
    assert values.dtype == np.float64 and values[3] == 1.5
    p.write_bytes(("t,v\n" + rows).encode("utf-16"))
    refuse(lambda: D.read_csv_column(p, "v"), "a binary file (it holds NUL bytes")
    p.write_bytes(("t,v\n1,caf\u00e9\n").encode("latin-1"))
    refuse(lambda: D.read_csv_column(p, "v"), "not UTF-8 CSV text (byte 0xe9 at position 9")
    p.write_text("t,v\n1," + "9" * 200_000 + "\n")
    refuse(lambda: D.read_csv_column(p, "v"), "malformed CSV after line 1", "field limit")
    p.write_text("t,v\n1,2\n2,-inf\n")
    refuse(lambda: D.read_csv_column(p, "v"), ":3: value '-inf' in column 'v' is not finite")
    p.write_text("t,v\n" + rows)
    refuse(lambda: D.read_csv_column(p, "v", min_values=30), "has 25 values; need at least 30")


def test_forecasting_refuses_values_it_would_overflow(tmp_path, capsys):
    p = tmp_path / "s.csv"
    p.write_text("v\n" + "".join(f"{(-1) ** i * 1e200}\n" for i in range(30)))
    one_line_error(
        ["train", "forecast", "--data", p, "--column", "v", "--out", tmp_path / "o"],
        capsys,
        "values up to 1e+200",
    )


def test_text_files(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes("\ufeffto be".encode())
    assert D.read_text_file(p) == "to be"
    p.write_bytes(b"PK\x03\x04\x00\x00binary")
    refuse(lambda: D.read_text_file(p), "a binary file (it holds NUL bytes, the first at byte 4)")
    p.write_bytes("caf\u00e9".encode("latin-1"))
    refuse(lambda: D.read_text_file(p), "not UTF-8 plain text")
    p.write_text(" \n\t")
    refuse(lambda: D.read_text_file(p), "empty")


# ----------------------------------------------------------------------------- MNIST IDX
@pytest.mark.parametrize(
    ("images", "labels", "fragment"),
    [
        (np.zeros((3, 4, 4), np.int8), np.arange(3, dtype=np.uint8), "must hold unsigned"),
        (np.zeros((0, 4, 4), np.uint8), np.zeros(0, np.uint8), "'images' is empty"),
        (np.zeros((3, 4, 4), np.uint8), np.array([0, 1, 10], np.uint8), "got values in [0, 10]"),
        (np.zeros((3, 4, 4), np.uint8), np.array([0, 1, 2], np.float32), "must hold integers"),
        (np.zeros((3, 4, 4), np.uint8), np.arange(4, dtype=np.uint8), "one label per image (3)"),
        (np.zeros((3, 16), np.uint8), np.arange(3, dtype=np.uint8), "must have 3 dimensions"),
    ],
)
def test_mnist_files_with_the_wrong_content(tmp_path, monkeypatch, images, labels, fragment):
    folder = tmp_path / "mnist"
    folder.mkdir()
    files = {"t10k-images-idx3-ubyte.gz": images, "t10k-labels-idx1-ubyte.gz": labels}
    for name, array in files.items():
        blob = gzip.compress(idx_bytes(array))
        (folder / name).write_bytes(blob)
        monkeypatch.setitem(dl.MNIST_SOURCE.md5, name, hashlib.md5(blob).hexdigest())
    message = refuse(lambda: D.load_mnist(tmp_path, train=False, download=False), fragment)
    assert message.startswith(str(folder))


def test_idx_errors_and_checkpoint_errors_are_invalid_file_errors():
    from glassnet.train import CheckpointError

    assert issubclass(D.IDXError, InvalidFileError) and issubclass(InvalidFileError, ValueError)
    assert issubclass(CheckpointError, InvalidFileError)
    with pytest.raises(D.IDXError, match="truncated data"):
        D.read_idx(bytes([0, 0, 8, 1, 255, 255, 255, 255]))  # 4 GB declared, nothing follows
    with pytest.raises(D.IDXError, match="trailing bytes"):
        D.read_idx(bytes([0, 0, 8, 255]) + b"\x00" * 1020 + b"\x00\x00")  # 255 zero dimensions


def test_pytorch_file_handed_to_eval_says_what_it_is(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    (tmp_path / "model.pt").write_bytes(buf.getvalue())
    one_line_error(["eval", tmp_path / "model.pt"], capsys, "is a zip archive", "load_into")
