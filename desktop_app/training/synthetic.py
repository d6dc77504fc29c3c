"""Synthetic feature sequences for tests and benchmarks (no video, no feature extraction).

Each class has a random unit *label vector* ``u_c`` in a small word space; a clip's appearance
features are a fixed random linear image of ``u_c`` plus noise at every step, and its motion
features are another linear image of ``u_c`` modulated by a class-independent oscillation over
time, plus noise. Because the map from label vector to features is shared by all classes, a
model trained on some classes can place clips of unseen classes near their label vectors —
zero-shot recognition is possible, as on real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.training.data import InMemorySequenceSource


@dataclass
class SyntheticActions:
    """A synthetic dataset: the source, each clip's class, the classes' label vectors and names."""

    source: InMemorySequenceSource
    clip_classes: dict[int, int]
    label_vectors: np.ndarray
    class_names: list[str]


def synthetic_actions(
    num_classes: int = 8,
    clips_per_class: int = 10,
    word_dim: int = 16,
    dims: dict[str, int] | None = None,
    length: tuple[int, int] = (8, 24),
    noise: float = 0.5,
    seed: int = 0,
    first_clip_id: int = 0,
    label_vectors: np.ndarray | None = None,
) -> SyntheticActions:
    """Generate ``num_classes × clips_per_class`` clips (ids from ``first_clip_id``).

    ``label_vectors`` may be given (e.g. to make new clips of the same classes with another
    seed); the stream maps depend only on ``dims`` and ``word_dim``, so datasets made with
    different seeds share them.
    """
    dims = dims or {"appearance": 24, "motion": 12}
    mapping_rng = np.random.default_rng(12345)
    maps = {
        s: mapping_rng.standard_normal((d, word_dim)).astype(np.float32) / np.sqrt(word_dim)
        for s, d in dims.items()
    }
    rng = np.random.default_rng(seed)
    if label_vectors is None:
        label_vectors = rng.standard_normal((num_classes, word_dim)).astype(np.float32)
        label_vectors /= np.linalg.norm(label_vectors, axis=1, keepdims=True)
    sequences: dict[str, dict[int, np.ndarray]] = {s: {} for s in dims}
    clip_classes: dict[int, int] = {}
    clip_id = first_clip_id
    for c in range(num_classes):
        for _ in range(clips_per_class):
            steps = int(rng.integers(length[0], length[1] + 1))
            phase = rng.uniform(0, 2 * np.pi)
            t = np.arange(steps, dtype=np.float32)
            for i, (stream, matrix) in enumerate(maps.items()):
                signal = matrix @ label_vectors[c]
                envelope = (
                    np.ones(steps, np.float32) if i == 0 else np.sin(0.7 * t + phase).astype(np.float32)
                )
                seq = envelope[:, None] * signal[None, :] * 2.0 + noise * rng.standard_normal(
                    (steps, len(signal))
                )
                sequences[stream][clip_id] = seq.astype(np.float32)
            clip_classes[clip_id] = c
            clip_id += 1
    return SyntheticActions(
        InMemorySequenceSource(sequences, name="synthetic"),
        clip_classes,
        label_vectors.astype(np.float32),
        [f"class {c}" for c in range(num_classes)],
    )


def synthetic_workspace(
    root: Any,
    data: SyntheticActions,
    splits: dict[int, str] | None = None,
    components: list[tuple[str, str]] | None = None,
) -> tuple[Any, Any]:
    """A workspace at ``root`` whose catalog holds ``data``'s clips and classes, and word vectors
    in which class ``c``'s phrase (the single word ``"wordc"``) has ``data.label_vectors[c]``.

    ``splits`` gives clip roles of split ``"1"`` (default: every fourth clip of a class is
    ``test``, the rest ``train``). Clip ids in the catalog equal the synthetic ids when those
    start at 0 and are dense. ``components`` gives each class a ``(verb, noun)`` (default: verb
    ``"wordc"``, no noun).

    Returns
    -------
    (workspace, word_vectors)
    """
    from desktop_app.data.records import ClassRecord, ClipRecord, ImportResult
    from desktop_app.words.vectors import WordVectors
    from desktop_app.workspace import Workspace

    ws = Workspace.create(root, dataset="synthetic")
    classes = [
        ClassRecord(
            name=f"Class{c}",
            phrase=f"word{c}",
            verb=components[c][0] if components else f"word{c}",
            noun=components[c][1] if components else None,
            index=c,
        )
        for c in range(len(data.class_names))
    ]
    clips = []
    for clip_id, c in sorted(data.clip_classes.items()):
        role = (splits or {}).get(clip_id) or ("test" if clip_id % 4 == 3 else "train")
        clips.append(
            ClipRecord(
                name=f"clip{clip_id:05d}",
                path=f"Class{c}/clip{clip_id:05d}.avi",
                class_name=f"Class{c}",
                splits={"1": role},
            )
        )
    ws.add_import(ImportResult(dataset="synthetic", data_root=str(root), clips=clips, classes=classes))
    words = [f"word{c}" for c in range(len(data.class_names))]
    rng = np.random.default_rng(99)
    filler = rng.standard_normal((20, data.label_vectors.shape[1])).astype(np.float32)
    vectors = WordVectors.from_arrays(
        [*words, *(f"other{i}" for i in range(20))], np.concatenate([data.label_vectors, filler])
    )
    return ws, vectors
