"""The three training tasks of the ``glassnet`` command: data, model, loss and evaluation.

``cnn`` classifies images (bundled digits, MNIST, Fashion-MNIST, an NPZ file or an image folder),
``charlm`` models characters of a text (bundled Shakespeare or a text file), and ``forecast``
predicts a series (bundled sunspots, CO2, noisy sine, or a CSV column). Each task rebuilds its
model from the ``config`` stored in the checkpoint, so ``eval``, ``generate`` and ``forecast``
need nothing but the checkpoint file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as D
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..data.files import MAX_CLASSES
from ..data.series import Standardizer, ar_windows
from ..models import MLPAR, CharLM, LeNet, LinearAR, RNNForecaster
from ..seq.forecast import warmup_mse
from ..seq.lm import next_token_loss
from ..seq.tbptt import TBPTTLoader, TBPTTStream
from ..train.checkpoint import CheckpointError
from .main import CLIError

IMAGE_SETS = ("digits", "mnist", "fashion-mnist")
TEST_SETS = ("mnist", "fashion-mnist")  # with an official test set
TEXTS = ("sonnets", "tragedies")
SERIES = ("sunspots", "co2", "sine")
MAX_SERIES_VALUE = 1e150  # squares (and sums of 10**6 of them) stay finite in float64


def fingerprint(*arrays: np.ndarray) -> str:
    """A short SHA-256 of the arrays' dtypes, shapes and bytes: which data a run trained on."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.reshape(-1).view(np.uint8).data)
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------- images
def load_images(spec: str, *, train: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images (N, 1, S, S) float32 in [0, 1], labels (N,) int64, class names).

    ``mnist`` and ``fashion-mnist`` have an official test set: ``train=False`` gives it, the
    default the official training set. The other sets (bundled digits, an ``.npz`` file, an
    image folder) are one set, whatever ``train`` says; the command holds part of it out.
    """
    if spec == "digits":
        ds = D.load_digits(normalize=True)
        names = [str(c) for c in range(10)]
        return _square(ds.images, spec), ds.labels, names
    if spec in TEST_SETS:
        loader = D.load_mnist if spec == "mnist" else D.load_fashion_mnist
        ds = loader(train=train, normalize=True)
        names = [str(c) for c in range(10)] if spec == "mnist" else list(D.FASHION_MNIST_CLASSES)
        return _square(ds.images, spec), ds.labels, names
    path = Path(spec)
    if not path.exists():
        raise CLIError(
            f"image data {spec!r} is neither a bundled set ({', '.join(IMAGE_SETS)}) nor an "
            "existing .npz file or image folder"
        )
    if path.is_dir():
        images, labels, names = D.read_image_folder(path)
    elif path.suffix == ".npz":
        images, labels, names = D.read_image_npz(path)
    else:
        raise CLIError(f"{path}: expected an .npz file with arrays 'images' and 'labels'")
    return _square(images, spec), labels, names


def has_test_set(spec: str) -> bool:
    """Whether ``spec`` names a data set with an official test set (MNIST, Fashion-MNIST)."""
    return spec in TEST_SETS


def _square(images: np.ndarray, spec: str) -> np.ndarray:
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise CLIError(
            f"{spec}: expected square grey images (N, H, W) or (N, 1, H, W), got {images.shape}"
        )
    return np.ascontiguousarray(images, dtype=np.float32)


def cnn_logits(model: Any, images: np.ndarray) -> np.ndarray:
    """The model's logits (N, K) for images (N, 1, S, S), in batches of 256, without grad."""
    model.eval()
    with grad_mode.no_grad():
        return np.concatenate(
            [model(Tensor(images[i : i + 256])).data for i in range(0, len(images), 256)]
        )


def split_indices(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A stratified held-out split, reproducible from the seed stored in the checkpoint."""
    from ..experiments import stratified_split

    return stratified_split(labels, test_fraction, rng=np.random.default_rng(seed))


def build_cnn(cfg: dict[str, Any], *, rng: np.random.Generator | None = None) -> LeNet:
    m = cfg["model"]
    return LeNet(
        in_channels=1,
        num_classes=m["num_classes"],
        image_size=m["image_size"],
        channels=tuple(m["channels"]),
        hidden=tuple(m["hidden"]),
        batch_norm=m.get("batch_norm", False),
        dropout=m.get("dropout", 0.0),
        rng=rng,
    )


# ----------------------------------------------------------------------------- text
def load_text(spec: str) -> str:
    if spec in TEXTS:
        return D.load_shakespeare(spec)
    if not Path(spec).is_file():
        raise CLIError(
            f"text {spec!r} is neither a bundled text ({', '.join(TEXTS)}) nor an existing file"
        )
    return D.read_text_file(spec)


def build_charlm(cfg: dict[str, Any], *, rng: np.random.Generator | None = None) -> CharLM:
    m = cfg["model"]
    return CharLM(
        m["vocab_size"],
        embedding_dim=m["embedding_dim"],
        hidden_size=m["hidden_size"],
        num_layers=m["num_layers"],
        cell=m["cell"],
        rng=rng,
    )


class TextStream(TBPTTLoader):
    """Truncated-BPTT batches of a token stream, carrying the (detached) state across batches.

    The Trainer's loader, ``step_fn`` (``step``) and a callback keeping the carried state and
    position in checkpoints (``glassnet.seq.TBPTTLoader``); each epoch reads the text's
    ``batch_size`` streams from a random offset (its ``epoch_order``), ``num_steps`` at a time.
    """

    def __init__(
        self, ids: np.ndarray, batch_size: int, num_steps: int, *, rng: np.random.Generator
    ) -> None:
        self.ids, self.batch_size, self.num_steps, self.rng = ids, batch_size, num_steps, rng
        if ids.shape[0] - 1 < batch_size * num_steps:
            raise CLIError(
                f"the text has {ids.shape[0]} characters, fewer than batch_size * seq_len + 1 = "
                f"{batch_size * num_steps + 1}; use a longer text or smaller --batch-size/--seq-len"
            )
        super().__init__(*self._streams(0), num_steps, loss_fn=next_token_loss, time_dim=1)

    def _streams(self, offset: int) -> tuple[np.ndarray, np.ndarray]:
        return D.sequential_streams(
            self.ids[offset:], self.batch_size, self.num_steps, random_offset=False
        )

    def __len__(self) -> int:
        return ((self.ids.shape[0] - 1) // self.batch_size) // self.num_steps

    def epoch_order(self) -> np.ndarray:
        # below num_steps, and leaving one whole batch after the offset
        most = min(self.num_steps, self.ids.shape[0] - self.batch_size * self.num_steps)
        return np.array([int(self.rng.integers(0, most))])

    def make_stream(self, order: np.ndarray) -> TBPTTStream:
        offset = int(np.asarray(order).reshape(-1)[0])
        return TBPTTStream(*self._streams(offset), self.num_steps, time_dim=1)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        parts = state.get("state") if isinstance(state, dict) and "index" not in state else None
        if isinstance(parts, list):  # saved before the position was: [h] or [h, c]
            state = {"state": None if not parts else parts[0] if len(parts) == 1 else tuple(parts)}
        super().load_state_dict(state)


# ----------------------------------------------------------------------------- series
def load_series(spec: str, column: str | None) -> tuple[np.ndarray, str]:
    """(values float64 (T,), name)."""
    if spec == "sunspots":
        return D.load_sunspots().values.astype(np.float64), "sunspots"
    if spec == "co2":
        return D.load_co2(missing="interpolate").values.astype(np.float64), "co2"
    if spec == "sine":
        return D.noisy_sine(1000, rng=np.random.default_rng(0)).x.astype(np.float64), "sine"
    path = Path(spec)
    if not path.is_file():
        raise CLIError(
            f"series {spec!r} is neither a bundled series ({', '.join(SERIES)}) nor an existing "
            "CSV file"
        )
    if column is None:
        raise CLIError(f"{path}: pass --column NAME to choose the CSV column to forecast")
    values = D.read_csv_column(path, column, min_values=20)
    big = float(np.abs(values).max())
    if big > MAX_SERIES_VALUE:
        raise CLIError(
            f"{path}: column {column!r} has values up to {big:.3g}; forecasting squares them "
            f"(standardising, RMSE), which overflows beyond about {MAX_SERIES_VALUE:.0e}: "
            "rescale the column"
        )
    return values, f"{path.name}:{column}"


def build_forecaster(cfg: dict[str, Any], *, rng: np.random.Generator | None = None) -> Any:
    m = cfg["model"]
    kind = m["kind"]
    if kind == "ar":
        return LinearAR(m["tau"], rng=rng)
    if kind == "mlp":
        return MLPAR(m["tau"], hidden=m["hidden_size"], rng=rng)
    return RNNForecaster(kind, hidden_size=m["hidden_size"], num_layers=m["num_layers"], rng=rng)


def forecast_arrays(
    cfg: dict[str, Any], series: np.ndarray
) -> tuple[Standardizer, np.ndarray, int]:
    """The standardiser fitted on the training part, the standardised series and the split."""
    n_train = round(len(series) * (1 - cfg["data"]["test_fraction"]))
    scaler = Standardizer().fit(series[:n_train])
    return scaler, scaler.transform(series), n_train


def window_batches(z: np.ndarray, tau: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = ar_windows(z, tau)  # (n, tau), (n,)
    return X.astype(np.float32), y.astype(np.float32)


def subsequences(z: np.ndarray, length: int) -> np.ndarray:
    """Overlapping training subsequences (stride length // 2) of ``length + 1`` values."""
    length = min(length, len(z) - 1)
    starts = range(0, len(z) - length, max(length // 2, 1))
    return np.stack([z[s : s + length + 1] for s in starts]).astype(np.float32)  # (M, L+1)


def recurrent_step(warmup: int) -> Any:
    """The Trainer's step on subsequences (N, L + 1): one truncated-BPTT window each batch."""

    def step(model: Any, batch: Any) -> tuple[Tensor, Any, Any]:
        (seqs,) = batch if isinstance(batch, (tuple, list)) else (batch,)
        L = seqs.shape[1] - 1
        pred, y = TBPTTStream(seqs[:, :-1], seqs[:, 1:], L, time_dim=1).forward(model)
        return warmup_mse(min(warmup, L - 1))(pred, y), pred, y

    return step


# ----------------------------------------------------------------------------- checkpoint config
# Bounds on what a checkpoint's config may ask for, checked before anything is allocated; the
# decisive check is that the model the config describes has as many values as the checkpoint
# stores (``model_size``), so a config cannot ask for more memory than the file itself holds.
MAX_WIDTH = 1 << 20
CELLS = ("lstm", "gru", "rnn")
FORECASTERS = ("ar", "mlp", *CELLS)
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _need(d: Any, key: str, where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise CheckpointError(f"the checkpoint's config lacks {where}.{key}")
    return d[key]


def _int(d: Any, key: str, where: str, lo: int = 1, hi: int = MAX_WIDTH) -> int:
    v = _need(d, key, where)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise CheckpointError(
            f"the checkpoint's config {where}.{key} must be an int in [{lo}, {hi}], got {v!r}"
        )
    return v


def _fraction(d: Any, key: str, where: str) -> float:
    v = _need(d, key, where)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
        raise CheckpointError(
            f"the checkpoint's config {where}.{key} must be a number in (0, 1), got {v!r}"
        )
    return float(v)


def _choice(d: Any, key: str, where: str, choices: tuple[Any, ...]) -> Any:
    v = _need(d, key, where)
    if not isinstance(v, str) or v not in choices:
        raise CheckpointError(
            f"the checkpoint's config {where}.{key} must be one of {list(choices)}, got {v!r}"
        )
    return v


def _str(d: Any, key: str, where: str, optional: bool = False) -> Any:
    v = _need(d, key, where)
    if not (isinstance(v, str) or (optional and v is None)):
        raise CheckpointError(f"the checkpoint's config {where}.{key} must be a string, got {v!r}")
    return v


def _ints(d: Any, key: str, where: str, lo: int, hi: int) -> list[int]:
    v = _need(d, key, where)
    if not isinstance(v, list) or not lo <= len(v) <= hi:
        raise CheckpointError(
            f"the checkpoint's config {where}.{key} must be a list of {lo} to {hi} ints, got {v!r}"
        )
    return [_int({key: x}, key, where) for x in v]


def _rnn_size(gates: int, d_in: int, hidden: int, layers: int) -> int:
    """Values of nn.RNN/LSTM/GRU(d_in, hidden, layers): weights and both biases per layer."""
    first = gates * hidden * (d_in + hidden + 2)
    return first + (layers - 1) * gates * hidden * (2 * hidden + 2)


def model_size(cfg: dict[str, Any]) -> int:
    """Number of values in the state_dict of the model ``build_*`` makes from a checked config."""
    m = cfg["model"]
    if cfg["task"] == "cnn":
        S = m["image_size"]
        k = 5 if S >= 16 else 3  # LeNet's default kernel size
        total, c_in = 0, 1
        for c in m["channels"]:
            total += c * (c_in * k * k + 1) + (4 * c + 1 if m.get("batch_norm") else 0)
            c_in = c
        width = c_in * (S // 2 ** len(m["channels"])) ** 2
        for h in (*m["hidden"], m["num_classes"]):
            total += h * (width + 1)
            width = h
        return total
    if cfg["task"] == "charlm":
        V, E, H = m["vocab_size"], m["embedding_dim"], m["hidden_size"]
        return V * E + _rnn_size(_GATES[m["cell"]], E, H, m["num_layers"]) + V * (H + 1)
    tau, H = m["tau"], m["hidden_size"]
    if m["kind"] == "ar":
        return tau + 1
    if m["kind"] == "mlp":
        return H * (tau + 1) + H + 1
    return _rnn_size(_GATES[m["kind"]], 1, H, m["num_layers"]) + H + 1


def check_config(state: dict[str, Any]) -> dict[str, Any]:
    """Validate the config of a ``glassnet train`` checkpoint against its model; return it.

    Every entry the command reads is checked for type and range, and the model it describes
    must have exactly as many values as the checkpoint's weights, before anything is built.

    Raises:
        CheckpointError: naming the first entry that is missing or wrong.
    """
    cfg = state.get("config")
    if not isinstance(cfg, dict) or cfg.get("task") not in ("cnn", "charlm", "forecast"):
        raise CheckpointError("it was not written by `glassnet train` (it has no task config)")
    task = cfg["task"]
    data, m = _need(cfg, "data", "config"), _need(cfg, "model", "config")
    _str(data, "spec", "data")
    _str(data, "fingerprint", "data")
    if not isinstance(_need(cfg, "args", "config"), dict):
        raise CheckpointError("the checkpoint's config args must be a dict")
    if task == "cnn":
        _fraction(data, "test_fraction", "data")
        _int(data, "split_seed", "data", lo=-(2**63), hi=2**64 - 1)
        k = _int(m, "num_classes", "model", hi=MAX_CLASSES)
        S = _int(m, "image_size", "model", hi=1 << 14)
        blocks = len(_ints(m, "channels", "model", 1, 16))
        _ints(m, "hidden", "model", 0, 16)
        if S // 2**blocks < 1:
            raise CheckpointError(f"the config's image_size {S} is too small for {blocks} blocks")
        if not isinstance(m.get("batch_norm", False), bool):
            raise CheckpointError("the checkpoint's config model.batch_norm must be a bool")
        p = m.get("dropout", 0.0)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise CheckpointError(
                f"the checkpoint's config model.dropout must be a number in [0, 1), got {p!r}"
            )
        classes = _need(cfg, "classes", "config")
        if not isinstance(classes, list) or len(classes) != k:
            raise CheckpointError(f"the checkpoint's config classes must be a list of {k} names")
    elif task == "charlm":
        _fraction(data, "val_fraction", "data")
        V = _int(m, "vocab_size", "model")
        _int(m, "embedding_dim", "model")
        _int(m, "hidden_size", "model")
        _int(m, "num_layers", "model", hi=64)
        _choice(m, "cell", "model", CELLS)
        _int(cfg, "seq_len", "config")
        try:
            vocab = D.CharVocab.from_dict(_need(cfg, "vocab", "config"))
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"the checkpoint's vocabulary is invalid: {e}") from None
        if len(vocab) != V:
            raise CheckpointError(f"the config's vocabulary has {len(vocab)} entries, not {V}")
    else:
        _fraction(data, "test_fraction", "data")
        _str(data, "column", "data", optional=True)
        _str(data, "name", "data")
        _choice(m, "kind", "model", FORECASTERS)
        _int(m, "tau", "model")
        _int(m, "hidden_size", "model")
        _int(m, "num_layers", "model", hi=64)
    weights = state.get("model")
    if not isinstance(weights, dict) or not all(
        isinstance(v, np.ndarray) for v in weights.values()
    ):
        raise CheckpointError("the checkpoint's model entry is not a dict of arrays")
    want, have = model_size(cfg), sum(int(v.size) for v in weights.values())
    if want != have:
        raise CheckpointError(
            f"the config describes a {task} model of {want} values, the checkpoint holds {have}"
        )
    return cfg
