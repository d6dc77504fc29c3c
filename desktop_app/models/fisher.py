"""RNN Fisher vectors of seed 002 (002_372387b9c3b29ec7) and the pooling baselines of its Table 1.

* ``rnnfv`` (§4.1, §5.2, §5.3): a regression RNN — FC (200, leaky ReLU α = 0.1) → LSTM (200) →
  linear FC back to the feature dimension ``D`` — is trained to predict the next feature vector
  of a clip with the mean squared error, under dropout. A clip ``X = (x_0 … x_N)`` is then
  represented by the gradient of the loss of eq. 5,

      L(X) = ND/2 · log 2π + ½ Σ_{i<N} ‖x_{i+1} − v_i‖²,   v_i = W h_i + b,

  with respect to the last FC layer's weights only (``[W b]``, ``D × (H + 1)``), averaged over
  the ``N`` prediction steps: ``(1/N) Σ_i (v_i − x_{i+1}) [h_i; 1]ᵀ``. It is computed for a whole
  batch of clips at once with ``torch.func.vmap(torch.func.grad(·))`` over the clips (the RNN's
  hidden states come from one ordinary batched forward pass). Then PCA (≤ 1000, fitted on
  training clips), power normalisation (α = ½) and L2, and a linear SVM (C = 1) gives the
  recognition logits. The stopping epoch is the one whose SVM is most accurate on the run's
  validation clips (measured after every epoch, §5.3).
* ``gmmfv``: the GMM Fisher vector of the frame features (scikit-image's ``learn_gmm`` and
  ``fisher_vector``: gradients with respect to the mixture weights, means and variances), the
  number of modes chosen on validation SVM accuracy from ``{1, 2, 4, 8, 16, 32}`` (§7).
* ``meanpool-svm``: the mean of the features over time (the "MP" column).

All three share the rest (:class:`desktop_app.models.svm.LinearHeads`): power + L2
normalisation, the linear SVM, and a ridge map from the normalised vector to the clips' label
vectors, which places clips in the word space (for retrieval, maps and zero-shot recognition:
the seed maps its Fisher vectors to sentences by CCA, §6; we fit ridge like ``pooled-ridge``,
see ``docs/fisher.md``). Once the validation clips have chosen the epoch / number of modes /
ridge penalty, the PCA, SVM and map are fitted again on training and validation clips together
(§5.3: "we train an SVM classifier on all training samples (training + validation samples)").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from desktop_app.errors import ActionLensError
from desktop_app.models.base import JointEmbeddingModel, concat_streams, lengths_mask, masked_mean
from desktop_app.models.registry import JOINT_EMBEDDING, ModelShape, ModelSpec, register_model
from desktop_app.models.svm import LinearHeads

CHECKPOINT_FORMAT = 1
#: Seed 002 §7: the numbers of GMM modes its validation chose from.
SEED_GMM_MODES = (1, 2, 4, 8, 16, 32)
_RIDGE_ALPHAS = (0.001, 0.01, 0.1, 1.0, 10.0)


# ---------------------------------------------------------------------------- the regression RNN
class RegressionRNN(nn.Module):
    """Seed 002 §5.2: FC + leaky ReLU (0.1) → LSTM → linear FC to the input dimension.

    ``hidden(x)`` is the LSTM output ``h`` ``(B, T, H)`` (dropout after the FC layer and after
    the LSTM, active in training mode only); ``forward(x)`` the predictions ``v = W h + b`` of the
    next feature vector at every step. The network is causal, so padding after a clip's last
    step changes none of its valid outputs.
    """

    def __init__(self, input_dim: int, fc_size: int, lstm_size: int, dropout: float) -> None:
        super().__init__()
        self.fc_in = nn.Linear(input_dim, fc_size)
        self.activation = nn.LeakyReLU(0.1)
        self.lstm = nn.LSTM(fc_size, lstm_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.fc_out = nn.Linear(lstm_size, input_dim)

    def hidden(self, x: Tensor) -> Tensor:
        """LSTM outputs ``(B, T, H)`` of input sequences ``(B, T, D)``."""
        h, _ = self.lstm(self.dropout(self.activation(self.fc_in(x))))
        return self.dropout(h)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc_out(self.hidden(x))


def next_step_loss(predictions: Tensor, x: Tensor, lengths: Tensor) -> Tensor:
    """Per-clip mean squared error of predicting ``x_{i+1}`` from ``x_0 … x_i`` ``(B,)``.

    ``predictions`` ``(B, T, D)`` are the RNN's outputs ``v_i``; the mean runs over the clip's
    ``length − 1`` prediction steps and the ``D`` dimensions (a clip of one step has no term).
    """
    if x.shape[1] < 2:
        return predictions.sum(dim=(1, 2)) * 0.0
    mask = lengths_mask(lengths - 1, x.shape[1] - 1).to(x.dtype)
    squared = ((predictions[:, :-1] - x[:, 1:]) ** 2).mean(dim=-1)
    return (squared * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def _clip_loss(weight: Tensor, bias: Tensor, hidden: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Eq. 5 of seed 002 without its constant, for one clip, averaged over its prediction steps:
    ``(1/N) · ½ Σ_i m_i ‖x_{i+1} − (W h_i + b)‖²``."""
    residual = targets - (hidden @ weight.T + bias)
    return 0.5 * ((residual**2).sum(dim=-1) * mask).sum() / mask.sum().clamp(min=1)


def last_layer_fisher_vectors(rnn: RegressionRNN, x: Tensor, lengths: Tensor) -> Tensor:
    """The RNN Fisher vector of every clip of a batch (seed 002 eq. 5, §5.3): ``(B, D·(H+1))``.

    The gradient of each clip's eq.-5 loss with respect to the last FC layer's weights and bias,
    averaged over the clip's prediction steps, laid out as ``[W | b]`` row by row (``D`` rows of
    ``H + 1``). One batched forward pass gives the hidden states; ``torch.func.vmap`` of
    ``torch.func.grad`` then differentiates every clip's loss at once (no loop over clips). The
    RNN should be in eval mode (no dropout), as at inference.
    """
    from torch.func import grad, vmap

    with torch.no_grad():
        hidden = rnn.hidden(x)
    steps = x.shape[1]
    if steps < 2:  # no clip of the batch has a prediction step
        out = rnn.fc_out.out_features * (rnn.fc_out.in_features + 1)
        return x.new_zeros(x.shape[0], out)
    mask = lengths_mask(lengths - 1, steps - 1).to(x.dtype)
    weight, bias = rnn.fc_out.weight.detach(), rnn.fc_out.bias.detach()
    per_clip = vmap(grad(_clip_loss, argnums=(0, 1)), in_dims=(None, None, 0, 0, 0))
    grad_weight, grad_bias = per_clip(weight, bias, hidden[:, :-1], x[:, 1:], mask)
    return torch.cat([grad_weight, grad_bias[:, :, None]], dim=2).flatten(1)


# ---------------------------------------------------------------------------- shared fitting
def _features(model: Any, cache: Any, clip_ids: np.ndarray, device: Any, progress: Any) -> np.ndarray:
    """``model.clip_vectors`` of clips, in batches, as a float32 ``(N, F)`` array."""
    rows = []
    for batch in cache.batches(np.asarray(clip_ids), 64):
        progress.check_cancelled()
        batch = batch.to(device)
        rows.append(model.clip_vectors(batch.features, batch.lengths).float().cpu().numpy())
    if not rows:
        return np.zeros((0, model.vector_dim), np.float32)
    return np.concatenate(rows)


def _finish(
    model: Any,
    context: Any,
    history: list[dict[str, float]],
    best_epoch: int,
    best_val: float,
    epochs_run: int,
    seconds: float,
    clips_seen: int,
    stopped_early: bool = False,
    checkpoint: dict[str, Any] | None = None,
) -> Any:
    """Write the final checkpoint in the trainer's format and return the :class:`TrainResult`.

    The checkpoint's ``best_model`` is the fitted model (what a finished run is); ``checkpoint``
    overrides entries (``rnnfv`` keeps its last epoch's RNN and optimiser there, to train on).
    """
    from desktop_app.training.trainer import TrainResult, save_checkpoint

    model.to("cpu").eval()
    if context.checkpoint_path is not None and context.distributed.is_main:
        state = {
            "format": CHECKPOINT_FORMAT,
            "model": model.state_dict(),
            "optimizer": {},
            "lr_scheduler": {},
            "epoch": max(epochs_run - 1, 0),
            "args": context.args,
            "best_model": model.state_dict(),
            "early_stopping": {"best_val_accuracy": best_val, "best_epoch": best_epoch, "bad_epochs": 0},
            "history": history,
            "finished": True,
        }
        save_checkpoint(context.checkpoint_path, {**state, **(checkpoint or {})})
    return TrainResult(
        model=model,
        history=history,
        best_epoch=best_epoch,
        best_val_accuracy=max(best_val, 0.0),
        epochs_run=epochs_run,
        stopped_early=stopped_early,
        train_clips_per_second=clips_seen / seconds if seconds > 0 else math.nan,
    )


def _fit_heads(model: Any, context: Any, train_x: np.ndarray, val_x: np.ndarray) -> dict[str, Any]:
    data = context.data
    return dict(
        model.heads.fit(
            train_x,
            data.train_targets,
            np.asarray(data.label_vectors),
            val_x,
            data.val_targets,
            refit_on_val=model.config.refit_on_val,
            seed=context.config.seed,
        )
    )


def _heads(config: Any, shape: ModelShape, pca_dims: int) -> LinearHeads:
    return LinearHeads(
        shape.word_dim,
        shape.num_classes,
        pca_dims=pca_dims,
        power=config.power,
        svm_c=config.svm_c,
        ridge_alphas=config.ridge_alphas,
    )


# ---------------------------------------------------------------------------- rnnfv
@dataclass(frozen=True)
class RNNFVConfig:
    """Settings of :class:`RNNFisherVector` (defaults: the ``paper`` preset, seed 002 §5.2–5.3)."""

    streams: tuple[str, ...] = ("appearance", "motion")
    max_len: int = 300
    fc_size: int = 200
    lstm_size: int = 200
    #: Dropout after the FC layer and after the LSTM (the seed: "up to 0.95" helped).
    dropout: float = 0.5
    #: PCA of the Fisher vectors (seed 002 §5.3: 1000; fewer where there are fewer clips).
    fv_dims: int = 1000
    power: float = 0.5
    svm_c: float = 1.0
    ridge_alphas: tuple[float, ...] = _RIDGE_ALPHAS
    #: Fit PCA, SVM and map again on training + validation clips once the epoch is chosen.
    refit_on_val: bool = True


class RNNFisherVector(JointEmbeddingModel):
    """Seed 002's RNN-FV: the regression RNN, its last-layer gradient, PCA, power + L2, SVM, map."""

    #: The embedding is a gradient: ``Run.embed`` and ``trainer.predict`` keep autograd on.
    grad_at_inference = True

    def __init__(self, config: RNNFVConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams)
        self.input_dim = sum(shape.input_dims[s] for s in self.streams)
        self.rnn = RegressionRNN(self.input_dim, config.fc_size, config.lstm_size, config.dropout)
        self.vector_dim = self.input_dim * (config.lstm_size + 1)
        self.heads = _heads(config, shape, config.fv_dims)

    def clip_vectors(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> Tensor:
        """Raw (un-reduced) RNN Fisher vectors ``(B, D·(H+1))`` (eval-mode RNN)."""
        x, length = concat_streams(features, lengths, self.streams)
        return last_layer_fisher_vectors(self.rnn, x, length)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        was_training = self.rnn.training
        self.rnn.eval()  # the representation is taken without dropout
        try:
            vectors = self.clip_vectors(features, lengths)
        finally:
            self.rnn.train(was_training)
        return self.heads(vectors)

    def fit_run(self, context: Any) -> Any:
        """Train the RNN, choosing the stopping epoch by validation SVM accuracy (§5.3).

        After every epoch the Fisher vectors of the training clips fit PCA + SVM, which are
        scored on the validation clips; the best epoch's RNN is kept (ties: the earlier), its
        heads are fitted (:meth:`LinearHeads.fit`). Adam, the trainer's learning rate, weight
        decay, gradient clipping, batch size and patience. A checkpoint after every epoch lets
        ``--resume`` continue exactly.
        """
        from desktop_app.training.trainer import load_checkpoint, save_checkpoint

        cfg, data, cache, device = context.config, context.data, context.cache, context.device
        if len(data.train_clips) == 0:
            raise ActionLensError(
                "no training clips have features; extract features first (actionlens features)"
            )
        if context.distributed.world_size > 1:
            raise ActionLensError("rnnfv trains in one process; run it without torchrun")
        self.to(device)
        optimizer = torch.optim.Adam(self.rnn.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        history: list[dict[str, float]] = []
        best_state: dict[str, Tensor] | None = None
        best_val, best_epoch, bad_epochs, start_epoch = -1.0, -1, 0, 0
        clips_seen, seconds = 0, 0.0
        path = context.checkpoint_path
        if context.resume and path is not None and path.is_file():
            state = load_checkpoint(path, context.args)
            stopping = state.get("early_stopping", {})
            best_epoch = int(stopping.get("best_epoch", -1))
            best_val = float(stopping.get("best_val_accuracy", -1.0))
            bad_epochs = int(stopping.get("bad_epochs", 0))
            history = [{k: v for k, v in h.items() if k != "alpha"} for h in state.get("history", [])]
            self.rnn.load_state_dict(_rnn_part(state["model"]))
            optimizer.load_state_dict(state["optimizer"])
            start_epoch = int(state["epoch"]) + 1
            best_state = _rnn_part(state["best_model"]) if state.get("best_model") else None
        n_train = len(data.train_clips)
        stopped_early = False
        epoch = start_epoch - 1
        for epoch in range(start_epoch, cfg.epochs):
            if bad_epochs >= cfg.patience > 0:
                stopped_early = True
                epoch -= 1
                break
            torch.manual_seed(cfg.seed * 100_003 + epoch * 1009)
            started = time.perf_counter()
            self.rnn.train()
            order = np.random.default_rng([cfg.seed, epoch]).permutation(n_train)
            loss_sum = 0.0
            for start in range(0, n_train, cfg.batch_size):
                context.progress.check_cancelled()
                chunk = data.train_clips[order[start : start + cfg.batch_size]]
                batch = cache.collate(chunk).to(device)
                x, length = concat_streams(batch.features, batch.lengths, self.streams)
                per_clip = next_step_loss(self.rnn(x), x, length)
                loss = per_clip.mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_(self.rnn.parameters(), cfg.grad_clip)
                optimizer.step()
                loss_sum += float(per_clip.detach().sum())
                clips_seen += len(chunk)
                context.progress.set_progress(
                    (epoch + min(1.0, (start + len(chunk)) / n_train) * 0.7) / cfg.epochs,
                    f"epoch {epoch + 1}/{cfg.epochs} loss {loss_sum / max(start + len(chunk), 1):.4f}",
                )
            seconds += time.perf_counter() - started
            self.rnn.eval()
            train_x = _features(self, cache, data.train_clips, device, context.progress)
            val_x = _features(self, cache, data.val_clips, device, context.progress)
            val_accuracy = self.heads.validation_accuracy(
                train_x, data.train_targets, val_x, data.val_targets, cfg.seed
            )
            record = {"epoch": float(epoch), "loss": loss_sum / n_train, "val_accuracy": val_accuracy}
            history.append(record)
            if val_accuracy > best_val:
                best_val, best_epoch, bad_epochs = val_accuracy, epoch, 0
                best_state = {k: v.detach().cpu().clone() for k, v in self.rnn.state_dict().items()}
            else:
                bad_epochs += 1
            context.progress.set_progress(
                (epoch + 1) / cfg.epochs,
                f"epoch {epoch + 1}/{cfg.epochs} loss {record['loss']:.4f} val SVM acc {val_accuracy:.1%}",
            )
            if path is not None and context.distributed.is_main:
                save_checkpoint(
                    path,
                    {
                        "format": CHECKPOINT_FORMAT,
                        "model": _prefixed(self.rnn.state_dict()),
                        "optimizer": optimizer.state_dict(),
                        "lr_scheduler": {},
                        "epoch": epoch,
                        "args": context.args,
                        "best_model": None if best_state is None else _prefixed(best_state),
                        "early_stopping": {
                            "best_val_accuracy": best_val,
                            "best_epoch": best_epoch,
                            "bad_epochs": bad_epochs,
                        },
                        "history": history,
                    },
                )
        # A resumed run that had finished its epochs trains nothing above and lands here.
        last_state = _prefixed(self.rnn.state_dict())
        if best_state is not None:
            self.rnn.load_state_dict(best_state)
        self.rnn.eval()
        train_x = _features(self, cache, data.train_clips, device, context.progress)
        val_x = _features(self, cache, data.val_clips, device, context.progress)
        self.heads.to("cpu")
        fitted = _fit_heads(self, context, train_x, val_x)
        history = [dict(h, alpha=fitted["alpha"]) if h["epoch"] == best_epoch else h for h in history]
        return _finish(
            self,
            context,
            history,
            best_epoch,
            best_val,
            epoch + 1,
            seconds,
            clips_seen,
            stopped_early,
            # RNN weights only (the heads are refitted in seconds, and would double the file):
            # the last epoch's and its optimiser, so that a resume with more epochs trains on,
            # and the best epoch's
            {
                "model": last_state,
                "best_model": _prefixed(self.rnn.state_dict()),
                "optimizer": optimizer.state_dict(),
                "early_stopping": {
                    "best_val_accuracy": best_val,
                    "best_epoch": best_epoch,
                    "bad_epochs": bad_epochs,
                },
            },
        )


def _prefixed(rnn_state: dict[str, Tensor]) -> dict[str, Tensor]:
    """The RNN's weights under their names in the whole model (``rnn.…``)."""
    return {f"rnn.{k}": v.detach().cpu().clone() for k, v in rnn_state.items()}


def _rnn_part(model_state: dict[str, Tensor]) -> dict[str, Tensor]:
    """The RNN's own weights out of a (whole-model or RNN-only, prefixed) state dict."""
    return {k[4:]: v for k, v in model_state.items() if k.startswith("rnn.")}


# ---------------------------------------------------------------------------- gmmfv
@dataclass(frozen=True)
class GMMFVConfig:
    """Settings of :class:`GMMFisherVector` (defaults: the ``paper`` preset)."""

    streams: tuple[str, ...] = ("appearance", "motion")
    max_len: int = 300
    #: Numbers of modes tried; the best validation SVM accuracy wins (ties: the fewer modes).
    modes: tuple[int, ...] = SEED_GMM_MODES
    #: At most this many frame rows (drawn from the training clips) fit each GMM.
    gmm_rows: int = 100_000
    gmm_iterations: int = 100
    #: Added to every variance (sklearn's ``reg_covar``): the input PCA leaves directions of
    #: almost no variance, whose Fisher-vector terms would otherwise divide by nearly zero.
    reg_covar: float = 1e-4
    #: PCA of the Fisher vectors (0: none; the seed reduces none, its GMM-FV has 2kD dimensions).
    fv_dims: int = 0
    power: float = 0.5
    svm_c: float = 1.0
    ridge_alphas: tuple[float, ...] = _RIDGE_ALPHAS
    refit_on_val: bool = True


def gaussian_mixture(weights: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> Any:
    """A fitted diagonal ``sklearn.mixture.GaussianMixture`` rebuilt from its arrays (what
    ``skimage.feature.fisher_vector`` reads: ``weights_``, ``means_``, ``covariances_``,
    ``predict_proba``)."""
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(n_components=len(weights), covariance_type="diag")
    gmm.weights_ = np.asarray(weights, np.float64)
    gmm.means_ = np.asarray(means, np.float64)
    gmm.covariances_ = np.asarray(covariances, np.float64)
    gmm.precisions_cholesky_ = 1.0 / np.sqrt(gmm.covariances_)
    gmm.converged_, gmm.n_iter_, gmm.lower_bound_ = True, 0, 0.0
    return gmm


def gmm_fisher_vectors(x: np.ndarray, lengths: np.ndarray, gmm: Any) -> np.ndarray:
    """``skimage.feature.fisher_vector`` of every clip's valid rows ``(B, K(2D+1))`` (unnormalised;
    a clip without rows gets zeros). scikit-image encodes one descriptor set per call."""
    from skimage.feature import fisher_vector

    k, d = gmm.means_.shape
    out = np.zeros((len(x), k * (2 * d + 1)), np.float32)
    for i, n in enumerate(np.asarray(lengths)):
        if n > 0:
            out[i] = fisher_vector(np.asarray(x[i, :n], np.float64), gmm)
    return out


class GMMFisherVector(JointEmbeddingModel):
    """GMM Fisher vector of the frame features (scikit-image), power + L2, SVM, ridge map."""

    def __init__(self, config: GMMFVConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams)
        self.input_dim = sum(shape.input_dims[s] for s in self.streams)
        self.register_buffer("gmm_weights", torch.zeros(0))
        self.register_buffer("gmm_means", torch.zeros(0, self.input_dim))
        self.register_buffer("gmm_covariances", torch.zeros(0, self.input_dim))
        self.heads = _heads(config, shape, config.fv_dims)
        self._gmm: Any = None

    @property
    def vector_dim(self) -> int:
        return int(self.get_buffer("gmm_weights").shape[0]) * (2 * self.input_dim + 1)

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        self._gmm = None  # rebuilt from the loaded buffers
        super()._load_from_state_dict(*args, **kwargs)

    def mixture(self) -> Any:
        """The ``GaussianMixture`` the buffers hold."""
        if self._gmm is None:
            if self.get_buffer("gmm_weights").numel() == 0:
                raise ActionLensError("the GMM is not fitted; train the run (actionlens train)")
            self._gmm = gaussian_mixture(
                self.get_buffer("gmm_weights").cpu().numpy(),
                self.get_buffer("gmm_means").cpu().numpy(),
                self.get_buffer("gmm_covariances").cpu().numpy(),
            )
        return self._gmm

    def set_mixture(self, gmm: Any) -> None:
        """Store a fitted diagonal ``GaussianMixture`` in the buffers."""
        for name, value in (
            ("gmm_weights", gmm.weights_),
            ("gmm_means", gmm.means_),
            ("gmm_covariances", gmm.covariances_),
        ):
            self._buffers[name] = torch.as_tensor(np.asarray(value, np.float32)).clone()
        self._gmm = None

    def clip_vectors(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> Tensor:
        """Unnormalised GMM Fisher vectors ``(B, K(2D+1))``."""
        x, length = concat_streams(features, lengths, self.streams)
        vectors = gmm_fisher_vectors(x.detach().cpu().numpy(), length.cpu().numpy(), self.mixture())
        return torch.from_numpy(vectors).to(x.device)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        return self.heads(self.clip_vectors(features, lengths))

    def fit_run(self, context: Any) -> Any:
        """Fit a GMM per number of modes on training frames; keep the best on validation SVM accuracy."""
        from skimage.feature import learn_gmm

        cfg, data, cache = context.config, context.data, context.cache
        if len(data.train_clips) == 0:
            raise ActionLensError(
                "no training clips have features; extract features first (actionlens features)"
            )
        self.to("cpu")
        started = time.perf_counter()
        frames = []
        for batch in cache.batches(data.train_clips, 256):
            context.progress.check_cancelled()
            x, length = concat_streams(batch.features, batch.lengths, self.streams)
            frames.append(x[lengths_mask(length, x.shape[1])].numpy())
        rows = np.concatenate(frames).astype(np.float64)
        rng = np.random.default_rng([cfg.seed, 4099])
        if len(rows) > self.config.gmm_rows:
            rows = rows[np.sort(rng.choice(len(rows), self.config.gmm_rows, replace=False))]
        history: list[dict[str, float]] = []
        best: tuple[float, int, Any] | None = None
        for i, modes in enumerate(self.config.modes):
            context.progress.set_progress(i / len(self.config.modes), f"GMM with {modes} modes")
            if modes > len(rows):
                continue
            gmm = learn_gmm(
                rows,
                n_modes=int(modes),
                # skimage reads gm_args["covariance_type"] whenever gm_args is given
                gm_args={
                    "covariance_type": "diag",
                    "random_state": cfg.seed,
                    "max_iter": self.config.gmm_iterations,
                    "reg_covar": self.config.reg_covar,
                },
            )
            self.set_mixture(gmm)
            train_x = _features(self, cache, data.train_clips, "cpu", context.progress)
            val_x = _features(self, cache, data.val_clips, "cpu", context.progress)
            accuracy = self.heads.validation_accuracy(
                train_x, data.train_targets, val_x, data.val_targets, cfg.seed
            )
            history.append(
                {"epoch": float(i), "loss": float("nan"), "val_accuracy": accuracy, "modes": float(modes)}
            )
            if best is None or accuracy > best[0]:
                best = (accuracy, i, gmm)
        if best is None:
            raise ActionLensError(
                f"too few training frames ({len(rows)}) for a GMM of {min(self.config.modes)} modes"
            )
        accuracy, index, gmm = best
        self.set_mixture(gmm)
        train_x = _features(self, cache, data.train_clips, "cpu", context.progress)
        val_x = _features(self, cache, data.val_clips, "cpu", context.progress)
        fitted = _fit_heads(self, context, train_x, val_x)
        history[index]["alpha"] = fitted["alpha"]
        context.progress.set_progress(
            1.0, f"GMM {int(history[index]['modes'])} modes, val SVM acc {accuracy:.1%}"
        )
        seconds = time.perf_counter() - started
        return _finish(self, context, history, index, accuracy, len(history), seconds, len(data.train_clips))


# ---------------------------------------------------------------------------- meanpool-svm
@dataclass(frozen=True)
class MeanPoolSVMConfig:
    """Settings of :class:`MeanPoolSVM`."""

    streams: tuple[str, ...] = ("appearance", "motion")
    max_len: int = 300
    fv_dims: int = 0
    power: float = 0.5
    svm_c: float = 1.0
    ridge_alphas: tuple[float, ...] = _RIDGE_ALPHAS
    refit_on_val: bool = True


class MeanPoolSVM(JointEmbeddingModel):
    """Seed 002's "MP" column: features mean-pooled over time, power + L2, SVM, ridge map."""

    def __init__(self, config: MeanPoolSVMConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams)
        self.vector_dim = sum(shape.input_dims[s] for s in self.streams)
        self.heads = _heads(config, shape, config.fv_dims)

    def clip_vectors(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> Tensor:
        """Mean of the (stream-concatenated) feature rows over each clip's valid steps."""
        x, length = concat_streams(features, lengths, self.streams)
        return masked_mean(x, length)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        return self.heads(self.clip_vectors(features, lengths))

    def fit_run(self, context: Any) -> Any:
        """Pool every training and validation clip, fit the heads."""
        data, cache = context.data, context.cache
        if len(data.train_clips) == 0:
            raise ActionLensError(
                "no training clips have features; extract features first (actionlens features)"
            )
        self.to("cpu")
        started = time.perf_counter()
        with torch.no_grad():
            train_x = _features(self, cache, data.train_clips, "cpu", context.progress)
            val_x = _features(self, cache, data.val_clips, "cpu", context.progress)
        fitted = _fit_heads(self, context, train_x, val_x)
        record = {
            "epoch": 0.0,
            "loss": float("nan"),
            "val_accuracy": fitted["val_accuracy"],
            "alpha": fitted["alpha"],
        }
        context.progress.set_progress(1.0, f"val SVM acc {fitted['val_accuracy']:.1%}")
        seconds = time.perf_counter() - started
        return _finish(self, context, [record], 0, fitted["val_accuracy"], 1, seconds, len(data.train_clips))


# ---------------------------------------------------------------------------- registry
register_model(
    ModelSpec(
        name="rnnfv",
        task=JOINT_EMBEDDING,
        summary="seed 002: RNN Fisher vector (last-layer gradient of a next-step regression LSTM) → PCA → SVM",
        config_cls=RNNFVConfig,
        builder=RNNFisherVector,
        presets={
            "paper": {"model": {}, "train": {"epochs": 30, "lr": 1e-3, "patience": 5, "weight_decay": 1e-5}},
            "small": {
                "model": {"fc_size": 64, "lstm_size": 64, "max_len": 64, "fv_dims": 1000},
                "train": {"epochs": 6, "lr": 3e-3, "patience": 3, "weight_decay": 1e-5},
            },
        },
        fit="custom",
    )
)
register_model(
    ModelSpec(
        name="gmmfv",
        task=JOINT_EMBEDDING,
        summary="seed 002 baseline: GMM Fisher vector of the frames (scikit-image) → SVM; modes chosen on validation",
        config_cls=GMMFVConfig,
        builder=GMMFisherVector,
        presets={
            "paper": {"model": {}, "train": {"epochs": 1}},
            "small": {
                "model": {"max_len": 64, "gmm_rows": 20_000, "modes": (1, 2, 4, 8, 16)},
                "train": {"epochs": 1},
            },
        },
        fit="custom",
    )
)
register_model(
    ModelSpec(
        name="meanpool-svm",
        task=JOINT_EMBEDDING,
        summary="seed 002 baseline: mean-pooled features → power + L2 → SVM",
        config_cls=MeanPoolSVMConfig,
        builder=MeanPoolSVM,
        presets={
            "paper": {"model": {}, "train": {"epochs": 1}},
            "small": {"model": {"max_len": 64}, "train": {"epochs": 1}},
        },
        fit="custom",
    )
)
