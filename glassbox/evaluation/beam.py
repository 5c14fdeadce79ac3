"""The metrics of an evaluation as Beam PTransforms (glassbox.engine runs them; ``writer`` writes
their output in TFMA's format).

    example files --MatchExampleFiles--> paths --FilesTogether--> lists of paths --PredictBatches--> Batch
      --AccumulateSlices--> a bundle's sums per slice (and its count), compacted, whenever they
        outgrow a budget and when the bundle ends: through the shuffle, or as runs on a local
        disk on Beam's in-process runners (slice_table)
      --merge--> one accumulator per slice; the examples accumulated
      --compute--> TFMA metrics and plots per slice (and, for cross_slicing_specs, a baseline
      slice's metrics minus a comparison slice's) --WriteEvaluation--> TFMA's on-disk format

Elements are batches, never examples: Python work and shuffled data scale with
batches x slices, and memory with slices and a budget, not examples.
"""

from __future__ import annotations

import zlib
from typing import Any, Dict, Iterable, Iterator, Mapping, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np
from apache_beam.transforms.window import GlobalWindows
from tensorflow_model_analysis.post_export_metrics import metric_keys
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.data.batches import RECORDS_READ, PredictDoFn
from glassbox.data.errors import MissingFeatureError
from glassbox.data.examples import DEFAULT_BATCH_SIZE, MatchExampleFiles
from glassbox.data.slicing import Slicer, evaluated_slicing_specs
from glassbox.data.types import Batch, SliceKey
from glassbox.evaluation import slice_table
from glassbox.evaluation.keras_compiled import CompiledMetric, compiled_metrics_by_model
from glassbox.evaluation.metrics_plan import MetricsPlan, SliceAccumulator
from glassbox.evaluation.reconciliation import EVALUATED, EXAMPLES_KEY, READ

# Bootstrap draws are seeded per batch from this seed and the batch's content, so a rerun gives
# the same intervals whatever the runner, worker count or batch order.
BOOTSTRAP_SEED = 20240101
# The files of a bundle that one tf.data pipeline reads, one after another (see PredictDoFn).
FILES_PER_PIPELINE = 64


def bootstrap_multipliers(batch: Batch, num_replicates: int) -> np.ndarray:
    """Per-example weight multipliers: row 0 ones (the point estimate), then Poisson(1) draws."""
    multipliers = np.ones((num_replicates, batch.num_rows))
    if num_replicates > 1:
        fingerprint = 0
        for name in sorted(batch.predictions):
            fingerprint = zlib.crc32(
                np.ascontiguousarray(batch.predictions[name]).tobytes(), fingerprint
            )
        rng = np.random.default_rng([BOOTSTRAP_SEED, fingerprint])
        multipliers[1:] = rng.poisson(1.0, size=(num_replicates - 1, batch.num_rows))
    return multipliers


class _AccumulateSlices(beam.DoFn):
    """Batches -> a bundle's sums per slice (``SliceTable``), which leave it when they outgrow
    the table's budget and when the bundle ends: as (slice key, compacted part) pairs, or, given
    a local directory, as the paths of runs written there."""

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        plan: MetricsPlan,
        budget_bytes: int,
        run_directory: Optional[str],
    ):
        self._eval_config = eval_config
        self._plan = plan
        self._budget_bytes = budget_bytes
        self._run_directory = run_directory

    def setup(self):
        self._slicer = Slicer([spec for _, spec in evaluated_slicing_specs(self._eval_config)])

    def start_bundle(self):
        self._table = slice_table.SliceTable(self._plan, self._budget_bytes)
        self._runs = slice_table.run_paths(self._run_directory) if self._run_directory else None

    def process(self, batch: Batch):
        membership = self._slicer.membership(batch.features)
        multipliers = bootstrap_multipliers(batch, self._plan.num_replicates)
        count = SliceAccumulator([], np.array([float(batch.num_rows)]), np.zeros(0))
        if self._table.add(
            [*self._plan.accumulate(batch, membership, multipliers), (EXAMPLES_KEY, count)]
        ):
            yield from self._emptied()

    def finish_bundle(self):
        for element in self._emptied():
            yield GlobalWindows.windowed_value(element)

    def _emptied(self):
        if self._runs is None:
            yield from self._table.drain()
        elif len(self._table):
            yield slice_table.write_run(next(self._runs), self._table.drain())


def _min_slice_size_message(min_slice_size: int) -> str:
    # TFMA's wording (slicer_lib.FilterOutSlices), so tools that key on it keep working.
    return (
        "Example count for this slice key is lower than the minimum required value: %d. "
        "No data is aggregated for this slice." % min_slice_size
    )


def compute_slice(element: Tuple[SliceKey, object], plan: MetricsPlan, min_slice_size: int):
    """(slice key, accumulator) -> (slice key, metrics, plots); TFMA's error entry for small slices."""
    slice_key, accumulator = element
    if slice_key and plan.below_min_slice_size(accumulator):
        return slice_key, {metric_keys.ERROR_METRIC: _min_slice_size_message(min_slice_size)}, {}
    return (slice_key, *plan.compute(slice_key, accumulator))


def check_slice_features(
    slice_keys: Iterable[SliceKey], specs: Sequence[Tuple[str, config_pb2.SlicingSpec]]
) -> None:
    """Fails when a feature_keys spec matched no example: almost always a misspelt feature key.

    (A feature_values spec that matches nothing is a missing slice, which the Validator reports.)
    """
    column_sets = {frozenset(column for column, _ in key) for key in slice_keys}
    for path, spec in specs:
        if (
            spec.feature_keys
            and not spec.feature_values
            and frozenset(spec.feature_keys) not in column_sets
        ):
            raise MissingFeatureError(
                f"{path} slices on feature_keys {list(spec.feature_keys)}, "
                "but no example has "
                + ("this feature" if len(spec.feature_keys) == 1 else "all of them")
            )


def cross_slice_pairs(
    slice_keys: Sequence[SliceKey], specs: Sequence[config_pb2.CrossSlicingSpec]
) -> Iterator[Tuple[SliceKey, SliceKey]]:
    """(baseline slice, comparison slice) pairs, as TFMA's evaluator pairs them: for each cross
    slicing spec, every slice its baseline spec selects with every slice one of its slicing specs
    selects (every other slice when it has none)."""
    for spec in specs:
        baseline = slicer_lib.SingleSliceSpec(spec=spec.baseline_spec)
        comparisons = [slicer_lib.SingleSliceSpec(spec=s) for s in spec.slicing_specs]
        for baseline_key in filter(baseline.is_slice_applicable, slice_keys):
            for key in slice_keys:
                if (
                    any(c.is_slice_applicable(key) for c in comparisons)
                    if comparisons
                    else not baseline.is_slice_applicable(key)
                ):
                    yield baseline_key, key


def compute_cross_slices(
    accumulators: Sequence[Tuple[SliceKey, SliceAccumulator]],
    plan: MetricsPlan,
    specs: Sequence[config_pb2.CrossSlicingSpec],
) -> Iterator[Tuple[Tuple[SliceKey, SliceKey], Dict, Dict]]:
    """Every slice's accumulator -> (cross slice key, metrics, no plots) per pair that
    ``cross_slice_pairs`` makes (TFMA writes an empty plots record for each cross slice)."""
    by_key = dict(accumulators)
    for pair in cross_slice_pairs(sorted(by_key, key=slicer_lib.stringify_slice_key), specs):
        yield pair, plan.compute_cross(by_key[pair[0]], by_key[pair[1]]), {}


def _is_count(element: Tuple[SliceKey, object]) -> bool:
    return element[0] == EXAMPLES_KEY


class ComputeSlicedMetrics(beam.PTransform):
    """PCollection[Batch] -> {'metrics': (slice, metrics), 'plots': (slice, plots)} as TFMA keys
    them, and {EVALUATED: the number of examples accumulated} (reconciliation)."""

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        compiled: Mapping[str, Tuple[CompiledMetric, ...]] = (),
    ):
        super().__init__()
        self._eval_config = eval_config
        self._compiled = dict(compiled)

    def expand(self, batches):
        plan = MetricsPlan(self._eval_config, self._compiled)
        run_directory = slice_table.run_directory(batches.pipeline.options)
        emptied = batches | "AccumulateSlices" >> beam.ParDo(
            _AccumulateSlices(self._eval_config, plan, slice_table.BUDGET_BYTES, run_directory)
        )
        if run_directory is None:
            merged = (
                emptied
                | "PartsBySlice" >> beam.GroupByKey()
                | "MergeSlices"
                >> beam.MapTuple(lambda key, parts: (key, slice_table.merge_parts(plan, parts)))
            )
        else:
            merged = (
                emptied
                | "AllRuns" >> beam.combiners.ToList()
                | "MergeRuns" >> beam.FlatMap(slice_table.merge_runs, plan)
            )
        counted = (
            merged
            | "ExamplesCounted" >> beam.Filter(_is_count)
            | "Count" >> beam.Map(lambda element: int(element[1].counts[0]))
        )
        accumulators = merged | "Slices" >> beam.Filter(lambda element: not _is_count(element))
        _ = (
            accumulators
            | "SliceKeys" >> beam.Keys()
            | "AllSliceKeys"
            >> beam.CombineGlobally(beam.combiners.ToListCombineFn()).without_defaults()
            | "CheckSliceFeatures"
            >> beam.Map(check_slice_features, evaluated_slicing_specs(self._eval_config))
        )
        results = accumulators | "ComputeSlices" >> beam.Map(
            compute_slice, plan, self._eval_config.options.min_slice_size.value
        )
        if self._eval_config.cross_slicing_specs:
            cross = (
                accumulators
                | "AllAccumulators"
                >> beam.CombineGlobally(beam.combiners.ToListCombineFn()).without_defaults()
                | "CrossSlices"
                >> beam.FlatMap(
                    compute_cross_slices, plan, list(self._eval_config.cross_slicing_specs)
                )
            )
            results = (results, cross) | "WithCrossSlices" >> beam.Flatten()
        return {
            "metrics": results
            | "Metrics" >> beam.Map(lambda r: (r[0], r[1])).with_output_types(Tuple[Any, Any]),
            "plots": results
            | "Plots" >> beam.Map(lambda r: (r[0], r[2])).with_output_types(Tuple[Any, Any]),
            EVALUATED: counted,
        }


# ReadBatches' (and EvaluateExamples') output of the Batches read (for other branches of the same
# read, e.g. drift sketches).
BATCHES = "batches"


class ReadBatches(beam.PTransform):
    """Pipeline root -> {BATCHES: the Batches of the models on the example files (holding
    extra_features besides the evaluation's), READ: the records read}."""

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[str, str],
        example_files: Sequence[str],
        schema: Optional[bytes] = None,
        extra_features: Sequence[str] = (),
    ):
        super().__init__()
        self._eval_config = eval_config
        self._model_dirs = model_dirs
        self._example_files = list(example_files)
        self._schema = schema
        self._extra_features = list(extra_features)

    def expand(self, pbegin):
        batch_size = max((s.inference_batch_size for s in self._eval_config.model_specs), default=0)
        batches = (
            pbegin
            | "MatchExampleFiles" >> MatchExampleFiles(self._example_files)
            | "FilesTogether"
            >> beam.BatchElements(
                min_batch_size=FILES_PER_PIPELINE, max_batch_size=FILES_PER_PIPELINE
            )
            | "PredictBatches"
            >> beam.ParDo(
                PredictDoFn(
                    self._eval_config,
                    self._model_dirs,
                    self._schema,
                    batch_size or DEFAULT_BATCH_SIZE,
                    self._extra_features,
                )
            ).with_outputs(RECORDS_READ, main=BATCHES)
        )
        return {BATCHES: batches[BATCHES], READ: batches[RECORDS_READ]}


class EvaluateExamples(beam.PTransform):
    """Pipeline root -> TFMA-keyed metrics and plots of the models on the example files, the
    counts to reconcile: {READ: records read, EVALUATED: examples accumulated}, and {BATCHES: the
    Batches} (``ReadBatches``)."""

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[str, str],
        example_files: Sequence[str],
        schema: Optional[bytes] = None,
        extra_features: Sequence[str] = (),
    ):
        super().__init__()
        self._eval_config = eval_config
        self._compiled = compiled_metrics_by_model(eval_config, model_dirs)
        self._read = ReadBatches(eval_config, model_dirs, example_files, schema, extra_features)

    def expand(self, pbegin):
        read = pbegin | "ReadBatches" >> self._read
        evaluation = read[BATCHES] | "ComputeSlicedMetrics" >> ComputeSlicedMetrics(
            self._eval_config, self._compiled
        )
        return {**evaluation, **read}
