"""`glassbox override` on real LocalDagRunner runs of the demo pipeline (caching on, the Validator
honouring overrides) in one SQLite ML Metadata store:

1. an untrained model A is refused; alice approves it;
2. the next run (A again, from the cache) blesses and pushes it, saying so, the checks kept;
   bob then vetoes A;
3. a trained model B (baseline A) is blessed and pushed: A's veto does nothing to B; carol vetoes B;
4. the next run (B again) passes every check, yet B is not blessed nor pushed.
"""

import contextlib
import dataclasses
import io
import json
import os

import pytest
from ml_metadata.metadata_store import metadata_store
from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from glassbox import keys
from glassbox.cli import main
from glassbox.pipelines import data
from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING, create_pipeline
from glassbox.protos import validator_config_pb2
from glassbox.provenance.lineage import (
    Event,
    consumer_outputs,
    execution_artifacts,
    latest_artifact,
    producer_execution,
)
from glassbox.provenance.records import property_value

pytestmark = pytest.mark.integration  # four LocalDagRunner runs: about 17 s in all

UNTRAINED = dataclasses.replace(DEFAULT_TRAINING, epochs=0)


@dataclasses.dataclass(frozen=True)
class Run:
    model_id: int
    blessing: dict  # custom properties
    decision: dict  # decision.json
    report: str  # the validation's report.html
    pushed: bool


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("override"))
    data_root = os.path.dirname(data.write_fair_csv(os.path.join(root, "data")))
    store_path = os.path.join(root, "metadata.sqlite")

    def run(training):
        LocalDagRunner().run(
            create_pipeline(
                "override-demo",
                os.path.join(root, "pipeline"),
                data_root,
                training=training,
                metadata_path=store_path,
                serving_dir=os.path.join(root, "serving"),
                # No attribution gate: compared with the untrained A, B's attributions differ.
                validator_config=validator_config_pb2.ValidatorConfig(),
                honour_overrides=True,
                enable_cache=True,
            )
        )
        store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(store_path))
        blessing = latest_artifact(store, keys.MODEL_BLESSING_TYPE)
        validator = producer_execution(store, blessing)
        (validation,) = execution_artifacts(store, validator.id, Event.OUTPUT)[keys.VALIDATION_KEY]
        (pushed,) = consumer_outputs(store, blessing)[keys.PUSHED_MODEL_KEY]
        with open(os.path.join(validation.uri, keys.DECISION_JSON_FILE)) as f:
            decision = json.load(f)
        return Run(
            # Not from the Validator's input events: when the candidate is its own baseline (run
            # 4), ML Metadata keeps one event per artifact, under either key.
            model_id=property_value(blessing, keys.CURRENT_MODEL_ID_PROPERTY),
            blessing={name: property_value(blessing, name) for name in blessing.custom_properties},
            decision=decision,
            report=os.path.join(validation.uri, keys.REPORT_FILE),
            pushed=property_value(pushed, keys.PUSHED_PROPERTY) == 1,
        )

    def override(model_id, verdict, reason, by):
        code, out, err = _cli(
            "override", "--mlmd", store_path, "--model-id", str(model_id), verdict,
            "--reason", reason, "--by", by,
        )  # fmt: skip
        assert (code, err) == (0, ""), err
        return out

    runs, printed = [run(UNTRAINED)], []
    a = runs[0].model_id
    printed.append(
        override(a, "--bless", "the holdout set is stale; approved for the pilot", "alice")
    )
    runs.append(run(UNTRAINED))
    printed.append(override(a, "--refuse", "pilot over", "bob"))
    runs.append(run(DEFAULT_TRAINING))
    printed.append(override(runs[2].model_id, "--refuse", "legal review pending", "carol"))
    runs.append(run(DEFAULT_TRAINING))
    return store_path, runs, printed


def test_a_refused_model_approved_with_a_reason_is_blessed_and_pushed_on_the_next_run(
    story, browser
):
    store_path, runs, printed = story
    refused, approved = runs[0], runs[1]
    assert approved.model_id == refused.model_id  # the same Model, from the cache
    assert (refused.blessing["blessed"], refused.pushed) == (0, False)
    assert refused.blessing["overridden"] == 0
    assert printed[0].startswith(f"Model {refused.model_id} (")
    assert "approved: Overridden by alice: the holdout set is stale" in printed[0]

    properties = approved.blessing
    assert (properties["blessed"], properties["overridden"], approved.pushed) == (1, 1, True)
    assert properties["override_by"] == "alice"
    assert properties["override_reason"] == "the holdout set is stale; approved for the pilot"
    # The checks are kept beside the override: still failed, in the blessing and decision.json.
    assert properties["validation_ok"] == 0 and properties["failures"] > 0
    assert properties["failures"] == refused.blessing["failures"]
    decision = approved.decision
    assert decision["blessed"] is True and decision["validation_ok"] is False
    assert [c["sentence"] for c in decision["checks"] if not c["passed"]] == [
        c["sentence"] for c in refused.decision["checks"] if not c["passed"]
    ]
    override = decision["override"]
    assert (override["by"], override["approved"], override["model_id"]) == (
        "alice",
        True,
        refused.model_id,
    )
    assert override["id"] == properties["override_id"]
    page = browser.open(approved.report)  # the validation's report, its decision first
    text = page.inner_text("body")
    browser.screenshot(page, "override-approved")
    assert "Overridden by alice: the holdout set is stale; approved for the pilot" in text
    assert f"{len(decision['checks'])}, {properties['failures']} failed" in text

    # The trail shows the approval (and the veto recorded after it).
    code, out, err = _cli("lineage", "--mlmd", store_path, "--model-id", str(refused.model_id))
    assert (code, err) == (0, "")
    assert "Overridden by alice: the holdout set is stale; approved for the pilot" in out
    assert "Overridden by bob: pilot over" in out
    code, out, _ = _cli(
        "lineage", "--mlmd", store_path, "--model-id", str(refused.model_id), "--json"
    )
    trail = json.loads(out)
    assert [(o["by"], o["approved"]) for o in trail["overrides"]] == [
        ("alice", True),
        ("bob", False),
    ]
    # A's latest validation is the approved one; bob's veto waits for A's next run.
    assert trail["validation"]["blessed"] is True
    assert trail["validation"]["blessing"]["id"] == trail["overrides"][1]["blessing_id"]


def test_an_override_of_model_a_does_nothing_to_model_b(story):
    _, runs, _ = story
    a, b = runs[1].model_id, runs[2].model_id
    assert a != b
    # B's Validator saw A's veto (every Override of the pipeline) and ignored it.
    assert runs[2].blessing["current_model_id"] == b
    assert runs[2].blessing["baseline_model_id"] == a
    assert (runs[2].blessing["blessed"], runs[2].blessing["overridden"], runs[2].pushed) == (
        1,
        0,
        True,
    )
    assert runs[2].decision["override"] is None
    assert "override_by" not in runs[2].blessing


def test_a_veto_keeps_a_passing_model_from_being_pushed(story):
    store_path, runs, _ = story
    vetoed = runs[3]
    assert vetoed.model_id == runs[2].model_id
    properties = vetoed.blessing
    assert (properties["validation_ok"], properties["failures"]) == (1, 0)  # every check passed
    assert (properties["blessed"], properties["overridden"], vetoed.pushed) == (0, 1, False)
    assert (properties["override_by"], properties["override_reason"]) == (
        "carol",
        "legal review pending",
    )
    assert vetoed.decision["blessed"] is False and vetoed.decision["validation_ok"] is True
    assert vetoed.decision["reason"].startswith(
        "Not blessed: Overridden by carol: legal review pending"
    )
    # B was its own baseline: its trail still ends at the vetoed blessing, with carol's veto.
    code, out, err = _cli(
        "lineage", "--mlmd", store_path, "--model-id", str(vetoed.model_id), "--json"
    )
    assert (code, err) == (0, "")
    trail = json.loads(out)
    assert trail["validation"]["blessed"] is False
    assert [(o["by"], o["approved"]) for o in trail["overrides"]] == [("carol", False)]
    assert trail["overrides"][0]["blessing_id"] != trail["validation"]["blessing"]["id"]
