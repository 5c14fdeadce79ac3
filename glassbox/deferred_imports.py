"""Library imports glassbox's processes (the `glassbox` command, the KFP tasks) defer until
something uses them (``install``).

Measured with ``python -X importtime``, these libraries import far more than glassbox uses:

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
- TFMA's metrics import nltk (for ROUGE), whose package root imports scikit-learn in ``try``s
  (for its scikit-learn classifier and its transition parser, unused by TFMA); here they are
  skipped, and scikit-learn loads when imported after nltk.
- Beam asks, for every transform applied, whether it runs in an IPython shell, by importing
  IPython; here it answers no without the import when IPython is not loaded (no shell runs then).
- TFMA's ``utils.keras_lib`` (imported by every TFMA metric module) asks ``tf.keras.version()``
  only to learn whether ``tf.keras`` is Keras 3, which loads Keras 3 whole (and scikit-learn and
  IPython, for its wrappers and saving helpers) before importing tf_keras, which TFMA uses. Here
  the answer comes from TensorFlow's own rule (TF_USE_LEGACY_KERAS unset and Keras 3 installed)
  without loading Keras 3; with any other answer keras_lib runs as written.
- ``tfx.components``' package root imports every TFX component (the Tuner's keras_tuner and
  Keras 3, TFMA whole for TFX's Evaluator, ...) before any of its submodules can load, which
  TFX's KFP entrypoint imports (``tfx.components.evaluator.constants``); here it runs as
  TFMA's does, on first use of one of its own attributes (``tfx.components.Trainer``).
- TFMA's ``utils.math_util`` (imported by every TFMA metric module) imports ``scipy.stats`` for
  the t distribution of confidence intervals, and nltk's association measures (loaded by nltk's
  root) import its Fisher exact test in a ``try``; here scipy.stats' package root runs on first
  use of one of its attributes (``stats.t``), and nltk's import of it is refused (nltk's Fisher
  exact test then raises NotImplementedError: TFMA uses nltk only to tokenize for ROUGE), so an
  evaluation without confidence intervals never loads it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import sys
import threading
import types
from typing import Optional, Sequence

# Module -> the module whose initialisation may not load it (an ImportError there, caught).
_SKIPPED_WHILE = {
    "keras": "tensorflow",
    "tf_keras": "tensorflow",
    "apache_beam.io.gcp.bigquery": "apache_beam.io",
    "bson": "apache_beam.io.mongodbio",
    "sklearn": "nltk",
}
# Lazy root (``_REPLACED``) -> the module whose initialisation may not run it: importing a name
# from it then fails there with an ImportError, which that module catches.
_REFUSED_WHILE = {"scipy.stats": "nltk.metrics.association"}
_TFMA_PROTOS = tuple(
    f"tensorflow_model_analysis.proto.{name}_pb2"
    for name in ("config", "metrics_for_slice", "validation_result")
)


def _initialising(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and getattr(module.__spec__, "_initializing", False)


class _Wrapped(importlib.abc.Loader):
    """A module's own loader, wrapped: exec_module says what changes."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)


class _SkippedWhile(_Wrapped):
    """Refuses to load its module while `parent` initialises (an ImportError the parent catches)."""

    def __init__(self, loader: importlib.abc.Loader, parent: str):
        super().__init__(loader)
        self.parent = parent

    def exec_module(self, module: types.ModuleType) -> None:
        if _initialising(self.parent):
            raise ImportError(f"{module.__name__} deferred while {self.parent} initialises")
        self.loader.exec_module(module)


_EXECUTING_LOCK = threading.RLock()
_EXECUTING = set()  # lazy roots whose __init__ is running


class _LazyRoot(types.ModuleType):
    """A package whose __init__ has not run: submodules import as usual; any other missing
    attribute runs __init__ first."""

    def __getattr__(self, name: str):
        if not name.startswith("__"):
            refused_while = _REFUSED_WHILE.get(self.__name__)
            if refused_while and _initialising(refused_while):
                raise AttributeError(
                    f"{self.__name__}.{name} deferred while {refused_while} initialises"
                )
            try:
                return importlib.import_module(f"{self.__name__}.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"{self.__name__}.{name}":
                    raise
        # One thread runs __init__ while threads asking for a name wait (scipy.stats' first use
        # may be in any of Beam's worker threads); the class changes once __init__ has run.
        with _EXECUTING_LOCK:
            if type(self) is _LazyRoot:
                if self.__name__ in _EXECUTING:  # __init__ itself asks for a name not yet set
                    raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
                _EXECUTING.add(self.__name__)
                try:
                    self.__spec__.loader.loader.exec_module(self)
                finally:
                    _EXECUTING.discard(self.__name__)
                if type(self) is _LazyRoot:  # unless __init__ set a class of its own
                    self.__class__ = types.ModuleType
        return getattr(self, name)


class _RootDeferred(_Wrapped):
    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = _LazyRoot


class _TfmaRootDeferred(_Wrapped):
    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = _LazyRoot
        # TFMA's generated protos do not import the protos they use; its root loaded them in order.
        for name in ("google.protobuf.wrappers_pb2", *_TFMA_PROTOS):
            importlib.import_module(name)


def _tf_keras_is_keras_3() -> bool:
    """What ``tf.keras`` resolves to by TensorFlow's rule (its lazy_loader.KerasLazyLoader)."""
    if os.environ.get("TF_USE_LEGACY_KERAS") in ("true", "True", "1"):
        return False
    try:
        return importlib.metadata.version("keras").startswith("3.")
    except importlib.metadata.PackageNotFoundError:
        return False


class _KerasLibWithoutKeras3(_Wrapped):
    """TFMA's keras_lib, with tf.keras known to be Keras 3 without importing it: its tf_keras."""

    def exec_module(self, module: types.ModuleType) -> None:
        if not _tf_keras_is_keras_3():
            self.loader.exec_module(module)
            return
        import tf_keras
        from tf_keras.api._v1 import keras as tf_keras_v1
        from tf_keras.api._v2 import keras as tf_keras_v2

        module.tf_keras, module.tf_keras_v1, module.tf_keras_v2 = tf_keras, tf_keras_v1, tf_keras_v2


class _IPythonOnlyIfLoaded(_Wrapped):
    """Beam's interactive_utils, whose is_in_ipython imports IPython to ask whether an IPython
    shell runs: none does unless IPython is loaded, so it answers False without importing it."""

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        is_in_ipython = module.is_in_ipython
        module.is_in_ipython = lambda: "IPython" in sys.modules and is_in_ipython()


# Module -> the loader wrapping its own.
_REPLACED = {
    "tensorflow_model_analysis": _TfmaRootDeferred,
    "tfx.components": _RootDeferred,
    "scipy.stats": _RootDeferred,
    "tensorflow_model_analysis.utils.keras_lib": _KerasLibWithoutKeras3,
    "apache_beam.utils.interactive_utils": _IPythonOnlyIfLoaded,
}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Optional[Sequence[str]], target: Optional[types.ModuleType] = None
    ):
        if name not in _SKIPPED_WHILE and name not in _REPLACED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            if name in _REPLACED:
                spec.loader = _REPLACED[name](spec.loader)
            else:
                spec.loader = _SkippedWhile(spec.loader, _SKIPPED_WHILE[name])
        return spec


def install() -> None:
    """Defers the imports above in this process, from now on (before the libraries load)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
