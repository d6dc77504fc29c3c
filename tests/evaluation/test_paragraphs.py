"""Seed 004 end to end on a tiny captioned workspace: train → save → ``Run.load`` → encode,
the retrieval table, zero-shot rows and ``actionlens query --text``."""

import argparse
import json

import numpy as np
import pytest

from desktop_app.data.records import Caption, ClassRecord, ClipRecord, ImportResult
from desktop_app.errors import ActionLensError
from desktop_app.evaluation.paragraphs import evaluate_cli, evaluate_paragraph_run, zero_shot_accuracy
from desktop_app.progress import NullProgress
from desktop_app.training.data import InMemorySequenceSource, SequenceCache
from desktop_app.training.experiment import train_in_workspace
from desktop_app.training.inputs import TransformedSource
from desktop_app.training.paragraphs import (
    build_paragraph_set,
    cosine_scores,
    embed_pairs,
    search_videos,
    segment_rows,
    split_sentences,
    text_batch,
)
from desktop_app.training.runs import Run
from desktop_app.words.vectors import WordVectors
from desktop_app.workspace import Workspace

WORDS = ["red", "blue", "green", "ball", "box", "rolls", "spins", "falls", "then", "it"]
DIM = 6


def _story(rng: np.random.Generator, k: int) -> tuple[list[Caption], np.ndarray, list[str]]:
    """A video of 2–3 segments; each segment's frames carry its sentence's colour and verb."""
    n = 2 + k % 2
    sentences, rows, captions, t = [], [], [], 0.0
    for i in range(n):
        colour, verb = WORDS[int(rng.integers(3))], WORDS[5 + int(rng.integers(3))]
        sentence = f"{'Then it' if i else 'A ' + colour + ' ball'} {verb}."
        steps = int(rng.integers(6, 10))
        signal = np.zeros(DIM, np.float32)
        signal[WORDS.index(colour) % DIM] += 1.0
        signal[3 + (WORDS.index(verb) - 5)] += 1.0
        rows.append(signal + 0.1 * rng.standard_normal((steps, DIM)).astype(np.float32))
        captions.append(Caption(t / 10, (t + steps) / 10, sentence))
        t += steps
        sentences.append(sentence)
    return captions, np.concatenate(rows), sentences


@pytest.fixture(scope="module")
def captioned(tmp_path_factory):
    root = tmp_path_factory.mktemp("para") / "ws"
    rng = np.random.default_rng(4)
    ws = Workspace.create(root, dataset="synthetic")
    clips, features = [], {}
    for k in range(16):
        captions, rows, _ = _story(rng, k)
        clips.append(
            ClipRecord(
                name=f"v_story{k:04d}",
                path=f"stories/v_story{k:04d}.mp4",
                class_name=None,
                splits={"official": "val" if k >= 12 else "train"},
                captions=captions,
            )
        )
        features[k] = rows  # catalog ids follow the import order, from 0
    # two labelled clips (one action each) for the zero-shot rows
    classes = [
        ClassRecord("RollsBall", "rolls ball", "rolls", "ball"),
        ClassRecord("SpinsBox", "spins box", "spins", "box"),
    ]
    for k, cls in enumerate(classes):
        clips.append(ClipRecord(name=f"c{k}", path=f"c{k}.mp4", class_name=cls.name, splits={"1": "test"}))
        features[16 + k] = rng.standard_normal((8, DIM)).astype(np.float32)
    ws.add_import(ImportResult(dataset="synthetic", data_root=str(root), clips=clips, classes=classes))
    source = InMemorySequenceSource({"appearance": features}, name="synthetic")
    vectors = WordVectors.from_arrays(WORDS, np.random.default_rng(1).standard_normal((len(WORDS), 5)))
    runs = {}
    for model in ("hse", "fse"):
        runs[model] = train_in_workspace(
            ws,
            model,
            epochs=3,
            source=source,
            vectors=vectors,
            model_overrides={"embed_size": 8, "clip_steps": 4},
            train_overrides={"num_threads": 1, "pca_dims": 0, "batch_size": 4},
        )
    yield ws, source, vectors, runs
    ws.close()


def test_run_metadata_and_split(captioned):
    ws, _, _, runs = captioned
    run = runs["hse"]
    meta = json.loads((run.run_dir / "meta.json").read_text())
    assert run.run_id == "hse-small-para-official" and meta["task"] == "video-paragraph"
    # 12 training stories: 20 % of them choose the checkpoint, the 4 val stories are reported
    assert meta["paragraphs"] == {
        **meta["paragraphs"],
        "train_videos": 10,
        "val_videos": 2,
        "report_videos": 4,
    }
    assert (
        meta["model"]["config"]["streams"] == ["appearance"]
        and meta["model"]["config"]["word_vector_dim"] == 5
    )
    assert meta["model"]["shape"]["word_dim"] == 8  # the app's embedding width is the joint space's
    assert meta["inputs"]["fitted_on"]["video_ids"] == sorted(meta["inputs"]["fitted_on"]["video_ids"])
    assert not set(meta["inputs"]["fitted_on"]["video_ids"]) & set(range(12, 16))  # no reported video
    assert len(meta["training"]["history"]) == 3
    assert ws.catalog.runs()[-1]["status"] == "complete"


def test_train_save_load_encode_round_trip(captioned):
    ws, source, vectors, runs = captioned
    for run in runs.values():
        loaded = Run.load(run.run_dir)
        ids = np.array([0, 1, 16])
        first, logits = run.embed(source, ids)
        again, _ = loaded.embed(source, ids[::-1])
        assert first.shape == (3, 8) and logits is None
        assert np.allclose(first, again[::-1], atol=1e-5)
        assert loaded.label_vectors.shape == (2, 8)
        assert np.allclose(np.linalg.norm(loaded.label_vectors, axis=1), 1.0, atol=1e-5)
        paragraphs = build_paragraph_set(ws, np.array([12, 13]), vectors)
        cache = SequenceCache(
            TransformedSource(source, loaded.input_transform), loaded.streams, loaded.max_len
        )
        v, p = embed_pairs(loaded.model, cache, paragraphs, np.arange(2))
        v2, p2 = embed_pairs(run.model, cache, paragraphs, np.arange(2))
        assert (
            v.shape == p.shape == (2, 8) and np.allclose(v, v2, atol=1e-5) and np.allclose(p, p2, atol=1e-5)
        )


def test_a_typed_paragraph_encodes_like_its_catalogued_twin(captioned):
    ws, source, vectors, runs = captioned
    run = runs["hse"]
    captions = ws.catalog.captions(12)
    text = " ".join(c.sentence for c in captions)
    assert split_sentences(text) == [c.sentence for c in captions]
    import torch

    with torch.inference_mode():
        typed = run.model.encode(text_batch(run.model, vectors, text))["paragraphs"].numpy()
    paragraphs = build_paragraph_set(ws, np.array([12]), vectors)
    cache = SequenceCache(TransformedSource(source, run.input_transform), run.streams, run.max_len)
    _, stored = embed_pairs(run.model, cache, paragraphs, np.arange(1))
    assert np.allclose(typed, stored, atol=1e-5)
    with pytest.raises(ActionLensError, match="no word of"):
        text_batch(run.model, vectors, "zzz qqq")


def test_unknown_words_and_empty_sentences_are_noted(tmp_path):
    ws = Workspace.create(tmp_path / "ws", dataset="synthetic")
    clips = [
        ClipRecord(
            "a",
            "a.mp4",
            None,
            {"official": "train"},
            captions=[Caption(0, 1, "Red ball zorbs."), Caption(1, 2, "Xyzzy!")],
        ),
        ClipRecord("b", "b.mp4", None, {"official": "train"}, captions=[Caption(0, 1, "Qqq.")]),
    ]
    ws.add_import(ImportResult(dataset="synthetic", data_root=str(tmp_path), clips=clips))
    vectors = WordVectors.from_arrays(WORDS, np.eye(len(WORDS), 4))
    paragraphs = build_paragraph_set(ws, np.array([0, 1]), vectors)
    assert paragraphs.video_ids.tolist() == [0] and paragraphs.sentence_counts().tolist() == [1]
    assert paragraphs.token_ids.tolist() == [0, 1]  # "red", "ball"; "zorbs" left out
    assert any("zorbs" in n for n in paragraphs.notes) and any(
        "clip 1" in n and "left out" in n for n in paragraphs.notes
    )
    ws.close()


def test_segment_rows():
    assert segment_rows(0.0, 0.5, 10) == (0, 5)
    assert segment_rows(0.95, 1.0, 10) == (9, 10)
    assert segment_rows(0.5, 0.5, 10) == (5, 6)  # at least one row
    assert segment_rows(1.0, 1.0, 10) == (9, 10)


def test_paragraph_retrieval_table(captioned):
    ws, source, vectors, runs = captioned
    args = argparse.Namespace(
        runs=[runs["hse"].run_id, runs["fse"].run_id],
        models=None,
        seeds=[0],
        preset="small",
        split="1",
        json=False,
        train_missing=False,
        epochs=None,
        features=None,
        word_vectors=None,
    )
    table, text = evaluate_cli(ws, args, NullProgress(), source=source, vectors=vectors)
    # rows name the settings the runs changed from the preset
    hse, fse = "hse[clip_steps=4, embed_size=8]", "fse[clip_steps=4, embed_size=8]"
    assert set(table["rows"]) == {hse, fse} and table["chance"]["r1"] == 25.0
    assert table["rows"][hse]["paragraph_to_video"]["r5"]["mean"] == 100.0
    lines = text.splitlines()
    assert any(line.startswith(f"| {hse} |") for line in lines)
    assert any(line.startswith(f"| {fse} |") for line in lines)
    assert "| chance (random ranking) | 25.0 | 100.0 | 100.0 | 2.5 |" in text
    assert "| seed 004 HSE[τ=5e-4], ActivityNet val1 (different data) | 44.4 | 76.7 | 97.1 | 2 |" in text
    assert "Zero-shot recognition" in text
    args.runs, args.models = None, ["ste"]
    with pytest.raises(ActionLensError, match="does not embed paragraphs"):
        evaluate_cli(ws, args, NullProgress(), source=source, vectors=vectors)
    args.models, args.seeds = ["hse"], [5]
    with pytest.raises(ActionLensError, match="hse-small-para-official-seed5 is missing"):
        evaluate_cli(ws, args, NullProgress(), source=source, vectors=vectors)


def test_evaluate_a_run_and_the_chance_row(captioned):
    ws, source, vectors, runs = captioned
    metrics = evaluate_paragraph_run(ws, runs["hse"], source=source, vectors=vectors)
    assert metrics["videos"] == 4 and metrics["role"] == "val"
    assert metrics["chance"] == {"r1": 25.0, "r5": 100.0, "r50": 100.0, "medr": 2.5}
    for direction in ("paragraph_to_video", "video_to_paragraph"):
        assert metrics[direction]["r5"] == 100.0 and 1 <= metrics[direction]["medr"] <= 4
    assert metrics["zero_shot"]["clips"] == 2 and metrics["zero_shot"]["chance_top1"] == 50.0
    assert Run.load(runs["hse"].run_dir).meta["metrics"]["paragraph_retrieval"]["videos"] == 4


def test_zero_shot_accuracy_by_hand():
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
    classes = np.array([7, 9])
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    out = zero_shot_accuracy(embeddings, np.array([7, 7, 9]), classes, vectors)
    assert out["top1"] == pytest.approx(100 / 3) and out["top5"] == 100.0
    assert out["chance_top1"] == 50.0 and out["chance_top5"] == 100.0


def test_a_workspace_without_paragraphs_is_refused(tmp_path):
    ws = Workspace.create(tmp_path / "ws", dataset="synthetic")
    ws.add_import(
        ImportResult(dataset="synthetic", data_root=str(tmp_path), clips=[ClipRecord("a", "a.mp4", None)])
    )
    source = InMemorySequenceSource({"appearance": {0: np.zeros((3, 2))}})
    vectors = WordVectors.from_arrays(WORDS, np.eye(len(WORDS), 4))
    with pytest.raises(ActionLensError, match="no videos with paragraphs"):
        train_in_workspace(ws, "hse", source=source, vectors=vectors)
    ws.close()


def test_search_videos_ranks_by_the_text_embedding(captioned):
    ws, source, vectors, runs = captioned
    run = runs["hse"]
    text = " ".join(c.sentence for c in ws.catalog.captions(12))
    hits = search_videos(ws, run, text, k=3, clip_ids=np.arange(12, 18), source=source, vectors=vectors)
    assert len(hits) == 3 and all(12 <= c < 18 for c, _ in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    everything = search_videos(ws, run, text, k=100, source=source, vectors=vectors)
    assert len(everything) == 18  # 16 stories and 2 labelled clips (one-clip videos)
    # a story's score is the cosine of its video embedding (caption segments) with the text's
    paragraphs = build_paragraph_set(ws, np.array([12]), vectors)
    cache = SequenceCache(TransformedSource(source, run.input_transform), run.streams, run.max_len)
    video, paragraph = embed_pairs(run.model, cache, paragraphs, np.arange(1))
    expected = float(cosine_scores(paragraph, video)[0, 0])
    assert dict(everything)[12] == pytest.approx(expected, abs=1e-5)
    meta = {k: v for k, v in run.meta.items() if k != "paragraphs"}
    with pytest.raises(ActionLensError, match="needs an hse or fse run"):
        search_videos(
            ws, Run(run.run_dir, meta, run.model, run.label_vectors), text, source=source, vectors=vectors
        )


def test_activitynet_with_precomputed_features_end_to_end(tmp_path, monkeypatch, capsys):
    """Import a tiny ActivityNet Captions folder, read precomputed arrays, train, evaluate, query."""
    from desktop_app.cli import main
    from desktop_app.data.demo_scenes import write_video

    monkeypatch.setenv("ACTIONLENS_CACHE", str(tmp_path / "cache"))
    src, feats = tmp_path / "anet", tmp_path / "feats"
    src.mkdir()
    feats.mkdir()
    rng = np.random.default_rng(0)
    captions: dict[str, dict[str, dict]] = {"train": {}, "val_1": {}}
    for k in range(8):
        video_id = f"v_clip{k:02d}"
        caps, rows, sentences = _story(rng, k)
        frames = np.full((len(rows), 24, 32, 3), 40 * (k % 5), np.uint8)
        write_video(src / f"{video_id}.mp4", frames, 10.0)
        np.save(feats / f"{video_id}.npy", rows)
        part = "val_1" if k >= 6 else "train"
        captions[part][video_id] = {
            "duration": len(rows) / 10.0,
            "timestamps": [[c.start, c.end] for c in caps],
            "sentences": sentences,
        }
    for part, entries in captions.items():
        (src / f"{part}.json").write_text(json.dumps(entries))
    vec_file = tmp_path / "words.txt"
    table = np.random.default_rng(1).standard_normal((len(WORDS), 5))
    vec_file.write_text(
        "".join(f"{w} {' '.join(f'{x:.4f}' for x in row)}\n" for w, row in zip(WORDS, table, strict=True))
    )
    ws = str(tmp_path / "ws")

    assert main(["import", "activitynet", str(src), "--workspace", ws, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips_added"] == 8
    assert (
        main(
            [
                "extract",
                "--workspace",
                ws,
                "--extractor",
                "precomputed",
                "--features-from",
                str(feats),
                "--json",
            ]
        )
        == 0
    )
    capsys.readouterr()
    train = ["train", "--workspace", ws, "--epochs", "2", "--word-vectors", str(vec_file), "--threads", "1"]
    train += ["--pca-dims", "0", "--json"]
    assert main([*train, "--model", "hse"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["run_id"] == "hse-small-para-official" and summary["epochs_run"] == 2
    run = "hse-small-para-official"
    assert (
        main(["evaluate", "--workspace", ws, "--task", "paragraph-retrieval", "--runs", run, "--json"]) == 0
    )
    table = json.loads(capsys.readouterr().out)
    assert table["chance"] == {"r1": 50.0, "r5": 100.0, "r50": 100.0, "medr": 1.5}  # the 2 val_1 videos
    assert table["rows"]["hse"]["paragraph_to_video"]["r5"]["mean"] == 100.0
    assert "zero_shot" not in table["rows"]["hse"]  # no class in an ActivityNet Captions workspace
    assert (
        main(
            [
                "query",
                "--workspace",
                ws,
                "--run",
                run,
                "--text",
                "A red ball rolls. Then it spins.",
                "-k",
                "3",
                "--json",
            ]
        )
        == 0
    )
    hits = json.loads(capsys.readouterr().out)["videos"]
    assert len(hits) == 3 and all(h["name"].startswith("v_clip") for h in hits)
    assert main(["query", "--workspace", ws, "--run", run, "--text", "zzz", "--json"]) == 1
    assert "no word of 'zzz'" in capsys.readouterr().err


def test_rows_name_the_settings_a_run_changes():
    from desktop_app.evaluation.paragraphs import row_name
    from desktop_app.models import config_to_json, get_model_spec

    config = config_to_json(get_model_spec("hse").config("small"))
    meta = {"model": {"name": "hse", "preset": "small", "config": {**config, "streams": ["appearance"]}}}
    assert row_name(meta) == "hse"  # the streams and word-vector width are filled in, not chosen
    meta["model"]["config"] = {**config, "tau": 0.0, "low_level": "weak"}
    assert row_name(meta) == "hse[low_level=weak, tau=0]"


class _CancelAfterEpochs(NullProgress):
    """Cancels the task once the progress passes ``fraction`` (the end of an epoch)."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction

    def set_progress(self, fraction: float, message: str = "") -> None:
        if fraction >= self.fraction and "val R-sum" in message:
            self.cancel()


def test_an_interrupted_run_continues_as_if_never_stopped(captioned):
    from desktop_app.errors import TaskCancelled

    ws, source, vectors, _ = captioned
    options = {
        "epochs": 3,
        "source": source,
        "vectors": vectors,
        "model_overrides": {"embed_size": 8, "clip_steps": 4},
        "train_overrides": {"num_threads": 1, "pca_dims": 0, "batch_size": 4},
    }
    whole = train_in_workspace(ws, "hse", run_id="whole", **options)
    with pytest.raises(TaskCancelled):
        train_in_workspace(ws, "hse", run_id="cut", progress=_CancelAfterEpochs(1 / 3), **options)
    assert (ws.runs_dir / "cut" / "checkpoint.pt").is_file() and not (
        ws.runs_dir / "cut" / "meta.json"
    ).is_file()
    resumed = train_in_workspace(ws, "hse", run_id="cut", **options)  # the same command again
    assert len(resumed.meta["training"]["history"]) == 3
    for name, tensor in whole.model.state_dict().items():
        assert np.allclose(tensor.numpy(), resumed.model.state_dict()[name].numpy(), atol=1e-6), name


def test_the_demo_pipeline_imports_its_stories(tmp_path):
    from desktop_app.pipeline import DemoBuild, _stage_generate, _stage_import, _stage_stories

    build = DemoBuild(workspace=tmp_path / "ws", data=tmp_path / "data", preset="tiny", stories=6)
    for stage in (_stage_generate, _stage_import, _stage_stories):
        stage(build, NullProgress())
    assert build.report["stories"]["clips_added"] == 6 and not build.report["stories"]["skipped"]
    with Workspace.open(build.workspace) as ws:
        roles = ws.catalog.split("official")
        assert sorted(roles.values()) == ["train"] * 5 + ["val"]  # the last quarter (at least one)
        story = next(c for c in ws.catalog.iter_clips() if c.name == "v_story0001")
        assert story.class_id is None and story.path == "stories/v_story0001.mp4"
        assert len(ws.catalog.captions(story.id)) >= 2
        count = ws.catalog.num_clips()
    _stage_stories(build, NullProgress())  # built again: nothing more to import
    with Workspace.open(build.workspace) as ws:
        assert ws.catalog.num_clips() == count == 24 + 6


def test_a_zero_shot_split_is_refused(captioned):
    ws, source, vectors, _ = captioned
    with pytest.raises(ActionLensError, match="drop --zsl-split"):
        train_in_workspace(ws, "fse", zsl_split="50/50", source=source, vectors=vectors)
