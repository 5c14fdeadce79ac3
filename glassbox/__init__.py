"""tfx-glassbox: transparent model evaluation and validation for TFX."""

import importlib


def __getattr__(name: str):
    """glassbox's TFX artifact types as `glassbox.<Name>`, their type names: Kubeflow Pipelines'
    TFX entrypoint imports a custom artifact type by its type name, which TFX's KFP compiler
    requires to be `<namespace>.<Name>`. Imported on first use (they import TFX)."""
    artifact_type = (
        getattr(importlib.import_module("glassbox.artifacts"), name, None)
        if name[:1].isupper()
        else None
    )
    if getattr(artifact_type, "TYPE_NAME", None) != f"{__name__}.{name}":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return artifact_type
