"""The model's view over time: the embedding of every prefix of a clip, and where it lies.

Seeds 000 and 001 embed a clip with a recurrent encoder; what the encoder "thinks" after it has
seen the first ``t`` feature steps is the embedding of the prefix ``x_1 … x_t`` through the same
pooling and head. :func:`prefix_embeddings` computes all of them:

* ``ste`` (seed 000, eqs. 1–4 and §III.C): the GRU outputs ``h_1 … h_T`` of each stream are
  computed once; the masked mean of a prefix is the cumulative mean ``(1/t) Σ_{τ≤t} h_τ``, so one
  GRU pass gives every prefix (the GRUs are unidirectional: ``h_τ`` does not depend on later
  steps), then the weighted concatenation and the MLP run on the ``T`` rows at once.
* ``lstm`` / ``stacked-lstm`` (seed 001's Table 1 rows): the embedding is the projection of the
  last LSTM output, so the prefix embedding is the projection of output ``t``; one pass.
* ``pooled-ridge`` (seed 001's baseline): no recurrence, but its mean pool has the same closed
  form: the cumulative mean of the features through the ridge map.
* ``action2vec`` / ``action2vec-literal`` (seed 001 §3.2): the soft attention at every step reads
  *all* the steps of its sub-sequence (and LSTM-2's all the sub-sequence summaries), later ones
  included, so no single causal pass gives a prefix. The prefixes are embedded exactly instead, in
  one batched forward call of ``T`` rows (the clip repeated, row ``t`` with valid length ``t``:
  the model masks by length, so row ``t`` is the truncated clip).

Every other model (seed 002's Fisher-vector/SVM models, seed 003's multistream encoder and
autoencoder, seed 004's hse) raises :class:`~desktop_app.errors.ActionLensError`: their
embedding is not a function of a growing prefix the panels could show.

:func:`project_track` places prefix embeddings on a 2-D map without recomputing it, and
:func:`track_neighbours` names the nearest classes at each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.analysis.analogy import to_unit
from desktop_app.errors import ActionLensError

#: Model names :func:`prefix_embeddings` supports, and how.
SUPPORTED_MODELS = {
    "ste": "one GRU pass, cumulative mean of its outputs",
    "lstm": "one LSTM pass, the projection of every output",
    "stacked-lstm": "one pass of the stacked LSTMs, the projection of every output",
    "pooled-ridge": "no recurrence: cumulative mean of the features through the ridge map",
    "action2vec": "attention looks ahead in a sub-sequence: each prefix embedded exactly, in one batch",
    "action2vec-literal": "attention looks ahead in a sub-sequence: each prefix embedded exactly, in one batch",
}


def _unsupported_sentence(run_id: str, name: str) -> str:
    return (
        f"run {run_id} ({name}) has no recurrent encoder whose prefixes can be embedded, so it "
        f"has no track over time; choose a run of {', '.join(sorted(SUPPORTED_MODELS))}"
    )


def _unsupported(run: Any) -> ActionLensError:
    return ActionLensError(_unsupported_sentence(run.run_id, (run.meta.get("model") or {}).get("name", "?")))


def _clip_batch(run: Any, source: Any, clip_id: int) -> Any:
    """The clip as a batch of one, read through the run's input transform (as :meth:`Run.embed`)."""
    from desktop_app.training.data import SequenceCache
    from desktop_app.training.inputs import TransformedSource, raw_dim

    dims = dict(run.meta["model"]["shape"]["input_dims"])
    if run.input_transform is not None:
        dims = {s: run.input_transform.streams[s].input_dim for s in run.streams}
    for stream in run.streams:
        if stream not in source.streams:
            have = None
        else:
            have = raw_dim(source, stream) if run.input_transform is not None else int(source.dim(stream))
        if have != dims[stream]:
            raise ActionLensError(
                f"run {run.run_id} needs {stream!r} features of dimension {dims[stream]}; the feature "
                f"store {getattr(source, 'name', '')!r} does not have them — use the store the run was "
                f"trained on ({run.meta['features']['name']!r})"
            )
    if run.input_transform is not None:
        source = TransformedSource(source, run.input_transform)
    cache = SequenceCache(source, run.streams, run.max_len)
    try:
        return cache.collate(np.array([int(clip_id)], dtype=np.int64))
    except KeyError as exc:
        raise ActionLensError(
            f"clip {clip_id} has no features in the store {getattr(source, 'name', '')!r}; "
            "run `actionlens extract` for it"
        ) from exc


def _cumulative_mean(sequence: Any, length: int, steps: int) -> Any:
    """``(steps, H)``: row ``t`` is the mean of the first ``min(t+1, length)`` rows of a
    ``(1, T, H)`` sequence (zeros for an empty one, as :func:`masked_mean` gives)."""
    import torch

    seq = sequence[0, :length]
    if length == 0:
        return seq.new_zeros(steps, sequence.shape[-1])
    means = torch.cumsum(seq, dim=0) / torch.arange(1, length + 1, dtype=seq.dtype)[:, None]
    index = torch.arange(steps).clamp(max=length - 1)
    return means[index]


def prefix_embeddings(run: Any, source: Any, clip_id: int) -> tuple[np.ndarray, np.ndarray]:
    """The embedding of every prefix of a clip, through the run's own pooling and head.

    Parameters
    ----------
    run
        A loaded :class:`~desktop_app.training.runs.Run` of a model in :data:`SUPPORTED_MODELS`.
    source
        A sequence source with the run's streams (the workspace's feature store).
    clip_id
        The clip.

    Returns
    -------
    steps, embeddings
        ``steps`` ``(T,)`` int64: the number of feature steps each prefix holds (``1 … T``, ``T``
        the steps the model reads, at most its ``max_len``); ``embeddings`` ``(T, word_dim)``
        float32. The last row is the clip's own embedding (:meth:`Run.embed`).

    Raises
    ------
    ActionLensError
        For a model without a prefix embedding (the sentence names the run and what works), a
        store without the run's features, or a clip without features.
    """
    import torch

    from desktop_app.models.action2vec import Action2Vec
    from desktop_app.models.base import concat_streams
    from desktop_app.models.baselines import PooledRidge, SequenceLSTM
    from desktop_app.models.ste import SemanticTemporalEmbedding

    model = run.model
    if not isinstance(model, SemanticTemporalEmbedding | SequenceLSTM | PooledRidge | Action2Vec):
        raise _unsupported(run)
    batch = _clip_batch(run, source, clip_id)
    features, lengths = batch.features, batch.lengths
    with torch.inference_mode():
        if isinstance(model, SemanticTemporalEmbedding):
            # Seed 000 eqs. 1–4: E_v(t) = [½·mean_{τ≤t} h^app_τ ; 3/2·mean_{τ≤t} h^of_τ].
            app_stream, motion_stream = model.streams
            steps = int(max(lengths[app_stream].item(), lengths[motion_stream].item()))
            if steps == 0:
                raise ActionLensError(f"clip {clip_id} has no feature steps; run `actionlens extract` for it")
            scale = model.config.input_scale
            pooled = []
            for stream, gru, weight in (
                (app_stream, model.appearance_gru, model.config.appearance_weight),
                (motion_stream, model.motion_gru, model.config.motion_weight),
            ):
                out, _ = gru(features[stream] * scale)
                pooled.append(_cumulative_mean(out, int(lengths[stream].item()), steps) * weight)
            embeddings = model.mlp(torch.cat(pooled, dim=1))
        elif isinstance(model, PooledRidge):
            steps = int(max(lengths[s].item() for s in model.streams))
            if steps == 0:
                raise ActionLensError(f"clip {clip_id} has no feature steps; run `actionlens extract` for it")
            pooled = [_cumulative_mean(features[s], int(lengths[s].item()), steps) for s in model.streams]
            embeddings = model.linear(torch.cat(pooled, dim=1))
        else:
            sequence, length = concat_streams(features, lengths, model.streams)
            steps = int(length.item())
            if steps == 0:
                raise ActionLensError(f"clip {clip_id} has no feature steps; run `actionlens extract` for it")
            if isinstance(model, SequenceLSTM):
                out = sequence[:, :steps]
                for lstm in model.lstms:  # dropout is off in eval mode
                    out, _ = lstm(out)
                embeddings = model.projection(out[0])
            else:  # Action2Vec: exact prefixes in one batch of `steps` rows
                prefix = torch.arange(1, steps + 1)
                repeated = {
                    s: features[s][:, :steps].expand(steps, -1, -1).contiguous() for s in model.streams
                }
                prefix_lengths = {s: torch.minimum(prefix, lengths[s].expand(steps)) for s in model.streams}
                embeddings, _ = model(repeated, prefix_lengths)
    return np.arange(1, steps + 1, dtype=np.int64), embeddings.float().numpy().astype(np.float32)


def prefix_embeddings_slow(run: Any, source: Any, clip_id: int) -> np.ndarray:
    """Every prefix embedded on its own (the clip truncated to ``t`` steps, ``t = 1 … T``):
    the reference :func:`prefix_embeddings` is checked against. ``(T, word_dim)`` float32."""
    import torch

    batch = _clip_batch(run, source, clip_id)
    steps = int(max(batch.lengths[s].item() for s in run.streams))
    rows = []
    with torch.inference_mode():
        for t in range(1, steps + 1):
            features = {s: batch.features[s][:, :t] for s in run.streams}
            lengths = {s: batch.lengths[s].clamp(max=t) for s in run.streams}
            embedding, _ = run.model(features, lengths)
            rows.append(embedding.float().numpy()[0])
    return np.asarray(rows, dtype=np.float32)


def step_seconds(store_settings: dict[str, Any], steps: np.ndarray) -> np.ndarray | None:
    """Seconds of video each prefix has seen (``steps / fps``), or ``None`` where feature steps
    are not at a fixed rate (adaptive sampling, a fixed step count): then the step of a playhead
    is its fraction of the clip."""
    fps = store_settings.get("fps")
    if not fps or store_settings.get("adaptive") or store_settings.get("steps"):
        return None
    return np.asarray(steps, dtype=np.float64) / float(fps)


def step_at(seconds: float, fraction: float, times: np.ndarray | None, num_steps: int) -> int:
    """The row of the prefix shown at a playhead (``seconds`` into the clip, ``fraction`` of it):
    the last prefix that ends at or before the playhead (row 0 before the first step ends)."""
    if num_steps <= 0:
        return 0
    if times is not None:
        return int(np.clip(np.searchsorted(times, seconds + 1e-9, side="right") - 1, 0, num_steps - 1))
    return int(np.clip(int(fraction * num_steps), 0, num_steps - 1))


@dataclass(frozen=True)
class TrackProjection:
    """Map positions of a track's points and how they were found.

    ``method`` is ``"linear"`` (the map is an affine function of the unit embeddings — PCA and
    semantic axes are — recovered by least squares from the map's own points and applied to the
    track) or ``"neighbours"`` (inverse-distance mean of the ``k`` nearest map points, for UMAP,
    t-SNE and imported layouts).
    """

    coords: np.ndarray
    method: str


def project_track(
    map_vectors: np.ndarray, map_coords: np.ndarray, embeddings: np.ndarray, k: int = 5
) -> TrackProjection:
    """Place prefix embeddings on an existing 2-D map without recomputing it.

    Parameters
    ----------
    map_vectors
        ``(n, D)`` embeddings of the map's points (unit-normalised here, as maps are computed).
    map_coords
        ``(n, 2)`` their map positions.
    embeddings
        ``(T, D)`` prefix embeddings.
    k
        Neighbours for the non-linear case.

    Returns
    -------
    TrackProjection
        ``(T, 2)`` float32 positions. A PCA map is ``coords = (x − μ) V``, affine in the unit
        embedding ``x``; the least-squares affine fit of ``coords`` on the map's points recovers it
        exactly (relative residual below 1e-4), and is then used. Otherwise the position is the
        mean of the ``k`` nearest points' positions weighted by ``1/distance`` (a point at distance
        0 takes the position of that point, so the full clip lands on its own point).
    """
    from desktop_app.analysis.placement import place_on_map

    coords, method = place_on_map(map_vectors, map_coords, embeddings, k)
    return TrackProjection(coords, method)


def track_neighbours(
    class_vectors: np.ndarray, class_ids: np.ndarray, embeddings: np.ndarray, k: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` classes nearest each prefix embedding by cosine (seed 000 ranks by cosine).

    Returns
    -------
    ids, scores
        ``(T, k)`` class ids and their cosine similarities, nearest first.
    """
    similarity = to_unit(embeddings) @ to_unit(class_vectors).T
    k = min(k, similarity.shape[1])
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    ids = np.asarray(class_ids, dtype=np.int64)[order]
    return ids, np.take_along_axis(similarity, order, axis=1).astype(np.float32)


@dataclass(frozen=True)
class ClipTrack:
    """The model's view over time of one clip, as the Player and the Map show it.

    Attributes
    ----------
    clip_id, run_id
        The clip and the run whose encoder it is.
    steps, embeddings
        From :func:`prefix_embeddings`.
    seconds
        ``(T,)`` seconds of video each prefix has seen, or ``None`` (see :func:`step_seconds`).
    how
        How the prefixes were computed (:data:`SUPPORTED_MODELS`).
    class_ids, class_scores
        ``(T, k)`` nearest classes of each prefix and their cosines (:func:`track_neighbours`).
    verbs
        Per prefix, the nearest verbs ``[(word, cosine) …]``; ``None`` when they are unavailable,
        with the reason in ``verbs_unavailable``.
    """

    clip_id: int
    run_id: str
    steps: np.ndarray
    embeddings: np.ndarray
    seconds: np.ndarray | None
    how: str
    class_ids: np.ndarray
    class_scores: np.ndarray
    verbs: list[list[tuple[str, float]]] | None = None
    verbs_unavailable: str | None = None

    def __len__(self) -> int:
        return int(len(self.steps))

    def step_at(self, seconds: float, fraction: float) -> int:
        """The row shown at a playhead (:func:`step_at`)."""
        return step_at(seconds, fraction, self.seconds, len(self))


def clip_track(space: Any, clip_id: int, word_pos: Any = None, k: int = 3, progress: Any = None) -> ClipTrack:
    """The :class:`ClipTrack` of a clip in the run of ``space`` (an
    :class:`~desktop_app.analysis.space.EmbeddingSpace`): the run's encoder over every prefix of
    the clip's features, the nearest classes of each prefix and, with ``word_pos`` (a
    :class:`~desktop_app.words.pos.WordPos`), its nearest verbs.

    Raises
    ------
    ActionLensError
        For a run whose model has no prefix embedding (checked from its ``meta.json`` before the
        weights are loaded), or whose features are missing.
    """
    from desktop_app.progress import NullProgress
    from desktop_app.training.runs import Run, read_meta
    from desktop_app.training.sources import open_sequence_source

    progress = progress or NullProgress()
    ws, run_id = space.ws, space.run_id
    run_dir = ws.runs_dir / run_id
    name = (read_meta(run_dir).get("model") or {}).get("name", "?")
    if name not in SUPPORTED_MODELS:
        raise ActionLensError(_unsupported_sentence(run_id, name))
    progress.set_progress(0.1, "loading the run")
    run = Run.load(run_dir)
    progress.check_cancelled()
    source = open_sequence_source(ws, run.meta["features"]["name"])
    progress.set_progress(0.3, "embedding every prefix of the clip")
    steps, embeddings = prefix_embeddings(run, source, clip_id)
    progress.check_cancelled()
    seconds = step_seconds(dict(getattr(source, "settings", {}) or {}), steps)
    class_ids, class_scores = track_neighbours(space.unit_class_means, space.class_ids, embeddings, k)
    verbs: list[list[tuple[str, float]]] | None = None
    unavailable: str | None = None
    if word_pos is None:
        unavailable = "verbs are being tagged with WordNet"
    else:
        from desktop_app.analysis.retrieval import nearest_words_by_pos

        progress.set_progress(0.6, "finding the nearest verbs of every prefix")
        verbs = []
        for row in embeddings:
            progress.check_cancelled()
            found = nearest_words_by_pos(space.word_vectors, row, k, word_pos=word_pos)
            if found.unavailable is not None:
                verbs, unavailable = None, found.unavailable
                break
            verbs.append([(hit.word, float(hit.score)) for hit in found.verbs])
    return ClipTrack(
        int(clip_id),
        str(run_id),
        steps,
        embeddings,
        seconds,
        SUPPORTED_MODELS[name],
        class_ids,
        class_scores,
        verbs,
        unavailable,
    )


def track_map_positions(
    space: Any, of: str, ids: np.ndarray, coords: np.ndarray, track: ClipTrack
) -> TrackProjection:
    """Where a track's prefixes lie on a map of ``space``'s clips or class means (rows ``ids`` at
    ``coords``), by :func:`project_track`."""
    ids = np.asarray(ids, dtype=np.int64)
    if of == "clips":
        vectors = np.asarray(space.clip_embeddings[ids])
    else:
        row = {int(c): i for i, c in enumerate(space.class_ids)}
        vectors = np.asarray(space.class_means)[[row[int(c)] for c in ids]]
    keep = np.all(np.isfinite(vectors), axis=1)
    return project_track(vectors[keep], np.asarray(coords)[keep], track.embeddings)
