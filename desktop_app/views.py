"""Saved views ("bookmarks") of the explorer: a named snapshot of what the panels show.

A view holds the active run, each panel's own state (the map's method and colouring, the query
text, the analogy operands, the library's filters …, as the JSON-able dict the panel hands out)
and the selected clip ids. Views live in the workspace, in ``WS/views.json``, so they travel with
it::

    {"format": "actionlens-views", "version": 1,
     "views": [{"name": …, "created": …, "run_id": … | null,
                "panels": {panel id: {…}}, "selection": [clip ids…]}, …]}

The file is rewritten atomically on every change; a loader rejects a file it does not
understand with a message naming it. This module never imports Qt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop_app.atomic import read_json, write_json
from desktop_app.errors import ActionLensError

VIEWS_FORMAT = "actionlens-views"
VIEWS_VERSION = 1
VIEWS_FILE = "views.json"


def views_path(workspace_root: str | os.PathLike[str]) -> Path:
    """Where a workspace keeps its saved views."""
    return Path(workspace_root) / VIEWS_FILE


@dataclass
class SavedView:
    """One named snapshot of the explorer.

    Attributes
    ----------
    name
        What the user called it (unique within a workspace).
    created
        When it was saved, ISO 8601 UTC.
    run_id
        The run whose embeddings were shown (``None``: the workspace had none).
    panels
        Panel id → that panel's ``view_state()`` (JSON-able).
    selection
        The selected clip ids.
    """

    name: str
    created: str = ""
    run_id: str | None = None
    panels: dict[str, dict[str, Any]] = field(default_factory=dict)
    selection: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The view as stored in ``views.json``."""
        return {
            "name": self.name,
            "created": self.created,
            "run_id": self.run_id,
            "panels": self.panels,
            "selection": sorted(int(i) for i in self.selection),
        }

    @classmethod
    def from_json(cls, data: Any, path: Path) -> SavedView:
        """Read one stored view; the error names ``path``."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ActionLensError(f"{path} holds a view without a name; delete that entry or the file")
        panels = data.get("panels") or {}
        selection = data.get("selection") or []
        if not isinstance(panels, dict) or not isinstance(selection, list):
            raise ActionLensError(
                f"{path}: view {data['name']!r} is damaged; delete it in Views ▸ Manage Views…"
            )
        run_id = data.get("run_id")
        return cls(
            name=data["name"],
            created=str(data.get("created") or ""),
            run_id=str(run_id) if run_id is not None else None,
            panels={str(k): dict(v) for k, v in panels.items() if isinstance(v, dict)},
            selection=[int(i) for i in selection],
        )


def read_views(workspace_root: str | os.PathLike[str]) -> list[SavedView]:
    """The saved views of a workspace, in the order they were saved (none: empty list).

    Raises
    ------
    ActionLensError
        When ``views.json`` is damaged, not a views file, or from a newer ActionLens.
    """
    path = views_path(workspace_root)
    if not path.is_file():
        return []
    data = read_json(path, "delete it to start with no saved views")
    if not isinstance(data, dict) or data.get("format") != VIEWS_FORMAT:
        raise ActionLensError(f"{path} is not an ActionLens views file; move it out of the workspace")
    version = data.get("version")
    if not isinstance(version, int) or version > VIEWS_VERSION:
        raise ActionLensError(f"{path} has views format version {version}; upgrade ActionLens to read it")
    views = data.get("views")
    if not isinstance(views, list):
        raise ActionLensError(f"{path} has no list of views; delete it to start with no saved views")
    return [SavedView.from_json(v, path) for v in views]


def write_views(workspace_root: str | os.PathLike[str], views: list[SavedView]) -> Path:
    """Write a workspace's saved views (atomically); returns the file written."""
    names = [v.name for v in views]
    if len(set(names)) != len(names):
        raise ActionLensError("two saved views have the same name; rename one")
    path = views_path(workspace_root)
    write_json(
        path, {"format": VIEWS_FORMAT, "version": VIEWS_VERSION, "views": [v.to_json() for v in views]}
    )
    return path


class ViewStore:
    """The saved views of one workspace, read once and written through on every change."""

    def __init__(self, workspace_root: str | os.PathLike[str]) -> None:
        self.root = Path(workspace_root)
        self._views = read_views(self.root)

    @property
    def path(self) -> Path:
        """The views file."""
        return views_path(self.root)

    def views(self) -> list[SavedView]:
        """All saved views, oldest first."""
        return list(self._views)

    def names(self) -> list[str]:
        """The views' names, oldest first."""
        return [v.name for v in self._views]

    def get(self, name: str) -> SavedView:
        """The view called ``name``."""
        for view in self._views:
            if view.name == name:
                return view
        raise ActionLensError(f"no saved view {name!r} in {self.path}")

    def put(self, view: SavedView) -> SavedView:
        """Save ``view``, replacing a view of the same name in place; stamps ``created``."""
        name = view.name.strip()
        if not name:
            raise ActionLensError("a saved view needs a name")
        view.name = name
        view.created = view.created or datetime.now(UTC).isoformat(timespec="seconds")
        views = list(self._views)
        for i, old in enumerate(views):
            if old.name == name:
                views[i] = view
                break
        else:
            views.append(view)
        self._commit(views)
        return view

    def rename(self, old: str, new: str) -> None:
        """Rename a view (the new name must be free)."""
        new = new.strip()
        view = self.get(old)
        if not new:
            raise ActionLensError("a saved view needs a name")
        if new != old and new in self.names():
            raise ActionLensError(f"a saved view called {new!r} already exists; choose another name")
        views = [
            SavedView(new, v.created, v.run_id, v.panels, v.selection) if v is view else v
            for v in self._views
        ]
        self._commit(views)

    def delete(self, name: str) -> None:
        """Delete a view."""
        view = self.get(name)
        self._commit([v for v in self._views if v is not view])

    def _commit(self, views: list[SavedView]) -> None:
        write_views(self.root, views)  # first, so a failed write leaves the store as the file is
        self._views = views
