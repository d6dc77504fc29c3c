"""Analogies: parsing, arithmetic on constructed vectors, operand exclusion, the systematic test."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.analogy import (
    ClassLabel,
    Expression,
    Operand,
    nearest_rows,
    solve,
    space_analogy_tests,
    systematic_analogy_test,
)
from desktop_app.errors import ActionLensError

from .conftest import PHRASES, WORDS, make_space, word_vectors


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
    # roll ball − ball + box = (roll + ball)/2 − ball + box; nearest class other than the
    # operand is roll box (distance² 0.5 vs 1 for bounce box, 2 for roll ball).
    expression = Expression.parse("class:roll ball - word:ball + word:box")
    expected = 0.5 * np.eye(len(WORDS))[0] - 0.5 * np.eye(len(WORDS))[2] + np.eye(len(WORDS))[3]
    np.testing.assert_allclose(expression.vector(perfect_space), expected, atol=1e-6)
    for metric in ("euclidean", "cosine"):
        result = solve(perfect_space, expression, k=4, metric=metric)
        assert result.classes[0]["phrase"] == "roll box"
        assert result.clips[0]["class_name"] == "RollBox"
    euclid = solve(perfect_space, expression, metric="euclidean")
    assert euclid.classes[0]["score"] == pytest.approx(np.sqrt(0.5), abs=1e-6)


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
