"""Feature stores: per-clip feature sequences of one (extractor, settings) pair, on disk.

Layout of ``WS/features/<name>/`` (format version :data:`STORE_VERSION`, see ``docs/features.md``)::

    meta.json                   format, version, settings, streams and dims, completion
    <stream>.f32                all rows of that stream, float32, row-major, appended clip by clip
    <stream>.index              int64 triples (clip_id, first row, number of rows), one per clip
    done.index                  int64 pairs (clip_id, status: 0 ok, 1 bad, 2 no features)
    pca_<stream>_mean.npy       only in stores made before runs fitted their own input transform:
    pca_<stream>_components.npy the PCA those stores fitted on split-1 training clips of every
                                class (read, never written now; runs made before then use it)

A store holds raw features only. Every statistic of the features (mean, PCA, scale) is fitted
per run on that run's training clips (``desktop_app/training/inputs.py``, ``docs/protocol.md``).

Rows are read through ``np.memmap``, so a store of 300 000 clips never has to fit in memory.
A clip counts only once its ``done.index`` record is written, after its rows and index records;
reopening for writing cuts off whatever a crash left after the last finished clip, so an
interrupted extraction loses at most the clips in flight and a rerun resumes.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.atomic import read_json, write_json
from desktop_app.errors import ActionLensError

if TYPE_CHECKING:
    from desktop_app.workspace import Workspace

FORMAT_NAME = "actionlens-features"
#: The store format this code writes and reads.
STORE_VERSION = 1
META = "meta.json"
DONE_INDEX = "done.index"

_INDEX_RECORD = np.dtype([("clip_id", "<i8"), ("start", "<i8"), ("length", "<i8")])
_DONE_RECORD = np.dtype([("clip_id", "<i8"), ("status", "<i8")])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def store_name(settings: dict[str, Any]) -> str:
    """A readable directory name for a store's settings (``handcrafted-fps10-dis`` …)."""
    extractor = str(settings.get("extractor", "features"))
    parts = [extractor.replace(":", "-")]
    if extractor == "precomputed":
        parts.append(Path(str(settings.get("source", "source"))).stem)
    else:
        fps = float(settings.get("fps", 10.0))
        fps_text = f"{fps:g}".replace(".", "p")
        if settings.get("adaptive"):
            parts.append(f"adaptive{fps_text}")
        else:
            parts.append(f"fps{fps_text}")
        if settings.get("steps"):
            parts.append(f"steps{settings['steps']}")
        if settings.get("max_seconds"):
            parts.append(f"max{settings['max_seconds']:g}s")
        if "flow" in settings:
            parts.append(str(settings["flow"]))
        if settings.get("weights"):
            parts.append(Path(str(settings["weights"])).stem)
        if settings.get("audio") is False:
            parts.append("noaudio")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts))


class DamagedStoreError(ActionLensError):
    """A feature store's files disagree with each other (a data file shorter than its index)."""


def _read_records(path: Path, dtype: np.dtype) -> np.ndarray:
    """Whole records of a binary index file (a torn last record is ignored)."""
    if not path.exists():
        return np.zeros(0, dtype)
    raw = path.read_bytes()
    usable = len(raw) - len(raw) % dtype.itemsize
    return np.frombuffer(raw[:usable], dtype=dtype).copy()


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / META
    meta = read_json(path, f"delete {directory} and run `actionlens extract` again")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ActionLensError(
            f"{path} is not an ActionLens feature store; delete {directory} or check the path"
        )
    version = meta.get("version")
    if not isinstance(version, int) or version > STORE_VERSION:
        raise ActionLensError(
            f"{path} has feature store version {version}, which this ActionLens does not read "
            f"(it reads up to {STORE_VERSION}); upgrade ActionLens or re-extract"
        )
    return meta


def list_feature_stores(ws: Workspace) -> list[str]:
    """Names of the feature stores in a workspace, sorted."""
    root = ws.features_dir
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / META).is_file())


class FeatureStore:
    """Per-clip feature sequences of one extraction, read through memory maps.

    Attributes
    ----------
    name
        Directory name under ``WS/features``.
    settings
        JSON-able extraction settings (extractor, sampling, flow, PCA dims …).
    streams
        Streams that hold features, e.g. ``["appearance", "motion"]`` (+ ``"audio"``).
    """

    def __init__(self, directory: Path, meta: dict[str, Any]) -> None:
        self.directory = directory
        self.meta = meta
        self.name: str = meta["name"]
        self.settings: dict[str, Any] = dict(meta["settings"])
        self.streams: list[str] = list(meta.get("streams", {}))
        self._load_index()

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, ws: Workspace, name: str | None = None) -> FeatureStore:
        """Open a store by name, or (``None``) the most recently completed one.

        Raises
        ------
        ActionLensError
            When the workspace has no (complete) store, or none of that name; the message lists
            the stores there are and says to run ``actionlens extract``.
        """
        names = list_feature_stores(ws)
        if name is not None:
            if name not in names:
                listed = ", ".join(names) if names else "none"
                raise ActionLensError(
                    f"{ws.root} has no feature store {name!r} (it has: {listed}); run `actionlens extract` to make one"
                )
            directory = ws.features_dir / name
            return cls(directory, _read_meta(directory))
        if not names:
            raise ActionLensError(
                f"{ws.root} has no features yet; run `actionlens extract --workspace {ws.root}`"
            )
        complete = []
        for candidate in names:
            meta = _read_meta(ws.features_dir / candidate)
            if meta.get("complete"):
                complete.append((str(meta.get("completed", "")), candidate, meta))
        if not complete:
            raise ActionLensError(
                f"{ws.root} has only unfinished feature stores ({', '.join(names)}); "
                f"run `actionlens extract --workspace {ws.root}` again to finish one"
            )
        _, chosen, meta = max(complete)
        return cls(ws.features_dir / chosen, meta)

    def _load_index(self) -> None:
        done = _read_records(self.directory / DONE_INDEX, _DONE_RECORD)
        self._done_ok = {int(c) for c, s in zip(done["clip_id"], done["status"], strict=True) if s == 0}
        self._done_bad = {int(c) for c, s in zip(done["clip_id"], done["status"], strict=True) if s == 1}
        self._done_none = {int(c) for c, s in zip(done["clip_id"], done["status"], strict=True) if s == 2}
        self._rows: dict[str, dict[int, tuple[int, int]]] = {}
        self._memmaps: dict[str, np.ndarray] = {}
        for stream in self.streams:
            records = _read_records(self.directory / f"{stream}.index", _INDEX_RECORD)
            self._rows[stream] = {
                int(r["clip_id"]): (int(r["start"]), int(r["length"]))
                for r in records
                if int(r["clip_id"]) in self._done_ok
            }
        self._check_data_files()
        self._pca: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for stream, info in self.meta.get("pca", {}).items():
            mean = np.load(self.directory / info["mean"], allow_pickle=False)
            components = np.load(self.directory / info["components"], allow_pickle=False)
            self._pca[stream] = (mean.astype(np.float32), components.astype(np.float32))

    def _check_data_files(self) -> None:
        """Refuse a store whose ``<stream>.f32`` is shorter than its index says (cut or damaged):
        reading it would give some clips another clip's rows, or none."""
        for stream, rows in self._rows.items():
            if not rows:
                continue
            dim = self.raw_dim(stream)
            path = self.directory / f"{stream}.f32"
            available = path.stat().st_size // (4 * dim) if path.exists() else 0
            cut = sum(1 for start, length in rows.values() if start + length > available)
            if cut:
                raise DamagedStoreError(
                    f"{path} is cut short: {cut} of {len(rows)} clips' {stream} rows are missing; "
                    f"delete {self.directory} and run `actionlens extract` again"
                )

    def _memmap(self, stream: str) -> np.ndarray:
        if stream not in self._memmaps:
            dim = self.raw_dim(stream)
            path = self.directory / f"{stream}.f32"
            rows = path.stat().st_size // (4 * dim) if path.exists() else 0
            if rows == 0:
                self._memmaps[stream] = np.zeros((0, dim), np.float32)
            else:
                self._memmaps[stream] = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, dim))
        return self._memmaps[stream]

    # ------------------------------------------------------------------ reading
    @property
    def complete(self) -> bool:
        """True once extraction finished over every clip."""
        return bool(self.meta.get("complete"))

    def raw_dim(self, stream: str) -> int:
        """Dimension of the stored (not reduced) features of ``stream``."""
        self._check_stream(stream)
        return int(self.meta["streams"][stream]["dim"])

    def dim(self, stream: str) -> int:
        """Dimension of what :meth:`get` returns for ``stream`` (after an old store's PCA)."""
        if stream in self._pca:
            return int(self._pca[stream][1].shape[0])
        return self.raw_dim(stream)

    def clip_ids(self, stream: str | None = None) -> np.ndarray:
        """Sorted int64 ids of clips with features (in ``stream``, or in any stream)."""
        if stream is None:
            ids: set[int] = set()
            for s in self.streams:
                ids.update(self._rows[s])
            return np.array(sorted(ids), np.int64)
        self._check_stream(stream)
        return np.array(sorted(self._rows[stream]), np.int64)

    def bad_clip_ids(self) -> np.ndarray:
        """Ids of clips that extraction found unreadable."""
        return np.array(sorted(self._done_bad), np.int64)

    def done_clip_ids(self) -> set[int]:
        """Ids of every clip extraction has finished with (good or bad)."""
        return self._done_ok | self._done_bad | self._done_none

    @property
    def steps(self) -> int | None:
        """Fixed sequence length that :meth:`get` pads/clips to (seed 001), or ``None``."""
        steps = self.settings.get("steps")
        return int(steps) if steps else None

    def length(self, clip_id: int, stream: str) -> int:
        """Number of real (unpadded) time steps of a clip; ``KeyError`` when it has none."""
        self._check_stream(stream)
        length = self._rows[stream][int(clip_id)][1]
        return min(length, self.steps) if self.steps else length

    def get(self, clip_id: int, stream: str, reduced: bool = True) -> np.ndarray:
        """The ``(T, D)`` float32 features of one clip.

        Parameters
        ----------
        reduced
            Apply the PCA of an old store (if it has one) and then L2-normalise every row: what
            runs made before per-run input transforms read. New runs read ``reduced=False``
            through their own transform.
            Where the store has a fixed ``steps``, rows past the clip's end are zeros
            (seed 001's zero padding), added after the reduction so they stay zero.

        Raises
        ------
        KeyError
            When the clip has no features in ``stream``.
        """
        self._check_stream(stream)
        start, length = self._rows[stream][int(clip_id)]
        rows = np.array(self._memmap(stream)[start : start + length], dtype=np.float32)
        if reduced:
            rows = self.reduce(rows, stream)
        if self.steps:
            padded = np.zeros((self.steps, rows.shape[1]), np.float32)
            n = min(self.steps, rows.shape[0])
            padded[:n] = rows[:n]
            rows = padded
        return rows

    def reduce(self, rows: np.ndarray, stream: str) -> np.ndarray:
        """Project raw rows with the stored PCA (if any) and L2-normalise each row."""
        if stream in self._pca:
            mean, components = self._pca[stream]
            rows = (rows - mean) @ components.T
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return (rows / np.maximum(norms, 1e-12)).astype(np.float32)

    def pca_info(self, stream: str) -> dict[str, Any] | None:
        """What an old store's PCA of ``stream`` was fitted on (split, role, clips, rows, dims),
        or ``None`` (stores made now have none)."""
        info = self.meta.get("pca", {}).get(stream)
        return dict(info) if info else None

    def _check_stream(self, stream: str) -> None:
        if stream not in self.meta.get("streams", {}):
            raise KeyError(
                f"feature store {self.name!r} has no stream {stream!r} (it has {', '.join(self.streams)})"
            )


class FeatureStoreWriter:
    """Appends clips to a store; one writer per store at a time (the extraction's main process).

    Opening an existing store with the same settings resumes it: whatever a crash left after the
    last finished clip is cut off. Opening it with other settings is refused.
    """

    def __init__(self, ws: Workspace, settings: dict[str, Any], name: str | None = None) -> None:
        self.name = name or store_name(settings)
        self.directory = ws.features_dir / self.name
        self.settings = settings
        if (self.directory / META).exists():
            self.meta = _read_meta(self.directory)

            def extraction(d: dict[str, Any]) -> dict[str, Any]:
                return {k: v for k, v in d.items() if not k.startswith("pca_")}

            if extraction(self.meta["settings"]) != extraction(settings):
                raise ActionLensError(
                    f"feature store {self.directory} was made with other settings "
                    f"({json.dumps(self.meta['settings'], sort_keys=True)}); delete it to re-extract"
                )
            self._repair()
            if self.meta["settings"] != settings:  # only the PCA settings changed: refitted at the end
                self.meta = {**self.meta, "settings": settings}
                write_json(self.directory / META, self.meta)
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.meta = {
                "format": FORMAT_NAME,
                "version": STORE_VERSION,
                "name": self.name,
                "settings": settings,
                "streams": {},
                "created": _now(),
                "complete": False,
                "completed": None,
                "pca": {},
            }
            write_json(self.directory / META, self.meta)
        self._rows_written = {
            stream: self._data_path(stream).stat().st_size // (4 * info["dim"])
            if self._data_path(stream).exists()
            else 0
            for stream, info in self.meta["streams"].items()
        }

    def _data_path(self, stream: str) -> Path:
        return self.directory / f"{stream}.f32"

    def _repair(self) -> None:
        """Cut off rows and index records of clips that were not finished."""
        done = _read_records(self.directory / DONE_INDEX, _DONE_RECORD)
        with open(self.directory / DONE_INDEX, "ab") as fh:
            fh.truncate(done.nbytes)
        finished = set(done["clip_id"].tolist())
        for stream, info in self.meta["streams"].items():
            index_path = self.directory / f"{stream}.index"
            records = _read_records(index_path, _INDEX_RECORD)
            keep = 0
            while keep < len(records) and int(records[keep]["clip_id"]) in finished:
                keep += 1
            end_row = int(records[keep - 1]["start"] + records[keep - 1]["length"]) if keep else 0
            with open(index_path, "ab") as fh:
                fh.truncate(keep * _INDEX_RECORD.itemsize)
            with open(self._data_path(stream), "ab") as fh:
                fh.truncate(end_row * 4 * int(info["dim"]))
        if self.meta.get("complete"):
            self.meta = {**self.meta, "complete": False}
            write_json(self.directory / META, self.meta)

    def done_clip_ids(self) -> set[int]:
        """Ids of clips already finished (good or bad)."""
        return set(_read_records(self.directory / DONE_INDEX, _DONE_RECORD)["clip_id"].tolist())

    def add_clip(self, clip_id: int, features: dict[str, np.ndarray]) -> None:
        """Append one clip's sequences (``stream -> (T, D)``) and mark it finished."""
        for stream, rows in features.items():
            rows = np.ascontiguousarray(rows, dtype=np.float32)
            if rows.ndim != 2 or rows.shape[0] == 0:
                raise ValueError(f"features of clip {clip_id} stream {stream} have shape {rows.shape}")
            if stream not in self.meta["streams"]:
                self.meta["streams"][stream] = {"dim": int(rows.shape[1])}
                write_json(self.directory / META, self.meta)
                self._rows_written[stream] = 0
            dim = self.meta["streams"][stream]["dim"]
            if rows.shape[1] != dim:
                raise ActionLensError(
                    f"clip {clip_id} has {stream} features of dimension {rows.shape[1]}, the store "
                    f"{self.directory} holds {dim}; delete the store to re-extract"
                )
            with open(self._data_path(stream), "ab") as fh:
                fh.write(rows.tobytes())
            record = np.array([(clip_id, self._rows_written[stream], rows.shape[0])], _INDEX_RECORD)
            with open(self.directory / f"{stream}.index", "ab") as fh:
                fh.write(record.tobytes())
            self._rows_written[stream] += rows.shape[0]
        self._finish_clip(clip_id, 0)

    def add_bad_clip(self, clip_id: int) -> None:
        """Record that a clip could not be read (the catalog holds the reason)."""
        self._finish_clip(clip_id, 1)

    def add_clip_without_features(self, clip_id: int) -> None:
        """Record that a readable clip has no features here (no precomputed array for it)."""
        self._finish_clip(clip_id, 2)

    def _finish_clip(self, clip_id: int, status: int) -> None:
        with open(self.directory / DONE_INDEX, "ab") as fh:
            fh.write(np.array([(clip_id, status)], _DONE_RECORD).tobytes())

    def finish(self, clips_total: int) -> None:
        """Mark the store complete (every clip of the workspace done)."""
        self.meta = {**self.meta, "complete": True, "completed": _now(), "clips_total": clips_total}
        write_json(self.directory / META, self.meta)

    def delete(self) -> None:
        """Remove the store's directory."""
        shutil.rmtree(self.directory, ignore_errors=True)


def describe_feature_stores(ws: Workspace) -> list[dict[str, Any]]:
    """What ``actionlens info`` shows about each feature store of a workspace.

    Returns
    -------
    list of dict
        ``name``, ``extractor``, ``settings``, ``complete``, ``streams``
        (``{stream: {"dim", "raw_dim", "clips"}}``), ``clips_done``, ``clips_total`` (catalogued
        clips), ``bad_clips``, ``missing`` (catalogued clips not yet done).
    """
    out: list[dict[str, Any]] = []
    total = ws.catalog.num_clips()
    for name in list_feature_stores(ws):
        try:
            store = FeatureStore(ws.features_dir / name, _read_meta(ws.features_dir / name))
        except ActionLensError as exc:
            out.append({"name": name, "error": str(exc)})
            continue
        done = len(store.done_clip_ids())
        out.append(
            {
                "name": name,
                "extractor": store.settings.get("extractor"),
                "settings": store.settings,
                "complete": store.complete,
                "streams": {
                    s: {"dim": store.dim(s), "raw_dim": store.raw_dim(s), "clips": len(store.clip_ids(s))}
                    for s in store.streams
                },
                "clips_done": done,
                "clips_total": total,
                "bad_clips": len(store.bad_clip_ids()),
                "missing": max(0, total - done),
            }
        )
    return out


__all__ = [
    "STORE_VERSION",
    "DamagedStoreError",
    "FeatureStore",
    "FeatureStoreWriter",
    "describe_feature_stores",
    "list_feature_stores",
    "store_name",
]
