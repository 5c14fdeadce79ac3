"""`glassbox history` on real LocalDagRunner runs (tests.demo_runs): the evaluations in run order
with the values, models, examples, baselines and verdicts the runs themselves reported."""

import json
import os

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import cli
from glassbox.provenance.history import read_history
from glassbox.report.page import DATA_ELEMENT_ID
from tests.support import report_browser


def _check_values(decision, slice_name):
    """The candidate's auc on a slice, as the Validator's value-threshold check read it."""
    (value,) = [
        c["value"]
        for c in decision["checks"]
        if c["kind"] == "value_threshold" and c["slice"] == slice_name
    ]
    return value


def test_history_lists_the_evaluations_in_run_order_as_the_runs_reported_them(demo_runs):
    history = read_history(demo_runs.store, "auc")
    runs = demo_runs.runs
    assert (history.pipeline, history.metric, history.slice) == ("glassbox-demo", "auc", "Overall")
    assert [p.evaluation.uri for p in history.points] == [r.evaluation_uri for r in runs]
    assert [p.model.uri for p in history.points] == [r.model_uri for r in runs]
    assert [p.examples.uri for p in history.points] == [r.examples_uri for r in runs]
    assert [p.baseline_model and p.baseline_model.uri for p in history.points] == [
        r.baseline_model_uri for r in runs
    ]
    assert [p.value for p in history.points] == [r.overall_metrics["auc"] for r in runs]
    assert [p.blessed for p in history.points] == [True, True, False] == [r.blessed for r in runs]
    assert [p.reason for p in history.points] == [r.decision["reason"] for r in runs]
    assert [p.blessing.uri for p in history.points] == [r.blessing_uri for r in runs]
    assert len({p.run for p in history.points}) == 3
    assert [p.metrics for p in history.points] == [r.overall_metrics for r in runs]
    assert [p.checks for p in history.points] == [
        [c for c in r.decision["checks"] if c["slice"] == "Overall"] for r in runs
    ]
    assert {p.span for p in history.points} == {0}  # CsvExampleGen's span of a plain input
    assert [p.evaluation.created for p in history.points] == sorted(
        p.evaluation.created for p in history.points
    )
    # ML Metadata's SQLite store keeps 6 decimals of the overall_* properties.
    for point, run in zip(history.points, runs):
        assert point.value == pytest.approx(_check_values(run.decision, "Overall"), abs=5e-7)


def test_a_slice_s_history_is_read_from_the_evaluation_dirs(demo_runs):
    history = read_history(demo_runs.store, "auc", "religious:not")
    assert [p.value for p in history.points] == [
        _check_values(r.decision, "religious:not") for r in demo_runs.runs
    ]
    assert [p.blessed for p in history.points] == [True, True, False]


def test_glassbox_history_prints_the_table_json_and_the_html_view(demo_runs, tmp_path, capsys):
    assert cli.main(["history", "--mlmd", demo_runs.store, "--metric", "auc"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("auc on Overall, pipeline glassbox-demo")
    assert [line.split()[-1] for line in lines[2:]] == [
        r.decision["reason"].split()[-1] for r in demo_runs.runs
    ]
    assert [float(line.split()[6]) for line in lines[2:]] == [
        r.overall_metrics["auc"] for r in demo_runs.runs
    ]

    page = tmp_path / "history.html"
    assert (
        cli.main(
            [
                "history",
                "--mlmd",
                demo_runs.store,
                "--metric",
                "auc",
                "--slice",
                "occupation:student",
                "--json",
                "--html",
                str(page),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    printed = json.loads(out[: out.rindex("}") + 1])
    assert printed == json.loads(
        json.dumps(read_history(demo_runs.store, "auc", "occupation:student").to_json())
    )
    assert out.rstrip().endswith(f"Wrote the history view to {page}")
    assert page.exists() and DATA_ELEMENT_ID in page.read_text()


def _empty_store(path):
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    metadata_store.MetadataStore(config)  # creates the schema
    return str(path)


@pytest.mark.parametrize(
    "case",
    [
        "no store",
        "not a store",
        "empty store",
        "unknown pipeline",
        "unknown metric",
        "unknown slice",
    ],
)
def test_bad_input_exits_2_naming_the_store_pipeline_metric_or_slice(
    demo_runs, tmp_path, capsys, case
):
    args = {"--mlmd": demo_runs.store, "--metric": "auc"}
    expected = {
        "no store": f"ML Metadata store '{tmp_path}/none.sqlite' does not exist",
        "not a store": f"'{tmp_path}/text.sqlite' is not an ML Metadata store",
        "empty store": f"ML Metadata store '{tmp_path}/empty.sqlite' holds no pipeline runs",
        "unknown pipeline": f"ML Metadata store '{demo_runs.store}' holds no pipeline 'other' (its pipelines: "
        "glassbox-demo)",
        "unknown metric": "no evaluation of pipeline 'glassbox-demo' has the metric 'accuracy' on Overall; the "
        "latest with that slice has: auc, auc_precison_recall, binary_accuracy",
        "unknown slice": "no evaluation of pipeline 'glassbox-demo' has the slice 'occupation:pilot'",
    }[case]
    extra = []
    if case == "no store":
        args["--mlmd"] = str(tmp_path / "none.sqlite")
    elif case == "not a store":
        (tmp_path / "text.sqlite").write_text("not a database")
        args["--mlmd"] = str(tmp_path / "text.sqlite")
    elif case == "empty store":
        args["--mlmd"] = _empty_store(tmp_path / "empty.sqlite")
    elif case == "unknown pipeline":
        extra = ["--pipeline", "other"]
    elif case == "unknown metric":
        args["--metric"] = "accuracy"
    else:
        extra = ["--slice", "occupation:pilot"]
    assert cli.main(["history", *[x for item in args.items() for x in item], *extra]) == 2
    assert expected in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "none.sqlite")


def test_glassbox_history_writes_tensorboard_summaries_of_each_evaluation(demo_runs, tmp_path):
    import tensorflow as tf

    logdir = tmp_path / "tensorboard"
    argv = ["history", "--mlmd", demo_runs.store, "--metric", "auc", "--tensorboard", str(logdir)]
    assert cli.main(argv) == 0
    history = read_history(demo_runs.store, "auc")
    by_tag = {}
    for path in tf.io.gfile.glob(str(logdir / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                by_tag.setdefault(value.tag, {})[event.step] = (
                    value.metadata.plugin_data.plugin_name,
                    tf.make_ndarray(value.tensor),
                )
    steps = [p.evaluation.id for p in history.points]
    assert {tag: sorted(values) for tag, values in by_tag.items()} == {
        "Overall/auc": steps,
        "Overall/blessed": steps,
        "Overall/decision": steps,
    }
    assert [by_tag["Overall/auc"][s][1] for s in steps] == pytest.approx(
        [r.overall_metrics["auc"] for r in demo_runs.runs]
    )
    assert [by_tag["Overall/blessed"][s][1] for s in steps] == [1.0, 1.0, 0.0]
    assert by_tag["Overall/auc"][steps[0]][0] == "scalars"  # the plugin TensorBoard shows it in
    assert by_tag["Overall/decision"][steps[0]][0] == "text"
    refused = by_tag["Overall/decision"][steps[2]][1].item().decode()
    assert refused.startswith(f"**{history.points[2].model.label}** against ")
    assert "not blessed" in refused


@pytest.mark.parametrize("width", [1400, 800])
def test_the_history_page_reaches_the_refused_run_by_hover_with_time_thresholds_and_metrics(
    demo_runs, browser, tmp_path, width
):
    """Before, the x-axis counted evaluations 1, 2, 3, no threshold was drawn, one metric only, the
    refused run's marker lay under the legend and its reason was cut off at the table's edge."""
    path = str(tmp_path / "history.html")
    assert cli.main(["history", "--mlmd", demo_runs.store, "--metric", "auc", "--html", path]) == 0
    runs, refused = demo_runs.runs, demo_runs.runs[2]
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{path}")
    report_browser.wait_drawn(page)
    chart = report_browser.chart_data(page, "history")
    traces = {trace.get("name"): trace for trace in chart["data"]}
    assert chart["layout"]["xaxis"]["type"] == "date"
    created = [p.evaluation.created[:19] for p in read_history(demo_runs.store, "auc").points]
    assert traces["not blessed"]["x"] == created[2:] and traces["blessed"]["x"] == created[:2]
    lower_bounds = [
        c["threshold"]["lower_bound"]
        for r in runs
        for c in r.decision["checks"]
        if c["kind"] == "value_threshold" and c["slice"] == "Overall"
    ]
    assert traces["value threshold"]["y"] == lower_bounds == [0.65] * 3

    names = [trace.get("name") for trace in chart["data"]]
    marker = (
        page.locator("[data-chart='history'] .scatterlayer .trace")
        .nth(names.index("not blessed"))
        .locator("path.point")
        .bounding_box()
    )
    x, y = marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2
    assert page.evaluate("([x, y]) => !document.elementFromPoint(x, y).closest('.legend')", [x, y])
    page.mouse.move(x, y)
    tooltip = page.locator("[data-chart='history'] .hoverlayer .hovertext")
    tooltip.wait_for()
    lines = tooltip.evaluate("t => [...t.querySelectorAll('tspan.line')].map(l => l.textContent)")
    assert " ".join(lines).endswith(refused.decision["reason"])
    box = tooltip.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    browser.screenshot(page, f"history-hover-{width}")

    reason = page.locator("[data-table='history'] tbody tr").nth(2).locator("td").last
    assert reason.inner_text() == refused.decision["reason"]
    box = reason.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert reason.evaluate("cell => cell.scrollWidth <= cell.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.select_option("select[name='metric']", "binary_accuracy")
    report_browser.wait_drawn(page)
    traces = {t.get("name"): t for t in report_browser.chart_data(page, "history")["data"]}
    assert traces["blessed"]["y"] + traces["not blessed"]["y"] == [
        r.overall_metrics["binary_accuracy"] for r in runs
    ]
    assert "value threshold" not in traces  # no check on binary_accuracy
    browser.screenshot(page, f"history-{width}")
    page.close()
