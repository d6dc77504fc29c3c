"""``actionlens query``: the clips, classes and words nearest to query words (seed 000, Table I)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, cast

from desktop_app.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json

if TYPE_CHECKING:
    from desktop_app.analysis.retrieval import SearchMethod


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``query`` subcommand."""
    p = subparsers.add_parser(
        "query",
        help="rank clips, classes and words by similarity to words, a clip, a class or an expression",
        description="Rank a run's clips (and its classes, and frequent words) by cosine similarity "
        "to the query: words (a phrase is the mean of its word vectors), or an expression of "
        "clip:ID, class:NAME and word:WORD operands joined by ' + ' and ' - '.",
    )
    add_workspace_arg(p)
    p.add_argument(
        "words",
        nargs="*",
        metavar="WORDS",
        help="query words, or an expression such as 'class:roll ball' (with --table: the query words)",
    )
    p.add_argument(
        "--text",
        metavar="TEXT",
        help="a sentence or paragraph: the videos nearest to it in an hse / fse run (seed 004); "
        "with such a run, query words are read as text too",
    )
    p.add_argument(
        "--clip-file",
        metavar="FILE",
        help="a video file: its nearest classes, clips and words, extracted and embedded in "
        "memory with the run (nothing is added to the workspace; actionlens add-clips adds it)",
    )
    p.add_argument("-k", type=int, default=10, help="number of clips (default 10)")
    p.add_argument("--run", help="run whose embeddings to search (default: the workspace's active run)")
    p.add_argument("--split", help="only clips of this split (with --role; alone: every clip of it)")
    p.add_argument(
        "--role",
        help="only clips of this role in the split: train, test … (a role alone means the first split)",
    )
    p.add_argument(
        "--table",
        action="store_true",
        help="seed 000's Table I: for each query word (default: the demo's words that name no "
        "class) the classes of its top-k clips, among the test clips of the split (default: the "
        "first), as seed 000 retrieves among test videos; --role '' ranks every clip",
    )
    p.add_argument(
        "--class",
        dest="classes",
        action="append",
        metavar="NAME",
        help="only clips of this class (repeatable)",
    )
    p.add_argument(
        "--method",
        default="auto",
        choices=("auto", "numpy", "faiss", "hnsw", "ivf"),
        help="search method (default auto: exact numpy search here — one command answers a "
        "few queries, and building an approximate index would cost more than it saves)",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the query and print the three ranked lists."""
    from desktop_app.analysis.retrieval import Retriever
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.errors import ActionLensError

    if args.k < 1:
        raise ActionLensError(f"-k {args.k}: give the number of clips to show, 1 or more")
    if args.clip_file is not None:
        return _run_clip_file(args)
    if args.table:
        return _run_table(args)
    if args.text is not None or _is_paragraph_run(args):
        return _run_text(args)
    if not args.words:
        raise ActionLensError("give query words, e.g. `actionlens query --workspace WS basketball`")
    with open_workspace(args, readonly=True) as ws:
        space = EmbeddingSpace.load(ws, args.run)
        retriever = Retriever(space, _cli_method(args.method), one_shot=True)
        result = retriever.search(
            " ".join(args.words), args.k, split=args.split, role=args.role, class_names=args.classes
        )
    if args.json:
        print_json({"run": space.run_id, **result.to_json()})
        return 0
    how = f"{result.method} search" + ("" if result.exact else ", approximate")
    print(f"query {result.query!r} in run {space.run_id} ({how})")
    print("clips:")
    for rank, hit in enumerate(result.clips, 1):
        print(f"  {rank:>3}. {hit.score:+.3f}  clip {hit.clip_id:<6} {hit.class_name or '-':<24} {hit.name}")
    print("classes: " + ", ".join(f"{h.phrase} ({h.score:+.3f})" for h in result.classes))
    print("words:   " + ", ".join(f"{h.word} ({h.score:+.3f})" for h in result.words))
    return 0


def _cli_method(method: str) -> SearchMethod:
    """``auto`` means exact numpy search in a one-shot command: at a million clips a FAISS IVF
    index takes seconds to build and an exact scan of the embedding file (:class:`ClipScan`)
    answers a query in a tenth of a second."""
    return cast("SearchMethod", "numpy" if method == "auto" else method)


def _run_clip_file(args: argparse.Namespace) -> int:
    """The neighbours of a video file that is not in the workspace (extracted and embedded in memory)."""
    from desktop_app.analysis.new_clips import query_clip_file
    from desktop_app.cli.common import TerminalProgress
    from desktop_app.errors import ActionLensError

    if args.words or args.text is not None or args.table or args.classes:
        raise ActionLensError("--clip-file goes alone: give no query words, --text, --table or --class")
    with (
        open_workspace(args, readonly=True) as ws,
        TerminalProgress("query", quiet=args.json) as progress,
    ):
        clip = query_clip_file(ws, args.clip_file, args.run, args.k, progress)
    run_id = clip.run_id
    if args.json:
        print_json({"run": run_id, **clip.to_json()})
        return 0
    print(f"video {clip.path} in run {run_id} (not added to the workspace)")
    print("clips:")
    for rank, hit in enumerate(clip.neighbours.clips, 1):
        print(f"  {rank:>3}. {hit.score:+.3f}  clip {hit.clip_id:<6} {hit.class_name or '-':<24} {hit.name}")
    print("classes: " + ", ".join(f"{h.phrase} ({h.score:+.3f})" for h in clip.neighbours.classes))
    print("words:   " + ", ".join(f"{h.word} ({h.score:+.3f})" for h in clip.neighbours.words))
    return 0


def _is_paragraph_run(args: argparse.Namespace) -> bool:
    """Whether the run queried is a seed-004 run (its space is not the word vectors')."""
    from desktop_app.analysis.space import default_run
    from desktop_app.errors import ActionLensError
    from desktop_app.training.runs import read_meta

    with open_workspace(args, readonly=True) as ws:
        try:
            run_id = args.run or default_run(ws)
            return "paragraphs" in read_meta(ws.runs_dir / run_id)
        except ActionLensError:
            return False  # the word query path names what is missing


def _run_text(args: argparse.Namespace) -> int:
    """Rank videos by their embedding's cosine to the text's paragraph embedding (seed 004)."""
    from desktop_app.analysis.space import default_run
    from desktop_app.errors import ActionLensError
    from desktop_app.training.paragraphs import search_videos
    from desktop_app.training.runs import Run

    text = args.text if args.text is not None else " ".join(args.words)
    if not text.strip():
        raise ActionLensError('--text is empty; give a sentence, e.g. --text "a red ball rolls to the left"')
    if args.classes or args.table:
        raise ActionLensError("--class and --table do not go with --text; filter with --split/--role")
    with open_workspace(args, readonly=True) as ws:
        run_id = args.run or default_run(ws)
        if not (ws.runs_dir / run_id).is_dir():
            raise ActionLensError(
                f"no run {run_id!r} in {ws.runs_dir}; train one (actionlens train --model hse)"
            )
        run = Run.load(ws.runs_dir / run_id)
        candidates = None
        if args.split or args.role:
            split = args.split or (ws.catalog.split_names() or [""])[0]
            candidates = ws.catalog.split_clip_ids(split, args.role or None)
        hits = search_videos(ws, run, text, args.k, clip_ids=candidates)
        rows: list[dict[str, Any]] = []
        for clip_id, score in hits:
            clip = ws.catalog.clip(clip_id)
            captions = ws.catalog.captions(clip_id)
            rows.append(
                {
                    "clip_id": clip_id,
                    "score": score,
                    "name": clip.name,
                    "class_name": clip.class_name,
                    "paragraph": " ".join(c.sentence for c in captions),
                }
            )
    if args.json:
        print_json({"run": run_id, "text": text, "videos": rows})
        return 0
    print(f"text {text!r} in run {run_id}: nearest videos")
    for rank, row in enumerate(rows, 1):
        paragraph = str(row["paragraph"])
        what = row["class_name"] or (paragraph[:60] + ("…" if len(paragraph) > 60 else ""))
        print(f"  {rank:>3}. {row['score']:+.3f}  clip {row['clip_id']:<6} {row['name']:<24} {what}")
    return 0


def _run_table(args: argparse.Namespace) -> int:
    """Print seed 000's Table I (word → classes of the top-k clips) over test clips."""
    from collections import Counter

    from desktop_app.analysis.retrieval import DEMO_QUERIES, Retriever, demo_query_table
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.errors import ActionLensError

    if args.classes:
        raise ActionLensError("--class does not go with --table; the table ranks clips of every class")
    role = "test" if args.role is None else (args.role or None)
    queries = args.words or list(DEMO_QUERIES)
    with open_workspace(args, readonly=True) as ws:
        space = EmbeddingSpace.load(ws, args.run)
        table = demo_query_table(
            Retriever(space, _cli_method(args.method), one_shot=True),
            queries,
            args.k,
            split=args.split,
            role=role,
        )
    if args.json:
        print_json({"run": space.run_id, "k": args.k, "rows": table})
        return 0
    where = f"{role} clips of split {table[0]['split']}" if table and role else "every clip"
    print(f"word → clips in run {space.run_id}, top {args.k} among the {where} (seed 000, Table I)")
    print("| query | classes of the top clips | nearest class |")
    print("|---|---|---|")
    for row in table:
        if "error" in row:
            print(f"| {row['query']} | {row['error']} | |")
            continue
        counts = Counter(row["clip_classes"]).most_common()
        shown = ", ".join(f"{name} ×{n}" for name, n in counts[:3]) + (" …" if len(counts) > 3 else "")
        nearest = row["nearest_classes"][0] if row["nearest_classes"] else "-"
        print(f"| {row['query']} | {shown} | {nearest} |")
    return 0
