"""Dataset importers: read a dataset on disk, return an :class:`~desktop_app.data.records.ImportResult`.

Every importer has the signature::

    import_xxx(src: Path, *, progress: Progress | None = None, probe: bool = True, **options)
        -> ImportResult

and never touches a workspace. It reports everything it did not take in ``ImportResult.skipped``
(with a reason) and always finishes the rest; it raises
:class:`~desktop_app.errors.ActionLensError` only when nothing can be imported at all (``src`` is
not a folder, no index file, an unknown option). Clip paths are POSIX, relative to
``ImportResult.data_root`` (``src`` resolved).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.data.importers.activitynet import import_activitynet
from desktop_app.data.importers.folder import import_folder
from desktop_app.data.importers.hmdb51 import import_hmdb51
from desktop_app.data.importers.kinetics import import_kinetics
from desktop_app.data.importers.ucf101 import import_ucf101
from desktop_app.data.records import ImportResult
from desktop_app.errors import ActionLensError

Importer = Callable[..., ImportResult]

#: Importers by the name the CLI and the GUI show.
IMPORTERS: dict[str, Importer] = {
    "ucf101": import_ucf101,
    "hmdb51": import_hmdb51,
    "kinetics": import_kinetics,
    "activitynet": import_activitynet,
    "folder": import_folder,
}


def get_importer(name: str) -> Importer:
    """Return the importer registered as ``name`` (case-insensitive).

    Raises
    ------
    ActionLensError
        When no importer has that name; the message lists the known names.
    """
    importer = IMPORTERS.get(name.strip().lower())
    if importer is None:
        raise ActionLensError(f"unknown dataset format {name!r}; choose one of {', '.join(IMPORTERS)}")
    return importer


def import_dataset(name: str, src: Path, **kwargs: Any) -> ImportResult:
    """Run the importer ``name`` on ``src``; ``kwargs`` go to it (``progress``, ``probe``, options)."""
    return get_importer(name)(src, **kwargs)


__all__ = [
    "IMPORTERS",
    "Importer",
    "get_importer",
    "import_activitynet",
    "import_dataset",
    "import_folder",
    "import_hmdb51",
    "import_kinetics",
    "import_ucf101",
]
