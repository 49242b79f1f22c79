"""Every loader of the `glassnet` command, fuzzed: a one-line user error or a faithful load.

Each test writes random valid-but-odd files (odd dtypes, ranks, NaN/inf, labels out of range,
odd encodings) and damages some of them (truncated, bytes flipped, wrong magic, junk appended,
zero bytes, a run of zeros, random bytes). Each file goes through the Python reader, which must
raise its documented error (``InvalidFileError`` or a subclass; ``ValueError`` for a state dict
that does not fit) with a one-line message naming the file, or return finite arrays of the
documented dtype; and through the command (`glassnet eval ... --data FILE`), which must exit 0,
or exit 2 with one line on stderr (the reader's message, when the reader refused the file).
Any other exception fails the test. Example counts are sized so that the seven tests together
take well under a minute on 2 cores (HYPOTHESIS_PROFILE=thorough runs 8 times as many).
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import hashlib
import io
import os
import tempfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from glassnet import data as D
from glassnet import io as gio
from glassnet import nn
from glassnet.cli import main, tasks
from glassnet.data import download as dl
from glassnet.data.idx import idx_bytes
from glassnet.data.validate import InvalidFileError
from glassnet.optim import Adam
from glassnet.train import CheckpointError, Trainer, load_state, save_state

SCALE = 8 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1


def examples(n: int):
    return settings(max_examples=n * SCALE, deadline=None)


# ----------------------------------------------------------------------------- the world
def _offline(url, timeout=None):
    raise urllib.error.URLError("tests never touch the network")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Trained checkpoints of each task (tiny models, one epoch) to evaluate fuzzed data with."""
    root = tmp_path_factory.mktemp("world")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dl, "_urlopen", _offline)
        mp.setenv("GLASSNET_CACHE", str(root / "cache"))
        mp.delenv("GLASSNET_DEBUG", raising=False)
        r = np.random.default_rng(0)
        np.savez(root / "d.npz", images=r.random((30, 8, 8)), labels=np.arange(30) % 3)
        (root / "t.txt").write_text("the quick brown fox jumps over the lazy dog. " * 8)
        quiet = ["--epochs", "1", "--no-progress"]
        for argv in (
            ["train", "cnn", "--data", root / "d.npz", "--channels", "2", "--hidden", "4"],
            ["train", "charlm", "--data", root / "t.txt", "--hidden", "8", "--embed", "4"],
            ["train", "forecast", "--model", "mlp", "--hidden", "4"],
        ):
            argv += ["--seq-len", "8", "--batch-size", "4"] if argv[1] == "charlm" else []
            code, _, err = cli(*argv, *quiet, "--out", root / argv[1])
            assert code == 0, err
        yield {t: root / t / "checkpoint.safetensors" for t in ("cnn", "charlm", "forecast")}


def cli(*argv):
    """Run the command in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def refused(fn, where, error=InvalidFileError):
    """``(None, message)`` if ``fn()`` raised ``error`` in one line naming ``where``, else
    ``(result, None)``. Any other exception propagates and fails the test."""
    try:
        result = fn()
    except error as e:
        message = str(e)
        assert "\n" not in message and str(where) in message, (where, message)
        event(f"refused: {type(e).__name__}")
        return None, message
    event("loaded")
    return result, None


@contextlib.contextmanager
def written(name, blob):
    """The path of a file ``name`` holding ``blob``, in a fresh temporary folder."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(blob)
        yield path


def assert_command(argv, message, *, succeeds=None):
    """The command exits 0, or 2 with one line; with the reader's ``message`` if it refused."""
    code, out, err = cli(*argv)
    if message is not None:
        assert (code, err) == (2, f"glassnet: error: {message}\n"), (code, out, err)
        return
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    else:
        assert err == "", err
    if succeeds is not None:
        assert (code == 0) == succeeds, (code, err)


# ----------------------------------------------------------------------------- damage
DAMAGE = ["truncate", "flip", "magic", "append", "empty", "zeros", "random"]


def _rng(draw):
    """A generator seeded by hypothesis: uniform choices (hypothesis favours small values)."""
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def chance(draw, p: float) -> bool:
    return bool(_rng(draw).random() < p)


@st.composite
def damaged(draw, good: bytes, p: float = 0.5) -> bytes:
    """``good``, or with probability ``p`` a damaged copy of it (one of DAMAGE, uniformly)."""
    rng = _rng(draw)
    if rng.random() >= p:
        return good
    how = DAMAGE[int(rng.integers(len(DAMAGE)))]
    data, n = bytearray(good), len(good)
    if how == "truncate" and n:
        data = data[: int(rng.integers(0, n))]
    elif how == "flip" and n:
        for _ in range(int(rng.integers(1, 5))):
            data[int(rng.integers(n))] ^= int(rng.integers(1, 256))
    elif how == "magic":
        k = int(rng.integers(1, 9))
        data[:k] = rng.bytes(k)
    elif how == "append":
        data += rng.bytes(int(rng.integers(1, 65)))
    elif how == "empty":
        data = bytearray()
    elif how == "zeros" and n:
        i = int(rng.integers(n))
        k = min(int(rng.integers(1, 65)), n - i)
        data[i : i + k] = bytes(k)
    elif how == "random":
        data = bytearray(rng.bytes(int(rng.integers(1, 513))))
    return bytes(data)


NUMERIC = ["|u1", "|i1", "<i2", ">i4", "<i8", "<u8", "<f2", "<f4", ">f8"]
ODD = ["|b1", "<c8", "<c16", "<U2", "|S2", "<M8[D]", "|V2", "O", "<i4,<f4"]


@st.composite
def arrays(draw, shape, dtypes=NUMERIC + ODD):
    """An array of ``shape``: random bits, small integers, values in [0, 1], or with a NaN/inf."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    rng = _rng(draw)
    size = int(np.prod(shape))
    if dtype.kind == "O":
        return np.array([int(v) for v in rng.integers(0, 9, size)], dtype=object).reshape(shape)
    style = draw(st.sampled_from(["bits", "small", "unit", "nonfinite"]))
    if style == "bits" or dtype.kind not in "biufc":
        return np.frombuffer(rng.bytes(size * dtype.itemsize), dtype).reshape(shape)
    if style == "small":
        return rng.integers(-2, 13, shape).astype(dtype)
    a = (rng.random(shape) if dtype.kind in "fc" else rng.integers(0, 256, shape)).astype(dtype)
    if style == "nonfinite" and dtype.kind in "fc" and size:
        a.reshape(-1)[int(rng.integers(size))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return a


shapes = st.lists(st.integers(0, 5), max_size=5).map(tuple)
INTEGERS = ["|u1", "|i1", "<i2", ">i4", "<i8", "<u8"]


@st.composite
def label_arrays(draw, n, dtypes=INTEGERS, odd=NUMERIC + ODD):
    """Two times in three N class indices in [0, 5), else an odd array (``odd`` dtypes)."""
    if draw(st.integers(0, 2)):
        rng = _rng(draw)
        return rng.integers(0, 5, n).astype(draw(st.sampled_from(dtypes)))
    shape = draw(st.sampled_from([(n,), (n + 1,), (n, 1), ()]))
    return draw(arrays(shape, [*dtypes, *odd]))


@st.composite
def image_arrays(draw):
    """(images, labels): mostly (N, 8, 8) or (N, 1, 8, 8) of numbers, else any shape or dtype."""
    n = draw(st.integers(1, 12))
    kind = draw(st.sampled_from(["grey", "grey", "channel", "any"]))
    shape = {"grey": (n, 8, 8), "channel": (n, 1, 8, 8)}.get(kind) or draw(shapes)
    images = draw(arrays(shape, NUMERIC * 3 + ODD))
    return images, draw(label_arrays(n))


# ----------------------------------------------------------------------------- .npz
@st.composite
def npz_files(draw):
    images, labels = draw(image_arrays())
    arrays_ = {"images": images, "labels": labels}
    if chance(draw, 0.15):  # a missing array
        del arrays_[draw(st.sampled_from(["images", "labels"]))]
    if chance(draw, 0.2):  # others are ignored
        arrays_["extra"] = np.zeros(3)
    buf = io.BytesIO()
    (np.savez_compressed if chance(draw, 0.5) else np.savez)(buf, **arrays_)
    return draw(damaged(buf.getvalue()))


@examples(120)
@given(blob=npz_files())
def test_fuzz_npz_images(world, blob):
    with written("data.npz", blob) as path:
        loaded, message = refused(lambda: D.read_image_npz(path), path)
        if loaded is not None:
            images, labels, names = loaded
            assert images.dtype == np.float32 and np.isfinite(images).all()
            assert images.ndim in (3, 4) and images.size and float(images.max()) <= 1.0
            assert labels.dtype == np.int64 and labels.shape == (images.shape[0],)
            assert labels.min() >= 0 and len(names) == labels.max() + 1
            fits = images.shape[-2:] == (8, 8) and (images.ndim == 3 or images.shape[1] == 1)
        expect = None if loaded is None else fits  # the model takes 8x8 grey images
        assert_command(["eval", world["cnn"], "--data", path], message, succeeds=expect)


# ----------------------------------------------------------------------------- image folder
@st.composite
def image_files(draw, size, p_damage):
    """(suffix, bytes) of a ``size`` image in a random mode and format, possibly damaged."""
    from PIL import Image

    rng = _rng(draw)
    img = Image.fromarray(rng.integers(0, 256, size[::-1], dtype=np.uint8))
    mode = draw(st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"]))
    fmt = draw(st.sampled_from(["PNG", "JPEG", "BMP", "GIF"]))
    if mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, size[::-1]).astype(np.uint16))
    else:
        img = img.convert(mode)
    buf = io.BytesIO()
    try:
        img.save(buf, fmt)
    except (OSError, ValueError):  # a mode the format cannot hold
        buf, fmt = io.BytesIO(), "PNG"
        img.convert("L").save(buf, fmt)
    suffix = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "GIF": ".gif"}[fmt]
    if chance(draw, 1 / 6):  # valid but odd: content and suffix disagree
        suffix = draw(st.sampled_from([".png", ".JPEG", ".gif"]))
    return suffix, draw(damaged(buf.getvalue(), p_damage))


SIZES = [(8, 8), (8, 8), (8, 8), (1, 1), (5, 8), (12, 12)]


@st.composite
def image_folders(draw):
    """{relative path: bytes}: class folders of images; sometimes a damaged or odd one, an
    empty class, a hidden folder or another file."""
    files = {}
    size = draw(st.sampled_from(SIZES))
    p_damage = draw(st.sampled_from([0.0, 0.0, 0.2]))
    for c in range(draw(st.integers(1, 3))):
        for i in range(draw(st.sampled_from([1, 1, 2, 3, 0]) if c else st.integers(1, 3))):
            odd_size = draw(st.sampled_from(SIZES)) if chance(draw, 1 / 10) else size
            suffix, blob = draw(image_files(odd_size, p_damage))
            files[f"class{c}/{i}{suffix}"] = blob
        if chance(draw, 1 / 4):
            files[f"class{c}/notes.txt"] = b"not an image"
    if chance(draw, 1 / 4):
        files[".ipynb_checkpoints/x.png"] = b"hidden"
    if chance(draw, 1 / 6):
        files["empty/README"] = b""
    return files


@examples(60)
@given(files=image_folders())
def test_fuzz_image_folder(world, files):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "imgs"
        for rel, blob in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(blob)
        loaded, message = refused(lambda: D.read_image_folder(root), root)
        if loaded is not None:
            images, labels, classes = loaded
            assert images.dtype == np.float32 and images.ndim == 3
            assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
            assert labels.dtype == np.int64 and labels.shape == (len(images),)
            assert classes == sorted(classes) and not any(c.startswith(".") for c in classes)
            assert set(labels.tolist()) == set(range(len(classes)))  # no class without images
        expect = None if loaded is None else images.shape[1:] == (8, 8)
        assert_command(["eval", world["cnn"], "--data", root], message, succeeds=expect)


# ----------------------------------------------------------------------------- CSV column
CELLS = ["0.5", "-3", "1e3", "2.25", " 7 ", "", "nan", "inf", "-Infinity", "abc", '"4"', "1_0"]


@st.composite
def csv_files(draw):
    headers = ["t,v", "v", "\ufefft,v", "v,v", "t,w", "t;v", ""]
    rng = _rng(draw)
    header = headers[0] if rng.random() < 0.5 else draw(st.sampled_from(headers))
    rows = []
    odd = rng.random() < 0.3  # files with odd cells
    for i in range(int(rng.choice([0, 5, 19, 20, 30, 40, 40, 40]))):
        if odd and rng.random() < 0.1:
            cell = draw(st.sampled_from(CELLS))
        else:
            cell = repr(round(float(np.sin(0.3 * i) + 0.1 * rng.standard_normal()), 4))
        rows.append(f"{i},{cell}" if header.count(",") or header == "" else cell)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([header, *rows]) + newline
    encoding = "utf-8" if rng.random() < 0.8 else draw(st.sampled_from(["latin-1", "utf-16"]))
    if rng.random() < 0.5:
        text = text.replace("t", "\u00e9", 1)  # é: bytes that differ between encodings
    return draw(damaged(text.encode(encoding, errors="replace"), 0.3))


@examples(150)
@given(blob=csv_files())
def test_fuzz_csv_column(world, blob):
    with written("s.csv", blob) as path:
        values, message = refused(lambda: D.read_csv_column(path, "v", min_values=20), path)
        if values is not None:
            assert values.dtype == np.float64 and values.ndim == 1 and len(values) >= 20
            assert np.isfinite(values).all()
        assert_command(["eval", world["forecast"], "--data", path, "--column", "v"], message)


# ----------------------------------------------------------------------------- text
@st.composite
def text_files(draw):
    text = draw(st.text(max_size=200))
    if chance(draw, 0.5):
        text = "to be or not to be, that is the question. " * 3 + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    blob = text.encode(encoding, errors="replace")
    return draw(damaged(blob))


@examples(150)
@given(blob=text_files())
def test_fuzz_text(world, blob):
    with written("t.txt", blob) as path:
        text, message = refused(lambda: D.read_text_file(path), path)
        if text is not None:
            assert isinstance(text, str) and text.strip() and "\0" not in text
            assert not text.startswith("\ufeff")
            assert text == blob.decode("utf-8-sig")
        assert_command(["eval", world["charlm"], "--data", path], message)


# ----------------------------------------------------------------------------- MNIST IDX
IDX_TYPES = ["|u1", "|i1", ">i2", ">i4", ">f4", ">f8"]


@st.composite
def idx_pairs(draw):
    """(images bytes, labels bytes, gzip?): IDX files of the MNIST test set, one maybe damaged."""
    n = draw(st.sampled_from([0, *range(1, 13)]))
    shape = draw(st.sampled_from([(n, 8, 8), (n, 8, 8), (n, 8, 8), (n, 8), (n, 1, 8, 8)]))
    images = draw(arrays(shape, ["|u1"] * 8 + IDX_TYPES))
    labels = draw(label_arrays(n, ["|u1", "|u1", "|i1", ">i4"], IDX_TYPES))
    blobs = [idx_bytes(images), idx_bytes(labels) if labels.ndim else idx_bytes(labels[None])]
    which = draw(st.integers(0, 1))
    blobs[which] = draw(damaged(blobs[which], 0.4))
    return blobs[0], blobs[1], chance(draw, 0.5)


@examples(100)
@given(pair=idx_pairs())
def test_fuzz_mnist_idx(world, pair):
    images_blob, labels_blob, compress = pair
    with tempfile.TemporaryDirectory() as d, pytest.MonkeyPatch.context() as mp:
        folder = Path(d) / "mnist"
        folder.mkdir()
        mp.setenv("GLASSNET_CACHE", d)
        for name, blob in (("images-idx3", images_blob), ("labels-idx1", labels_blob)):
            filename = f"t10k-{name}-ubyte"
            if compress:  # a verified download: the published checksum made to match
                blob = gzip.compress(blob, mtime=0)
                mp.setitem(dl.MNIST_SOURCE.md5, filename + ".gz", hashlib.md5(blob).hexdigest())
                filename += ".gz"
            (folder / filename).write_bytes(blob)
        loaded, message = refused(lambda: D.load_mnist(d, train=False, download=False), folder)
        if loaded is not None:
            assert loaded.images.dtype == np.uint8 and loaded.images.ndim == 3
            assert loaded.labels.dtype == np.int64 and loaded.labels.shape == (len(loaded.images),)
            assert loaded.labels.min() >= 0 and loaded.labels.max() < 10
        expect = None if loaded is None else loaded.images.shape[1:] == (8, 8)
        assert_command(["eval", world["cnn"], "--data", "mnist"], message, succeeds=expect)


# ----------------------------------------------------------------------------- checkpoints
def _paths(tree, path=()):
    """Paths to every node below the root whose parent is a dict or a list."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for k, v in list(items):
        yield (*path, k)
        if isinstance(v, (dict, list)):
            yield from _paths(v, (*path, k))


def _odd_values(old):
    odd = [None, True, -1, 0, 2**70, 1.5, float("nan"), "x", [], {}, [1, 2], {"a": 1}]
    if isinstance(old, np.ndarray):
        with np.errstate(invalid="ignore", over="ignore"):  # an earlier mutation's NaN as int
            odd += [
                old.astype(np.float64),
                old.astype(np.int32),
                old.astype(bool),
                *[np.full_like(old, np.nan) if old.dtype.kind == "f" else old - 1] * 4,
                old.reshape(-1)[:1],
                old[None],
                np.zeros(0, old.dtype),
                np.array(3.0),
            ]
    return st.sampled_from(odd)


PARTS = ["model"] * 4 + ["optimizer"] * 2 + ["config"] * 2 + ["progress", "rng", "history"]


@st.composite
def training_states(draw, state):
    """A copy of a training checkpoint's state with 1-3 entries replaced or deleted (the model
    weights most often, then the optimizer state and the config)."""
    state = copy.deepcopy(state)
    for _ in range(draw(st.integers(1, 3))):
        part = draw(st.sampled_from([p for p in PARTS if isinstance(state.get(p), dict)] or [""]))
        paths = [(part, *p) for p in _paths(state[part])] if part else list(_paths(state))
        path = draw(st.sampled_from(paths or [(part,)]))
        parent = state
        for k in path[:-1]:
            parent = parent[k]
        if chance(draw, 1 / 5):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_odd_values(parent[path[-1]]))
    return state


@pytest.fixture(scope="module")
def cnn_state(world):
    return load_state(world["cnn"])


def _trainer(cfg):
    model = tasks.build_cnn(cfg)
    return Trainer(model, nn.CrossEntropyLoss(), Adam(model.parameters()), progress=False)


@examples(80)
@given(data=st.data())
def test_fuzz_training_checkpoint(world, cnn_state, data):
    state = data.draw(training_states(cnn_state))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.safetensors"
        save_state(path, state)
        path.write_bytes(data.draw(damaged(path.read_bytes(), 0.2)))
        _, message = refused(lambda: load_state(path), path, CheckpointError)
        trainer = _trainer(cnn_state["config"])
        done, _ = refused(lambda: trainer.load_checkpoint(path), path, CheckpointError)
        if done is not None:
            for k, p in trainer.model.state_dict().items():
                # parameters and running statistics float32; counters (num_batches_tracked) int64
                assert p.dtype == (np.int64 if k.endswith("num_batches_tracked") else np.float32), k
                assert np.isfinite(p).all(), k
        assert_command(["eval", path], message)


TORCH_KEYS = {  # nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    "0.weight": (2, 3),
    "0.bias": (2,),
    "1.weight": (2,),
    "1.bias": (2,),
    "1.running_mean": (2,),
    "1.running_var": (2,),
    "1.num_batches_tracked": (),
}


@st.composite
def torch_files(draw):
    """The bytes of torch.save of a state dict (maybe nested) with 0-2 odd values, maybe damaged."""
    torch = pytest.importorskip("torch")
    floats = [torch.float32, torch.float32, torch.float64, torch.float16, torch.bfloat16]
    odd_dtypes = [torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64]
    state = {}
    rng = _rng(draw)
    spoilt = rng.choice(list(TORCH_KEYS), size=rng.choice([0, 0, 1, 1, 2]), replace=False)
    for key, shape in TORCH_KEYS.items():
        how = "good"
        if key in spoilt:
            how = str(rng.choice(["shape", "missing", "not a tensor", "nan", "dtype", "range"]))
        if how == "missing":
            continue
        if how == "not a tensor":
            state[key] = draw(st.sampled_from([1, 2.5, "w", [1.0, 2.0]]))
            continue
        if how == "shape":
            shape = draw(shapes)
        if key == "1.num_batches_tracked":
            dtypes = [torch.int64] if how == "good" else [torch.float32, *odd_dtypes]
        else:
            dtypes = floats if how != "dtype" else odd_dtypes
        values = np.random.default_rng(draw(st.integers(0, 99))).random(shape) * 4
        t = torch.from_numpy(np.asarray(values)).to(draw(st.sampled_from(dtypes)))
        if how == "nan" and t.is_floating_point() and t.numel():
            t.view(-1)[0] = float("nan")  # allowed: PyTorch checkpoints may hold NaN
        if how == "range":  # beyond float32, beyond int64
            big = key == "1.num_batches_tracked"
            t = torch.tensor(2**64 - 1, dtype=torch.uint64) if big else t.double() * 1e300
        state[key] = t
    if chance(draw, 1 / 6):
        state["extra.weight"] = torch.zeros(1)
    nestings = [state, state, {"state_dict": state}, {"model": state, "epoch": 3}, [state]]
    buf = io.BytesIO()
    torch.save(draw(st.sampled_from(nestings)), buf)
    return draw(damaged(buf.getvalue(), 0.4))


def _torch_model():
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


@examples(100)
@given(blob=torch_files())
def test_fuzz_pytorch_checkpoint(world, blob):
    import torch

    with written("model.pt", blob) as path:
        model = _torch_model()
        before = model.state_dict()
        report, _ = refused(lambda: gio.load_into(model, path), path, ValueError)
        after = model.state_dict()
        if report is None:
            for k, v in before.items():  # nothing changed
                np.testing.assert_array_equal(after[k], v)
        else:  # exactly what torch reads (a damaged file may still load, with other values)
            obj = torch.load(io.BytesIO(blob), weights_only=True)
            state = obj if "0.weight" in obj else obj.get("state_dict", obj.get("model"))
            for k, v in after.items():
                assert v.dtype == before[k].dtype, k
                assert state[k].is_floating_point() == (v.dtype.kind == "f"), k  # same kind
                source = state[k].float() if state[k].dtype.is_floating_point else state[k]
                np.testing.assert_array_equal(v, source.numpy().astype(v.dtype), err_msg=k)
        assert_command(["eval", path], None, succeeds=False)  # not a glassnet checkpoint
