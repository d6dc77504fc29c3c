"""``actionlens report``: every results table of a workspace, through the protocol."""

from __future__ import annotations

import pytest

from desktop_app.cli import main
from desktop_app.evaluation.results import format_results, results_report
from desktop_app.training.runs import list_runs


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
    """The tiny demo workspace (6 classes = 3 verbs × 2 nouns, 24 clips) as the demo builds it."""
    from desktop_app.pipeline import build_demo_workspace

    base = tmp_path_factory.mktemp("report-demo")
    return build_demo_workspace(base / "ws", data=base / "data", preset="tiny").workspace


def test_report_trains_test_folds_over_seeds_and_lays_out_every_table(tiny_demo):
    from desktop_app.workspace import Workspace

    with Workspace.open(tiny_demo) as ws:
        splits = ("50/50", "unseen-noun", "unseen-verb")
        report = results_report(ws, models=["pooled-ridge"], zsl_splits=splits, folds=1, seeds=[0, 1])
        metas = list_runs(ws.runs_dir)
    # one recognition run and one run per zero-shot split per seed, all on test folds
    from desktop_app.pipeline import demo_zsl_run_ids

    zsl = [m for m in metas if m["model"]["name"] == "pooled-ridge" and m.get("zsl")]
    # --folds 1 trains fold 0 only; the demo's own evaluation brought folds 1-2 of 50/50 seed 0
    assert all(m["zsl"]["fold"] == 0 for m in zsl if m["run_id"] not in demo_zsl_run_ids())
    zsl = [m for m in zsl if m["zsl"]["fold"] == 0]
    assert sorted((m["zsl"]["split"], m["seed"]) for m in zsl) == sorted(
        (s, seed) for s in splits for seed in (0, 1)
    )
    assert all(m["zsl"]["purpose"] == "test" for m in zsl)
    cell = report["recognition"]["rows"][0]["cells"]["split 1"]
    assert cell["seeds"] == 2
    # seed 001's analogy test on the tiny demo: 3 verbs × 2 ordered noun pairs; GloVe alone
    # answers "rise ball − ball + box" with "rise box"
    seed_test = report["analogies"]["seed_test"]
    assert seed_test["comparisons"] == 6 and seed_test["word vectors"] == pytest.approx(1.0)
    assert seed_test["models"]["pooled-ridge"]["n"] == 2
    assert report["wordnet"]["rows"] == 6 and report["wordnet"]["models"]["pooled-ridge"]["n"] == 2
    text = format_results(report)
    for heading in ("**Recognition**", "**Zero-shot**", "**Analogies**", "Held-out", "**WordNet**"):
        assert heading in text
    assert "noun-only oracle" in text and "verb-only oracle" in text


def test_report_command_writes_the_markdown(tiny_demo, tmp_path, capsys):
    out = tmp_path / "results.md"
    args = ["report", "--workspace", str(tiny_demo), "--models", "pooled-ridge", "--folds", "1"]
    assert main([*args, "--seeds", "0", "--no-train", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed == out.read_text() and "**Zero-shot**" in printed


def test_report_refuses_a_model_outside_the_word_space_before_training(tiny_demo, capsys):
    before = [r["run_id"] for r in list_runs(tiny_demo / "runs")]
    assert main(["report", "--workspace", str(tiny_demo), "--models", "ste", "hse"]) == 1
    err = capsys.readouterr().err.strip()
    assert "model 'hse' does not embed clips in the word space" in err and len(err.splitlines()) == 1
    assert [r["run_id"] for r in list_runs(tiny_demo / "runs")] == before  # nothing was trained
