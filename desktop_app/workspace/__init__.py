"""The workspace: one directory holding a dataset's catalog, features, runs, embeddings and maps.

The on-disk format is documented in ``docs/workspace.md``.
"""

from desktop_app.workspace.catalog import Catalog, ClassRow, ClipColumns, ClipRow
from desktop_app.workspace.workspace import SCHEMA_VERSION, ImportSummary, Workspace, building

__all__ = [
    "SCHEMA_VERSION",
    "Catalog",
    "ClassRow",
    "ClipColumns",
    "ClipRow",
    "ImportSummary",
    "Workspace",
    "building",
]
