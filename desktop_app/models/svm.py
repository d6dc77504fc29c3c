"""Linear heads fitted to pooled clip representations, stored as buffers.

Seed 002 (002_372387b9c3b29ec7, §5.3) encodes a clip as one fixed-size vector (a Fisher vector,
a mean of features), reduces it by PCA, applies power and L2 normalisation and classifies it with
a linear SVM (C = 1). Seed 003 fuses stream embeddings with a linear SVM the same way. This
module holds that pipeline, generic in what the vector is:

* :func:`fit_pca` — centring and the leading principal directions of the fit rows;
* :func:`power_l2` — ``z ↦ sign(z)|z|^α`` then ``z / ‖z‖`` (Perronnin et al.'s improved
  Fisher vector; seed 002 §3: α = ½);
* :func:`fit_linear_svm` — one-vs-rest linear SVM from scikit-learn (``LinearSVC``), as weights
  ``W`` ``(F, C)`` and biases ``b`` ``(C,)`` so that ``logits = x W + b``;
* :func:`fit_ridge` — a linear map into the word space (ridge regression onto the clips' unit
  label vectors), its penalty chosen on validation clips by nearest-label accuracy, as
  ``PooledRidge.fit`` in :mod:`desktop_app.models.baselines`;
* :class:`LinearHeads` — an ``nn.Module`` that holds all of it as buffers (their fitted sizes
  depend on the data; ``Run.load`` gives buffers their stored shapes), so a saved run maps a new
  clip's vector to its ``(embedding, logits)`` with nothing else.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from desktop_app.errors import ActionLensError

#: Bias given to classes that had no training clip: their logit never wins.
ABSENT_CLASS_BIAS = -1e4


def power_l2(x: Tensor, alpha: float = 0.5) -> Tensor:
    """Power then L2 normalisation of rows: ``z = sign(x)|x|^α``, ``z / ‖z‖`` (seed 002 §3, §5.3).

    ``alpha = 1`` leaves the power step out; an all-zero row stays zero.
    """
    z = torch.sign(x) * torch.abs(x).pow(alpha) if alpha != 1.0 else x
    return z / z.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def fit_pca(rows: np.ndarray, max_dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(F,)`` and leading principal directions ``(k, F)`` of ``rows`` ``(n, F)``.

    ``k = min(max_dims, F, n − 1)`` (centred rows span at most ``n − 1`` directions). Computed
    through the ``n × n`` Gram matrix when ``F > n`` (a Fisher vector has far more dimensions
    than a dataset has clips), in float64; the sign of each direction is fixed so that its
    largest-magnitude loading is positive, so the result does not depend on the solver.
    """
    rows = np.asarray(rows, dtype=np.float64)
    n, dim = rows.shape
    if n < 2:
        raise ActionLensError(f"PCA needs at least 2 clips to fit on; it has {n}")
    mean = rows.mean(axis=0)
    centred = rows - mean
    k = max(1, min(int(max_dims), dim, n - 1))
    if dim > n:
        eigenvalues, eigenvectors = np.linalg.eigh(centred @ centred.T)
        order = np.argsort(eigenvalues)[::-1][:k]
        scale = np.sqrt(np.maximum(eigenvalues[order], 1e-12))
        components = (centred.T @ eigenvectors[:, order] / scale).T
    else:
        eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(eigenvalues)[::-1][:k]
        components = eigenvectors[:, order].T
    signs = np.sign(components[np.arange(k), np.argmax(np.abs(components), axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]
    return mean.astype(np.float32), components.astype(np.float32)


def fit_linear_svm(
    rows: np.ndarray,
    targets: np.ndarray,
    num_classes: int,
    c: float = 1.0,
    seed: int = 0,
    loss: str = "squared_hinge",
    max_iter: int = 5000,
) -> tuple[np.ndarray, np.ndarray]:
    """A one-vs-rest linear SVM (scikit-learn ``LinearSVC``, penalty ``c``; ``loss="hinge"`` is
    the plain hinge of seed 003's fusion, solved in the dual).

    Returns
    -------
    weight, bias
        ``(F, num_classes)`` and ``(num_classes,)`` float32, ``logits = rows @ weight + bias``;
        a class without training rows gets bias :data:`ABSENT_CLASS_BIAS`.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    rows = np.asarray(rows, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    weight = np.zeros((rows.shape[1], num_classes), np.float32)
    bias = np.full(num_classes, ABSENT_CLASS_BIAS, np.float32)
    present = np.unique(targets)
    if len(present) == 0:
        raise ActionLensError("the linear SVM has no training clips; check the training split")
    if len(present) == 1:
        bias[present[0]] = 0.0
        return weight, bias
    svm = LinearSVC(
        C=c, loss=loss, dual=True if loss == "hinge" else "auto", max_iter=max_iter, random_state=seed
    )
    with warnings.catch_warnings():
        # A few iterations short of LinearSVC's tolerance changes no decision that matters here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(rows, targets)
    coef, intercept = np.asarray(svm.coef_), np.asarray(svm.intercept_)
    if len(present) == 2:  # sklearn keeps one hyperplane for two classes: +w for the second
        coef, intercept = np.stack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
    weight[:, svm.classes_] = coef.T
    bias[svm.classes_] = intercept
    return weight, bias


def nearest_label(embeddings: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """Row of ``label_vectors`` nearest (cosine) to each embedding."""
    emb = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    labels = label_vectors / np.maximum(np.linalg.norm(label_vectors, axis=1, keepdims=True), 1e-12)
    return np.asarray(np.argmax(emb @ labels.T, axis=1))


def fit_ridge(
    rows: np.ndarray,
    targets: np.ndarray,
    label_vectors: np.ndarray,
    alphas: Sequence[float],
    val_rows: np.ndarray | None = None,
    val_targets: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Ridge regression from ``rows`` onto the clips' unit label vectors, penalty chosen on validation.

    ``W = (XᵀX + α n I)⁻¹ XᵀY`` on centred ``X`` and ``Y``, solved for every ``α`` by one
    eigendecomposition (also ``PooledRidge.fit``'s); the ``α`` whose map puts most validation clips
    nearest (cosine) to their own class's label vector is kept (ties: the first; without
    validation clips, the first ``α``).

    Returns
    -------
    weight, bias, alpha, val_accuracy
        ``(F, word_dim)``, ``(word_dim,)`` float32 (``embedding = rows @ weight + bias``), the
        chosen penalty and its validation accuracy (0 without validation clips).
    """
    if not alphas:
        raise ActionLensError("the ridge map needs at least one penalty to try")
    x = np.asarray(rows, dtype=np.float64)
    unit = label_vectors / np.maximum(np.linalg.norm(label_vectors, axis=1, keepdims=True), 1e-12)
    y = unit[np.asarray(targets, dtype=np.int64)].astype(np.float64)
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - x_mean, y - y_mean
    eigval, eigvec = np.linalg.eigh(xc.T @ xc)
    projected = eigvec.T @ (xc.T @ yc)
    has_val = val_rows is not None and val_targets is not None and len(val_rows) > 0
    best: tuple[float, float, np.ndarray] | None = None
    for alpha in alphas:
        weight = eigvec @ (projected / (np.maximum(eigval, 0.0) + alpha * len(x))[:, None])
        accuracy = 0.0
        if has_val:
            assert val_rows is not None and val_targets is not None
            predicted = (np.asarray(val_rows, np.float64) - x_mean) @ weight + y_mean
            accuracy = float(np.mean(nearest_label(predicted, unit) == val_targets))
        if best is None or accuracy > best[1]:
            best = (float(alpha), accuracy, weight)
    assert best is not None
    alpha, accuracy, weight = best
    bias = y_mean - x_mean @ weight
    return weight.astype(np.float32), bias.astype(np.float32), alpha, accuracy


class LinearHeads(nn.Module):
    """PCA → power + L2 normalisation → linear SVM logits and a ridge map into the word space.

    Every fitted array is a buffer, sized by :meth:`fit` (``Run.load`` gives each the shape it
    was saved with). ``forward(x)`` maps ``(B, F)`` vectors to ``(embedding (B, word_dim),
    logits (B, num_classes))``.

    Parameters
    ----------
    word_dim, num_classes
        Width of the embedding and of the logits.
    pca_dims
        At most this many principal directions (0: no PCA).
    power
        The power-normalisation exponent α (seed 002: ½; 1: none).
    svm_c
        The SVM's penalty (seed 002 §5.3: C = 1).
    ridge_alphas
        Penalties the word-space map chooses from on validation clips.
    """

    def __init__(
        self,
        word_dim: int,
        num_classes: int,
        *,
        pca_dims: int = 0,
        power: float = 0.5,
        svm_c: float = 1.0,
        ridge_alphas: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
    ) -> None:
        super().__init__()
        self.word_dim, self.num_classes = int(word_dim), int(num_classes)
        self.pca_dims, self.power, self.svm_c = int(pca_dims), float(power), float(svm_c)
        self.ridge_alphas = tuple(float(a) for a in ridge_alphas)
        # Empty until fitted; a PCA with no components is the identity.
        self.register_buffer("pca_mean", torch.zeros(0))
        self.register_buffer("pca_components", torch.zeros(0, 0))
        self.register_buffer("svm_weight", torch.zeros(0, num_classes))
        self.register_buffer("svm_bias", torch.zeros(num_classes))
        self.register_buffer("map_weight", torch.zeros(0, word_dim))
        self.register_buffer("map_bias", torch.zeros(word_dim))
        self.register_buffer("ridge_alpha", torch.zeros(()))

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` has run (or fitted buffers were loaded)."""
        return bool(self.get_buffer("svm_weight").shape[0] > 0)

    def normalise(self, x: Tensor) -> Tensor:
        """``(B, F)`` raw vectors → PCA (where fitted) → power → L2."""
        components = self.get_buffer("pca_components")
        if components.numel() > 0:
            x = (x - self.get_buffer("pca_mean").to(x.dtype)) @ components.to(x.dtype).T
        return power_l2(x, self.power)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if not self.fitted:
            raise ActionLensError("the linear heads are not fitted; train the run (actionlens train)")
        z = self.normalise(x)
        dtype = z.dtype
        embedding = z @ self.get_buffer("map_weight").to(dtype) + self.get_buffer("map_bias").to(dtype)
        logits = z @ self.get_buffer("svm_weight").to(dtype) + self.get_buffer("svm_bias").to(dtype)
        return embedding, logits

    def _normalised(self, rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.normalise(torch.as_tensor(np.asarray(rows, np.float32))).numpy()

    def _set(self, name: str, value: np.ndarray) -> None:
        device = self.get_buffer(name).device
        self._buffers[name] = torch.as_tensor(np.asarray(value, np.float32), device=device).clone()

    def _fit_pca(self, rows: np.ndarray) -> None:
        if self.pca_dims > 0:
            mean, components = fit_pca(rows, self.pca_dims)
        else:
            mean, components = np.zeros(0, np.float32), np.zeros((0, 0), np.float32)
        self._set("pca_mean", mean)
        self._set("pca_components", components)

    def validation_accuracy(
        self,
        rows: np.ndarray,
        targets: np.ndarray,
        val_rows: np.ndarray,
        val_targets: np.ndarray,
        seed: int = 0,
    ) -> float:
        """Accuracy on ``val_rows`` of the SVM fitted (with its PCA) on ``rows`` only.

        What seed 002 §5.3 chooses its stopping epoch (and §7 the GMM's number of modes) by.
        Leaves the module fitted on ``rows``.
        """
        self._fit_pca(rows)
        weight, bias = fit_linear_svm(self._normalised(rows), targets, self.num_classes, self.svm_c, seed)
        self._set("svm_weight", weight)
        self._set("svm_bias", bias)
        if len(val_rows) == 0:
            return 0.0
        logits = self._normalised(val_rows) @ weight + bias
        return float(np.mean(np.argmax(logits, axis=1) == np.asarray(val_targets)))

    def fit(
        self,
        rows: np.ndarray,
        targets: np.ndarray,
        label_vectors: np.ndarray,
        val_rows: np.ndarray,
        val_targets: np.ndarray,
        *,
        refit_on_val: bool = True,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Fit PCA, SVM and the ridge map; returns ``{"val_accuracy", "alpha", "map_val_accuracy"}``.

        The SVM's validation accuracy and the ridge penalty are measured with everything fitted
        on ``rows`` alone. With ``refit_on_val`` (seed 002 §5.3: "we train an SVM classifier on
        all training samples (training + validation samples)") the PCA, the SVM and the ridge map
        (at the chosen penalty) are then fitted again on training and validation rows together.
        """
        val_rows = np.asarray(val_rows, np.float32).reshape(-1, np.asarray(rows).shape[1])
        val_accuracy = self.validation_accuracy(rows, targets, val_rows, val_targets, seed)
        z = self._normalised(rows)
        z_val = self._normalised(val_rows)
        weight, bias, alpha, map_accuracy = fit_ridge(
            z, targets, label_vectors, self.ridge_alphas, z_val, val_targets
        )
        if refit_on_val and len(val_rows):
            all_rows = np.concatenate([rows, val_rows])
            all_targets = np.concatenate([targets, val_targets])
            self._fit_pca(all_rows)
            z = self._normalised(all_rows)
            svm_weight, svm_bias = fit_linear_svm(z, all_targets, self.num_classes, self.svm_c, seed)
            self._set("svm_weight", svm_weight)
            self._set("svm_bias", svm_bias)
            weight, bias, _, _ = fit_ridge(z, all_targets, label_vectors, (alpha,))
        self._set("map_weight", weight)
        self._set("map_bias", bias)
        self._set("ridge_alpha", np.asarray(alpha))
        return {"val_accuracy": val_accuracy, "alpha": alpha, "map_val_accuracy": map_accuracy}
