"""Reading and checking DriftConfigs: every field no evaluation could honour is refused up front,
naming it."""

from __future__ import annotations

from glassbox import config_files
from glassbox.errors import ConfigError
from glassbox.protos.drift_config_pb2 import DriftConfig

_WHAT = "drift config"


def load_drift_config(path: str) -> DriftConfig:
    """Reads a DriftConfig from a text-proto or JSON file and checks it (errors name the file)."""
    config = config_files.load_config(path, DriftConfig, _WHAT, ConfigError)
    check_drift_config(config)
    return config


def parse_drift_config(content: str, source: str) -> DriftConfig:
    """Parses a DriftConfig (errors name `source`, e.g. a component's parameter)."""
    return config_files.parse_config(content, DriftConfig, _WHAT, ConfigError, source)


def check_drift_config(config: DriftConfig) -> None:
    """Refuses a negative size, an empty or repeated feature name, and a categorical feature that
    is not sketched.

    Raises:
      ConfigError: naming the field and value.
    """
    for field in ("num_quantiles", "num_top_values", "num_bins"):
        if getattr(config, field) < 0:
            raise ConfigError(
                f"DriftConfig field {field!r} is {getattr(config, field)}; it must be >= 0 "
                "(0: the default)"
            )
    if config.num_bins == 1:
        raise ConfigError("DriftConfig field 'num_bins' is 1; a histogram needs at least 2 bins")
    for field in ("features", "categorical_features"):
        names = list(getattr(config, field))
        if "" in names:
            raise ConfigError(f"DriftConfig field {field!r} holds an empty name")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(f"DriftConfig field {field!r} repeats {repeated}")
    unsketched = [
        f for f in config.categorical_features if config.features and f not in config.features
    ]
    if unsketched:
        raise ConfigError(
            f"DriftConfig field 'categorical_features' names {unsketched}, which 'features' does "
            "not list (only the features listed are sketched)"
        )
