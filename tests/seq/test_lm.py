"""Language modelling: perplexity, unigram baseline, sampling, truncated-BPTT training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassnet
from glassnet.data import CharVocab
from glassnet.models import CharLM
from glassnet.seq.lm import (
    lm_nll,
    next_token_probs,
    nll_from_logits,
    perplexity,
    sample,
    train_lm_epoch,
    unigram_perplexity,
)


def _lm(V: int, cell: str = "lstm", seed: int = 0) -> CharLM:
    return CharLM(
        V, embedding_dim=3, hidden_size=5, cell=cell, rng=np.random.default_rng(seed)
    ).double()


def _uniform(V: int) -> CharLM:
    lm = _lm(V)
    with glassnet.no_grad():
        lm.fc.weight.zero_()
        lm.fc.bias.zero_()
    return lm


def test_uniform_model_has_perplexity_vocab_size():
    for V in (2, 7, 30):
        ids = np.random.default_rng(V).integers(0, V, 101)
        assert perplexity(_uniform(V), ids, batch_size=4, num_steps=7) == pytest.approx(
            V, rel=1e-12
        )


def test_perplexity_is_the_chain_rule_over_the_stream():
    lm = _lm(6, cell="gru")
    ids = np.random.default_rng(0).integers(0, 6, 41)
    with glassnet.no_grad():
        logits, _ = lm(ids[None, :-1])  # one pass over the whole text
    logp = logits.data[0] - np.log(np.exp(logits.data[0]).sum(-1, keepdims=True))  # (40, V)
    nll = -logp[np.arange(40), ids[1:]].sum()
    total, count = lm_nll(lm, ids, batch_size=1, num_steps=6)  # chunks carry the state
    assert count == 40
    assert total == pytest.approx(nll, rel=1e-12)
    assert perplexity(lm, ids, batch_size=1, num_steps=100) == pytest.approx(
        np.exp(nll / 40), rel=1e-12
    )
    # parallel parts restart from the zero state: every token but B - 1 trailing ones is scored
    _, count = lm_nll(lm, ids, batch_size=3, num_steps=4)
    assert count == 39


def test_nll_from_logits():
    total, n = nll_from_logits(np.log([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]), [0, 2])
    assert n == 2 and total == pytest.approx(-np.log(0.5) - np.log(0.8))
    with pytest.raises(ValueError, match="logits"):
        nll_from_logits(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"targets in \[0, 3\)"):
        nll_from_logits(np.zeros((2, 3)), [0, 3])


def test_unigram_perplexity():
    assert unigram_perplexity([0, 0, 0, 1], [0, 1], 2, smoothing=0.0) == pytest.approx(
        np.exp(-(np.log(0.75) + np.log(0.25)) / 2)
    )
    v = CharVocab("abc")
    # add-one smoothing: counts a=2+1, b=1+1, c=0+1 out of 6 -> p(a)=1/2, p(b)=1/3 on "ab"
    assert unigram_perplexity("aab", "ab", vocab=v) == pytest.approx(np.sqrt(6.0))
    with pytest.raises(ValueError, match="smoothing=0"):
        unigram_perplexity([0, 0], [1], 2, smoothing=0.0)
    with pytest.raises(ValueError, match="vocab_size or vocab"):
        unigram_perplexity([0], [0])


def test_next_token_probs_temperature_and_top_k():
    logits = np.array([2.0, 1.0, 0.5, -1.0])

    def entropy(p):
        p = p[p > 0]
        return -(p * np.log(p)).sum()

    hs = [entropy(next_token_probs(logits, temperature=t)) for t in (0.25, 0.5, 1.0, 2.0, 8.0)]
    assert all(a < b for a, b in itertools.pairwise(hs))  # hotter is flatter
    assert hs[-1] < np.log(4)
    p1 = next_token_probs(logits)
    assert p1 == pytest.approx(np.exp(logits) / np.exp(logits).sum())
    p2 = next_token_probs(logits, top_k=2)
    assert p2[2:].tolist() == [0.0, 0.0]
    assert p2[:2] == pytest.approx(np.exp(logits[:2]) / np.exp(logits[:2]).sum())
    assert next_token_probs(logits, top_k=1).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert next_token_probs(logits, top_k=1, exclude=[0]).tolist() == [0.0, 1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        next_token_probs(logits, temperature=0)


def test_sampling_is_reproducible_and_greedy_with_top_k_1():
    v = CharVocab("abcdefg ")
    lm = _lm(len(v), seed=3)
    a = sample(lm, v, "abc", 30, rng=np.random.default_rng(5))
    b = sample(lm, v, "abc", 30, rng=np.random.default_rng(5))
    c = sample(lm, v, "abc", 30, rng=np.random.default_rng(6))
    assert a == b and a != c and a.startswith("abc") and len(a) == 33
    greedy = sample(lm, v, "abc", 12, top_k=1, rng=np.random.default_rng(0))
    assert greedy == sample(lm, v, "abc", 12, top_k=1, rng=np.random.default_rng(1))
    # greedy by hand: warm up on the prefix, then always the arg-max, fed back
    with glassnet.no_grad():
        logits, s = lm(v.encode("abc")[None])
        out = []
        for _ in range(12):
            nxt = int(np.argmax(logits.data[0, -1]))
            out.append(nxt)
            logits, s = lm(np.array([[nxt]]), s)
    assert greedy == "abc" + v.decode(out)


def test_low_temperature_concentrates_samples():
    v = CharVocab("abcd")
    lm = _lm(len(v), seed=1)
    with glassnet.no_grad():
        lm.fc.weight.zero_()
        lm.fc.bias.copy_(glassnet.tensor([1.0, 0.0, 0.0, 0.0]))  # 'a' most likely everywhere
    cold = sample(lm, v, "b", 300, temperature=0.2, rng=np.random.default_rng(0))[1:]
    hot = sample(lm, v, "b", 300, temperature=5.0, rng=np.random.default_rng(0))[1:]
    assert cold.count("a") > 290  # p(a) = 0.993
    assert 60 < hot.count("a") < 120  # p(a) = 0.30


def test_characters_outside_a_fixed_vocabulary():
    strict = CharVocab("abc ")
    lm = _lm(len(strict))
    with pytest.raises(ValueError, match=r"not in the vocabulary: 'x', 'z'"):
        sample(lm, strict, "abxz", 5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        perplexity(lm, "abc abq", vocab=strict, batch_size=1)
    with pytest.raises(ValueError, match="pass vocab="):
        perplexity(lm, "abc")
    lenient = CharVocab("abc ", unknown="replace")  # '<unk>' is id 0
    lm2 = _lm(len(lenient))
    with glassnet.no_grad():
        lm2.fc.bias.copy_(glassnet.tensor([50.0, 0.0, 0.0, 0.0, 0.0]))  # the model loves '<unk>'
    out = sample(lm2, lenient, "abxz", 40, rng=np.random.default_rng(0))
    assert out.startswith("abxz") and "<unk>" not in out[4:]  # never drawn
    assert np.isfinite(perplexity(lm2, "ab?c", vocab=lenient, batch_size=1))
    with pytest.raises(ValueError, match="vocab_size is 4 but the vocabulary has 5"):
        sample(lm, lenient, "ab", 3)


def test_sample_argument_errors():
    v = CharVocab("ab")
    lm = _lm(2)
    with pytest.raises(ValueError, match="non-empty prefix"):
        sample(lm, v, "", 5)
    with pytest.raises(ValueError, match="length must be an int >= 0"):
        sample(lm, v, "a", -1)
    with pytest.raises(TypeError, match="CharVocab"):
        sample(lm, ["a", "b"], "a", 1)
    assert sample(lm, v, "ab", 0) == "ab"


def test_truncated_bptt_training_learns_a_pattern():
    text = "abcd" * 300
    v = CharVocab(text)
    lm = CharLM(len(v), 4, 16, rng=np.random.default_rng(0))
    opt = glassnet.optim.Adam(lm.parameters(), lr=2e-2)
    gen = np.random.default_rng(0)
    before = perplexity(lm, text, vocab=v, batch_size=4)
    losses = [
        train_lm_epoch(lm, text, opt, vocab=v, batch_size=8, num_steps=10, rng=gen)
        for _ in range(4)
    ]
    assert losses[-1] < losses[0]
    after = perplexity(lm, text, vocab=v, batch_size=4)
    assert before > 3.0 and after < 1.2  # the sequence is deterministic after one character
    assert sample(lm, v, "ab", 8, top_k=1) == "abcdabcdab"
