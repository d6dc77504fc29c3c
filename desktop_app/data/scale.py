"""Synthetic workspaces of any size, for scale tests and ``benchmarks/bench_scale.py``.

:func:`build_scale_workspace` writes a workspace of ``n_clips`` clips (13 k, 100 k, 1 M …) that
every command and the app open like an imported one, built from a finished demo workspace (the
``source``):

* **classes** — the demo's own classes first (same ids, names and phrases), then further
  verb–noun phrases of the demo's verbs and common nouns, every word in the run's word vectors;
* **clips** — contiguous blocks of one class each (as an importer writes a dataset laid out by
  class folders), named like UCF101 clips (``v_BounceBall_g0001_c01``), each pointing at a demo
  video of the same verb (same class where the demo has it), with that video's probed size,
  frame rate and content hash, so the Player plays it;
* **split** ``1`` — every fourth clip of a class ``test``, the others ``train``;
* **a copied run** — the source's active run (weights, input transform, label vectors and
  ``meta.json``; not its training checkpoint), its ``classes`` and ``label_vectors.npy``
  extended by the new classes as unseen classes (``train_index`` null, the phrase's unit word
  vector), recorded in the catalog's ``runs`` table with its metrics;
* **embeddings** of that run — ``clips.npy`` (row = clip id), ``class_means.npy`` and
  ``class_means.json`` as ``actionlens embed`` writes them: unit vectors clustered around the
  unit word vector of the clip's class phrase (so a word query finds the class's clips), with
  Gaussian spread ``spread`` (the expected norm of the offset before re-normalising).

The workspace has no feature store, thumbnails or cached maps: what needs features
(``embed``, ``evaluate``, training) refuses it with its usual message, and the first map is
computed from nothing, which is what the scale benchmark measures.

Writing goes through the project's API — :func:`~desktop_app.workspace.building` (built under a
temporary name and renamed into place), :meth:`Catalog.add_classes`, :meth:`Catalog.add_run`,
:func:`~desktop_app.atomic.write_json` / ``write_npy`` — except the clip rows: one
:meth:`Catalog.add_clips` call per clip row costs a name lookup and three statements per clip,
about a minute at 1 M, and needs one :class:`ClipRecord` object per clip. The rows are therefore
inserted here with ``executemany`` on the catalog's own connection
(:meth:`Catalog.transaction`), in chunks, with the columns ``add_clips`` writes
(``tests/data/test_scale_workspace.py`` checks the two give the same rows). Memory stays bounded
by the chunk size: embeddings are written chunk by chunk into a memory-mapped ``.npy``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import atomic_path, read_json, write_json, write_npy
from desktop_app.data.records import ClassRecord
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress

#: Nouns added to the demo's to make more verb–noun classes (common words of GloVe 6B).
EXTRA_NOUNS = (
    "car", "dog", "cat", "tree", "house", "door", "chair", "table", "book", "cup",
    "bottle", "rope", "stick", "stone", "bag", "hat", "shoe", "bike", "boat", "flag",
    "kite", "drum", "bell", "clock", "lamp", "key", "phone", "plate", "glass", "pillow",
    "towel", "bucket", "ladder", "basket", "brush", "knife", "spoon", "apple", "egg", "feather",
)  # fmt: skip

#: Clips per chunk written at once: bounds the builder's memory (about 20 MB a chunk).
CHUNK = 65_536

#: The builder's entry in the manifest (beside ``demo`` for the demo workspace).
MANIFEST_KEY = "scale"

_CLIP_INSERT = (
    "INSERT INTO clips (id, name, path, class_id, fps, frame_count, width, height, duration,"
    " content_hash, has_audio) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SPLIT_INSERT = "INSERT INTO clip_splits (clip_id, split, role) VALUES (?, ?, ?)"


@dataclass(frozen=True)
class _Video:
    """A demo clip's catalog row, the video that synthetic clips of its verb point at."""

    path: str
    fps: float | None
    frame_count: int | None
    width: int | None
    height: int | None
    duration: float | None
    content_hash: str | None
    has_audio: int


def default_source() -> Path:
    """The demo workspace ``actionlens demo --build-only`` builds (its default location)."""
    from desktop_app.pipeline import default_demo_dir

    return default_demo_dir() / "workspace"


def scale_classes(source_classes: list[ClassRecord], n_classes: int) -> list[ClassRecord]:
    """The source's classes, then verb–noun classes of the source's verbs and further nouns.

    Raises
    ------
    ActionLensError
        More classes asked for than verbs × nouns gives.
    """
    classes = list(source_classes[:n_classes])
    taken = {c.phrase for c in classes}
    verbs = list(dict.fromkeys(c.verb for c in source_classes if c.verb))
    nouns = list(dict.fromkeys([*(c.noun for c in source_classes if c.noun), *EXTRA_NOUNS]))
    for noun in nouns:
        for verb in verbs:
            if len(classes) >= n_classes:
                return classes
            phrase = f"{verb} {noun}"
            if phrase in taken:
                continue
            taken.add(phrase)
            name = verb.capitalize() + noun.capitalize()
            classes.append(ClassRecord(name=name, phrase=phrase, verb=verb, noun=noun, index=len(classes)))
    if len(classes) < n_classes:
        raise ActionLensError(
            f"--classes {n_classes}: the source's {len(verbs)} verbs and {len(nouns)} nouns make only "
            f"{len(classes)} classes; ask for at most {len(classes)}"
        )
    return classes


def build_scale_workspace(
    root: str | os.PathLike[str],
    n_clips: int,
    *,
    n_classes: int = 101,
    dim: int = 50,
    seed: int = 0,
    spread: float = 0.6,
    source: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write a synthetic workspace of ``n_clips`` clips at ``root`` (see the module docstring).

    Parameters
    ----------
    root
        Where the workspace goes; must not exist or be empty.
    n_clips
        Number of clips (ids ``0 … n_clips - 1``).
    n_classes
        Number of classes (default 101, UCF101's); at least one, at most ``n_clips``.
    dim
        Embedding dimension; must be the copied run's word dimension (50 for the demo's GloVe).
    seed
        Seed of the embeddings' random offsets: the same arguments write the same workspace.
    spread
        Expected norm of a clip's random offset from its class's unit vector.
    source
        A finished demo workspace (videos, a run with embeddings); default :func:`default_source`.
    progress
        Receives the fraction done; cancelling stops the build and leaves nothing at ``root``.

    Returns
    -------
    Path
        The absolute path of the new workspace.

    Raises
    ------
    ActionLensError
        A bad size, a missing or unfinished source, or a ``dim`` other than the run's.
    """
    from desktop_app.analysis.space import default_run, run_word_vectors
    from desktop_app.training.runs import read_meta
    from desktop_app.workspace import Workspace, building

    progress = progress or NullProgress()
    if n_clips < 1 or not 1 <= n_classes <= n_clips:
        raise ActionLensError(
            f"a scale workspace needs at least one clip and 1 … {n_clips} classes, "
            f"not {n_clips} clips of {n_classes} classes"
        )
    source_root = Path(source) if source is not None else default_source()
    if not (source_root / "workspace.json").is_file():
        raise ActionLensError(
            f"{source_root} is not a workspace; build the demo first "
            f"(actionlens demo --build-only --workspace {source_root}) or give --source"
        )
    with Workspace.open(source_root, readonly=True) as src:
        run_id = default_run(src)
        run_dir = src.runs_dir / run_id
        meta = read_meta(run_dir)
        source_runs = {r["id"]: r for r in src.catalog.runs()}
        source_classes = [
            ClassRecord(c.name, c.phrase, c.verb, c.noun, c.dataset_index) for c in src.catalog.classes()
        ]
        videos: dict[tuple[str | None, str | None], _Video] = {}
        by_verb: dict[str | None, _Video] = {}
        components = src.catalog.class_components()
        for clip in src.catalog.iter_clips("ok"):
            if clip.class_id is None:
                continue
            video = _Video(
                clip.path,
                clip.fps,
                clip.frame_count,
                clip.width,
                clip.height,
                clip.duration,
                clip.content_hash,
                int(clip.has_audio),
            )
            verb, noun = components.get(clip.class_id, (None, None))
            videos.setdefault((verb, noun), video)
            by_verb.setdefault(verb, video)
        data_root = src.data_root
    word_dim = int(meta["model"]["shape"]["word_dim"])
    if dim != word_dim:
        raise ActionLensError(
            f"dim {dim}: the copied run {run_id} embeds in {word_dim}-d; build with dim={word_dim}"
        )
    if not by_verb or data_root is None:
        raise ActionLensError(f"{source_root} has no usable labelled clips; rebuild the demo")

    classes = scale_classes(source_classes, n_classes)
    words = run_word_vectors(meta)
    centres = np.stack([words.phrase_vector(c.phrase) for c in classes]).astype(np.float64)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    # The class of clip i: contiguous blocks, as evenly sized as n_clips allows.
    starts = (np.arange(n_classes + 1, dtype=np.int64) * n_clips) // n_classes
    target = Path(root).absolute()
    with building(target, dataset=MANIFEST_KEY) as ws:
        class_ids = ws.catalog.add_classes(classes)
        ids = np.array([class_ids[c.name] for c in classes], dtype=np.int64)
        class_videos = [
            videos.get((c.verb, c.noun)) or by_verb.get(c.verb) or next(iter(by_verb.values()))
            for c in classes
        ]
        embeddings_dir = ws.embeddings_dir / run_id
        embeddings_dir.mkdir(parents=True)
        sums = np.zeros((n_classes, dim), dtype=np.float64)
        rng = np.random.default_rng(seed)
        con = ws.catalog.transaction()
        with atomic_path(embeddings_dir / "clips.npy") as tmp:
            table = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n_clips, dim))
            for lo in range(0, n_clips, CHUNK):
                progress.check_cancelled()
                hi = min(lo + CHUNK, n_clips)
                clip_ids = np.arange(lo, hi, dtype=np.int64)
                rows = np.searchsorted(starts, clip_ids, side="right") - 1  # class row per clip
                offsets = rng.standard_normal((hi - lo, dim)) * (spread / np.sqrt(dim))
                chunk = centres[rows] + offsets
                chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
                table[lo:hi] = chunk
                np.add.at(sums, rows, chunk)
                with con:
                    con.executemany(
                        _CLIP_INSERT, _clip_rows(clip_ids, rows, starts, classes, ids, class_videos)
                    )
                    con.executemany(_SPLIT_INSERT, _split_rows(clip_ids, rows, starts))
                progress.set_progress(0.95 * hi / n_clips, f"wrote {hi:,} of {n_clips:,} clips")
            table.flush()
            del table
        counts = np.diff(starts)
        write_npy(embeddings_dir / "class_means.npy", (sums / counts[:, None]).astype(np.float32))
        write_json(
            embeddings_dir / "class_means.json",
            {
                "format": "actionlens-class-means",
                "version": 1,
                "run_id": run_id,
                "class_ids": ids.tolist(),
                "clip_counts": counts.tolist(),
                "dim": dim,
            },
        )
        _copy_run(run_dir, ws.runs_dir / run_id, meta, classes, ids, centres)
        record = source_runs.get(run_id) or {"model": meta["model"]["name"], "metrics": {}}
        ws.catalog.add_run(
            run_id, record["model"], str(meta.get("created", "")), "complete", record["metrics"]
        )
        ws.update_manifest(
            data_root=str(data_root),
            active_run=run_id,
            datasets=[{"importer": MANIFEST_KEY, "imported": str(ws.manifest["created"])}],
            **{
                MANIFEST_KEY: {
                    "clips": n_clips,
                    "classes": n_classes,
                    "dim": dim,
                    "seed": seed,
                    "spread": spread,
                    "source": str(source_root.absolute()),
                }
            },
        )
    progress.set_progress(1.0, f"built {target} ({n_clips:,} clips, {n_classes} classes)")
    return target


def _clip_rows(
    clip_ids: np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    classes: list[ClassRecord],
    ids: np.ndarray,
    videos: list[_Video],
) -> Iterator[tuple[Any, ...]]:
    """``clips`` rows as :meth:`Catalog.add_clips` writes them, for one chunk of clip ids."""
    for clip_id, row in zip(clip_ids.tolist(), rows.tolist(), strict=True):
        k = clip_id - int(starts[row])
        v = videos[row]
        name = f"v_{classes[row].name}_g{k // 8 + 1:04d}_c{k % 8 + 1:02d}"
        yield (
            clip_id, name, v.path, int(ids[row]), v.fps, v.frame_count, v.width, v.height,
            v.duration, v.content_hash, v.has_audio,
        )  # fmt: skip


def _split_rows(clip_ids: np.ndarray, rows: np.ndarray, starts: np.ndarray) -> Iterator[tuple[int, str, str]]:
    """Split ``1``: every fourth clip of a class is a test clip, the others train clips."""
    within = clip_ids - starts[rows]
    for clip_id, k in zip(clip_ids.tolist(), within.tolist(), strict=True):
        yield clip_id, "1", "test" if k % 4 == 3 else "train"


def _copy_run(
    run_dir: Path,
    out: Path,
    meta: dict[str, Any],
    classes: list[ClassRecord],
    ids: np.ndarray,
    centres: np.ndarray,
) -> None:
    """Copy a run's files (not its checkpoint) and extend its classes by the new ones, unseen."""
    from desktop_app.training.runs import CHECKPOINT, LABEL_VECTORS, META

    out.mkdir(parents=True)
    for path in sorted(run_dir.iterdir()):
        if path.is_file() and path.name not in (CHECKPOINT, META, LABEL_VECTORS):
            shutil.copy2(path, out / path.name)
    label_vectors = np.load(run_dir / LABEL_VECTORS, allow_pickle=False)
    ours = {cls.name: cid for cls, cid in zip(classes, ids.tolist(), strict=True)}
    listed, vectors = [], []
    for row, entry in enumerate(meta.get("classes", [])):
        if ours.get(str(entry.get("name"))) == int(entry["id"]):  # the run's own class, same id
            listed.append(dict(entry))
            vectors.append(label_vectors[row])
    kept = {int(c["id"]) for c in listed}
    for cls, cid, centre in zip(classes, ids.tolist(), centres, strict=True):
        if cid not in kept:
            listed.append({"id": cid, "name": cls.name, "phrase": cls.phrase, "train_index": None})
            vectors.append(centre)
    write_npy(out / LABEL_VECTORS, np.stack(vectors).astype(np.float32))
    copied = read_json(run_dir / META, "the source run's meta.json is damaged; rebuild the demo")
    write_json(out / META, {**copied, "classes": listed})
