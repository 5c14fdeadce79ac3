"""TFX components of tfx-glassbox, imported when first used: `import glassbox.components` alone
loads neither TensorFlow nor TFX."""

import importlib

# Each component's class, by the module that defines it.
_MODULES = {
    "BaselineResolver": "glassbox.components.baseline_resolver.component",
    "Evaluator": "glassbox.components.evaluator.component",
    "Trainer": "glassbox.components.trainer.component",
    "Validator": "glassbox.components.validator.component",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULES[name]), name)


def __dir__():
    return sorted(list(globals()) + __all__)
