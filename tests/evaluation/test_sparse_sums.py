"""Sparse per-slice sums are bit-identical to dense ones, merge as dense ones do, turn dense past
1/8 of their cells, pickle for Beam, and keep many small slices' accumulators small."""

import pickle

import apache_beam as beam
import numpy as np
import pytest
from tensorflow_model_analysis.metrics import metric_specs

from glassbox.evaluation import sparse_sums
from glassbox.evaluation.metrics_plan import MetricsPlan, SliceAccumulator
from glassbox.evaluation.sparse_sums import SparseSums, add_into, sums_by_group
from tests.evaluation.test_metrics_plan import _config
from tests.support.tfma_reference import assert_equivalent, make_batch, membership_of

rng = np.random.default_rng(5)
SHAPE = (3, 50, 4)  # replicates, cells, value columns
SIZE = int(np.prod(SHAPE))


def _dense(sums) -> np.ndarray:
    return sums.dense() if isinstance(sums, SparseSums) else sums


def _identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _elements(num_groups: int, touched: int, repeats: int = 1):
    """Values at `touched` random cells of each group, each cell `repeats` times in random order;
    values span many magnitudes so that any change in summation order changes the bits."""
    cells = np.concatenate(
        [g * SIZE + rng.choice(SIZE, touched, replace=False) for g in range(num_groups)]
    )
    index = rng.permutation(np.repeat(cells, repeats))
    values = rng.standard_normal(len(index)) * 10.0 ** rng.integers(-8, 9, len(index))
    return index, values


def _reference(index, values, num_groups, shape=SHAPE):
    size = int(np.prod(shape))
    return np.bincount(index, weights=values, minlength=num_groups * size).reshape(
        (num_groups,) + shape
    )


@pytest.mark.parametrize(
    "touched, repeats", [(1, 3), (20, 3), (SIZE // 8, 1), (SIZE // 8 + 1, 1), (SIZE, 2), (20, 40)]
)
def test_sums_by_group_are_bincounts_bit_for_bit_and_dense_past_an_eighth(touched, repeats):
    """A group's sums are sparse unless more than 1/8 of its cells are touched, or the batch's
    elements outnumber 1/8 of all groups' cells (then dense sums cost < 8x the elements)."""
    index, values = _elements(num_groups=4, touched=touched, repeats=repeats)
    sums = sums_by_group(index, values, 4, SHAPE)
    reference = _reference(index, values, 4)
    sparse = touched * 8 <= SIZE and len(index) * 8 <= 4 * SIZE
    assert len(sums) == 4
    for group, part in enumerate(sums):
        assert _identical(_dense(part), reference[group])
        assert isinstance(part, SparseSums) == sparse
        for replicate in range(SHAPE[0]):
            assert _identical(np.asarray(part[replicate]), reference[group, replicate])


def test_merging_in_any_mix_of_sparse_and_dense_is_dense_addition_bit_for_bit():
    parts = []
    for touched, repeats in [(3, 2), (3, 2), (40, 1), (SIZE, 2), (10, 2), (5, 2)]:
        index, values = _elements(1, touched, repeats)
        parts.append((sums_by_group(index, values, 1, SHAPE)[0], _reference(index, values, 1)[0]))
    assert {type(p) for p, _ in parts} == {SparseSums, np.ndarray}
    total, expected = parts[0][0].copy(), parts[0][1].copy()
    kinds = []
    for part, dense in parts[1:]:
        total = add_into(total, part)
        expected += dense
        kinds.append(type(total))
        assert _identical(_dense(total), expected)
    assert kinds[:2] == [SparseSums, SparseSums] and kinds[-1] is np.ndarray
    # The first part was copied, not added to.
    assert _identical(_dense(parts[0][0]), parts[0][1])


def test_a_slice_s_many_small_parts_merge_into_sorted_cells_as_dense_addition_does():
    """As a slice seen in many batches merges: each part touches a cell or two, some of them new,
    some already in the total (among them the first and the last)."""
    total = sums_by_group(np.array([7, 90]), np.array([0.5, 2.0]), 1, SHAPE)[0]
    expected = total.dense()
    for _ in range(20):  # at most 62 cells: sparse (up to 1/8 of 600)
        index, values = _elements(1, int(rng.integers(1, 3)))
        if rng.random() < 0.3:
            index = np.append(index, rng.choice([7, 90, int(total.index[-1])]))
            values = np.append(values, 1e-3)
        part = sums_by_group(index, values, 1, SHAPE)[0]
        total = add_into(total, part)
        expected += part.dense()
        assert isinstance(total, SparseSums) and np.all(np.diff(total.index) > 0)
        assert _identical(total.dense(), expected)


def test_a_part_of_cells_the_total_holds_adds_to_them_and_leaves_the_old_total_as_it_was():
    total = sums_by_group(np.array([7, 90, 300]), np.array([0.5, 2.0, 1e-9]), 1, SHAPE)[0]
    before = total.copy()
    part = sums_by_group(np.array([90, 300, 90]), np.array([1e8, 3.0, -1.5]), 1, SHAPE)[0]
    merged = add_into(total, part)
    assert merged.index.tolist() == [7, 90, 300]
    assert _identical(merged.dense(), before.dense() + part.dense())
    assert _identical(total.dense(), before.dense())  # Beam may hold the old total elsewhere


def test_sparse_sums_grow_to_the_larger_shape_as_dense_ones_do():
    small = sums_by_group(np.array([1, 7, 7]), np.array([1.5, 2.0, 0.25]), 1, (1, 4, 5, 2))[0]
    large = sums_by_group(np.array([0, 40]), np.array([3.0, 4.0]), 1, (1, 6, 6, 3))[0]
    assert isinstance(small, SparseSums) and isinstance(large, SparseSums)
    grown = add_into(small, large)
    expected = np.zeros((1, 6, 6, 3))
    expected[:, :4, :5, :2] = small.dense()
    expected += large.dense()
    assert isinstance(grown, SparseSums) and grown.shape == (1, 6, 6, 3)
    assert _identical(_dense(grown), expected)
    into_dense = add_into(np.zeros((1, 4, 5, 2)), large)
    assert _identical(into_dense, large.dense())


def test_densify_threshold_is_one_eighth_of_the_cells():
    shape = (1, 16, 1)  # 16 cells: sparse up to 2 touched
    two = sums_by_group(np.array([0, 5]), np.ones(2), 1, shape)[0]
    assert isinstance(two, SparseSums)
    third = sums_by_group(np.array([9]), np.ones(1), 1, shape)[0]
    merged = add_into(two, third)
    assert isinstance(merged, np.ndarray)
    assert merged.reshape(-1)[[0, 5, 9]].tolist() == [1.0, 1.0, 1.0]


def test_accumulators_pickle_as_beam_does_and_compute_the_same_after():
    index, values = _elements(2, 5, repeats=3)
    accumulator = SliceAccumulator(
        sums_by_group(index, values, 2, SHAPE), np.array([3.0]), np.array([2.5])
    )
    coder = beam.coders.registry.get_coder(object)
    for copy in (pickle.loads(pickle.dumps(accumulator)), coder.decode(coder.encode(accumulator))):
        for original, restored in zip(accumulator.arrays, copy.arrays):
            assert type(restored) is type(original)
            assert _identical(_dense(restored), _dense(original))


def test_many_small_slices_accumulate_in_little_memory_and_compute_as_dense_ones(monkeypatch):
    """200 slices of 1-4 examples, TFMA's default binary metrics and plots (a 10,002-bucket
    calibration histogram), with 3 bootstrap replicates each: sparse sums hold a tiny fraction of
    the dense bytes, and the merged accumulators and their metrics are identical."""
    num_rows, num_slices = 400, 200
    batch = make_batch(
        {"": rng.integers(0, 2, num_rows).astype(float)},
        {"": rng.random(num_rows)},
        {"": rng.uniform(0.5, 2.0, num_rows)},
    )
    slices = [[(), (("user", int(u)),)] for u in rng.integers(0, num_slices, num_rows)]
    multipliers = np.vstack([np.ones(num_rows), rng.poisson(1.0, (2, num_rows))])
    plan = MetricsPlan(_config(metric_specs.default_binary_classification_specs()))

    def merged_halves():
        merged = {}
        for rows in (slice(None, num_rows // 2), slice(num_rows // 2, None)):
            half = make_batch(
                {"": batch.labels[""][rows]},
                {"": batch.predictions[""][rows]},
                {"": batch.example_weights[""][rows]},
            )
            for key, acc in plan.accumulate(
                half, membership_of(slices[rows]), multipliers[:, rows]
            ):
                merged[key] = plan.merge([merged[key], acc]) if key in merged else acc
        return merged

    sparse = merged_halves()
    monkeypatch.setattr(sparse_sums, "DENSE_FRACTION", 10**18)  # every sum dense
    dense = merged_halves()
    assert sparse.keys() == dense.keys() and len(sparse) > 150
    sparse_bytes = sum(
        a.index.nbytes + a.values.nbytes if isinstance(a, SparseSums) else a.nbytes
        for acc in sparse.values()
        for a in acc.arrays
    )
    dense_bytes = sum(a.nbytes for acc in dense.values() for a in acc.arrays)
    assert sparse_bytes < dense_bytes / 100
    for key in sparse:
        for ours, reference in zip(sparse[key].arrays, dense[key].arrays):
            assert _identical(_dense(ours), reference)
    for key in [(), next(k for k in sparse if k)]:
        assert_equivalent(
            plan.compute(key, dense[key]), plan.compute(key, sparse[key]), rtol=0.0, path=str(key)
        )
