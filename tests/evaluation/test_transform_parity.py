"""TFX's Transform-based EvalConfigs (the corpus' penguin and taxi configs: label from the model's
transform_features signature, ModelSpec.preprocessing_function_names) give TFMA's values.

Each case is built as the corpus builds it (a tf.Transform graph analysed with tft_beam, a
candidate and a baseline trained on it) and run by TFMA and by glassbox, as TFX's Evaluator runs
them (TFMA's defaults with a baseline); slices on one transformed and one raw feature are added to
the config. Every metric both write is compared (TFMA may also compute the models' compiled
metrics, which glassbox does not: ``options.include_default_metrics``).
"""

from __future__ import annotations

import pytest
from tensorflow_model_analysis.utils import config_util

from benchmarks.eval_results import mismatches
from tests.evaluation.test_parity_tfma import ATOL, RTOL, evaluate_both, load_both, names
from tests.support import eval_config_cases as cases

# Corpus config -> (a transformed feature, a raw feature) to slice on, and its metric.
CASES = {
    "tfx_taxi_pipeline_native_keras": (("trip_miles_xf", "payment_type"), "binary_accuracy"),
    "tfx_penguin_pipeline_local": (
        ("body_mass_g_bucket_xf", "island"),
        "sparse_categorical_accuracy",
    ),
    "tfx_penguin_template": (("body_mass_g_bucket_xf", "island"), "sparse_categorical_accuracy"),
    "tfx_taxi_template": (("trip_miles_xf", "payment_type"), "binary_accuracy"),
}
SLOW = {"tfx_penguin_template", "tfx_taxi_template"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES]
)
def test_transform_based_config_matches_tfma(name, tmp_path):
    built = cases.build(name, str(tmp_path / "case"), n=240)
    slices, metric = CASES[name]
    config = config_util.update_eval_config_with_defaults(
        built.eval_config, has_baseline=built.has_baseline, rubber_stamp=False
    )
    for feature in slices:
        config.slicing_specs.add(feature_keys=[feature])
    model_dirs = {spec.name: built.model_dir(spec) for spec in config.model_specs}
    expected, actual = load_both(
        evaluate_both(str(tmp_path), config, model_dirs, [built.examples_path])
    )
    common = names(expected) & names(actual)
    assert metric in common, (names(expected), names(actual))
    assert {key[2].model_name for key in actual} == {"candidate", "baseline"}
    assert any(key[2].is_diff for key in actual)
    slice_columns = {column for key in actual for column, _ in key[1]}
    assert slice_columns == set(slices)
    keys = {key for key in expected if key[2].name in common}
    assert keys == {key for key in actual if key[2].name in common}
    assert {key: actual[key] for key in keys if key[2].name == "example_count"} == {
        key: expected[key] for key in keys if key[2].name == "example_count"
    }
    ours = {key: actual[key] for key in keys}
    assert (
        dict(list(mismatches({k: expected[k] for k in keys}, ours, RTOL, ATOL).items())[:20]) == {}
    )
