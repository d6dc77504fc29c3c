"""App state shared by every panel: small typed models with change signals (STYLE habit 2).

A panel takes :class:`AppModels` in its constructor, reads the models and subscribes to their
signals; it never talks to another panel. Every setter takes a ``source`` tag (the panel's id)
that travels with the change signal, so a panel can ignore the echo of its own change instead of
re-applying it (the usual feedback loop between two linked views).

Setters emit only when the value really changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop_app.errors import ActionLensError
from desktop_app.workspace import ClassRow, ClipColumns, ClipRow, Workspace

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.gui.tasks import TaskManager
    from desktop_app.gui.thumbnails import ThumbnailCache


class SelectionModel(QObject):
    """The set of selected clip ids, the same selection in every panel.

    Signals
    -------
    changed(frozenset[int], str)
        The new selection and the ``source`` tag of whoever changed it.
    """

    changed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clip_ids: frozenset[int] = frozenset()

    @property
    def clip_ids(self) -> frozenset[int]:
        """The selected clip ids."""
        return self._clip_ids

    def __len__(self) -> int:
        return len(self._clip_ids)

    def __contains__(self, clip_id: object) -> bool:
        return clip_id in self._clip_ids

    def set(self, clip_ids: Iterable[int], source: str = "") -> None:
        """Replace the selection."""
        new = frozenset(int(i) for i in clip_ids)
        if new != self._clip_ids:
            self._clip_ids = new
            self.changed.emit(new, source)

    def add(self, clip_ids: Iterable[int], source: str = "") -> None:
        """Add clips to the selection."""
        self.set(self._clip_ids | {int(i) for i in clip_ids}, source)

    def remove(self, clip_ids: Iterable[int], source: str = "") -> None:
        """Remove clips from the selection."""
        self.set(self._clip_ids - {int(i) for i in clip_ids}, source)

    def clear(self, source: str = "") -> None:
        """Select nothing."""
        self.set((), source)


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


class WorkspaceModel(QObject):
    """The open workspace, its active run and that run's embedding space (loaded lazily).

    Catalog rows are read once per workspace and cached here, so panels share them.

    Signals
    -------
    workspaceChanged(object)
        The newly opened :class:`~desktop_app.workspace.Workspace`, or ``None`` after closing.
    runChanged(object)
        The active run id, or ``None`` when the workspace has no embeddings.
    """

    workspaceChanged = Signal(object)
    runChanged = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace: Workspace | None = None
        self._run_id: str | None = None
        self._space: EmbeddingSpace | None = None
        self._clips: list[ClipRow] | None = None
        self._columns: ClipColumns | None = None
        self._role_codes: dict[str, np.ndarray] = {}
        self._classes: dict[int, ClassRow] | None = None
        self._roles: dict[int, dict[str, str]] | None = None

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
        self._columns, self._role_codes = None, {}
        self._space, self._run_id = None, None
        if workspace is not None:
            from desktop_app.analysis.space import runs_with_embeddings

            runs = runs_with_embeddings(workspace)
            active = workspace.manifest.get("active_run")
            self._run_id = str(active) if active in runs else (runs[-1] if runs else None)
        self.workspaceChanged.emit(workspace)
        self.runChanged.emit(self._run_id)
        if previous is not None and previous is not workspace:
            previous.close()

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

            self._space = EmbeddingSpace.load(self._workspace, self._run_id)
        return self._space

    # ------------------------------------------------------------ catalog, cached
    def clips(self) -> list[ClipRow]:
        """All clips of the open workspace, index = clip id (empty without a workspace)."""
        if self._clips is None:
            self._clips = self._workspace.catalog.clips() if self._workspace is not None else []
        return self._clips

    def clip_columns(self) -> ClipColumns:
        """Every clip's class, status and audio presence as arrays by clip id (cached)."""
        if self._columns is None:
            if self._workspace is None:
                empty = np.zeros(0, dtype=bool)
                return ClipColumns(class_id=np.zeros(0, dtype=np.int64), ok=empty, has_audio=empty)
            self._columns = self._workspace.catalog.clip_columns()
        return self._columns

    def split_role_codes(self, split: str) -> np.ndarray:
        """``int8`` by clip id: each clip's role in ``split`` as an index of
        :data:`~desktop_app.workspace.catalog.ROLE_CODES` (0 = not in it), cached."""
        if split not in self._role_codes:
            if self._workspace is None:
                return np.zeros(0, dtype=np.int8)
            self._role_codes[split] = self._workspace.catalog.split_role_codes(
                split, size=len(self.clip_columns())
            )
        return self._role_codes[split]

    def classes(self) -> dict[int, ClassRow]:
        """All classes by id."""
        if self._classes is None:
            self._classes = (
                {c.id: c for c in self._workspace.catalog.classes()} if self._workspace is not None else {}
            )
        return self._classes

    def split_roles(self) -> dict[int, dict[str, str]]:
        """``{clip_id: {split: role}}`` for every clip in some split."""
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
        """A short human label of a clip: its class phrase and name."""
        clips = self.clips()
        if not 0 <= clip_id < len(clips):
            return f"clip {clip_id}"
        clip = clips[clip_id]
        cls = self.classes().get(clip.class_id) if clip.class_id is not None else None
        return f"{cls.phrase} · {clip.name}" if cls is not None else clip.name


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
        models.workspace.workspaceChanged.connect(models._reset_for_workspace)
        return models

    def _reset_for_workspace(self, workspace: Workspace | None) -> None:
        self.selection.clear("workspace")
        self.current_clip.set(None, "workspace")
        self.query.clear("workspace")
        self.track.set_track(None)
        paths = {c.id: c.path for c in self.workspace.clips()}
        self.thumbnails.set_workspace(workspace, paths)

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stop background work (window closing); see :meth:`TaskManager.shutdown`."""
        self.thumbnails.shutdown()
        return self.tasks.shutdown(timeout)
