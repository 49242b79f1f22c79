"""CharVocab and the text streams for truncated BPTT."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet.data import CharVocab, load_shakespeare, random_batches, sequential_batches


# ----------------------------------------------------------------------------- CharVocab
def test_vocab_sorted_unique_chars():
    v = CharVocab("hello world")
    assert v.itos == sorted(set("hello world")) and len(v) == 8
    assert v.stoi["h"] == v.itos.index("h") and v.unk_index is None
    ids = v.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [v.stoi[c] for c in "hello"]
    assert v.decode(ids) == "hello"
    assert v.decode(glassnet.from_numpy(ids)) == "hello"
    assert v.decode([]) == "" and v.encode("").shape == (0,)
    assert v.decode(np.stack([ids, ids[::-1]])) == ["hello", "olleh"]
    assert "h" in v and "z" not in v


@given(st.text(alphabet=st.sampled_from("ab Z\n\t\x00~\u00e9\u4e2d\U0001f600\udc80"), min_size=1))
def test_vocab_roundtrip_any_unicode(text):
    v = CharVocab(text)
    ids = v.encode(text)
    assert ids.shape == (len(text),)
    assert ids.min() >= 0 and ids.max() < len(v)
    assert v.decode(ids) == text
    # ids follow code-point order
    np.testing.assert_array_equal(np.argsort(v.itos, kind="stable"), np.arange(len(v)))


def test_vocab_on_shakespeare_roundtrip():
    text = load_shakespeare("sonnets")
    v = CharVocab(text)
    ids = v.encode(text)
    assert v.decode(ids) == text
    np.testing.assert_array_equal(ids[:50], [v.stoi[c] for c in text[:50]])


def test_unknown_error_lists_offending_characters():
    v = CharVocab("abc ")
    with pytest.raises(ValueError) as info:
        v.encode("a cab éaé€ a")
    msg = str(info.value)
    assert "2 character(s) not in the vocabulary: 'é', '€'" in msg
    assert "3 occurrence(s), first at position 6" in msg
    assert "unknown='replace'" in msg


def test_unknown_replace_maps_to_unk():
    v = CharVocab("abc", unknown="replace")
    assert v.itos == ["<unk>", "a", "b", "c"] and v.unk_index == 0 and len(v) == 4
    assert v.chars == ["a", "b", "c"]
    ids = v.encode("abzc\u4e2d")
    assert ids.tolist() == [1, 2, 0, 3, 0]
    assert v.decode(ids) == "ab<unk>c<unk>"
    assert "<unk>" not in v


def test_vocab_errors():
    v = CharVocab("ab")
    with pytest.raises(ValueError, match=r"ids in \[0, 2\), got \[2, 5\]"):
        v.decode([0, 5, 2])
    with pytest.raises(TypeError, match="integer ids"):
        v.decode([0.0, 1.0])
    with pytest.raises(TypeError, match="expected a str"):
        v.encode(["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty text"):
        CharVocab("")
    with pytest.raises(ValueError, match="unknown must be 'error' or 'replace'"):
        CharVocab("ab", unknown="ignore")


def test_vocab_save_load(tmp_path):
    for unknown in ("error", "replace"):
        v = CharVocab('To be, or not to be: "that" is\n\tthe question? \u00e9', unknown=unknown)
        path = tmp_path / f"vocab-{unknown}.json"
        v.save(path)
        w = CharVocab.load(path)
        assert w == v and w.itos == v.itos and w.unknown == unknown
        d = json.loads(path.read_text())
        assert d["format"] == "glassnet.CharVocab" and d["version"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab-error.json", "vocab-replace.json"]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON CharVocab file"):
        CharVocab.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "something"}')
    with pytest.raises(ValueError, match="not a saved CharVocab"):
        CharVocab.load(tmp_path / "other.json")


# ----------------------------------------------------------------------------- streams
def test_sequential_batches_layout_without_offset():
    batches = list(sequential_batches(np.arange(20), 2, 3, random_offset=False))
    # 19 usable inputs -> 2 streams of 9 tokens -> 3 batches of 3 steps
    assert len(batches) == 3
    X0, Y0 = batches[0]
    assert X0.dtype == np.int64 and X0.shape == (2, 3)
    assert X0.tolist() == [[0, 1, 2], [9, 10, 11]] and Y0.tolist() == [[1, 2, 3], [10, 11, 12]]
    assert batches[1][0].tolist() == [[3, 4, 5], [12, 13, 14]]
    assert batches[2][1].tolist() == [[7, 8, 9], [16, 17, 18]]


@given(
    L=st.integers(2, 300),
    B=st.integers(1, 6),
    T=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_sequential_batches_streams_continue(L, B, T, seed):
    corpus = np.arange(L)  # token value == position, so continuity is easy to see
    if L - 1 < B * T:
        with pytest.raises(ValueError, match="needs at least batch_size"):
            next(sequential_batches(corpus, B, T, rng=np.random.default_rng(seed)))
        return
    batches = list(sequential_batches(corpus, B, T, rng=np.random.default_rng(seed)))
    assert len(batches) >= 1
    X = np.concatenate([b[0].data for b in batches], axis=1)  # (B, n*T)
    Y = np.concatenate([b[1].data for b in batches], axis=1)
    for x, y in batches:
        assert x.shape == y.shape == (B, T)
    np.testing.assert_array_equal(Y, X + 1)  # Y is X shifted by one
    np.testing.assert_array_equal(np.diff(X, axis=1), 1)  # each row is one contiguous stream
    offset = int(X[0, 0])
    assert 0 <= offset < T
    per_stream = (L - offset - 1) // B
    np.testing.assert_array_equal(X[:, 0], offset + per_stream * np.arange(B))
    assert X.shape[1] == (per_stream // T) * T
    assert Y.max() < L


def test_sequential_offsets_vary_per_epoch_and_are_reproducible():
    ids = np.arange(1000)
    rng = np.random.default_rng(0)
    offsets = [int(next(sequential_batches(ids, 4, 10, rng=rng))[0].data[0, 0]) for _ in range(30)]
    assert len(set(offsets)) > 3 and min(offsets) >= 0 and max(offsets) < 10
    rng2 = np.random.default_rng(0)
    again = [int(next(sequential_batches(ids, 4, 10, rng=rng2))[0].data[0, 0]) for _ in range(30)]
    assert offsets == again


def test_random_batches():
    L, B, T = 203, 4, 5
    corpus = np.arange(L)
    batches = list(random_batches(corpus, B, T, rng=np.random.default_rng(0)))
    X = np.concatenate([b[0].data for b in batches])  # (n*B, T)
    Y = np.concatenate([b[1].data for b in batches])
    assert all(b[0].shape == (B, T) and b[0].dtype == np.int64 for b in batches)
    np.testing.assert_array_equal(Y, X + 1)
    np.testing.assert_array_equal(np.diff(X, axis=1), 1)
    starts = X[:, 0]
    assert len(set(starts.tolist())) == len(starts)  # non-overlapping subsequences
    assert len(set((starts % T).tolist())) == 1  # all on the grid of one offset
    assert not np.all(np.diff(starts) > 0)  # shuffled
    n_sub = (L - int(starts.min() % T) - 1) // T
    assert len(batches) == n_sub // B


def test_stream_errors():
    with pytest.raises(ValueError, match=r"at least batch_size \* num_steps \+ 1 = 13 tokens"):
        next(sequential_batches(np.arange(12), 3, 4))
    with pytest.raises(ValueError, match=r"1-d sequence of token ids, got shape \(2, 5\)"):
        next(sequential_batches(np.zeros((2, 5), int), 1, 2))
    with pytest.raises(TypeError, match="integer token ids"):
        next(sequential_batches(np.zeros(50), 2, 3))
    with pytest.raises(ValueError, match="num_steps must be an int >= 1, got 0"):
        next(random_batches(np.arange(50), 2, 0))
