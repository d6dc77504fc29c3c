"""Seed 003's motion CNN: flow stacks, the network, training on a tiny left-vs-right set, the saved
file, and extraction with it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from desktop_app.cli import main
from desktop_app.errors import ActionLensError
from desktop_app.features import FeatureStore
from desktop_app.features import motion_cnn as mc
from desktop_app.features.extract import ExtractSettings, extract_features
from desktop_app.workspace import Workspace

from .conftest import make_workspace, write_video

#: A CNN small enough to train in a second or two on a handful of clips.
TINY = {
    "input_size": 32,
    "stack": 4,
    "channels": (8, 8, 8, 8, 8),
    "fc": (16, 12),
    "dropout": 0.0,
    "epochs": 8,
    "batch_size": 16,
    "learning_rate": 3e-3,
    "stacks_per_clip": 6,
    "patience": 8,
    "val_fraction": 0.0,
}


@pytest.fixture(scope="module")
def left_right(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Two classes told apart only by the direction of motion: 6 train and 2 test clips each."""
    base = tmp_path_factory.mktemp("left_right")
    data = base / "data"
    clips = []
    for cls, speed in (("Left", -3.0), ("Right", 3.0)):
        for i in range(8):
            name = f"v_{cls}_g{i:02d}"
            rel = f"{cls}/{name}.mp4"
            write_video(data / rel, [speed] * (14 + i), colour=(40 + 20 * i, 120, 200 - 15 * i))
            clips.append((name, rel, cls, {"1": "train" if i < 6 else "test"}))
    return make_workspace(base, clips, data)


@pytest.fixture(scope="module")
def trained(left_right: Workspace) -> mc.TrainedCNN:
    torch.manual_seed(0)
    return mc.train_motion_cnn(
        left_right, split="1", preset="small", config_overrides=TINY, seed=0, name="tiny", workers=1
    )


# ------------------------------------------------------------------------------- stacking
def test_stack_flows_orders_x_y_of_consecutive_fields_centred_on_the_step() -> None:
    n_flows, size, stack = 6, 3, 4
    fields = np.zeros((n_flows, 2, size, size), np.float32)
    for i in range(n_flows):
        fields[i, 0], fields[i, 1] = i + 1, -(i + 1)  # field i: x = i+1, y = -(i+1)
    stacks = mc.stack_flows(fields, n_flows + 1, stack)
    assert stacks.shape == (n_flows + 1, 2 * stack, size, size)
    for t in range(n_flows + 1):
        for k in range(stack):
            i = t - stack // 2 + k
            expected = i + 1 if 0 <= i < n_flows else 0.0  # zero fields outside the clip
            assert stacks[t, 2 * k, 0, 0] == expected
            assert stacks[t, 2 * k + 1, 0, 0] == -expected
    only = mc.stack_flows(fields, n_flows + 1, stack, np.array([3]))
    np.testing.assert_array_equal(only[0], stacks[3])


def test_resize_flows_rescales_displacements_and_removes_the_mean() -> None:
    flow = np.zeros((40, 80, 2), np.float32)
    flow[..., 0], flow[..., 1] = 8.0, 4.0
    flow[:20, :40, 0] = 16.0  # a quarter of the frame moves faster
    raw = mc.resize_flows([flow], 16, subtract_mean=False)
    assert raw.shape == (1, 2, 16, 16)
    assert raw[0, 0, 12, 12] == pytest.approx(8.0 * 16 / 80)
    assert raw[0, 1, 12, 12] == pytest.approx(4.0 * 16 / 40)
    assert raw[0, 0, 2, 2] == pytest.approx(16.0 * 16 / 80)
    centred = mc.resize_flows([flow], 16)
    assert np.abs(centred.mean(axis=(2, 3))).max() < 1e-5
    assert centred[0, 0, 2, 2] - centred[0, 0, 12, 12] == pytest.approx(8.0 * 16 / 80)


# ---------------------------------------------------------------------------------- model
def test_cnn_has_five_batch_normed_convs_two_fc_and_a_softmax_head() -> None:
    config = mc.get_preset("small")
    model = mc.MotionCNN(config, num_classes=7).eval()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [c.kernel_size for c in convs] == [(7, 7), (5, 5), (3, 3), (3, 3), (3, 3)]
    assert [c.stride for c in convs] == [(2, 2), (2, 2), (1, 1), (1, 1), (1, 1)]
    assert convs[0].in_channels == 2 * config.stack == 20
    assert len(norms) == 5
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in model.modules())
    assert [lin.out_features for lin in linears] == [*config.fc, 7]
    x = torch.randn(3, 20, config.input_size, config.input_size)
    assert model(x).shape == (3, 7)
    assert model.features(x).shape == (3, config.fc[1])
    assert model.embedding_dim == config.fc[1]


def test_paper_geometry_gives_7x7_maps_at_224() -> None:
    # the seed's strides on a 224 input (channels narrowed so that the test stays small)
    config = replace(mc.get_preset("paper"), channels=(4, 4, 4, 4, 6), fc=(8, 8))
    model = mc.MotionCNN(config, num_classes=3)
    assert mc.get_preset("paper").channels == (96, 256, 512, 512, 512)
    assert mc.get_preset("paper").fc == (4096, 2048)
    assert model.full[1].in_features == 6 * 7 * 7
    assert model(torch.randn(2, 20, 224, 224)).shape == (2, 3)


# ------------------------------------------------------------------------------- training
def test_training_learns_left_from_right(left_right: Workspace, trained: mc.TrainedCNN) -> None:
    history = trained.meta["training"]["history"]
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    roles = left_right.catalog.split("1")
    test_ids = np.array(sorted(c for c, r in roles.items() if r == "test"))
    flows = mc.compute_flow_set(left_right, test_ids, mc.FlowSettings(), TINY["input_size"], workers=1)
    classes = {c.id: c.class_id for c in left_right.catalog.clips()}
    index = {c["id"]: i for i, c in enumerate(trained.meta["classes"])}
    truth = np.array([index[classes[int(c)]] for c in flows.clip_ids])
    predicted = mc.clip_scores(trained.model, flows, np.arange(len(test_ids)), torch.device("cpu")).argmax(1)
    assert np.mean(predicted == truth) >= 0.75  # chance 0.5


def test_saved_cnn_records_its_training_clips_and_never_a_test_clip(
    left_right: Workspace, trained: mc.TrainedCNN
) -> None:
    roles = left_right.catalog.split("1")
    meta = json.loads(trained.path.with_suffix(".json").read_text())
    seen = set(meta["trained_on"]["clip_ids"]) | set(meta["trained_on"]["validation_clip_ids"])
    assert seen == {c for c, r in roles.items() if r == "train"}
    assert meta["trained_on"]["kind"] == "split" and meta["trained_on"]["split"] == "1"
    assert meta["config"]["input_size"] == 32 and meta["flow"]["method"] == "dis"
    assert [c["name"] for c in meta["classes"]] == ["Left", "Right"]
    assert trained.path == left_right.root / "extractors" / "motion-cnn" / "tiny.safetensors"
    model, _ = mc.load_motion_cnn(trained.path)
    x = torch.randn(2, 8, 32, 32)
    torch.testing.assert_close(model(x), trained.model.eval()(x))


def test_a_damaged_cnn_file_is_refused_in_one_line(trained: mc.TrainedCNN, tmp_path: Path) -> None:
    weights = tmp_path / "copy.safetensors"
    weights.write_bytes(trained.path.read_bytes()[:-100])
    weights.with_suffix(".json").write_text(trained.path.with_suffix(".json").read_text())
    with pytest.raises(ActionLensError, match="SHA-256 differs") as err:
        mc.load_motion_cnn(weights)
    assert "\n" not in str(err.value)
    weights.with_suffix(".json").write_text('{"format": "actionlens-motion-cnn", "ver')
    with pytest.raises(ActionLensError, match="is damaged"):
        mc.read_cnn_meta(weights)
    weights.with_suffix(".json").write_text('{"format": "something else"}')
    with pytest.raises(ActionLensError, match="not an ActionLens motion CNN"):
        mc.read_cnn_meta(weights)
    with pytest.raises(ActionLensError, match="train-motion-cnn"):
        mc.read_cnn_meta(tmp_path / "absent.safetensors")


def test_no_training_clips_and_an_existing_name_are_refused(
    left_right: Workspace, trained: mc.TrainedCNN
) -> None:
    with pytest.raises(ActionLensError, match="no split '7'"):
        mc.train_motion_cnn(left_right, split="7", config_overrides=TINY)
    with pytest.raises(ActionLensError, match="--overwrite"):
        mc.train_motion_cnn(left_right, split="1", config_overrides=TINY, name="tiny", workers=1)


# ----------------------------------------------------------------------------- extraction
def test_extraction_writes_the_cnn_motion_stream_on_the_handcrafted_grid(
    left_right: Workspace, trained: mc.TrainedCNN, capsys: pytest.CaptureFixture[str]
) -> None:
    extract_features(left_right, ExtractSettings(thumbnails=False), workers=1)
    code = main(
        [
            "extract",
            "--workspace",
            str(left_right.root),
            "--extractor",
            "motion-cnn",
            "--cnn",
            "tiny",
            "--workers",
            "1",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["streams"]["motion"] == TINY["fc"][1]
    reopened = Workspace.open(left_right.root)
    hand = FeatureStore.open(reopened, "handcrafted-fps10-dis")
    learned = FeatureStore.open(reopened, summary["store"])
    assert learned.settings["extractor"] == "motion-cnn"
    assert learned.settings["cnn"]["weights_sha256"] == trained.meta["weights_sha256"]
    assert learned.dim("motion") == TINY["fc"][1]
    assert learned.dim("appearance") == hand.dim("appearance")
    for clip_id in hand.clip_ids("motion"):
        assert learned.length(int(clip_id), "motion") == hand.length(int(clip_id), "motion")
        np.testing.assert_array_equal(
            learned.get(int(clip_id), "appearance", reduced=False),
            hand.get(int(clip_id), "appearance", reduced=False),
        )
    roles = reopened.catalog.split("1")
    test_ids = np.array([c for c, r in roles.items() if r == "test"])
    train_ids = np.array([c for c, r in roles.items() if r == "train"])
    mc.check_not_fitted_on(learned.settings, test_ids, "split 1 test")  # fitted on train only
    with pytest.raises(ActionLensError, match="was trained on 12 of the split 1 train clips"):
        mc.check_not_fitted_on(learned.settings, train_ids, "split 1 train")
    assert mc.cnn_training_clips(hand.settings) is None
    reopened.close()


def test_extract_without_a_cnn_says_how_to_train_one(
    left_right: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["extract", "--workspace", str(left_right.root), "--extractor", "motion-cnn", "--workers", "1"]
    assert main(args) == 1
    assert "train-motion-cnn" in capsys.readouterr().err
    assert main([*args, "--cnn", "nonesuch"]) == 1
    err = capsys.readouterr().err
    assert "no motion CNN 'nonesuch'" in err and "tiny" in err


def test_train_motion_cnn_command_saves_a_named_cnn(
    left_right: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train-motion-cnn", "--workspace", str(left_right.root), "--epochs", "1", "--workers", "1"]
    assert main([*args, "--name", "cli", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert Path(summary["path"]).name == "cli.safetensors"
    assert summary["trained_on"]["clips"] + summary["trained_on"]["validation_clips"] == 12
    assert summary["training"]["epochs_run"] == 1 and summary["embedding_dim"] == 128
    assert main([*args, "--name", "cli"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--split", "9"]) == 1
    assert "no split '9'" in capsys.readouterr().err


def test_adaptive_extraction_keeps_the_handcrafted_grid(
    left_right: Workspace, trained: mc.TrainedCNN
) -> None:
    hand = extract_features(left_right, ExtractSettings(adaptive=True, thumbnails=False), workers=1)
    learned = extract_features(
        left_right,
        ExtractSettings(extractor="motion-cnn", weights=str(trained.path), adaptive=True, thumbnails=False),
        workers=1,
    )
    assert learned.store == "motion-cnn-adaptive10-dis-tiny"
    a, b = FeatureStore.open(left_right, hand.store), FeatureStore.open(left_right, learned.store)
    assert b.settings["adaptive"] is True
    for clip_id in a.clip_ids("motion"):
        assert b.length(int(clip_id), "motion") == a.length(int(clip_id), "motion")
    with pytest.raises(ActionLensError, match="--flow dis"):
        extract_features(
            left_right,
            ExtractSettings(extractor="motion-cnn", weights=str(trained.path), flow="farneback"),
            workers=1,
        )


def test_runs_on_a_cnn_store_refuse_to_report_on_clips_the_cnn_saw(
    left_right: Workspace, trained: mc.TrainedCNN, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recognition run on split 1 reports on its test clips, which the CNN never saw: it
    trains. Had the CNN been fitted on some of them (its file says so), the run is refused,
    naming the leak."""
    from desktop_app.training.experiment import train_in_workspace

    extract_features(left_right, ExtractSettings(thumbnails=False), workers=1)
    args = ["extract", "--workspace", str(left_right.root), "--extractor", "motion-cnn", "--cnn", "tiny"]
    assert main([*args, "--workers", "1", "--json"]) == 0
    store = json.loads(capsys.readouterr().out)["store"]
    run = train_in_workspace(left_right, "pooled-ridge", features=store, epochs=1, run_id="cnn-ok")
    assert run.meta["features"]["name"] == store
    record = left_right.root / "extractors" / "motion-cnn" / "tiny.json"
    saved = record.read_text()
    meta = json.loads(saved)
    test_ids = [c for c, r in left_right.catalog.split("1").items() if r == "test"]
    meta["trained_on"]["clip_ids"] = sorted(meta["trained_on"]["clip_ids"] + test_ids[:2])
    record.write_text(json.dumps(meta))
    try:
        with pytest.raises(
            ActionLensError, match=r"motion CNN tiny was trained on 2 of the split 1 test clips"
        ):
            train_in_workspace(left_right, "pooled-ridge", features=store, epochs=1, run_id="cnn-leak")
    finally:
        record.write_text(saved)
