"""App state shared by every panel: small typed models with change signals (STYLE habit 2).

A panel takes :class:`AppModels` in its constructor, reads the models and subscribes to their
signals; it never talks to another panel. Every setter takes a ``source`` tag (the panel's id)
that travels with the change signal, so a panel can ignore the echo of its own change instead of
re-applying it (the usual feedback loop between two linked views).

Setters emit only when the value really changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop_app.errors import ActionLensError
from desktop_app.gui.selection import SelectionModel
from desktop_app.workspace import ClassRow, ClipColumns, ClipRow, Workspace

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.gui.tasks import TaskManager
    from desktop_app.gui.thumbnails import ThumbnailCache


class CurrentClipModel(QObject):
    """The clip being played (``None`` when none is).

    Signals
    -------
    changed(object, str)
        The clip id (or ``None``) and the ``source`` tag.
    """

    changed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clip_id: int | None = None

    @property
    def clip_id(self) -> int | None:
        """The id of the clip being played."""
        return self._clip_id

    def set(self, clip_id: int | None, source: str = "") -> None:
        """Play ``clip_id`` (``None``: stop)."""
        clip_id = None if clip_id is None else int(clip_id)
        if clip_id != self._clip_id:
            self._clip_id = clip_id
            self.changed.emit(clip_id, source)


class QueryModel(QObject):
    """The current query and its results, for colouring and highlighting in every panel.

    The Query panel sets it; other panels (the map, the library) read :attr:`scores`.

    Signals
    -------
    changed(str)
        The ``source`` tag; read :attr:`text` and :attr:`scores`.
    """

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._scores: dict[int, float] = {}

    @property
    def text(self) -> str:
        """The query as the user typed it (``""``: no query)."""
        return self._text

    @property
    def scores(self) -> Mapping[int, float]:
        """``{clip_id: score}`` of the query's results (higher = better); empty without results."""
        return self._scores

    def set(self, text: str, scores: Mapping[int, float] | None = None, source: str = "") -> None:
        """Set the query text and its result scores."""
        new_scores = {int(k): float(v) for k, v in (scores or {}).items()}
        if text != self._text or new_scores != self._scores:
            self._text, self._scores = text, new_scores
            self.changed.emit(source)

    def clear(self, source: str = "") -> None:
        """No query."""
        self.set("", None, source)


class TrackModel(QObject):
    """The model's view over time of the clip being played (:mod:`desktop_app.analysis.temporal`):
    its prefix track, which the Player computes in a task, and the prefix at the playhead.

    Signals
    -------
    trackChanged(object)
        The :class:`~desktop_app.analysis.temporal.ClipTrack`, a sentence saying why the clip has
        none (a model without recurrence …), or ``None`` (no clip, or being computed).
    stepChanged(int)
        The row of the track at the playhead.
    """

    trackChanged = Signal(object)
    stepChanged = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._track: object = None
        self._step = 0

    @property
    def track(self) -> object:
        """The track of the clip being played, a sentence why there is none, or ``None``."""
        return self._track

    @property
    def step(self) -> int:
        """The row of the track at the playhead."""
        return self._step

    def set_track(self, track: object) -> None:
        """Show ``track`` (the playhead goes back to its first row)."""
        if track is not self._track:
            self._track, self._step = track, 0
            self.trackChanged.emit(track)

    def set_step(self, step: int) -> None:
        """Move the playhead to row ``step`` of the track."""
        if int(step) != self._step:
            self._step = int(step)
            self.stepChanged.emit(self._step)


#: Up to this many clips the per-clip columns are read at once when a workspace opens (about
#: 10 ms); larger workspaces read them in a worker and announce them with ``columnsReady``.
SYNC_COLUMNS_MAX_CLIPS = 20_000
#: The task owner that reads the per-clip columns of a large workspace.
COLUMNS_TASK = "workspace:columns"


@dataclass(frozen=True)
class ClipTable:
    """The per-clip columns panels read, by clip id: what one worker reads at open.

    A million clips are a few arrays here (about 35 MB), never a million objects.
    """

    #: Class, status and audio presence (see :class:`~desktop_app.workspace.ClipColumns`).
    columns: ClipColumns
    #: ``pyarrow.StringArray`` of clip names.
    names: Any
    #: The same names in lower case, for the Library's text filter.
    names_lower: Any
    #: ``{split: {role: number of clips}}`` (:meth:`~desktop_app.workspace.Catalog.split_counts`).
    split_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns)


def read_clip_table(workspace: Workspace, progress: Any = None) -> ClipTable:
    """Read a workspace's :class:`ClipTable` (a worker's job at a million clips)."""
    import pyarrow.compute as pc

    columns = workspace.catalog.clip_columns()
    names = workspace.catalog.clip_name_column()
    return ClipTable(columns, names, pc.utf8_lower(names), workspace.catalog.split_counts())


class WorkspaceModel(QObject):
    """The open workspace, its active run and that run's embedding space (loaded lazily).

    The per-clip columns (:class:`ClipTable`) are read once per workspace, in a worker where the
    workspace is large, and cached here, so panels share them; ``columnsReady`` says they are
    there. Nothing here builds one object per clip (except the deprecated :meth:`clips`).

    Signals
    -------
    workspaceChanged(object)
        The newly opened :class:`~desktop_app.workspace.Workspace`, or ``None`` after closing.
    runChanged(object)
        The active run id, or ``None`` when the workspace has no embeddings.
    columnsReady()
        The open workspace's :meth:`clip_table` has been read (at once for a small workspace,
        by a worker for a large one).
    """

    workspaceChanged = Signal(object)
    runChanged = Signal(object)
    columnsReady = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace: Workspace | None = None
        self._run_id: str | None = None
        self._space: EmbeddingSpace | None = None
        self._clips: list[ClipRow] | None = None
        self._table: ClipTable | None = None
        self._num_clips = 0
        self._role_codes: dict[str, np.ndarray] = {}
        self._role_pairs: list[tuple[str, str]] | None = None
        self._classes: dict[int, ClassRow] | None = None
        self._roles: dict[int, dict[str, str]] | None = None
        self._tasks: TaskManager | None = None

    def attach_tasks(self, tasks: TaskManager) -> None:
        """Read large workspaces' columns on ``tasks``' workers (without: on the calling thread)."""
        self._tasks = tasks

    # ------------------------------------------------------------ workspace
    @property
    def workspace(self) -> Workspace | None:
        """The open workspace."""
        return self._workspace

    @property
    def root(self) -> Path | None:
        """The open workspace's directory."""
        return self._workspace.root if self._workspace is not None else None

    def open(self, path: str | Path) -> Workspace:
        """Open the workspace at ``path`` (closing the previous one) and pick its default run.

        Raises
        ------
        WorkspaceError
            When ``path`` is not a workspace; the previous workspace stays open then.
        """
        workspace = Workspace.open(path)
        self.set_workspace(workspace)
        return workspace

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Make ``workspace`` the open one (``None``: close)."""
        previous = self._workspace
        self._workspace = workspace
        self._clips = self._classes = self._roles = None
        self._table, self._role_codes, self._role_pairs = None, {}, None
        self._space, self._run_id = None, None
        if self._tasks is not None:
            self._tasks.cancel(COLUMNS_TASK)
        self._num_clips = workspace.catalog.num_ids() if workspace is not None else 0
        if workspace is not None:
            from desktop_app.analysis.space import runs_with_embeddings

            runs = runs_with_embeddings(workspace)
            active = workspace.manifest.get("active_run")
            self._run_id = str(active) if active in runs else (runs[-1] if runs else None)
            if self._num_clips <= SYNC_COLUMNS_MAX_CLIPS or self._tasks is None:
                self._table = read_clip_table(workspace)
            else:  # first in the workers' queue, ahead of what the panels start on the signals
                self._start_reading_columns(workspace)
        self.workspaceChanged.emit(workspace)
        self.runChanged.emit(self._run_id)
        if workspace is not None and self._table is not None:
            self.columnsReady.emit()
        if previous is not None and previous is not workspace:
            previous.close()

    def _start_reading_columns(self, workspace: Workspace) -> None:
        assert self._tasks is not None
        # urgent: the Library shows nothing until they are read, so they must not queue behind
        # the background tasks the panels start at open
        task = self._tasks.start(
            COLUMNS_TASK,
            f"Reading {self._num_clips:,} clips",
            read_clip_table,
            workspace,
            quiet=True,
            urgent=True,
        )
        task.finished.connect(lambda table, ws=workspace: self._on_clip_table(ws, table))

    def _on_clip_table(self, workspace: Workspace, table: ClipTable) -> None:
        if workspace is self._workspace and self._table is None:
            self._table = table
            self.columnsReady.emit()

    def close(self) -> None:
        """Close the open workspace."""
        self.set_workspace(None)

    # ------------------------------------------------------------ runs
    @property
    def run_id(self) -> str | None:
        """The active run (whose embeddings every panel shows), ``None`` without embeddings."""
        return self._run_id

    def runs(self) -> list[str]:
        """Ids of the open workspace's runs that have embeddings, oldest first."""
        if self._workspace is None:
            return []
        from desktop_app.analysis.space import runs_with_embeddings

        return runs_with_embeddings(self._workspace)

    def set_run(self, run_id: str | None) -> None:
        """Switch every panel to the embeddings of ``run_id``."""
        if run_id is not None and run_id not in self.runs():
            raise ActionLensError(f"run {run_id!r} has no embeddings in {self.root}; embed it first")
        if run_id != self._run_id:
            self._run_id, self._space = run_id, None
            self.runChanged.emit(run_id)

    def space(self) -> EmbeddingSpace | None:
        """The active run's embedding space, loaded on first use (memory-mapped, fast).

        ``None`` when no workspace is open or it has no embeddings. Its ``word_vectors`` load
        slowly (about a second): touch them in a task, not on the GUI thread.
        """
        if self._workspace is None or self._run_id is None:
            return None
        if self._space is None or self._space.run_id != self._run_id:
            from desktop_app.analysis.space import EmbeddingSpace

            class_of = self._table.columns.class_id if self._table is not None else None
            self._space = EmbeddingSpace.load(self._workspace, self._run_id, clip_class_ids=class_of)
        return self._space

    # ------------------------------------------------------------ catalog, cached
    @property
    def num_clips(self) -> int:
        """How many clips the open workspace holds (ids are dense: also the largest id + 1)."""
        return self._num_clips

    @property
    def columns_loaded(self) -> bool:
        """Whether :meth:`clip_table` is read (else it is being read, see ``columnsReady``)."""
        return self._table is not None

    def clip_table(self) -> ClipTable:
        """The open workspace's per-clip columns and names (cached).

        Read at open (in a worker for a large workspace); called before ``columnsReady`` it
        reads them on the calling thread, which at a million clips takes about a second.
        """
        if self._table is None:
            if self._workspace is None:
                import pyarrow as pa

                empty = np.zeros(0, dtype=bool)
                names = pa.array([], type=pa.string())
                columns = ClipColumns(class_id=np.zeros(0, dtype=np.int64), ok=empty, has_audio=empty)
                return ClipTable(columns, names, names)
            if self._tasks is not None:
                self._tasks.cancel(COLUMNS_TASK)
            self._table = read_clip_table(self._workspace)
        return self._table

    def clip_columns(self) -> ClipColumns:
        """Every clip's class, status and audio presence as arrays by clip id (cached)."""
        return self.clip_table().columns

    def clips(self) -> list[ClipRow]:
        """All clips of the open workspace, index = clip id (empty without a workspace).

        Deprecated: one Python object per clip (seconds and a gigabyte at a million clips); read
        :meth:`clip_columns`, :meth:`clip_table`, :meth:`clip_label` or the catalog's id lookups.
        """
        if self._clips is None:
            self._clips = self._workspace.catalog.clips() if self._workspace is not None else []
        return self._clips

    def split_role_codes(self, split: str) -> np.ndarray:
        """``int8`` by clip id: each clip's role in ``split`` as an index of
        :data:`~desktop_app.workspace.catalog.ROLE_CODES` (0 = not in it), cached."""
        if split not in self._role_codes:
            if self._workspace is None:
                return np.zeros(0, dtype=np.int8)
            self._role_codes[split] = self._workspace.catalog.split_role_codes(split, size=self._num_clips)
        return self._role_codes[split]

    def cached_split_role_codes(self, split: str) -> np.ndarray | None:
        """:meth:`split_role_codes` of ``split`` where they are read already, else ``None``
        (a worker then reads them, and hands them to :meth:`remember_split_role_codes`)."""
        return self._role_codes.get(split)

    def remember_split_role_codes(self, split: str, codes: np.ndarray) -> None:
        """Keep role codes of ``split`` a worker read from the open workspace's catalog."""
        if self._workspace is not None and len(codes) == self._num_clips:
            self._role_codes.setdefault(split, codes)

    def split_counts(self) -> dict[str, dict[str, int]]:
        """``{split: {role: number of clips}}``, read with the columns (empty until
        ``columnsReady``: counting a million memberships is not for the GUI thread)."""
        return self._table.split_counts if self._table is not None else {}

    def split_role_pairs(self) -> list[tuple[str, str]]:
        """``(split, role)`` pairs that some clip has, sorted (a few index seeks, cached)."""
        if self._role_pairs is None:
            catalog = self._workspace.catalog if self._workspace is not None else None
            self._role_pairs = (
                sorted((s, r) for s in catalog.split_names() for r in catalog.split_roles_present(s))
                if catalog is not None
                else []
            )
        return self._role_pairs

    def classes(self) -> dict[int, ClassRow]:
        """All classes by id."""
        if self._classes is None:
            self._classes = (
                {c.id: c for c in self._workspace.catalog.classes()} if self._workspace is not None else {}
            )
        return self._classes

    def split_roles(self) -> dict[int, dict[str, str]]:
        """``{clip_id: {split: role}}`` for every clip in some split.

        Deprecated: a dict per clip; read :meth:`split_role_codes` instead.
        """
        if self._roles is None:
            roles: dict[int, dict[str, str]] = {}
            if self._workspace is not None:
                catalog = self._workspace.catalog
                for split in catalog.split_names():
                    for clip_id, role in catalog.split(split).items():
                        roles.setdefault(clip_id, {})[split] = role
            self._roles = roles
        return self._roles

    def clip_label(self, clip_id: int) -> str:
        """A short human label of a clip: its class phrase and name (by id, never the catalog)."""
        if self._workspace is None or not 0 <= clip_id < self._num_clips:
            return f"clip {clip_id}"
        if self._table is not None:
            name = str(self._table.names[clip_id].as_py())
            class_id: int | None = int(self._table.columns.class_id[clip_id])
        else:
            try:
                row = self._workspace.catalog.clip(clip_id)
            except KeyError:
                return f"clip {clip_id}"
            name, class_id = row.name, row.class_id
        cls = self.classes().get(class_id) if class_id is not None else None
        return f"{cls.phrase} · {name}" if cls is not None else name


@dataclass
class AppModels:
    """Everything a panel is constructed from."""

    workspace: WorkspaceModel
    selection: SelectionModel
    current_clip: CurrentClipModel
    query: QueryModel
    tasks: TaskManager
    thumbnails: ThumbnailCache
    track: TrackModel = field(default_factory=TrackModel)

    @classmethod
    def create(cls, parent: QObject | None = None) -> AppModels:
        """Fresh, empty models (no workspace) with their own task manager and thumbnail cache.

        Opening another workspace clears the selection, the clip being played and the query
        (clip ids belong to a workspace), before any panel hears of the new workspace.
        """
        from desktop_app.gui.tasks import TaskManager
        from desktop_app.gui.thumbnails import ThumbnailCache

        models = cls(
            WorkspaceModel(parent),
            SelectionModel(parent),
            CurrentClipModel(parent),
            QueryModel(parent),
            TaskManager(parent),
            ThumbnailCache(parent),
            TrackModel(parent),
        )
        models.workspace.attach_tasks(models.tasks)
        models.workspace.workspaceChanged.connect(models._reset_for_workspace)
        return models

    def _reset_for_workspace(self, workspace: Workspace | None) -> None:
        self.selection.clear("workspace")
        self.current_clip.set(None, "workspace")
        self.query.clear("workspace")
        self.track.set_track(None)
        # Paths looked up by id as thumbnails are asked for, not a dict of every clip.
        self.thumbnails.set_workspace(workspace, workspace.catalog.clip_paths() if workspace else None)

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stop background work (window closing); see :meth:`TaskManager.shutdown`."""
        self.thumbnails.shutdown()
        return self.tasks.shutdown(timeout)
