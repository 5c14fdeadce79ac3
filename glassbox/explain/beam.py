"""The explanations of an evaluation as a Beam PTransform.

    example files --MatchExampleFiles--> paths --DrawExamples--> (stratum, Draw) per batch
      --CombinePerKey(merge)--> one Draw per stratum --ToDict--> all Draws
      --Explain (one worker: decode the sample, load the models, run the methods)--> Explanation

Elements are batches' draws, never examples; only the drawn examples (rows explained per slice,
background) reach the explaining worker, so its memory is bounded by the sample, not the data.
"""

from __future__ import annotations

from typing import Dict, Iterator, Optional, Sequence, Tuple

import apache_beam as beam
import tensorflow as tf
from google.protobuf import message
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.errors import ExamplesError
from glassbox.data.example_decoder import ExampleDecoder
from glassbox.data.examples import DEFAULT_BATCH_SIZE, MatchExampleFiles, record_dataset
from glassbox.data.slicing import Slicer
from glassbox.explain import draws as draws_lib
from glassbox.explain.config import ExplainPlan, explain_plan
from glassbox.explain.draws import BACKGROUND, EXPLAINED, Draw, DrawKey
from glassbox.explain.evaluation import BASELINE, CANDIDATE, Explanation, explain, sample_label
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.sample import background_limit, build_sample
from glassbox.protos.explain_config_pb2 import ExplainConfig


class _DrawExamples(beam.DoFn):
    """A TFRecord file's path -> the Draws of each of its batches (draws_lib.batch_draws)."""

    def __init__(self, plan: ExplainPlan, schema: Optional[bytes], batch_size: int):
        self._plan = plan
        self._schema = schema
        self._batch_size = batch_size

    def setup(self):
        self._decoder = ExampleDecoder(self._schema)
        self._slicer = Slicer(self._plan.slicing_specs) if self._plan.slicing_specs else None
        seed = self._plan.config.seed
        self._keys = draws_lib.hash_key(seed, EXPLAINED), draws_lib.hash_key(seed, BACKGROUND)

    def process(self, path: str) -> Iterator[Tuple[DrawKey, Draw]]:
        try:
            for serialized in record_dataset(path, self._batch_size):
                yield from self._draws(serialized)
        except tf.errors.OpError as e:
            raise ExamplesError(f"cannot read TFRecord file {path}: {e.message}") from e
        except message.DecodeError as e:
            raise ExamplesError(f"a record of {path} is not a tf.Example: {e}") from e

    def _draws(self, serialized: tf.Tensor) -> Iterator[Tuple[DrawKey, Draw]]:
        records = draws_lib.canonical_records(serialized.numpy().tolist())
        serialized = tf.constant(records)
        features = self._decoder.decode(records) if self._plan.needs_features else None
        yield from draws_lib.batch_draws(
            records,
            draws_lib.record_hashes(serialized, self._keys[0]),
            draws_lib.record_hashes(serialized, self._keys[1]),
            self._plan.explained_rows,
            background_limit(self._plan),
            membership=self._slicer.membership(features) if self._slicer else None,
            features=features,
            stratify_by=self._plan.stratify_by,
        )


class _MergeDraws(beam.CombineFn):
    """Merges a stratum's Draws (in any order, to the same Draw)."""

    def create_accumulator(self):
        return None

    def add_input(self, accumulator, element):
        return element if accumulator is None else draws_lib.merge_draws([accumulator, element])

    def merge_accumulators(self, accumulators):
        present = [a for a in accumulators if a is not None]
        return draws_lib.merge_draws(present) if present else None

    def extract_output(self, accumulator):
        return accumulator


def _explain(
    draws: Dict[DrawKey, Draw],
    plan: ExplainPlan,
    models: Sequence[Tuple[str, str, str]],
    schema: Optional[bytes],
) -> Explanation:
    """Loads the models, decodes the sample and runs every method."""
    output = plan.config.model_output
    functions = [
        (
            role,
            name,
            SavedModelFunction(
                model_dir,
                output.signature_name,
                output.output_key,
                output.class_index if output.HasField("class_index") else None,
            ),
        )
        for role, name, model_dir in models
    ]
    named = [function.features for _, _, function in functions]
    features = None if None in named else sorted({name for names in named for name in names})
    label_key, label_required = sample_label(plan)
    sample = build_sample(plan, draws, features, label_key, schema, label_required)
    return explain(plan, sample, functions)


def _models(
    eval_config: config_pb2.EvalConfig, model_dirs: Dict[str, str]
) -> Tuple[Tuple[str, str, str], ...]:
    """(role, model name, directory) of the candidate and, if any, the baseline."""
    return tuple(
        sorted(
            (
                (BASELINE if spec.is_baseline else CANDIDATE, spec.name, model_dirs[spec.name])
                for spec in eval_config.model_specs
            ),
            key=lambda model: model[0] != CANDIDATE,
        )
    )


class ExplainExamples(beam.PTransform):
    """Pipeline root -> a PCollection of one Explanation of the evaluated models on the example files.

    Args:
      explain_config: what to explain and how.
      eval_config: the evaluation's prepared EvalConfig (model specs, slicing specs, options).
      model_dirs: SavedModel directory per model name of the EvalConfig.
      example_files: TFRecord files or globs of serialized tf.Examples.
      schema: optional serialized TFMD Schema to decode the examples with.

    Raises:
      ExplanationError: a malformed ExplainConfig (at construction, naming the field).
    """

    def __init__(
        self,
        explain_config: ExplainConfig,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[str, str],
        example_files: Sequence[str],
        schema: Optional[bytes] = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        super().__init__()
        self._plan = explain_plan(explain_config, eval_config)
        self._models = _models(eval_config, model_dirs)
        self._example_files = list(example_files)
        self._schema = schema
        self._batch_size = batch_size

    def expand(self, pbegin):
        return (
            pbegin
            | "MatchExampleFiles" >> MatchExampleFiles(self._example_files)
            | "DrawExamples"
            >> beam.ParDo(_DrawExamples(self._plan, self._schema, self._batch_size))
            | "MergeDraws" >> beam.CombinePerKey(_MergeDraws())
            | "AllDraws" >> beam.combiners.ToDict()
            | "Explain" >> beam.Map(_explain, self._plan, self._models, self._schema)
        )
