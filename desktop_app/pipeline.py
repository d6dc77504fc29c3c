"""The demo pipeline: generate the synthetic dataset and build a ready-to-explore workspace.

Each stage is idempotent: it checks what the workspace already holds and does only the rest, so
a cancelled or crashed build resumes where it stopped when started again.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.progress import NullProgress, Progress, SubProgress


def default_demo_dir() -> Path:
    """Where ``actionlens demo`` keeps its data and workspace (``$XDG_DATA_HOME/actionlens/demo``)."""
    base = os.environ.get("ACTIONLENS_DEMO_DIR")
    if base:
        return Path(base)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "actionlens" / "demo"


@dataclass
class DemoBuild:
    """Where the demo lives and how to build it."""

    workspace: Path
    data: Path
    preset: str = "small"
    seed: int = 0
    #: Also render this many of seed 004's story videos (2–4 actions, one sentence each; the
    #: last quarter is the val split) and import them with their paragraphs, so that ``hse`` /
    #: ``fse`` runs can be trained on the demo; 0: none.
    stories: int = 0
    #: Share of demo clips with an impossible event (seed 003 §VII), marked in the catalog.
    anomalies: float = 0.0
    done: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def _stage_generate(build: DemoBuild, progress: Progress) -> None:
    from desktop_app.data.demo import generate_demo_dataset
    from desktop_app.data.demo_scenes import DemoPreset, get_preset

    preset: str | DemoPreset = build.preset
    if build.stories:  # the preset's classes and clips, with this many stories
        preset = dataclasses.replace(get_preset(build.preset), stories=build.stories)
    summary = generate_demo_dataset(
        build.data,
        preset=preset,  # type: ignore[arg-type]  # read through get_preset, which takes a DemoPreset
        seed=build.seed,
        stories=build.stories > 0,
        progress=progress,
        anomalies=build.anomalies,
    )
    build.report["clips_generated"] = summary.n_clips


def _stage_import(build: DemoBuild, progress: Progress) -> None:
    from desktop_app.data.importers import get_importer
    from desktop_app.workspace import Workspace, building

    if (build.workspace / "workspace.json").exists():
        with Workspace.open(build.workspace) as ws:
            if ws.catalog.num_clips():
                return
    result = get_importer("ucf101")(build.data, progress=progress)
    with building(build.workspace, dataset="demo") as ws:
        summary = ws.add_import(result)
        from desktop_app.evaluation.anomaly import mark_demo_anomalies

        mark_demo_anomalies(ws, build.data)  # the clips generated with an impossible motion
        ws.update_manifest(
            demo={
                "preset": build.preset,
                "seed": build.seed,
                **({"anomalies": build.anomalies} if build.anomalies else {}),
            }
        )
    build.report["import"] = summary.to_json()


def _stage_stories(build: DemoBuild, progress: Progress) -> None:
    """Import the story videos and their paragraphs (ActivityNet Captions layout) into the same
    workspace; their paths are relative to the demo's data root like the class clips'."""
    if not build.stories:
        return
    from desktop_app.data.importers import get_importer
    from desktop_app.workspace import Workspace

    stories = build.data / "stories"
    with Workspace.open(build.workspace) as ws:
        with ws.catalog.transaction() as con:
            present = con.execute("SELECT COUNT(DISTINCT clip_id) FROM captions").fetchone()[0]
        if present >= build.stories:
            return  # imported already (a new one adds the missing stories; present ones stay)
        result = get_importer("activitynet")(
            build.data,
            json=[stories / "captions_train.json", stories / "captions_val.json"],
            progress=progress,
        )
        # The class clips under the same root are listed in no captions JSON: not a problem here.
        result.skipped = [s for s in result.skipped if "not listed in any captions JSON" not in s.reason]
        summary = ws.add_import(result)
    build.report["stories"] = summary.to_json()


def _stage_extract(build: DemoBuild, progress: Progress) -> None:
    from desktop_app.features import extract_features
    from desktop_app.workspace import Workspace

    with Workspace.open(build.workspace) as ws:
        summary = extract_features(ws, progress=progress)
    build.report["extract"] = summary.to_json()


#: The model the demo trains: seed 000's two-stream GRU embedding, CPU-sized.
DEMO_MODEL = "ste"
DEMO_PRESET = "small"


def _stage_train(build: DemoBuild, progress: Progress) -> None:
    from desktop_app.training.runs import META, read_meta
    from desktop_app.workspace import Workspace

    with Workspace.open(build.workspace) as ws:
        active = ws.manifest.get("active_run")
        if active and (ws.runs_dir / active / META).is_file():
            if read_meta(ws.runs_dir / active).get("status") == "complete":
                build.report["run"] = active
                return  # a finished demo opens without loading torch

        from desktop_app.training.experiment import train_in_workspace

        # resume=True: a finished run is returned as it is, an interrupted one continues.
        run = train_in_workspace(ws, DEMO_MODEL, preset=DEMO_PRESET, resume=True, progress=progress)
        ws.update_manifest(active_run=run.run_id)
    build.report["run"] = run.run_id


def _stage_embed(build: DemoBuild, progress: Progress) -> None:
    from desktop_app.analysis.space import runs_with_embeddings
    from desktop_app.evaluation.embed import embed_workspace
    from desktop_app.workspace import Workspace

    with Workspace.open(build.workspace) as ws:
        run_id = ws.manifest["active_run"]
        if run_id not in runs_with_embeddings(ws):
            embed_workspace(ws, run_id, progress=progress)


def _stage_maps(build: DemoBuild, progress: Progress) -> None:
    from desktop_app.analysis.maps import load_or_compute_map
    from desktop_app.workspace import Workspace

    maps = [("pca", "clips"), ("pca", "classes"), ("umap", "clips"), ("tsne", "classes")]
    with Workspace.open(build.workspace) as ws:
        for i, (method, of) in enumerate(maps):
            load_or_compute_map(
                ws,
                ws.manifest["active_run"],
                method,
                of,
                progress=SubProgress(progress, i / len(maps), (i + 1) / len(maps), f"{method} of {of}"),
            )


#: The demo's zero-shot evaluation (seed 001's protocol, through the code the Evaluation panel
#: and ``actionlens evaluate --task zsl --train-missing`` run): the panel's default model and
#: split, three test folds, one training seed. ``pooled-ridge`` because it trains in about a
#: second a fold; the demo's own ``ste`` takes a minute a fold of the ``small`` demo on 2 cores.
DEMO_ZSL_MODEL = "pooled-ridge"
DEMO_ZSL_SPLIT = "50/50"
DEMO_ZSL_FOLDS = 3
DEMO_ZSL_SEED = 0


def demo_zsl_run_ids() -> list[str]:
    """The ids of the runs the demo's zero-shot evaluation trains, one per test fold.

    :func:`~desktop_app.training.experiment.default_run_id`'s ids for seed 0 (a test checks they
    agree), spelled out here because importing the training module imports torch, and a finished
    demo opens without it.
    """
    assert DEMO_ZSL_SEED == 0, "seed 0's ids have no -seed suffix"
    split = DEMO_ZSL_SPLIT.replace("/", "-")
    return [f"{DEMO_ZSL_MODEL}-{DEMO_PRESET}-zsl{split}-f{fold}" for fold in range(DEMO_ZSL_FOLDS)]


def _stage_evaluate(build: DemoBuild, progress: Progress) -> None:
    """Train and evaluate the demo's zero-shot runs (:data:`DEMO_ZSL_MODEL` …), so that the
    Evaluation panel's zero-shot table has content on the first launch. Skipped when every one
    of them is complete and evaluated; an interrupted build trains only the missing folds."""
    from desktop_app.training.runs import META, read_meta
    from desktop_app.workspace import Workspace

    with Workspace.open(build.workspace) as ws:
        metas = [
            read_meta(ws.runs_dir / run_id) if (ws.runs_dir / run_id / META).is_file() else {}
            for run_id in demo_zsl_run_ids()
        ]
        if all(
            meta.get("status") == "complete"
            and ((meta.get("metrics") or {}).get("zsl") or {}).get("accuracy") is not None
            for meta in metas
        ):
            return  # evaluated: a finished demo opens without loading torch
        from desktop_app.evaluation.confusion import run_zsl_evaluation

        table = run_zsl_evaluation(
            ws,
            [DEMO_ZSL_MODEL],
            [DEMO_ZSL_SPLIT],
            DEMO_ZSL_FOLDS,
            [DEMO_ZSL_SEED],
            progress=progress,
            preset=DEMO_PRESET,
        )
    cell = table["rows"][0]["cells"][DEMO_ZSL_SPLIT] if table.get("rows") else {}
    build.report["zsl"] = {
        "model": DEMO_ZSL_MODEL,
        "split": DEMO_ZSL_SPLIT,
        "folds": DEMO_ZSL_FOLDS,
        "seed": DEMO_ZSL_SEED,
        "accuracy": cell.get("mean"),
    }


#: ``(name, weight, stage)``; the weights split the progress bar by how long each stage takes.
DEMO_STAGES: list[tuple[str, float, Callable[[DemoBuild, Progress], None]]] = [
    ("generate", 0.15, _stage_generate),
    ("import", 0.05, _stage_import),
    ("stories", 0.02, _stage_stories),
    ("extract", 0.25, _stage_extract),
    ("train", 0.25, _stage_train),
    ("embed", 0.05, _stage_embed),
    ("maps", 0.25, _stage_maps),
    ("evaluate", 0.05, _stage_evaluate),
]


def build_demo_workspace(
    workspace: Path | None = None,
    *,
    data: Path | None = None,
    preset: str = "small",
    seed: int = 0,
    stories: int = 0,
    anomalies: float = 0.0,
    progress: Progress | None = None,
) -> DemoBuild:
    """Build (or finish building) the demo workspace, stage by stage.

    Parameters
    ----------
    workspace, data
        Where the workspace and the generated videos go (default: under :func:`default_demo_dir`).
    preset, seed
        The demo dataset's size preset and random seed.
    stories
        Also render and import this many story videos with their paragraphs (seed 004; 0:
        none); a workspace built without them gets them when built again with stories.
    anomalies
        Share of clips with an impossible event, marked in the catalog (0: none, the default).
    progress
        Progress/cancel handle; cancelling stops between clips and the next call resumes.
    """
    progress = progress or NullProgress()
    base = default_demo_dir()
    build = DemoBuild(
        workspace=Path(workspace) if workspace else base / "workspace",
        data=Path(data) if data else base / "data",
        preset=preset,
        seed=seed,
        stories=stories,
        anomalies=anomalies,
    )
    total = sum(weight for _, weight, _ in DEMO_STAGES)
    start = 0.0
    for name, weight, stage in DEMO_STAGES:
        progress.check_cancelled()
        end = start + weight / total
        stage(build, SubProgress(progress, start, end, name))
        build.done.append(name)
        start = end
    progress.set_progress(1.0, "demo workspace ready")
    return build
