"""The monitoring example (glassbox.pipelines.monitoring) under LocalDagRunner in one SQLite ML
Metadata store: a model trained, blessed and pushed on span 1, then spans 2 to 5 ingested by the
pipeline's CsvExampleGen and monitored, span 4's ages shifted by 15 years. The monitor flags span 4
and no other, `glassbox monitor` exits 1 with its sentence, 0 on a passing span, 2 on bad input,
and `glassbox history` lists the spans in order, by span on the page's x-axis."""

import contextlib
import io
import os

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.cli import main
from glassbox.pipelines import monitoring
from glassbox.pipelines.demo_pipeline import MIN_AUC
from glassbox.provenance.history import read_history
from glassbox.provenance.lineage import open_store, pipeline_artifacts, pipeline_context
from glassbox.provenance.records import property_value
from tests.support import report_browser

# Five LocalDagRunner runs and seven evaluations: 52 to 79 s in all here (2 shared cores, 4 runs).
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("monitoring"))
    outcomes = monitoring.run_monitoring(root)
    return root, os.path.join(root, monitoring.METADATA_FILE_NAME), outcomes


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _config_files(tmp_path):
    eval_config = tmp_path / "eval_config.pbtxt"
    eval_config.write_text(str(monitoring.monitor_eval_config()))
    validator_config = tmp_path / "validator_config.pbtxt"
    validator_config.write_text(str(monitoring.monitor_validator_config()))
    return ["--eval-config", str(eval_config), "--config", str(validator_config)]


def test_the_monitor_flags_the_drifted_span_and_no_other(example):
    _, store_path, outcomes = example
    assert [[s.span for s in outcome.spans] for outcome in outcomes] == [[2], [3], [4], [5]]
    results = {s.span: s for outcome in outcomes for s in outcome.spans}
    assert {span for span, s in results.items() if s.failures} == {monitoring.DRIFTED_SPAN}
    (failure,) = results[monitoring.DRIFTED_SPAN].failures
    assert failure.startswith(
        f"The Jensen-Shannon divergence of {monitoring.DRIFTED_FEATURE} on Overall from the "
        "reference (the data model"
    )
    assert failure.endswith(f"beyond the allowed {monitoring.MAX_JENSEN_SHANNON}.")
    for s in results.values():  # every span passes the AUC threshold: only drift fails span 4
        (auc,) = [c for c in s.decision.checks if c.kind == "value_threshold"]
        assert auc.passed and auc.value >= MIN_AUC
        gated = [c for c in s.decision.checks if c.kind == "drift"]
        assert len(gated) == 9  # the 8 features and the label
    # Each monitoring is recorded: the execution with its span and verdict, the evaluation with its span.
    store = open_store(store_path)
    context = pipeline_context(store, store_path, monitoring.PIPELINE_NAME)
    evaluations = {e.id: e for e in pipeline_artifacts(store, context, keys.MODEL_EVALUATION_TYPE)}
    for span, s in results.items():
        assert property_value(evaluations[s.evaluation_id], keys.SPAN_PROPERTY) == span
    executions = [
        e
        for e in store.get_executions_by_context(context.id)
        if property_value(e, keys.PASSED_PROPERTY) is not None
    ]
    assert {
        property_value(e, keys.SPAN_PROPERTY): property_value(e, keys.PASSED_PROPERTY)
        for e in executions
    } == {2: 1, 3: 1, 4: 0, 5: 1}


def test_history_lists_the_spans_in_order_with_the_monitor_s_verdicts(example):
    _, store_path, outcomes = example
    history = read_history(store_path, "auc")
    assert history.by_span
    spans = [p.span for p in history.points]
    assert spans == sorted(spans) and set(spans) == {1, 2, 3, 4, 5}
    first = [p for p in history.points if p.span in (1, 2, 3, 4, 5)][:5]
    assert [p.monitored for p in first] == [False, True, True, True, True]
    assert [p.blessed for p in first] == [True, True, True, False, True]
    assert first[3].reason.startswith("Span 4 failed: 1 of 11 checks failed, first: The Jensen")
    assert [
        c["threshold"]["lower_bound"]
        for p in first
        for c in p.checks
        if c["kind"] == "value_threshold"
    ] == [MIN_AUC] * 5
    # A drift distance is a metric of the history too, named as the gate's checks name it.
    drift = read_history(store_path, "jensen_shannon of age")
    by_span = {p.span: p for p in drift.points if p.monitored}
    results = {s.span: s for outcome in outcomes for s in outcome.spans}
    for span, result in results.items():
        (check,) = [c for c in result.decision.checks if c.metric == "jensen_shannon of age"]
        assert by_span[span].value == check.value
    assert drift.points[0].value is None  # the training run's evaluation measured no drift
    code, out, _ = _cli("history", "--mlmd", store_path, "--metric", "auc")
    assert code == 0
    lines = out.splitlines()
    assert "by data span" in lines[0]
    assert [line.split()[0] for line in lines[2:]] == [str(span) for span in spans]
    assert [line.split()[1] for line in lines[2:7]] != ["monitor"] * 5


def test_glassbox_monitor_exits_1_with_the_failure_s_sentence_and_0_when_all_pass(
    example, tmp_path
):
    root, store_path, _ = example
    configs = _config_files(tmp_path)
    code, out, err = _cli(
        "monitor", "--mlmd", store_path, *configs, "--output", str(tmp_path / "again")
    )
    assert (code, err) == (0, "")
    assert "No new span to monitor" in out  # spans 2 to 5 were monitored by the example
    code, out, err = _cli(
        "monitor", "--mlmd", store_path, *configs, "--span", "4", "--output", str(tmp_path / "s4")
    )
    assert (code, err) == (1, "")
    failures = [line for line in out.splitlines() if line.startswith("Span 4: The ")]
    assert len(failures) == 1 and "divergence of age on Overall" in failures[0]
    # Data from outside the pipeline, as a span of its own: span 5's Examples, read as span 6.
    store = open_store(store_path)
    context = pipeline_context(store, store_path, monitoring.PIPELINE_NAME)
    (span5,) = [
        e
        for e in pipeline_artifacts(store, context, keys.EXAMPLES_TYPE)
        if property_value(e, keys.SPAN_PROPERTY) == 5
    ]
    code, out, err = _cli(
        "monitor",
        "--mlmd",
        store_path,
        *configs,
        "--examples",
        span5.uri,
        "--span",
        "6",
        "--output",
        str(tmp_path / "s6"),
    )
    assert (code, err) == (0, "")
    assert "Span 6: passed (11 of 11 checks passed" in out
    assert [p.span for p in read_history(store_path, "auc").points][-1] == 6


@pytest.mark.parametrize("case", ["unknown pipeline", "missing span", "no span", "no push"])
def test_bad_input_exits_2_with_one_line(example, tmp_path, case):
    _, store_path, _ = example
    argv = ["--mlmd", store_path, *_config_files(tmp_path), "--output", str(tmp_path / "out")]
    expected = {
        "unknown pipeline": "no pipeline 'nope'",
        "missing span": "has no Examples of span 9 (its spans: 1, 2, 3, 4, 5",
        "no span": "needs its span (--span N)",
        "no push": "pipeline 'empty' in",
    }[case]
    if case == "unknown pipeline":
        argv += ["--pipeline", "nope"]
    elif case == "missing span":
        argv += ["--span", "9"]
    elif case == "no span":
        argv += ["--examples", str(tmp_path)]
    else:
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = str(tmp_path / "empty.sqlite")
        empty = metadata_store.MetadataStore(config)
        type_id = empty.put_context_type(metadata_store_pb2.ContextType(name="pipeline"))
        empty.put_contexts([metadata_store_pb2.Context(type_id=type_id, name="empty")])
        argv[1] = str(tmp_path / "empty.sqlite")
    code, out, err = _cli("monitor", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err, err
    if case == "no push":
        assert "has no pushed model to monitor" in err


@pytest.mark.parametrize("width", [1400, 800])
def test_the_history_page_plots_the_spans_with_the_threshold(example, browser, tmp_path, width):
    _, store_path, _ = example
    path = str(tmp_path / "history.html")
    assert main(["history", "--mlmd", store_path, "--metric", "auc", "--html", path]) == 0
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{path}")
    report_browser.wait_drawn(page)
    chart = report_browser.chart_data(page, "history")
    traces = {trace.get("name"): trace for trace in chart["data"]}
    assert chart["layout"]["xaxis"]["type"] == "linear"
    assert chart["layout"]["xaxis"]["title"]["text"] == "data span"
    assert traces["blessed"]["x"] == [1]
    assert 4 in traces["monitor: failed"]["x"] and 4 not in traces["monitor: passed"]["x"]
    assert {2, 3, 5} <= set(traces["monitor: passed"]["x"])
    threshold = traces["value threshold"]
    assert threshold["x"] == sorted(threshold["x"]) and set(threshold["y"]) == {MIN_AUC}
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    browser.screenshot(page, f"monitoring-history-{width}")

    page.select_option("select[name='metric']", "jensen_shannon of age")
    report_browser.wait_drawn(page)
    traces = {t.get("name"): t for t in report_browser.chart_data(page, "history")["data"]}
    gate = traces["drift gate"]
    assert {y for y in gate["y"] if y is not None} == {monitoring.MAX_JENSEN_SHANNON}
    (failed,) = [
        y for x, y in zip(traces["monitor: failed"]["x"], traces["monitor: failed"]["y"]) if x == 4
    ][:1]
    assert failed > monitoring.MAX_JENSEN_SHANNON > max(traces["monitor: passed"]["y"])
    browser.screenshot(page, f"monitoring-history-drift-{width}")
    page.close()
