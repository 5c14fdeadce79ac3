"""Overrides without a pipeline run: `glassbox override` on a small SQLite ML Metadata store laid
out as TFX lays a run out (a Trainer's Model, a Validator's ModelBlessing, in a pipeline's
context), bad input refused with nothing recorded, and the decision an override makes
(glassbox.engine.validate on evaluation directories). tests/pipelines/test_override_pipeline.py
runs it all under LocalDagRunner."""

import contextlib
import io
import json
import os

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

from glassbox import keys
from glassbox.cli import main
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import validate
from glassbox.provenance.lineage import Event, execution_artifacts, open_store
from glassbox.provenance.override import Override, applicable
from glassbox.provenance.override_store import overrides_of
from tests.support.validation_fixtures import OVERALL, metrics, write_evaluation

THRESHOLDS = """
model_specs { label_key: "label" }
metrics_specs { metrics { class_name: "AUC" threshold {
  value_threshold { lower_bound { value: 0.7 } }
  change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } } } } }
"""
CANDIDATE, OTHER = ModelArtifact("/models/candidate", 7), ModelArtifact("/models/other", 8)
BASELINE = ModelArtifact("/models/baseline", 3)


def _event(event_type, key):
    event = mlmd.Event(type=event_type)
    event.path.steps.add().key = key
    event.path.steps.add().index = 0
    return event


def _put(store, type_name, context, inputs=(), outputs=()):
    """An execution of type_name in context, with its input and output artifacts by key; returns
    the outputs' ids."""
    execution = mlmd.Execution(
        type_id=store.put_execution_type(mlmd.ExecutionType(name=type_name)),
        last_known_state=mlmd.Execution.COMPLETE,
    )
    artifacts = [(a, _event(Event.INPUT, k)) for k, a in inputs] + [
        (a, _event(Event.OUTPUT, k)) for k, a in outputs
    ]
    _, ids, _ = store.put_execution(execution, artifacts, [context])
    return ids[len(inputs) :]


def _artifact(store, type_name, uri, **properties):
    artifact = mlmd.Artifact(
        type_id=store.put_artifact_type(mlmd.ArtifactType(name=type_name)),
        uri=uri,
        state=mlmd.Artifact.LIVE,
    )
    for name, value in properties.items():
        artifact.custom_properties[name].int_value = value
    return artifact


@pytest.fixture
def store_path(tmp_path):
    """Pipeline 'p': Model 'refused' (validated: a NOT_BLESSED ModelBlessing) and Model 'new'
    (never validated); pipeline 'q': Model 'elsewhere'."""
    path = str(tmp_path / "metadata.sqlite")
    config = mlmd.ConnectionConfig()
    config.sqlite.filename_uri = path
    store = metadata_store.MetadataStore(config)
    contexts = {}
    for name in ("p", "q"):
        context_type = store.put_context_type(mlmd.ContextType(name=keys.PIPELINE_CONTEXT_TYPE))
        (contexts[name],) = store.get_contexts_by_id(
            store.put_contexts([mlmd.Context(type_id=context_type, name=name)])
        )
    models = {}
    for name, pipeline in (("refused", "p"), ("new", "p"), ("elsewhere", "q")):
        (models[name],) = _put(
            store,
            "Trainer",
            contexts[pipeline],
            outputs=[(keys.MODEL_KEY, _artifact(store, keys.MODEL_TYPE, f"/models/{name}"))],
        )
    (model,) = store.get_artifacts_by_id([models["refused"]])
    (blessing,) = _put(
        store,
        "Validator",
        contexts["p"],
        inputs=[(keys.MODEL_KEY, model)],
        outputs=[(keys.BLESSING_KEY, _artifact(store, keys.MODEL_BLESSING_TYPE, "/b", blessed=0))],
    )
    return path, models, blessing


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse's usage errors
            code = e.code
    return code, out.getvalue(), err.getvalue()


def _counts(path):
    store = open_store(path)
    return (
        len(store.get_artifacts()),
        len(store.get_executions()),
        len(store.get_events_by_artifact_ids([a.id for a in store.get_artifacts()])),
    )


def test_an_override_is_recorded_with_its_model_and_the_blessing_it_overrides_in_the_pipeline(
    store_path,
):
    path, models, blessing = store_path
    code, out, err = _cli(
        "override", "--mlmd", path, "--model-id", str(models["refused"]), "--bless",
        "--reason", "  the eval split is stale ", "--by", "alice",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith(f"Model {models['refused']} (/models/refused) approved: ")
    assert "Overridden by alice: the eval split is stale (approved " in out

    store = open_store(path)
    (model,) = store.get_artifacts_by_id([models["refused"]])
    (override,) = overrides_of(store, model)
    assert (override.model_id, override.model_uri, override.approved) == (
        models["refused"],
        "/models/refused",
        True,
    )
    assert (override.reason, override.by, override.blessing_id) == (
        "the eval split is stale",
        "alice",
        blessing,
    )
    assert override.time.endswith("+00:00")
    # One execution of its own: the Model and the blessing in, the Override out, in pipeline p.
    (execution,) = store.get_executions_by_type(keys.OVERRIDE_EXECUTION_TYPE)
    inputs = execution_artifacts(store, execution.id, Event.INPUT)
    assert {k: [a.id for a in v] for k, v in inputs.items()} == {
        keys.MODEL_KEY: [models["refused"]],
        keys.BLESSING_KEY: [blessing],
    }
    (recorded,) = execution_artifacts(store, execution.id, Event.OUTPUT)[keys.OVERRIDE_KEY]
    assert recorded.id == override.id and recorded.state == mlmd.Artifact.LIVE
    assert [c.name for c in store.get_contexts_by_execution(execution.id)] == ["p"]
    assert [c.name for c in store.get_contexts_by_artifact(recorded.id)] == ["p"]


def test_a_model_never_validated_may_be_vetoed_and_overrides_of_other_models_are_not_its(
    store_path,
):
    path, models, _ = store_path
    for model, verdict in (("new", "--refuse"), ("refused", "--bless")):
        assert _cli(
            "override", "--mlmd", path, "--model-id", str(models[model]), verdict,
            "--reason", "r", "--by", "bob",
        )[0] == 0  # fmt: skip
    store = open_store(path)
    (new,) = store.get_artifacts_by_id([models["new"]])
    (override,) = overrides_of(store, new)
    assert (override.approved, override.blessing_id) == (False, None)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model-id", "999", "--bless"], "holds no artifact with id 999"),
        (["--model-id", "{blessing}", "--bless"], "is a ModelBlessing (/b), not a Model"),
        (["--model-id", "{refused}", "--bless", "--pipeline", "q"], "is not of pipeline 'q'"),
        (["--model-id", "{refused}", "--bless", "--pipeline", "z"], "no pipeline 'z'"),
        (["--model-id", "{refused}", "--bless", "--reason", " "], "the reason ' ' is empty"),
        (["--model-id", "{refused}", "--bless", "--by", ""], "the author '' is empty"),
        (["--model-id", "{refused}", "--bless", "--refuse"], "--refuse: not allowed with"),
        (["--model-id", "{refused}"], "one of the arguments --bless --refuse is required"),
    ],
)
def test_bad_input_is_refused_naming_the_value_and_records_nothing(store_path, argv, message):
    path, models, blessing = store_path
    before = _counts(path)
    argv = [a.format(refused=models["refused"], blessing=blessing) for a in argv]
    defaults = {"--reason": "why", "--by": "alice"}
    argv += [x for flag, value in defaults.items() if flag not in argv for x in (flag, value)]
    code, out, err = _cli("override", "--mlmd", path, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert _counts(path) == before


def test_a_missing_store_is_refused_naming_it(tmp_path):
    missing = str(tmp_path / "none.sqlite")
    code, _, err = _cli(
        "override", "--mlmd", missing, "--model-id", "1", "--bless", "--reason", "r", "--by", "a"
    )
    assert code == 2 and f"ML Metadata store {missing!r} does not exist" in err
    assert not os.path.exists(missing)


def _override(model_id, approved, override_id, by="alice"):
    return Override(model_id, f"/m/{model_id}", approved, "why", by, "t", None, override_id)


def test_the_latest_override_of_the_model_applies_and_never_another_models():
    overrides = [_override(7, True, 10), _override(8, False, 12), _override(7, False, 11, "bob")]
    assert applicable(overrides, 7).by == "bob"  # the later veto lifts the approval
    assert applicable(overrides, 8).id == 12
    assert applicable(overrides, 9) is None
    assert applicable(overrides, None) is None
    assert Override.from_properties(overrides[0].properties(), 10) == overrides[0]


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluations")
    return {
        name: write_evaluation(
            str(root / name),
            THRESHOLDS,
            {OVERALL: metrics({"auc": auc}, {"auc": 0.75})},
            has_baseline=True,
        )
        for name, auc in (("good", 0.8), ("worse", 0.6))
    }


def _validate(tmp_path, evaluation, overrides):
    return validate(
        evaluation,
        str(tmp_path / "validation"),
        models=Models(CANDIDATE, BASELINE),
        overrides=overrides,
    )


def test_an_approval_blesses_a_refused_model_keeping_its_failed_checks(tmp_path, evaluations):
    outcome = _validate(tmp_path, evaluations["worse"], [_override(7, True, 10)])
    assert outcome.blessing.file_name == keys.BLESSED_FILE
    properties = outcome.blessing.properties
    assert (properties["blessed"], properties["overridden"], properties["validation_ok"]) == (
        1,
        1,
        0,
    )
    assert properties["failures"] == 2
    assert (properties["override_by"], properties["override_reason"]) == ("alice", "why")
    assert properties["override_id"] == 10
    assert properties["reason"].startswith(
        "Blessed: Overridden by alice: why (approved t, Override 10). "
        "The checks alone: Not blessed: 2 of "
    )
    with open(os.path.join(outcome.output_dir, keys.DECISION_JSON_FILE)) as f:
        decision = json.load(f)
    assert (decision["blessed"], decision["validation_ok"], decision["failures"]) == (
        True,
        False,
        2,
    )
    assert decision["override"]["id"] == 10
    with open(os.path.join(outcome.output_dir, keys.DECISION_MARKDOWN_FILE)) as f:
        markdown = f.read()
    assert "# Validation: BLESSED" in markdown and "**Overridden by alice: why**" in markdown
    assert "## Failed (2)" in markdown
    # TFMA's ValidationResult keeps the checks' verdict.
    assert outcome.decision.validation_result.validation_ok is False


def test_a_veto_beats_the_checks_blessing(tmp_path, evaluations):
    outcome = _validate(tmp_path, evaluations["good"], [_override(7, False, 10, "carol")])
    assert outcome.blessing.file_name == keys.NOT_BLESSED_FILE
    properties = outcome.blessing.properties
    assert (properties["blessed"], properties["overridden"], properties["validation_ok"]) == (
        0,
        1,
        1,
    )
    assert properties["reason"].startswith("Not blessed: Overridden by carol")


def test_overrides_of_other_models_change_nothing(tmp_path, evaluations):
    outcome = _validate(tmp_path, evaluations["worse"], [_override(8, True, 10)])
    assert outcome.blessing.file_name == keys.NOT_BLESSED_FILE
    assert outcome.blessing.properties["overridden"] == 0
    assert "override_by" not in outcome.blessing.properties
    assert outcome.decision.override is None
    assert outcome.decision.reason.startswith("Not blessed: 2 of ")


def test_the_overridden_blessing_is_found_when_the_candidate_was_its_own_baseline(store_path):
    """A re-run whose baseline is the candidate itself: ML Metadata keeps one input event of the
    model, here the baseline's; the blessing names its candidate."""
    path, models, _ = store_path
    store = open_store(path, writable=True)
    (model,) = store.get_artifacts_by_id([models["new"]])
    (context,) = [c for c in store.get_contexts() if c.name == "p"]
    blessing = _artifact(store, keys.MODEL_BLESSING_TYPE, "/b2", blessed=1)
    blessing.custom_properties[keys.CURRENT_MODEL_ID_PROPERTY].int_value = model.id
    (blessing_id,) = _put(
        store,
        "Validator",
        context,
        inputs=[(keys.BASELINE_MODEL_KEY, model)],
        outputs=[(keys.BLESSING_KEY, blessing)],
    )
    assert _cli(
        "override", "--mlmd", path, "--model-id", str(model.id), "--refuse",
        "--reason", "r", "--by", "carol",
    )[0] == 0  # fmt: skip
    (override,) = overrides_of(open_store(path), model)
    assert override.blessing_id == blessing_id
