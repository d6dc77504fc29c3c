"""The shared models: change signals carry the source, and fire only on real changes."""

from __future__ import annotations

import pytest

from desktop_app.errors import ActionLensError, WorkspaceError


def test_selection_signals_changes_with_their_source(models, qtbot):
    seen: list[tuple[frozenset[int], str]] = []
    models.selection.changed.connect(lambda ids, source: seen.append((ids, source)))
    models.selection.set([1, 2], "map")
    models.selection.set([2, 1], "library")  # same set: no signal
    models.selection.add([5], "query")
    models.selection.clear("library")
    assert seen == [
        (frozenset({1, 2}), "map"),
        (frozenset({1, 2, 5}), "query"),
        (frozenset(), "library"),
    ]


def test_workspace_model_opens_picks_the_run_and_loads_the_space(models, tiny_workspace):
    runs: list[object] = []
    models.workspace.runChanged.connect(runs.append)
    models.selection.set([1], "library")
    models.workspace.open(tiny_workspace)
    assert models.selection.clip_ids == frozenset()  # clip ids belong to a workspace
    assert models.workspace.run_id == "ste-small-rec-s1"
    assert runs == ["ste-small-rec-s1"]
    space = models.workspace.space()
    assert space is not None and space.clip_embeddings.shape[0] == len(models.workspace.clips())
    assert set(models.workspace.classes()) == {c.class_id for c in models.workspace.clips()}
    with pytest.raises(ActionLensError, match="no embeddings"):
        models.workspace.set_run("no-such-run")


def test_opening_a_non_workspace_keeps_the_open_one(models, tiny_workspace, tmp_path):
    models.workspace.open(tiny_workspace)
    with pytest.raises(WorkspaceError, match="not an ActionLens workspace"):
        models.workspace.open(tmp_path)
    assert models.workspace.root == tiny_workspace.absolute()


def test_query_model_keeps_text_and_scores(models):
    seen: list[str] = []
    models.query.changed.connect(seen.append)
    models.query.set("basketball", {3: 0.9, 7: 0.4}, "query")
    assert models.query.text == "basketball" and dict(models.query.scores) == {3: 0.9, 7: 0.4}
    models.query.set("basketball", {3: 0.9, 7: 0.4}, "query")
    assert seen == ["query"]
