"""`glassbox lineage` on real LocalDagRunner runs (tests.demo_runs): each model's trail, from its
training data to its push, links exactly the artifacts the runs reported."""

import json

import pytest

from glassbox import cli
from glassbox.provenance.lineage import consumer_outputs, open_store
from glassbox.provenance.trail import decision_trail


def _ids(store_path, run):
    """MLMD ids of a run's model, blessing and PushedModel."""
    store = open_store(store_path)
    by_uri = {a.uri: a for a in store.get_artifacts()}
    blessing = by_uri[run.blessing_uri]
    (pushed,) = consumer_outputs(store, blessing)["pushed_model"]
    return by_uri[run.model_uri].id, blessing.id, pushed.id


def test_each_models_trail_links_what_its_run_reported(demo_runs):
    for run in demo_runs.runs:
        model_id, blessing_id, pushed_id = _ids(demo_runs.store, run)
        trail = decision_trail(demo_runs.store, model_id=model_id)
        assert trail.pipeline == "glassbox-demo" and trail.run
        assert (
            trail.model.uri == run.model_uri
            and trail.model.id == model_id == run.decision["candidate"]["id"]
        )
        assert [e.uri for e in trail.training.examples] == [run.examples_uri]
        assert (
            trail.training.component.endswith("Trainer") and "epochs" in trail.training.parameters
        )
        assert trail.evaluation.evaluation.uri == run.evaluation_uri
        assert trail.evaluation.examples.uri == run.examples_uri
        assert trail.evaluation.example_splits == ["eval"]
        assert [
            spec.get("feature_keys", []) for spec in trail.evaluation.eval_config["slicing_specs"]
        ] == [[], ["occupation"], ["religious"]]
        assert trail.evaluation.overall_metrics == run.overall_metrics
        assert (trail.baseline_model and trail.baseline_model.uri) == run.baseline_model_uri
        assert (
            trail.validation.blessing.uri == run.blessing_uri
            and trail.validation.blessing.id == blessing_id
        )
        assert trail.validation.blessed == run.blessed
        assert trail.validation.reason == run.decision["reason"]
        assert trail.validation.result.uri == run.validation_uri
        assert trail.validation.checks == run.decision["checks"]
        assert trail.push.pushed_model.id == pushed_id
        assert trail.push.pushed == run.blessed and trail.push.destination == run.pushed_destination
        # The same trail from the blessing; from the push when there was one.
        assert decision_trail(demo_runs.store, blessing_id=blessing_id) == trail
        if run.blessed:
            assert decision_trail(demo_runs.store, pushed_model_id=pushed_id) == trail


def test_the_latest_push_is_the_second_model_blessed_against_the_first(demo_runs):
    first, second, _ = demo_runs.runs
    trail = decision_trail(demo_runs.store, pipeline="glassbox-demo")
    assert (
        trail.model.uri == second.model_uri and trail.push.destination == second.pushed_destination
    )
    assert trail.baseline_model.uri == first.model_uri
    assert decision_trail(demo_runs.store, model_id=trail.baseline_model.id).baseline_model is None


def test_glassbox_lineage_prints_the_trail_as_text_and_json(demo_runs, capsys):
    refused = demo_runs.runs[2]
    model_id, _, _ = _ids(demo_runs.store, refused)
    assert cli.main(["lineage", "--mlmd", demo_runs.store, "--model-id", str(model_id)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Decision trail of Model {model_id} (pipeline glassbox-demo")
    for needle in (
        refused.model_uri,
        refused.examples_uri,
        refused.evaluation_uri,
        refused.validation_uri,
        refused.baseline_model_uri,
        refused.decision["reason"],
        "not pushed (not blessed)",
    ):
        assert needle in text
    failed = [c["sentence"] for c in refused.decision["checks"] if not c["passed"]]
    assert failed and all(f"FAILED   {sentence}" in text for sentence in failed)

    assert cli.main(["lineage", "--mlmd", demo_runs.store, "--latest-push", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"]["uri"] == demo_runs.runs[1].model_uri
    assert printed["push"]["destination"] == demo_runs.runs[1].pushed_destination


@pytest.mark.parametrize("case", ["unknown id", "other type", "never pushed", "other pipeline"])
def test_bad_input_exits_2_naming_the_id_store_or_pipeline(demo_runs, capsys, case):
    refused = demo_runs.runs[2]
    model_id, _, pushed_id = _ids(demo_runs.store, refused)
    store = demo_runs.store
    args, expected = {
        "unknown id": (
            ["--model-id", "99999"],
            f"ML Metadata store '{store}' holds no artifact with id 99999",
        ),
        "other type": (
            ["--blessing-id", str(model_id)],
            f"artifact {model_id} in '{store}' is a Model ({refused.model_uri}), not a ModelBlessing",
        ),
        "never pushed": (
            ["--pushed-model-id", str(pushed_id)],
            f"PushedModel {pushed_id} in '{store}' records no push: model {model_id} "
            f"({refused.model_uri}) was not pushed ({refused.decision['reason']})",
        ),
        "other pipeline": (
            ["--model-id", str(model_id), "--pipeline", "other"],
            f"ML Metadata store '{store}' holds no pipeline 'other' (its pipelines: glassbox-demo)",
        ),
    }[case]
    assert cli.main(["lineage", "--mlmd", store, *args]) == 2
    assert expected in capsys.readouterr().err
