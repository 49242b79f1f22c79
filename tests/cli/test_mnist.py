"""`glassnet train cnn --data mnist` trains on the official training set and reports accuracy on
the official test set; `glassnet eval` likewise. Offline: small IDX files the test writes."""

from __future__ import annotations

import gzip
import hashlib
import urllib.error

import numpy as np
import pytest

from glassnet.cli import main, tasks
from glassnet.cli.train import read_checkpoint, rebuild
from glassnet.data import FASHION_MNIST_CLASSES
from glassnet.data import download as dl
from glassnet.data.idx import idx_bytes

QUICK = ["--epochs", "2", "--channels", "2", "--hidden", "4", "--no-progress", "--lr", "0.02"]
QUICK += ["--batch-size", "8"]


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _striped(n, seed, size=8):
    """n images of 3 classes, each with a bright row band the CNN can learn; labels 0..2."""
    r = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = r.integers(0, 60, (n, size, size))
    for c in range(3):
        images[labels == c, 2 * c : 2 * c + 3, :] += 190
    return images.astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture
def mnist_cache(tmp_path, monkeypatch):
    """A cache holding small MNIST and Fashion-MNIST files: 60 training, 17 test images."""

    def offline(url, timeout=None):
        raise urllib.error.URLError("tests never touch the network")

    monkeypatch.setattr(dl, "_urlopen", offline)
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "cache"))
    sets = {"train": _striped(60, 1), "t10k": _striped(17, 2)}
    for src in (dl.MNIST_SOURCE, dl.FASHION_MNIST_SOURCE):
        folder = tmp_path / "cache" / src.folder
        folder.mkdir(parents=True)
        for prefix, (images, labels) in sets.items():
            for name, array in (("images-idx3", images), ("labels-idx1", labels)):
                filename = f"{prefix}-{name}-ubyte.gz"
                blob = gzip.compress(idx_bytes(array), mtime=0)
                (folder / filename).write_bytes(blob)
                monkeypatch.setitem(src.md5, filename, hashlib.md5(blob).hexdigest())
    return sets


def _test_accuracy(ckpt, test):
    model = rebuild(read_checkpoint(ckpt))
    images = (test[0].astype(np.float32) / 255)[:, None]
    return float((tasks.cnn_logits(model, images).argmax(1) == test[1]).mean())


@pytest.mark.parametrize("spec", ["mnist", "fashion-mnist"])
def test_train_and_eval_report_the_official_test_set(tmp_path, capsys, mnist_cache, spec):
    out = tmp_path / "run"
    code, printed, err = run(["train", "cnn", "--data", spec, *QUICK, "--out", out], capsys)
    assert code == 0, err
    ckpt = out / "checkpoint.safetensors"
    acc = _test_accuracy(ckpt, mnist_cache["t10k"])
    assert f"test accuracy {acc:.4f} (17 images of the official test set)" in printed, printed
    assert (
        "validation accuracy" in printed and "(12 images held out of the training set)" in printed
    )
    state = read_checkpoint(ckpt)
    train_images, train_labels = mnist_cache["train"]
    expected = tasks.fingerprint(
        (train_images.astype(np.float32) / 255)[:, None], train_labels.astype(np.int64)
    )
    assert state["config"]["data"]["fingerprint"] == expected  # trained on the training set only
    assert state["progress"]["global_step"] == 2 * 48 // 8  # 60 minus the validation split
    names = [str(c) for c in range(10)] if spec == "mnist" else list(FASHION_MNIST_CLASSES)
    assert state["config"]["classes"] == names and state["config"]["model"]["num_classes"] == 10
    for argv in (["eval", ckpt], ["eval", ckpt, "--data", spec]):
        code, printed, err = run(argv, capsys)
        assert code == 0, err
        assert printed == f"accuracy {acc:.4f} on 17 images of the official test set\n"


def test_a_test_set_of_another_size_is_refused_before_training(
    tmp_path, capsys, monkeypatch, mnist_cache
):
    folder = tmp_path / "cache" / "mnist"
    blob = gzip.compress(idx_bytes(np.zeros((17, 10, 10), np.uint8)), mtime=0)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(blob)
    monkeypatch.setitem(
        dl.MNIST_SOURCE.md5, "t10k-images-idx3-ubyte.gz", hashlib.md5(blob).hexdigest()
    )
    out = tmp_path / "run"
    code, _, err = run(["train", "cnn", "--data", "mnist", *QUICK, "--out", out], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "the test images are 10x10, the training images 8x8" in err
    assert not (out / "checkpoint.safetensors").exists()
