"""A 100 000-clip workspace in the app and the CLI, on column arrays and id lookups (issue 12).

Opening it, filtering the Library and querying never build one ``ClipRow`` per clip (the
catalog's row readers are made to fail); the Library's vectorised filter selects exactly the
clips a plain Python reference over the catalog's rows selects (at this size the pass runs in a
worker: the rows shown change when its result is swapped in); a lasso-sized selection reaches
the Library's view as row ranges; query hits carry the names the catalog holds for their ids.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.data.scale import build_scale_workspace
from desktop_app.gui.panels.library import CLIP_ID_ROLE, DEBOUNCE_MIN_CLIPS, LibraryPanel, row_runs
from desktop_app.workspace import Workspace
from desktop_app.workspace.catalog import Catalog

N_CLIPS = 100_000


@pytest.fixture(scope="module")
def scale_workspace(tiny_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_scale_workspace(
        tmp_path_factory.mktemp("scale-columns") / "ws", N_CLIPS, n_classes=60, source=tiny_workspace
    )


@pytest.fixture
def no_clip_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading one ``ClipRow`` per clip fails while this fixture is active."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a ClipRow per clip was read")

    for name in ("clips", "iter_clips", "_select_clips"):
        monkeypatch.setattr(Catalog, name, refuse)


def _reference_rows(root: Path) -> list[tuple[int, str, int, str]]:
    """``(id, lower-case search text, class id, role in split 1)`` per clip, from plain SQL."""
    con = sqlite3.connect(root / "catalog.sqlite")
    rows = con.execute(
        "SELECT c.id, c.name, COALESCE(c.class_id, -1), COALESCE(k.name, ''), COALESCE(k.phrase, ''),"
        " COALESCE(k.verb, ''), COALESCE(k.noun, ''), COALESCE(s.role, '')"
        " FROM clips c LEFT JOIN classes k ON k.id = c.class_id"
        " LEFT JOIN clip_splits s ON s.clip_id = c.id AND s.split = '1' ORDER BY c.id"
    ).fetchall()
    con.close()
    return [(r[0], f"{r[1]} {r[3]} {r[4]} {r[5]} {r[6]}".lower(), r[2], r[7]) for r in rows]


def _selected_rows(panel: LibraryPanel) -> tuple[int, int]:
    """(rows selected in the view, ranges they are held in)."""
    selection = panel.view.selectionModel().selection()
    ranges = [selection.at(i) for i in range(selection.count())]
    return sum(r.bottom() - r.top() + 1 for r in ranges), len(ranges)


def _shows(qtbot, panel: LibraryPanel, expected: list[int]) -> None:
    """Wait until the Library lists exactly ``expected`` (a worker filters at this size)."""
    qtbot.waitUntil(lambda: not panel.proxy.pending and panel.visible_clip_ids() == expected, timeout=10_000)


def test_open_filter_and_select_100k_clips_on_columns(scale_workspace, models, qtbot, no_clip_rows):
    models.workspace.open(scale_workspace)
    panel = LibraryPanel(models)
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    qtbot.waitExposed(panel)
    # The columns are read by a worker; the window is usable meanwhile and says so.
    qtbot.waitUntil(lambda: models.workspace.columns_loaded, timeout=30_000)
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == N_CLIPS, timeout=5_000)
    assert panel.count_label.text() == f"{N_CLIPS} of {N_CLIPS} clips"

    reference = _reference_rows(scale_workspace)
    assert len(reference) == N_CLIPS >= DEBOUNCE_MIN_CLIPS
    # Typing is debounced at this size: nothing is filtered until typing pauses.
    QTest.keyClicks(panel.search, "ball")
    assert panel.proxy.rowCount() == N_CLIPS
    expected = [cid for cid, text, _, _ in reference if "ball" in text]
    assert 0 < len(expected) < N_CLIPS
    qtbot.waitUntil(lambda: panel.visible_clip_ids() == expected, timeout=5_000)

    # Words, a class, and a split role together, against the Python reference.
    panel.search.setText("g00 c0")
    role_index = next(
        i for i in range(panel.split_combo.count()) if panel.split_combo.itemData(i) == ("1", "test")
    )
    panel.split_combo.setCurrentIndex(role_index)  # applies the pending text with it
    expected = [cid for cid, text, _, role in reference if "g00" in text and "c0" in text and role == "test"]
    assert expected
    # the pass runs in a worker: until its rows come the view keeps the last ones, and says so
    assert panel.proxy.pending and "filtering" in panel.count_label.text()
    _shows(qtbot, panel, expected)
    assert panel.count_label.text() == f"{len(expected)} of {N_CLIPS} clips"
    class_id = int(reference[expected[0]][2])
    class_index = next(
        i for i in range(panel.class_combo.count()) if panel.class_combo.itemData(i) == class_id
    )
    panel.class_combo.setCurrentIndex(class_index)
    _shows(qtbot, panel, [cid for cid in expected if reference[cid][2] == class_id])

    # Typing on narrows the rows shown (only their names are searched): the same rows as a
    # fresh pass over every clip.
    panel.class_combo.setCurrentIndex(0)
    panel.split_combo.setCurrentIndex(0)
    panel.search.setText("g0")
    _shows(qtbot, panel, [cid for cid, text, _, _ in reference if "g0" in text])
    QTest.keyClicks(panel.search, "1")
    _shows(qtbot, panel, [cid for cid, text, _, _ in reference if "g01" in text])
    QTest.keyClicks(panel.search, " c1")
    _shows(qtbot, panel, [cid for cid, text, _, _ in reference if "g01" in text and "c1" in text])
    # a change of mind while a pass runs: only the last text's rows are shown
    panel.proxy.set_filters(text="ball")
    panel.proxy.set_filters(text="g00")
    _shows(qtbot, panel, [cid for cid, text, _, _ in reference if "g00" in text])

    panel.search.clear()
    qtbot.waitUntil(lambda: not panel.proxy.pending and panel.proxy.rowCount() == N_CLIPS, timeout=5_000)

    # A lasso-sized selection (50 000 clips, whole classes as a lasso takes clusters) arrives
    # as row ranges, one per run of consecutive rows, not one per clip.
    class_of = models.workspace.clip_columns().class_id
    classes = np.unique(class_of)
    lasso = np.flatnonzero(np.isin(class_of, classes[::2]))[:50_000]
    assert len(lasso) == 50_000
    models.selection.set(lasso.tolist(), "map")
    count, ranges = _selected_rows(panel)
    assert count == 50_000
    assert ranges == len(row_runs(np.sort(lasso))) < 100
    panel.selected_only.setChecked(True)
    _shows(qtbot, panel, lasso.tolist())
    # the rows shown are the selection's, all selected in the view
    assert _selected_rows(panel) == (50_000, 1)
    panel.selected_only.setChecked(False)
    _shows(qtbot, panel, list(range(N_CLIPS)))
    assert _selected_rows(panel)[0] == 50_000

    # A scattered selection (every third clip: 33 k runs) is tinted, not handed to Qt's
    # selection model range by range; the tint is read for the rows on screen only.
    from desktop_app.gui.panels.library import MAX_VIEW_RANGES

    scattered = np.arange(0, N_CLIPS, 3)
    models.selection.set(scattered.tolist(), "map")
    assert len(row_runs(scattered)) > MAX_VIEW_RANGES
    assert _selected_rows(panel) == (0, 0) and panel.proxy.tinted_count == len(scattered)
    background = Qt.ItemDataRole.BackgroundRole
    assert panel.proxy.index(3).data(background) is not None
    assert panel.proxy.index(4).data(background) is None
    assert "selected elsewhere" in panel.count_label.text()
    # a selection made in the Library replaces the tint, and a compact one is the view's again
    models.selection.set(lasso.tolist(), "map")
    assert panel.proxy.tinted_count == 0 and _selected_rows(panel)[0] == 50_000
    panel.selected_only.setChecked(True)
    # and the Library's own selection reaches the shared model whole (Ctrl+A on the grid)
    panel.selected_only.setChecked(False)
    panel.view.selectAll()
    assert len(models.selection) == N_CLIPS


def test_query_hits_are_named_by_id_lookups(scale_workspace, no_clip_rows):
    from desktop_app.analysis.analogy import solve
    from desktop_app.analysis.retrieval import Retriever
    from desktop_app.analysis.space import EmbeddingSpace

    with Workspace.open(scale_workspace, readonly=True) as ws:
        space = EmbeddingSpace.load(ws)
        result = Retriever(space).search("ball", 20, split="1", role="test")
        analogy = solve(space, "word:ball", 5)
        con = sqlite3.connect(scale_workspace / "catalog.sqlite")
        truth = {
            cid: (name, cls)
            for cid, name, cls in con.execute(
                "SELECT c.id, c.name, k.name FROM clips c LEFT JOIN classes k ON k.id = c.class_id"
            )
        }
        tests = {
            r[0] for r in con.execute("SELECT clip_id FROM clip_splits WHERE split = '1' AND role = 'test'")
        }
        con.close()
    assert len(result.clips) == 20
    assert all((hit.name, hit.class_name) == truth[hit.clip_id] for hit in result.clips)
    assert all(hit.clip_id in tests for hit in result.clips)
    assert all("ball" in (hit.class_name or "").lower() for hit in result.clips[:5])
    assert all((hit["name"], hit["class_name"]) == truth[hit["clip_id"]] for hit in analogy.clips)


def test_cli_info_and_query_on_100k_clips_read_no_clip_rows(scale_workspace, no_clip_rows, capsys):
    from desktop_app.cli import main

    assert main(["info", "--workspace", str(scale_workspace), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clips"] == N_CLIPS and info["bad_clips"] == []
    assert main(["query", "--workspace", str(scale_workspace), "--json", "-k", "3", "ball"]) == 0
    hits = json.loads(capsys.readouterr().out)["clips"]
    with Workspace.open(scale_workspace, readonly=True) as ws:
        assert [h["name"] for h in hits] == ws.catalog.clip_names(h["clip_id"] for h in hits)


def test_query_panel_on_100k_clips_names_its_hits_and_reads_no_clip_rows(
    scale_workspace, models, qtbot, settings, no_clip_rows
):
    from desktop_app.gui.panels.query import QueryPanel

    models.workspace.open(scale_workspace)
    panel = QueryPanel(models, settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: models.workspace.columns_loaded, timeout=30_000)
    # the split scope arrives with the columns (counted off the GUI thread)
    qtbot.waitUntil(lambda: panel.scope.count() > 1, timeout=5_000)
    panel.run_query("ball")
    qtbot.waitUntil(lambda: bool(models.query.scores), timeout=60_000)
    table = panel.results.clips
    ids = [table.operand(r)["id"] for r in range(table.rowCount())]
    labels = [table.operand(r)["label"] for r in range(table.rowCount())]
    with Workspace.open(scale_workspace, readonly=True) as ws:
        names = ws.catalog.clip_names(ids)
    assert ids and all(label.endswith(f" · {name}") for label, name in zip(labels, names, strict=True))


def test_the_window_opens_100k_clips_and_its_library_lists_and_filters_them(
    scale_workspace, qtbot, settings, no_clip_rows
):
    """The whole window on 100 k clips: opening shows every panel at once, the Library lists
    every clip once its columns are read (by a worker), and a filter typed while they are read
    applies to them when they come."""
    from desktop_app.gui.main_window import MainWindow

    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        models = window.models
        assert window.open_workspace(scale_workspace)
        library = window.panel("library")
        assert isinstance(library, LibraryPanel)
        assert scale_workspace.name in window.windowTitle()
        assert all(not dock.isHidden() for dock in window.docks.values())
        assert f"{N_CLIPS} clips" in window.workspace_label.text()
        if not models.workspace.columns_loaded:  # being read: the Library says so
            assert library.count_label.text() == f"reading {N_CLIPS:,} clips…"
        library.search.setText("ball")  # typed at once (most likely before the columns come)
        qtbot.waitUntil(lambda: models.workspace.columns_loaded, timeout=30_000)
        reference = _reference_rows(scale_workspace)
        _shows(qtbot, library, [cid for cid, text, _, _ in reference if "ball" in text])
        library.search.clear()
        _shows(qtbot, library, list(range(N_CLIPS)))
        assert library.count_label.text() == f"{N_CLIPS} of {N_CLIPS} clips"
        # the view lists them: the first and the last clip have rows
        assert library.proxy.index(0).data(CLIP_ID_ROLE) == 0
        assert library.proxy.index(N_CLIPS - 1).data(CLIP_ID_ROLE) == N_CLIPS - 1
    finally:
        window.close()
