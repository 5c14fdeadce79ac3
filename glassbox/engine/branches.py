"""The branches of an evaluation's Beam pipeline: each reads the same inputs from the pipeline's
root and writes its files into the evaluation's directory. A new kind of output (e.g. drift
sketches) is one more branch, given to ``pipeline.run_branches`` beside these."""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional, Sequence

import apache_beam as beam
from tensorflow_model_analysis.proto import config_pb2

from glassbox.evaluation.beam import EvaluateExamples
from glassbox.evaluation.writer import WriteEvaluation
from glassbox.explain.beam import ExplainExamples
from glassbox.explain.writer import WriteExplanations
from glassbox.protos.explain_config_pb2 import ExplainConfig


@dataclasses.dataclass(frozen=True)
class EvaluationInputs:
    """What every branch reads.

    Attributes:
      eval_config: the prepared EvalConfig (TFMA's defaults filled in, models named).
      model_dirs: SavedModel directory per model name of eval_config.
      example_files: TFRecord files or globs of serialized tf.Examples.
      schema: optional serialized TFMD Schema to decode the examples with.
    """

    eval_config: config_pb2.EvalConfig
    model_dirs: Dict[str, str]
    example_files: Sequence[str]
    schema: Optional[bytes] = None


# A branch: (inputs, directory) -> a PTransform of the pipeline's root that writes into directory.
Branch = Callable[[EvaluationInputs, str], beam.PTransform]


def metrics(inputs: EvaluationInputs, directory: str) -> beam.PTransform:
    """Sliced metrics and plots, in TFMA's format (glassbox.evaluation.writer)."""
    return EvaluateExamples(
        inputs.eval_config, inputs.model_dirs, inputs.example_files, inputs.schema
    ) | WriteEvaluation(directory, inputs.eval_config)


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
