"""What the `glassbox` commands import, each run in a fresh interpreter: those that only read ML
Metadata and write pages (`lineage`, `history`, `report --history`) never load TensorFlow, Beam,
TFX or TFMA, whose imports take seconds (TensorFlow alone about 8 s here); `evaluate` loads what
the evaluation runs on and nothing of TFX or kfp, nor what glassbox.deferred_imports defers:
Keras at `import tensorflow`, TFMA's package root, Beam's BigQuery and MongoDB connectors."""

import pytest

from tests.support import saved_models
from tests.support.imports import HEAVY, heavy_modules_loaded_by, modules_loaded_by

# What a command that reads ML Metadata and writes files needs not load.
EVALUATION_LIBRARIES = {"tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx", "kfp"}
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
