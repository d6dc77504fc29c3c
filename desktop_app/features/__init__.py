"""Video features: decoding and sampling, optical flow, frame encoders, feature stores, extraction.

Models read features through :class:`FeatureStore`; ``actionlens extract`` (and the demo builder)
writes them with :func:`extract_features`. The formats are documented in ``docs/features.md``.
"""

from desktop_app.features.extract import ExtractSettings, ExtractSummary, extract_features
from desktop_app.features.store import (
    STORE_VERSION,
    FeatureStore,
    describe_feature_stores,
    list_feature_stores,
)

__all__ = [
    "STORE_VERSION",
    "ExtractSettings",
    "ExtractSummary",
    "FeatureStore",
    "describe_feature_stores",
    "extract_features",
    "list_feature_stores",
]
