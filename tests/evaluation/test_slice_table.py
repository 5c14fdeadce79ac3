"""A bundle's sums per slice stay within a memory budget: past it they leave for the merge, through
the runner's shuffle or as runs on a local disk, and the merged parts give the sums, metrics and
plots that summing everything at once gives."""

import math
import os

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from tensorflow_model_analysis.metrics import metric_specs
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.types import Batch
from glassbox.errors import OutputError
from glassbox.evaluation import slice_table
from glassbox.evaluation.beam import ComputeSlicedMetrics
from glassbox.evaluation.metrics_plan import MetricsPlan
from glassbox.evaluation.reconciliation import EVALUATED
from glassbox.evaluation.slice_table import (
    SliceTable,
    accumulator_bytes,
    expanded,
    merge_parts,
    merge_runs,
    run_paths,
    write_run,
)
from glassbox.evaluation.sparse_sums import SparseSums
from tests.support.tfma_reference import make_batch, membership_of

NUM_BATCHES, ROWS, USERS = 6, 200, 40
rng = np.random.default_rng(5)


def _batches():
    batches = []
    for _ in range(NUM_BATCHES):
        users = rng.integers(0, USERS, ROWS)
        batch = make_batch(
            {"": rng.integers(0, 2, ROWS).astype(float)},
            {"": rng.random(ROWS)},
            {"": rng.uniform(0.5, 2.0, ROWS)},
        )
        features = pa.RecordBatch.from_pydict({"user": [[f"u{u}"] for u in users]})
        batches.append(Batch(features, batch.labels, batch.predictions, batch.example_weights))
    return batches


BATCHES = _batches()
EVAL_CONFIG = config_pb2.EvalConfig(
    model_specs=[config_pb2.ModelSpec(label_key="label")],
    metrics_specs=metric_specs.default_binary_classification_specs(),
    slicing_specs=[config_pb2.SlicingSpec(), config_pb2.SlicingSpec(feature_keys=["user"])],
)


def _accumulators(plan):
    """Each batch's (slice key, accumulator) pairs: overall and by user."""
    for batch in BATCHES:
        users = [row[0] for row in batch.features.column("user").to_pylist()]
        membership = membership_of([[(), (("user", u),)] for u in users])
        yield plan.accumulate(batch, membership, np.ones((1, batch.num_rows)))


def _dense(sums):
    return sums.dense() if isinstance(sums, SparseSums) else sums


def _assert_same_sums(ours, theirs):
    """The very sums, each held as the other holds it (sparse or dense)."""
    for a, b in zip(ours.arrays, theirs.arrays):
        assert type(a) is type(b)
        np.testing.assert_array_equal(_dense(a), _dense(b))
    np.testing.assert_array_equal(ours.counts, theirs.counts)
    np.testing.assert_array_equal(ours.weights, theirs.weights)


def test_sums_past_the_budget_leave_the_table_and_merge_to_the_same_sums(monkeypatch):
    monkeypatch.setattr(slice_table, "BATCHES_PER_COUNT", 1)
    plan = MetricsPlan(EVAL_CONFIG)
    table = SliceTable(plan, budget_bytes=0)
    parts, by_slice = {}, {}
    for accumulators in _accumulators(plan):
        # Every batch outgrows a budget of nothing: all of its slices leave, the table empties.
        assert table.add(accumulators)
        drained = list(table.drain())
        assert [key for key, _ in drained] == sorted(
            {key for key, _ in accumulators}, key=lambda key: (len(key), repr(key))
        )
        assert len(table) == 0
        for key, part in drained:
            parts.setdefault(key, []).append(part)
        for key, accumulator in accumulators:
            by_slice.setdefault(key, []).append(accumulator)
    for key, accumulators in by_slice.items():
        _assert_same_sums(merge_parts(plan, parts[key]), plan.merge(accumulators))


def test_sums_within_the_budget_stay_until_drained():
    plan = MetricsPlan(EVAL_CONFIG)
    table = SliceTable(plan)
    by_slice = {}
    for accumulators in _accumulators(plan):
        assert not table.add(accumulators)
        for key, accumulator in accumulators:
            by_slice.setdefault(key, []).append(accumulator)
    drained = dict(table.drain())
    assert drained.keys() == by_slice.keys() and len(table) == 0
    for key, accumulators in by_slice.items():
        expected = plan.merge(accumulators)
        _assert_same_sums(expanded(drained[key]), expected)
        assert accumulator_bytes(expected) < slice_table.BUDGET_BYTES


def test_runs_merge_slice_by_slice_to_the_same_sums_and_are_deleted(tmp_path):
    """A run per batch, as a bundle past its budget writes them: merged side by side, each
    slice's parts in the runs' order, then deleted with their directory."""
    plan = MetricsPlan(EVAL_CONFIG)
    directory = tmp_path / "runs"
    directory.mkdir()
    paths, by_slice = run_paths(str(directory)), {}
    runs = []
    for accumulators in _accumulators(plan):
        table = SliceTable(plan)
        table.add(accumulators)
        runs.append(write_run(next(paths), table.drain()))
        for key, accumulator in accumulators:
            by_slice.setdefault(key, []).append(accumulator)
    assert runs == sorted(runs)
    merged = list(merge_runs(list(reversed(runs)), plan))
    # The overall slice first, then by columns and text.
    assert [key for key, _ in merged] == sorted(by_slice, key=lambda key: (len(key), repr(key)))
    assert merged[0][0] == ()
    for key, accumulator in merged:
        _assert_same_sums(accumulator, plan.merge(by_slice[key]))
    assert not directory.exists()


def test_a_run_that_cannot_be_written_is_a_clear_error(tmp_path):
    gone = tmp_path / "gone"
    with pytest.raises(OutputError, match=f"cannot write the slices' sums to {gone}.*TMPDIR"):
        write_run(str(gone / "run"), [((), b"part")])


@pytest.mark.parametrize(
    "args, in_process",
    [
        ([], True),
        (["--runner=FnApiRunner"], True),
        (["--runner=DirectRunner"], True),
        (["--runner=FlinkRunner"], False),
        (["--runner=PortableRunner", "--job_endpoint=localhost:1"], False),
        (["--runner=DataflowRunner"], False),
    ],
)
def test_runs_are_written_locally_only_on_beams_in_process_runners(args, in_process, tmp_path):
    directory = slice_table.run_directory(PipelineOptions(args))
    assert (directory is not None) == in_process
    if directory:
        assert os.path.isdir(directory) and os.listdir(directory) == []


# What the pipelines below output (DoFns are pickled by reference to this module's functions).
_COLLECTED = {}


def _collect(element, name):
    _COLLECTED.setdefault(name, []).append(element)


def _evaluated():
    """The metrics and plots per slice key of ComputeSlicedMetrics on BATCHES."""
    _COLLECTED.clear()
    with beam.Pipeline() as pipeline:
        outputs = (
            pipeline | beam.Create(BATCHES, reshuffle=False) | ComputeSlicedMetrics(EVAL_CONFIG)
        )
        for name in ("metrics", "plots"):
            _ = outputs[name] | f"Collect{name}" >> beam.Map(_collect, name)
        assert_that(outputs[EVALUATED], equal_to([NUM_BATCHES * ROWS]))
    return {name: dict(elements) for name, elements in _COLLECTED.items()}


@pytest.mark.parametrize("merge", ["runs", "shuffle"])
def test_an_evaluation_past_its_budget_computes_the_same_metrics_and_plots(merge, monkeypatch):
    """Beam's in-process runner merges runs on a local disk; other runners' shuffles take the
    parts themselves: past the budget, either gives what the sums held at once give."""
    within = _evaluated()
    if merge == "shuffle":
        monkeypatch.setattr(slice_table, "run_directory", lambda options: None)
    monkeypatch.setattr(slice_table, "BUDGET_BYTES", 0)
    monkeypatch.setattr(slice_table, "BATCHES_PER_COUNT", 1)
    past = _evaluated()
    assert within["metrics"].keys() == past["metrics"].keys()
    assert len(within["metrics"]) == USERS + 1
    for slice_key, metrics in within["metrics"].items():
        assert metrics.keys() == past["metrics"][slice_key].keys()
        for metric, value in metrics.items():
            other = past["metrics"][slice_key][metric]
            if isinstance(value, float):
                assert math.isclose(value, other, rel_tol=1e-12), (slice_key, metric)
            else:
                assert value == other, (slice_key, metric)
    assert sorted(map(repr, within["plots"].items())) == sorted(map(repr, past["plots"].items()))
