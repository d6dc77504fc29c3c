"""The SQLite catalog of a workspace: clips, classes, split memberships, captions, runs, and
anomaly marks (which clips hold an impossible event, e.g. the demo's ``anomalies=`` clips).

Clip ids are dense integers from 0, so that a clip's id is its row in every per-clip array
(feature offsets, embeddings, map coordinates). Ids are never reused or renumbered.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.data.records import Caption, ClassRecord, ClipRecord
from desktop_app.errors import WorkspaceError

#: The catalog schema this code writes; ``PRAGMA user_version`` holds it in the file.
CATALOG_VERSION = 3

#: The roles a clip may have in a split (the ``clip_splits.role`` CHECK).
ROLES = ("train", "val", "test")

# Version 1: clips, classes, clip_splits, runs.
_SCHEMA_V1 = """
CREATE TABLE classes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    phrase TEXT NOT NULL,
    verb TEXT,
    noun TEXT,
    dataset_index INTEGER
);
CREATE TABLE clips (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    class_id INTEGER REFERENCES classes(id),
    fps REAL,
    frame_count INTEGER,
    width INTEGER,
    height INTEGER,
    duration REAL,
    content_hash TEXT,
    status TEXT NOT NULL DEFAULT 'ok',
    status_reason TEXT
);
CREATE INDEX clips_class ON clips(class_id);
CREATE TABLE clip_splits (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    split TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('train', 'val', 'test')),
    PRIMARY KEY (clip_id, split)
);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}'
);
"""

# Version 2 adds audio presence (seed 003's audio stream) and paragraph captions (seed 004).
_MIGRATE_V1_TO_V2 = """
ALTER TABLE clips ADD COLUMN has_audio INTEGER NOT NULL DEFAULT 0;
CREATE TABLE captions (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    idx INTEGER NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    sentence TEXT NOT NULL,
    PRIMARY KEY (clip_id, idx)
);
"""

# Version 3 adds anomaly marks (seed 003 §VII): which clips are known to hold an anomaly, of
# what kind and from which frame, so that anomaly scores can be measured against them.
_MIGRATE_V2_TO_V3 = """
CREATE TABLE clip_anomalies (
    clip_id INTEGER PRIMARY KEY REFERENCES clips(id),
    kind TEXT NOT NULL,
    onset_frame INTEGER
);
"""

#: ``MIGRATIONS[v]`` takes a catalog from version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, str] = {1: _MIGRATE_V1_TO_V2, 2: _MIGRATE_V2_TO_V3}

# Indexes for workspaces of a million clips (issue 12): split names, split members and roles
# by index seeks instead of scans of every membership row, and the few unusable clips without
# reading every clip. They are not a schema change — a catalog without them reads the same,
# only slower, and an older ActionLens opens one with them — so they carry no version bump
# (which would make older versions refuse the workspace): :func:`ensure_indexes` adds them
# ``IF NOT EXISTS`` to a catalog opened with write access, and new catalogs have them from the
# start. See docs/scale_catalog.md.
_INDEXES = """
CREATE INDEX IF NOT EXISTS clip_splits_split_role ON clip_splits(split, role);
CREATE INDEX IF NOT EXISTS clips_not_ok ON clips(id) WHERE status != 'ok';
"""


@dataclass(frozen=True)
class ClassRow:
    """A class as the catalog holds it."""

    id: int
    name: str
    phrase: str
    verb: str | None
    noun: str | None
    dataset_index: int | None


@dataclass(frozen=True)
class ClipRow:
    """A clip as the catalog holds it; ``status`` is ``"ok"`` or ``"bad"`` (see ``status_reason``)."""

    id: int
    name: str
    path: str
    class_id: int | None
    class_name: str | None
    fps: float | None
    frame_count: int | None
    width: int | None
    height: int | None
    duration: float | None
    content_hash: str | None
    has_audio: bool
    status: str
    status_reason: str | None


#: Role codes of :meth:`Catalog.split_role_codes`: index = code, ``ROLE_CODES[0]`` = not in the split.
ROLE_CODES = ("none", *ROLES)


@dataclass(frozen=True)
class ClipColumns:
    """The catalog's per-clip columns as arrays, by clip id (ids are dense from 0, so row = id).

    What panels and hot paths read instead of one :class:`ClipRow` per clip: a million clips are
    four arrays of a million entries, not a million Python objects.
    """

    #: ``int64``: the class of each clip, ``-1`` for a clip without one (a user clip).
    class_id: np.ndarray
    #: ``bool``: the clip decodes (``status == "ok"``).
    ok: np.ndarray
    #: ``bool``: the clip has an audio track.
    has_audio: np.ndarray

    def __len__(self) -> int:
        return len(self.class_id)


def create_catalog(path: Path) -> None:
    """Write an empty catalog of the current version at ``path`` (which must not exist)."""
    con = sqlite3.connect(path)
    try:
        with con:
            con.executescript(_SCHEMA_V1)
            for version in range(1, CATALOG_VERSION):
                con.executescript(MIGRATIONS[version])
            con.executescript(_INDEXES)
            con.execute(f"PRAGMA user_version = {CATALOG_VERSION}")
    finally:
        con.close()


def ensure_indexes(path: Path) -> None:
    """Add the catalog's lookup indexes where they are missing (a catalog written before them).

    A one-off cost on the first writable open of such a catalog (about a second per million
    split memberships); read-only opens work without them, only more slowly.
    """
    con = sqlite3.connect(path)
    try:
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        if not {"clip_splits_split_role", "clips_not_ok"} <= have:
            with con:
                con.executescript(_INDEXES)
    finally:
        con.close()


def catalog_version(path: Path) -> int:
    """The schema version stored in the catalog file, refusing a file that is not a catalog."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(
            f"{path} is damaged ({exc}); restore it from a backup or re-import the dataset"
        ) from exc
    if not {"clips", "classes"} <= tables or version < 1:
        raise WorkspaceError(
            f"{path} is not an ActionLens catalog; restore it from a backup or re-import the dataset"
        )
    return version


def migrate_catalog(path: Path, from_version: int) -> None:
    """Apply ``MIGRATIONS`` in one transaction, from ``from_version`` to ``CATALOG_VERSION``."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN")
        for version in range(from_version, CATALOG_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    con.execute(statement)
        con.execute(f"PRAGMA user_version = {CATALOG_VERSION}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


class Catalog:
    """Read and write access to a workspace's ``catalog.sqlite``.

    Writes go through :meth:`transaction`, so an interrupted import leaves the catalog as it was.
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        uri = f"file:{path}?mode={'ro' if readonly else 'rw'}"
        # check_same_thread=False: GUI workers read the catalog; sqlite serialises access itself.
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._con.execute("PRAGMA foreign_keys = ON")
        # Closing the connection while a worker runs a statement on it crashes the interpreter;
        # the look-ups workers make on their own (a thumbnail's path) hold this lock.
        self._close_lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close the database connection (a look-up still running in a worker finishes first)."""
        with self._close_lock:
            self._closed = True
            self._con.close()

    def transaction(self) -> sqlite3.Connection:
        """A context manager that commits on success and rolls back on error."""
        return self._con

    @contextlib.contextmanager
    def _bulk_reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of its own for one workspace-sized read (a column of every
        clip, every membership of a split), closed when the read ends.

        The shared connection is serialised by SQLite: while a worker's ``group_concat`` over a
        million rows runs on it (one ``sqlite3_step``, about a second), the GUI thread's
        look-ups of a few rows (the classes, the runs, the split names) waited for it — the
        1.0-1.4 s freezes of opening a million-clip workspace (issue 12). A connection per
        bulk read lets them run side by side (the file is read concurrently; the catalog's
        writes are committed before anything reads columns). Opening one costs well under a
        millisecond, nothing beside the read it serves.
        """
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            yield con
        finally:
            con.close()

    # ----------------------------------------------------------------- writing
    def add_classes(self, classes: Iterable[ClassRecord]) -> dict[str, int]:
        """Insert classes that are not there yet (by name); return ``{name: id}`` for all classes."""
        with self._con:
            for cls in classes:
                self._con.execute(
                    "INSERT INTO classes (name, phrase, verb, noun, dataset_index) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO NOTHING",
                    (cls.name, cls.phrase, cls.verb, cls.noun, cls.index),
                )
        return {name: cid for cid, name in self._con.execute("SELECT id, name FROM classes")}

    def add_clips(self, clips: Iterable[ClipRecord], class_ids: dict[str, int]) -> tuple[int, int]:
        """Insert clips not already catalogued (by name) with their splits and captions.

        Returns
        -------
        (added, already_present)
        """
        clips = list(clips)
        for clip in clips:  # the table's CHECK would abort the whole import with IntegrityError
            wrong = sorted({role for role in clip.splits.values() if role not in ROLES})
            if wrong:
                raise WorkspaceError(
                    f"clip {clip.name} ({clip.path}) has split role {wrong[0]!r}, not one of "
                    f"{', '.join(ROLES)}; fix the dataset's split lists"
                )
        next_id = self._con.execute("SELECT COALESCE(MAX(id) + 1, 0) FROM clips").fetchone()[0]
        added = present = 0
        with self._con:
            for clip in clips:
                if self._con.execute("SELECT 1 FROM clips WHERE name = ?", (clip.name,)).fetchone():
                    present += 1
                    continue
                info = clip.info
                self._con.execute(
                    "INSERT INTO clips (id, name, path, class_id, fps, frame_count, width, height, duration,"
                    " content_hash, has_audio) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        next_id,
                        clip.name,
                        clip.path,
                        class_ids[clip.class_name] if clip.class_name is not None else None,
                        info.fps if info else None,
                        info.frame_count if info else None,
                        info.width if info else None,
                        info.height if info else None,
                        info.duration if info else None,
                        info.content_hash if info else None,
                        int(info.has_audio) if info else 0,
                    ),
                )
                self._con.executemany(
                    "INSERT INTO clip_splits (clip_id, split, role) VALUES (?, ?, ?)",
                    [(next_id, split, role) for split, role in clip.splits.items()],
                )
                self._con.executemany(
                    "INSERT INTO captions (clip_id, idx, start, end, sentence) VALUES (?, ?, ?, ?, ?)",
                    [(next_id, i, c.start, c.end, c.sentence) for i, c in enumerate(clip.captions)],
                )
                next_id += 1
                added += 1
        return added, present

    def mark_bad(self, clip_id: int, reason: str) -> None:
        """Mark a clip unusable (undecodable, wrong shape …) with the reason; it stays catalogued."""
        with self._con:
            self._con.execute(
                "UPDATE clips SET status = 'bad', status_reason = ? WHERE id = ?", (reason, clip_id)
            )

    def mark_ok(self, clip_id: int) -> None:
        """Clear a clip's bad mark (for example after the file was replaced)."""
        with self._con:
            self._con.execute("UPDATE clips SET status = 'ok', status_reason = NULL WHERE id = ?", (clip_id,))

    def add_run(self, run_id: str, model: str, created: str, status: str, metrics: dict[str, Any]) -> None:
        """Record a model run (or update it, by id)."""
        with self._con:
            self._con.execute(
                "INSERT INTO runs (id, model, created, status, metrics) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET model=excluded.model, status=excluded.status,"
                " metrics=excluded.metrics",
                (run_id, model, created, status, json.dumps(metrics, sort_keys=True)),
            )

    def mark_anomalies(self, marks: Iterable[tuple[int, str, int | None]]) -> int:
        """Mark clips as anomalous: ``(clip_id, kind, onset_frame)`` rows (a clip marked again
        takes the new kind); returns how many rows were written."""
        rows = [(int(c), str(k), None if f is None else int(f)) for c, k, f in marks]
        with self._con:
            self._con.executemany(
                "INSERT INTO clip_anomalies (clip_id, kind, onset_frame) VALUES (?, ?, ?) "
                "ON CONFLICT(clip_id) DO UPDATE SET kind=excluded.kind, onset_frame=excluded.onset_frame",
                rows,
            )
        return len(rows)

    def remove_run(self, run_id: str) -> None:
        """Forget a run."""
        with self._con:
            self._con.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # ----------------------------------------------------------------- reading
    def classes(self) -> list[ClassRow]:
        """All classes, by id."""
        rows = self._con.execute(
            "SELECT id, name, phrase, verb, noun, dataset_index FROM classes ORDER BY id"
        ).fetchall()
        return [ClassRow(*r) for r in rows]

    def class_components(self) -> dict[int, tuple[str | None, str | None]]:
        """``class id → (verb, noun)`` (``None`` where a class has none): what the zero-shot class
        splits and the component oracles read."""
        rows = self._con.execute("SELECT id, verb, noun FROM classes ORDER BY id").fetchall()
        return {int(i): (verb or None, noun or None) for i, verb, noun in rows}

    def clips(self, status: str | None = None) -> list[ClipRow]:
        """All clips by id, optionally only those of one status (``"ok"`` or ``"bad"``)."""
        return list(self.iter_clips(status))

    def iter_clips(self, status: str | None = None) -> Iterator[ClipRow]:
        """Stream clips by id without materialising the whole table."""
        if status is None:
            return self._select_clips("", ())
        return self._select_clips("WHERE c.status = ?", (status,))

    def clip(self, clip_id: int) -> ClipRow:
        """One clip by id; ``KeyError`` if there is none."""
        for row in self._select_clips("WHERE c.id = ?", (clip_id,)):
            return row
        raise KeyError(clip_id)

    def _select_clips(self, where: str, args: tuple[Any, ...]) -> Iterator[ClipRow]:
        query = (
            "SELECT c.id, c.name, c.path, c.class_id, k.name, c.fps, c.frame_count, c.width, c.height,"
            " c.duration, c.content_hash, c.has_audio, c.status, c.status_reason"
            f" FROM clips c LEFT JOIN classes k ON k.id = c.class_id {where} ORDER BY c.id"
        )
        for r in self._con.execute(query, args):
            yield ClipRow(
                id=r[0],
                name=r[1],
                path=r[2],
                class_id=r[3],
                class_name=r[4],
                fps=r[5],
                frame_count=r[6],
                width=r[7],
                height=r[8],
                duration=r[9],
                content_hash=r[10],
                has_audio=bool(r[11]),
                status=r[12],
                status_reason=r[13],
            )

    def clip_columns(self) -> ClipColumns:
        """Every clip's class, status and audio presence as arrays indexed by clip id."""
        with self._bulk_reader() as con:
            n = _num_ids(con)
            table = _int_columns(
                con, "COALESCE(class_id, -1) || ',' || (status = 'ok') || ',' || has_audio", 3, n
            )
            if table is None:  # ids with gaps (never written by ActionLens): row by row
                rows = con.execute(
                    "SELECT id, COALESCE(class_id, -1), status = 'ok', has_audio FROM clips ORDER BY id"
                ).fetchall()
                table = np.zeros((n, 3), dtype=np.int64)
                table[:, 0] = -1
                if rows:
                    found = np.array(rows, dtype=np.int64)
                    table[found[:, 0]] = found[:, 1:]
        return ClipColumns(
            class_id=np.ascontiguousarray(table[:, 0]),
            ok=table[:, 1].astype(bool),
            has_audio=table[:, 2].astype(bool),
        )

    def clip_class_column(self) -> np.ndarray:
        """``int64`` class of every clip by clip id (-1: none); :meth:`clip_columns`' first
        column alone (what a query needs)."""
        with self._bulk_reader() as con:
            table = _int_columns(con, "COALESCE(class_id, -1)", 1, _num_ids(con))
        return np.ascontiguousarray(table[:, 0]) if table is not None else self.clip_columns().class_id

    def split_role_codes(self, split: str, size: int | None = None) -> np.ndarray:
        """``int8`` by clip id: each clip's role in ``split`` as an index of :data:`ROLE_CODES`
        (0 = not in the split); ``size`` defaults to the number of clip ids."""
        # One joined string parsed by numpy (through the split/role index, on a connection of
        # its own), not a Python tuple per membership: a million of them took half a second.
        with self._bulk_reader() as con:
            n = int(size if size is not None else _num_ids(con))
            text = con.execute(
                "SELECT group_concat(clip_id || ',' || CASE role WHEN 'train' THEN 1"
                " WHEN 'val' THEN 2 ELSE 3 END, ',') FROM clip_splits WHERE split = ?",
                (split,),
            ).fetchone()[0]
        table = _parse_ints(text).reshape(-1, 2)
        inside = (table[:, 0] >= 0) & (table[:, 0] < n)
        codes = np.zeros(n, dtype=np.int8)
        codes[table[inside, 0]] = table[inside, 1]
        return codes

    def clip_names(self, clip_ids: Iterable[int]) -> list[str]:
        """The names of ``clip_ids``, in their order, by id lookups (``KeyError`` for an unknown id)."""
        return [name for name, _ in self.clip_labels(clip_ids)]

    def clip_labels(self, clip_ids: Iterable[int]) -> list[tuple[str, str | None]]:
        """``(name, class name or None)`` of ``clip_ids``, in their order, by id lookups
        (``KeyError`` for an unknown id): what names the k hits of a query without reading the
        catalog."""
        labels: list[tuple[str, str | None]] = []
        for part, found in self._rows_by_id(
            "SELECT c.id, c.name, k.name FROM clips c LEFT JOIN classes k ON k.id = c.class_id"
            " WHERE c.id IN ({ids})",
            [int(i) for i in clip_ids],
            500,
        ):
            labels += [(str(found[i][1]), found[i][2]) for i in part]
        return labels

    def _rows_by_id(
        self, query: str, ids: list[int] | np.ndarray, chunk: int
    ) -> Iterator[tuple[list[int], dict[int, tuple[Any, ...]]]]:
        """``(ids, {id: row})`` for each ``chunk`` of ``ids``: ``query`` (whose first column is
        the id) run with ``{ids}`` replaced by that many placeholders, one short ``IN`` look-up
        per chunk on the shared connection (a writer on it never waits behind a long read)."""
        for start in range(0, len(ids), chunk):
            part = np.asarray(ids[start : start + chunk], dtype=np.int64).tolist()  # a chunk of ints
            marks = ",".join("?" * len(part))
            yield part, {int(r[0]): r for r in self._con.execute(query.format(ids=marks), part)}

    def clip_path_of(self, clip_id: int) -> str | None:
        """The catalog path of one clip (``None`` for an unknown id, or once the catalog is
        closed: a worker's late look-up), by one id lookup."""
        with self._close_lock:
            if self._closed:
                return None
            row = self._con.execute("SELECT path FROM clips WHERE id = ?", (int(clip_id),)).fetchone()
        return None if row is None else str(row[0])

    def clip_paths(self) -> ClipPaths:
        """``clip id → catalog path`` as a mapping that looks each path up when asked (a million
        clips are not read into a dict)."""
        return ClipPaths(self)

    def clip_name_column(self) -> Any:
        """Every clip's name as a ``pyarrow.StringArray`` indexed by clip id (ids are dense).

        About 20 MB at a million clips, where a list of ``str`` is five times that; the Library
        filters it with ``pyarrow.compute`` (one C loop per typed word, not one Python call per
        clip). SQLite joins the names with a separator and the array is cut out of that one
        buffer by numpy (ten times faster than a ``str`` per row); a name holding the separator,
        or ids with gaps, take the row-by-row way.
        """
        import pyarrow as pa

        with self._bulk_reader() as con:
            n = _num_ids(con)
            text, rows = con.execute(  # the count comes with the same scan
                "SELECT group_concat(name, char(31)), COUNT(*) FROM (SELECT name FROM clips ORDER BY id)"
            ).fetchone()
        if n:
            data = np.frombuffer(str(text).encode("utf-8"), dtype=np.uint8)
            separators = np.flatnonzero(data == 31)
            if rows == n and len(separators) == n - 1:
                ends = np.append(separators, len(data)) - np.arange(n)  # separators taken out
                buffer = pa.py_buffer(data[data != 31])
                if len(data) < 2**31:
                    offsets = pa.py_buffer(np.concatenate(([0], ends)).astype(np.int32))
                    return pa.StringArray.from_buffers(n, offsets, buffer)
                offsets = pa.py_buffer(np.concatenate(([0], ends)).astype(np.int64))
                return pa.LargeStringArray.from_buffers(n, offsets, buffer)
        with self._bulk_reader() as con:
            rows = con.execute("SELECT id, name FROM clips ORDER BY id").fetchall()
        names = [""] * n
        for clip_id, name in rows:
            names[int(clip_id)] = name
        return pa.array(names, type=pa.string())

    def clip_split_roles(self, clip_id: int) -> list[tuple[str, str]]:
        """``(split, role)`` of one clip, by split (a primary-key lookup)."""
        rows = self._con.execute(
            "SELECT split, role FROM clip_splits WHERE clip_id = ? ORDER BY split", (int(clip_id),)
        )
        return [(str(split), str(role)) for split, role in rows]

    def bad_clips(self) -> list[tuple[int, str, str | None]]:
        """``(id, name, reason)`` of the clips whose status is not ``"ok"``, by id (through the
        ``clips_not_ok`` index: the unusable few, without reading every clip)."""
        rows = self._con.execute(
            "SELECT id, name, status_reason FROM clips WHERE status != 'ok' ORDER BY id"
        ).fetchall()
        return [(int(i), str(name), reason) for i, name, reason in rows]

    def num_ids(self) -> int:
        """One more than the largest clip id: the length of every per-clip array."""
        return _num_ids(self._con)

    def clip_sources(
        self, clip_ids: Any, chunk: int = 1000
    ) -> Iterator[tuple[int, str, str, bool, str | None]]:
        """``(id, name, path, has_audio, content_hash)`` of each of ``clip_ids``, in their order
        (give them sorted for id order), read ``chunk`` ids at a time.

        What extraction needs of a clip, without a :class:`ClipRow` per clip (``iter_clips``
        builds one for each of a million rows: 8.5 s against 2.5 s for these five columns).
        Each chunk is one short ``IN`` look-up on the shared connection, closed before the next,
        so a writer on it (extraction marking a clip bad) never waits behind a long read.
        """
        ids = np.asarray(clip_ids, dtype=np.int64).reshape(-1)
        query = "SELECT id, name, path, has_audio, content_hash FROM clips WHERE id IN ({ids})"
        for part, found in self._rows_by_id(query, ids, chunk):
            for clip_id in part:
                r = found.get(clip_id)
                if r is not None:
                    yield (int(r[0]), str(r[1]), str(r[2]), bool(r[3]), r[4])

    def mean_duration(self) -> float | None:
        """Mean length in seconds of the good clips whose length is known (the recorded
        duration, else frames / fps); ``None`` when no good clip has one."""
        with self._bulk_reader() as con:
            (mean,) = con.execute(
                "SELECT AVG(NULLIF(COALESCE(NULLIF(duration, 0), CASE WHEN frame_count <> 0 AND fps <> 0"
                " THEN frame_count * 1.0 / fps END), 0)) FROM clips WHERE status = 'ok'"
            ).fetchone()
        return None if mean is None else float(mean)

    def num_clips(self) -> int:
        """Number of catalogued clips (bad ones included); counts every row, so it reads on a
        connection of its own (see :meth:`_bulk_reader`)."""
        with self._bulk_reader() as con:
            return int(con.execute("SELECT COUNT(*) FROM clips").fetchone()[0])

    def split_names(self) -> list[str]:
        """The names of the splits that clips belong to (``"1"``, ``"2"`` … for UCF101).

        One index seek per split (``MIN(split) WHERE split > previous``) rather than
        ``SELECT DISTINCT`` over every membership row.
        """
        if not self._has_split_index():  # a read-only catalog written before the index
            return [r[0] for r in self._con.execute("SELECT DISTINCT split FROM clip_splits ORDER BY split")]
        names: list[str] = []
        row = self._con.execute("SELECT MIN(split) FROM clip_splits").fetchone()
        while row is not None and row[0] is not None:
            names.append(str(row[0]))
            row = self._con.execute(
                "SELECT MIN(split) FROM clip_splits WHERE split > ?", (row[0],)
            ).fetchone()
        return names

    def _has_split_index(self) -> bool:
        return bool(
            self._con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'clip_splits_split_role'"
            ).fetchone()
        )

    def split_roles_present(self, split: str) -> list[str]:
        """The roles that at least one clip has in ``split``, in :data:`ROLES` order."""
        return [
            role
            for role in ROLES
            if self._con.execute(
                "SELECT 1 FROM clip_splits WHERE split = ? AND role = ? LIMIT 1", (split, role)
            ).fetchone()
        ]

    def split_clip_ids(self, split: str, role: str | None = None) -> np.ndarray:
        """``int64`` ids of the clips in ``split`` (of ``role`` only, when given), sorted."""
        where, args = ("split = ?", (split,)) if role is None else ("split = ? AND role = ?", (split, role))
        with self._bulk_reader() as con:  # one joined string, as for split_role_codes
            text = con.execute(
                f"SELECT group_concat(clip_id, ',') FROM clip_splits WHERE {where}", args
            ).fetchone()[0]
        return np.sort(_parse_ints(text))

    def split(self, split: str) -> dict[int, str]:
        """``{clip_id: role}`` for one split."""
        return dict(self._con.execute("SELECT clip_id, role FROM clip_splits WHERE split = ?", (split,)))

    def split_counts(self) -> dict[str, dict[str, int]]:
        """``{split: {role: number of clips}}``."""
        counts: dict[str, dict[str, int]] = {}
        with self._bulk_reader() as con:  # counts every membership: a second at a million
            rows = con.execute(
                "SELECT split, role, COUNT(*) FROM clip_splits GROUP BY split, role ORDER BY split, role"
            ).fetchall()
        for split, role, n in rows:
            counts.setdefault(split, {})[role] = n
        return counts

    def captions(self, clip_id: int) -> list[Caption]:
        """The paragraph of a clip, in order."""
        rows = self._con.execute(
            "SELECT start, end, sentence FROM captions WHERE clip_id = ? ORDER BY idx", (clip_id,)
        )
        return [Caption(*r) for r in rows]

    def anomaly_marks(self) -> tuple[np.ndarray, list[str]]:
        """The marked anomalous clips as columns: ``(clip ids int64, kinds)``, by clip id
        (empty when the workspace has none)."""
        rows = self._con.execute("SELECT clip_id, kind FROM clip_anomalies ORDER BY clip_id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [str(r[1]) for r in rows]

    def runs(self) -> list[dict[str, Any]]:
        """All recorded runs, oldest first, with their metrics decoded."""
        rows = self._con.execute("SELECT id, model, created, status, metrics FROM runs ORDER BY created, id")
        return [
            {"id": r[0], "model": r[1], "created": r[2], "status": r[3], "metrics": json.loads(r[4])}
            for r in rows
        ]


def _num_ids(con: sqlite3.Connection) -> int:
    """One more than the largest clip id (an index seek on the primary key)."""
    return int(con.execute("SELECT COALESCE(MAX(id) + 1, 0) FROM clips").fetchone()[0])


def _int_columns(con: sqlite3.Connection, expression: str, width: int, n: int) -> np.ndarray | None:
    """``(n, width)`` ``int64``: ``expression`` (``width`` integers joined by commas) of every
    clip by id, or ``None`` when the ids are not ``0 … n-1`` (fewer values than ``n`` rows'
    worth: no ``COUNT(*)``, which reads every row of a million).

    SQLite joins the values into one string and numpy parses it, both in C: a Python object per
    value would cost seconds at a million clips.
    """
    if n == 0:
        return np.zeros((0, width), dtype=np.int64)
    text = con.execute(
        f"SELECT group_concat(v, ',') FROM (SELECT {expression} AS v FROM clips ORDER BY id)"
    ).fetchone()[0]
    values = _parse_ints(text)
    return values.reshape(n, width) if values.size == n * width else None


def _parse_ints(text: str | None) -> np.ndarray:
    """``int64`` values of SQLite's ``group_concat(…, ',')`` (``None``: no rows), parsed by
    numpy in C (text mode of ``fromstring``, not its deprecated binary one)."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


class ClipPaths(Mapping[int, str]):
    """``clip id → catalog path`` of a :class:`Catalog`, each path looked up by id when asked.

    What the thumbnail cache is handed instead of a dict of every clip's path.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __getitem__(self, clip_id: int) -> str:
        path = self._catalog.clip_path_of(clip_id)
        if path is None:
            raise KeyError(clip_id)
        return path

    def __len__(self) -> int:
        return self._catalog.num_clips()

    def __iter__(self) -> Iterator[int]:
        return (int(r[0]) for r in self._catalog._con.execute("SELECT id FROM clips ORDER BY id"))
