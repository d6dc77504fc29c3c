"""The model registry: a model name maps to its builder, its config dataclass and its presets.

Every system of the seeds registers here under one name (``ste``, ``action2vec``, the
baselines; later seed 002's RNN Fisher vectors, seed 003's multistream encoder and anomaly
autoencoder, seed 004's hierarchical video–paragraph embedding). A :class:`ModelSpec` says

* ``task``: the kind of model (``"joint-embedding"`` for clip → word space models; later kinds
  add their own), so that the trainer and the evaluation tables pick what they can handle;
* ``config_cls``: a dataclass of JSON-able fields; a run's metadata stores it as a dict;
* ``presets``: ``{"paper": {...}, "small": {...}}`` with ``"model"`` overrides of the config and
  ``"train"`` overrides of :class:`desktop_app.training.trainer.TrainConfig`;
* ``build(config, shape)``: the ``nn.Module``, given the input dimensions, word dimension and
  number of training classes (:class:`ModelShape`).

Model modules hold only ``nn.Module``s and register themselves when imported; this module
imports them lazily so that ``import desktop_app.models.registry`` does not import torch.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_app.errors import ActionLensError

#: Modules whose import registers models, in the order tables list them.
MODEL_MODULES = (
    "desktop_app.models.ste",
    "desktop_app.models.action2vec",
    "desktop_app.models.baselines",
    "desktop_app.models.fisher",
    "desktop_app.models.multistream",
    "desktop_app.models.anomaly",
    "desktop_app.models.hse",
)
PRESETS = ("paper", "small")

#: The kind of model that maps clips into the word space (seeds 000, 001 and their baselines).
JOINT_EMBEDDING = "joint-embedding"
#: The kind that embeds videos and paragraphs in a space of their own (seed 004).
VIDEO_PARAGRAPH = "video-paragraph"


@dataclass(frozen=True)
class ModelShape:
    """What a model's size depends on besides its config.

    Attributes
    ----------
    input_dims
        ``{stream: feature dimension}`` of the feature store it reads.
    word_dim
        Dimension of the word vectors (the embedding space).
    num_classes
        Number of training classes (the classifier heads' width).
    """

    input_dims: dict[str, int]
    word_dim: int
    num_classes: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (stored in a run's metadata)."""
        return {
            "input_dims": dict(self.input_dims),
            "word_dim": self.word_dim,
            "num_classes": self.num_classes,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelShape:
        """The inverse of :meth:`to_json`."""
        return cls(
            {str(k): int(v) for k, v in data["input_dims"].items()},
            int(data["word_dim"]),
            int(data["num_classes"]),
        )


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: name, kind, config dataclass, presets and builder."""

    name: str
    task: str
    summary: str
    config_cls: type
    builder: Callable[[Any, ModelShape], Any]
    presets: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    #: ``"gradient"`` (trained by the trainer's optimiser loop), ``"closed-form"`` (``fit`` once)
    #: or ``"custom"``: the model trains itself, ``model.fit_run(FitContext) -> TrainResult``
    #: (:class:`desktop_app.training.trainer.FitContext`; seeds 002–004, whose training is not
    #: one loss over (clip, label) batches).
    fit: str = "gradient"

    def config(self, preset: str = "small", **overrides: Any) -> Any:
        """The config dataclass of ``preset`` with ``overrides`` applied."""
        values = {**self.preset_part(preset, "model"), **overrides}
        return config_from_json(self, values)

    def preset_part(self, preset: str, part: str) -> dict[str, Any]:
        """The ``"model"`` or ``"train"`` overrides of a preset."""
        if preset not in self.presets:
            raise ActionLensError(
                f"model {self.name!r} has no preset {preset!r}; choose one of {', '.join(self.presets)}"
            )
        return dict(self.presets[preset].get(part, {}))

    def build(self, config: Any, shape: ModelShape) -> Any:
        """The ``nn.Module`` for ``config`` and ``shape``."""
        return self.builder(config, shape)


_REGISTRY: dict[str, ModelSpec] = {}
_loaded = False


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry (a second registration of a name replaces the first)."""
    _REGISTRY[spec.name] = spec
    return spec


def _load_models() -> None:
    global _loaded
    if not _loaded:
        for module in MODEL_MODULES:
            importlib.import_module(module)
        _loaded = True


def model_names(task: str | None = None) -> list[str]:
    """Registered model names (of one ``task`` kind if given), in registration order."""
    _load_models()
    return [name for name, spec in _REGISTRY.items() if task is None or spec.task == task]


def get_model_spec(name: str) -> ModelSpec:
    """The spec registered as ``name``; the error lists the names there are."""
    _load_models()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ActionLensError(f"unknown model {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def config_to_json(config: Any) -> dict[str, Any]:
    """A config dataclass as a JSON-able dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def config_from_json(spec: ModelSpec, values: Mapping[str, Any]) -> Any:
    """``spec.config_cls`` from a dict, refusing unknown keys (lists become tuples)."""
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ActionLensError(
            f"model {spec.name!r} has no setting {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
        )
    return spec.config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def build_model(name: str, config: Any, shape: ModelShape) -> Any:
    """Build the registered model ``name`` (see :meth:`ModelSpec.build`)."""
    return get_model_spec(name).build(config, shape)
