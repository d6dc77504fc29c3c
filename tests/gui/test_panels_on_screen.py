"""Panels in a dock tabbed behind another compute nothing until their tab is chosen.

A tabbed-away dock stays ``isVisible()`` in Qt (it is moved off the window), so a panel that
asked only that loaded WordNet, ran the evaluation overview and compared two runs at every
workspace open and run switch, competing with the first map for the CPU. These tests tab the
real panels behind a placeholder, as the main window's default layout does, and check what a
person sees: the loading message while tabbed away, the same content as a panel shown on its own
once the tab is chosen.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from desktop_app.gui import selection as selection_module
from desktop_app.gui.panels import ScreenWatch, on_screen
from desktop_app.gui.panels.compare import CompareMap, ComparePanel
from desktop_app.gui.panels.evaluation import EvaluationPanel
from desktop_app.gui.panels.wordnet import WordNetPanel

from .conftest import DEMO_RUN
from .test_compare_panel import _add_second_run

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea


def _tabbed_window(qtbot, widgets: dict[str, QWidget]) -> tuple[QMainWindow, dict[str, QDockWidget]]:
    """A main window with a placeholder dock in front and ``widgets`` in docks tabbed behind it."""
    window = QMainWindow()
    qtbot.addWidget(window)
    front = QDockWidget("front", window)
    front.setObjectName("front")
    front.setWidget(QLabel("the front tab"))
    window.addDockWidget(RIGHT, front)
    docks = {"front": front}
    for name, widget in widgets.items():
        dock = QDockWidget(name, window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        window.tabifyDockWidget(front, dock)
        docks[name] = dock
    front.raise_()
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, docks


def _wait_idle(qtbot, models, quiet_s: float = 0.5) -> None:
    """Run the event loop until no task has run for ``quiet_s`` (a started task would have run)."""
    quiet_from = [time.perf_counter()]

    def idle() -> bool:
        if models.tasks.running():
            quiet_from[0] = time.perf_counter()
            return False
        return time.perf_counter() - quiet_from[0] >= quiet_s

    qtbot.waitUntil(idle, timeout=60_000)


def test_screen_watch_calls_back_only_for_the_tab_on_screen(qtbot):
    calls: dict[str, int] = {"a": 0, "b": 0}
    widgets = {name: QLabel(name) for name in calls}
    watches = [
        ScreenWatch(w, lambda name=name: calls.__setitem__(name, calls[name] + 1))
        for name, w in widgets.items()
    ]
    _window, docks = _tabbed_window(qtbot, widgets)
    qtbot.wait(50)
    assert all(w.isVisible() for w in widgets.values())  # Qt's own flag: tabbed docks stay "visible"
    assert not any(on_screen(w) for w in widgets.values())
    assert calls == {"a": 0, "b": 0}
    docks["b"].raise_()
    qtbot.waitUntil(lambda: calls["b"] == 1, timeout=3000)
    assert on_screen(widgets["b"]) and not on_screen(widgets["a"])
    docks["a"].raise_()
    qtbot.waitUntil(lambda: calls["a"] == 1, timeout=3000)
    assert calls == {"a": 1, "b": 1}
    assert len(watches) == 2


def test_wordnet_and_evaluation_load_nothing_until_their_tab_is_chosen(qtbot, models, tiny_workspace):
    models.workspace.open(tiny_workspace)
    wordnet, evaluation = WordNetPanel(models), EvaluationPanel(models)
    _window, docks = _tabbed_window(qtbot, {"wordnet": wordnet, "evaluation": evaluation})
    _wait_idle(qtbot, models)
    # Tabbed away: WordNet not loaded, the evaluation tables not read, the models not listed.
    assert wordnet.view is None
    assert wordnet.stack.currentIndex() == 0 and "Loading WordNet" in wordnet.message.text()
    assert evaluation.recognition_table.rowCount() == 0 and evaluation.model_list.count() == 0

    docks["wordnet"].raise_()
    qtbot.waitUntil(lambda: wordnet.stack.currentIndex() == 1, timeout=60_000)
    # The same matrices as a panel shown on its own (what wordnet_view_of_run computes).
    from desktop_app.analysis.wordnet_view import wordnet_view_of_run

    expected = wordnet_view_of_run(models.workspace.workspace, DEMO_RUN)
    assert wordnet.view.run_id == DEMO_RUN
    assert wordnet.view.names == expected.names
    assert list(wordnet.view.matrices) == list(expected.matrices)
    for title, matrix in expected.matrices.items():
        np.testing.assert_allclose(wordnet.view.matrices[title], matrix, equal_nan=True)
    assert len(wordnet.titles) == len(expected.matrices)

    docks["evaluation"].raise_()
    qtbot.waitUntil(
        lambda: evaluation.recognition_table.rowCount() > 0 and evaluation.model_list.count() > 0,
        timeout=60_000,
    )
    runs = [
        evaluation.recognition_table.item(r, 0).text() for r in range(evaluation.recognition_table.rowCount())
    ]
    assert DEMO_RUN in runs


@pytest.fixture
def two_runs(models, workspace_copy):
    _add_second_run(workspace_copy)
    models.workspace.open(workspace_copy)
    models.workspace.set_run(DEMO_RUN)
    return models


def test_compare_waits_for_its_tab_and_then_outlines_the_selection_made_meanwhile(qtbot, two_runs):
    models = two_runs
    compare = ComparePanel(models)
    _window, docks = _tabbed_window(qtbot, {"compare": compare})
    _wait_idle(qtbot, models)
    assert compare.table_model.comparison is None  # no comparison for a tabbed-away dock
    chosen = np.array([1, 4, 7, 11], dtype=np.int64)
    models.selection.set(chosen, "test")
    assert compare.map_a.outlined == [] and compare.map_b.outlined == []

    docks["compare"].raise_()
    qtbot.waitUntil(lambda: compare.table_model.comparison is not None, timeout=60_000)
    for view in (compare.map_a, compare.map_b):
        on_map = chosen[np.isin(chosen, view.ids)]
        assert len(on_map) and view.outlined == on_map.tolist()
    # A selection changed while on screen is outlined at once.
    models.selection.set([int(chosen[0])], "test")
    assert compare.map_a.outlined == [int(chosen[0])]


def test_compare_map_finds_clips_by_id_whatever_their_order(qtbot):
    view = CompareMap()
    qtbot.addWidget(view)
    ids = np.array([40, 3, 17, 8, 25], dtype=np.int64)  # map rows in no particular id order
    coords = np.arange(10, dtype=np.float32).reshape(5, 2)
    view.set_map("A", ids, coords, np.zeros(5, dtype=np.int64))
    # The shared selection's id set (a sorted array, when gui/selection.py has one) or a frozenset.
    id_set = getattr(selection_module, "ClipIdSet", frozenset)
    for selection in (frozenset({25, 3, 99}), id_set([25, 3, 99])):
        view.show_selection(selection)
        assert view.outlined == [3, 25]  # ids on the map, increasing; 99 is not on it
    np.testing.assert_array_equal(view.rows_of(np.array([3, 8, 40, 41])), [1, 3, 0])
    view.show_hover(17)
    assert view.ringed == 17
    view.show_hover(99)
    assert view.ringed is None
    with pytest.raises(KeyError):
        view.view_position(99)
    view.show_selection(frozenset())
    assert view.outlined == []
