"""Analogies: parsing, arithmetic on constructed vectors, operand exclusion, the systematic test."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.analogy import (
    ClassLabel,
    Expression,
    Operand,
    heldout_analogy_test,
    nearest_rows,
    solve,
    space_analogy_tests,
    space_heldout_tests,
    systematic_analogy_test,
    to_unit,
    unit_class_means,
)
from desktop_app.errors import ActionLensError
from desktop_app.words.vectors import WordVectors

from .conftest import DIM, PHRASES, WORDS, make_space, word_vectors


def test_parse_string_and_terms_agree() -> None:
    parsed = Expression.parse("class:bounce ball - word:ball + word:box")
    built = Expression.from_terms(
        [("+", "class:bounce ball"), ("-", "word:ball"), ("+", Operand("word", "box"))]
    )
    argv = Expression.from_argv(["class:bounce ball", "-", "word:ball", "+", "word:box"])
    assert parsed == built == argv
    assert [t.sign for t in parsed.terms] == [1, -1, 1]
    assert parsed.terms[0].operand == Operand("class", "bounce ball")
    assert str(parsed) == "class:bounce ball - word:ball + word:box"


def test_parse_keeps_hyphenated_words_and_leading_signs() -> None:
    expression = Expression.parse("- word:tai-chi + clip:12 − roll")
    assert [(t.sign, str(t.operand)) for t in expression.terms] == [
        (-1, "word:tai-chi"),
        (1, "clip:12"),
        (-1, "word:roll"),
    ]


@pytest.mark.parametrize("bad", [["word:a", "word:b"], ["word:a", "-", "-", "word:b"], ["word:a", "+"], []])
def test_malformed_argv_is_an_error(bad: list[str]) -> None:
    with pytest.raises(ActionLensError):
        Expression.from_argv(bad)


def test_clip_operand_needs_a_number() -> None:
    with pytest.raises(ActionLensError, match="numeric id"):
        Operand.parse("clip:abc")


def test_arithmetic_on_constructed_vectors(perfect_space) -> None:
    # Every operand is unit length: the class mean of roll ball is (roll + ball)/√2, so
    # roll ball − ball + box = (r, 0, r − 1, 1, …) with r = 1/√2; the nearest class other than the
    # operand is roll box, at distance √2 − 1 from its unit vector (r, 0, 0, r).
    r = 1 / np.sqrt(2)
    expression = Expression.parse("class:roll ball - word:ball + word:box")
    expected = r * np.eye(DIM)[0] + (r - 1) * np.eye(DIM)[2] + np.eye(DIM)[3]
    np.testing.assert_allclose(expression.vector(perfect_space), expected, atol=1e-6)
    for metric in ("euclidean", "cosine"):
        result = solve(perfect_space, expression, k=4, metric=metric)
        assert result.classes[0]["phrase"] == "roll box"
        assert result.clips[0]["class_name"] == "RollBox"
    euclid = solve(perfect_space, expression, metric="euclidean")
    assert euclid.classes[0]["score"] == pytest.approx(np.sqrt(2) - 1, abs=1e-6)


def test_operands_are_left_out(perfect_space) -> None:
    result = solve(perfect_space, "class:roll box + clip:1 - word:box + word:ball", k=20, num_words=8)
    assert "RollBox" not in {c["name"] for c in result.classes}
    assert 1 not in {c["clip_id"] for c in result.clips}
    assert {"box", "ball"}.isdisjoint(w["word"] for w in result.words)
    assert len(result.clips) == 9  # ten clips, one operand


def test_nearest_rows_ties_and_nan() -> None:
    matrix = np.array([[1.0, 0.0], [np.nan, np.nan], [1.0, 0.0], [0.0, 1.0]])
    rows, scores = nearest_rows(matrix, np.array([1.0, 0.0]), 3, "euclidean")
    assert rows.tolist() == [0, 2, 3]
    assert scores[:2].tolist() == [0.0, 0.0]


def test_systematic_test_counts_on_a_space_with_one_broken_class() -> None:
    wv = word_vectors()
    means = np.stack([wv.phrase_vector(p) for p in PHRASES])
    labels = [ClassLabel(p, p.split()[0], p.split()[1]) for p in PHRASES]
    perfect = systematic_analogy_test(labels, means, wv.vector)
    # roll: 3 nouns → 6 ordered pairs; bounce: 2 nouns → 2.
    assert (perfect.count, perfect.passed) == (8, 8)
    broken = means.copy()
    broken[PHRASES.index("roll coin")] = 100 * np.eye(len(WORDS))[WORDS.index("far")]
    result = systematic_analogy_test(labels, broken, wv.vector)
    # The 2 comparisons expecting roll coin and the 2 starting from it fail.
    assert (result.count, result.passed) == (8, 4)
    assert result.fraction == pytest.approx(0.5)
    failed = {(c.source, c.expected) for c in result.comparisons if not c.passed}
    assert all("roll coin" in pair for pair in failed)


def test_space_analogy_tests_model_and_word_vectors() -> None:
    wv = word_vectors()
    means = np.stack([wv.phrase_vector(p) for p in PHRASES])
    means[PHRASES.index("bounce box")] = means[PHRASES.index("roll box")]  # the model confuses them
    space = make_space(PHRASES, means, means, list(range(len(PHRASES))))
    model, words = space_analogy_tests(space)
    assert (words.count, words.passed) == (8, 8)
    assert model.count == 8 and model.passed < 8


# ------------------------------------------------------------------- realistic, unequal norms
def realistic_vectors(seed: int = 0) -> tuple[WordVectors, list[str], np.ndarray]:
    """Random word vectors scaled to norms 4–6 (as GloVe's), and class means of norm ≈ 0.4 (as a
    model's) pointing at each class's label vector, with a little noise."""
    rng = np.random.default_rng(seed)
    verbs, nouns = ["roll", "bounce", "spin", "slide"], ["ball", "box", "coin", "ring", "star"]
    words = verbs + nouns + ["far"]
    vectors = rng.standard_normal((len(words), 50))
    vectors *= rng.uniform(4, 6, (len(words), 1)) / np.linalg.norm(vectors, axis=1, keepdims=True)
    wv = WordVectors.from_arrays(words, vectors.astype(np.float32), name="realistic")
    phrases = [f"{v} {n}" for v in verbs for n in nouns]
    labels = np.stack([wv.phrase_vector(p) for p in phrases]).astype(np.float64)
    labels /= np.linalg.norm(labels, axis=1, keepdims=True)
    means = 0.4 * labels + 0.02 * rng.standard_normal(labels.shape)
    return wv, phrases, means


def test_systematic_test_puts_nouns_and_class_means_on_one_scale() -> None:
    # Raw nouns (norm ≈ 5) added to class means (norm ≈ 0.4) would swamp the class part: the
    # seed's literal arithmetic fails most of these 80 comparisons; on the unit scale all pass.
    wv, phrases, means = realistic_vectors()
    labels = [ClassLabel(p, *p.split()) for p in phrases]
    assert np.median(np.linalg.norm(means, axis=1)) == pytest.approx(0.4, abs=0.05)
    result = systematic_analogy_test(labels, means, wv.vector)
    assert result.count == 4 * 5 * 4
    assert result.passed == result.count
    # Scale does not matter any more: the same means at norm 40 give the same answers.
    assert systematic_analogy_test(labels, 100 * means, wv.vector).passed == result.count


def test_solve_with_unequal_norms_finds_the_analogy_class() -> None:
    wv, phrases, means = realistic_vectors(1)
    rng = np.random.default_rng(2)
    clips = np.concatenate([means + 0.01 * rng.standard_normal(means.shape) for _ in range(2)])
    space = make_space(phrases, means, clips, list(range(len(phrases))) * 2)
    space.word_vectors = wv
    for metric in ("euclidean", "cosine"):
        result = solve(space, "class:roll ball - word:ball + word:coin", k=2, metric=metric)
        assert result.classes[0]["phrase"] == "roll coin"
        assert {c["class_name"] for c in result.clips} == {"RollCoin"}
    vector = Expression.parse("class:roll ball - word:ball + word:coin").vector(space)
    # Three unit operands: the sum is no longer dominated by the nouns.
    assert 1.0 < float(np.linalg.norm(vector)) < 2.0


def test_unit_class_means_weigh_every_clip_alike() -> None:
    # One class, two clips: a long one along x, a short one along y; the raw mean points at the
    # long clip, the mean of unit clips halfway between them.
    embeddings = np.array([[10.0, 0.0], [0.0, 0.1], [np.nan, np.nan], [3.0, 4.0]])
    means = unit_class_means(embeddings, np.array([0, 1, 2, 3]), np.array([7, 7, 7, 9]), np.array([9, 7, 8]))
    np.testing.assert_allclose(means[0], [0.6, 0.8], atol=1e-6)
    np.testing.assert_allclose(means[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    assert np.isnan(means[2]).all()  # class 8 has no clip
    np.testing.assert_allclose(to_unit(np.array([[0.0, 0.0], [0.0, 2.0]])), [[0.0, 0.0], [0.0, 1.0]])


# --------------------------------------------------------------------------- held-out test
#: roll coin and bounce box are unseen; the seen → unseen pairs are roll ball → roll coin,
#: roll box → roll coin and bounce ball → bounce box.
UNSEEN = np.array([name in ("roll coin", "bounce box") for name in PHRASES])


def phrase_means() -> tuple[list[ClassLabel], np.ndarray]:
    wv = word_vectors()
    labels = [ClassLabel(p, p.split()[0], p.split()[1]) for p in PHRASES]
    return labels, np.stack([wv.phrase_vector(p) for p in PHRASES])


def test_heldout_test_asks_only_seen_to_unseen_analogies() -> None:
    labels, means = phrase_means()
    wv = word_vectors()
    result = heldout_analogy_test(labels, means, wv.vector, UNSEEN)
    pairs = {(c.source, c.expected) for c in result.comparisons}
    assert pairs == {("roll ball", "roll coin"), ("roll box", "roll coin"), ("bounce ball", "bounce box")}
    assert result.passed == 3

    broken = means.copy()  # the model puts roll coin's clips away from "coin"
    broken[PHRASES.index("roll coin")] = np.eye(DIM)[WORDS.index("far")] - np.eye(DIM)[WORDS.index("coin")]
    failed = heldout_analogy_test(labels, broken, wv.vector, UNSEEN, candidates="all")
    # unit(roll ball) − ball + coin = (r, 0, r − 1, 0, 1) with r = 1/√2: the nearest unit class
    # is the one of largest dot product, roll box (r² = 0.5; roll ball 2r² − r, roll coin −r).
    nearest = {(c.source, c.expected): c.nearest for c in failed.comparisons}
    assert nearest[("roll ball", "roll coin")] == "roll box"
    assert failed.passed == 1  # only bounce ball → bounce box
    # Among the unseen classes only, bounce box (dot 0) beats the broken roll coin (dot −r).
    unseen_only = heldout_analogy_test(labels, broken, wv.vector, UNSEEN, candidates="unseen")
    assert {c.nearest for c in unseen_only.comparisons} == {"bounce box"}
    assert unseen_only.passed == 1


def test_noun_only_baseline_answers_from_the_new_noun_alone() -> None:
    labels, means = phrase_means()
    wv = word_vectors()
    # "coin" has one class, so it is found; "box" is as near roll box as bounce box (a tie,
    # broken by row order: roll box), so it fails among all classes ...
    among_all = heldout_analogy_test(labels, means, wv.vector, UNSEEN, "noun only", "all", noun_only=True)
    assert {(c.expected, c.nearest) for c in among_all.comparisons} == {
        ("roll coin", "roll coin"),
        ("bounce box", "roll box"),
    }
    assert (among_all.count, among_all.passed) == (3, 2)
    # ... and passes among the unseen classes, where only bounce box has the noun.
    among_unseen = heldout_analogy_test(
        labels, means, wv.vector, UNSEEN, "noun only", "unseen", noun_only=True
    )
    assert (among_unseen.count, among_unseen.passed) == (3, 3)


def test_heldout_test_rejects_a_mask_of_the_wrong_size() -> None:
    labels, means = phrase_means()
    with pytest.raises(ActionLensError, match="unseen mask"):
        heldout_analogy_test(labels, means, word_vectors().vector, UNSEEN[:3])


def test_space_heldout_tests_read_the_split_from_the_run(perfect_space) -> None:
    assert space_heldout_tests(perfect_space) == []  # not a zero-shot run
    perfect_space.meta = {"zsl": {"split": "50/50", "unseen_class_ids": np.flatnonzero(UNSEEN).tolist()}}
    results = space_heldout_tests(perfect_space)
    assert [r.name for r in results] == [
        "model",
        "word vectors",
        "noun only (model)",
        "noun only (word vectors)",
    ]
    assert [(r.count, r.passed) for r in results] == [(3, 3), (3, 3), (3, 2), (3, 2)]
    assert [r.passed for r in space_heldout_tests(perfect_space, "unseen")] == [3, 3, 3, 3]


def test_a_run_in_a_space_of_its_own_refuses_word_operations_but_does_class_arithmetic(perfect_space) -> None:
    """Seed 004's runs embed into a video–paragraph space, not the word space: word operands,
    word queries, semantic axes and the analogy test refuse in one line naming the run and what
    to use instead; class arithmetic works and lists no words (there are none in that space)."""
    from desktop_app.analysis.maps import compute_map
    from desktop_app.analysis.retrieval import Retriever

    perfect_space.meta = {"task": "video-paragraph", "model": {"name": "hse"}}
    assert not perfect_space.in_word_space
    for attempt in (
        lambda: solve(perfect_space, "word:roll - word:ball + word:box"),
        lambda: Retriever(perfect_space).query_vector("roll"),
        lambda: space_analogy_tests(perfect_space),
        lambda: compute_map(perfect_space, "axes", "clips", {"axes": ["roll", "bounce", "ball", "box"]}),
    ):
        with pytest.raises(ActionLensError, match=r"run run \(hse\) embeds videos in its own .*query --text"):
            attempt()
    result = solve(perfect_space, "class:roll ball - class:roll box + class:bounce box")
    assert result.classes[0]["phrase"] == "bounce ball" and result.words == []
