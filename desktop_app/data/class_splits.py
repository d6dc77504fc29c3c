"""The zero-shot class splits and their folds (``docs/protocol.md``): which classes are seen in
training and which are unseen, for every fold of every split.

This is the protocol's definition, below every layer that trains or evaluates: training (which
must train on the seen classes only), the motion CNN's leak check (which must know the unseen
classes of the folds a run reports on) and evaluation all read it from here.

Splits: by fraction of classes seen (``50/50``, ``80/20``, ``90/10`` of seed 001 and ``51/50``
of seed 000) and compositional (``unseen-noun`` / ``unseen-verb``). A fold's class split depends on
``(split, fold, purpose)`` only — never on the training seed. *Test* folds are the reported ones;
*development* folds are drawn from a disjoint seed namespace and are the only folds any setting is
chosen on.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

import numpy as np

from desktop_app.errors import ActionLensError

#: Zero-shot splits by fraction: name → fraction of the classes seen in training.
ZSL_SPLITS: dict[str, float] = {"50/50": 0.5, "80/20": 0.8, "90/10": 0.9, "51/50": 51 / 101}
#: Compositional splits: name → the class component whose held-out values make a class unseen.
COMPOSITIONAL_SPLITS: dict[str, str] = {"unseen-noun": "noun", "unseen-verb": "verb"}
#: Share of the nouns (verbs) a compositional split holds out (at least one).
HELD_OUT_SHARE = 0.25
#: Folds per split in the seeds (seed 000: 10 folds of 51/50; seed 001 does not say, we use 10).
PAPER_FOLDS = 10
#: At least this many unseen classes in a fold (one would make zero-shot trivially right).
MIN_UNSEEN = 2
#: Fold purposes: reported test folds and development (tuning) folds.
TEST, DEV = "test", "dev"
#: Seed namespaces of the fold draws. Test folds keep the draw of the former ``seed = 0`` folds,
#: so existing runs stay valid; development folds use a namespace no test fold can reach.
FOLD_NAMESPACES: dict[str, int] = {TEST: 0, DEV: 1_000_003}


def all_splits() -> list[str]:
    """Every zero-shot split name, fraction splits first."""
    return [*ZSL_SPLITS, *COMPOSITIONAL_SPLITS]


def check_zsl_split(name: str) -> str:
    """``name`` if it is a known split; the error lists them."""
    if name not in ZSL_SPLITS and name not in COMPOSITIONAL_SPLITS:
        raise ActionLensError(f"unknown zero-shot split {name!r}; choose one of {', '.join(all_splits())}")
    return name


def check_purpose(purpose: str) -> str:
    """``purpose`` if it is ``"test"`` or ``"dev"``."""
    if purpose not in FOLD_NAMESPACES:
        raise ActionLensError(f"unknown fold purpose {purpose!r}; use test (reported) or dev (tuning)")
    return purpose


def fold_rng(split: str, fold: int, purpose: str = TEST) -> np.random.Generator:
    """The random generator of one fold's class draw: a function of ``(split, fold, purpose)``."""
    namespace = FOLD_NAMESPACES[check_purpose(purpose)]
    return np.random.default_rng([namespace, zlib.crc32(split.encode()), int(fold)])


def zsl_class_split(
    class_ids: Iterable[int],
    split: str,
    fold: int,
    purpose: str = TEST,
    components: Mapping[int, tuple[str | None, str | None]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The seen and unseen class ids of one fold, deterministic in ``(split, fold, purpose)``.

    Fraction splits: ``round(n · fraction)`` classes are seen (51 of 101 for ``51/50``), but at
    least :data:`MIN_UNSEEN` are unseen and at least two seen; each fold is an independent random
    draw (as seed 000's "10-fold cross-validation" of random 51/50 splits).

    Compositional splits (``unseen-noun`` / ``unseen-verb``) need ``components``
    (``class id → (verb, noun)``): a random :data:`HELD_OUT_SHARE` of the distinct nouns (verbs),
    at least one — more while fewer than :data:`MIN_UNSEEN` classes are unseen — is held out, and
    every class with a held-out one is unseen.
    """
    ids = np.array(sorted({int(c) for c in class_ids}), dtype=np.int64)
    check_zsl_split(split)
    if len(ids) < 2 + MIN_UNSEEN:
        raise ActionLensError(
            f"zero-shot evaluation needs at least {2 + MIN_UNSEEN} classes; the dataset has {len(ids)}"
        )
    rng = fold_rng(split, fold, purpose)
    if split in COMPOSITIONAL_SPLITS:
        return _compositional_split(ids, split, rng, components)
    n_seen = int(np.floor(len(ids) * ZSL_SPLITS[split] + 0.5))
    n_seen = min(max(n_seen, 2), len(ids) - MIN_UNSEEN)
    order = rng.permutation(ids)
    return np.sort(order[:n_seen]), np.sort(order[n_seen:])


def _compositional_split(
    ids: np.ndarray,
    split: str,
    rng: np.random.Generator,
    components: Mapping[int, tuple[str | None, str | None]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    part = COMPOSITIONAL_SPLITS[split]
    index = 0 if part == "verb" else 1
    values = {int(c): (components or {}).get(int(c), (None, None))[index] for c in ids}
    missing = [c for c, v in values.items() if not v]
    if missing:
        raise ActionLensError(
            f"the {split} split needs a {part} for every class; {len(missing)} of {len(ids)} classes "
            f"have none (e.g. class id {missing[0]}); use a fraction split such as 50/50"
        )
    distinct = sorted({str(v) for v in values.values()})
    if len(distinct) < 2:
        raise ActionLensError(f"the {split} split needs at least two distinct {part}s; the classes have one")
    order = [distinct[i] for i in rng.permutation(len(distinct))]
    held = max(1, int(round(HELD_OUT_SHARE * len(distinct))))
    while True:
        held_out = set(order[:held])
        unseen = np.array([c for c in ids if values[int(c)] in held_out], dtype=np.int64)
        if len(unseen) >= MIN_UNSEEN or held >= len(distinct) - 1:
            break
        held += 1
    seen = np.setdiff1d(ids, unseen)
    if len(seen) < 2 or len(unseen) < MIN_UNSEEN:
        raise ActionLensError(
            f"the {split} split cannot leave {MIN_UNSEEN} unseen and 2 seen classes with these {part}s"
        )
    return np.sort(seen), np.sort(unseen)
