"""``query``, ``analogy``, ``analogy-test`` and ``wordnet`` end to end on a tiny real workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.pipeline import build_demo_workspace
from desktop_app.workspace import Workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo (6 classes: fall/rise/spin × ball/box), a pooled-ridge run, its embeddings."""
    root = tmp_path_factory.mktemp("analysis-cli")
    ws = root / "ws"
    build_demo_workspace(ws, data=root / "data", preset="tiny")
    assert main(["train", "--workspace", str(ws), "--model", "pooled-ridge", "--run-id", "ridge"]) == 0
    assert main(["embed", "--workspace", str(ws), "--run", "ridge"]) == 0
    zsl = ["train", "--workspace", str(ws), "--model", "pooled-ridge", "--zsl-split", "50/50"]
    assert main([*zsl, "--seed", "1", "--run-id", "ridge-zsl-f0"]) == 0  # the demo's runs are seed 0's
    with Workspace.open(ws) as opened:  # the commands' default run: the workspace's active one
        opened.update_manifest(active_run="ridge")
    return ws


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_query(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, ["query", "--workspace", str(workspace), "planet", "-k", "3", "--json"])
    assert out["run"] == "ridge" and out["query"] == "planet"
    assert len(out["clips"]) == 3 and len(out["classes"]) == 5
    assert out["clips"][0]["score"] >= out["clips"][-1]["score"]
    assert "planet" not in {w["word"] for w in out["words"]}
    test_only = run_json(
        capsys,
        [
            "query",
            "--workspace",
            str(workspace),
            "ball",
            "-k",
            "50",
            "--split",
            "1",
            "--role",
            "test",
            "--json",
        ],
    )
    assert len(test_only["clips"]) == 6  # the test role of split 1 holds six clips


def test_query_unknown_word_fails_with_suggestion(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--workspace", str(workspace), "baskettball"]) == 1
    err = capsys.readouterr().err
    assert "baskettball" in err and "basketball" in err


def test_analogy(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analogy", "--workspace", str(workspace), "class:spin ball", "-", "word:ball", "+", "word:box"]
    out = run_json(capsys, [*argv, "--metric", "euclidean", "--json"])
    assert out["expression"] == "class:spin ball - word:ball + word:box"
    assert out["metric"] == "euclidean"
    assert "spin ball" not in {c["phrase"] for c in out["classes"]}
    assert {"ball", "box"}.isdisjoint(w["word"] for w in out["words"])
    capsys.readouterr()
    assert main(argv) == 0
    assert "classes:" in capsys.readouterr().out


def test_analogy_test(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, ["analogy-test", "--workspace", str(workspace), "--json", "--details"])
    model, words = out["results"]
    # Three verbs with two nouns each: 3 × 2 ordered pairs.
    assert model["comparisons"] == words["comparisons"] == 6
    # On unit vectors GloVe's own label vectors solve every fall/rise/spin ball ↔ box analogy.
    assert words["passed"] == 6
    assert model["passed"] == sum(c["passed"] for c in model["details"])
    assert all(c["nearest"] == c["expected"] for c in model["details"] if c["passed"])


def test_query_table_ranks_test_clips_only(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["query", "--workspace", str(workspace), "--table", "-k", "50", "--json"]
    out = run_json(capsys, [*argv, "ball", "planet"])
    assert [row["query"] for row in out["rows"]] == ["ball", "planet"]
    # Seed 000 retrieves among test videos: the six test clips of split 1, not all 24 clips.
    assert all(len(row["clip_classes"]) == 6 and row["role"] == "test" for row in out["rows"])
    every = run_json(capsys, [*argv, "--role", "", "ball"])
    assert len(every["rows"][0]["clip_classes"]) == 24
    capsys.readouterr()
    assert main(["query", "--workspace", str(workspace), "--table", "-k", "3", "ball"]) == 0
    assert "among the test clips of split 1" in capsys.readouterr().out


def test_analogy_test_over_zero_shot_runs(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.pipeline import demo_zsl_run_ids
    from desktop_app.training.runs import read_meta

    out = run_json(capsys, ["analogy-test", "--workspace", str(workspace), "--zsl", "50/50", "--json"])
    # the demo's own evaluation runs, and ours, found by its meta.json rather than its id
    assert sorted(r["run"] for r in out["runs"]) == sorted([*demo_zsl_run_ids(), "ridge-zsl-f0"])
    (report,) = [r for r in out["runs"] if r["run"] == "ridge-zsl-f0"]
    # The held-out pairs: same verb, source seen, target unseen, read from the run's split.
    meta = read_meta(workspace / "runs" / "ridge-zsl-f0")
    with Workspace.open(workspace, readonly=True) as ws:
        verb = {c.id: c.verb for c in ws.catalog.classes()}
    seen, unseen = meta["zsl"]["seen_class_ids"], meta["zsl"]["unseen_class_ids"]
    pairs = sum(verb[s] == verb[u] for s in seen for u in unseen)
    assert pairs > 0  # fold 0 of the tiny demo splits at least one verb across seen and unseen
    assert [h["name"] for h in report["heldout"]] == [
        "model",
        "word vectors",
        "noun only (model)",
        "noun only (word vectors)",
    ]
    assert {h["comparisons"] for h in report["heldout"]} == {pairs}
    assert [t["comparisons"] for t in report["seed_test"]] == [6, 6]
    summary = out["models"]["pooled-ridge"]
    fractions = [r["heldout"][0]["fraction"] for r in out["runs"]]
    assert summary["heldout"]["model"]["runs"] == len(out["runs"]) == 4
    assert summary["heldout"]["model"]["mean"] == pytest.approx(sum(fractions) / len(fractions))

    capsys.readouterr()
    assert main(["analogy-test", "--workspace", str(workspace), "--zsl", "80/20"]) == 1
    assert "--zsl-split 80/20" in capsys.readouterr().err
    assert main(["analogy-test", "--workspace", str(workspace), "--zsl", "50/50"]) == 0
    text = capsys.readouterr().out
    assert "held-out (seen→unseen)" in text and "noun only (model)" in text


def test_wordnet_on_workspace_and_labels(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, ["wordnet", "--workspace", str(workspace), "--json"])
    assert set(out["correlations"]) == {"model", "word vectors", "pooled features"}
    assert len(out["classes"]) == 6
    # --labels needs no workspace; the full UCF101 list (≈0.16, SPEC: 0.11–0.15) is measured in
    # docs/analysis.md, a few of its names keep this test fast.
    names = workspace.parent / "labels.txt"
    names.write_text("# UCF101 names\nPlayingGuitar\nRowing\nPushUps\nBiking\nDiving\n", encoding="utf-8")
    labels = run_json(capsys, ["wordnet", "--labels", str(names), "--json"])
    assert list(labels["correlations"]) == ["word vectors"]
    assert labels["verbs"] == ["play", "row", "push", "bike", "dive"]
    # recomputed here from WordNet's Wu-Palmer rows and GloVe cosines, Spearman per row without
    # the diagonal, averaged over rows (seed 001's comparison)
    import numpy as np
    from scipy.stats import spearmanr

    from desktop_app.words.labels import normalise_label
    from desktop_app.words.vectors import WordVectors
    from desktop_app.words.wordnet import WordNet

    records = [normalise_label(n) for n in ["PlayingGuitar", "Rowing", "PushUps", "Biking", "Diving"]]
    wup = WordNet.load(senses="best").wup_matrix([r.verb for r in records])
    vectors = WordVectors.load(None)
    rows = np.stack([vectors.phrase_vector(r.phrase) for r in records]).astype(np.float64)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    cosine = unit @ unit.T
    rhos = [spearmanr(np.delete(wup[i], i), np.delete(cosine[i], i)).statistic for i in range(5)]
    assert labels["correlations"]["word vectors"]["spearman"] == pytest.approx(np.mean(rhos), abs=0.006)
    assert labels["correlations"]["word vectors"]["rows_used"] == 5
