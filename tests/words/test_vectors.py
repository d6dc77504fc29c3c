"""Tests of the word-vector service: default GloVe cache, lookups, phrase means, file formats."""

from __future__ import annotations

import difflib
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.words.vectors import WordVectors, default_cache_dir, phrase_words

TINY_WORDS = ["the", "play", "piano", "violin", "ball", "Bounce"]


@pytest.fixture
def tiny_vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.normal(size=(len(TINY_WORDS), 4)).astype(np.float32)


def write_text_vectors(path: Path, vectors: np.ndarray, header: bool) -> None:
    lines = [f"{len(TINY_WORDS)} {vectors.shape[1]}"] if header else []
    lines += [f"{w} " + " ".join(f"{x:.6f}" for x in row) for w, row in zip(TINY_WORDS, vectors, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cache_entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


# ------------------------------------------------------------------------------ default GloVe
def test_default_glove_is_converted_into_the_cache_and_reloaded_from_it(
    glove: WordVectors, glove_cache_dir: Path
) -> None:
    assert glove.cache_path is not None and glove.cache_path.parent == glove_cache_dir
    assert (glove.cache_path / "vectors.npy").is_file() and (glove.cache_path / "meta.json").is_file()
    assert not [name for name in cache_entries(glove_cache_dir) if name.startswith(".")]  # no temp dirs

    written_at = (glove.cache_path / "meta.json").stat().st_mtime_ns
    again = WordVectors.load("glove-6b-50d", cache_dir=glove_cache_dir)
    assert again.cache_path == glove.cache_path
    assert (glove.cache_path / "meta.json").stat().st_mtime_ns == written_at  # not converted again
    assert isinstance(again.vectors, np.memmap)  # read from the cache, not rebuilt
    np.testing.assert_array_equal(again.vector("piano"), glove.vector("piano"))


def test_default_glove_describes_itself(glove: WordVectors) -> None:
    source = glove.source
    assert json.loads(json.dumps(source)) == source
    assert source["name"] == "glove-6b-50d"
    assert (source["dim"], source["vocabulary_size"]) == (50, 400_000)
    assert glove.dim == 50 and len(glove) == 400_000


def test_lookup_folds_case(glove: WordVectors) -> None:
    assert "Piano" in glove and " PIANO " in glove and "piano" in glove
    np.testing.assert_array_equal(glove.vector("Piano"), glove.vector("piano"))
    assert 42 not in glove


def test_phrase_vector_is_the_mean_of_its_unique_word_vectors(glove: WordVectors) -> None:
    expected = np.mean([glove.vector(w) for w in ("playing", "piano", "violin")], axis=0)
    np.testing.assert_allclose(glove.phrase_vector("Playing_piano-violin piano"), expected, rtol=1e-6)
    np.testing.assert_allclose(glove.phrase_vector("piano"), glove.vector("piano"))
    assert phrase_words(" rock_climbing  indoor-rock ") == ["rock", "climbing", "indoor"]


def test_unknown_word_names_it_and_suggests_spellings(glove: WordVectors) -> None:
    with pytest.raises(UnknownWordError) as caught:
        glove.vector("basketbll")
    assert caught.value.word == "basketbll"
    assert caught.value.suggestions[0] == "basketball"
    assert "'basketbll'" in str(caught.value) and "basketball" in str(caught.value)
    assert isinstance(caught.value, ActionLensError) and isinstance(caught.value, KeyError)

    with pytest.raises(UnknownWordError, match="nunchuks") as rare:
        glove.phrase_vector("swing nunchuks")
    assert "nunchucks" in rare.value.suggestions  # found among the rare words too
    with pytest.raises(ActionLensError, match="no words"):
        glove.phrase_vector(" _- ")


def test_most_similar_ranks_frequent_words_by_cosine(glove: WordVectors) -> None:
    query = glove.vector("king") - glove.vector("man") + glove.vector("woman")
    ranked = glove.most_similar(query, k=5, exclude=["King", "man", "woman"])
    assert ranked[0][0] == "queen"
    assert len(ranked) == 5 and not {"king", "man", "woman"} & {w for w, _ in ranked}
    cosines = [c for _, c in ranked]
    assert cosines == sorted(cosines, reverse=True)

    top_words = set(glove.frequent_words(1000))
    assert all(
        w in top_words for w, _ in glove.most_similar(glove.vector("violin"), k=10, vocabulary_limit=1000)
    )
    word, cosine = glove.most_similar(glove.vector("violin"), k=1, vocabulary_limit=None)[0]
    assert word == "violin" and cosine == pytest.approx(1.0, abs=1e-5)

    with pytest.raises(ActionLensError, match="zero"):
        glove.most_similar(np.zeros(50, dtype=np.float32))
    with pytest.raises(ActionLensError, match="3-d vector"):
        glove.most_similar(np.ones(3))


def test_reading_the_cache_does_not_import_gensim(glove: WordVectors, glove_cache_dir: Path) -> None:
    # A cold `actionlens query` spent over a second importing gensim (and scipy.stats) only to
    # wrap the cached arrays; the cache is read with numpy and json alone.
    script = (
        "import sys; from desktop_app.words.vectors import WordVectors; "
        f"wv = WordVectors.load(cache_dir={str(glove_cache_dir)!r}); "
        "wv.most_similar(wv.phrase_vector('spin ball')); wv.suggest('basketbll'); "
        "print(wv.cache_path is not None, 'gensim' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]


def test_without_gensim_ranks_as_gensim_does(glove: WordVectors) -> None:
    # The same ranked lists as gensim's own KeyedVectors over the same arrays.
    keyed = glove.keyed_vectors
    assert keyed.index_to_key == glove.words and keyed.vectors is glove.vectors
    for words in (["spin", "ball"], ["violin"], ["basketball", "dunk"]):
        query = np.mean([glove.vector(w) for w in words], axis=0)
        ours = glove.most_similar(query, k=10, exclude=words)
        theirs = keyed.most_similar(positive=[query], topn=10 + len(words), restrict_vocab=50_000)
        expected = [(w, c) for w, c in theirs if w not in words][:10]
        assert [w for w, _ in ours] == [w for w, _ in expected]
        np.testing.assert_allclose([c for _, c in ours], [c for _, c in expected], atol=1e-5)
    np.testing.assert_array_equal(glove.vector("Piano"), keyed["piano"])
    # Suggestions: the close matches among gensim's most frequent words, most frequent spelling.
    frequent = list(dict.fromkeys(w.casefold() for w in keyed.index_to_key[:50_000]))
    for typo in ("basketbll", "violn", "Guitr"):
        assert glove.suggest(typo) == difflib.get_close_matches(typo.casefold(), frequent, n=3, cutoff=0.75)


def test_frequent_words_come_most_frequent_first(glove: WordVectors) -> None:
    assert glove.frequent_words(4) == ["the", ",", ".", "of"]
    assert glove.frequent_words(0) == []


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACTIONLENS_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "word_vectors"
    monkeypatch.delenv("ACTIONLENS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "actionlens" / "word_vectors"


# --------------------------------------------------------------------------- user-named files
@pytest.mark.parametrize(
    ("file_name", "header", "expected_format"),
    [("tiny.txt", True, "word2vec-text"), ("tiny.vec", True, "word2vec-text"), ("glove.txt", False, "glove")],
)
def test_text_files_load_and_are_cached(
    tmp_path: Path, tiny_vectors: np.ndarray, file_name: str, header: bool, expected_format: str
) -> None:
    path = tmp_path / file_name
    write_text_vectors(path, tiny_vectors, header=header)
    cache = tmp_path / "cache"

    loaded = WordVectors.load(path, cache_dir=cache)

    assert loaded.source["format"] == expected_format and loaded.source["path"] == str(path.resolve())
    assert (loaded.dim, len(loaded)) == (4, len(TINY_WORDS))
    assert loaded.frequent_words() == TINY_WORDS
    np.testing.assert_allclose(loaded.vector("PIANO"), tiny_vectors[2], atol=1e-6)
    np.testing.assert_allclose(loaded.vector("Bounce"), tiny_vectors[5], atol=1e-6)  # as typed, mixed case
    assert loaded.cache_path is not None and loaded.cache_path.parent == cache


def test_gzipped_text_file_loads(tmp_path: Path, tiny_vectors: np.ndarray) -> None:
    plain = tmp_path / "tiny.txt"
    write_text_vectors(plain, tiny_vectors, header=False)
    packed = tmp_path / "tiny.txt.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))

    loaded = WordVectors.load(packed, cache_dir=tmp_path / "cache")

    assert loaded.source["format"] == "glove" and len(loaded) == len(TINY_WORDS)
    np.testing.assert_allclose(loaded.vector("violin"), tiny_vectors[3], atol=1e-6)


def test_vector_returns_a_copy(tmp_path: Path, tiny_vectors: np.ndarray) -> None:
    words = WordVectors.from_arrays(TINY_WORDS, tiny_vectors)
    words.vector("piano")[:] = 0.0
    tiny_vectors[2] = 5.0
    assert np.count_nonzero(words.vector("piano")) == 4 and words.vector("piano")[0] != 5.0


def test_cached_text_file_is_read_from_the_cache_until_the_file_changes(
    tmp_path: Path, tiny_vectors: np.ndarray
) -> None:
    path = tmp_path / "tiny.txt"
    write_text_vectors(path, tiny_vectors, header=True)
    cache = tmp_path / "cache"
    first = WordVectors.load(path, cache_dir=cache)
    assert first.cache_path is not None
    # Mark the cached copy; a load that uses the cache sees the mark, a re-parse would not.
    marked = np.load(first.cache_path / "vectors.npy")
    marked[2] = 99.0
    np.save(first.cache_path / "vectors.npy", marked)
    assert WordVectors.load(path, cache_dir=cache).vector("piano")[0] == 99.0

    write_text_vectors(path, tiny_vectors * 2, header=True)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    changed = WordVectors.load(path, cache_dir=cache)
    np.testing.assert_allclose(changed.vector("piano"), tiny_vectors[2] * 2, atol=1e-5)
    assert changed.cache_path is not None
    assert cache_entries(cache) == [changed.cache_path.name]  # the stale entry is gone


def test_damaged_cache_entry_is_rebuilt(tmp_path: Path, tiny_vectors: np.ndarray) -> None:
    path = tmp_path / "tiny.txt"
    write_text_vectors(path, tiny_vectors, header=True)
    cache = tmp_path / "cache"
    entry = WordVectors.load(path, cache_dir=cache).cache_path
    assert entry is not None
    (entry / "vectors.npy").write_bytes(b"\x93NUMPY truncated")
    rebuilt = WordVectors.load(path, cache_dir=cache)
    np.testing.assert_allclose(rebuilt.vector("ball"), tiny_vectors[4], atol=1e-6)


def test_word2vec_binary_loads(tmp_path: Path, tiny_vectors: np.ndarray) -> None:
    written = WordVectors.from_arrays(TINY_WORDS, tiny_vectors)
    path = tmp_path / "tiny.bin"
    written.keyed_vectors.save_word2vec_format(str(path), binary=True)

    loaded = WordVectors.load(path, cache_dir=tmp_path / "cache")

    assert loaded.source["format"] == "word2vec-binary"
    np.testing.assert_array_equal(loaded.vector("violin"), tiny_vectors[3])


def test_fasttext_binary_loads(tmp_path: Path) -> None:
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    sentences = [["play", "piano", "violin"], ["bounce", "ball"], ["play", "ball"]] * 5
    model = FastText(vector_size=8, window=2, min_count=1, epochs=2, seed=1, workers=1)
    model.build_vocab(corpus_iterable=sentences)
    model.train(corpus_iterable=sentences, total_examples=len(sentences), epochs=2)
    path = tmp_path / "tiny_fasttext.bin"
    save_facebook_model(model, str(path))

    loaded = WordVectors.load(path, cache_dir=tmp_path / "cache")

    assert loaded.source["format"] == "fasttext-binary" and loaded.dim == 8
    assert "piano" in loaded and "pianos" not in loaded  # the vocabulary only, no subword guesses
    np.testing.assert_allclose(loaded.vector("piano"), model.wv["piano"], rtol=1e-5)


def test_from_arrays_rejects_a_mismatched_array() -> None:
    with pytest.raises(ActionLensError, match="3 words"):
        WordVectors.from_arrays(["a", "b", "c"], np.zeros((2, 4)))


def test_missing_and_unreadable_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(ActionLensError, match=r"nowhere\.txt"):
        WordVectors.load(missing, cache_dir=tmp_path / "cache")

    malformed = tmp_path / "broken.txt"
    malformed.write_text("piano 0.1 0.2 0.3\nviolin 0.1 oops\n", encoding="utf-8")
    with pytest.raises(ActionLensError, match=r"broken\.txt"):
        WordVectors.load(malformed, cache_dir=tmp_path / "cache")

    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ActionLensError, match=r"empty\.txt is empty"):
        WordVectors.load(empty, cache_dir=tmp_path / "cache")

    pickled = tmp_path / "vectors.kv"
    pickled.write_bytes(b"\x80\x04not really")
    with pytest.raises(ActionLensError, match="pickled"):
        WordVectors.load(pickled, cache_dir=tmp_path / "cache")

    with pytest.raises(ActionLensError, match="not a file"):
        WordVectors.load(tmp_path, cache_dir=tmp_path / "cache")

    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"5 4\nword")
    with pytest.raises(ActionLensError, match=r"truncated\.bin"):
        WordVectors.load(truncated, cache_dir=tmp_path / "cache")
    assert not [n for n in cache_entries(tmp_path / "cache") if n.startswith(".")]


def test_lookups_before_and_after_the_word_index_agree() -> None:
    # The first look-ups scan the word list; later ones use the word -> row dict: same rows,
    # the first of a repeated word, case folded first.
    words = ["the", "Ball", "ball", "spin", "ball"]
    vectors = np.arange(len(words) * 2, dtype=np.float32).reshape(len(words), 2)
    wv = WordVectors.from_arrays(words, vectors)
    seen = [wv.vector(w).tolist() for w in ("ball", "BALL", "Ball", "spin")]
    for _ in range(20):
        assert "spin" in wv and "nothing" not in wv
    assert [wv.vector(w).tolist() for w in ("ball", "BALL", "Ball", "spin")] == seen
    assert seen == [[4.0, 5.0], [4.0, 5.0], [4.0, 5.0], [6.0, 7.0]]
    assert wv.key_to_index["ball"] == 2 and wv.key_to_index["Ball"] == 1


def test_the_vocabulary_is_parsed_in_pieces_as_json_parses_it_whole() -> None:
    # Pieces keep a worker from holding the GIL for the whole 400 000-word list; quotes,
    # backslashes and a word that is itself '", "' must come out exactly as json.loads has them.
    from desktop_app.words.vectors import _parse_word_list

    rng = np.random.default_rng(5)
    tricky = ['"', "\\", "x\\", ", ", '", "', '\\"', "é", "", ' "', "plain", "word"]
    for _ in range(200):
        words = [tricky[i] for i in rng.integers(0, len(tricky), rng.integers(0, 40))]
        text = json.dumps(words, ensure_ascii=False)
        for piece_chars in (1, 3, 8, 1 << 18):
            assert _parse_word_list(text, piece_chars) == words
    with pytest.raises(ValueError):
        _parse_word_list('["a", "b"', 1)
