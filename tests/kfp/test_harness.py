"""The whole example pipeline as Kubeflow Pipelines runs it: compiled by the KFP runner, each task
run from the YAML with its real container command by tests/support/kfp_harness.py, two runs sharing one
ML Metadata store. A first model, with no baseline (the baseline step's marker), is blessed and
pushed; an untrained one, compared against it as the baseline the baseline step finds in ML
Metadata, is refused and not pushed. Along the way TFX's int custom properties become KFP doubles,
and the Pusher and the baseline step's query still read them right."""

import dataclasses
import json
import os

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from glassbox import keys
from glassbox.pipelines import baseline, data, kubeflow_runner
from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING
from tests.support.kfp_harness import LocalKfp, kfp_ui_html_pages, load_spec

# The runs, in the first test, take minutes.
pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(3600)]

FIRST = dataclasses.replace(DEFAULT_TRAINING, hidden_units=(), epochs=1)  # AUC ~0.71: passes
UNTRAINED = dataclasses.replace(DEFAULT_TRAINING, epochs=0)  # AUC ~0.42: fails every threshold
RESOLVER = baseline.RESOLVER_ID


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("kfp")
    data_root = os.path.dirname(data.write_fair_csv(str(root / "data")))
    kfp = LocalKfp(str(root / "cluster"))

    def run(run_id, training):
        path = str(root / f"{run_id}.yaml")
        kubeflow_runner.compile_pipeline(
            path,
            str(root / "pipeline_root"),
            data_root=data_root,
            serving_dir=str(root / "serving"),
            beam_pipeline_args=["--runner=DirectRunner"],
            training=training,
        )
        return kfp.run(load_spec(path), run_id)

    first = run("run-1", FIRST)
    second = run("run-2", UNTRAINED)
    return kfp, root / "serving", first, second


def _only(outputs, task, key):
    (artifact,) = outputs[task][key]
    return artifact


def _property(artifact, key):
    """A custom property as KFP stored it in ML Metadata (its launcher's conversion)."""
    value = artifact.custom_properties[key]
    return getattr(value, value.WhichOneof("value"))


def test_first_run_has_no_baseline_and_blesses_and_pushes_its_model(cluster):
    _, serving, first, _ = cluster
    no_baseline = _only(first, RESOLVER, "model")
    assert "glassbox-demo" in _property(no_baseline, keys.NO_BASELINE_PROPERTY)
    # The Evaluator and Validator took the marked Model as no baseline.
    assert "baseline_model_id" not in _only(first, "Evaluator", "evaluation").custom_properties
    model = _only(first, "Trainer", "model")
    blessing = _only(first, "Validator", "blessing")
    assert "baseline_model_id" not in blessing.custom_properties
    # TFX wrote ints; KFP stores them as doubles ...
    assert _property(blessing, "blessed") == 1.0
    assert _property(blessing, "rubber_stamp") == 1.0
    # ... and model ids as the model's artifact name (its MLMD id), which the baseline step looks up.
    assert _property(blessing, "current_model_id") == str(model.id)
    assert os.path.exists(os.path.join(blessing.uri, "BLESSED"))

    pushed = _only(first, "Pusher", "pushed_model")
    assert _property(pushed, "pushed") == 1.0  # the Pusher read blessed = 1.0 as blessed
    (version,) = tf.io.gfile.listdir(str(serving))
    assert _property(pushed, "pushed_destination").rstrip("/") == os.path.join(
        str(serving), version.rstrip("/")
    )
    assert tf.saved_model.contains_saved_model(os.path.join(str(serving), version))


def test_second_run_compares_with_the_first_model_found_in_ml_metadata(cluster):
    _, _, first, second = cluster
    baseline = _only(second, RESOLVER, "model")
    first_model = _only(first, "Trainer", "model")
    # A copy of the first run's model, in this run's root (the launcher records no other).
    assert tf.saved_model.contains_saved_model(os.path.join(baseline.uri, "Format-Serving"))
    assert _property(baseline, keys.RESOLVED_MODEL_URI_PROPERTY) == first_model.uri
    assert _property(baseline, keys.RESOLVED_MODEL_ID_PROPERTY) == str(first_model.id)
    assert _property(baseline, keys.RESOLVED_BLESSING_ID_PROPERTY) == str(
        _only(first, "Validator", "blessing").id
    )
    assert keys.NO_BASELINE_PROPERTY not in baseline.custom_properties

    evaluation = _only(second, "Evaluator", "evaluation")
    assert _property(evaluation, "baseline_model_id") == str(baseline.id)
    auc = {
        model: tfma.load_eval_result(evaluation.uri, model_name=model).get_metrics_for_slice()[
            "auc"
        ]["doubleValue"]
        for model in ("candidate", "baseline")
    }
    assert auc["candidate"] < 0.6 < auc["baseline"]


def test_untrained_model_is_refused_and_not_pushed(cluster):
    _, serving, _, second = cluster
    blessing = _only(second, "Validator", "blessing")
    assert _property(blessing, "blessed") == 0.0
    assert _property(blessing, "rubber_stamp") == 0.0
    assert os.path.exists(os.path.join(blessing.uri, "NOT_BLESSED"))
    with open(os.path.join(_only(second, "Validator", "validation").uri, "decision.json")) as f:
        decision = json.load(f)
    assert decision["blessed"] is False
    assert (
        decision["baseline"]["uri"] == _only(second, RESOLVER, "model").uri
    )  # the copy of the first model

    assert _property(_only(second, "Pusher", "pushed_model"), "pushed") == 0.0
    assert len(tf.io.gfile.listdir(str(serving))) == 1  # still only the first model


def test_the_evaluator_and_validator_reports_are_pages_the_kfp_ui_shows(cluster):
    """Each run's Evaluator and Validator task outputs its report as KFP records it: of type
    system.HTML, with a display name, the file at its URI being the page."""
    kfp, _, first, second = cluster
    for outputs in (first, second):
        for task, output, report_dir in (
            ("Evaluator", "evaluation", "evaluation"),
            ("Validator", "blessing", "validation"),
        ):
            (event,) = [
                e
                for e in kfp.store.get_events_by_artifact_ids([_only(outputs, task, output).id])
                if e.type == e.OUTPUT
            ]
            with open(os.path.join(_only(outputs, task, report_dir).uri, keys.REPORT_FILE)) as f:
                assert list(kfp_ui_html_pages(kfp.store, event.execution_id).values()) == [f.read()]
