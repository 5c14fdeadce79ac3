"""What the `glassbox` commands import, each run in a fresh interpreter: those that only read ML
Metadata and write pages (`lineage`, `history`, `report --history`) never load TensorFlow, Beam,
TFX or TFMA, whose imports take seconds (TensorFlow alone about 8 s here); those that also read
evaluations (`report`, `model-card`, from directories or ML Metadata) and `validate` (which also
writes a validation) load TFMA's protos only; `evaluate` loads what
the evaluation runs on and nothing of TFX or kfp, nor what glassbox.deferred_imports defers:
Keras 3 (at `import tensorflow` and in TFMA's keras_lib), scikit-learn, IPython, TFMA's package
root, Beam's BigQuery and MongoDB connectors, scipy.stats until a confidence interval uses it.
The KFP tasks' processes defer the same."""

import json

import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer

from glassbox.engine.validate import validate
from glassbox.evaluation.writer import overall_scalar_metrics
from glassbox.model_card.card import model_card
from glassbox.model_card.inputs import load_inputs
from glassbox.pipelines.demo_pipeline import default_validator_config
from glassbox.report.load import build_report
from glassbox.report.render import render_html
from glassbox.validation import tfma_thresholds
from tests.support import saved_models
from tests.support.imports import HEAVY, heavy_modules_loaded_by, modules_loaded_by

# What a command that reads ML Metadata and writes files needs not load.
EVALUATION_LIBRARIES = {"tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx", "kfp"}
# What a command that reads evaluations needs not load (TFMA's protos load without its root).
TENSORFLOW_AND_BEAM = {"tensorflow", "keras", "tf_keras", "apache_beam", "tfx", "kfp", "sklearn"}
# TFMA's default binary classification metrics and plots, but the loss (a Keras metric).
EVAL_CONFIG = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "BinaryAccuracy" }
  metrics { class_name: "AUC" }
  metrics { class_name: "AUC" config: '{"name": "auc_precision_recall", "curve": "PR"}' }
  metrics { class_name: "Precision" }
  metrics { class_name: "Recall" }
  metrics { class_name: "MeanLabel" }
  metrics { class_name: "MeanPrediction" }
  metrics { class_name: "Calibration" }
  metrics { class_name: "ConfusionMatrixPlot" }
  metrics { class_name: "CalibrationPlot" }
}
"""
# Keras metrics: TFMA's default binary loss (a tf_keras class by its name alone) and a tf_keras
# metric named with its module, beside TFMA's own BinaryAccuracy.
KERAS_EVAL_CONFIG = """
model_specs { label_key: "label" example_weight_key: "weight" }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs {
  metrics { class_name: "BinaryCrossentropy" config: '{"name": "loss"}' }
  metrics { class_name: "BinaryAccuracy" module: "tf_keras.metrics" config: '{"name": "keras_accuracy"}' }
  metrics { class_name: "BinaryAccuracy" }
}
"""
# What glassbox never uses while evaluating with TFMA's own metrics (Keras 3, with scikit-learn
# and IPython for its wrappers and saving helpers; IPython also for Beam's notebook check).
NOT_FOR_TFMA_METRICS = {"keras", "sklearn", "IPython", "plotly"}


# Loaded only by what the commands never use: TFMA's package root (its notebook views, its API
# module), Beam's BigQuery and MongoDB clients.
DEFERRED = {
    "tensorflow_model_analysis.view",
    "tensorflow_model_analysis.api.model_eval_lib",
    "apache_beam.io.gcp.bigquery",
    "google.cloud.bigquery",
    "pymongo",
}


def _run_command(argv, deferred=True):
    """A fresh interpreter's statement running `glassbox argv`; deferred=False: with nothing
    deferred (glassbox.deferred_imports.install a no-op)."""
    install = "" if deferred else "deferred_imports.install = lambda: None\n"
    return f"from glassbox import cli, deferred_imports\n{install}assert cli.main({argv!r}) == 0"


def _top_level(modules):
    return {name.split(".")[0] for name in modules}


def _loaded_by_command(argv):
    """The heavy packages a fresh interpreter loaded running `glassbox argv` (which succeeded)."""
    return set(heavy_modules_loaded_by(_run_command(argv)))


def test_the_command_line_loads_nothing_heavy_before_a_command_runs():
    assert heavy_modules_loaded_by("from glassbox import cli\ncli.build_parser()") == []


def test_lineage_and_history_read_ml_metadata_without_tensorflow(demo_runs, tmp_path):
    model_id = demo_runs.runs[-1].decision["candidate"]["id"]
    for argv in (
        ["lineage", "--mlmd", demo_runs.store, "--model-id", str(model_id)],
        ["history", "--mlmd", demo_runs.store, "--metric", "auc", "--html", str(tmp_path)],
        [
            "report",
            "--mlmd",
            demo_runs.store,
            "--history",
            "--metric",
            "auc",
            "--output",
            str(tmp_path / "h.html"),
        ],
    ):
        loaded = _loaded_by_command(argv)
        assert "ml_metadata" in loaded, argv
        assert not loaded & EVALUATION_LIBRARIES, argv
    assert (tmp_path / "report.html").exists() and (tmp_path / "h.html").exists()


def test_report_and_model_card_read_evaluations_without_tensorflow(demo_runs, tmp_path):
    """From directories and from ML Metadata; the pages and the card are those built in this
    process (where TensorFlow is loaded)."""
    run = demo_runs.runs[-1]  # a candidate refused against its baseline, with attributions
    dirs = ["--evaluation", run.evaluation_uri, "--validation", run.validation_uri]
    model = ["--mlmd", demo_runs.store, "--model-id", str(run.model_id)]
    for argv in (
        ["report", *dirs, "--output", str(tmp_path / "dirs.html")],
        ["report", *model, "--output", str(tmp_path / "model.html")],
        ["model-card", *dirs, "--output", str(tmp_path / "card")],
        ["model-card", *model, "--output", str(tmp_path / "mlmd_card")],
    ):
        modules = set(modules_loaded_by(_run_command(argv)))
        assert not {name.split(".")[0] for name in modules} & TENSORFLOW_AND_BEAM, argv
        assert not modules & DEFERRED, argv
    page = render_html(build_report(run.evaluation_uri, run.validation_uri))
    assert (tmp_path / "dirs.html").read_text() == page
    card = json.loads((tmp_path / "card" / "model_card.json").read_text())
    assert card == json.loads(
        json.dumps(model_card(load_inputs(run.evaluation_uri, run.validation_uri), None))
    )
    mlmd_card = json.loads((tmp_path / "mlmd_card" / "model_card.json").read_text())
    assert mlmd_card["quantitative_analysis"] == card["quantitative_analysis"]
    assert "glassbox-data" in (tmp_path / "model.html").read_text()


def test_validate_decides_without_tensorflow_as_with_tfma_s_thresholds(
    demo_runs, tmp_path, monkeypatch
):
    """On the demo's runs (thresholds per slice and against the baseline on an EvalConfig with a
    Keras loss, the demo's attribution gate): the files and blessing this process writes with
    TFMA's own thresholds (TensorFlow loaded)."""
    config = tmp_path / "validator_config.pbtxt"
    config.write_text(text_format.MessageToString(default_validator_config()))
    monkeypatch.setattr(
        tfma_thresholds, "metric_thresholds", tfma_thresholds._tfma_thresholds
    )  # TFMA's metric_thresholds_from_metrics_specs
    for i, run in enumerate(demo_runs.runs):
        fresh, here = tmp_path / f"fresh{i}", tmp_path / f"here{i}"
        argv = ["validate", "--evaluation", run.evaluation_uri, "--config", str(config)]
        argv += ["--output", str(fresh), "--blessing", str(fresh / "blessing")]
        modules = set(
            modules_loaded_by(
                "from glassbox import cli\n"
                f"assert cli.main({argv!r}) == {0 if run.decision['blessed'] else 1}"
            )
        )
        assert not _top_level(modules) & TENSORFLOW_AND_BEAM, i
        assert not modules & DEFERRED, i
        assert "tensorflow_model_analysis.metrics" not in modules
        outcome = validate(run.evaluation_uri, str(here), default_validator_config())
        for name in ("decision.json", "decision.md", "validations.tfrecord", "report.html"):
            assert (fresh / name).read_bytes() == (here / name).read_bytes(), (i, name)
        assert [p.name for p in (fresh / "blessing").iterdir()] == [outcome.blessing.file_name]


@pytest.fixture(scope="module")
def model_and_examples(tmp_path_factory):
    root = tmp_path_factory.mktemp("startup")
    examples = saved_models.make_examples(200, seed=3)
    return (
        saved_models.export_model(str(root / "model")),
        saved_models.write_tfrecords(str(root / "eval.gz"), examples),
    )


def test_evaluate_loads_beam_and_tfma_beside_tensorflow(model_and_examples, tmp_path):
    model, examples = model_and_examples
    config = tmp_path / "eval_config.pbtxt"
    config.write_text(EVAL_CONFIG)
    argv = ["evaluate", "--model", model, "--examples", examples, "--eval-config", str(config)]
    modules = set(modules_loaded_by(_run_command([*argv, "--output", str(tmp_path / "out")])))
    loaded = _top_level(modules) & set(HEAVY)
    by_tensorflow = set(heavy_modules_loaded_by("import tensorflow"))
    assert loaded - by_tensorflow == {"tensorflow_model_analysis", "apache_beam"}
    assert not loaded & {"tfx", "kfp"}
    assert not modules & DEFERRED, modules & DEFERRED
    assert "scipy.stats._stats_py" not in modules  # scipy.stats runs for confidence intervals only
    # tf_keras loads: TFMA's metric_specs deserializes every metric, its own too, with tf_keras.
    assert not _top_level(modules) & NOT_FOR_TFMA_METRICS, _top_level(modules)
    overall = overall_scalar_metrics(str(tmp_path / "out"))
    assert {"auc", "auc_precision_recall", "calibration", "example_count"} <= set(overall)
    assert (tmp_path / "out" / "report.html").exists()


def test_confidence_intervals_load_scipy_stats_and_equal_those_without_the_deferral(
    model_and_examples, tmp_path
):
    model, examples = model_and_examples
    config = tmp_path / "eval_config.pbtxt"
    config.write_text(EVAL_CONFIG + "options { compute_confidence_intervals { value: true } }\n")
    argv = ["evaluate", "--model", model, "--examples", examples, "--eval-config", str(config)]
    deferred = modules_loaded_by(_run_command([*argv, "--output", str(tmp_path / "deferred")]))
    modules_loaded_by(_run_command([*argv, "--output", str(tmp_path / "plain")], deferred=False))
    assert "scipy.stats._stats_py" in deferred
    (written,) = (tmp_path / "deferred").glob("metrics-*")
    assert written.read_bytes() == next((tmp_path / "plain").glob("metrics-*")).read_bytes()
    overall = next(
        m
        for m in mpv_writer.load_and_deserialize_metrics(str(tmp_path / "deferred"))
        if not m.slice_key.single_slice_keys
    )
    assert any(entry.HasField("confidence_interval") for entry in overall.metric_keys_and_values)


def test_a_deferred_package_first_used_by_several_threads_at_once_runs_once_for_all():
    """As Beam's worker threads may first use scipy.stats together (confidence intervals)."""
    modules_loaded_by(
        "from glassbox import deferred_imports\n"
        "deferred_imports.install()\n"
        "import threading, time\n"
        "from scipy import stats\n"
        "values = []\n"
        "def use(delay):\n"  # the later threads ask while the first runs scipy.stats' __init__
        "    time.sleep(delay)\n"
        "    values.append(stats.t.ppf(0.975, 10))\n"
        "threads = [threading.Thread(target=use, args=(i * 0.02,)) for i in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "assert len(values) == 8 and len(set(values)) == 1, values\n"
    )


def test_keras_metrics_evaluate_as_without_the_deferral(model_and_examples, tmp_path):
    """Keras metrics in the EvalConfig load tf_keras, and give the values they give in a process
    where nothing is deferred."""
    model, examples = model_and_examples
    config = tmp_path / "eval_config.pbtxt"
    config.write_text(KERAS_EVAL_CONFIG)
    argv = ["evaluate", "--model", model, "--examples", examples, "--eval-config", str(config)]
    deferred = _top_level(
        modules_loaded_by(_run_command([*argv, "--output", str(tmp_path / "deferred")]))
    )
    modules_loaded_by(_run_command([*argv, "--output", str(tmp_path / "plain")], deferred=False))
    assert "tf_keras" in deferred and not deferred & NOT_FOR_TFMA_METRICS, deferred
    overall = overall_scalar_metrics(str(tmp_path / "deferred"))
    assert overall == overall_scalar_metrics(str(tmp_path / "plain"))
    assert {"loss", "keras_accuracy", "binary_accuracy"} <= set(overall)
    assert overall["keras_accuracy"] == pytest.approx(overall["binary_accuracy"], abs=1e-6)
    assert 0.1 < overall["loss"] < 10


def test_kfp_task_processes_defer_the_imports_before_tensorflow_tfx_and_tfma_load():
    """The TFX components' KFP entrypoint and the native components' steps install the deferral
    on import, before the libraries load: none loads Keras 3, scikit-learn or IPython. The steps
    load TensorFlow, Beam and TFMA's metrics only in the evaluate step (the validate task's
    process needs none of them on local paths)."""
    check = (
        "from glassbox import deferred_imports\n"
        "assert any(isinstance(f, deferred_imports._Finder) for f in sys.meta_path)\n"
    )
    loaded = _top_level(modules_loaded_by(f"import glassbox.kfp.tfx_entrypoint\n{check}"))
    assert {"tensorflow", "kfp"} <= loaded and not loaded & NOT_FOR_TFMA_METRICS, loaded
    loaded = _top_level(modules_loaded_by(f"import glassbox.kfp.steps\n{check}"))
    assert "kfp" in loaded and not loaded & (TENSORFLOW_AND_BEAM - {"kfp"}), loaded


def test_tensorflow_loads_keras_when_used_not_when_imported(model_and_examples):
    """In the command's process `import tensorflow` leaves Keras (and scikit-learn, which Keras'
    wrappers import) unloaded; tf.keras, Keras itself and loading a SavedModel work as before."""
    model, _ = model_and_examples
    loaded = modules_loaded_by(
        "from glassbox import deferred_imports\n"
        "deferred_imports.install()\n"
        "import tensorflow as tf\n"
        "assert not {'keras', 'tf_keras', 'sklearn'} & set(sys.modules), sys.modules.keys()\n"
        f"assert 'serving_default' in tf.saved_model.load({model!r}).signatures\n"
        "assert tf.keras.layers.Dense(2, name='d').name == 'd'\n"
        "import keras\n"
        "assert keras.optimizers.Adam is tf.keras.optimizers.Adam"
    )
    assert "keras.src.optimizers" in loaded
