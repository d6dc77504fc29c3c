"""``actionlens info``: what a workspace holds and what is still missing."""

from __future__ import annotations

import argparse
from typing import Any

from desktop_app.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json
from desktop_app.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    p = subparsers.add_parser(
        "info",
        help="show a workspace's clips, classes, splits, feature stores and runs",
        description="Show what a workspace holds (clips, classes, splits, feature stores, runs, "
        "embeddings, maps) and which pipeline step comes next.",
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def describe_workspace(ws: Workspace) -> dict[str, Any]:
    """A JSON-able description of a workspace and the next steps it is missing."""
    # Counts and the unusable few by indexed queries: no row object per clip (issue 12).
    num_clips = ws.catalog.num_clips()
    bad = ws.catalog.bad_clips()
    classes = ws.catalog.classes()
    info: dict[str, Any] = {
        "workspace": str(ws.root),
        "schema_version": ws.manifest["schema_version"],
        "dataset": ws.manifest.get("dataset"),
        "data_root": ws.manifest.get("data_root"),
        "clips": num_clips,
        "bad_clips": [{"id": clip_id, "name": name, "reason": reason} for clip_id, name, reason in bad],
        "classes": len(classes),
        "classes_with_verb_and_noun": sum(1 for c in classes if c.verb and c.noun),
        "splits": ws.catalog.split_counts(),
        "feature_stores": _feature_stores(ws),
        "runs": ws.catalog.runs(),
        "embeddings": sorted(p.name for p in ws.embeddings_dir.iterdir() if p.is_dir()),
        "maps": sorted(p.stem for p in ws.maps_dir.glob("*.json")),
        "active_run": ws.manifest.get("active_run"),
    }
    missing = []
    if not num_clips:
        missing.append("no clips: run `actionlens import … --workspace WS`")
    elif not info["feature_stores"]:
        missing.append("no features: run `actionlens extract --workspace WS`")
    elif not info["runs"]:
        missing.append("no trained model: run `actionlens train --workspace WS --model ste`")
    elif not info["embeddings"]:
        missing.append("no embeddings: run `actionlens embed --workspace WS --run RUN`")
    for store in info["feature_stores"]:
        if "error" in store:
            missing.append(f"feature store {store['name']} is unusable: {store['error']}")
    info["embeddings_problems"] = _embedding_problems(ws, info["embeddings"])
    missing.extend(info["embeddings_problems"])
    info["missing"] = missing
    return info


def _embedding_problems(ws: Workspace, runs: list[str]) -> list[str]:
    """One line per run whose embeddings no longer match the catalog or its run (stale/damaged)."""
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.errors import ActionLensError

    problems = []
    for run_id in runs:
        if not (ws.embeddings_dir / run_id / "clips.npy").is_file():
            continue
        try:
            EmbeddingSpace.load(ws, run_id)
        except ActionLensError as exc:
            problems.append(f"embeddings of run {run_id} are unusable: {exc}")
    return problems


def _feature_stores(ws: Workspace) -> list[dict[str, Any]]:
    try:
        from desktop_app.features.store import describe_feature_stores
    except ImportError:  # the features stage is not part of this build
        return []
    return describe_feature_stores(ws)


def run(args: argparse.Namespace) -> int:
    """Print the description as text or JSON."""
    with open_workspace(args, readonly=False) as ws:
        info = describe_workspace(ws)
    if args.json:
        print_json(info)
        return 0
    print(f"workspace   {info['workspace']} (schema {info['schema_version']})")
    print(f"dataset     {info['dataset'] or '-'} at {info['data_root'] or '-'}")
    print(f"clips       {info['clips']} ({len(info['bad_clips'])} unusable)")
    print(f"classes     {info['classes']} ({info['classes_with_verb_and_noun']} with verb and noun)")
    for split, roles in info["splits"].items():
        print(f"split {split:<5} " + ", ".join(f"{role} {n}" for role, n in roles.items()))
    for store in info["feature_stores"]:
        if "error" in store:
            print(f"features    {store.get('name')}: unusable (see next)")
            continue
        print(
            f"features    {store.get('name')}: {store.get('clips_done', '?')}/{store.get('clips_total', '?')} clips"
        )
    for r in info["runs"]:
        print(f"run         {r['id']} ({r['model']}, {r['status']})")
    if info["embeddings"]:
        print(f"embeddings  {', '.join(info['embeddings'])} (active: {info['active_run'] or '-'})")
    if info["maps"]:
        print(f"maps        {len(info['maps'])} cached")
    for bad in info["bad_clips"][:20]:
        print(f"unusable    {bad['name']}: {bad['reason']}")
    for line in info["missing"]:
        print(f"next        {line}")
    return 0
