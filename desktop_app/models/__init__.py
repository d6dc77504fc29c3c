"""Models that embed clips into the word-vector space, registered by name (see :mod:`.registry`)."""

from desktop_app.models.registry import (
    JOINT_EMBEDDING,
    ModelShape,
    ModelSpec,
    build_model,
    config_from_json,
    config_to_json,
    get_model_spec,
    model_names,
    register_model,
)

__all__ = [
    "JOINT_EMBEDDING",
    "ModelShape",
    "ModelSpec",
    "build_model",
    "config_from_json",
    "config_to_json",
    "get_model_spec",
    "model_names",
    "register_model",
]
