"""Videos with paragraphs as training data for seed 004 (``hse``, ``fse``), and their runs.

A captioned video of the catalog (the demo's stories, ActivityNet Captions) becomes one video of
clips — its sentences' ``[start, end]`` mapped onto the rows of its feature sequence in
proportion to its duration, which holds for any frame rate, fixed-rate store or precomputed
arrays alike — and one paragraph of sentences, each a sequence of word vectors. Everything is
held in columns (:class:`ParagraphSet`): offsets into flat arrays of segments and token ids, so
that ActivityNet's 10 000 videos are a few arrays, not 40 000 objects.

:func:`train_paragraph_run` is what ``actionlens train --model hse|fse`` calls (through
:func:`desktop_app.training.experiment.train_in_workspace`): the videos with role ``train`` in
the split train it, a share of them (``val_fraction``) chooses the checkpoint, and the input
transform is fitted on the training videos only; the videos of the reported role (``test``, or
``val`` where the split has no test videos, as ActivityNet's val_1) are never read.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress
from desktop_app.workspace.clip_sets import ok_clips

#: Words of a sentence: letters, digits and inner apostrophes, case-folded.
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
#: Sentences of a paragraph typed by a person: split after ., ! or ? (or a line break).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentence_words(sentence: str) -> list[str]:
    """The words of a sentence, lower-cased (``"Then it rolls."`` → ``["then", "it", "rolls"]``)."""
    return [w.lower() for w in _WORD.findall(sentence)]


def split_sentences(text: str) -> list[str]:
    """A paragraph's sentences (after ``.``, ``!``, ``?`` or a line break); empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


@dataclass
class ParagraphSet:
    """Videos with their segments and paragraphs, as columns.

    Video ``v`` has segments ``segment_offsets[v] : segment_offsets[v + 1]``; segment ``j`` spans
    ``[segment_start[j], segment_end[j]]`` as fractions of the video's duration and goes with
    sentence ``j``, whose words are ``token_ids[token_offsets[j] : token_offsets[j + 1]]``, rows
    of ``vocabulary`` (``(V, word dim)`` float32).
    """

    video_ids: np.ndarray
    segment_offsets: np.ndarray
    segment_start: np.ndarray
    segment_end: np.ndarray
    token_offsets: np.ndarray
    token_ids: np.ndarray
    vocabulary: np.ndarray
    #: ``"clip <id>: …"`` for each sentence or video left out (no known word, no segment).
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.video_ids)

    def index_of(self, clip_ids: np.ndarray) -> np.ndarray:
        """Positions of ``clip_ids`` among :attr:`video_ids` (each must be there)."""
        order = {int(c): i for i, c in enumerate(self.video_ids)}
        return np.array([order[int(c)] for c in clip_ids], dtype=np.int64)

    def sentence_counts(self) -> np.ndarray:
        """Number of segments (= sentences) of every video."""
        return np.diff(self.segment_offsets)


def word_table(vectors: Any, words: Sequence[str]) -> tuple[np.ndarray, dict[str, int]]:
    """The vectors of the known ``words`` (in first-seen order) and ``{word: row}``."""
    rows: dict[str, int] = {}
    table: list[np.ndarray] = []
    for word in words:
        if word not in rows and word in vectors:
            rows[word] = len(table)
            table.append(np.asarray(vectors.vector(word), np.float32))
    matrix = np.stack(table) if table else np.zeros((0, int(vectors.dim)), np.float32)
    return matrix, rows


def build_paragraph_set(ws: Any, clip_ids: np.ndarray, vectors: Any) -> ParagraphSet:
    """The paragraphs of catalogued clips, tokenised over ``vectors``.

    Unknown words are left out (noted once per sentence); a sentence with no known word is left
    out with its segment, and a video left with no sentence is left out (both noted).
    """
    clip_ids = np.asarray(clip_ids, dtype=np.int64)
    paragraphs = []
    for clip_id in clip_ids:
        clip = ws.catalog.clip(int(clip_id))
        captions = ws.catalog.captions(int(clip_id))
        end = max((c.end for c in captions), default=0.0)
        duration = float(clip.duration) if clip.duration else end
        paragraphs.append((int(clip_id), captions, duration))
    every_word = [w for _, caps, _ in paragraphs for c in caps for w in sentence_words(c.sentence)]
    vocabulary, row_of = word_table(vectors, every_word)
    kept, offsets, starts, ends, token_offsets, tokens, notes = [], [0], [], [], [0], [], []
    for clip_id, captions, duration in paragraphs:
        n = 0
        for caption in captions:
            words = sentence_words(caption.sentence)
            known = [row_of[w] for w in words if w in row_of]
            if len(known) < len(words):
                missing = sorted({w for w in words if w not in row_of})
                notes.append(f"clip {clip_id}: unknown word(s) {', '.join(missing[:5])} left out")
            if not known or duration <= 0:
                notes.append(f"clip {clip_id}: sentence {caption.sentence[:40]!r} left out (no known word)")
                continue
            starts.append(min(max(caption.start / duration, 0.0), 1.0))
            ends.append(min(max(caption.end / duration, 0.0), 1.0))
            tokens.extend(known)
            token_offsets.append(len(tokens))
            n += 1
        if n == 0:
            notes.append(f"clip {clip_id}: no usable sentence; video left out")
            continue
        kept.append(clip_id)
        offsets.append(offsets[-1] + n)
    return ParagraphSet(
        np.array(kept, dtype=np.int64),
        np.array(offsets, dtype=np.int64),
        np.array(starts, dtype=np.float64),
        np.array(ends, dtype=np.float64),
        np.array(token_offsets, dtype=np.int64),
        np.array(tokens, dtype=np.int64),
        vocabulary,
        notes,
    )


def _uniform_rows(start: int, stop: int, limit: int) -> np.ndarray:
    count = stop - start
    if count <= limit:
        return np.arange(start, stop)
    return start + np.floor(np.arange(limit) * count / limit).astype(np.int64)


def video_rows(cache: Any, clip_id: int, streams: Sequence[str]) -> np.ndarray:
    """The video's ``(T, ΣD)`` feature rows, streams concatenated per step (the shortest decides)."""
    seqs = [cache.sequence(int(clip_id), s) for s in streams]
    steps = min(len(s) for s in seqs)
    return np.concatenate([s[:steps] for s in seqs], axis=1)


def segment_rows(start: float, end: float, steps: int) -> tuple[int, int]:
    """Rows ``[a, b)`` of a ``steps``-row sequence covered by ``[start, end]`` (fractions); at
    least one row."""
    a = min(max(int(math.floor(start * steps)), 0), max(steps - 1, 0))
    b = min(max(int(math.ceil(end * steps)), a + 1), steps)
    return a, b


def make_batch(model: Any, cache: Any, paragraphs: ParagraphSet, rows: np.ndarray) -> Any:
    """The :class:`~desktop_app.models.hse.HierarchyBatch` of videos ``rows`` of ``paragraphs``
    (at most ``max_clips`` clips / sentences each, ``clip_steps`` rows per clip, ``max_words``
    words per sentence)."""

    from desktop_app.models.hse import HierarchyBatch

    cfg = model.config
    frames, frame_lengths, counts = video_side(
        model,
        cache,
        paragraphs.video_ids,
        paragraphs.segment_offsets,
        paragraphs.segment_start,
        paragraphs.segment_end,
        rows,
    )
    sentences: list[np.ndarray] = []
    for v in rows:
        first, last = int(paragraphs.segment_offsets[v]), int(paragraphs.segment_offsets[v + 1])
        for j in range(first, min(last, first + cfg.max_clips)):
            tokens = paragraphs.token_ids[paragraphs.token_offsets[j] : paragraphs.token_offsets[j + 1]]
            sentences.append(paragraphs.vocabulary[tokens[: cfg.max_words]])
    words, word_lengths = _pad(sentences, paragraphs.vocabulary.shape[1])
    return HierarchyBatch(frames, frame_lengths, counts, words, word_lengths, counts.clone())


def video_side(
    model: Any,
    cache: Any,
    video_ids: np.ndarray,
    segment_offsets: np.ndarray,
    segment_start: np.ndarray,
    segment_end: np.ndarray,
    rows: np.ndarray,
) -> tuple[Any, Any, Any]:
    """Padded clip frames ``(Nc, L, D)``, their lengths and the clips per video of videos
    ``rows`` (segments as fractions of each video, at most ``max_clips`` per video)."""
    import torch

    cfg = model.config
    clips: list[np.ndarray] = []
    counts = []
    for v in rows:
        features = video_rows(cache, int(video_ids[v]), model.streams)
        first, last = int(segment_offsets[v]), int(segment_offsets[v + 1])
        last = min(last, first + cfg.max_clips)
        for j in range(first, last):
            a, b = segment_rows(segment_start[j], segment_end[j], len(features))
            clips.append(features[_uniform_rows(a, b, cfg.clip_steps)])
        counts.append(last - first)
    frames, frame_lengths = _pad(clips, int(model.frame_dim))
    return frames, frame_lengths, torch.tensor(counts, dtype=torch.long)


def embed_videos(
    model: Any,
    cache: Any,
    ws: Any,
    clip_ids: np.ndarray,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """Video embeddings ``v`` of catalogued clips: a captioned video through its captions'
    segments, any other clip as a video of one clip (all its rows)."""
    import torch

    from desktop_app.models.hse import HierarchyBatch

    progress = progress or NullProgress()
    clip_ids = np.asarray(clip_ids, dtype=np.int64)
    offsets, starts, ends = [0], [], []
    for clip_id in clip_ids:
        clip = ws.catalog.clip(int(clip_id))
        captions = ws.catalog.captions(int(clip_id))
        duration = float(clip.duration) if clip.duration else max((c.end for c in captions), default=0.0)
        spans = [(c.start / duration, c.end / duration) for c in captions] if duration > 0 else []
        spans = spans or [(0.0, 1.0)]
        starts += [min(max(a, 0.0), 1.0) for a, _ in spans]
        ends += [min(max(b, 0.0), 1.0) for _, b in spans]
        offsets.append(offsets[-1] + len(spans))
    out = []
    was_training = model.training
    model.eval()
    word_dim = int(model.config.word_vector_dim)
    with torch.inference_mode():
        for start in range(0, len(clip_ids), batch_size):
            progress.check_cancelled()
            rows = np.arange(start, min(start + batch_size, len(clip_ids)))
            frames, lengths, counts = video_side(
                model, cache, clip_ids, np.array(offsets), np.array(starts), np.array(ends), rows
            )
            no_text = torch.zeros(len(rows), dtype=torch.long)
            batch = HierarchyBatch(
                frames,
                lengths,
                counts,
                torch.zeros((0, 1, word_dim)),
                torch.zeros(0, dtype=torch.long),
                no_text,
            )
            out.append(model.encode(batch)["videos"].float().numpy())
            progress.set_progress(min(1.0, rows[-1] / max(len(clip_ids), 1)), "embedding videos")
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, int(model.config.embed_size)), np.float32)


def search_videos(
    ws: Any,
    run: Any,
    text: str,
    k: int = 10,
    clip_ids: np.ndarray | None = None,
    source: Any = None,
    vectors: Any = None,
    progress: Progress | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` clips whose video embedding is nearest (cosine) to the paragraph embedding of
    ``text`` (a sentence or a paragraph), best first, with their scores.

    ``clip_ids`` (default: every good clip with the run's features) are the candidates.
    """
    import torch

    from desktop_app.analysis.space import run_word_vectors
    from desktop_app.training.data import SequenceCache, clips_with_streams
    from desktop_app.training.inputs import TransformedSource
    from desktop_app.training.sources import open_sequence_source

    if "paragraphs" not in run.meta:
        raise ActionLensError(
            f"run {run.run_id} does not embed sentences; --text needs an hse or fse run (actionlens train --model hse)"
        )
    if source is None:
        source = open_sequence_source(ws, run.meta["features"]["name"])
    if vectors is None:
        vectors = run_word_vectors(run.meta)
    usable = clips_with_streams(source, run.streams)
    if clip_ids is None:
        candidates, _ = ok_clips(ws.catalog, usable, labelled=False)
    else:
        clip_ids = np.asarray(clip_ids, dtype=np.int64)
        candidates = clip_ids[np.isin(clip_ids, usable)]
    with torch.inference_mode():
        query = run.model.encode(text_batch(run.model, vectors, text))["paragraphs"].float().numpy()
    read = TransformedSource(source, run.input_transform) if run.input_transform is not None else source
    cache = SequenceCache(read, run.streams, run.max_len)
    videos = embed_videos(run.model, cache, ws, candidates, progress=progress)
    scores = cosine_scores(query, videos)[0] if len(candidates) else np.zeros(0)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(candidates[i]), float(scores[i])) for i in order]


def _pad(sequences: list[np.ndarray], dim: int) -> tuple[Any, Any]:
    import torch

    steps = max([len(s) for s in sequences] + [1])
    out = np.zeros((len(sequences), steps, dim), np.float32)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq
    return torch.from_numpy(out), torch.tensor([len(s) for s in sequences], dtype=torch.long)


def text_batch(model: Any, vectors: Any, text: str) -> Any:
    """A one-paragraph :class:`~desktop_app.models.hse.HierarchyBatch` of typed ``text`` (no
    clips): its sentences split after ``.``/``!``/``?``, unknown words left out.

    Raises
    ------
    ActionLensError
        The text has no word the run's word vectors know.
    """
    import torch

    from desktop_app.models.hse import HierarchyBatch

    cfg = model.config
    rows = []
    for sentence in split_sentences(text)[: cfg.max_clips]:
        known = [w for w in sentence_words(sentence) if w in vectors][: cfg.max_words]
        if known:
            rows.append(np.stack([np.asarray(vectors.vector(w), np.float32) for w in known]))
    if not rows:
        raise ActionLensError(
            f"no word of {text[:60]!r} is in the run's word vectors; type an English sentence"
        )
    words, lengths = _pad(rows, int(vectors.dim))
    dim = int(model.frame_dim)
    empty = torch.zeros((0, 1, dim))
    return HierarchyBatch(
        empty,
        torch.zeros(0, dtype=torch.long),
        torch.zeros(1, dtype=torch.long),
        words,
        lengths,
        torch.tensor([len(rows)], dtype=torch.long),
    )


def embed_pairs(
    model: Any,
    cache: Any,
    paragraphs: ParagraphSet,
    rows: np.ndarray,
    batch_size: int = 64,
    device: Any = "cpu",
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Video embeddings ``v`` and paragraph embeddings ``p`` of videos ``rows``, in eval mode."""
    import torch

    progress = progress or NullProgress()
    was_training = model.training
    model.eval()
    videos, texts = [], []
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            progress.check_cancelled()
            batch = make_batch(model, cache, paragraphs, rows[start : start + batch_size]).to(device)
            e = model.encode(batch)
            videos.append(e["videos"].float().cpu().numpy())
            texts.append(e["paragraphs"].float().cpu().numpy())
            progress.set_progress(min(1.0, (start + batch_size) / max(len(rows), 1)), "embedding videos")
    model.train(was_training)
    width = int(model.config.embed_size)
    if not videos:
        return np.zeros((0, width), np.float32), np.zeros((0, width), np.float32)
    return np.concatenate(videos), np.concatenate(texts)


def cosine_scores(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Cosine similarity of every query row to every candidate row."""
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    c = candidates / np.maximum(np.linalg.norm(candidates, axis=1, keepdims=True), 1e-12)
    return np.asarray(q @ c.T)


def paired_retrieval(videos: np.ndarray, paragraphs: np.ndarray) -> dict[str, dict[str, float]]:
    """Paragraph → video and video → paragraph R@1/5/50 and median rank (seed Table 1)."""
    from desktop_app.models.hse import retrieval_metrics

    scores = cosine_scores(paragraphs, videos)
    return {
        "paragraph_to_video": retrieval_metrics(scores),
        "video_to_paragraph": retrieval_metrics(scores.T),
    }


def _selection_score(metrics: dict[str, dict[str, float]]) -> tuple[float, float]:
    """CMHSE's R-sum (R@1 + R@5 + R@50, both directions), ties broken by the lower mean rank."""
    rsum = sum(m[k] for m in metrics.values() for k in ("r1", "r5", "r50"))
    return rsum, -sum(m["meanr"] for m in metrics.values())


def fit_paragraph_model(model: Any, context: Any) -> Any:
    """Train an ``hse`` / ``fse`` model (``fit="custom"``; ``context`` is a ``FitContext``).

    Adam (``lr``), the rate cut ×0.1 every ``lr_step`` epochs, batches of ``batch_size``
    training videos in an order that depends only on ``(seed, epoch)``, gradient-norm clipping;
    after each epoch the validation videos (held out of the training videos) are embedded and
    the epoch with the best R-sum is kept. A checkpoint after every epoch lets an interrupted run
    continue where it stopped.
    """
    import torch

    from desktop_app.training.trainer import TrainResult, load_checkpoint, save_checkpoint

    config, data, progress = context.config, context.data, context.progress
    paragraphs: ParagraphSet = data.extras["paragraphs"]
    train_rows = paragraphs.index_of(data.train_clips)
    val_rows = paragraphs.index_of(data.val_clips)
    if len(train_rows) < 2:
        raise ActionLensError(
            f"{len(train_rows)} training video(s) with paragraphs; the matching loss needs 2 or more "
            "(import captioned videos, e.g. actionlens demo --stories)"
        )
    device = context.device
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, model.config.lr_step), gamma=0.1)
    history: list[dict[str, float]] = []
    best_state: dict[str, Any] | None = None
    best_score: tuple[float, float] = (-math.inf, -math.inf)
    best_epoch, bad_epochs, start_epoch, best_r1 = -1, 0, 0, 0.0
    path = context.checkpoint_path
    if context.resume and path is not None and path.is_file():
        state = load_checkpoint(path, context.args)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["lr_scheduler"])
        start_epoch = int(state["epoch"]) + 1
        best_state = state.get("best_model")
        stopping = state.get("early_stopping", {})
        best_score = (
            float(stopping.get("best_rsum", -math.inf)),
            float(stopping.get("best_tiebreak", -math.inf)),
        )
        best_epoch = int(stopping.get("best_epoch", -1))
        bad_epochs = int(stopping.get("bad_epochs", 0))
        best_r1 = float(stopping.get("best_val_accuracy", 0.0))
        history = list(state.get("history", []))

    batch_size = max(2, int(config.batch_size))
    n_batches = max(1, math.ceil(len(train_rows) / batch_size))
    seen, seconds, stopped_early, epoch = 0, 0.0, False, start_epoch - 1
    for epoch in range(start_epoch, config.epochs):
        if bad_epochs >= config.patience > 0:
            stopped_early = True
            break
        torch.manual_seed(config.seed * 100_003 + epoch * 1009)
        model.train()
        started = time.perf_counter()
        order = train_rows[np.random.default_rng([config.seed, epoch]).permutation(len(train_rows))]
        sums: dict[str, float] = {}
        for i in range(n_batches):
            progress.check_cancelled()
            chunk = order[i * batch_size : (i + 1) * batch_size]
            if len(chunk) < 2:  # a hinge over one pair has no negative
                continue
            batch = make_batch(model, context.cache, paragraphs, chunk).to(device)
            terms = model.loss_terms(batch)
            loss = torch.stack(list(terms.values())).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            seen += len(chunk)
            progress.set_progress(
                (epoch + (i + 1) / n_batches) / config.epochs,
                f"epoch {epoch + 1}/{config.epochs} loss {float(loss.detach()) / len(chunk):.3f}",
            )
        seconds += time.perf_counter() - started
        scheduler.step()
        v, p = embed_pairs(model, context.cache, paragraphs, val_rows, device=device)
        metrics = paired_retrieval(v, p)
        # without validation videos (fewer than 4 training videos) the last epoch is kept
        score = _selection_score(metrics) if len(val_rows) else (float(epoch), 0.0)
        r1 = (metrics["paragraph_to_video"]["r1"] + metrics["video_to_paragraph"]["r1"]) / 200.0
        record = {
            "epoch": float(epoch),
            "loss": sum(sums.values()) / max(len(train_rows), 1),
            **{f"loss_{k}": s / max(len(train_rows), 1) for k, s in sums.items()},
            "val_rsum": score[0],
            "val_r1": r1,
            "lr": float(optimizer.param_groups[0]["lr"]),
        }
        history.append(record)
        if score > best_score:
            best_score, best_epoch, bad_epochs, best_r1 = score, epoch, 0, r1
            best_state = {k: t.detach().cpu().clone() for k, t in model.state_dict().items()}
        else:
            bad_epochs += 1
        progress.set_progress(
            (epoch + 1) / config.epochs,
            f"epoch {epoch + 1}/{config.epochs} loss {record['loss']:.3f} val R-sum {score[0]:.0f}",
        )
        if path is not None and context.distributed.is_main:
            save_checkpoint(
                path,
                {
                    "format": 1,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "lr_scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "args": context.args,
                    "best_model": best_state,
                    "early_stopping": {
                        "best_rsum": best_score[0],
                        "best_tiebreak": best_score[1],
                        "best_epoch": best_epoch,
                        "bad_epochs": bad_epochs,
                        "best_val_accuracy": best_r1,
                    },
                    "history": history,
                },
            )
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to("cpu").eval()
    return TrainResult(
        model=model,
        history=history,
        best_epoch=best_epoch,
        best_val_accuracy=best_r1,
        epochs_run=len(history),
        stopped_early=stopped_early,
        train_clips_per_second=seen / seconds if seconds > 0 else math.nan,
    )


# ------------------------------------------------------------------------------- workspace
def captioned_roles(ws: Any, split: str) -> tuple[str, dict[int, str]]:
    """The split the captioned videos are divided by, and ``{clip id: role}`` of them.

    ``split`` is used where captioned clips have roles in it; otherwise ``"official"`` (the
    ActivityNet importer's split, which the demo's stories also get).
    """
    with ws.catalog.transaction() as con:
        captioned = {int(r[0]) for r in con.execute("SELECT DISTINCT clip_id FROM captions")}
    if not captioned:
        raise ActionLensError(
            f"{ws.root} has no videos with paragraphs; import ActivityNet Captions "
            "(actionlens import activitynet …) or build the demo with stories (actionlens demo --stories)"
        )
    for name in dict.fromkeys([split, "official"]):
        roles = {c: r for c, r in ws.catalog.split(name).items() if c in captioned}
        if roles:
            return name, roles
    raise ActionLensError(
        f"the captioned videos of {ws.root} have no role in split {split!r} or 'official'; "
        "re-import them with their captions JSON files (train / val)"
    )


def report_role(roles: dict[int, str]) -> str:
    """The role whose videos a paragraph-retrieval table reports: ``test``, else ``val``."""
    present = set(roles.values())
    return "test" if "test" in present else "val"


def paragraph_run_id(model: str, preset: str, split: str, seed: int = 0) -> str:
    """``<model>-<preset>-para-<split>`` (``-seed<N>`` for a training seed other than 0)."""
    base = f"{model}-{preset}-para-{split}"
    return base if int(seed) == 0 else f"{base}-seed{int(seed)}"


def class_sentence_vectors(model: Any, vectors: Any, phrases: Sequence[str]) -> np.ndarray:
    """Class phrases encoded as sentences by the low-level text encoder (seed §4.4 zero-shot),
    unit rows; a phrase with no known word gets a zero row."""
    import torch

    rows = np.zeros((len(phrases), int(model.config.embed_size)), np.float32)
    model.eval()
    with torch.inference_mode():
        for i, phrase in enumerate(phrases):
            known = [w for w in sentence_words(phrase.replace("_", " ")) if w in vectors]
            if not known:
                continue
            words = torch.from_numpy(np.stack([np.asarray(vectors.vector(w), np.float32) for w in known]))
            out = model.sentence_embedding(words[None], torch.tensor([len(known)])).numpy()[0]
            rows[i] = out / max(float(np.linalg.norm(out)), 1e-12)
    return rows


def train_paragraph_run(
    ws: Any,
    model: str,
    *,
    preset: str = "small",
    split: str = "1",
    seed: int = 0,
    epochs: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    features: str | None = None,
    word_vectors: str | None = None,
    run_id: str | None = None,
    zsl_split: str | None = None,
    train_overrides: dict[str, Any] | None = None,
    model_overrides: dict[str, Any] | None = None,
    source: Any = None,
    vectors: Any = None,
    progress: Progress | None = None,
) -> Any:
    """Train a seed-004 model (``hse`` / ``fse``) on the workspace's captioned videos.

    The ``train`` videos of the split (see :func:`captioned_roles`) less a ``val_fraction``
    share (drawn from ``seed``) train it; that share chooses the checkpoint; the input
    transform is fitted on the training videos only. The run's label vectors are the class
    phrases encoded by its sentence encoder (its zero-shot classifier), so that the app's class
    views work in its space.

    Returns
    -------
    Run
        The saved run.
    """
    from desktop_app.models.registry import ModelShape, config_to_json, get_model_spec
    from desktop_app.training.data import clips_with_streams, source_name, source_settings
    from desktop_app.training.inputs import InputTransform, TransformedSource
    from desktop_app.training.runs import CHECKPOINT, Run, now, prepare_run_dir, save_run
    from desktop_app.training.sources import open_sequence_source
    from desktop_app.training.trainer import TrainingData, preset_settings, train_model

    progress = progress or NullProgress()
    spec = get_model_spec(model)
    if zsl_split:
        raise ActionLensError(
            f"{model} trains on videos with paragraphs, not on a zero-shot class split; drop --zsl-split "
            "(its zero-shot recognition is in actionlens evaluate --task paragraph-retrieval)"
        )
    model_config, train_config = preset_settings(spec, preset, seed, epochs, train_overrides, model_overrides)
    split_name, roles = captioned_roles(ws, split)
    run_id = run_id or paragraph_run_id(model, preset, split_name, seed)
    run_dir = ws.runs_dir / run_id
    finished, resume = prepare_run_dir(ws.runs_dir, run_id, resume, overwrite)
    if finished is not None:
        return finished

    if source is None:
        source = open_sequence_source(ws, features)
    if vectors is None:
        from desktop_app.words.vectors import WordVectors

        vectors = WordVectors.load(word_vectors)
    streams = tuple(model_config.streams) or tuple(s for s in source.streams if s != "audio")
    missing = [s for s in streams if s not in source.streams]
    if missing:
        raise ActionLensError(
            f"feature store {source_name(source)!r} has no {', '.join(missing)} stream; "
            f"choose among {', '.join(source.streams)}"
        )
    model_config = dataclasses.replace(model_config, streams=streams, word_vector_dim=int(vectors.dim))
    usable, _ = ok_clips(ws.catalog, clips_with_streams(source, streams), labelled=False)
    videos = usable[np.isin(usable, np.fromiter(roles, dtype=np.int64, count=len(roles)))]
    paragraphs = build_paragraph_set(ws, videos, vectors)
    role = np.array([roles[int(c)] for c in paragraphs.video_ids])
    train_ids = paragraphs.video_ids[role == "train"]
    reported = report_role(roles)
    # Checkpoint choice on videos drawn from the training videos, never the reported ones.
    rng = np.random.default_rng([seed, 7919])
    n_val = int(round(model_config.val_fraction * len(train_ids))) if len(train_ids) >= 4 else 0
    held = np.zeros(len(train_ids), dtype=bool)
    held[rng.choice(len(train_ids), size=n_val, replace=False)] = True
    fit_ids, val_ids = train_ids[~held], train_ids[held]
    if len(fit_ids) < 2:
        raise ActionLensError(
            f"split {split_name!r} has {len(fit_ids)} training video(s) with paragraphs and features; "
            "the matching loss needs 2 or more (extract features: actionlens extract)"
        )
    transform = InputTransform.fit(
        source,
        fit_ids,
        streams,
        pca_dims=train_config.pca_dims,
        input_scale=train_config.input_scale,
        fitted_on={"video_ids": [int(c) for c in fit_ids]},
        progress=SubProgress(progress, 0.0, 0.0, "fitting the input transform"),
    )
    transformed = TransformedSource(source, transform)
    classes = ws.catalog.classes()
    data = TrainingData(
        transformed,
        fit_ids,
        np.zeros(len(fit_ids), dtype=np.int64),
        val_ids,
        np.zeros(len(val_ids), dtype=np.int64),
        np.zeros((0, int(vectors.dim)), np.float32),
        task=spec.task,
        extras={"paragraphs": paragraphs},
    )
    shape = ModelShape(
        {s: transform.dim(s) for s in streams},
        int(model_config.embed_size),
        0,
    )
    created = now()
    started = time.perf_counter()
    ws.catalog.add_run(run_id, model, created, "training", {})
    run_dir.mkdir(parents=True, exist_ok=True)
    inputs_meta = transform.save(run_dir)
    result = train_model(
        model,
        model_config,
        shape,
        data,
        train_config,
        checkpoint_path=run_dir / CHECKPOINT,
        resume=resume,
        progress=progress,
        custom_fit=fit_paragraph_model,
    )
    label_vectors = class_sentence_vectors(result.model, vectors, [c.phrase for c in classes])
    meta = {
        "run_id": run_id,
        "created": created,
        "status": "complete",
        "task": spec.task,
        "model": {
            "name": model,
            "preset": preset,
            "config": config_to_json(model_config),
            "shape": shape.to_json(),
        },
        "training": {
            **train_config.to_json(),
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "train_clips_per_second": result.train_clips_per_second,
            "seconds": round(time.perf_counter() - started, 3),
            "history": result.history,
        },
        "features": {
            "name": source_name(source),
            "settings": source_settings(source),
            "streams": list(streams),
        },
        "inputs": inputs_meta,
        "word_vectors": {"source": dict(getattr(vectors, "source", {})), "dim": int(vectors.dim)},
        # label vectors: class phrases through the sentence encoder; no class was trained on.
        "classes": [{"id": c.id, "name": c.name, "phrase": c.phrase, "train_index": None} for c in classes],
        "split": {
            "name": split_name,
            "train_clips": len(fit_ids),
            "val_clips": len(val_ids),
            "test_clips": int(np.sum(role == reported)),
        },
        "paragraphs": {
            "split": split_name,
            "report_role": reported,
            "train_videos": len(fit_ids),
            "val_videos": len(val_ids),
            "report_videos": int(np.sum(role == reported)),
            "notes": paragraphs.notes[:50],
            "left_out_notes": len(paragraphs.notes),
        },
        "zsl": None,
        "seed": seed,
        "metrics": {
            "validation": {"accuracy": result.best_val_accuracy, "epoch": result.best_epoch, "measure": "R@1"}
        },
    }
    save_run(run_dir, result.model, label_vectors, meta)
    ws.catalog.add_run(run_id, model, created, "complete", meta["metrics"])
    return Run.load(run_dir)


#: Video embeddings of every clip per run, computed once per process (the query panel asks
#: again at every query): ``(workspace root, run id, weights mtime) → (clip ids, (N, H))``.
_VIDEO_CACHE: dict[tuple[str, str, float], tuple[np.ndarray, np.ndarray]] = {}
_VIDEO_CACHE_LOCK = threading.Lock()


def _video_table(ws: Any, run: Any, source: Any, progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    from desktop_app.training.data import SequenceCache, clips_with_streams
    from desktop_app.training.inputs import TransformedSource
    from desktop_app.training.runs import WEIGHTS

    key = (str(ws.root), run.run_id, (run.run_dir / WEIGHTS).stat().st_mtime)
    with _VIDEO_CACHE_LOCK:
        if key in _VIDEO_CACHE:
            return _VIDEO_CACHE[key]
    ids, _ = ok_clips(ws.catalog, clips_with_streams(source, run.streams), labelled=False)
    read = TransformedSource(source, run.input_transform) if run.input_transform is not None else source
    videos = embed_videos(
        run.model, SequenceCache(read, run.streams, run.max_len), ws, ids, progress=progress
    )
    with _VIDEO_CACHE_LOCK:
        _VIDEO_CACHE.clear()  # one run at a time is enough for the panel
        _VIDEO_CACHE[key] = (ids, videos)
    return ids, videos


def text_query(
    space: Any,
    text: str,
    k: int = 10,
    allowed: np.ndarray | None = None,
    num_classes: int = 8,
    progress: Progress | None = None,
) -> Any:
    """What the query box answers for an ``hse`` / ``fse`` run (a ``RetrievalResult``).

    Clips: every clip's video embedding (captioned videos through their segments) ranked by
    cosine to the text's paragraph embedding, among ``allowed`` clip ids if given. Classes: the
    class phrases read as sentences (the run's label vectors) ranked by cosine to the text read
    as one sentence, both in the low-level space. Words: none (this space holds no words).
    """
    import torch

    from desktop_app.analysis.retrieval import ClassHit, ClipHit, RetrievalResult
    from desktop_app.analysis.space import run_word_vectors
    from desktop_app.training.runs import Run
    from desktop_app.training.sources import open_sequence_source

    progress = progress or NullProgress()
    ws = space.ws
    run = Run.load(ws.runs_dir / space.run_id)
    if "paragraphs" not in run.meta:
        raise ActionLensError(f"run {run.run_id} does not embed sentences; choose an hse or fse run")
    vectors = run_word_vectors(run.meta)
    source = open_sequence_source(ws, run.meta["features"]["name"])
    batch = text_batch(run.model, vectors, text)
    with torch.inference_mode():
        query = run.model.encode(batch)["paragraphs"].float().numpy()
        words = batch.sentence_words.reshape(1, -1, batch.sentence_words.shape[-1])
        mask = torch.arange(batch.sentence_words.shape[1])[None, :] < batch.sentence_lengths[:, None]
        sentence = run.model.sentence_embedding(words[:, mask.reshape(-1)], mask.sum().reshape(1)).numpy()
    ids, videos = _video_table(ws, run, source, SubProgress(progress, 0.1, 0.9, "embedding videos"))
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, videos = ids[keep], videos[keep]
    scores = cosine_scores(query, videos)[0] if len(ids) else np.zeros(0)
    order = np.argsort(-scores, kind="stable")[:k]
    clips = space.clips
    result = RetrievalResult(text, method="numpy")
    result.clips = [
        ClipHit(int(ids[i]), clips[int(ids[i])].name, clips[int(ids[i])].class_name, float(scores[i]))
        for i in order
    ]
    if len(run.class_ids):
        class_scores = cosine_scores(sentence, run.label_vectors)[0]
        rows = space.classes
        for j in np.argsort(-class_scores, kind="stable")[:num_classes]:
            c = rows[int(run.class_ids[j])]
            result.classes.append(ClassHit(int(c.id), c.name, c.phrase, float(class_scores[j])))
    progress.set_progress(1.0, "Done")
    return result
