"""Model cards: content rules on hand-made inputs (worst slices as limitations, the comparison with
the baseline, failed checks, attributions, the Model Card Toolkit's field names), then cards,
`glassbox model-card` and the report's model and history pages on real runs (tests.demo_runs)."""

import json
import os
import shutil

import jsonschema
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox import cli
from glassbox.model_card.card import CardInputs, ModelCardError, headline_metric, model_card
from glassbox.model_card.inputs import load_inputs, trail_inputs
from glassbox.model_card.markdown import render_markdown
from glassbox.provenance.trail import decision_trail
from tests.support import report_browser


def _object(**properties):
    return {"type": "object", "properties": properties, "additionalProperties": False}


# The Model Card Toolkit's JSON schema v0.0.2, by its field names, closed at every level.
STRING, NUMBER = {"type": "string"}, {"type": "number"}
_DESCRIPTIONS = {"type": "array", "items": _object(description=STRING)}
_GRAPHICS = _object(
    description=STRING, collection={"type": "array", "items": _object(name=STRING, image=STRING)}
)
MCT_SCHEMA = _object(
    schema_version=STRING,
    model_details=_object(
        name=STRING,
        overview=STRING,
        documentation=STRING,
        owners={"type": "array", "items": _object(name=STRING, contact=STRING)},
        version=_object(name=STRING, date=STRING, diff=STRING),
        licenses={"type": "array", "items": _object(identifier=STRING, custom_text=STRING)},
        references={"type": "array", "items": _object(reference=STRING)},
        citations={"type": "array", "items": _object(style=STRING, citation=STRING)},
    ),
    model_parameters=_object(
        model_architecture=STRING,
        input_format=STRING,
        output_format=STRING,
        data={
            "type": "array",
            "items": _object(
                name=STRING,
                link=STRING,
                description=STRING,
                graphics=_GRAPHICS,
                sensitive=_object(sensitive_data={"type": "array", "items": STRING}),
            ),
        },
    ),
    quantitative_analysis=_object(
        performance_metrics={
            "type": "array",
            "items": _object(type=STRING, value=NUMBER, slice=STRING),
        },
        graphics=_GRAPHICS,
    ),
    considerations=_object(
        users=_DESCRIPTIONS,
        use_cases=_DESCRIPTIONS,
        limitations=_DESCRIPTIONS,
        tradeoffs=_DESCRIPTIONS,
        ethical_considerations={
            "type": "array",
            "items": _object(name=STRING, mitigation_strategy=STRING),
        },
    ),
)

FAILED = {
    "kind": "value_threshold",
    "passed": False,
    "skipped": False,
    "slice": "group:c",
    "metric": "auc",
    "value": 0.6,
    "baseline_value": None,
    "threshold": {"lower_bound": 0.65},
    "sentence": "auc on group:c is 0.6, below the lower bound 0.65.",
}


def _inputs(**changes):
    candidate = {
        "Overall": {"auc": 0.8, "loss": 0.4, "example_count": 1000.0, "diff_auc": 0.02},
        "group:a": {"auc": 0.85, "loss": 0.35, "example_count": 600.0},
        "group:b": {"auc": 0.7, "loss": 0.62, "example_count": 300.0},
        "group:c": {"auc": 0.6, "loss": 0.55, "example_count": 100.0},
    }
    baseline = {
        "Overall": {"auc": 0.78, "loss": 0.42, "example_count": 1000.0},
        "group:a": {"auc": 0.8},
        "group:b": {"auc": 0.72},
        "group:c": {"auc": 0.55},
    }
    decision = {
        "blessed": False,
        "reason": "Not blessed: 1 of 2 checks failed.",
        "baseline": {"name": "baseline", "uri": "/models/7", "id": 7},
        "checks": [
            dict(FAILED, kind="evaluated_models", passed=True, metric="", sentence="Models."),
            FAILED,
        ],
    }
    return CardInputs(
        **{
            "model": "/models/8",
            "evaluation": "/evaluations/8",
            "candidate": candidate,
            "baseline": baseline,
            "decision": decision,
            **changes,
        }
    )


def test_the_worst_slices_are_the_limitations_worst_first_with_the_failed_checks():
    limitations = [
        item["description"] for item in model_card(_inputs())["considerations"]["limitations"]
    ]
    assert limitations == [
        "On group:c (100 examples), auc is 0.6, 0.2 below the overall 0.8.",
        "On group:b (300 examples), auc is 0.7, 0.1 below the overall 0.8.",
        "Failed check: auc on group:c is 0.6, below the lower bound 0.65.",
    ]


def test_for_a_metric_where_lower_is_better_the_worst_slices_are_the_highest():
    card = model_card(_inputs(decision=None), metric="loss")
    assert [item["description"] for item in card["considerations"]["limitations"]] == [
        "On group:b (300 examples), loss is 0.62, 0.22 above the overall 0.4.",
        "On group:c (100 examples), loss is 0.55, 0.15 above the overall 0.4.",
    ]


def test_the_headline_metric_and_its_direction_come_from_the_validations_thresholds():
    checks = [
        {
            "metric": "loss (example-weighted)",
            "threshold": {"direction": "LOWER_IS_BETTER", "absolute": 0.1},
        }
    ]
    assert headline_metric(_inputs(decision={"checks": checks})) == ("loss", False)
    assert headline_metric(
        _inputs(decision={"checks": [{"metric": "auc", "threshold": {"upper_bound": 2}}]})
    ) == ("auc", False)
    assert headline_metric(_inputs(decision=None)) == (
        "auc",
        True,
    )  # the first metric that is not a count
    with pytest.raises(
        ModelCardError,
        match=r"/evaluations/8 has no metric 'accuracy' on the overall slice; "
        r"it has: auc, example_count, loss",
    ):
        model_card(_inputs(), metric="accuracy")


def test_the_comparison_with_the_baseline_and_the_decision_are_in_version_diff_and_tradeoffs():
    card = model_card(_inputs())
    assert card["model_details"]["version"]["diff"] == (
        "Replaces the baseline /models/7: auc 0.8 against 0.78 overall (+0.02); better or equal on 2 of 3 slices, "
        "worse on group:b. Decision: Not blessed: 1 of 2 checks failed."
    )
    assert card["considerations"]["tradeoffs"] == [
        {
            "description": "On group:b (300 examples), auc is 0.7, worse than the baseline's 0.72 (-0.02)."
        }
    ]
    metrics = {
        (m["type"], m["slice"]): m["value"]
        for m in card["quantitative_analysis"]["performance_metrics"]
    }
    assert metrics[("auc", "group:b")] == 0.7 and metrics[("auc (baseline)", "group:b")] == 0.72
    assert not any(name.startswith("diff_") for name, _ in metrics)


def test_a_first_model_has_nothing_to_compare_with():
    card = model_card(_inputs(baseline={}, decision=dict(_inputs().decision, baseline=None)))
    assert card["model_details"]["version"]["diff"].startswith(
        "First model: no baseline to compare with."
    )
    assert "tradeoffs" not in card["considerations"]


def test_what_the_model_relies_on_and_slices_without_metrics():
    card = model_card(
        _inputs(
            attributions={"age": -0.1, "rate": 0.6, "kids": 0.3},
            surrogate_fidelity={"r2": 0.91},
            withheld={"group:d": "Example count for this slice key is lower than the minimum."},
        )
    )
    details = card["model_details"]
    assert details["overview"] == (
        "Not blessed: 1 of 2 checks failed. auc 0.8 overall on 1000 examples. "
        "Weakest slice: group:c (auc 0.6). Relies most on rate, kids, age."
    )
    assert (
        "What the model relies on (share of the total |attribution| on the overall slice): rate 60%, kids 30%, "
        "age 10%."
    ) in details["documentation"]
    assert (
        "reproduces the model's scores on the overall slice with r2 0.91."
        in details["documentation"]
    )
    assert {
        "description": "No metrics on group:d: Example count for this slice key is lower than the minimum."
    } in (card["considerations"]["limitations"])


def test_the_card_has_only_the_model_card_toolkits_fields_and_no_empty_ones():
    card = model_card(_inputs(attributions={"age": 0.1}))
    jsonschema.validate(card, MCT_SCHEMA)
    assert card["schema_version"] == "0.0.2"

    def empty(value):
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        )
        return value in (None, "", [], {}) or any(empty(child) for child in children)

    assert not empty(card)


def test_the_markdown_has_each_section_and_the_metrics_tables():
    markdown = render_markdown(
        model_card(_inputs(candidate=dict(_inputs().candidate, **{"x:a|b": {"auc": 0.9}})))
    )
    assert markdown.startswith(
        "# Model card: /models/8\n\nNot blessed: 1 of 2 checks failed. auc 0.8 overall"
    )
    for line in [
        "### Compared with the model it replaces",
        "## Quantitative analysis",
        "| auc | 0.8 | 0.78 | +0.02 |",
        "| group:b | 0.7 | 300 | 0.62 |",
        "| x:a\\|b | 0.9 |  |  |",
        "## Limitations",
        "- On group:c (100 examples), auc is 0.6, 0.2 below the overall 0.8.",
        "## Tradeoffs against the model it replaces",
    ]:
        assert line in markdown.splitlines()


# ---------- on the real runs ----------


def test_the_card_of_a_blessed_model_from_ml_metadata(demo_runs):
    first, second, _ = demo_runs.runs
    trail = decision_trail(demo_runs.store)  # the latest push
    card = model_card(trail_inputs(trail))
    jsonschema.validate(card, MCT_SCHEMA)
    # Every slice's auc is TFMA's, read by TFMA's loader.
    result = tfma.load_eval_result(second.evaluation_uri, model_name="candidate")
    tfma_auc = {
        slicer_lib.stringify_slice_key(key): metrics["auc"]["doubleValue"]
        for key, metrics in result.get_metrics_for_all_slices().items()
    }
    card_auc = {
        m["slice"]: m["value"]
        for m in card["quantitative_analysis"]["performance_metrics"]
        if m["type"] == "auc"
    }
    assert card_auc == pytest.approx(tfma_auc)
    worst = min((name for name in card_auc if name != "Overall"), key=card_auc.get)
    assert card["considerations"]["limitations"][0]["description"].startswith(f"On {worst} (")
    diff = card["model_details"]["version"]["diff"]
    assert diff.startswith(
        f"Replaces Model {trail.baseline_model.id} ({first.model_uri}): auc "
        f"{second.overall_metrics['auc']:.4g} against {first.overall_metrics['auc']:.4g} overall"
    )
    assert diff.endswith(f"Decision: {second.decision['reason']}")
    assert f"Pushed to {second.pushed_destination}" in card["model_details"]["documentation"]


def test_the_card_of_the_refused_model_lists_every_failed_check(demo_runs):
    refused = demo_runs.runs[2]
    card = model_card(load_inputs(refused.evaluation_uri, refused.validation_uri))
    assert card["model_details"]["overview"].startswith(refused.decision["reason"])
    limitations = [item["description"] for item in card["considerations"]["limitations"]]
    failed = [
        f"Failed check: {c['sentence']}" for c in refused.decision["checks"] if not c["passed"]
    ]
    assert failed and set(failed) <= set(limitations)


def test_attributions_in_the_evaluation_are_what_the_model_relies_on(demo_runs, tmp_path):
    evaluation = str(tmp_path / "evaluation")
    shutil.copytree(demo_runs.runs[1].evaluation_uri, evaluation)
    key = metric_types.AttributionsKey(name="mean_absolute_attributions", model_name="candidate")
    with tf.io.TFRecordWriter(
        os.path.join(evaluation, "attributions-00000-of-00001.tfrecord")
    ) as writer:
        writer.write(
            mpv_writer.convert_slice_attributions_to_proto(
                ((), {key: {"rate_marriage": 0.5, "age": 0.2, "yrs_married": 0.3}})
            ).SerializeToString()
        )
    overview = model_card(load_inputs(evaluation))["model_details"]["overview"]
    assert overview.endswith("Relies most on rate_marriage, yrs_married, age.")


def test_glassbox_model_card_from_dirs_and_from_ml_metadata(demo_runs, tmp_path, capsys):
    second = demo_runs.runs[1]
    model_id = second.decision["candidate"]["id"]
    assert (
        cli.main(
            [
                "model-card",
                "--evaluation",
                second.evaluation_uri,
                "--validation",
                second.validation_uri,
                "--output",
                str(tmp_path / "dirs"),
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                "model-card",
                "--mlmd",
                demo_runs.store,
                "--model-id",
                str(model_id),
                "--output",
                str(tmp_path / "mlmd"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count(second.decision["reason"]) == 2
    cards = {}
    for source in ("dirs", "mlmd"):
        assert sorted(os.listdir(tmp_path / source)) == [
            "model_card.html",
            "model_card.json",
            "model_card.md",
        ]
        cards[source] = json.loads((tmp_path / source / "model_card.json").read_text())
        assert (tmp_path / source / "model_card.md").read_text() == render_markdown(cards[source])
    assert (
        cards["dirs"]["quantitative_analysis"] == cards["mlmd"]["quantitative_analysis"]
        and cards["dirs"]["considerations"] == cards["mlmd"]["considerations"]
    )
    assert cards["mlmd"]["model_details"]["name"] == f"glassbox-demo: Model {model_id}"
    assert "model_architecture" in cards["mlmd"]["model_parameters"]


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["--mlmd", "STORE"],
            "--mlmd needs the model: --model-id, --blessing-id, --pushed-model-id or --latest-push",
        ),
        (["--model-id", "3"], "a model is found by its id in ML Metadata: give --mlmd FILE"),
        (
            ["--mlmd", "STORE", "--latest-push", "--metric", "accuracy"],
            "has no metric 'accuracy' on the overall slice",
        ),
        (
            ["--evaluation", "/no/such/evaluation"],
            "evaluation directory '/no/such/evaluation' does not exist",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(demo_runs, tmp_path, capsys, args, expected):
    args = [demo_runs.store if arg == "STORE" else arg for arg in args]
    assert cli.main(["model-card", *args, "--output", str(tmp_path / "card")]) == 2
    assert expected in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "card")


def test_the_report_shows_a_models_card_and_lineage_and_the_history_offline(
    demo_runs, browser, tmp_path
):
    refused = demo_runs.runs[2]
    model_page, history_page = str(tmp_path / "model.html"), str(tmp_path / "history.html")
    assert (
        cli.main(
            [
                "report",
                "--mlmd",
                demo_runs.store,
                "--model-id",
                str(refused.decision["candidate"]["id"]),
                "--output",
                model_page,
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                "report",
                "--mlmd",
                demo_runs.store,
                "--history",
                "--metric",
                "auc",
                "--output",
                history_page,
            ]
        )
        == 0
    )

    page = browser.open(model_page)
    assert page.locator("nav button").all_inner_texts()[:3] == [
        "Model card",
        "Lineage",
        "Validation",
    ]
    assert refused.decision["reason"] in page.locator(".model-card .overview").inner_text()
    assert report_browser.table_column(page, "card-metrics")[0] == "Overall"
    browser.screenshot(page, "model-card")
    page.locator("nav button[data-view=lineage]").click()
    report_browser.wait_drawn(page)
    assert refused.model_uri in page.locator(".facts").inner_text()
    assert (
        report_browser.table_column(page, "trail-checks").count("FAILED")
        == refused.decision["failures"]
    )
    cells = page.locator("[data-table='trail-checks'] tbody td:last-child")
    assert cells.evaluate_all(  # each check's sentence whole (it was cut at the table's edge)
        "cells => cells.every(c => c.scrollWidth <= c.clientWidth"
        " && c.getBoundingClientRect().right <= window.innerWidth)"
    )
    browser.screenshot(page, "lineage")

    page = browser.open(history_page)
    assert report_browser.table_column(page, "history", 6) == ["blessed", "blessed", "not blessed"]
    traces = report_browser.chart_data(page, "history")["data"]
    assert {
        trace.get("name"): trace["y"]
        for trace in traces
        if trace.get("name") in ("blessed", "not blessed")
    } == {
        "blessed": [r.overall_metrics["auc"] for r in demo_runs.runs[:2]],
        "not blessed": [refused.overall_metrics["auc"]],
    }
    browser.screenshot(page, "history")
    assert not browser.errors and not browser.blocked_requests and not browser.dialogs
