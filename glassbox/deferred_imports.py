"""Library imports the `glassbox` command defers until something uses them (``install``).

Measured with ``python -X importtime``, three libraries import far more than glassbox uses:

- ``import tensorflow`` ends by importing Keras whole (``keras.src.optimizers``, or tf_keras's
  under TF_USE_LEGACY_KERAS; with it scikit-learn, for Keras' wrappers): about 45% of the import.
  TensorFlow does it only so that Keras' optimizers register themselves early; neither Keras 3 nor
  tf_keras registers anything with TensorFlow's SavedModel registry (their registries are their
  own, filled when they load). Here Keras loads when first used (``tf.keras``, ``import keras``).
- ``tensorflow_model_analysis``'s package root imports all of TFMA (its evaluators, extractors,
  every metric, the notebook views, nltk for ROUGE), hence Beam whole, before any of its
  submodules (``tensorflow_model_analysis.proto.config_pb2``) can load. Here the root runs when
  one of its own attributes is read (``tfma.EvalConfig``); its submodules load as imported.
- ``apache_beam.io`` imports the BigQuery and Pub/Sub connectors (Google Cloud's clients, pandas'
  and IPython's widgets through BigQuery's tqdm helpers) and Beam's cross-language I/O, in a
  ``try`` that skips them when they cannot load; here they are skipped, and load when imported
  by name (``apache_beam.io.gcp.bigquery``), as Beam's runners and a pipeline's own code do.
  Its MongoDB connector imports pymongo in a ``try`` too; here it is skipped (MongoDB I/O is off in
  this process, and Beam logs a warning, hidden unless ``--verbose``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Optional, Sequence

# Module -> the module whose initialisation may not load it (an ImportError there, caught).
_SKIPPED_WHILE = {
    "keras": "tensorflow",
    "tf_keras": "tensorflow",
    "apache_beam.io.gcp.bigquery": "apache_beam.io",
    "bson": "apache_beam.io.mongodbio",
}
# Packages whose root runs on first use of one of its own attributes.
_LAZY_ROOTS = ("tensorflow_model_analysis",)
_TFMA_PROTOS = tuple(
    f"tensorflow_model_analysis.proto.{name}_pb2"
    for name in ("config", "metrics_for_slice", "validation_result")
)


def _initialising(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and getattr(module.__spec__, "_initializing", False)


class _SkippedWhile(importlib.abc.Loader):
    """Refuses to load its module while `parent` initialises (an ImportError the parent catches)."""

    def __init__(self, loader: importlib.abc.Loader, parent: str):
        self.loader, self.parent = loader, parent

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        if _initialising(self.parent):
            raise ImportError(f"{module.__name__} deferred while {self.parent} initialises")
        self.loader.exec_module(module)


class _LazyRoot(types.ModuleType):
    """A package whose __init__ has not run: submodules import as usual; any other missing
    attribute runs __init__ first."""

    def __getattr__(self, name: str):
        if not name.startswith("__"):
            try:
                return importlib.import_module(f"{self.__name__}.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"{self.__name__}.{name}":
                    raise
        self.__class__ = types.ModuleType
        self.__spec__.loader.loader.exec_module(self)
        return getattr(self, name)


class _RootDeferred(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = _LazyRoot
        # TFMA's generated protos do not import the protos they use; its root loaded them in order.
        for name in ("google.protobuf.wrappers_pb2", *_TFMA_PROTOS):
            importlib.import_module(name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Optional[Sequence[str]], target: Optional[types.ModuleType] = None
    ):
        if name not in _SKIPPED_WHILE and name not in _LAZY_ROOTS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            if name in _LAZY_ROOTS:
                spec.loader = _RootDeferred(spec.loader)
            else:
                spec.loader = _SkippedWhile(spec.loader, _SKIPPED_WHILE[name])
        return spec


def install() -> None:
    """Defers the imports above in this process, from now on (before the libraries load)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
