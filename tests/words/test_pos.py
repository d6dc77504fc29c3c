"""Verb/noun weights of a vocabulary from WordNet 3.0: the rule, the cache, no WordNet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.errors import ActionLensError, TaskCancelled
from desktop_app.progress import NullProgress
from desktop_app.words import pos as pos_module
from desktop_app.words.pos import (
    PARTS_OF_SPEECH,
    WordNetUnavailable,
    WordPos,
    load_word_pos,
    pos_weights,
    vocabulary_key,
    word_pos_of,
)
from desktop_app.words.vectors import WordVectors
from desktop_app.words.wordnet import WordNet

WORDS = ["star", "swing", "dance", "legendary", "ball", "spinning", "best", "a", "1990", "zzqx", "planet"]


@pytest.fixture(scope="module")
def wordnet(tmp_path_factory: pytest.TempPathFactory) -> WordNet:
    try:
        return WordNet.load(cache_dir=tmp_path_factory.mktemp("wordnet-cache"))
    except ActionLensError as err:
        pytest.fail(f"these tests need WordNet 3.0 on this machine: {err}", pytrace=False)


@pytest.fixture
def no_wordnet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """WordNet looked for where there is none (the real loader, so the real message)."""
    empty = tmp_path / "no-wordnet"
    empty.mkdir()
    monkeypatch.setattr(
        pos_module,
        "_load_wordnet",
        lambda: WordNet.load([empty], default_paths=False, cache_dir=tmp_path / "wn-cache"),
    )


def _listed(word_pos: WordPos, pos: str) -> set[str]:
    return {w for w, keep in zip(WORDS, word_pos.mask(pos), strict=True) if keep}  # type: ignore[arg-type]


def test_a_word_counts_as_the_parts_of_speech_it_is_mostly_used_as(wordnet: WordNet) -> None:
    word_pos = WordPos(pos_weights(WORDS, wordnet), "test")
    assert word_pos.weights.shape == (len(WORDS), len(PARTS_OF_SPEECH))
    # star has verb senses ("star in a film") but is mostly a noun; swing mostly a verb; dance both.
    assert _listed(word_pos, "verb") == {"swing", "dance", "spinning"}
    assert _listed(word_pos, "noun") == {"star", "dance", "ball", "planet"}
    star = WORDS.index("star")
    assert 0 < word_pos.share("verb")[star] < 1 / 3 < word_pos.share("noun")[star]
    # legendary is an adjective only, best mostly one; "a" and "1990" are skipped; zzqx is unknown.
    for word in ("legendary", "best", "a", "1990", "zzqx"):
        i = WORDS.index(word)
        assert not word_pos.mask("verb")[i] and not word_pos.mask("noun")[i], word
    assert word_pos.weights[WORDS.index("legendary"), PARTS_OF_SPEECH.index("adjective")] > 0
    assert np.all(word_pos.weights[[WORDS.index(w) for w in ("a", "1990", "zzqx")]] == 0)
    assert np.isnan(word_pos.share("verb")[WORDS.index("zzqx")])
    # An inflection carries its lemma's weight.
    np.testing.assert_array_equal(
        word_pos.weights[WORDS.index("spinning"), 0], pos_weights(["spin"], wordnet)[0, 0]
    )


def test_masks_over_the_first_words_and_unknown_parts_of_speech(wordnet: WordNet) -> None:
    word_pos = WordPos(pos_weights(WORDS, wordnet), "test")
    np.testing.assert_array_equal(word_pos.mask("noun", 3), word_pos.mask("noun")[:3])
    with pytest.raises(ActionLensError, match="unknown part of speech 'adj'"):
        word_pos.mask("adj")  # type: ignore[arg-type]


def test_weights_are_cached_as_npy_and_read_back_without_wordnet(
    wordnet: WordNet, tmp_path: Path, no_wordnet: None
) -> None:
    cache = tmp_path / "pos-cache"
    first = load_word_pos(WORDS, cache_dir=cache, wordnet=wordnet)
    entry = cache / f"{vocabulary_key(WORDS)}.v{pos_module.POS_CACHE_VERSION}.npy"
    assert entry.is_file() and entry.with_suffix(".json").is_file()
    np.testing.assert_array_equal(np.load(entry, allow_pickle=False), first.weights)
    again = load_word_pos(WORDS, cache_dir=cache)  # no WordNet now: the cache answers
    np.testing.assert_array_equal(again.weights, first.weights)
    assert again.source == str(entry)
    # Another vocabulary has its own entry, and without WordNet it cannot be computed.
    with pytest.raises(WordNetUnavailable, match=r"nearest verbs and nouns need WordNet.*apt-get install"):
        load_word_pos(WORDS[:-1], cache_dir=cache)


def test_a_damaged_entry_is_computed_again(wordnet: WordNet, tmp_path: Path) -> None:
    cache = tmp_path / "pos-cache"
    load_word_pos(WORDS, cache_dir=cache, wordnet=wordnet)
    (entry,) = cache.glob("*.npy")
    entry.write_bytes(b"not an array")
    repaired = load_word_pos(WORDS, cache_dir=cache, wordnet=wordnet)
    assert repaired.weights.shape == (len(WORDS), len(PARTS_OF_SPEECH))
    np.testing.assert_array_equal(np.load(entry, allow_pickle=False), repaired.weights)


def test_tagging_stops_when_cancelled(wordnet: WordNet) -> None:
    progress = NullProgress()
    progress.cancel()
    with pytest.raises(TaskCancelled):
        pos_weights(WORDS, wordnet, progress)


def test_word_pos_of_is_computed_once_per_word_vectors(
    wordnet: WordNet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONLENS_CACHE", str(tmp_path))
    loads: list[int] = []

    def counting_load() -> WordNet:
        loads.append(1)
        return wordnet

    monkeypatch.setattr(pos_module, "_load_wordnet", counting_load)
    vectors = WordVectors.from_arrays(WORDS, np.eye(len(WORDS), dtype=np.float32))
    first = word_pos_of(vectors)
    assert word_pos_of(vectors) is first
    assert loads == [1]
    assert (tmp_path / "word_pos").is_dir()
