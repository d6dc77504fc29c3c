"""The core never imports Qt (STYLE habit 1), and the CLI starts without heavy libraries."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import desktop_app

CORE_MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(desktop_app.__path__, "desktop_app.")
    if not m.name.startswith("desktop_app.gui") and m.name != "desktop_app.__main__"
)


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_modules_never_import_qt() -> None:
    assert CORE_MODULES, "no core modules found"
    loaded = _loaded_after("; ".join(f"import {m}" for m in CORE_MODULES))
    assert not {m for m in loaded if m.split(".")[0] in {"PySide6", "pyqtgraph", "shiboken6"}}


def test_cli_help_imports_no_heavy_library() -> None:
    loaded = _loaded_after("from desktop_app.cli import build_parser; build_parser()")
    heavy = {"torch", "gensim", "nltk", "sklearn", "umap", "openTSNE", "faiss", "PySide6"}
    assert not heavy & {m.split(".")[0] for m in loaded}
