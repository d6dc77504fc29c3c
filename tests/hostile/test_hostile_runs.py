"""Damaged runs and embeddings, and small CLI cases (issue 11): each ends in the right result or
one line naming the file (or word) and the command that fixes it — never a traceback, never wrong
results with exit 0.

Every case damages a copy of one tiny demo workspace (24 clips, 6 classes, a pooled-ridge run and
its embeddings), built once for the module.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop_app.cli import main
from desktop_app.errors import ActionLensError
from desktop_app.workspace import Workspace

RUN = "ridge"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo workspace with run ``ridge`` (active) and its embeddings (built once)."""
    from desktop_app.pipeline import build_demo_workspace

    root = tmp_path_factory.mktemp("hostile-runs")
    build_demo_workspace(root / "ws", data=root / "data", preset="tiny")
    assert main(["train", "--workspace", str(root / "ws"), "--model", "pooled-ridge", "--run-id", RUN]) == 0
    assert main(["embed", "--workspace", str(root / "ws"), "--run", RUN]) == 0
    with Workspace.open(root / "ws") as opened:  # the commands' default run
        opened.update_manifest(active_run=RUN)
    return root / "ws"


@pytest.fixture
def ws(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built workspace for one case to damage."""
    return Path(shutil.copytree(built, tmp_path / "ws"))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``actionlens ARGV``: exit status, stdout, stderr."""
    capsys.readouterr()
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(err: str, *needles: str) -> None:
    """stderr is one line (no traceback) that holds every needle."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---------------------------------------------------------------- damage, shared with the measurement
def keep_ten_embedding_rows(ws: Path) -> None:
    clips = ws / "embeddings" / RUN / "clips.npy"
    np.save(clips, np.load(clips)[:10])


def delete_last_catalog_clip(ws: Path) -> None:
    with sqlite3.connect(ws / "catalog.sqlite") as db:
        last = db.execute("SELECT max(id) FROM clips").fetchone()[0]
        for (table,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%clip_id%'"
        ).fetchall():
            db.execute(f"DELETE FROM {table} WHERE clip_id = ?", (last,))
        db.execute("DELETE FROM clips WHERE id = ?", (last,))


def truncate_motion(ws: Path) -> Path:
    (store,) = (ws / "features").iterdir()
    data = store / "motion.f32"
    with open(data, "r+b") as fh:
        fh.truncate(data.stat().st_size // 2)
    return data


def edit_meta(ws: Path, change: Callable[[dict], object]) -> Path:
    path = ws / "runs" / RUN / "meta.json"
    meta = json.loads(path.read_text())
    new = change(meta)
    path.write_text(json.dumps(meta if new is None else new))
    return path


def set_embeddings(ws: Path, clips: np.ndarray | None = None, means: np.ndarray | None = None) -> None:
    directory = ws / "embeddings" / RUN
    if clips is not None:
        np.save(directory / "clips.npy", clips)
    if means is not None:
        np.save(directory / "class_means.npy", means)


# ---------------------------------------------------------------- 1. embeddings vs the catalog
def test_clips_npy_with_ten_rows_for_24_clips_is_stale(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keep_ten_embedding_rows(ws)
    rc, out, err = run_cli(capsys, "query", "--workspace", str(ws), "ball")
    assert rc == 1 and not out
    assert_one_line(err, "clips.npy is stale: 10 rows for the 24 clips", f"actionlens embed --workspace {ws}")
    rc, out, _ = run_cli(capsys, "info", "--workspace", str(ws), "--json")
    assert rc == 0
    missing = json.loads(out)["missing"]
    assert any("clips.npy is stale" in line and "actionlens embed" in line for line in missing), missing


def test_deleted_catalog_row_makes_the_embeddings_stale(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    delete_last_catalog_clip(ws)
    rc, _, err = run_cli(capsys, "query", "--workspace", str(ws), "ball")
    assert rc == 1
    assert_one_line(err, "24 rows for the 23 clips", "actionlens embed")


def test_truncated_motion_store_is_named_in_info_and_refused_by_readers(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = truncate_motion(ws)
    rc, out, _ = run_cli(capsys, "info", "--workspace", str(ws))
    assert rc == 0
    assert "24/24" not in out
    assert f"next        feature store {data.parent.name} is unusable: {data} is cut short" in out
    assert "actionlens extract" in out
    for argv in (["embed", "--workspace", str(ws), "--run", RUN], ["wordnet", "--workspace", str(ws)]):
        rc, _, err = run_cli(capsys, *argv)
        assert rc == 1, argv
        assert_one_line(err, f"{data} is cut short", "actionlens extract")


# ---------------------------------------------------------------- 2. run metadata
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: [], "is not an ActionLens run"),
        (lambda m: m["model"].update(name=["ste"]), "model.name"),
        (lambda m: m["model"]["shape"].update(word_dim="fifty"), "model.shape.word_dim"),
        (lambda m: m["model"]["config"].update(hidden_size=200_000), "model.config.hidden_size"),
        (
            lambda m: m["model"].update(
                config={"hidden_size": 16_000},
                shape={**m["model"]["shape"], "input_dims": {"motion": 60_000}},
            ),
            "parameters",
        ),
        (lambda m: m.update(classes={"id": 1}), "classes"),
    ],
    ids=["list", "name-list", "word-dim-text", "hidden-200000", "parameter-estimate", "classes-object"],
)
def test_run_meta_is_validated_once_naming_the_field(
    ws: Path, capsys: pytest.CaptureFixture[str], change: Callable[[dict], object], field: str
) -> None:
    meta_file = edit_meta(ws, change)
    for argv in (
        ["query", "--workspace", str(ws), "ball"],
        ["analogy", "--workspace", str(ws), "word:fall", "-", "word:ball"],
        ["embed", "--workspace", str(ws), "--run", RUN],
    ):
        rc, out, err = run_cli(capsys, *argv)
        assert rc == 1, (argv, out)
        assert_one_line(err, str(meta_file), field)


def test_config_key_foreign_to_the_model_is_one_line(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta_file = edit_meta(ws, lambda m: m["model"]["config"].update(layers=3))
    rc, _, err = run_cli(capsys, "embed", "--workspace", str(ws), "--run", RUN)
    assert rc == 1
    assert_one_line(err, str(meta_file), "model.config does not fit model 'pooled-ridge'")


# ---------------------------------------------------------------- 3. damaged model files
def test_pickle_in_weights_safetensors_is_named_damaged(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = ws / "runs" / RUN / "weights.safetensors"
    weights.write_bytes(pickle.dumps({"weights": list(range(100))}))
    rc, _, err = run_cli(capsys, "embed", "--workspace", str(ws), "--run", RUN)
    assert rc == 1
    assert_one_line(err, str(weights), "damaged or not a safetensors file", "train the run again")


class _Payload:
    """Unpickling this would create ``marker``: the test checks it never does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("damage", ["truncated", "malicious", "foreign"])
def test_damaged_checkpoint_is_named_and_never_suggests_unpickling(tmp_path: Path, damage: str) -> None:
    import torch

    from desktop_app.training.trainer import load_checkpoint, save_checkpoint

    path = tmp_path / "checkpoint.pt"
    marker = tmp_path / "payload-ran"
    if damage == "truncated":
        save_checkpoint(
            path,
            {"model": {"w": torch.zeros(64)}, "optimizer": {}, "lr_scheduler": {}, "epoch": 1, "args": {}},
        )
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "malicious":
        torch.save({"model": _Payload(marker)}, path)
    else:
        torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ActionLensError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert str(path) in message and "not a checkpoint of ours" in message
    assert "weights_only" not in message and "\n" not in message
    assert not marker.exists()


# ---------------------------------------------------------------- 4. shapes and dtypes
def test_object_dtype_label_vectors_is_one_line(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = ws / "runs" / RUN / "label_vectors.npy"
    np.save(path, np.array([{"a": 1}] * 6, dtype=object), allow_pickle=True)
    rc, _, err = run_cli(capsys, "embed", "--workspace", str(ws), "--run", RUN)
    assert rc == 1
    assert_one_line(err, str(path), "train the run again")


def test_seven_d_embeddings_are_refused_by_every_reader(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_embeddings(ws, clips=np.random.default_rng(0).normal(size=(24, 7)).astype(np.float32))
    for argv in (
        ["analogy", "--workspace", str(ws), "word:fall", "-", "word:ball"],
        ["query", "--workspace", str(ws), "ball"],
        ["project", "--workspace", str(ws), "--method", "pca"],
        ["wordnet", "--workspace", str(ws)],
    ):
        rc, _, err = run_cli(capsys, *argv)
        assert rc == 1, argv
        assert_one_line(
            err, "clips.npy holds 7-d embeddings but run ridge embeds in 50-d", "actionlens embed"
        )


def test_two_by_three_class_means_are_refused(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_embeddings(ws, means=np.ones((2, 3), np.float32))
    for argv in (
        ["analogy", "--workspace", str(ws), "word:fall", "-", "word:ball"],
        ["wordnet", "--workspace", str(ws)],
    ):
        rc, _, err = run_cli(capsys, *argv)
        assert rc == 1, argv
        assert_one_line(err, "class_means.npy holds float32 (2, 3), not 6 class means of 50 numbers")


# ---------------------------------------------------------------- 5. small ones
@pytest.mark.parametrize("k", ["0", "-5"])
def test_query_k_below_one_is_refused(ws: Path, capsys: pytest.CaptureFixture[str], k: str) -> None:
    rc, out, err = run_cli(capsys, "query", "--workspace", str(ws), "ball", "-k", k)
    assert rc == 1 and not out
    assert_one_line(err, f"-k {k}", "1 or more")


def test_two_signs_in_a_row_are_refused(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(capsys, "query", "--workspace", str(ws), "word:fall - - word:ball")
    assert rc == 1 and not out
    assert_one_line(err, "two signs in a row")


def test_all_nan_embeddings_are_refused(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_embeddings(ws, clips=np.full((24, 50), np.nan, np.float32))
    rc, out, err = run_cli(capsys, "query", "--workspace", str(ws), "ball")
    assert rc == 1 and not out
    assert_one_line(err, "every row is NaN", "actionlens embed")


def test_ten_thousand_character_word_is_cut_in_the_message(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run_cli(capsys, "query", "--workspace", str(ws), "q" * 10_000)
    assert rc == 1
    assert_one_line(err, "(10000 characters)", "is not in the word vectors")
    assert len(err) < 300


def test_active_run_outside_runs_is_noted_once(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ws / "workspace.json"
    data = json.loads(manifest.read_text())
    data["active_run"] = "../../../etc"
    manifest.write_text(json.dumps(data))
    rc, out, err = run_cli(capsys, "query", "--workspace", str(ws), "ball", "-k", "2")
    assert rc == 0 and f"in run {RUN}" in out
    assert_one_line(err, "'../../../etc'", str(manifest), "is not a run id", f"using {RUN}")
    rc, _, err = run_cli(capsys, "query", "--workspace", str(ws), "ball", "-k", "2")
    assert rc == 0 and "etc" not in err


@pytest.mark.parametrize("damage", ["truncated", "malicious"])
def test_train_resume_from_a_damaged_checkpoint_is_one_line(
    ws: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    import torch

    checkpoint = ws / "runs" / "resumed" / "checkpoint.pt"
    checkpoint.parent.mkdir()
    marker = ws / "payload-ran"
    if damage == "truncated":
        checkpoint.write_bytes((ws / "runs" / "ste-small-rec-s1" / "checkpoint.pt").read_bytes()[:300])
    else:
        torch.save({"model": _Payload(marker)}, checkpoint)
    argv = [
        "train",
        "--workspace",
        str(ws),
        "--model",
        "ste",
        "--run-id",
        "resumed",
        "--epochs",
        "1",
        "--resume",
    ]
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 1
    assert_one_line(err, str(checkpoint), "not a checkpoint of ours", "without --resume")
    assert "weights_only" not in err and not marker.exists()


# ---------------------------------------------------------------- 5. a workspace that cannot be written
def refuse_writes_under(monkeypatch: pytest.MonkeyPatch, root: Path, number: int) -> None:
    """Every temp file (every write of ours goes through one) under ``root`` fails with ``number``,
    as on a read-only mount (``EROFS``) or a full disk (``ENOSPC``)."""
    import errno
    import os
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        directory = Path(str(kwargs.get("dir", "")))
        if directory.resolve().is_relative_to(root.resolve()):
            raise OSError(number, os.strerror(number), str(directory / ".x.tmp"))
        return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert errno.errorcode[number]


@pytest.mark.parametrize("number", [30, 28], ids=["read-only", "disk-full"])
def test_embed_and_project_on_an_unwritable_workspace_are_one_line(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    clips = ws / "embeddings" / RUN / "clips.npy"
    before = clips.read_bytes()
    refuse_writes_under(monkeypatch, ws, number)
    rc, _, err = run_cli(capsys, "embed", "--workspace", str(ws), "--run", RUN)
    assert rc == 1
    assert_one_line(err, "cannot write", str(ws / "embeddings" / RUN), "must be writable")
    assert clips.read_bytes() == before  # nothing lost
    rc, _, err = run_cli(
        capsys, "project", "--workspace", str(ws), "--run", RUN, "--of", "classes", "--force"
    )
    assert rc == 1
    assert_one_line(err, "cannot write", str(ws / "maps"), "must be writable")


def test_an_unwritable_error_elsewhere_is_still_one_line(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``OSError`` of the unwritable kind that no module wrapped reaches the user as one line;
    any other ``OSError`` is a bug and keeps its traceback."""
    import errno

    from desktop_app.cli import embed as embed_cli

    def fail(args: object) -> int:
        raise OSError(errno.EACCES, "Permission denied", str(ws / "runs"))

    monkeypatch.setattr(embed_cli, "run", fail)
    rc, _, err = run_cli(capsys, "embed", "--workspace", str(ws), "--run", RUN)
    assert rc == 1
    assert_one_line(err, "cannot write", str(ws / "runs"), "Permission denied")


def test_a_read_only_catalog_is_one_line(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's "attempt to write a readonly database" (the catalog on a read-only mount, measured
    there with ``info`` and ``evaluate``) reaches the user as one line."""
    from desktop_app.cli import info as info_cli

    def fail(args: object) -> int:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(info_cli, "run", fail)
    rc, _, err = run_cli(capsys, "info", "--workspace", str(ws))
    assert rc == 1
    assert_one_line(err, "catalog cannot be written", "readonly database", "must be writable")


# ---------------------------------------------------------------- 6. what the app shows for the same damage
@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda ws: edit_meta(ws, lambda m: m["model"].__setitem__("name", ["ste"])), "not a model name"),
        (keep_ten_embedding_rows, "is stale: 10 rows for the 24 clips"),
        (lambda ws: set_embeddings(ws, means=np.zeros((2, 3), np.float32)), "not 6 class means"),
    ],
    ids=["meta-name-list", "stale-clips", "two-by-three-means"],
)
def test_the_app_shows_the_same_one_line_message(
    ws: Path, tmp_path: Path, qtbot: object, damage: Callable[[Path], object], needle: str
) -> None:
    """The panels show the reader's one-line message (never an exception's repr or a traceback)."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QLabel

    from desktop_app.gui.main_window import MainWindow

    damage(ws)
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    assert window.open_workspace(ws)

    def shown() -> list[str]:
        return [
            w.text()
            for w in QApplication.allWidgets()
            if isinstance(w, QLabel) and w.isVisible() and needle in w.text()
        ]

    qtbot.waitUntil(lambda: bool(shown()), timeout=30_000)  # type: ignore[attr-defined]
    for text in shown():
        assert "Traceback" not in text and "\n" not in text.strip()
    window.models.shutdown()
    window.close()
