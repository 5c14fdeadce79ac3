"""Drift gates on a real evaluation's drift: x1 shifted by 1.5 from the reference examples."""

import json

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox.engine.branches import DriftReference
from glassbox.engine.pipeline import run_evaluation
from glassbox.protos import validator_config_pb2
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.validation.errors import ValidatorConfigError
from glassbox.validation.validate import validate, write_validation
from tests.drift.test_drift_evaluation import EVAL_CONFIG, N, _shifted
from tests.support import saved_models


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift_gates")
    model = saved_models.export_model(str(root / "model"))
    reference = saved_models.write_tfrecords(
        str(root / "ref.gz"), saved_models.make_examples(N, seed=1)
    )
    shifted = saved_models.write_tfrecords(
        str(root / "shifted.gz"), _shifted(saved_models.make_examples(N, seed=2), "x1", 1.5)
    )
    eval_config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    config = DriftConfig(categorical_features=["count"])
    run_evaluation(eval_config, model, [reference], str(root / "plain"), drift_config=config)
    run_evaluation(
        eval_config,
        model,
        [shifted],
        str(root / "drifted"),
        drift_config=config,
        drift_reference=DriftReference("span 1", example_files=[reference]),
    )
    return {"plain": str(root / "plain"), "drifted": str(root / "drifted")}


def _config(text):
    return text_format.Parse(text, validator_config_pb2.ValidatorConfig())


def test_a_bound_on_every_feature_fails_the_shifted_one_only(evaluations, tmp_path):
    decision = validate(
        evaluations["drifted"],
        _config('drift_gates { distance: "jensen_shannon" max_distance: 0.05 }'),
    )
    assert not decision.blessed
    failed = [c for c in decision.checks if not c.passed]
    assert [c.metric for c in failed] == ["jensen_shannon of x1"]
    assert failed[0].sentence.startswith(
        "The Jensen-Shannon divergence of x1 on Overall from the reference (span 1) is "
    )
    assert failed[0].sentence.endswith("beyond the allowed 0.05.")
    assert len(decision.checks) == len(saved_models.make_examples(1)[0].features.feature)
    write_validation(decision, str(tmp_path))
    result = tfma.load_validation_result(str(tmp_path))
    [failure] = result.metric_validations_per_slice[0].failures
    assert failure.message == failed[0].sentence


@pytest.mark.parametrize("max_distance, passed", [(0.02, False), (0.9, True)])
def test_a_bound_on_the_prediction_shift_per_slice(evaluations, max_distance, passed):
    decision = validate(
        evaluations["drifted"],
        _config(
            f'drift_gates {{ distance: "kolmogorov_smirnov" max_distance: {max_distance} '
            'predictions: true slicing_specs { feature_keys: "category" } }'
        ),
    )
    assert [c.slice for c in decision.checks] == ["category:a", "category:b", "category:c"]
    assert all(c.passed is passed for c in decision.checks)
    assert all("Kolmogorov-Smirnov statistic of prediction" in c.sentence for c in decision.checks)


@pytest.mark.parametrize(
    "gate, reason",
    [
        (
            'distance: "wasserstein" max_distance: 1 features: "category"',
            "category is categorical, and has no Wasserstein distance.",
        ),
        ('distance: "psi" max_distance: 1 features: "nope"', "holds no feature nope there."),
        (
            'distance: "psi" max_distance: 1 slicing_specs { feature_values { key: "category" '
            'value: "z" } }',
            "No slice of the evaluation's drift matches category:z",
        ),
    ],
)
def test_a_gate_that_cannot_be_checked_fails_closed(evaluations, gate, reason):
    decision = validate(evaluations["drifted"], _config(f"drift_gates {{ {gate} }}"))
    assert not decision.blessed
    [check] = decision.checks
    assert not check.passed and reason in check.sentence


def test_an_evaluation_without_drift_fails_closed(evaluations):
    decision = validate(
        evaluations["plain"], _config('drift_gates { distance: "psi" max_distance: 0.2 }')
    )
    assert not decision.blessed
    assert "the evaluation holds no drift from a reference" in decision.checks[0].sentence
    assert json.loads(json.dumps(decision.checks[0].to_json()))["kind"] == "drift"


@pytest.mark.parametrize(
    "gate, field",
    [
        ('distance: "jsd" max_distance: 0.1', "drift_gates[0].distance' is 'jsd', not one of"),
        ('distance: "psi" max_distance: -1', "drift_gates[0].max_distance' must be"),
        (
            'distance: "psi" max_distance: 1 predictions: true features: "x1"',
            "drift_gates[0].features' must be empty when predictions is set",
        ),
    ],
)
def test_a_malformed_gate_is_refused_naming_the_field(evaluations, gate, field):
    with pytest.raises(ValidatorConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        validate(evaluations["drifted"], _config(f"drift_gates {{ {gate} }}"))
