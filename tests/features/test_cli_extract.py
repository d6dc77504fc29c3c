"""``actionlens extract`` on the tiny demo dataset, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.data.demo import generate_demo_dataset
from desktop_app.data.importers import import_dataset
from desktop_app.features import FeatureStore, describe_feature_stores
from desktop_app.workspace import Workspace


@pytest.fixture
def demo_workspace(tmp_path: Path) -> Path:
    data = tmp_path / "demo data"
    generate_demo_dataset(data, preset="tiny", seed=0)
    with Workspace.create(tmp_path / "ws") as ws:
        ws.add_import(import_dataset("ucf101", data))
    return tmp_path / "ws"


def test_extract_command_on_the_tiny_demo(demo_workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "--workspace", str(demo_workspace), "--workers", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    with Workspace.open(demo_workspace) as ws:
        n = ws.catalog.num_clips()
        assert summary["clips_extracted"] == n and summary["bad_clips"] == [] and summary["complete"]
        store = FeatureStore.open(ws)
        assert store.pca_info("appearance") is None  # each run fits its own PCA
        for clip_id in store.clip_ids("appearance"):
            length = store.length(int(clip_id), "appearance")
            assert 12 <= length <= 18  # 1.5 s ± 15 % at 10 fps
            assert store.get(int(clip_id), "motion").shape == (length, store.dim("motion"))
        assert describe_feature_stores(ws)[0]["missing"] == 0
    # a second run finds everything done
    assert main(["extract", "--workspace", str(demo_workspace), "--workers", "1"]) == 0
    assert "0 clips extracted" in capsys.readouterr().out


def test_extract_command_reports_errors_in_one_line(
    demo_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["extract", "--workspace", str(demo_workspace), "--extractor", "precomputed"])
    assert code == 1
    assert "needs --features-from" in capsys.readouterr().err
