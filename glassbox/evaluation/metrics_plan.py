"""TFMA's metric computations for an EvalConfig, with batch combiners in place of TFMA's
per-example ones.

TFMA (``metric_specs.to_computations``) decides which computations an EvalConfig needs; we swap
its primitive combiners for vectorised ones (and its histogram-to-confusion-matrices step for a
bit-identical numpy one, ``histogram_matrices``) and run everything else as TFMA's evaluator
(``metrics_plots_and_validations_evaluator``) does: derived computations in TFMA's order, diffs
against a baseline model, Poisson-bootstrap confidence intervals, removal of private metrics, and
the metrics/plots split. Only the per-example work is ours.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Tuple

import numpy as np
from tensorflow_model_analysis.evaluators import confidence_intervals_util
from tensorflow_model_analysis.metrics import metric_specs, metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.utils import model_util

from glassbox import tfma_internals
from glassbox.data.model_runs import model_name
from glassbox.data.slicing import used_codes
from glassbox.data.types import Batch, SliceKey, SliceMembership
from glassbox.errors import ConfigError
from glassbox.evaluation import histogram_matrices, tfma_combiners
from glassbox.evaluation.batch_combiner import slice_layers
from glassbox.evaluation.combiners import batch_combiner_for
from glassbox.evaluation.config import check_eval_config
from glassbox.evaluation.errors import LabelDomainError, UnsupportedMetricError, ZeroWeightError
from glassbox.evaluation.fairness import FairnessIndicators  # noqa: F401 (registered with TFMA)
from glassbox.evaluation.keras_compiled import CompiledMetric, KerasCompiledMetrics
from glassbox.evaluation.sparse_sums import Sums, add_into

MetricsDict = Dict[metric_types.MetricKey, Any]
# What TFMA's computations raise on a metric configuration they cannot build.
_CONFIG_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ImportError, NotImplementedError)


class SliceAccumulator(NamedTuple):
    """One slice's sums: per batch combiner (R, ...) sums, dense or holding only the cells touched
    (``sparse_sums``); per replicate how many examples
    were drawn into it, (R,) (``counts[0]``: the slice's unweighted number of examples); and per
    model (in the plan's ``models`` order) the sum of its example weights, (M,)."""

    arrays: List[Sums]
    counts: np.ndarray
    weights: np.ndarray


def _single_metric_spec(
    spec: config_pb2.MetricsSpec, metric: config_pb2.MetricConfig
) -> config_pb2.MetricsSpec:
    single = config_pb2.MetricsSpec()
    single.CopyFrom(spec)
    del single.metrics[:]
    single.metrics.append(metric)
    return single


def _check_model_names(eval_config: config_pb2.EvalConfig) -> None:
    """Metrics must name models as TFMA keys them in batches ('' for a single model)."""
    models = (
        [spec.name for spec in eval_config.model_specs]
        if len(eval_config.model_specs) > 1
        else [""]
    )
    for i, spec in enumerate(eval_config.metrics_specs):
        for name in spec.model_names or [""]:
            if name not in models:
                raise ConfigError(
                    f"EvalConfig field 'metrics_specs[{i}].model_names' names model {name!r}, but the models are "
                    f"{models} (apply config_util.update_eval_config_with_defaults to the config first)"
                )


def _check_each_metric(
    eval_config: config_pb2.EvalConfig,
) -> Dict[metric_types.MetricKey, List[str]]:
    """Builds each configured metric alone, so that a refusal names the metric at fault.

    Returns, per key of a computation a combiner runs, the metrics that need it, as configured
    (e.g. ``AUC (metrics_specs[0].metrics[1])``), for errors about the examples they read.
    """
    users: Dict[metric_types.MetricKey, List[str]] = {}
    for i, spec in enumerate(eval_config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            where = f"metrics_specs[{i}].metrics[{j}] (class_name {metric.class_name!r})"
            try:
                computations = metric_specs.to_computations(
                    [_single_metric_spec(spec, metric)], eval_config
                )
            except _CONFIG_ERRORS as e:
                raise UnsupportedMetricError(
                    f"EvalConfig {where}: TFMA cannot build it: {e}"
                ) from e
            for computation in computations:
                if isinstance(computation, metric_types.MetricComputation):
                    try:
                        batch_combiner_for(computation, eval_config)
                    except UnsupportedMetricError as e:
                        raise UnsupportedMetricError(f"EvalConfig {where}: {e}") from e
                    for key in computation.keys:
                        users.setdefault(key, []).append(
                            f"{metric.class_name} (metrics_specs[{i}].metrics[{j}])"
                        )
    return users


class MetricsPlan:
    """TFMA's computations for an EvalConfig: our batch combiners + TFMA's derived computations.

    The config is expected as TFMA's evaluator receives it (``config.prepare_eval_config``).
    A plan pickles as its EvalConfig and rebuilds its computations when unpickled, once per
    process and config (building them takes TFMA tens of milliseconds; plans hold no state).

    Attributes:
      num_replicates: 1, or with ``options.compute_confidence_intervals`` 21: the point estimate
        and TFMA's default 20 Poisson-bootstrap samples.
    """

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        compiled: Mapping[str, Tuple[CompiledMetric, ...]] = (),
    ):
        """compiled: per model (as TFMA keys it) its compiled loss and metrics, which TFMA adds
        for Keras models (``keras_compiled.compiled_metrics_by_model``)."""
        check_eval_config(eval_config)
        _check_model_names(eval_config)
        users = _check_each_metric(eval_config)
        self._eval_config = eval_config
        specs = list(eval_config.metrics_specs)
        try:
            computations = tfma_internals.separate_computations(
                metric_specs.to_computations(specs, eval_config=eval_config)
            )
        except _CONFIG_ERRORS as e:
            raise UnsupportedMetricError(
                f"EvalConfig field 'metrics_specs': TFMA cannot build them: {e}"
            ) from e
        if computations.cross_slice_computations:
            raise UnsupportedMetricError("cross-slice metric computations are not supported")
        self._combiners = [
            batch_combiner_for(c, eval_config) for c in computations.non_derived_computations
        ]
        self._combiner_keys = [list(c.keys) for c in computations.non_derived_computations]
        self._combiner_users = [
            sorted({user for key in keys for user in users.get(key, [])})
            for keys in self._combiner_keys
        ]
        self._compiled = tuple(sorted(dict(compiled).items()))
        for model, metrics in self._compiled:
            self._combiners.append(KerasCompiledMetrics(model, metrics))
            self._combiner_keys.append(self._combiners[-1].keys)
            self._combiner_users.append([f"the compiled metrics of model {model!r}"])
        self._label_keys = {
            model_name(spec, eval_config): spec.label_key for spec in eval_config.model_specs
        }
        self._derived = [
            histogram_matrices.vectorised(c) for c in computations.derived_computations
        ]
        self._ci_derived = computations.ci_derived_computations
        self._as_bucket_sums = [self._histogram_read_as_arrays_only(c) for c in self._combiners]
        intervals = tfma_internals.confidence_interval_params(eval_config, specs)
        if intervals.num_jackknife_samples:
            raise UnsupportedMetricError(
                "EvalConfig field 'options.confidence_intervals.method' is JACKKNIFE; "
                "the vectorised engine computes confidence intervals by Poisson bootstrap"
            )
        self.num_replicates = 1 + intervals.num_bootstrap_samples
        self._skip_ci_keys = intervals.skip_ci_metric_keys
        baseline = model_util.get_baseline_model_spec(eval_config)
        self._baseline_model = baseline.name if baseline else None
        self._weight_keys = {
            model_name(spec, eval_config): spec.example_weight_key
            for spec in eval_config.model_specs
        }
        self.models = sorted(self._weight_keys)
        self._min_slice_size = eval_config.options.min_slice_size.value

    def _histogram_read_as_arrays_only(self, combiner) -> bool:
        """Whether a combiner is a calibration histogram whose Buckets no one needs: private, and
        read only by vectorised computations, which take its arrays (``histogram_matrices``)."""
        if not isinstance(combiner, tfma_combiners.CalibrationHistogram):
            return False
        key = combiner.key
        return tfma_internals.is_private_metric(key) and not any(
            histogram_matrices.reads_key(c, key) for c in (*self._derived, *self._ci_derived)
        )

    def __getstate__(self):
        return self._eval_config.SerializeToString(), self._compiled

    def __setstate__(self, state):
        self.__dict__.update(_unpickled_plan(*state).__dict__)

    def accumulate(
        self, batch: Batch, membership: SliceMembership, multipliers: np.ndarray
    ) -> List[Tuple[SliceKey, SliceAccumulator]]:
        """One accumulator per slice with examples in the batch.

        ``multipliers`` is (num_replicates, n): row 0 all ones, then bootstrap draws.
        """
        present, groups = used_codes(membership.groups, len(membership.keys))
        num_groups = len(present)
        layers = slice_layers(membership.rows, groups, batch.num_rows)
        arrays = [
            self._accumulate(index, batch, layers, num_groups, multipliers)
            for index in range(len(self._combiners))
        ]
        replicates = len(multipliers)
        index = (groups * replicates + np.arange(replicates)[:, None]).ravel()
        counts = np.bincount(
            index,
            weights=multipliers[:, membership.rows].ravel(),
            minlength=num_groups * replicates,
        ).reshape(num_groups, replicates)
        weights = np.stack(
            [
                np.bincount(
                    groups,
                    weights=batch.example_weights[name][membership.rows],
                    minlength=num_groups,
                )
                for name in self.models
            ],
            axis=1,
        )
        return [
            (
                membership.keys[key_index],
                SliceAccumulator([a[group] for a in arrays], counts[group], weights[group]),
            )
            for group, key_index in enumerate(present)
        ]

    def _accumulate(self, index, batch, layers, num_groups, multipliers) -> np.ndarray:
        """The combiner's accumulate; a label it cannot take is refused naming the label key, the
        metrics configured that need it, and the file and record (when known)."""
        try:
            return self._combiners[index].accumulate(batch, layers, num_groups, multipliers)
        except LabelDomainError as e:
            keys = self._combiner_keys[index]
            users = " and ".join(self._combiner_users[index]) or "a metric of metrics_specs"
            message = str(e)
            for name in {key.name for key in keys}:
                message = message.replace(f"metric {name!r}", users)
            model = keys[0].model_name
            label = f"feature {self._label_keys.get(model, '')!r} (label_key of model {model!r})"
            where = ""
            if e.row is not None:
                where = (
                    f"{batch.source[0]}, record {batch.source[1] + e.row}: "
                    if batch.source
                    else f"row {e.row}: "
                )
            raise LabelDomainError(f"{where}{label}: {message}") from e

    def merge(self, accumulators: Iterable[SliceAccumulator]) -> SliceAccumulator:
        """The accumulator of the union of the accumulators' examples (a new one)."""
        accumulators = iter(accumulators)
        first = next(accumulators)
        total = SliceAccumulator(
            [a.copy() for a in first.arrays], first.counts.copy(), first.weights.copy()
        )
        return functools.reduce(self.add_into, accumulators, total)

    @staticmethod
    def add_into(total: SliceAccumulator, acc: SliceAccumulator) -> SliceAccumulator:
        """total with acc's examples added: total's arrays are added to in place (merging Beam
        accumulators allocates nothing but the arrays that grow or are held sparse)."""
        total.counts[:] += acc.counts
        total.weights[:] += acc.weights
        return SliceAccumulator(
            [add_into(t, a) for t, a in zip(total.arrays, acc.arrays)],
            total.counts,
            total.weights,
        )

    def compute(
        self, slice_key: SliceKey, acc: SliceAccumulator
    ) -> Tuple[MetricsDict, MetricsDict]:
        """The slice's public metrics and plots, keyed and valued as TFMA's evaluator outputs them.

        (TFMA's computations do not depend on the slice key.)

        Raises:
          ZeroWeightError: the computations fail on a slice whose example weights sum to 0.
        """
        try:
            result = self._estimate(functools.partial(self._replicate_metrics, acc), acc.counts)
        except (TypeError, ValueError, ArithmeticError):
            self._check_weights(slice_key, acc)
            raise
        public = {k: v for k, v in result.items() if not tfma_internals.is_private_metric(k)}
        plots = {k: v for k, v in public.items() if isinstance(k, metric_types.PlotKey)}
        metrics = {
            k: v
            for k, v in public.items()
            if not isinstance(k, (metric_types.PlotKey, metric_types.AttributionsKey))
        }
        return metrics, plots

    def compute_cross(
        self, baseline: SliceAccumulator, comparison: SliceAccumulator
    ) -> MetricsDict:
        """A cross slice's metrics, as TFMA's evaluator computes them (``_AddCrossSliceMetrics``):
        for each public scalar metric of both slices, the baseline slice's value minus the
        comparison slice's, per bootstrap replicate when there are confidence intervals.
        (TFMA diffs the two models after the cross slices; a difference of differences is the
        same either way.)"""

        def replicate(index: int) -> MetricsDict:
            base = self._replicate_metrics(baseline, index)
            other = self._replicate_metrics(comparison, index)
            return {
                key: base[key] - value
                for key, value in other.items()
                if key in base
                and not isinstance(key, (metric_types.PlotKey, metric_types.AttributionsKey))
                and not tfma_internals.is_private_metric(key)
                and tfma_internals.is_diffable(value)
            }

        return self._estimate(replicate, np.minimum(baseline.counts, comparison.counts))

    def _estimate(self, replicate_metrics, counts: np.ndarray) -> MetricsDict:
        """The point estimate (replicate 0) with confidence intervals over the replicates that drew
        examples (``counts``) when the plan has any, then TFMA's CI-derived metrics."""
        result = replicate_metrics(0)
        if self.num_replicates > 1:
            result = self._with_confidence_intervals(result, replicate_metrics, counts)
        for computation in self._ci_derived:
            result.update(computation.result(result))
        return result

    def _check_weights(self, slice_key: SliceKey, acc: SliceAccumulator) -> None:
        """Raises ZeroWeightError if a model's example weights sum to 0 on the slice."""
        for name, total in zip(self.models, acc.weights):
            key = self._weight_keys[name]
            if key and total == 0:
                raise ZeroWeightError(
                    f"slice {slicer_lib.stringify_slice_key(slice_key)}: the example weights "
                    f"(feature {key!r}, example_weight_key of model {name!r}) of its "
                    f"{int(acc.counts[0])} examples sum to 0, so its weighted metrics are "
                    "undefined (TFMA fails on them too); give the examples positive weights or "
                    "compute the metrics unweighted (MetricsSpec.example_weights.unweighted)"
                )

    def below_min_slice_size(self, acc: SliceAccumulator) -> bool:
        """True when options.min_slice_size hides the slice (TFMA never hides the overall slice)."""
        return acc.counts[0] < self._min_slice_size

    def _replicate_metrics(self, acc: SliceAccumulator, replicate: int) -> MetricsDict:
        """Combiner outputs, then derived metrics in TFMA's order, then diffs to the baseline."""
        metrics = {}
        for combiner, array, as_sums in zip(self._combiners, acc.arrays, self._as_bucket_sums):
            if as_sums:
                metrics[combiner.key] = combiner.bucket_sums(array[replicate])
            else:
                metrics.update(combiner.extract_output(array[replicate]))
        for computation in self._derived:
            metrics.update(computation.result(metrics))
        return self._add_diff_metrics(metrics)

    def _add_diff_metrics(self, metrics: MetricsDict) -> MetricsDict:
        """Candidate minus baseline for each diffable public metric, as TFMA's ``add_diff_metrics``
        (a closure inside its evaluator's PTransform, so it cannot be called from here)."""
        if not self._baseline_model:
            return metrics
        diffs = {}
        for key, value in metrics.items():
            if (
                tfma_internals.is_private_metric(key)
                or key.is_diff
                or key.model_name == self._baseline_model
            ):
                continue
            baseline_key = key.make_baseline_key(self._baseline_model)
            if baseline_key in metrics and tfma_internals.is_diffable(value):
                diffs[key.make_diff_key()] = value - metrics[baseline_key]
        metrics.update(diffs)
        return metrics

    def _with_confidence_intervals(
        self, point: MetricsDict, replicate_metrics, counts: np.ndarray
    ) -> MetricsDict:
        """TFMA's Poisson-bootstrap combiner over the point estimate and the resamples:
        ValueWithTDistribution(unsampled value, sample mean, sample std with ddof=1).

        A resample that drew none of the slice's examples is missing, as in TFMA, whose combiner
        then keeps the point estimates and says why under '__ERROR__'.
        """
        combine = tfma_internals.BootstrapSampleCombineFn(
            num_bootstrap_samples=self.num_replicates - 1, skip_ci_metric_keys=self._skip_ci_keys
        )
        accumulator = combine.create_accumulator()
        combine.add_input(
            accumulator,
            confidence_intervals_util.SampleMetrics(
                metrics=point, sample_id=tfma_internals.FULL_SAMPLE_ID
            ),
        )
        for replicate in np.flatnonzero(counts[1:]) + 1:
            combine.add_input(
                accumulator,
                confidence_intervals_util.SampleMetrics(
                    metrics=replicate_metrics(replicate), sample_id=int(replicate) - 1
                ),
            )
        return combine.extract_output(accumulator)


@functools.lru_cache(maxsize=4)
def _unpickled_plan(serialized_eval_config: bytes, compiled: tuple) -> MetricsPlan:
    return MetricsPlan(config_pb2.EvalConfig.FromString(serialized_eval_config), dict(compiled))
