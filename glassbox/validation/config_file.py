"""Reading ValidatorConfigs from the files and parameters users write (JSON or text proto)."""

from __future__ import annotations

from glassbox import config_files
from glassbox.protos.validator_config_pb2 import ValidatorConfig
from glassbox.validation.errors import ValidatorConfigError

_WHAT = "validator config"


def load_validator_config(path: str) -> ValidatorConfig:
    """Reads a ValidatorConfig file (errors name the file)."""
    return config_files.load_config(path, ValidatorConfig, _WHAT, ValidatorConfigError)


def parse_validator_config(content: str, source: str) -> ValidatorConfig:
    """Parses a ValidatorConfig (errors name `source`, e.g. a component's parameter)."""
    return config_files.parse_config(content, ValidatorConfig, _WHAT, ValidatorConfigError, source)
