"""Reports of a real evaluation (candidate and baseline, several slices, plots, confidence intervals,
a slice withheld by min_slice_size), explanations written into it and a real validation: the data
read, `glassbox report`, bad input, Kubeflow outputs, and the page in headless Chromium
with the network cut off. A slice value and a feature name carry HTML/JS: shown as text, never run.
"""

import base64
import gzip
import json
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox import cli
from glassbox.engine.pipeline import run_evaluation
from glassbox.explain.global_surrogate import fit_global_surrogate
from glassbox.model_card.files import card_page
from glassbox.report import build_report, kfp_ui_metadata, render_html
from glassbox.report.curves import MAX_CURVE_POINTS
from glassbox.report.page import PLOTLY_ELEMENT_ID
from glassbox.validation.validate import validate, write_validation
from tests.support import report_browser, saved_models

XSS_SLICE = '<script>alert("slice")</script>'
XSS_FEATURE = '"><img src=x onerror=alert("feature")>'
REGIONS = ("north", "south", XSS_SLICE)
TINY = "tiny"  # a region below min_slice_size: its metrics are withheld
CONFIG = """
model_specs { name: "candidate" label_key: "label" example_weight_key: "weight" }
model_specs { name: "baseline" label_key: "label" example_weight_key: "weight" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "region" }
slicing_specs { feature_keys: "category" }
cross_slicing_specs { baseline_spec {} slicing_specs { feature_keys: "category" } }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "WeightedExampleCount" }
  metrics { class_name: "AUC" threshold {
    value_threshold { lower_bound { value: 0.5 } }
    change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.3 } } } }
  metrics { class_name: "BinaryAccuracy" }
  metrics { class_name: "CalibrationPlot" }
  metrics { class_name: "ConfusionMatrixPlot" }
}
options { min_slice_size { value: 50 } compute_confidence_intervals { value: true } }
"""


ATTRIBUTIONS = {  # the candidate's mean |attribution| per slice
    (): {"x0": 0.3, "x1": 0.1, XSS_FEATURE: 0.2},
    (("region", "north"),): {"x0": 0.25, "x1": 0.05},
    (("region", XSS_SLICE),): {"x0": 0.1, XSS_FEATURE: 0.4},
}
BASELINE_ATTRIBUTIONS = {"x0": 0.05, "x1": 0.35, XSS_FEATURE: 0.15}  # the baseline's, every slice
STANDARD_ERRORS = {"x0": 0.02, "x1": 0.01, XSS_FEATURE: 0.03}  # of the candidate's on Overall


def _write_attributions(evaluation_dir):
    """Mean |attribution| per feature of three slices, through TFMA's attributions proto."""
    key = metric_types.AttributionsKey(
        name="mean_absolute_attributions", model_name="candidate", example_weighted=True
    )
    path = os.path.join(evaluation_dir, "attributions-00000-of-00001.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for slice_key, values in ATTRIBUTIONS.items():
            writer.write(
                mpv_writer.convert_slice_attributions_to_proto(
                    (
                        slice_key,
                        {key: values, key._replace(model_name="baseline"): BASELINE_ATTRIBUTIONS},
                    )
                ).SerializeToString()
            )


def _write_surrogate(evaluation_dir, examples):
    """A real global surrogate of scores that depend on x0 and on the region (split on its HTML value)."""
    x0 = np.array([e.features.feature["x0"].float_list.value[0] for e in examples])
    region = np.array([e.features.feature["region"].bytes_list.value[0].decode() for e in examples])
    scores = 1 / (1 + np.exp(-x0)) * np.where(region == XSS_SLICE, 0.5, 1.0)
    tree = fit_global_surrogate(
        {"x0": x0, "region": region},
        scores,
        slices={f"region:{r}": region == r for r in REGIONS + (TINY,)},
    )
    with open(os.path.join(evaluation_dir, "surrogate.json"), "w") as f:
        json.dump(tree.to_json(), f)
    return tree


# explanation_summary.json as glassbox.explain.writer writes it (the parts the report shows).
SUMMARY = {
    "models": {
        role: {
            "primary_method": "exact_shapley",
            "methods": {
                "exact_shapley": {
                    "accuracy": {
                        "method": "exact_shapley",
                        "mean_standard_error": 0.0,
                        "max_standard_error": 0.0,
                    },
                    "slices": {"Overall": {"standard_error": STANDARD_ERRORS}},
                }
            },
            "permutation_importance": {
                "metric": "auc",
                "num_repeats": 5,
                "slices": {
                    "Overall": {
                        "metric_value": 0.76,
                        "importance": {
                            "x0": {"mean": 0.107029, "std": 0.0535},
                            "x1": {"mean": -0.002, "std": 0.015},
                        },
                    }
                },
            },
            "global_surrogate": None,
        }
        for role in ("candidate", "baseline")
    },
    "shift": {
        "candidate_method": "exact_shapley",
        "baseline_method": "exact_shapley",
        "slices": {
            "Overall": {
                "attribution_shift": 0.210759,
                "top_k": 2,
                "top_k_overlap": 1,
                "candidate_top_k": ["x0", XSS_FEATURE],
                "baseline_top_k": ["x1", XSS_FEATURE],
            },
            "region:north": {"attribution_shift": 0.0421, "top_k": 5, "top_k_overlap": 4},
        },
    },
}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    examples = saved_models.make_examples(1200, seed=7)
    for i, example in enumerate(examples):
        region = TINY if i < 30 else REGIONS[i % len(REGIONS)]
        example.features.feature["region"].bytes_list.value.append(region.encode())
    data = saved_models.write_tfrecords(str(root / "eval.gz"), examples)
    evaluation = str(root / "evaluation")
    run_evaluation(
        text_format.Parse(CONFIG, config_pb2.EvalConfig()),
        saved_models.export_model(str(root / "candidate"), seed=0),
        [data],
        evaluation,
        baseline_model_dir=saved_models.export_model(str(root / "baseline"), seed=1),
    )
    _write_attributions(evaluation)
    surrogate = _write_surrogate(evaluation, examples)
    with open(os.path.join(evaluation, "explanation_summary.json"), "w") as f:
        json.dump(SUMMARY, f)
    validation = str(root / "validation")
    write_validation(validate(evaluation), validation)
    with open(os.path.join(validation, "decision.json")) as f:
        decision = json.load(f)
    return {
        "root": root,
        "evaluation": evaluation,
        "validation": validation,
        "decision": decision,
        "surrogate": surrogate,
    }


@pytest.fixture(scope="module")
def report(artifacts):
    return build_report(artifacts["evaluation"], artifacts["validation"])


def test_the_report_holds_every_slice_metric_plot_and_explanation(artifacts, report):
    evaluation = report.evaluation
    names = [row.name for row in evaluation.slices]
    assert names[0] == "Overall"
    assert set(names) == {
        "Overall",
        *(f"region:{r}" for r in REGIONS + (TINY,)),
        "category:a",
        "category:b",
        "category:c",
    }
    ids = [column.id for column in evaluation.columns]
    assert {
        "auc",
        "auc (baseline)",
        "auc (diff)",
        "binary_accuracy",
        "weighted_example_count",
    } <= set(ids)
    assert (
        evaluation.default_metric == "auc" and evaluation.count_column == "weighted_example_count"
    )

    # The numbers are TFMA's (to the report's 6 significant digits), intervals included.
    loaded = tfma.load_eval_result(artifacts["evaluation"], model_name="candidate")
    tfma_auc = dict(loaded.slicing_metrics)[(("category", "a"),)][""][""]["auc"]
    row = next(r for r in evaluation.slices if r.name == "category:a")
    auc = ids.index("auc")
    assert row.values[auc] == pytest.approx(tfma_auc["boundedValue"]["value"], rel=1e-5)
    assert row.intervals[auc][0] < row.values[auc] < row.intervals[auc][1]
    tiny = next(r for r in evaluation.slices if r.name == f"region:{TINY}")
    assert "minimum required value: 50" in tiny.error and all(v is None for v in tiny.values)

    # Plots: every slice with metrics, both models; curves shrunk, calibration sums exact.
    assert set(evaluation.plots) == set(names) - {f"region:{TINY}"}
    count = ids.index("weighted_example_count")
    for row in evaluation.slices:
        if row.error:
            continue
        series = {s.role: s for s in evaluation.plots[row.name]}
        assert set(series) == {"candidate", "baseline"}
        curve = series["candidate"].thresholds
        assert 2 < len(curve.threshold) <= MAX_CURVE_POINTS and curve.threshold == sorted(
            curve.threshold
        )
        assert sum(series["candidate"].calibration.weight) == pytest.approx(
            row.values[count], rel=1e-3
        )

    attributions, baseline_attributions = evaluation.attributions  # the candidate's first
    assert (attributions.metric, attributions.role) == (
        "mean_absolute_attributions (candidate)",
        "candidate",
    )
    assert attributions.by_slice[f"region:{XSS_SLICE}"] == {"x0": 0.1, XSS_FEATURE: 0.4}
    assert baseline_attributions.role == "baseline"
    assert baseline_attributions.by_slice["Overall"] == BASELINE_ATTRIBUTIONS
    assert (
        evaluation.surrogate.rules == artifacts["surrogate"].rules
        and XSS_SLICE in evaluation.surrogate.rules
    )
    assert evaluation.surrogate.fidelity["region:north"]["agreement"] == pytest.approx(
        artifacts["surrogate"].fidelity["region:north"].agreement
    )
    # The explanation summary: each method's accuracy, the shift and permutation importance per slice.
    summary = evaluation.explanation_summary
    assert [(a.model, a.method, a.accuracy) for a in summary.accuracy] == [
        (role, "exact_shapley", "mean_standard_error 0, max_standard_error 0")
        for role in ("candidate", "baseline")
    ]
    assert [(s.slice, s.attribution_shift, s.top_k_overlap, s.top_k) for s in summary.shift] == [
        ("Overall", 0.210759, 1, 2),
        ("region:north", 0.0421, 4, 5),
    ]
    assert summary.standard_errors["candidate"]["Overall"] == STANDARD_ERRORS
    assert {
        (p.model, p.feature, p.metric, p.mean, p.std)
        for p in summary.permutation
        if p.slice == "Overall"
    } == {
        (role, feature, "auc", value["mean"], value["std"])
        for role in ("candidate", "baseline")
        for feature, value in SUMMARY["models"][role]["permutation_importance"]["slices"][
            "Overall"
        ]["importance"].items()
    }
    assert report.validation == artifacts["decision"]
    assert report.views() == ["validation", "slices", "plots", "explanations"]


def test_glassbox_report_writes_the_page_and_kubeflow_metadata(artifacts, capsys):
    output = artifacts["root"] / "out" / "report.html"
    metadata = artifacts["root"] / "out" / "mlpipeline-ui-metadata.json"
    assert (
        cli.main(
            [
                "report",
                "--evaluation",
                artifacts["evaluation"],
                "--validation",
                artifacts["validation"],
                "--output",
                str(output),
                "--kfp-ui-metadata",
                str(metadata),
                "--title",
                "Release <42>",
            ]
        )
        == 0
    )
    assert str(output) in capsys.readouterr().out
    page = output.read_text(encoding="utf-8")
    assert "<title>Release &lt;42&gt;</title>" in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing fetched: all inline
    assert json.loads(metadata.read_text()) == kfp_ui_metadata(page)
    assert kfp_ui_metadata(page)["outputs"][0]["type"] == "web-app"
    assert [f for f in os.listdir(output.parent) if ".tmp" in f] == []


@pytest.mark.parametrize(
    "case",
    [
        "no_dir",
        "not_evaluation",
        "no_validation_dir",
        "not_validation",
        "bad_decision",
        "bad_surrogate",
        "no_source",
    ],
)
def test_bad_input_exits_2_naming_the_path_and_writes_nothing(artifacts, tmp_path, capsys, case):
    bad = tmp_path / "bad"
    bad.mkdir()
    evaluation, validation, culprit = artifacts["evaluation"], None, str(bad)
    if case == "no_dir":
        evaluation = culprit = str(tmp_path / "missing")
    elif case == "not_evaluation":
        evaluation = culprit = str(bad)
    elif case == "no_validation_dir":
        validation = culprit = str(tmp_path / "missing")
    elif case == "not_validation":
        validation = str(bad)
    elif case == "bad_decision":
        (bad / "decision.json").write_text('{"blessed": "yes"}')
        validation, culprit = str(bad), str(bad / "decision.json")
    elif case == "bad_surrogate":
        shutil.copytree(artifacts["evaluation"], bad, dirs_exist_ok=True)
        (bad / "surrogate.json").write_text('{"rules": 3}')
        evaluation, culprit = str(bad), str(bad / "surrogate.json")
    output = tmp_path / "report.html"
    argv = ["report", "--output", str(output)]
    argv += [] if case == "no_source" else ["--evaluation", evaluation]
    argv += ["--validation", validation] if validation else []
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert ("--evaluation" if case == "no_source" else culprit) in error
    assert not output.exists()


@pytest.fixture(scope="module")
def report_file(report, tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return str(path)


def test_the_page_works_offline_and_shows_each_view(browser, report_file, artifacts):
    page = browser.open(report_file)
    decision = artifacts["decision"]
    assert page.locator(".decision strong").inner_text() == (
        "Blessed" if decision["blessed"] else "Not blessed"
    )
    assert len(decision["checks"]) <= 100  # one page
    assert sorted(report_browser.table_column(page, "checks", 7)) == sorted(
        c["sentence"] for c in decision["checks"]
    )
    browser.screenshot(page, "validation")

    page.click("nav [data-view='slices']")
    report_browser.wait_drawn(page)
    assert (
        page.locator("[data-chart='overview']").count() == 1
    )  # few slices: the overview is the default
    browser.screenshot(page, "slices-overview")
    page.select_option("select[name='viz']", "histogram")
    report_browser.wait_drawn(page)
    browser.screenshot(page, "slices-histogram")

    page.locator(
        "[data-table='metrics'] td", has_text="region:north"
    ).click()  # a row opens its plots
    report_browser.wait_drawn(page)
    assert page.input_value("select[name='slice']") == "region:north"
    roc = report_browser.chart_data(page, "roc")["data"]
    assert [trace.get("name") for trace in roc[:2]] == ["candidate", "baseline"]
    for name in ("pr", "calibration", "confusion-candidate", "confusion-baseline"):
        assert page.locator(f"[data-chart='{name}'] .main-svg").count() > 0
    browser.screenshot(page, "plots")

    page.click("nav [data-view='explanations']")
    report_browser.wait_drawn(page)
    assert report_browser.table_column(page, "shift", 1) == ["0.21076", "0.0421"]
    assert report_browser.table_column(page, "shift", 2) == ["1 of 2", "4 of 5"]
    assert report_browser.table_column(page, "permutation", 4)[:2] == [
        "0.10703",
        "0.10703",
    ]  # by mean, descending
    browser.screenshot(page, "explanations")
    assert browser.blocked_requests == [] and browser.errors == [] and browser.dialogs == []
    page.close()


def test_a_page_carries_plotly_s_cartesian_bundle_and_a_page_without_charts_none(
    browser, report, tmp_path
):
    """Before, every page carried the plotly package's full bundle: 1.96 MB of a 2 MB page, the
    model card's too. The page's own script is packed too: inline, it took a card page past 100 KB
    as views were added (35 KB packed)."""
    page = render_html(report)
    packed = re.search(f'id="{PLOTLY_ELEMENT_ID}">([^<]*)<', page).group(1)
    assert gzip.decompress(base64.b64decode(packed)).startswith(
        b"/**\n* plotly.js (cartesian - minified) v4.1.1"
    )
    assert len(page) < 800_000
    card = tmp_path / "model_card.html"
    card.write_text(card_page({"model_details": {"name": "m", "overview": "a model"}}))
    assert f'id="{PLOTLY_ELEMENT_ID}"' not in card.read_text() and card.stat().st_size < 60_000
    shown = browser.open(str(card))
    assert shown.locator(".model-card .overview").inner_text() == "a model"
    shown.close()


def _tfma_matrices(evaluation_dir, slice_name, model_name):
    """TFMA's confusion matrices of a model on a slice, as written: threshold -> [[tn, fp], [fn, tp]]."""
    from tensorflow_model_analysis.slicer import slicer_lib

    from glassbox.validation.reader import slice_label

    (file,) = tf.io.gfile.glob(os.path.join(evaluation_dir, "plots*"))
    for record in mpv_writer.load_and_deserialize_plots(file):
        if slice_label(slicer_lib.deserialize_slice_key(record.slice_key)) != slice_name:
            continue
        for entry in record.plot_keys_and_values:
            if entry.key.model_name == model_name:
                return {
                    float(f"{m.threshold:.4g}"): [
                        [m.true_negatives, m.false_positives],
                        [m.false_negatives, m.true_positives],
                    ]
                    for m in entry.value.confusion_matrix_at_thresholds.matrices
                }
    raise AssertionError(f"no plots of {model_name} on {slice_name}")


def _overlaps(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", [1400, 800])
def test_plots_draw_both_matrices_at_the_chosen_threshold_and_legends_beside_the_curves(
    browser, report_file, artifacts, width
):
    """Before, each model's curve was thinned on its own, so at the default threshold 0.5 the
    candidate's matrix was drawn at one threshold and the baseline's at another; and the legends lay
    over the PR curve's and the calibration's lower right."""
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    slice_name = "region:south"
    page.goto(f"file://{report_file}#view=plots&slice={slice_name}")
    report_browser.wait_drawn(page)
    tfma_baseline = _tfma_matrices(artifacts["evaluation"], slice_name, "baseline")
    options = page.locator("select[name='threshold'] option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert len(options) > 10
    for value in [options[i] for i in range(0, len(options), len(options) // 6)] + ["0.5"]:
        if value in options:
            page.select_option("select[name='threshold']", value)
            report_browser.wait_drawn(page)
        chosen = float(page.input_value("select[name='threshold']"))
        titles = {
            role: report_browser.chart_data(page, f"confusion-{role}")["layout"]["title"]["text"]
            for role in ("candidate", "baseline")
        }
        assert titles["baseline"].endswith(f"threshold {titles['candidate'].split()[-1]}")
        assert float(titles["baseline"].split()[-1]) == chosen
        baseline = report_browser.chart_data(page, "confusion-baseline")["data"][0]["z"]
        # six significant digits of the counts, tn and fn the totals less them
        np.testing.assert_allclose(baseline, tfma_baseline[chosen], rtol=1e-5, atol=1e-3)
    for name in ("roc", "pr", "calibration"):
        chart = page.locator(f"[data-chart='{name}']")
        legend = chart.locator(".legend").bounding_box()
        area = chart.locator(".nsewdrag").first.bounding_box()
        assert legend and area and not _overlaps(legend, area), name
        assert legend["x"] + legend["width"] <= width
    browser.screenshot(page, f"plots-{width}")
    page.close()


def _margins(decision):
    """The first screen's weakest checks, computed here: the failed metric checks first, then the
    passed ones by how far their value is inside the bound."""
    rows = []
    for c in decision["checks"]:
        t = c["threshold"]
        if c["skipped"] or not c["metric"] or c["kind"] == "attribution":
            continue
        if "lower_bound" in t:
            margin = c["value"] - t["lower_bound"] if c["value"] is not None else None
        elif "absolute" in t and c["baseline_value"] is not None:
            margin = c["value"] - (c["baseline_value"] + t["absolute"])
        else:
            margin = None
        if margin is not None or not c["passed"]:
            rows.append((c["passed"], margin is None, margin or 0, c["slice"]))
    return sorted(rows)[:5]


@pytest.mark.parametrize("width", [1400, 800])
def test_the_first_screen_says_the_verdict_the_weakest_slices_and_the_top_features(
    browser, report_file, artifacts, width
):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{report_file}")
    report_browser.wait_drawn(page)
    expected = _margins(artifacts["decision"])
    assert report_browser.table_column(page, "weakest") == [row[3] for row in expected]
    shown = report_browser.table_column(page, "weakest", 4)
    assert shown[:2] == ["no value"] * 2  # region:tiny, withheld
    assert [float(v) for v in shown[2:]] == pytest.approx(
        [row[2] for row in expected[2:]], abs=1e-4
    )
    weakest = page.locator("[data-table='weakest']").bounding_box()
    assert weakest["y"] + weakest["height"] <= 900  # on the first screen
    assert report_browser.table_column(page, "top-features") == ["x0", XSS_FEATURE]
    assert report_browser.table_column(page, "top-features", 2) == ["0.05 (#3)", "0.15 (#2)"]
    summary = page.locator("p.summary", has_text="among the baseline's top").inner_text()
    assert summary.startswith("1 of the top 2 among the baseline's top 2")
    if width == 1400:  # beside the weakest slices
        top = page.locator("[data-table='top-features']").bounding_box()
        assert top["y"] + top["height"] <= 900
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    browser.screenshot(page, f"first-screen-{width}")
    page.locator("[data-table='top-features'] tbody tr").first.click()
    report_browser.wait_drawn(page)
    assert page.locator("nav button.active").inner_text() == "Explanations"
    page.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_the_validation_view_shows_why_whole_at_any_width(browser, report_file, artifacts, width):
    """Each check's explanation is whole inside the window (wrapped, never cut or off-screen), the
    thresholds read as a person says them, the banner says the verdict once, and a check opens its
    slice's charts."""
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{report_file}")
    report_browser.wait_drawn(page)
    cells = page.locator("[data-table='checks'] tbody td:last-child")
    assert cells.count() == len(artifacts["decision"]["checks"])
    for box, fits in zip(
        [cells.nth(i).bounding_box() for i in range(cells.count())],
        cells.evaluate_all("cells => cells.map(c => c.scrollWidth <= c.clientWidth)"),
    ):
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and fits
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    thresholds = set(report_browser.table_column(page, "checks", 6))
    assert thresholds == {"≥ 0.5", "change ≥ -0.3 vs baseline (higher is better)"}
    banner = page.locator(".decision").inner_text()
    assert banner.count("Not blessed") == 1 and "2 of 16 checks failed" in banner
    browser.screenshot(page, f"validation-{width}")
    page.locator("[data-table='checks'] td", has_text="region:north").first.click()
    report_browser.wait_drawn(page)
    assert page.locator("nav button.active").inner_text() == "Plots"
    assert page.input_value("select[name='slice']") == "region:north"
    page.close()


# How the KFP v2 UI shows a system.HTML artifact (kubeflow/pipelines 2.16.1,
# frontend/src/components/viewers/HTMLViewer.tsx): the page as the srcdoc of an iframe sandboxed
# to scripts only (an opaque origin: no storage, no URL changes), full width, at least 600 px high.
KFP_HTML_VIEWER = (
    '<body style="margin:0;padding:20px"><iframe src="about:blank" sandbox="allow-scripts" '
    'style="border:1px solid #e0e0e0;box-sizing:border-box;width:100%;min-height:600px">'
    "</iframe></body>"
)


@pytest.mark.parametrize("width", [1400, 800])
def test_the_page_works_in_the_kfp_ui_html_viewer(browser, report_file, width, tmp_path):
    host = tmp_path / "kfp.html"
    host.write_text(KFP_HTML_VIEWER)
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 700})
    page.goto(f"file://{host}")
    with open(report_file, encoding="utf-8") as f:
        page.locator("iframe").evaluate("(frame, html) => { frame.srcdoc = html; }", f.read())
    frame = page.frame_locator("iframe")
    frame.locator(report_browser.RENDERED).wait_for()
    assert frame.locator(".decision strong").inner_text() == "Not blessed"
    browser.screenshot(page, f"kfp-viewer-validation-{width}")
    # Views switch and a check opens its slice's charts, the state kept in memory.
    frame.locator("[data-table='checks'] td", has_text="region:north").first.click()
    frame.locator(report_browser.RENDERED).wait_for()
    assert frame.locator("nav button.active").inner_text() == "Plots"
    assert frame.locator("[data-chart='roc'] .main-svg").count() > 0
    browser.screenshot(page, f"kfp-viewer-plots-{width}")
    page.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_the_slice_overview_compares_candidate_baseline_thresholds_and_overall(
    browser, report_file, artifacts, width
):
    """Baseline bars beside the candidate's, each slice's threshold, the Overall line, example
    counts in the labels, a y-axis fitted to the values, and "Order by" re-sorting the table."""
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{report_file}#view=slices&metric=auc")
    report_browser.wait_drawn(page)
    chart = report_browser.chart_data(page, "overview")
    candidate, baseline, threshold = chart["data"]
    assert [t["name"] for t in chart["data"]] == ["candidate", "baseline", "threshold"]
    names = [data[0] for data in candidate["customdata"]]
    checks = artifacts["decision"]["checks"]
    wanted = {c["slice"]: c["baseline_value"] for c in checks if c["kind"] == "change_threshold"}
    got = dict(zip(names, baseline["y"]))
    assert all(got[name] == pytest.approx(value, rel=1e-5) for name, value in wanted.items())
    assert threshold["y"] == [0.5] * len(names)  # the value threshold, also on the withheld slice
    assert all("(n=" in label for label in candidate["x"] if not label.endswith("(withheld)"))
    overall = dict(zip(names, candidate["y"]))["Overall"]
    assert chart["layout"]["shapes"][0]["y0"] == overall
    assert 0.3 < chart["layout"]["yaxis"]["range"][0] < min(y for y in candidate["y"] if y)
    browser.screenshot(page, f"slices-overview-{width}")

    page.select_option("select[name='order']", "auc")
    report_browser.wait_drawn(page)
    ordered = [d[0] for d in report_browser.chart_data(page, "overview")["data"][0]["customdata"]]
    assert report_browser.table_column(page, "metrics") == ordered
    values = [v for v in (dict(zip(names, candidate["y"]))[n] for n in ordered) if v is not None]
    assert values == sorted(values, reverse=True)
    page.close()


def test_cross_slices_are_shown_as_a_minus_b(browser, report, report_file):
    """The evaluation's cross slices (Overall against each category) are in the report, each
    value the first slice's less the second's, in their own chart and table."""
    rows = {row.name: row for row in report.evaluation.slices}
    auc = [c.id for c in report.evaluation.columns].index("auc")
    cross = {row.name: row.values[auc] for row in report.evaluation.cross_slices}
    assert sorted(cross) == [f"Overall minus category:{c}" for c in "abc"]
    for name, value in cross.items():
        a, b = (rows[part].values[auc] for part in name.split(" minus "))
        assert value == pytest.approx(a - b, abs=1e-5)
    page = browser.open(report_file + "#view=slices&metric=auc")
    assert report_browser.table_column(page, "cross-slices") == sorted(cross)
    bars = report_browser.chart_data(page, "cross-slices")["data"][0]
    assert dict(zip(bars["customdata"], bars["x"])) == cross
    page.close()


def _assert_candidate_beside_baseline(page):
    """The explanations view opens on the candidate's attributions of Overall, the baseline's beside
    them, the candidate's with error bars, the top k (2, the summary's) starred and outlined."""
    traces = report_browser.chart_data(page, "attributions")["data"]
    assert [t["name"] for t in traces] == ["candidate", "baseline"]
    candidate, baseline = ({f: x for f, x in zip(t["customdata"], t["x"])} for t in traces)
    assert candidate == ATTRIBUTIONS[()] and baseline == BASELINE_ATTRIBUTIONS
    errors = dict(zip(traces[0]["customdata"], traces[0]["error_x"]["array"]))
    assert errors == STANDARD_ERRORS
    starred = {f for f, y in zip(traces[0]["customdata"], traces[0]["y"]) if y.startswith("★")}
    assert starred == {"x0", XSS_FEATURE}
    outlined = dict(zip(traces[1]["customdata"], traces[1]["marker"]["line"]["width"]))
    assert {f for f, w in outlined.items() if w} == {"x1", XSS_FEATURE}
    assert "1 of 2 shared" in page.locator(".top-k").inner_text()


@pytest.mark.parametrize("width", [1400, 800])
def test_the_explanations_view_at_each_width(browser, report_file, width):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"file://{report_file}#view=explanations")
    report_browser.wait_drawn(page)
    _assert_candidate_beside_baseline(page)
    assert report_browser.scrolling_sideways(page) == []  # the accuracy statements wrap
    browser.screenshot(page, f"explanations-{width}")
    page.close()


def test_html_in_slice_values_and_feature_names_is_shown_as_text_never_run(browser, report_file):
    page = browser.open(report_file + "#view=slices")
    assert page.get_by_role("cell", name=f"region:{XSS_SLICE}", exact=True).is_visible()
    assert page.locator("[data-chart='overview'] text", has_text=f"region:{XSS_SLICE}").count() == 1
    page.locator("[data-table='metrics'] td", has_text=XSS_SLICE).click()
    report_browser.wait_drawn(page)
    assert page.input_value("select[name='slice']") == f"region:{XSS_SLICE}"
    page.goto(page.url.split("#")[0] + f"#view=explanations&slice=region:{XSS_SLICE}")
    report_browser.wait_drawn(page)
    assert (
        page.locator("[data-table='attributions']")
        .get_by_text(XSS_FEATURE, exact=True)
        .is_visible()
    )
    assert XSS_SLICE in page.locator("pre.rules").inner_text()
    assert page.locator("img").count() == 0 and page.locator("main script").count() == 0
    assert browser.dialogs == [] and browser.errors == [] and browser.blocked_requests == []
    page.close()
