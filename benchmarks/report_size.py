"""Size and render time of a report with 1,000 slices.

    uv run python -m benchmarks.report_size                 # 1,000 slices, 100,000 examples
    uv run python -m benchmarks.report_size --slices 3000 --examples 300000

Evaluates a trained binary model on synthetic data (benchmarks.synthetic), with itself as the
baseline so that every slice carries two models' metrics, diffs and plots: overall, `segment`
(10 values), `region` (3) and a `shop` feature with the remaining values, skewed so that example
counts vary. EvalConfig: ExampleCount, WeightedExampleCount, AUC, BinaryAccuracy, Precision,
Recall, CalibrationPlot and ConfusionMatrixPlot (TFMA's 1,000 thresholds and buckets per slice and
model). Then it times building the report (reading the evaluation) and rendering the page, prints
the page's size, and times it in headless Chromium (Debian's /usr/bin/chromium, network cut off):
opening the file until the first view is drawn, sorting the metrics table, switching the
histogram's metric, and opening a slice's plots.
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
from typing import Dict

import numpy as np
import pyarrow as pa

from benchmarks import synthetic
from glassbox import keys

SHOP_KEY = "shop"


def eval_config():
    from tensorflow_model_analysis.proto import config_pb2

    metrics = [
        "ExampleCount",
        "WeightedExampleCount",
        "AUC",
        "BinaryAccuracy",
        "Precision",
        "Recall",
        "CalibrationPlot",
        "ConfusionMatrixPlot",
    ]
    model = dict(
        label_key=synthetic.LABEL_KEY,
        example_weight_key=synthetic.WEIGHT_KEY,
        inference_batch_size=4096,
    )
    return config_pb2.EvalConfig(
        model_specs=[
            config_pb2.ModelSpec(name="candidate", **model),
            config_pb2.ModelSpec(name="baseline", is_baseline=True, **model),
        ],
        metrics_specs=[
            config_pb2.MetricsSpec(metrics=[config_pb2.MetricConfig(class_name=m) for m in metrics])
        ],
        slicing_specs=[
            config_pb2.SlicingSpec(),
            config_pb2.SlicingSpec(feature_keys=[synthetic.SEGMENT_KEY]),
            config_pb2.SlicingSpec(feature_keys=[synthetic.REGION_KEY]),
            config_pb2.SlicingSpec(feature_keys=[SHOP_KEY]),
        ],
    )


def evaluate(workdir: str, num_slices: int, num_examples: int, explain: bool = False) -> None:
    """Writes the data, trains the model and evaluates it into workdir/evaluation (slices: Overall,
    `segment` and `region`, the rest `shop`; from 14 slices on); with explain, Shapley values (exact,
    of 5 features) and permutation importance per slice of 20 rows a slice, both models."""
    from glassbox.engine.pipeline import run_evaluation
    from glassbox.protos.explain_config_pb2 import ExplainConfig, Shapley

    dataset = synthetic.synthetic(synthetic.BINARY, num_examples)
    num_shops = num_slices - 1 - 10 - 3
    config = eval_config()
    if num_shops > 0:
        shop = np.floor(num_shops * np.random.default_rng(1).random(num_examples) ** 2).astype(int)
        dataset.extra[SHOP_KEY] = pa.array(
            [[f"shop_{i}".encode()] for i in shop], type=pa.list_(pa.binary())
        )
    else:  # Overall and `segment`
        del config.slicing_specs[2:]
    files = synthetic.write_tfrecords(dataset, os.path.join(workdir, "data"))
    model = synthetic.train_and_export(dataset, os.path.join(workdir, "model"))
    explain_config = None
    if explain:
        explain_config = ExplainConfig(seed=7, per_slice=True, features=dataset.input_names[:5])
        explain_config.background.size = 10
        explain_config.explained_rows.count = 20
        explain_config.methods.add().shapley.algorithm = Shapley.EXACT
        explain_config.methods.add().permutation_importance.metric = "auc"
    run_evaluation(
        config,
        model,
        files,
        os.path.join(workdir, "evaluation"),
        baseline_model_dir=model,
        explain_config=explain_config,
    )


def build_and_render(evaluation: str, output: str) -> Dict[str, float]:
    """Seconds to read the evaluation (after imports) and render the page; the page's size."""
    import glassbox.explain.writer  # noqa: F401  (imports out of the timing)
    import glassbox.validation.reader  # noqa: F401
    from glassbox.report import build_report, render_html
    from glassbox.report.render import write_html

    start = time.perf_counter()
    report = build_report(evaluation)
    built = time.perf_counter()
    page = render_html(report)
    rendered = time.perf_counter()
    write_html(output, page)
    data = page.encode("utf-8")
    return {
        "slices": len(report.evaluation.slices),
        "build s": built - start,
        "render s": rendered - built,
        "page MB": len(data) / 1e6,
        "gzipped MB": len(gzip.compress(data)) / 1e6,
    }


def browse(path: str) -> Dict[str, float]:
    """Seconds from opening the page to its first view, and for three interactions."""
    from tests import report_browser

    timings = {}
    with (
        tempfile.TemporaryDirectory() as screenshots,
        report_browser.chromium(screenshots) as browser,
    ):
        page = browser.new_page()
        start = time.perf_counter()
        page.goto("file://" + path)
        report_browser.wait_drawn(page)
        timings["open s"] = time.perf_counter() - start
        for name, action in (
            ("sort table s", lambda: page.click("[data-table='metrics'] th[data-column='auc']")),
            (
                "switch metric s",
                lambda: page.select_option("select[name='metric']", "binary_accuracy"),
            ),
            (
                "open plots s",
                lambda: page.locator("[data-table='metrics'] tbody tr").nth(3).click(),
            ),
        ):
            start = time.perf_counter()
            action()
            report_browser.wait_drawn(page)
            timings[name] = time.perf_counter() - start
        assert not (browser.errors or browser.blocked_requests), (
            browser.errors,
            browser.blocked_requests,
        )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slices", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument(
        "--workdir",
        help="where data, model, evaluation and report go (default: a new temp dir); "
        "an evaluation already there is reused",
    )
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="report_size_")
    evaluation = os.path.join(workdir, "evaluation")
    if os.path.exists(os.path.join(evaluation, keys.EVAL_CONFIG_FILE)):
        print(f"evaluation: {evaluation} (reused)")
    else:
        start = time.perf_counter()
        evaluate(workdir, args.slices, args.examples)
        print(f"evaluation: {evaluation} ({time.perf_counter() - start:.0f} s)")
    report = os.path.join(workdir, keys.REPORT_FILE)
    results = {**build_and_render(evaluation, report), **browse(report)}
    print(f"report: {report}")
    for name, value in results.items():
        print(f"  {name:<16} {value:.3g}")


if __name__ == "__main__":
    main()
