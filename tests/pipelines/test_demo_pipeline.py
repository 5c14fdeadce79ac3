"""`glassbox demo` run for real: LocalDagRunner, SQLite MLMD, CsvExampleGen -> Trainer ->
Evaluator -> Validator -> stock Pusher, three runs on one root (a first model rubber-stamped, a
better one blessed against it, an untrained one refused), then a fourth run whose baseline is
resolved by LatestPolicyModel instead of the LatestBlessedModelStrategy Resolver."""

import contextlib
import dataclasses
import filecmp
import io
import json
import os
import re

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata

from glassbox import keys
from glassbox.cli import main
from glassbox.components.baseline_resolver.no_baseline import BaselineRefusedError
from glassbox.pipelines import baseline
from glassbox.pipelines.demo_pipeline import (
    DEFAULT_TRAINING,
    EXPLAINED_ROWS,
    MIN_AUC,
    MIN_TOP_K_OVERLAP,
    TOP_K,
)
from glassbox.pipelines.local_runner import DEMO_RUNS, run_demo
from glassbox.provenance.lineage import consumer_outputs, producer_inputs
from tests.support.kfp_harness import kfp_ui_html_pages

pytestmark = pytest.mark.integration  # whole pipelines under LocalDagRunner


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's root and what `glassbox demo` printed."""
    root = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--root", str(root)]) == 0
    return root, out.getvalue()


@pytest.fixture(scope="module")
def store(demo):
    root, _ = demo
    return metadata_store.MetadataStore(
        metadata.sqlite_metadata_connection_config(str(root / "metadata.sqlite"))
    )


@pytest.fixture(scope="module")
def runs(demo, store):
    """Per run of the demo, in order: its Model, ModelEvaluation, Validator outputs and PushedModel."""
    result = []
    for evaluation in sorted(store.get_artifacts_by_type("ModelEvaluation"), key=lambda a: a.id)[
        :3
    ]:
        outputs = consumer_outputs(store, evaluation)
        (blessing,) = outputs["blessing"]
        (pushed,) = consumer_outputs(store, blessing)["pushed_model"]
        result.append(
            {
                "model": producer_inputs(store, evaluation)["model"][0],
                "evaluation": evaluation,
                "blessing": blessing,
                "validation": outputs["validation"][0],
                "pushed": pushed,
            }
        )
    return result


def _blocks(out):
    """The printed lines of each run, by run number."""
    return {
        int(number): block
        for number, block in re.findall(r"^Run (\d) of 3: .*\n((?:  .*\n)+)", out, re.M)
    }


def _printed(block, label):
    return re.search(rf"^  {label}:\s+(.*)$", block, re.M).group(1)


def test_glassbox_demo_tells_the_story_first_rubber_stamped_better_blessed_untrained_refused(demo):
    root, out = demo
    blocks = _blocks(out)
    assert sorted(blocks) == [1, 2, 3]
    models = {n: _printed(block, "Model") for n, block in blocks.items()}
    aucs = {n: float(_printed(block, "AUC").split()[0]) for n, block in blocks.items()}

    assert _printed(blocks[1], "Baseline") == "none (no model blessed yet)"
    assert re.fullmatch(r"Blessed: .*rubber stamp\)\.", _printed(blocks[1], "Decision"))
    assert _printed(blocks[2], "Baseline") == models[1]
    assert _printed(blocks[2], "Decision").startswith("Blessed: all ")
    assert _printed(blocks[3], "Baseline") == models[2]
    assert _printed(blocks[3], "Decision").startswith("Not blessed: ")
    for n in (1, 2):
        assert re.fullmatch(
            rf"{re.escape(str(root))}/serving/\d+", _printed(blocks[n], "Pushed to")
        )
    assert _printed(blocks[3], "Pushed to") == "not pushed"
    # The refusal's reasons, one sentence each: the value and change thresholds it missed.
    reasons = re.findall(r"^    - (.*)$", blocks[3], re.M)
    (overall,) = [
        re.fullmatch(rf"auc on Overall is (\S+), below the lower bound {MIN_AUC}\.", r)
        for r in reasons
        if r.startswith("auc on Overall is") and "baseline" not in r
    ]
    assert float(overall.group(1)) == pytest.approx(aucs[3], abs=1e-4)
    assert any(r.startswith("auc on religious:") for r in reasons)
    assert any("against the baseline's" in r for r in reasons)
    assert aucs[3] < MIN_AUC < aucs[1] < aucs[2]
    assert f"ML Metadata:    {root}/metadata.sqlite" in out
    # ML Metadata ids, as lineage --model-id wants them, and the follow-up commands.
    ids = {n: int(_printed(block, "Model id").split()[0]) for n, block in blocks.items()}
    assert ids[1] < ids[2] < ids[3]
    assert f"glassbox lineage --mlmd {root}/metadata.sqlite --model-id {ids[3]}" in out
    assert f"glassbox history --mlmd {root}/metadata.sqlite --metric auc" in out


def test_the_demo_explains_each_model_checks_its_attributions_and_prints_its_reports(demo):
    _, out = demo
    blocks = _blocks(out)
    # The attribution gate: skipped without a baseline, passed by the better model, failed by the untrained one.
    assert "is skipped: there is no baseline model" in _printed(blocks[1], "Attributions")
    assert re.fullmatch(
        rf"[{MIN_TOP_K_OVERLAP}-{TOP_K}] of the candidate's top {TOP_K} attributed features on "
        r"Overall \(.*\) are among the baseline's .*",
        _printed(blocks[2], "Attributions"),
    )
    assert any(
        f"fewer than the required {MIN_TOP_K_OVERLAP}" in r
        for r in re.findall(r"^    - (.*)$", blocks[3], re.M)
    )
    for n, block in blocks.items():
        evaluation_report, validation_report = re.findall(
            r"^  (?:Reports:)?\s+(\S+) \((?:evaluation|validation)\)$", block, re.M
        )
        assert evaluation_report == os.path.join(_printed(block, "Evaluation"), "report.html")
        assert validation_report == os.path.join(_printed(block, "Validation"), "report.html")
        assert os.path.getsize(evaluation_report) > 0 and os.path.getsize(validation_report) > 0
        with open(os.path.join(_printed(block, "Evaluation"), "explanation_summary.json")) as f:
            summary = json.load(f)
        assert (
            0 < summary["sample"]["slices"]["Overall"]["explained_rows"] <= EXPLAINED_ROWS
        )  # repeated rows once
        assert (summary["shift"] is None) == (n == 1)  # shift from the baseline, once there is one


def test_the_stock_pusher_pushed_exactly_the_blessed_models(demo, runs):
    root, _ = demo
    assert [run["blessing"].custom_properties["blessed"].int_value for run in runs] == [1, 1, 0]
    for run in runs:
        blessed = run["blessing"].custom_properties["blessed"].int_value
        assert os.listdir(run["blessing"].uri) == ["BLESSED" if blessed else "NOT_BLESSED"]
        assert run["pushed"].custom_properties["pushed"].int_value == blessed
    destinations = [
        run["pushed"].custom_properties["pushed_destination"].string_value for run in runs[:2]
    ]
    assert (
        sorted(os.path.join(root, "serving", version) for version in os.listdir(root / "serving"))
        == destinations
    )
    for run, destination in zip(runs, destinations):
        assert filecmp.cmp(
            os.path.join(run["model"].uri, "Format-Serving", "saved_model.pb"),
            os.path.join(destination, "saved_model.pb"),
            shallow=False,
        )


def test_each_run_is_evaluated_and_validated_against_the_latest_blessed_model(runs, store):
    for run, expected in zip(runs, [None, runs[0]["model"], runs[1]["model"]]):
        evaluator_inputs = producer_inputs(store, run["evaluation"])
        validator_inputs = producer_inputs(store, run["blessing"])
        expected_ids = [expected.id] if expected else []
        assert [a.id for a in evaluator_inputs.get("baseline_model", [])] == expected_ids
        assert [a.id for a in validator_inputs.get("baseline_model", [])] == expected_ids


def test_mlmd_holds_the_validator_execution_with_the_model_and_the_blessing_with_every_property(
    runs, store
):
    run, previous = runs[1], runs[0]
    inputs = producer_inputs(store, run["blessing"])
    assert [a.id for a in inputs["model"]] == [run["model"].id]
    assert [a.id for a in inputs["baseline_model"]] == [previous["model"].id]
    assert [a.id for a in inputs["evaluation"]] == [run["evaluation"].id]
    (event,) = [
        e for e in store.get_events_by_artifact_ids([run["blessing"].id]) if e.type == e.OUTPUT
    ]
    (execution,) = store.get_executions_by_id([event.execution_id])
    assert store.get_execution_types_by_id([execution.type_id])[0].name.endswith("Validator")

    properties = run["blessing"].custom_properties
    assert properties["blessed"].int_value == 1
    assert properties["current_model"].string_value == run["model"].uri
    assert properties["current_model_id"].int_value == run["model"].id
    assert properties["baseline_model"].string_value == previous["model"].uri
    assert properties["baseline_model_id"].int_value == previous["model"].id
    assert properties["validation_ok"].int_value == 1
    assert properties["rubber_stamp"].int_value == 0
    assert properties["failures"].int_value == 0
    assert properties["reason"].string_value.startswith("Blessed: all ")
    assert runs[0]["blessing"].custom_properties["rubber_stamp"].int_value == 1
    refused = runs[2]["blessing"].custom_properties
    assert refused["failures"].int_value > 0 and refused["reason"].string_value.startswith(
        "Not blessed"
    )

    # The Evaluator recorded the models it evaluated; the Validator checked them.
    recorded = run["evaluation"].custom_properties
    assert recorded["current_model_id"].int_value == run["model"].id
    assert recorded["baseline_model_id"].int_value == previous["model"].id
    assert (
        store.get_artifact_types_by_id([run["validation"].type_id])[0].name
        == "glassbox.ValidationResult"
    )
    assert tfma.load_validation_result(run["validation"].uri).validation_ok
    with open(os.path.join(run["validation"].uri, "decision.json")) as f:
        decision = json.load(f)
    assert decision["candidate"]["id"] == run["model"].id
    assert decision["checks"][0]["kind"] == "evaluated_models" and decision["checks"][0]["passed"]


def test_the_evaluator_and_validator_output_their_reports_as_pages_the_kfp_ui_shows(runs, store):
    for run in runs:
        for producer_of, report_dir in (("evaluation", "evaluation"), ("blessing", "validation")):
            (event,) = [
                e
                for e in store.get_events_by_artifact_ids([run[producer_of].id])
                if e.type == e.OUTPUT
            ]
            with open(os.path.join(run[report_dir].uri, keys.REPORT_FILE)) as f:
                assert list(kfp_ui_html_pages(store, event.execution_id).values()) == [f.read()]


def test_each_model_is_a_serving_saved_model_trained_on_the_runs_examples(runs, store):
    for run in runs:
        assert tf.saved_model.contains_saved_model(os.path.join(run["model"].uri, "Format-Serving"))
        (examples,) = producer_inputs(store, run["model"])["examples"]
        assert [a.id for a in producer_inputs(store, run["evaluation"])["examples"]] == [
            examples.id
        ]


def test_tfma_reads_the_evaluation_overall_and_by_slice_feature(runs):
    evaluation = runs[1]["evaluation"]
    result = tfma.load_eval_result(evaluation.uri, model_name="candidate")
    auc = evaluation.custom_properties["overall_auc"].double_value
    assert result.get_metrics_for_slice()["auc"]["doubleValue"] == pytest.approx(auc)
    # CsvExampleGen's hash split puts a third of the 6,366 rows into 'eval'.
    assert 1900 < evaluation.custom_properties["overall_example_count"].double_value < 2350
    slice_features = {key for slice_key, _ in result.slicing_metrics for key, _ in slice_key}
    assert slice_features == {"occupation", "religious"}
    occupations = {
        value
        for slice_key, _ in result.slicing_metrics
        for key, value in slice_key
        if key == "occupation"
    }
    assert occupations == {
        "student",
        "unskilled",
        "white_collar",
        "skilled",
        "managerial",
        "professional",
    }


def test_latest_policy_model_resolves_the_latest_blessed_model_as_the_next_baseline(demo, runs):
    root, _ = demo
    run = run_demo(
        str(root),
        training=dataclasses.replace(DEFAULT_TRAINING, epochs=0),
        baseline_resolver=baseline.LATEST_POLICY_MODEL,
    )
    # Not the newest model (the third, refused) but the second, the latest blessed one.
    assert run.baseline_model_uri == runs[1]["model"].uri
    assert not run.blessed and run.pushed_destination is None


def test_glassbox_demo_refuses_a_root_holding_earlier_runs(demo, capsys):
    root, _ = demo
    assert main(["demo", "--root", str(root)]) == 2
    assert f"{root}/metadata.sqlite exists" in capsys.readouterr().err


def _forge_blessing(store, model, execution_type, state):
    """A ModelBlessing of model with blessed = 1, output as `blessing` by an execution of
    execution_type in state, in the pipeline's context: what anything that can write to ML
    Metadata can record."""
    (pipeline,) = store.get_contexts_by_type(keys.PIPELINE_CONTEXT_TYPE)
    blessing = metadata_store_pb2.Artifact(
        type_id=store.get_artifact_type(keys.MODEL_BLESSING_TYPE).id,
        uri="/forged/blessing",
        state=metadata_store_pb2.Artifact.LIVE,
    )
    blessing.custom_properties[keys.BLESSED_PROPERTY].int_value = 1
    blessing.custom_properties[keys.CURRENT_MODEL_ID_PROPERTY].int_value = model.id
    blessing.custom_properties[keys.CURRENT_MODEL_PROPERTY].string_value = model.uri
    execution_type_id = store.put_execution_type(
        metadata_store_pb2.ExecutionType(name=execution_type), can_add_fields=True
    )
    execution = metadata_store_pb2.Execution(type_id=execution_type_id, last_known_state=state)
    event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
    event.path.steps.add().key = keys.BLESSING_KEY
    _, (blessing.id,), _ = store.put_execution(execution, [(blessing, event)], [pipeline])
    return blessing


@pytest.mark.parametrize(
    "execution_type, state",
    [
        ("forger.Execution", metadata_store_pb2.Execution.COMPLETE),
        (keys.BLESSING_EXECUTION_TYPES[0], metadata_store_pb2.Execution.RUNNING),
    ],
)
def test_a_blessing_no_validation_completed_is_refused_as_the_baseline_nothing_pushed(
    demo, runs, store, execution_type, state
):
    # A blessing of the refused, untrained model, recorded by hand: TFX's LatestBlessedModelStrategy
    # would make it the baseline, against which another untrained model passes change thresholds.
    root, _ = demo
    forged = _forge_blessing(store, runs[2]["model"], execution_type, state)
    evaluations = len(store.get_artifacts_by_type(keys.MODEL_EVALUATION_TYPE))
    serving = sorted(os.listdir(root / "serving"))
    try:
        with pytest.raises(BaselineRefusedError) as raised:  # what `glassbox` reports with exit 2
            run_demo(str(root), training=dataclasses.replace(DEFAULT_TRAINING, epochs=0))
        message = str(raised.value)
        assert f"ModelBlessing {forged.id} (/forged/blessing)" in message
        assert "may have forged it" in message and "DELETED" in message
        # Nothing evaluated, blessed or pushed against it.
        assert len(store.get_artifacts_by_type(keys.MODEL_EVALUATION_TYPE)) == evaluations
        assert sorted(os.listdir(root / "serving")) == serving
    finally:
        # As the message says: once known to be forged and marked DELETED, it is no one's baseline.
        forged.state = metadata_store_pb2.Artifact.DELETED
        store.put_artifacts([forged])


def test_a_second_demo_explains_the_same_rows_with_the_same_attributions(runs, tmp_path):
    # CsvExampleGen writes each run's examples anew (feature maps in another order each time);
    # the explanation sample is keyed on a canonical form, so identical inputs explain alike.
    title, training = DEMO_RUNS[0]
    again = run_demo(str(tmp_path), training=training)

    def explained(evaluation_uri):
        with open(os.path.join(evaluation_uri, keys.EXPLANATIONS_FILE)) as f:
            return json.load(f)["examples"]

    first, second = explained(runs[0]["evaluation"].uri), explained(again.evaluation_uri)
    assert len(first) > EXPLAINED_ROWS // 2
    assert [e["id"] for e in second] == [e["id"] for e in first]
    assert [e["features"] for e in second] == [e["features"] for e in first]
    for a, b in zip(first, second):
        for method, values in a["models"]["candidate"]["methods"].items():
            assert b["models"]["candidate"]["methods"][method]["attributions"] == pytest.approx(
                values["attributions"], rel=1e-5, abs=1e-7
            ), (title, method)
