"""The branches of an evaluation's Beam pipeline: each reads the same inputs from the pipeline's
root and writes its files into the evaluation's directory. A new kind of output is one more
branch, given to ``pipeline.run_branches`` beside these. Drift and the simpler-model check share
the metrics' read (``metrics_and_drift``): they take the same Batches."""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence

import apache_beam as beam
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.examples import first_example_features
from glassbox.drift.beam import SketchBatches
from glassbox.drift.files import WriteDrift, check_summaries
from glassbox.evaluation.beam import BATCHES, EvaluateExamples, ReadBatches
from glassbox.evaluation.exact_path import EvaluateWithTfma
from glassbox.evaluation.writer import WriteEvaluation
from glassbox.explain.beam import ExplainExamples
from glassbox.explain.writer import WriteExplanations
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.simple_model.beam import CompareWithSimpleModels


@dataclasses.dataclass(frozen=True)
class EvaluationInputs:
    """What every branch reads.

    Attributes:
      eval_config: the prepared EvalConfig (TFMA's defaults filled in, models named).
      model_dirs: SavedModel directory per model name of eval_config (None: the examples hold
        its predictions; TFMA's exact path only).
      example_files: TFRecord files or globs of serialized tf.Examples.
      schema: optional serialized TFMD Schema to decode the examples with.
    """

    eval_config: config_pb2.EvalConfig
    model_dirs: Dict[str, Optional[str]]
    example_files: Sequence[str]
    schema: Optional[bytes] = None


# A branch: (inputs, directory) -> a PTransform of the pipeline's root that writes into directory.
Branch = Callable[[EvaluationInputs, str], beam.PTransform]


def metrics(inputs: EvaluationInputs, directory: str) -> beam.PTransform:
    """Sliced metrics and plots, in TFMA's format (glassbox.evaluation.writer)."""
    return EvaluateExamples(
        inputs.eval_config, inputs.model_dirs, inputs.example_files, inputs.schema
    ) | WriteEvaluation(directory, inputs.eval_config)


def exact_metrics(inputs: EvaluationInputs, directory: str) -> beam.PTransform:
    """Sliced metrics and plots computed by TFMA itself (glassbox.evaluation.exact_path), for a
    config the vectorised engine does not cover."""
    return EvaluateWithTfma(
        inputs.eval_config, inputs.model_dirs, inputs.example_files, directory, inputs.schema
    )


def explanations(explain_config: ExplainConfig) -> Branch:
    """The branch computing and writing the explanations explain_config asks for
    (glassbox.explain.writer says which files)."""

    def branch(inputs: EvaluationInputs, directory: str) -> beam.PTransform:
        return ExplainExamples(
            explain_config,
            inputs.eval_config,
            inputs.model_dirs,
            inputs.example_files,
            inputs.schema,
        ) | WriteExplanations(directory)

    return branch


@dataclasses.dataclass(frozen=True)
class DriftReference:
    """What drift is measured from: a previous evaluation's drift sketches (evaluation_dir: the
    baseline's evaluation, a previous span's), or example files (e.g. the train split), read and
    sketched in the same pipeline.

    Attributes:
      name: how drift.json names the reference.
    """

    name: str
    evaluation_dir: Optional[str] = None
    example_files: Sequence[str] = ()


def _examples_features(inputs: EvaluationInputs) -> List[str]:
    """The features of the examples: the schema's, else the first example's."""
    if inputs.schema is not None:
        return [f.name for f in schema_pb2.Schema.FromString(inputs.schema).feature]
    return list(first_example_features(inputs.example_files))


def drift_features(config: DriftConfig, inputs: EvaluationInputs) -> DriftConfig:
    """config with its features filled in when empty: the schema's, else the first example's."""
    if config.features:
        return config
    filled = DriftConfig()
    filled.CopyFrom(config)
    filled.features.extend(_examples_features(inputs))
    return filled


def simple_model_features(config: SimpleModelConfig, inputs: EvaluationInputs) -> SimpleModelConfig:
    """config with its features filled in when empty: the examples' (``drift_features``) but the
    candidate's label and example weight."""
    if config.features:
        return config
    spec = next(s for s in inputs.eval_config.model_specs if not s.is_baseline)
    filled = SimpleModelConfig()
    filled.CopyFrom(config)
    filled.features.extend(
        f for f in _examples_features(inputs) if f not in (spec.label_key, spec.example_weight_key)
    )
    return filled


def metrics_and_drift(
    config: Optional[DriftConfig],
    reference: Optional[DriftReference],
    simple_model: Optional[SimpleModelConfig] = None,
) -> Branch:
    """The metrics branch, and from the same Batches (one read of the data) drift sketches,
    compared with the reference's when there is one (glassbox.drift.files says which files), and
    the simpler-model check (simple_model.json), each when configured."""

    def branch(inputs: EvaluationInputs, directory: str) -> beam.PTransform:
        return _MetricsAndDrift(
            inputs,
            directory,
            drift_features(config, inputs) if config is not None else None,
            reference,
            simple_model_features(simple_model, inputs) if simple_model is not None else None,
        )

    return branch


class _MetricsAndDrift(beam.PTransform):
    def __init__(self, inputs, directory, config, reference, simple_model):
        super().__init__()
        self._inputs = inputs
        self._directory = directory
        self._config = config
        self._reference = reference
        self._simple_model = simple_model
        if reference is not None and reference.evaluation_dir:
            check_summaries(reference.evaluation_dir)  # before any work

    def expand(self, pbegin):
        inputs = self._inputs
        candidate = next(s.name for s in inputs.eval_config.model_specs if not s.is_baseline)
        features = sorted(
            set(self._config.features if self._config else ())
            | set(self._simple_model.features if self._simple_model else ())
        )
        evaluation = pbegin | "Evaluate" >> EvaluateExamples(
            inputs.eval_config,
            inputs.model_dirs,
            inputs.example_files,
            inputs.schema,
            features,
        )
        written = evaluation | "WriteEvaluation" >> WriteEvaluation(
            self._directory, inputs.eval_config
        )
        if self._simple_model is not None:
            _ = evaluation[BATCHES] | "SimpleModels" >> CompareWithSimpleModels(
                self._directory, self._simple_model, candidate
            )
        if self._config is None:
            return written
        summaries = evaluation[BATCHES] | "Sketch" >> SketchBatches(
            inputs.eval_config, self._config, candidate
        )
        reference = self._reference.evaluation_dir if self._reference else None
        if self._reference is not None and self._reference.example_files:
            read = pbegin | "ReadReference" >> ReadBatches(
                inputs.eval_config,
                inputs.model_dirs,
                self._reference.example_files,
                inputs.schema,
                list(self._config.features),
            )
            reference = read[BATCHES] | "SketchReference" >> SketchBatches(
                inputs.eval_config, self._config, candidate
            )
        return summaries | "WriteDrift" >> WriteDrift(
            self._directory,
            self._config,
            reference,
            self._reference.name if self._reference else "",
        )
