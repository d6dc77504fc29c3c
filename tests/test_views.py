"""Saved views on disk: the versioned ``WS/views.json`` file (no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.errors import ActionLensError
from desktop_app.views import VIEWS_FORMAT, SavedView, ViewStore, read_views, views_path, write_views


def _view(name: str, **panels: dict) -> SavedView:
    return SavedView(name, run_id="run-a", panels=dict(panels), selection=[5, 1, 3])


def test_views_round_trip_through_the_workspace_file(tmp_path: Path) -> None:
    store = ViewStore(tmp_path)
    assert store.views() == [] and not views_path(tmp_path).exists()
    store.put(_view("first", map={"method": "tsne", "colour": "class"}))
    store.put(_view("second", query={"text": "basketball"}))

    data = json.loads((tmp_path / "views.json").read_text(encoding="utf-8"))
    assert data["format"] == VIEWS_FORMAT and data["version"] == 1
    reopened = ViewStore(tmp_path)
    assert reopened.names() == ["first", "second"]
    first = reopened.get("first")
    assert first.panels == {"map": {"method": "tsne", "colour": "class"}}
    assert first.selection == [1, 3, 5] and first.run_id == "run-a" and first.created


def test_put_replaces_by_name_and_rename_delete_write_through(tmp_path: Path) -> None:
    store = ViewStore(tmp_path)
    store.put(_view("a", library={"text": "x"}))
    store.put(_view("b"))
    store.put(_view("a", library={"text": "y"}))
    assert store.names() == ["a", "b"]
    assert read_views(tmp_path)[0].panels == {"library": {"text": "y"}}

    store.rename("a", "renamed")
    assert [v.name for v in read_views(tmp_path)] == ["renamed", "b"]
    with pytest.raises(ActionLensError, match="already exists"):
        store.rename("renamed", "b")
    store.delete("b")
    assert [v.name for v in read_views(tmp_path)] == ["renamed"]
    with pytest.raises(ActionLensError, match="no saved view"):
        store.get("b")
    with pytest.raises(ActionLensError, match="needs a name"):
        store.put(_view("  "))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "damaged"),
        ('{"format": "something-else", "version": 1, "views": []}', "not an ActionLens views file"),
        (f'{{"format": "{VIEWS_FORMAT}", "version": 99, "views": []}}', "upgrade ActionLens"),
        (f'{{"format": "{VIEWS_FORMAT}", "version": 1, "views": [{{"panels": {{}}}}]}}', "without a name"),
    ],
)
def test_a_file_it_does_not_understand_is_rejected_naming_it(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "views.json").write_text(content, encoding="utf-8")
    with pytest.raises(ActionLensError, match=message) as info:
        read_views(tmp_path)
    assert "views.json" in str(info.value)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ActionLensError, match="same name"):
        write_views(tmp_path, [_view("a"), _view("a")])
    assert not (tmp_path / "views.json").exists()
