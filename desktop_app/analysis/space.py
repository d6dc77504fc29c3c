"""The embedding space of one run: clip embeddings, class means, labels, and the word vectors.

Everything the analysis tools need, loaded once: clip embeddings are memory-mapped
(``embeddings/<run>/clips.npy``, row = clip id, NaN rows for clips without an embedding), so a
workspace of 300 000 clips opens without reading them all.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.workspace import ClassRow, ClipRow, Workspace

if TYPE_CHECKING:
    from desktop_app.words.vectors import WordVectors


def run_word_vectors(meta: dict[str, Any]) -> WordVectors:
    """The word vectors a run was trained against, by the source recorded in its ``meta.json``."""
    from desktop_app.words.vectors import WordVectors

    recorded = (meta.get("word_vectors") or {}).get("source") or {}
    return WordVectors.load(recorded.get("path") or recorded.get("name"))


def runs_with_embeddings(ws: Workspace) -> list[str]:
    """Ids of the runs that have embeddings in ``ws``, oldest first."""
    return [r["id"] for r in ws.catalog.runs() if (ws.embeddings_dir / r["id"] / "clips.npy").is_file()]


def default_run(ws: Workspace) -> str:
    """The run every view shows by default: the manifest's ``active_run`` if it has embeddings,
    else the most recent run that has them."""
    runs = runs_with_embeddings(ws)
    active = ws.manifest.get("active_run")
    if active in runs:
        return str(active)
    if active is not None:
        _note_active_run_unused(ws, active, runs)
    if not runs:
        raise ActionLensError(
            f"{ws.root} has no embeddings yet; run `actionlens embed --workspace {ws.root} --run RUN`"
        )
    return runs[-1]


_NOTED_ACTIVE_RUNS: set[tuple[str, str]] = set()


def _note_active_run_unused(ws: Workspace, active: Any, runs: list[str]) -> None:
    """Say once per workspace and value that the manifest's ``active_run`` is not used, and why."""
    key = (str(ws.root), repr(active))
    if key in _NOTED_ACTIVE_RUNS:
        return
    _NOTED_ACTIVE_RUNS.add(key)
    shown = repr(active)[:80]
    why = "is not a run id" if not isinstance(active, str) or not _is_run_id(active) else "has no embeddings"
    fallback = f"using {runs[-1]}" if runs else "no run has embeddings"
    print(
        f"note: active_run {shown} in {ws.root / 'workspace.json'} {why}; {fallback}",
        file=sys.stderr,
    )


def _is_run_id(text: str) -> bool:
    """A run id is one plain directory name under ``runs/`` (no separators, no ``..``)."""
    return bool(text) and text not in (".", "..") and "/" not in text and "\\" not in text


def check_embeddings(
    ws: Workspace,
    run_id: str,
    directory: Any,
    clip_embeddings: np.ndarray,
    class_means: np.ndarray,
    class_ids: Any,
    meta: dict[str, Any],
) -> None:
    """Check a run's embedding files against the catalog and the run's metadata.

    ``clips.npy`` must hold one float row per catalogued clip (row = clip id) with at least one
    embedded clip, ``class_means.npy`` one row of the same width per id of ``class_means.json``,
    every such id a catalogued class, and the width the run's ``word_dim``. Anything else means
    the embeddings are stale (the catalog changed after ``actionlens embed``) or damaged.

    Raises
    ------
    ActionLensError
        One line naming the file, what does not match and the command that rebuilds it.
    """
    rebuild = f"run `actionlens embed --workspace {ws.root} --run {run_id}` to rebuild them"
    clips_file = f"{directory}/clips.npy"
    if clip_embeddings.ndim != 2 or clip_embeddings.dtype.kind != "f" or clip_embeddings.shape[1] < 1:
        raise ActionLensError(
            f"{clips_file} holds {clip_embeddings.dtype} {clip_embeddings.shape}; {rebuild}"
        )
    # ids are dense, so the largest + 1 is the count: an index seek, where COUNT(*) reads a
    # million rows (a second on the thread that opens the space)
    num_clips = ws.catalog.num_ids()
    if clip_embeddings.shape[0] != num_clips:
        raise ActionLensError(
            f"{clips_file} is stale: {clip_embeddings.shape[0]} rows for the {num_clips} clips of the "
            f"catalog; {rebuild}"
        )
    dim = clip_embeddings.shape[1]
    word_dim = ((meta.get("model") or {}).get("shape") or {}).get("word_dim")
    if word_dim is not None and dim != word_dim:
        raise ActionLensError(
            f"{clips_file} holds {dim}-d embeddings but run {run_id} embeds in {word_dim}-d; {rebuild}"
        )
    if not isinstance(class_ids, list) or not all(isinstance(c, int) for c in class_ids):
        raise ActionLensError(f"{directory}/class_means.json has no list of class ids; {rebuild}")
    if class_means.ndim != 2 or class_means.shape != (len(class_ids), dim) or class_means.dtype.kind != "f":
        raise ActionLensError(
            f"{directory}/class_means.npy holds {class_means.dtype} {class_means.shape}, not "
            f"{len(class_ids)} class means of {dim} numbers; {rebuild}"
        )
    known = {c.id for c in ws.catalog.classes()}
    unknown = sorted(set(class_ids) - known)
    if unknown:
        raise ActionLensError(
            f"{directory}/class_means.json is stale: class ids {unknown[:5]} are not in the catalog; {rebuild}"
        )
    # The first rows usually settle it; only a mostly-NaN file is read through (a million rows).
    if num_clips and not (
        np.isfinite(np.asarray(clip_embeddings[:4096, 0])).any()
        or np.isfinite(np.asarray(clip_embeddings[:, 0])).any()
    ):
        raise ActionLensError(f"{clips_file} holds no embedding (every row is NaN); {rebuild}")


@dataclass
class EmbeddingSpace:
    """One run's embeddings with the catalog rows that label them.

    Attributes
    ----------
    clip_embeddings
        ``(num_clips, D)`` float32, memory-mapped; row = clip id; NaN rows have no embedding.
    class_means
        ``(num_classes_embedded, D)``: row ``i`` is the mean of class ``class_ids[i]``'s raw clip
        embeddings, as ``actionlens embed`` writes it (seed 001 averages a class's clip embeddings
        to get the class's vector). Arithmetic and ranking use :attr:`unit_class_means` instead.
    """

    ws: Workspace
    run_id: str
    clip_embeddings: np.ndarray
    class_ids: np.ndarray
    class_means: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls, ws: Workspace, run_id: str | None = None, *, clip_class_ids: np.ndarray | None = None
    ) -> EmbeddingSpace:
        """Open the embeddings of ``run_id`` (default: :func:`default_run`).

        ``clip_class_ids``: the catalog's class column (by clip id, -1 for none) where the caller
        holds it already (the app reads it once per workspace), so it is not read again.
        """
        run_id = run_id or default_run(ws)
        if not _is_run_id(run_id):
            raise ActionLensError(f"{run_id[:80]!r} is not a run id; `actionlens info` lists the runs")
        directory = ws.embeddings_dir / run_id
        clips_file = directory / "clips.npy"
        if not clips_file.is_file():
            raise ActionLensError(
                f"{clips_file} is missing; run `actionlens embed --workspace {ws.root} --run {run_id}`"
            )
        try:
            clip_embeddings = np.load(clips_file, mmap_mode="r", allow_pickle=False)
            class_means = np.load(directory / "class_means.npy", allow_pickle=False)
            index = json.loads((directory / "class_means.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ActionLensError(
                f"the embeddings in {directory} are damaged ({exc}); run `actionlens embed` again"
            ) from exc
        from desktop_app.training.runs import read_meta

        meta = read_meta(ws.runs_dir / run_id) if (ws.runs_dir / run_id / "meta.json").is_file() else {}
        class_ids = index.get("class_ids") if isinstance(index, dict) else None
        check_embeddings(ws, run_id, directory, clip_embeddings, class_means, class_ids, meta)
        space = cls(ws, run_id, clip_embeddings, np.asarray(class_ids, dtype=np.int64), class_means, meta)
        if clip_class_ids is not None and len(clip_class_ids) == clip_embeddings.shape[0]:
            space.__dict__["clip_class_ids"] = np.asarray(clip_class_ids, dtype=np.int64)
        return space

    @property
    def dim(self) -> int:
        """The embedding dimension (the word vectors' dimension)."""
        return int(self.clip_embeddings.shape[1])

    @cached_property
    def clips(self) -> list[ClipRow]:
        """Catalog rows of all clips, index = clip id.

        Deprecated: one Python object per clip (seconds and a gigabyte at a million clips). Name
        hits with :meth:`clip_labels` and read classes from :attr:`clip_class_ids`.
        """
        return self.ws.catalog.clips()

    def clip_labels(self, clip_ids: Any) -> list[tuple[str, str | None]]:
        """``(name, class name or None)`` of ``clip_ids`` in their order, by id lookups in the
        catalog (the k hits of a query, never the whole catalog)."""
        rows = self.__dict__.get("clips")  # rows a caller already holds (a constructed space)
        if rows is not None:
            return [(rows[int(i)].name, rows[int(i)].class_name) for i in clip_ids]
        return self.ws.catalog.clip_labels(int(i) for i in clip_ids)

    @cached_property
    def classes(self) -> dict[int, ClassRow]:
        """Catalog rows of all classes by id."""
        return {c.id: c for c in self.ws.catalog.classes()}

    @cached_property
    def embedded_clip_ids(self) -> np.ndarray:
        """Ids of the clips that have an embedding."""
        return np.flatnonzero(~np.isnan(np.asarray(self.clip_embeddings[:, 0])))

    @cached_property
    def clip_class_ids(self) -> np.ndarray:
        """Class id per clip id (-1 for unlabelled clips), one column read from the catalog."""
        rows = self.__dict__.get("clips")  # rows a caller already holds (a constructed space)
        if rows is not None:
            return np.array([c.class_id if c.class_id is not None else -1 for c in rows], dtype=np.int64)
        return self.ws.catalog.clip_class_column()

    @cached_property
    def unit_class_means(self) -> np.ndarray:
        """``(num_classes_embedded, D)`` float32 class vectors on the unit scale, rows as
        :attr:`class_means`: the mean of the class's *unit-length* clip embeddings, re-normalised.

        See :func:`desktop_app.analysis.analogy.unit_class_means` for why.
        """
        from desktop_app.analysis.analogy import unit_class_means

        ids = self.embedded_clip_ids
        return unit_class_means(self.clip_embeddings, ids, self.clip_class_ids[ids], self.class_ids)

    def class_row(self, class_id: int) -> int:
        """The row of ``class_means`` for a class id (``KeyError`` when it has no clip embedded)."""
        rows = np.flatnonzero(self.class_ids == class_id)
        if not len(rows):
            raise KeyError(class_id)
        return int(rows[0])

    def find_class(self, name: str) -> ClassRow:
        """A class by its dataset name or its phrase, case and spacing ignored."""
        key = "".join(name.lower().split()).replace("_", "")
        for c in self.classes.values():
            if key in ("".join(c.name.lower().split()).replace("_", ""), c.phrase.replace(" ", "")):
                return c
        raise ActionLensError(f"no class {name!r} in {self.ws.root}; `actionlens info` lists the classes")

    @property
    def in_word_space(self) -> bool:
        """Whether the run embeds clips into the word-vector space (seeds 000–003), rather than a
        space of its own (seed 004's video–paragraph space, where words reach videos only
        through its sentence encoder)."""
        from desktop_app.models.registry import VIDEO_PARAGRAPH

        return self.meta.get("task") != VIDEO_PARAGRAPH

    def require_word_space(self, what: str) -> None:
        """Refuse ``what`` (word arithmetic, word axes, the analogy test …) on a run whose
        embeddings are not in the word space, in one line that says what works instead."""
        if not self.in_word_space:
            model = (self.meta.get("model") or {}).get("name", "?")
            raise ActionLensError(
                f"run {self.run_id} ({model}) embeds videos in its own {self.dim}-d video–paragraph "
                f"space, not the word space, so {what} cannot use it; choose a run that embeds into "
                "the word space (actionlens info lists them), or query this one with text "
                f'(actionlens query --text "…" --run {self.run_id})'
            )

    @cached_property
    def word_vectors(self) -> WordVectors:
        """The word vectors this run was trained against (by the source recorded in its metadata)."""
        return run_word_vectors(self.meta)
