"""End to end, glassbox's run_evaluation writes what tfma.run_model_analysis writes.

Each case runs both on the same real SavedModel(s), gzip TFRecords and EvalConfig, loads both
output directories with TFMA's own loader and compares every metric and plot value key by key:
example counts exactly, everything else within RTOL (ATOL for values near zero, e.g. diffs).

TFMA runs dominate the time (about 20-40 s each here), so each case makes one run and several
tests share it; the binary case (candidate + baseline) runs by default, the others are slow.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Dict, Tuple

import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.api import model_eval_lib
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib

from benchmarks import eval_results, synthetic
from benchmarks.eval_results import Flat, Id
from glassbox.engine.pipeline import run_evaluation
from glassbox.validation.validate import validate

RTOL, ATOL = 1e-4, 1e-7
NUM_EXAMPLES = 2000
CANDIDATE, BASELINE = "candidate", "baseline"
CLASS_WEIGHTS = {0: 1.0, 1: 2.0, 2: 1.0}  # macro averages over all classes need them

# Slicing specs: overall, a categorical feature, one feature value, a multi-valued feature (an
# example is in the slice of each of its tags) and a cross of a categorical and the multi-valued.
SLICING_SPECS = [
    config_pb2.SlicingSpec(),
    config_pb2.SlicingSpec(feature_keys=[synthetic.SEGMENT_KEY]),
    config_pb2.SlicingSpec(feature_values={synthetic.REGION_KEY: "north"}),
    config_pb2.SlicingSpec(feature_keys=[synthetic.TAGS_KEY]),
    config_pb2.SlicingSpec(feature_keys=[synthetic.REGION_KEY, synthetic.TAGS_KEY]),
]

# Cross slices: the overall slice minus each segment (with a threshold on the AUC gap), and the
# north region minus every other slice.
CROSS_SLICING_SPECS = [
    config_pb2.CrossSlicingSpec(
        baseline_spec=config_pb2.SlicingSpec(),
        slicing_specs=[config_pb2.SlicingSpec(feature_keys=[synthetic.SEGMENT_KEY])],
    ),
    config_pb2.CrossSlicingSpec(
        baseline_spec=config_pb2.SlicingSpec(feature_values={synthetic.REGION_KEY: "north"})
    ),
]
AUC_GAP = 0.02


def evaluate_both(
    tmp_dir: str, eval_config: config_pb2.EvalConfig, model_dirs: Dict[str, str], example_files
) -> Tuple[str, str]:
    """Runs TFMA and glassbox on the same inputs; returns (TFMA's, glassbox's) output directories.

    model_dirs is keyed by ModelSpec.name; a spec with is_baseline names the baseline. The
    example files are all the files of their directory.
    """
    baseline = next((s.name for s in eval_config.model_specs if s.is_baseline), None)
    candidate = next(s.name for s in eval_config.model_specs if not s.is_baseline)
    shared_models = [
        model_eval_lib.default_eval_shared_model(path, eval_config=eval_config, model_name=name)
        for name, path in model_dirs.items()
    ]
    tfma_dir, ours_dir = os.path.join(tmp_dir, "tfma"), os.path.join(tmp_dir, "glassbox")
    model_eval_lib.run_model_analysis(
        shared_models if len(shared_models) > 1 else shared_models[0],
        eval_config,
        data_location=os.path.join(os.path.dirname(example_files[0]), "*"),
        output_path=tfma_dir,
    )
    run_evaluation(
        eval_config,
        model_dirs[candidate],
        example_files,
        ours_dir,
        baseline_model_dir=model_dirs.get(baseline),
    )
    return tfma_dir, ours_dir


def load_both(output_dirs: Tuple[str, str]) -> Tuple[Flat, Flat]:
    return eval_results.load_flat(output_dirs[0]), eval_results.load_flat(output_dirs[1])


def assert_parity(
    expected: Flat, actual: Flat, where: Callable[[Id], bool] = lambda key: True
) -> None:
    """Asserts that the selected metric/plot keys are the same on both sides and their values agree."""
    expected = {k: v for k, v in expected.items() if where(k[2])}
    actual = {k: v for k, v in actual.items() if where(k[2])}
    assert expected, "the selection matches no TFMA output"
    assert sorted(map(repr, expected.keys() - actual.keys()))[:20] == [], (
        "TFMA keys missing from ours"
    )
    assert sorted(map(repr, actual.keys() - expected.keys()))[:20] == [], "keys TFMA does not write"
    counts = {k: v for k, v in expected.items() if k[2].name == "example_count"}
    assert counts and {k: actual[k] for k in counts} == counts
    assert dict(list(eval_results.mismatches(expected, actual, RTOL, ATOL).items())[:20]) == {}


def names(flat: Flat) -> set:
    """The metric names in a flat output."""
    return {key[2].name for key in flat if key[0] == "metrics"}


def slice_keys(flat: Flat) -> set:
    return {key[1] for key in flat}


def model_spec(
    name: str = "", weighted: bool = True, is_baseline: bool = False
) -> config_pb2.ModelSpec:
    return config_pb2.ModelSpec(
        name=name,
        label_key=synthetic.LABEL_KEY,
        is_baseline=is_baseline,
        example_weight_key=synthetic.WEIGHT_KEY if weighted else "",
    )


def _write(tmp_dir: str, dataset: synthetic.Dataset, **train) -> Tuple[list, str]:
    files = synthetic.write_tfrecords(dataset, os.path.join(tmp_dir, "examples"), num_shards=2)
    return files, synthetic.train_and_export(dataset, os.path.join(tmp_dir, "model"), **train)


@pytest.fixture(scope="module")
def binary_dirs(tmp_path_factory) -> Tuple[str, str]:
    """Weighted binary candidate + baseline on generated data: TFMA's default binary metrics
    and plots plus the whole confusion-matrix family, on every kind of slicing spec."""
    tmp_dir = str(tmp_path_factory.mktemp("binary"))
    dataset = synthetic.synthetic(synthetic.BINARY, NUM_EXAMPLES, seed=1)
    files, candidate_dir = _write(tmp_dir, dataset)
    baseline_dir = synthetic.train_and_export(
        dataset, os.path.join(tmp_dir, "baseline"), epochs=1, seed=7
    )
    thresholds = [0.25, 0.5, 0.75]
    family = tfma.metrics.specs_from_metrics(
        [
            tfma.metrics.TruePositives(thresholds=thresholds),
            tfma.metrics.FalsePositives(thresholds=thresholds),
            tfma.metrics.TrueNegatives(thresholds=thresholds),
            tfma.metrics.FalseNegatives(thresholds=thresholds),
            tfma.metrics.Precision(name="precision_at_thresholds", thresholds=thresholds),
            tfma.metrics.Recall(name="recall_at_thresholds", thresholds=thresholds),
            tfma.metrics.F1Score(),
            tfma.metrics.Specificity(),
            tfma.metrics.FallOut(),
            tfma.metrics.MissRate(),
            tfma.metrics.PrecisionAtRecall(recall=0.5),
            tfma.metrics.RecallAtPrecision(precision=0.7),
            tfma.metrics.BinaryCrossEntropy(),
        ],
        model_names=[CANDIDATE, BASELINE],
        include_example_count=False,
        include_weighted_example_count=False,
    )
    eval_config = config_pb2.EvalConfig(
        model_specs=[model_spec(CANDIDATE), model_spec(BASELINE, is_baseline=True)],
        metrics_specs=tfma.metrics.default_binary_classification_specs(
            model_names=[CANDIDATE, BASELINE]
        )
        + family,
        slicing_specs=SLICING_SPECS,
        cross_slicing_specs=CROSS_SLICING_SPECS,
    )
    auc = next(m for s in eval_config.metrics_specs for m in s.metrics if m.class_name == "AUC")
    auc.cross_slice_thresholds.add(
        cross_slicing_specs=CROSS_SLICING_SPECS[:1]
    ).threshold.value_threshold.upper_bound.value = AUC_GAP
    return evaluate_both(
        tmp_dir, eval_config, {CANDIDATE: candidate_dir, BASELINE: baseline_dir}, files
    )


@pytest.fixture(scope="module")
def binary(binary_dirs) -> Tuple[Flat, Flat]:
    return load_both(binary_dirs)


def test_binary_metrics_and_plots_match_tfma_on_every_slicing_spec(binary):
    expected, actual = binary
    assert_parity(expected, actual, lambda key: key.model_name == CANDIDATE and not key.is_diff)
    assert {
        (),
        (("segment", "seg_3"),),
        (("region", "north"),),
        (("tags", "b"),),
        (("region", "west"), ("tags", "c")),
    } <= slice_keys(actual)
    assert {
        "f1_score",
        "precision_at_recall",
        "binary_crossentropy",
        "calibration",
        "auc",
    } <= names(actual)
    assert {"calibrationHistogramBuckets", "confusionMatrixAtThresholds"} <= {
        k[4] for k in actual if k[0] == "plots"
    }


def test_baseline_and_diff_metrics_match_tfma(binary):
    expected, actual = binary
    assert_parity(expected, actual, lambda key: key.model_name == BASELINE)
    assert_parity(expected, actual, lambda key: key.is_diff)
    assert "auc" in {k[2].name for k in actual if k[2].is_diff}


def test_tfma_load_eval_result_reads_ours_as_it_reads_its_own(binary_dirs):
    tfma_dir, ours_dir = binary_dirs
    expected, actual = eval_results.load_view_flat(tfma_dir), eval_results.load_view_flat(ours_dir)
    assert expected.keys() == actual.keys()
    assert eval_results.mismatches(expected, actual, RTOL, ATOL) == {}


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory) -> Tuple[Flat, Flat]:
    """3 classes on generated data: TFMA's default multi-class metrics, binarized per class id
    and top k, micro-averaged (the default), plus macro and weighted-macro averages."""
    tmp_dir = str(tmp_path_factory.mktemp("multiclass"))
    files, model_dir = _write(
        tmp_dir, synthetic.synthetic(synthetic.MULTICLASS, NUM_EXAMPLES, seed=2)
    )
    averaged = [
        spec
        for kind in (
            "macro_average",
            "weighted_macro_average",
        )  # distinct names: keys would collide
        for spec in tfma.metrics.specs_from_metrics(
            [
                tfma.metrics.Precision(name=f"{kind}_precision"),
                tfma.metrics.Recall(name=f"{kind}_recall"),
                tfma.metrics.AUC(name=f"{kind}_auc"),
            ],
            aggregate=config_pb2.AggregationOptions(class_weights=CLASS_WEIGHTS, **{kind: True}),
            include_example_count=False,
            include_weighted_example_count=False,
        )
    ]
    eval_config = config_pb2.EvalConfig(
        model_specs=[model_spec()],
        metrics_specs=tfma.metrics.default_multi_class_classification_specs(
            binarize=config_pb2.BinarizationOptions(
                class_ids={"values": [0, 1, 2]}, top_k_list={"values": [2]}
            )
        )
        + averaged,
        slicing_specs=SLICING_SPECS[:2],
    )
    return load_both(evaluate_both(tmp_dir, eval_config, {"": model_dir}, files))


@pytest.mark.slow
def test_multiclass_metrics_and_plots_match_tfma(multiclass):
    expected, actual = multiclass
    assert_parity(expected, actual)
    assert {"class_id { value: 2 }", "top_k { value: 2 }"} <= {k[2].sub_key for k in actual}
    # TFMA keys weighted macro averages with aggregation_type macro_average too.
    assert {
        ("precision", "micro_average: true"),
        ("macro_average_auc", "macro_average: true"),
        ("weighted_macro_average_auc", "macro_average: true"),
    } <= {(k[2].name, k[2].aggregation_type) for k in actual}
    assert "multi_class_confusion_matrix_plot" in {k[2].name for k in actual if k[0] == "plots"}


@pytest.fixture(scope="module")
def regression(tmp_path_factory) -> Tuple[Flat, Flat]:
    """Generated regression: TFMA's default regression metrics (with a calibration plot over the
    label range) plus TFMA's own MSE, MAE and MAPE."""
    tmp_dir = str(tmp_path_factory.mktemp("regression"))
    dataset = synthetic.synthetic(synthetic.REGRESSION, NUM_EXAMPLES, seed=3)
    files, model_dir = _write(tmp_dir, dataset)
    errors = tfma.metrics.specs_from_metrics(
        [
            tfma.metrics.MeanSquaredError(),
            tfma.metrics.MeanAbsoluteError(),
            tfma.metrics.MeanAbsolutePercentageError(),
        ],
        include_example_count=False,
        include_weighted_example_count=False,
    )
    eval_config = config_pb2.EvalConfig(
        model_specs=[model_spec()],
        metrics_specs=tfma.metrics.default_regression_specs(
            min_value=float(dataset.labels.min()), max_value=float(dataset.labels.max())
        )
        + errors,
        slicing_specs=SLICING_SPECS[:2],
    )
    return load_both(evaluate_both(tmp_dir, eval_config, {"": model_dir}, files))


@pytest.mark.slow
def test_regression_metrics_and_plots_match_tfma(regression):
    expected, actual = regression
    assert_parity(expected, actual)
    assert {
        "mse",
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "calibration",
    } <= names(actual)


@pytest.mark.slow
@pytest.mark.parametrize(
    "load", [synthetic.breast_cancer, synthetic.iris], ids=["breast_cancer", "iris"]
)
def test_real_dataset_metrics_match_tfma(tmp_path, load):
    """scikit-learn's datasets, unweighted, sliced by a quartile of one feature."""
    dataset = load()
    files, model_dir = _write(str(tmp_path), dataset)
    specs = (
        tfma.metrics.default_binary_classification_specs()
        if dataset.task == synthetic.BINARY
        else tfma.metrics.default_multi_class_classification_specs(
            binarize=config_pb2.BinarizationOptions(class_ids={"values": [0, 1, 2]})
        )
    )
    eval_config = config_pb2.EvalConfig(
        model_specs=[model_spec(weighted=False)],
        metrics_specs=specs,
        slicing_specs=[
            config_pb2.SlicingSpec(),
            config_pb2.SlicingSpec(feature_keys=[synthetic.SEGMENT_KEY]),
        ],
    )
    expected, actual = load_both(evaluate_both(str(tmp_path), eval_config, {"": model_dir}, files))
    assert_parity(expected, actual)
    assert len(slice_keys(actual)) == 5


def test_cross_slices_are_written_as_tfma_writes_them(binary):
    _, actual = binary
    segments = {k for k in slice_keys(actual) if len(k) == 1 and k[0][0] == synthetic.SEGMENT_KEY}
    north = (synthetic.REGION_KEY, "north")
    assert {((), segment) for segment in segments} <= slice_keys(actual)
    assert {((north,), ()), ((north,), segments.pop())} <= slice_keys(actual)


def test_cross_slice_thresholds_give_tfmas_verdict_with_a_sentence_each(binary_dirs):
    tfma_dir, ours_dir = binary_dirs
    expected = tfma.load_validation_result(tfma_dir)
    decision = validate(ours_dir)
    checks = [c for c in decision.checks if isinstance(c.slicing_spec, config_pb2.CrossSlicingSpec)]
    assert {c.slice_key[0] for c in checks} == {()} and len(checks) == 10  # Overall vs 10 segments
    failing = {c.slice_key for c in checks if not c.passed}
    assert failing == {
        slicer_lib.deserialize_cross_slice_key(v.cross_slice_key)
        for v in expected.metric_validations_per_slice
    }
    assert 0 < len(failing) < len(checks), [c.sentence for c in checks]
    assert decision.validation_result.validation_ok is expected.validation_ok is False
    assert failing == {
        slicer_lib.deserialize_cross_slice_key(v.cross_slice_key)
        for v in decision.validation_result.metric_validations_per_slice
    }
    sentence = next(c for c in checks if not c.passed).sentence
    assert re.fullmatch(
        r"auc \(example-weighted\) on Overall minus segment:seg_\d is [\d.]+, above the upper bound 0\.02\.",
        sentence,
    ), sentence
