"""WordNet correlation: the row-wise Spearman average by hand, and the test on real WordNet."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.wordnet_corr import (
    WORD_VECTORS,
    cosine_matrix,
    labels_correlation,
    rowwise_spearman,
    wordnet_correlation,
)
from desktop_app.errors import ActionLensError
from desktop_app.words.vectors import WordVectors
from desktop_app.words.wordnet import WordNet

WUP = np.array([[1, 0.9, 0.5, 0.1], [0.9, 1, 0.3, 0.2], [0.5, 0.3, 1, 0.8], [0.1, 0.2, 0.8, 1]])
COS = np.array([[1, 0.8, 0.6, 0.7], [0.8, 1, 0.2, 0.4], [0.6, 0.2, 1, 0.9], [0.7, 0.4, 0.9, 1]])


def test_rowwise_spearman_by_hand() -> None:
    # Off-diagonal ranks per row (W vs C): row 0 (3,2,1) vs (3,1,2): rho = 1 - 6*2/(3*8) = 0.5;
    # row 1 likewise 0.5; row 2 (2,1,3) vs (2,1,3): 1; row 3 (1,2,3) vs (2,1,3): 0.5.
    mean, per_row = rowwise_spearman(WUP, COS)
    np.testing.assert_allclose(per_row, [0.5, 0.5, 1.0, 0.5])
    assert mean == pytest.approx(0.625)
    with_diagonal, _ = rowwise_spearman(WUP, COS, exclude_diagonal=False)
    assert with_diagonal != pytest.approx(0.625)


def test_constant_rows_are_left_out_of_the_average() -> None:
    flat = COS.copy()
    flat[0, 1:] = flat[1:, 0] = 0.5  # row 0 ranks nothing
    mean, per_row = rowwise_spearman(WUP, flat)
    assert np.isnan(per_row[0])
    assert mean == pytest.approx(np.nanmean(per_row))


def test_cosine_matrix() -> None:
    m = cosine_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    np.testing.assert_allclose(m, [[1, 0, 2**-0.5], [0, 1, 2**-0.5], [2**-0.5, 2**-0.5, 1]])


@pytest.fixture(scope="module")
def wordnet() -> WordNet:
    try:
        return WordNet.load()
    except ActionLensError as err:
        pytest.fail(f"these tests need WordNet 3.0 on this machine: {err}", pytrace=False)


def test_wordnet_integration(wordnet: WordNet) -> None:
    classes = [("WalkDog", "walk dog", "walk"), ("RunFast", "run fast", None), ("EatApple", "eat apple", "eat"),
               ("DrinkTea", "drink tea", "drink"), ("Xyzzy", "xyzzy plugh", None)]  # fmt: skip
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((5, 6))
    result = wordnet_correlation(wordnet, classes, {"model": vectors})
    assert result.classes == ["WalkDog", "RunFast", "EatApple", "DrinkTea"]
    assert result.verbs == ["walk", "run", "eat", "drink"]
    assert any("Xyzzy" in d for d in result.dropped)
    assert result.wup_matrix[0, 1] == pytest.approx(wordnet.wup("walk", "run"))
    # The Wu-Palmer matrix compared with itself (as cosines of its own rows would not be):
    expected, _ = rowwise_spearman(result.wup_matrix, cosine_matrix(vectors[:4]))
    assert result.correlations["model"] == pytest.approx(expected)


def test_labels_mode(wordnet: WordNet) -> None:
    words = ["walk", "run", "eat", "drink", "jog", "swallow"]
    rng = np.random.default_rng(1)
    base = rng.standard_normal((2, 8))
    vectors = np.stack([base[0] + 0.1 * rng.standard_normal(8) if w in ("walk", "run", "jog") else
                        base[1] + 0.1 * rng.standard_normal(8) for w in words])  # fmt: skip
    wv = WordVectors.from_arrays(words, vectors)
    result = labels_correlation(["walk", "run", "eat", "drink", "jog"], wordnet, wv)
    assert list(result.correlations) == [WORD_VECTORS]
    assert result.verbs == ["walk", "run", "eat", "drink", "jog"]
    expected, _ = rowwise_spearman(wordnet.wup_matrix(result.verbs), cosine_matrix(vectors[:5]))
    assert result.correlations[WORD_VECTORS] == pytest.approx(expected)
