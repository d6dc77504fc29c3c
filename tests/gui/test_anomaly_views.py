"""Anomaly scores in the app (seed 003 §VII): the Map colours by them, the Library sorts and
filters by them, and neither shows a control where there are no scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.gui.panels.library import LibraryPanel
from desktop_app.gui.panels.map import MapPanel

from .conftest import DEMO_RUN


@pytest.fixture(scope="module")
def scored_workspace(tiny_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo workspace with an autoencoder trained on its ``ste`` run (scores stored)."""
    import torch

    from desktop_app.training.anomaly import train_autoencoder
    from desktop_app.workspace import Workspace

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("scored") / "ws"
    shutil.copytree(tiny_workspace, root)
    with Workspace.open(root) as ws:
        train_autoencoder(ws, DEMO_RUN, epochs=3, train_overrides={"num_threads": 1, "device": "cpu"})
    return root


def _scores(root: Path):
    from desktop_app.training.anomaly import scores_for_run
    from desktop_app.workspace import Workspace

    with Workspace.open(root) as ws:
        return scores_for_run(ws, DEMO_RUN)


def _map(qtbot, models, root: Path) -> MapPanel:
    models.workspace.open(root)
    panel = MapPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 650)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.map is not None, timeout=20000)
    qtbot.waitUntil(
        lambda: models.tasks.task("map") is None and models.tasks.task("map:anomaly") is None, timeout=20000
    )
    return panel


def _colour_entries(panel: MapPanel) -> list[str]:
    return [panel.colour_combo.itemText(i) for i in range(panel.colour_combo.count())]


def test_map_offers_no_anomaly_colouring_without_scores(qtbot, models, workspace_copy):
    panel = _map(qtbot, models, workspace_copy)
    assert not any("anomaly" in text.lower() for text in _colour_entries(panel))


def test_map_colours_points_by_anomaly_score(qtbot, models, scored_workspace):
    panel = _map(qtbot, models, scored_workspace)
    assert "Colour by anomaly score" in _colour_entries(panel)
    panel.set_colouring("anomaly")
    labels = panel.legend_labels()
    assert labels[0].startswith("Anomaly score (autoencoder-small-on-ste-small-rec-s1)")
    assert labels[1].startswith("anomaly ") and labels[-1] == "no score"
    scores = _scores(scored_workspace)
    point_scores = scores.of(panel.ids)
    # the legend's top level is the highest score on the map
    assert float(labels[1].split()[1]) == pytest.approx(float(point_scores.max()), rel=1e-3)
    # the most and least anomalous clips are drawn in the colour map's two ends
    brushes = panel.scatter.data["brush"]
    high, low = int(np.argmax(point_scores)), int(np.argmin(point_scores))
    top, bottom = panel._groups[-2].colour, panel._groups[0].colour
    assert brushes[high].color().name() == top.name() and brushes[low].color().name() == bottom.name()
    assert top.name() != bottom.name()
    assert f"anomaly score {point_scores[high]:.4g}" in panel._hover_text(high)


@pytest.fixture
def library(qtbot, models):
    def make(root: Path) -> LibraryPanel:
        models.workspace.open(root)
        panel = LibraryPanel(models)
        qtbot.addWidget(panel)
        panel.resize(700, 500)
        panel.show()
        qtbot.waitExposed(panel)
        qtbot.waitUntil(lambda: models.tasks.task("library:anomaly") is None, timeout=20000)
        return panel

    return make


def test_library_hides_anomaly_controls_without_scores(library, workspace_copy):
    panel = library(workspace_copy)
    assert not panel.anomaly_row.isVisible()


def test_library_sorts_and_filters_by_anomaly_score(library, scored_workspace, qtbot):
    panel = library(scored_workspace)
    qtbot.waitUntil(panel.anomaly_row.isVisible, timeout=20000)
    scores = _scores(scored_workspace)
    catalog_order = panel.visible_clip_ids()
    by_score = [int(c) for c in scores.clip_ids[np.argsort(-scores.scores, kind="stable")]]

    panel.anomaly_sort.setChecked(True)
    assert panel.visible_clip_ids() == by_score
    panel.anomaly_top.setValue(5)
    assert panel.visible_clip_ids() == by_score[:5]
    assert panel.count_label.text() == f"5 of {len(catalog_order)} clips"
    panel.anomaly_top.setValue(0)

    panel.anomaly_min.setValue(float(np.sort(scores.scores)[-8]))
    threshold = panel.anomaly_min.value()  # as the box shows it, rounded to its decimals
    above = {int(c) for c, s in zip(scores.clip_ids, scores.scores, strict=True) if s >= threshold}
    assert set(panel.visible_clip_ids()) == above and 1 <= len(above) < len(catalog_order)
    panel.anomaly_min.setValue(panel.anomaly_min.minimum())
    panel.anomaly_sort.setChecked(False)
    assert panel.visible_clip_ids() == catalog_order
    tip = panel.proxy.index(0, 0).data(3)  # ToolTipRole
    assert "anomaly score" in tip
