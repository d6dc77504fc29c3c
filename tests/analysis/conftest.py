"""A constructed embedding space: known vectors, tiny word vectors, a split — no video needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from desktop_app.analysis.space import EmbeddingSpace
from desktop_app.words.vectors import WordVectors
from desktop_app.workspace import ClassRow, ClipRow

#: Orthonormal word vectors: each word its own axis, so every sum has a known nearest neighbour.
WORDS = ["roll", "bounce", "ball", "box", "coin", "far", "spare1", "spare2"]
DIM = len(WORDS)


@dataclass
class SplitCatalog:
    """The catalog's split queries, over a dict (the rest of the catalog is not needed here)."""

    splits: dict[str, dict[int, str]] = field(default_factory=dict)

    def split(self, split: str) -> dict[int, str]:
        return dict(self.splits.get(split, {}))

    def split_names(self) -> list[str]:
        return sorted(self.splits)

    def split_roles_present(self, split: str) -> list[str]:
        return sorted(set(self.splits.get(split, {}).values()))

    def split_clip_ids(self, split: str, role: str | None = None) -> np.ndarray:
        members = [c for c, r in self.splits.get(split, {}).items() if role in (None, r)]
        return np.array(sorted(members), dtype=np.int64)


@dataclass
class ConstructedWorkspace:
    root: Path
    catalog: SplitCatalog


def word_vectors() -> WordVectors:
    return WordVectors.from_arrays(WORDS, np.eye(DIM, dtype=np.float32), name="axes")


def make_space(
    class_phrases: list[str],
    class_means: np.ndarray,
    clip_embeddings: np.ndarray,
    clip_classes: list[int],
    splits: dict[str, dict[int, str]] | None = None,
) -> EmbeddingSpace:
    """An EmbeddingSpace over given arrays; class ``i`` is ``class_phrases[i]`` (verb noun)."""
    classes = {
        i: ClassRow(i, phrase.title().replace(" ", ""), phrase, phrase.split()[0], phrase.split()[-1], i)
        for i, phrase in enumerate(class_phrases)
    }
    ws = ConstructedWorkspace(Path("constructed-ws"), SplitCatalog(splits or {}))
    space = EmbeddingSpace(
        ws,  # type: ignore[arg-type]
        "run",
        np.asarray(clip_embeddings, dtype=np.float32),
        np.arange(len(class_phrases), dtype=np.int64),
        np.asarray(class_means, dtype=np.float32),
    )
    clips = [
        ClipRow(i, f"clip{i}", f"c/{i}.mp4", c, classes[c].name, 10.0, 10, 8, 8, 1.0, None, False, "ok", None)
        for i, c in enumerate(clip_classes)
    ]
    # cached_property values are plain instance attributes: set them instead of a catalog.
    space.clips = clips
    space.classes = classes
    space.word_vectors = word_vectors()
    return space


PHRASES = ["roll ball", "roll box", "roll coin", "bounce ball", "bounce box"]


@pytest.fixture
def perfect_space() -> EmbeddingSpace:
    """Class means equal to the phrase vectors; two clips per class at ±0.1 around the mean."""
    wv = word_vectors()
    means = np.stack([wv.phrase_vector(p) for p in PHRASES])
    spare = np.eye(DIM, dtype=np.float32)[WORDS.index("spare1")]
    clips = np.concatenate([means + 0.1 * spare, means - 0.1 * spare])
    clip_classes = list(range(len(PHRASES))) * 2
    n = len(clip_classes)
    splits = {"1": {i: ("train" if i < n // 2 else "test") for i in range(n)}}
    return make_space(PHRASES, means, clips, clip_classes, splits)
