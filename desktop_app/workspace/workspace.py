"""Creating, opening, validating and migrating a workspace directory.

Layout (see ``docs/workspace.md``)::

    WS/
      workspace.json      manifest: format name, schema version, dataset, data root
      catalog.sqlite      clips, classes, splits, captions, runs
      features/<store>/   per (extractor, settings) feature stores
      runs/<run>/         weights.safetensors + meta.json
      embeddings/<run>/   clips.npy (row = clip id), class_means.npy
      maps/               cached 2-D layouts (.npy + .json)
      thumbnails/         one JPEG (and strip) per clip id
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop_app.atomic import read_json, write_json
from desktop_app.data.records import ImportResult, Note, Skipped
from desktop_app.errors import WorkspaceError
from desktop_app.workspace.catalog import (
    CATALOG_VERSION,
    Catalog,
    catalog_version,
    create_catalog,
    ensure_indexes,
    migrate_catalog,
)

FORMAT_NAME = "actionlens-workspace"
#: The workspace schema this code writes. It moves with the catalog's version.
SCHEMA_VERSION = CATALOG_VERSION
MANIFEST = "workspace.json"
CATALOG = "catalog.sqlite"
SUBDIRS = ("features", "runs", "embeddings", "maps", "thumbnails")


@dataclass
class ImportSummary:
    """What writing an :class:`~desktop_app.data.records.ImportResult` into a workspace did."""

    dataset: str
    clips_added: int
    clips_present: int
    classes: int
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of this summary."""
        return {
            "dataset": self.dataset,
            "clips_added": self.clips_added,
            "clips_already_present": self.clips_present,
            "classes": self.classes,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "notes": [{"path": n.path, "note": n.note} for n in self.notes],
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Workspace:
    """An open workspace directory.

    Use :meth:`create` for a new one and :meth:`open` for an existing one; both validate the
    manifest and the catalog, and :meth:`open` migrates older schema versions in place.
    """

    def __init__(self, root: Path, manifest: dict[str, Any], readonly: bool = False) -> None:
        self.root = root
        self.manifest = manifest
        self.catalog = Catalog(root / CATALOG, readonly=readonly)

    # ------------------------------------------------------------ life cycle
    @classmethod
    def create(
        cls, root: str | os.PathLike[str], *, dataset: str = "", data_root: str | None = None
    ) -> Workspace:
        """Create an empty workspace at ``root``.

        The directory is built beside ``root`` under a temporary name and renamed into place,
        so a crash never leaves a half-written workspace. ``root`` must not exist or be empty.
        """
        root = Path(root).absolute()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise WorkspaceError(f"{root} already exists and is not empty; choose a new workspace path")
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".partial", dir=root.parent))
        try:
            for sub in SUBDIRS:
                (tmp / sub).mkdir()
            create_catalog(tmp / CATALOG)
            manifest = {
                "format": FORMAT_NAME,
                "schema_version": SCHEMA_VERSION,
                "created": _now(),
                "dataset": dataset,
                "data_root": data_root,
                "datasets": [],
            }
            write_json(tmp / MANIFEST, manifest)
            if root.exists():
                root.rmdir()
            os.replace(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls(root, manifest)

    @classmethod
    def open(cls, root: str | os.PathLike[str], readonly: bool = False) -> Workspace:
        """Open an existing workspace, migrating an older schema; refuse a newer or damaged one."""
        root = Path(root).absolute()
        manifest = read_manifest(root)
        version = manifest["schema_version"]
        stored = catalog_version(root / CATALOG)
        if stored > CATALOG_VERSION:
            raise WorkspaceError(
                f"{root / CATALOG} has schema version {stored}, newer than this ActionLens supports "
                f"({CATALOG_VERSION}); upgrade ActionLens to open it"
            )
        if version < SCHEMA_VERSION or stored < CATALOG_VERSION:
            if readonly:
                raise WorkspaceError(
                    f"{root} has schema version {version} and needs migrating; open it once with write access"
                )
            migrate_catalog(root / CATALOG, stored)
            for sub in SUBDIRS:
                (root / sub).mkdir(exist_ok=True)
            manifest = {**manifest, "schema_version": SCHEMA_VERSION, "migrated": _now()}
            write_json(root / MANIFEST, manifest)
        if not readonly:
            ensure_indexes(root / CATALOG)  # lookup indexes a catalog written before them lacks
        return cls(root, manifest, readonly=readonly)

    def close(self) -> None:
        """Close the catalog."""
        self.catalog.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ paths
    @property
    def data_root(self) -> Path | None:
        """Where clip paths are relative to (``None`` until a dataset is imported)."""
        root = self.manifest.get("data_root")
        return Path(root) if root else None

    def clip_path(self, relative: str) -> Path:
        """The absolute path of a clip from its catalog path."""
        if self.data_root is None:
            raise WorkspaceError(f"{self.root} has no data root; import a dataset first")
        return self.data_root / relative

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def embeddings_dir(self) -> Path:
        return self.root / "embeddings"

    @property
    def maps_dir(self) -> Path:
        return self.root / "maps"

    @property
    def thumbnails_dir(self) -> Path:
        return self.root / "thumbnails"

    def update_manifest(self, **changes: Any) -> None:
        """Change manifest keys and rewrite it atomically."""
        self.manifest = {**self.manifest, **changes}
        write_json(self.root / MANIFEST, self.manifest)

    # ------------------------------------------------------------ importing
    def add_import(self, result: ImportResult) -> ImportSummary:
        """Write an importer's result into the catalog in one transaction per table.

        The first import sets the workspace's data root; a later import must use the same root
        (clip paths are relative to it).
        """
        data_root = str(Path(result.data_root).absolute())
        if self.data_root is not None and str(self.data_root) != data_root:
            raise WorkspaceError(
                f"{self.root} holds clips under {self.data_root}, not {data_root}; "
                "import this dataset into a new workspace"
            )
        class_ids = self.catalog.add_classes(result.classes)
        added, present = self.catalog.add_clips(result.clips, class_ids)
        datasets = [*self.manifest.get("datasets", []), {"importer": result.dataset, "imported": _now()}]
        self.update_manifest(
            data_root=data_root,
            dataset=self.manifest.get("dataset") or result.dataset,
            datasets=datasets,
        )
        return ImportSummary(
            result.dataset, added, present, len(class_ids), list(result.skipped), list(result.notes)
        )


@contextlib.contextmanager
def building(root: str | os.PathLike[str], dataset: str = "") -> Iterator[Workspace]:
    """Create a workspace under a temporary name, fill it in the block, then rename it to ``root``.

    If the block raises (a failed or cancelled import), the partial workspace is deleted, so a
    half-written workspace is never left at ``root``.
    """
    root = Path(root).absolute()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise WorkspaceError(f"{root} already exists and is not empty; choose a new workspace path")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp_parent = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".building", dir=root.parent))
    try:
        ws = Workspace.create(tmp_parent / root.name, dataset=dataset)
        try:
            yield ws
        finally:
            ws.close()
        if root.exists():
            root.rmdir()
        os.replace(tmp_parent / root.name, root)
    finally:
        shutil.rmtree(tmp_parent, ignore_errors=True)


def read_manifest(root: Path) -> dict[str, Any]:
    """Read and check ``workspace.json``; the error names the file and what to do."""
    path = root / MANIFEST
    if not root.is_dir():
        raise WorkspaceError(f"{root} is not a directory; give the path of an ActionLens workspace")
    if not path.is_file():
        raise WorkspaceError(
            f"{path} is missing: {root} is not an ActionLens workspace "
            "(create one with `actionlens import` or `actionlens demo`)"
        )
    manifest = read_json(path, "restore it from a backup or re-create the workspace", WorkspaceError)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise WorkspaceError(f"{path} is not an ActionLens workspace manifest; check the path")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise WorkspaceError(f"{path} has no valid schema_version; restore it from a backup")
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            f"{path} has schema version {version}, newer than this ActionLens supports "
            f"({SCHEMA_VERSION}); upgrade ActionLens to open it"
        )
    if not (root / CATALOG).is_file():
        raise WorkspaceError(
            f"{root / CATALOG} is missing; restore it from a backup or re-import the dataset"
        )
    return manifest
