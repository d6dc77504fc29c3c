"""Where ActionLens keeps files that are not part of a workspace: the user cache and resources."""

from __future__ import annotations

import os
from pathlib import Path

#: The package's ``resources/`` (curated label table, UCF101 class list, WordNet's ``lexnames``):
#: package data, so a plain wheel install finds them as a checkout does.
RESOURCES_DIR = Path(__file__).resolve().parent / "resources"


def user_cache_dir() -> Path:
    """The user cache: ``$ACTIONLENS_CACHE``, else ``$XDG_CACHE_HOME/actionlens``, else ``~/.cache/actionlens``."""
    root = os.environ.get("ACTIONLENS_CACHE")
    if root:
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "actionlens"


def user_data_dir() -> Path:
    """Where user data lives by default: ``$XDG_DATA_HOME/actionlens`` or ``~/.local/share/actionlens``."""
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "actionlens"
