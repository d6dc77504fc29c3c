"""Fixtures for the GUI tests: a tiny real workspace (with and without embeddings), models, settings."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop_app.gui.models import AppModels

DEMO_RUN = "ste-small-rec-s1"


@pytest.fixture(scope="session")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``tiny`` demo workspace (24 clips, 6 classes) as the demo pipeline builds it: an
    ``ste`` run (:data:`DEMO_RUN`) trained, embedded and mapped."""
    from desktop_app.pipeline import build_demo_workspace

    base = tmp_path_factory.mktemp("gui-demo")
    build = build_demo_workspace(base / "ws", data=base / "data", preset="tiny")
    assert build.report["run"] == DEMO_RUN
    return build.workspace


@pytest.fixture
def workspace_copy(tiny_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny workspace (same videos), for tests that change it."""
    target = tmp_path / "ws"
    shutil.copytree(tiny_workspace, target)
    return target


@pytest.fixture
def workspace_without_embeddings(workspace_copy: Path) -> Path:
    """The tiny workspace before any embedding run."""
    shutil.rmtree(workspace_copy / "embeddings")
    (workspace_copy / "embeddings").mkdir()
    return workspace_copy


@pytest.fixture
def models(qapp: object) -> Iterator[AppModels]:
    """Fresh shared models; their workers are stopped afterwards."""
    app_models = AppModels.create()
    yield app_models
    app_models.shutdown(timeout=5.0)
    if app_models.workspace.workspace is not None:
        app_models.workspace.workspace.close()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a private INI file, so tests never touch the user's."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
