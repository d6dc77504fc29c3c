"""A video of the user's own in the space: extract, embed, add as a user clip, place on the maps.

Two long tasks, both plain functions of (inputs, progress) that know nothing of Qt:

* :func:`query_clip_file` — the nearest classes, clips and words of a video file, extracted with
  the run's feature-store settings and embedded with the run **in memory**; nothing is written
  (``actionlens query --clip-file``).
* :func:`add_clips` — the same for files and folders, and then each readable video becomes a
  *user clip* of the workspace: a catalog row with no class and no split role (so no training,
  evaluation or class mean ever sees it), its features appended to the run's feature store with
  that store's encoder and sampling, a thumbnail, its row of the run's ``clips.npy``, and its
  point on the run's cached clip maps (``actionlens add-clips``).

Writing order, so that an interruption never damages anything and a rerun finishes the job:
every file is probed, decoded, encoded and embedded before anything is written (a cancel there
leaves the workspace as it was); then, without cancel checks, the catalog rows go in one
transaction, the store's records are appended (the store's own crash rule: a clip counts once
its ``done.index`` record is written), each run's ``clips.npy`` is rewritten atomically (one NaN
row per new clip for the runs not embedding it, so their embeddings stay current) and the maps
are re-saved. A rerun with the same files finds their catalog rows by name and content hash and
does only what is missing (first padding the embeddings that a kill left short of user clips'
rows, :func:`_pad_interrupted`). The caller holds the feature store's writer lock (the CLI does).

Placing on a cached map without recomputing it: PCA and semantic-axes maps are affine functions
of the unit embeddings, so the function is recovered from the map itself (least squares of its
coordinates on its clips' unit embeddings, checked to reproduce them) and applied to the new
clip — the exact projection with the map's components. UMAP and t-SNE maps have no stored
fitted object (maps are plain ``.npy``/``.json``; ActionLens never unpickles), so a new clip is
put at the similarity-weighted mean position of its nearest map clips in the embedding space —
the initial placement of umap-learn's and openTSNE's ``transform``, without their optimisation
steps — and the map records it as ``approximate`` (``extra["placed"]``); recompute the map
(``actionlens project … --force``) to fit it in properly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress

if TYPE_CHECKING:
    from desktop_app.analysis.retrieval import ClassHit, ClipHit, WordHit
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.data.records import VideoInfo
    from desktop_app.features.store import FeatureStore
    from desktop_app.workspace import Workspace

#: Prefix of a user clip's catalog name (``user/<file stem>``).
USER_CLIP_PREFIX = "user/"
#: Nearest map clips whose positions place a new clip on a UMAP / t-SNE map (umap-learn's
#: default ``n_neighbors``).
MAP_NEIGHBOURS = 15


# ------------------------------------------------------------------------------------ results
@dataclass
class ClipNeighbours:
    """What is nearest one clip's embedding: classes (unit class means), clips and words, by cosine."""

    classes: list[ClassHit] = field(default_factory=list)
    clips: list[ClipHit] = field(default_factory=list)
    words: list[WordHit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "classes": [vars(h) for h in self.classes],
            "clips": [vars(h) for h in self.clips],
            "words": [vars(h) for h in self.words],
        }


@dataclass
class NewClip:
    """One video file that was embedded (and, by :func:`add_clips`, added)."""

    path: str
    name: str
    neighbours: ClipNeighbours
    clip_id: int | None = None
    #: ``"added"``, ``"already added"`` (same name and content) or ``None`` (a query only).
    status: str | None = None
    #: The run that embedded it.
    run_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "path": self.path,
            "name": self.name,
            "clip_id": self.clip_id,
            "status": self.status,
            **self.neighbours.to_json(),
        }


@dataclass
class FailedFile:
    """A file that could not be read as a video, with the one-line reason."""

    path: str
    reason: str

    @property
    def message(self) -> str:
        """``cannot read video PATH: REASON; it was not added``."""
        return f"cannot read video {self.path}: {self.reason}; it was skipped"


@dataclass
class AddClipsSummary:
    """What :func:`add_clips` (or :func:`query_clip_file`) did."""

    run_id: str
    store: str
    clips: list[NewClip] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    #: Per cached map touched: ``{"key", "method", "placement", "clips"}`` or ``{"key", "method",
    #: "recompute": reason}``.
    maps: list[dict[str, Any]] = field(default_factory=list)
    #: Runs whose embeddings got a NaN row per new clip, and runs whose embeddings were stale.
    padded_runs: list[str] = field(default_factory=list)
    stale_runs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "run": self.run_id,
            "store": self.store,
            "clips": [c.to_json() for c in self.clips],
            "failed": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "maps": self.maps,
            "padded_runs": self.padded_runs,
            "stale_runs": self.stale_runs,
        }


# ------------------------------------------------------------------------------------ inputs
def video_files(paths: list[str | os.PathLike[str]]) -> tuple[list[Path], list[FailedFile]]:
    """The video files named by ``paths`` (a folder gives its video files, recursively, sorted).

    A path that does not exist is a :class:`FailedFile`; a folder without videos is too.
    """
    from desktop_app.data.video import is_video_path

    files: list[Path] = []
    failed: list[FailedFile] = []
    for given in paths:
        path = Path(given).absolute()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_video_path(p))
            if not found:
                failed.append(FailedFile(str(path), "a folder with no video files (.mp4, .avi …)"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            failed.append(FailedFile(str(path), "file not found"))
    unique = list(dict.fromkeys(files))
    return unique, failed


class EncodedClipSource:
    """New clips' raw feature sequences, read as the feature store they were extracted for reads
    its own (the store's old PCA and L2 rows for ``reduced=True``, its zero padding to ``steps``),
    so that :meth:`Run.embed <desktop_app.training.runs.Run.embed>` embeds them exactly as it
    embeds the store's clips."""

    def __init__(self, store: FeatureStore, sequences: dict[int, dict[str, np.ndarray]]) -> None:
        self.store = store
        self.name = store.name
        self.settings = store.settings
        self.steps = store.steps
        self._sequences = sequences

    @property
    def streams(self) -> list[str]:
        """The store's streams."""
        return list(self.store.streams)

    def dim(self, stream: str) -> int:
        """As the store's :meth:`~desktop_app.features.store.FeatureStore.dim`."""
        return self.store.dim(stream)

    def raw_dim(self, stream: str) -> int:
        """As the store's :meth:`~desktop_app.features.store.FeatureStore.raw_dim`."""
        return self.store.raw_dim(stream)

    def clip_ids(self, stream: str | None = None) -> np.ndarray:
        """Ids of the new clips with features (of ``stream``, or of any stream)."""
        ids = [c for c, seqs in self._sequences.items() if (stream in seqs if stream else seqs)]
        return np.array(sorted(ids), dtype=np.int64)

    def length(self, clip_id: int, stream: str) -> int:
        """Real (unpadded) steps of a new clip; ``KeyError`` when it has no ``stream`` rows."""
        n = int(self._sequences[int(clip_id)][stream].shape[0])
        return min(n, self.steps) if self.steps else n

    def get(self, clip_id: int, stream: str, reduced: bool = True) -> np.ndarray:
        """A new clip's ``(T, D)`` rows, as :meth:`FeatureStore.get` gives a stored clip's."""
        rows = np.asarray(self._sequences[int(clip_id)][stream], dtype=np.float32)
        if reduced:
            rows = self.store.reduce(rows, stream)
        if self.steps:
            padded = np.zeros((self.steps, rows.shape[1]), np.float32)
            n = min(self.steps, rows.shape[0])
            padded[:n] = rows[:n]
            rows = padded
        return rows


@dataclass
class _Encoded:
    path: Path
    info: VideoInfo
    features: dict[str, np.ndarray]
    frames: list[np.ndarray]


def _open_run_and_store(ws: Workspace, run_id: str | None) -> tuple[Any, EmbeddingSpace, FeatureStore]:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.features.store import FeatureStore
    from desktop_app.training.runs import Run

    space = EmbeddingSpace.load(ws, run_id)
    space.require_word_space("placing a video file among its classes and words")
    run = Run.load(ws.runs_dir / space.run_id)
    features = (run.meta.get("features") or {}).get("name")
    if not features or str(features).startswith("run:"):
        raise ActionLensError(
            f"run {space.run_id} does not read a feature store, so a video file cannot be embedded "
            "with it; choose a run trained on video features (actionlens info lists them)"
        )
    store = FeatureStore.open(ws, str(features))
    if store.settings.get("extractor") == "precomputed":
        raise ActionLensError(
            f"run {space.run_id} was trained on precomputed features ({store.name}), which ActionLens "
            "cannot compute from a video file; choose a run trained on extracted features"
        )
    return run, space, store


def _encode_files(
    files: list[Path], store: FeatureStore, progress: Progress
) -> tuple[list[_Encoded], list[FailedFile]]:
    """Probe and encode each file with the store's encoder; unreadable files become FailedFiles."""
    import cv2

    from desktop_app.data.video import VideoError, probe_video
    from desktop_app.features.registry import make_encoder

    spec = {k: v for k, v in store.settings.items() if not k.startswith("pca_")}
    encoder = make_encoder(str(spec["extractor"]), spec)
    encoded: list[_Encoded] = []
    failed: list[FailedFile] = []
    for n, path in enumerate(files):
        progress.check_cancelled()
        progress.set_progress(n / max(len(files), 1), f"extracting {path.name}")
        try:
            info = probe_video(path)
            clip = encoder.encode(path, info.has_audio)
        except VideoError as err:
            failed.append(FailedFile(str(path), err.reason))
            continue
        except (cv2.error, OSError, MemoryError) as err:
            failed.append(FailedFile(str(path), f"decoding failed ({type(err).__name__}: {str(err)[:200]})"))
            continue
        missing = [s for s in store.streams if s != "audio" and s not in clip.features]
        if not clip.features or missing:
            failed.append(FailedFile(str(path), "too short: no feature rows could be computed from it"))
            continue
        encoded.append(_Encoded(path, info, clip.features, clip.frames))
    progress.set_progress(1.0, f"extracted {len(encoded)} of {len(files)} files")
    return encoded, failed


def _embed(run: Any, store: FeatureStore, encoded: list[_Encoded], progress: Progress) -> np.ndarray:
    """``(len(encoded), D)`` embeddings of the encoded files, by the run, in memory."""
    source = EncodedClipSource(store, {i: e.features for i, e in enumerate(encoded)})
    embedded, _ = run.embed(source, np.arange(len(encoded), dtype=np.int64), progress=progress)
    return np.asarray(embedded, dtype=np.float32)


def clip_neighbours(
    space: EmbeddingSpace, vector: np.ndarray, k: int = 10, exclude_clip_ids: tuple[int, ...] = ()
) -> ClipNeighbours:
    """The ``k`` clips, 5 classes and ``k`` words nearest ``vector`` by cosine (seed 000's
    nearest-label rule: cosine to the class vectors, the re-normalised mean of a class's unit
    clip embeddings), leaving out ``exclude_clip_ids`` (the clip itself)."""
    from desktop_app.analysis.retrieval import ClipHit, Retriever, nearest_words

    retriever = Retriever(space, "numpy")
    allowed = None
    if exclude_clip_ids:
        allowed = np.setdiff1d(retriever.clip_index.ids, np.asarray(exclude_clip_ids, dtype=np.int64))
    ids, scores = retriever.clip_index.search(vector, k, allowed)
    rows = space.clips
    clips = [
        ClipHit(int(i), rows[int(i)].name, rows[int(i)].class_name, float(s))
        for i, s in zip(ids, scores, strict=True)
    ]
    classes = retriever.nearest_classes(vector, 5)
    words = nearest_words(space.word_vectors, vector, k)
    return ClipNeighbours(classes, clips, words)


def query_clip_file(
    ws: Workspace,
    path: str | os.PathLike[str],
    run_id: str | None = None,
    k: int = 10,
    progress: Progress | None = None,
) -> NewClip:
    """The nearest classes, clips and words of a video file, without adding it to ``ws``.

    The file is decoded and encoded with the run's feature-store settings (the same encoder and
    sampling as the store's clips) and embedded by the run, all in memory.

    Raises
    ------
    ActionLensError
        When the file cannot be read as a video (one line naming it), or the run cannot embed one.
    """
    progress = progress or NullProgress()
    run, space, store = _open_run_and_store(ws, run_id)
    files, failed = video_files([path])
    encoded, bad = _encode_files(files, store, SubProgress(progress, 0.0, 0.8, "extract"))
    failed += bad
    if failed:
        raise ActionLensError(failed[0].message.replace("; it was skipped", ""))
    vector = _embed(run, store, encoded, SubProgress(progress, 0.8, 0.9, "embed"))[0]
    neighbours = clip_neighbours(space, vector, k)
    progress.set_progress(1.0, "done")
    name = USER_CLIP_PREFIX + encoded[0].path.stem
    return NewClip(str(encoded[0].path), name, neighbours, run_id=space.run_id)


# ------------------------------------------------------------------------------------ adding
def _catalog_rows(ws: Workspace, encoded: list[_Encoded]) -> tuple[list[int], list[str], list[bool]]:
    """Insert the user clips (one transaction); ``(ids, names, newly added)`` in ``encoded`` order.

    A file whose ``user/<stem>`` row exists with the same content hash is that row (a rerun); a
    different file of the same stem gets ``user/<stem>-<8 hex of its hash>``.
    """
    from desktop_app.data.records import ClipRecord

    con = ws.catalog.transaction()

    def existing(name: str) -> tuple[int, str | None] | None:
        row = con.execute("SELECT id, content_hash FROM clips WHERE name = ?", (name,)).fetchone()
        return (int(row[0]), row[1]) if row else None

    names: list[str] = []
    fresh: list[bool] = []
    records = []
    batch: dict[str, str] = {}  # name → content hash of this call's files
    for item in encoded:
        digest = item.info.content_hash
        name = USER_CLIP_PREFIX + item.path.stem
        found = existing(name)
        if (found is not None and found[1] != digest) or batch.get(name, digest) != digest:
            name = f"{name}-{digest[:8]}"
            found = existing(name)
        names.append(name)
        fresh.append(found is None)
        if found is None and name not in batch:
            records.append(ClipRecord(name=name, path=str(item.path), class_name=None, info=item.info))
        batch[name] = digest
    ws.catalog.add_clips(records, {})
    ids = [existing(name) for name in names]
    return [int(i[0]) for i in ids if i is not None], names, fresh


def _append_features(ws: Workspace, store: FeatureStore, ids: list[int], encoded: list[_Encoded]) -> None:
    """Append the clips the store does not hold yet, then mark it complete again."""
    from desktop_app.features.jobs import write_thumbnails
    from desktop_app.features.store import FeatureStoreWriter

    writer = FeatureStoreWriter(ws, dict(store.settings), store.name)
    done = writer.done_clip_ids()
    for clip_id, item in zip(ids, encoded, strict=True):
        if clip_id not in done:
            writer.add_clip(clip_id, item.features)
            done.add(clip_id)
        if item.frames and not (ws.thumbnails_dir / f"{clip_id}.jpg").exists():
            write_thumbnails(item.frames, clip_id, ws.thumbnails_dir)
    writer.finish(ws.catalog.num_clips())


def _update_embeddings(
    ws: Workspace, run_id: str, ids: list[int], vectors: np.ndarray, summary: AddClipsSummary
) -> dict[str, np.ndarray]:
    """Give every run's ``clips.npy`` its rows for ``ids`` (``run_id``'s: ``vectors``; the others':
    NaN), atomically; returns the old tables of the runs rewritten (what their maps were made of).

    A run whose table was already stale before these clips (fewer rows than the first of them)
    is left as it is, and named in ``summary.stale_runs``.
    """
    from desktop_app.analysis.space import runs_with_embeddings
    from desktop_app.atomic import write_npy

    num_clips = ws.catalog.num_clips()
    first = min(ids)
    old_tables: dict[str, np.ndarray] = {}
    for other in runs_with_embeddings(ws):
        path = ws.embeddings_dir / other / "clips.npy"
        table = np.load(path, allow_pickle=False)
        if table.ndim != 2 or table.shape[0] < first or table.shape[0] > num_clips:
            summary.stale_runs.append(other)
            continue
        grown = np.full((num_clips, table.shape[1]), np.nan, dtype=np.float32)
        grown[: table.shape[0]] = table
        if other == run_id:
            grown[ids] = vectors
        elif table.shape[0] == num_clips:
            continue  # already padded by an interrupted earlier call
        else:
            summary.padded_runs.append(other)
        old_tables[other] = table
        write_npy(path, grown)
    return old_tables


def _current_clip_maps(ws: Workspace, runs: set[str]) -> list[Any]:
    from desktop_app.analysis.maps import cached_maps

    return [m for m in cached_maps(ws) if m.run_id in runs and m.of == "clips" and not m.stale]


def _place_on_maps(
    ws: Workspace,
    maps: list[Any],
    run_id: str,
    ids: list[int],
    vectors: np.ndarray,
    old_tables: dict[str, np.ndarray],
    summary: AddClipsSummary,
) -> None:
    """Re-save the maps that were current before the embeddings changed: the run's with the new
    clips placed on them (see the module docstring), the padded runs' unchanged."""
    from desktop_app.analysis.maps import load_map, save_map
    from desktop_app.analysis.placement import place_on_map

    for info in maps:
        result = load_map(ws, info.key)
        if info.run_id != run_id:
            save_map(ws, result)  # same points; the fingerprint of the padded table
            continue
        keep = ~np.isin(np.asarray(ids), result.ids)
        new_ids = np.asarray(ids, dtype=np.int64)[keep]
        if not len(new_ids):
            summary.maps.append({"key": info.key, "method": info.method, "placement": "already on it"})
            save_map(ws, result)
            continue
        high = old_tables[run_id][result.ids]  # place_on_map puts rows on unit length
        new = vectors[keep]
        k = int(result.params.get("n_neighbors") or MAP_NEIGHBOURS)
        placed, how = place_on_map(high, result.coords, new, k, affine=info.method in ("pca", "axes"))
        if how == "linear":
            placement = "exact (the map's own affine projection)"
        elif info.method in ("umap", "tsne"):
            placement = f"approximate (weighted mean of its {k} nearest map clips)"
        else:
            summary.maps.append(
                {"key": info.key, "method": info.method, "recompute": "this map cannot place new clips"}
            )
            continue
        result.coords = np.vstack([result.coords, placed]).astype(np.float32)
        result.ids = np.concatenate([result.ids, new_ids])
        placed_before = dict(result.extra.get("placed") or {})
        placed_before.update({str(int(c)): placement.split(" ")[0] for c in new_ids})
        result.extra = {**result.extra, "placed": placed_before}
        save_map(ws, result)
        summary.maps.append(
            {
                "key": info.key,
                "method": info.method,
                "placement": placement,
                "clips": {
                    str(int(c)): [float(x), float(y)] for c, (x, y) in zip(new_ids, placed, strict=True)
                },
            }
        )


def _pad_interrupted(ws: Workspace) -> None:
    """Finish the embeddings of an :func:`add_clips` killed after its catalog rows went in.

    Such a call leaves every run's ``clips.npy`` short of the user clips' rows (``EmbeddingSpace``
    then calls it stale). A table whose missing rows are all user clips gets NaN rows for them,
    and the maps that were current are re-saved with the padded table's fingerprint, so that the
    rerun goes on as if the embeddings had been current (and fills the rows of its run).
    """
    from desktop_app.analysis.maps import load_map, save_map
    from desktop_app.analysis.space import runs_with_embeddings
    from desktop_app.atomic import write_npy

    num_clips = ws.catalog.num_clips()
    con = ws.catalog.transaction()
    short: dict[str, Path] = {}
    for run_id in runs_with_embeddings(ws):
        path = ws.embeddings_dir / run_id / "clips.npy"
        rows = np.load(path, mmap_mode="r", allow_pickle=False).shape
        if len(rows) == 2 and rows[0] < num_clips:
            names = con.execute("SELECT name FROM clips WHERE id >= ?", (int(rows[0]),)).fetchall()
            if all(str(name).startswith(USER_CLIP_PREFIX) for (name,) in names):
                short[run_id] = path
    if not short:
        return
    maps = _current_clip_maps(ws, set(short))
    for path in short.values():
        table = np.load(path, allow_pickle=False)
        grown = np.full((num_clips, table.shape[1]), np.nan, dtype=np.float32)
        grown[: table.shape[0]] = table
        write_npy(path, grown)
    for info in maps:
        save_map(ws, load_map(ws, info.key))


def add_clips(
    ws: Workspace,
    paths: list[str | os.PathLike[str]],
    run_id: str | None = None,
    k: int = 10,
    progress: Progress | None = None,
) -> AddClipsSummary:
    """Add video files (or the videos of folders) to ``ws`` as user clips embedded by a run.

    Parameters
    ----------
    ws
        An open, writable workspace; the caller holds the writer lock on the run's feature store.
    paths
        Video files and folders.
    run_id
        The run to embed with (default: the workspace's active run); its feature store's settings
        are the ones the files are extracted with.
    k
        Length of each clip's nearest-clips and nearest-words lists.
    progress
        Progress/cancel handle; a cancel before the writes leaves ``ws`` unchanged.

    Returns
    -------
    AddClipsSummary
        Each added clip with its nearest classes, clips and words; the files that could not be
        read (one line each); what happened to each cached map.

    Raises
    ------
    TaskCancelled
        When cancelled while extracting or embedding (nothing was written).
    ActionLensError
        When the run cannot embed video files (no feature store, precomputed features).
    """
    from desktop_app.analysis.space import EmbeddingSpace

    progress = progress or NullProgress()
    _pad_interrupted(ws)
    run, space, store = _open_run_and_store(ws, run_id)
    summary = AddClipsSummary(space.run_id, store.name)
    files, summary.failed = video_files(paths)
    encoded, bad = _encode_files(files, store, SubProgress(progress, 0.0, 0.75, "extract"))
    summary.failed += bad
    if not encoded:
        progress.set_progress(1.0, "no readable video")
        return summary
    vectors = _embed(run, store, encoded, SubProgress(progress, 0.75, 0.85, "embed"))
    progress.check_cancelled()
    # From here on no cancel checks: the writes run to the end (each is atomic or crash-safe).
    progress.set_progress(0.85, "adding to the workspace")
    from desktop_app.analysis.space import runs_with_embeddings

    maps = _current_clip_maps(ws, set(runs_with_embeddings(ws)))
    ids, names, fresh = _catalog_rows(ws, encoded)
    _append_features(ws, store, ids, encoded)
    old_tables = _update_embeddings(ws, space.run_id, ids, vectors, summary)
    progress.set_progress(0.92, "placing on the maps")
    _place_on_maps(
        ws, [m for m in maps if m.run_id in old_tables], space.run_id, ids, vectors, old_tables, summary
    )
    after = EmbeddingSpace.load(ws, space.run_id)
    for clip_id, name, is_new, item, vector in zip(ids, names, fresh, encoded, vectors, strict=True):
        neighbours = clip_neighbours(after, vector, k, exclude_clip_ids=(clip_id,))
        status = "added" if is_new else "already added"
        summary.clips.append(NewClip(str(item.path), name, neighbours, clip_id, status, space.run_id))
    progress.set_progress(1.0, f"added {len(ids)} clips")
    return summary


def add_clips_at(
    root: str | os.PathLike[str],
    paths: list[str | os.PathLike[str]],
    run_id: str | None = None,
    k: int = 5,
    progress: Progress | None = None,
) -> AddClipsSummary:
    """:func:`add_clips` on the workspace at ``root``, opened for this call, holding the writer
    lock on the run's feature store as ``actionlens extract`` does (for callers with no lock of
    their own, such as the GUI's File ▸ Add Clips task).

    Raises
    ------
    LockHeld
        When another process is writing that feature store (the message names it).
    """
    from desktop_app.analysis.space import default_run
    from desktop_app.training.runs import read_meta
    from desktop_app.workspace import Workspace
    from desktop_app.workspace.lock import writer_lock

    with Workspace.open(root) as ws:
        run_id = run_id or default_run(ws)
        meta = read_meta(ws.runs_dir / run_id) if (ws.runs_dir / run_id / "meta.json").is_file() else {}
        store = str((meta.get("features") or {}).get("name") or "")
        if not store:  # add_clips names what is missing
            return add_clips(ws, paths, run_id, k, progress)
        with writer_lock(ws.root, f"feature store {store}"):
            return add_clips(ws, paths, run_id, k, progress)


__all__ = [
    "AddClipsSummary",
    "ClipNeighbours",
    "EncodedClipSource",
    "FailedFile",
    "NewClip",
    "add_clips",
    "add_clips_at",
    "clip_neighbours",
    "query_clip_file",
    "video_files",
]
