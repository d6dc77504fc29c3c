"""Retrieval: the index against brute force, numpy vs FAISS, filters, unknown words."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.retrieval import (
    DEMO_QUERIES,
    ClipIndex,
    ClipScan,
    Retriever,
    demo_query_table,
    nearest_words,
    nearest_words_by_pos,
    unit_rows,
)
from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.words import pos as pos_module
from desktop_app.words.pos import PARTS_OF_SPEECH, WordPos
from desktop_app.words.vectors import WordVectors
from desktop_app.words.wordnet import WordNet


def brute_force(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    cos = (x @ q) / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))
    return np.argsort(-cos, kind="stable")[:k]


@pytest.fixture(scope="module")
def database() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.standard_normal((3000, 32)).astype(np.float32) * rng.uniform(0.5, 3, (3000, 1)).astype(
        np.float32
    ), rng.standard_normal((20, 32)).astype(np.float32)


@pytest.mark.parametrize("method", ["numpy", "faiss"])
def test_exact_search_matches_brute_force(database: tuple[np.ndarray, np.ndarray], method: str) -> None:
    x, queries = database
    ids = np.arange(len(x)) * 7 + 100  # ids other than row numbers are mapped back
    index = ClipIndex(x, ids, method)  # type: ignore[arg-type]
    for q in queries:
        found, scores = index.search(q, 10)
        np.testing.assert_array_equal(found, ids[brute_force(x.astype(np.float64), q.astype(np.float64), 10)])
        assert np.all(np.diff(scores) <= 0)


def test_numpy_and_faiss_give_identical_results(database: tuple[np.ndarray, np.ndarray]) -> None:
    x, queries = database
    numpy_index, faiss_index = ClipIndex(x, method="numpy"), ClipIndex(x, method="faiss")
    allowed = np.arange(0, 3000, 3)
    for q in queries:
        for subset in (None, allowed):
            a_ids, a_scores = numpy_index.search(q, 15, subset)
            b_ids, b_scores = faiss_index.search(q, 15, subset)
            np.testing.assert_array_equal(a_ids, b_ids)
            np.testing.assert_array_equal(a_scores, b_scores)


def test_auto_picks_numpy_for_small_sets_and_approximate_search_finds_most(database) -> None:
    x, queries = database
    assert ClipIndex(x).method == "numpy"
    ivf = ClipIndex(x, method="ivf", ivf_nprobe=1000)  # probing every list is exhaustive
    for q in queries[:5]:
        np.testing.assert_array_equal(ivf.search(q, 10)[0], brute_force(x, q, 10))


def test_filter_keeps_only_allowed_ids(database: tuple[np.ndarray, np.ndarray]) -> None:
    x, queries = database
    allowed = np.array([5, 17, 2999, 1234])
    found, _ = ClipIndex(x).search(queries[0], 10, allowed)
    assert sorted(found.tolist()) == sorted(allowed.tolist())  # k larger than the subset: all of it
    expected = allowed[brute_force(x[allowed], queries[0], 4)]
    np.testing.assert_array_equal(found, expected)


def test_scan_ranks_exactly_as_the_numpy_index(database: tuple[np.ndarray, np.ndarray]) -> None:
    # The CLI's one-shot scan (chunks of the embedding file, nothing built) and the app's
    # index give the same ids and the same scores, with and without a filter.
    x, queries = database
    x = np.concatenate([x] * 7)  # 21 000 rows: several scan chunks
    x[11] = np.nan  # a clip without an embedding is not among the rows searched
    ids = np.flatnonzero(~np.isnan(x[:, 0]))
    index, scan = ClipIndex(x, ids, "numpy", rows=ids), ClipScan(x, ids)
    for q in queries:
        for subset in (None, np.arange(0, len(x), 3)):
            a_ids, a_scores = index.search(q, 15, subset)
            b_ids, b_scores = scan.search(q, 15, subset)
            np.testing.assert_array_equal(a_ids, b_ids)
            np.testing.assert_array_equal(a_scores, b_scores)
    assert 11 not in scan.search(x[11 + 3000], 50)[0] and len(scan.search(queries[0], 10, [11, 12])[0]) == 1


def test_unit_rows_in_chunks_are_the_rows_scaled_alone(database: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = database
    x = x.copy()
    x[4] = 0.0
    whole = x / np.where((n := np.linalg.norm(x, axis=1, keepdims=True)) > 0, n, 1.0)
    np.testing.assert_array_equal(unit_rows(x, chunk=7), whole)
    rows = np.array([9, 4, 2000])
    np.testing.assert_array_equal(unit_rows(x, rows, chunk=2), whole[rows])
    assert not unit_rows(x)[4].any()


def test_one_shot_retriever_answers_as_the_indexed_one(perfect_space) -> None:
    indexed, one_shot = Retriever(perfect_space, "numpy"), Retriever(perfect_space, "numpy", one_shot=True)
    assert isinstance(one_shot.clip_index, ClipScan)
    for query in ("roll coin", "class:roll coin - word:coin + word:ball"):
        for split, role in ((None, None), ("1", "test")):
            a = indexed.search(query, 5, split=split, role=role).to_json()
            b = one_shot.search(query, 5, split=split, role=role).to_json()
            assert a == b and a["exact"] is True


def test_approximate_search_says_so(database: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = database
    ivf = ClipIndex(x, method="ivf")
    assert not ivf.exact_for(None) and not ivf.exact_for(60_000)
    assert ivf.exact_for(100)  # a small filtered subset is scanned exactly
    assert ClipIndex(x, method="numpy").exact_for(None) and ClipIndex(x, method="faiss").exact_for(None)


def test_a_filter_gives_the_same_clips_however_it_is_passed(database: tuple[np.ndarray, np.ndarray]) -> None:
    # Sorted ids are filtered by binary search, unsorted ones by np.isin; a filter array seen
    # before reuses its rows (and FAISS selector): the answers never differ.
    x, queries = database
    rng = np.random.default_rng(8)
    allowed = np.sort(rng.choice(3000, 900, replace=False))
    for ids in (np.arange(3000) * 3, rng.permutation(3000)):
        for method in ("numpy", "ivf"):
            index = ClipIndex(x, ids, method, ivf_nprobe=1000)  # type: ignore[arg-type]
            wanted = ids[allowed]
            reference = [index.search(q, 12, wanted.tolist()) for q in queries[:5]]
            for _ in range(2):  # the second round hits the kept filter
                for q, (ref_ids, ref_scores) in zip(queries[:5], reference, strict=True):
                    got_ids, got_scores = index.search(q, 12, wanted)
                    np.testing.assert_array_equal(got_ids, ref_ids)
                    np.testing.assert_array_equal(got_scores, ref_scores)
                    assert set(got_ids) <= set(wanted.tolist())
            # Repeats, any order and ids that no row has change nothing.
            messy = np.concatenate([wanted[::-1], wanted[:50], [10**9, -3, int(ids.max()) + 1]])
            np.testing.assert_array_equal(index.search(queries[0], 12, messy)[0], reference[0][0])


def test_word_query_ranks_clips_classes_and_words(perfect_space) -> None:
    retriever = Retriever(perfect_space)
    result = retriever.search("roll coin", k=3)
    assert {h.class_name for h in result.clips[:2]} == {"RollCoin"}
    assert result.classes[0].phrase == "roll coin"
    assert result.classes[0].score == pytest.approx(1.0)
    # The query's own words are left out of the word list.
    assert {"roll", "coin"}.isdisjoint(h.word for h in result.words)


def test_split_role_and_class_filters(perfect_space) -> None:
    retriever = Retriever(perfect_space)
    test_only = retriever.search("roll ball", k=10, split="1", role="test")
    assert {h.clip_id for h in test_only.clips} == set(range(5, 10))
    # A role alone means the first split.
    assert [h.clip_id for h in retriever.search("roll ball", k=10, role="test").clips] == [
        h.clip_id for h in test_only.clips
    ]
    with pytest.raises(ActionLensError, match=r"no 'val' clips .*roles: test, train"):
        retriever.search("roll ball", split="1", role="val")
    with pytest.raises(ActionLensError, match="no split '7'"):
        retriever.search("roll ball", split="7")
    only_class = retriever.search("roll ball", k=10, class_names=["bounce box"])
    assert {h.class_name for h in only_class.clips} == {"BounceBox"}
    assert len(only_class.clips) == 2


def test_class_and_clip_queries(perfect_space) -> None:
    retriever = Retriever(perfect_space)
    by_class = retriever.search("class:roll box", k=2)
    assert {h.class_name for h in by_class.clips} == {"RollBox"}
    by_clip = retriever.search("clip:3", k=1)
    assert by_clip.clips[0].clip_id == 3


def test_unknown_word_names_it_and_suggests(perfect_space) -> None:
    with pytest.raises(UnknownWordError) as info:
        Retriever(perfect_space).search("bouncee")
    assert "bouncee" in str(info.value)
    assert "bounce" in info.value.suggestions


def test_demo_query_table_reports_unknown_words(perfect_space) -> None:
    table = demo_query_table(Retriever(perfect_space), ["ball", "planet"], k=2)
    assert table[0]["clip_classes"][0] in {"RollBall", "BounceBall"}
    assert "planet" in table[1]["error"]
    assert "basketball" in DEMO_QUERIES


def test_demo_query_table_ranks_test_clips_only_as_seed_000_does(perfect_space) -> None:
    retriever = Retriever(perfect_space)
    # Ten clips, five of them the test clips of split 1: k = 10 gets those five and no more.
    (row,) = demo_query_table(retriever, ["roll ball"], k=10)
    assert (row["split"], row["role"]) == ("1", "test")
    assert len(row["clip_classes"]) == 5
    (every,) = demo_query_table(retriever, ["roll ball"], k=10, role=None)
    assert len(every["clip_classes"]) == 10 and every["role"] is None


def test_expression_queries_rank_classes_on_the_unit_scale(perfect_space) -> None:
    # Class means ten times longer change nothing: classes are ranked by their unit means.
    perfect_space.class_means = perfect_space.class_means * 10
    result = Retriever(perfect_space).search(
        "class:roll ball - word:ball + word:box", k=3, exclude_operands=True
    )
    assert result.classes[0].phrase == "roll box"
    assert "roll ball" not in {h.phrase for h in result.classes}


# ------------------------------------------------------------------ nearest verbs and nouns
def _tagged_vocabulary(n: int = 600, dim: int = 16) -> tuple[WordVectors, WordPos, np.ndarray]:
    """Random words, each a verb, a noun, both or neither by hand-made WordNet weights."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(n)]
    kinds = rng.integers(0, 4, n)  # 0 verb, 1 noun, 2 both, 3 neither (an adjective)
    weights = np.zeros((n, len(PARTS_OF_SPEECH)), np.float32)
    weights[kinds == 0] = [9, 1, 0, 0]
    weights[kinds == 1] = [1, 9, 0, 0]
    weights[kinds == 2] = [5, 5, 0, 0]
    weights[kinds == 3] = [0, 0, 4, 0]
    vectors = WordVectors.from_arrays(words, rng.standard_normal((n, dim)).astype(np.float32))
    return vectors, WordPos(weights, "test"), kinds


def test_nearest_verbs_and_nouns_are_the_cosine_ranking_filtered_by_part_of_speech() -> None:
    vectors, word_pos, kinds = _tagged_vocabulary()
    rows = vectors.keyed_vectors.vectors.astype(np.float64)
    query = np.random.default_rng(8).standard_normal(rows.shape[1]).astype(np.float32)
    cosines = rows @ query / (np.linalg.norm(rows, axis=1) * np.linalg.norm(query))
    order = np.argsort(-cosines, kind="stable")
    limit = 500
    found = nearest_words_by_pos(vectors, query, k=7, vocabulary_limit=limit, word_pos=word_pos)
    assert found.unavailable is None
    for hits, allowed in ((found.verbs, {0, 2}), (found.nouns, {1, 2})):
        expected = [f"w{i}" for i in order if i < limit and kinds[i] in allowed][:7]
        assert [h.word for h in hits] == expected
        np.testing.assert_allclose(
            [h.score for h in hits], [cosines[int(w[1:])] for w in expected], atol=1e-5
        )
    # The unfiltered list mixes in words of neither part of speech; the filtered ones never do.
    everything = nearest_words(vectors, query, 40, vocabulary_limit=limit)
    assert {kinds[int(h.word[1:])] for h in everything} >= {3}
    # Excluded words (the query's own) are left out, compared case-folded.
    first_verb = found.verbs[0].word
    again = nearest_words_by_pos(
        vectors, query, 7, exclude=[first_verb.upper()], vocabulary_limit=limit, word_pos=word_pos
    )
    assert first_verb not in {h.word for h in again.verbs}
    assert [h.word for h in again.verbs[:6]] == [h.word for h in found.verbs[1:7]]


def test_nearest_verbs_say_why_not_without_wordnet(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-wordnet"
    empty.mkdir()
    monkeypatch.setenv("ACTIONLENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        pos_module, "_load_wordnet", lambda: WordNet.load([empty], default_paths=False, cache_dir=tmp_path)
    )
    vectors, _, _ = _tagged_vocabulary(50)
    found = nearest_words_by_pos(vectors, np.ones(16, np.float32), k=5)
    assert found.verbs == [] and found.nouns == []
    assert found.unavailable is not None and "need WordNet" in found.unavailable
    assert "apt-get install wordnet-base" in found.unavailable


def test_nearest_verbs_refuse_weights_of_another_vocabulary() -> None:
    vectors, word_pos, _ = _tagged_vocabulary(50)
    other = WordPos(word_pos.weights[:40], "other.npy")
    with pytest.raises(ActionLensError, match=r"40 words cannot filter a vocabulary of 50.*other\.npy"):
        nearest_words_by_pos(vectors, np.ones(16, np.float32), word_pos=other)
