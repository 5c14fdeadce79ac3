"""What the `glassbox` commands import, each run in a fresh interpreter: those that only read ML
Metadata and write pages (`lineage`, `history`, `report --history`) never load TensorFlow, Beam,
TFX or TFMA, whose imports take seconds (TensorFlow alone about 8 s here); those that also read
evaluations (`report`, `model-card`, from directories or ML Metadata) load TFMA's protos only; `evaluate` loads what
the evaluation runs on and nothing of TFX or kfp, nor what glassbox.deferred_imports defers:
Keras at `import tensorflow`, TFMA's package root, Beam's BigQuery and MongoDB connectors."""

import json

import pytest

from glassbox.model_card.card import model_card
from glassbox.model_card.inputs import load_inputs
from glassbox.report.load import build_report
from glassbox.report.render import render_html
from tests.support import saved_models
from tests.support.imports import HEAVY, heavy_modules_loaded_by, modules_loaded_by

# What a command that reads ML Metadata and writes files needs not load.
EVALUATION_LIBRARIES = {"tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx", "kfp"}
# What a command that reads evaluations needs not load (TFMA's protos load without its root).
TENSORFLOW_AND_BEAM = {"tensorflow", "keras", "tf_keras", "apache_beam", "tfx", "kfp", "sklearn"}
EVAL_CONFIG = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs { metrics { class_name: "AUC" } metrics { class_name: "ExampleCount" } }
"""


# Loaded only by what the commands never use: TFMA's package root (its notebook views, its API
# module), Beam's BigQuery and MongoDB clients.
DEFERRED = {
    "tensorflow_model_analysis.view",
    "tensorflow_model_analysis.api.model_eval_lib",
    "apache_beam.io.gcp.bigquery",
    "google.cloud.bigquery",
    "pymongo",
}


def _run_command(argv):
    return f"from glassbox import cli\nassert cli.main({argv!r}) == 0"


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
    loaded = {name.split(".")[0] for name in modules} & set(HEAVY)
    by_tensorflow = set(heavy_modules_loaded_by("import tensorflow"))
    # scikit-learn comes with TensorFlow (Keras' wrappers) in some installs, else with TFMA (nltk).
    # The report's plotly.js is a file of glassbox's: the plotly package is no longer imported.
    assert loaded - by_tensorflow - {"sklearn"} == {"tensorflow_model_analysis", "apache_beam"}
    assert not loaded & {"tfx", "kfp"}
    assert not modules & DEFERRED, modules & DEFERRED
    assert (tmp_path / "out" / "report.html").exists()


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
