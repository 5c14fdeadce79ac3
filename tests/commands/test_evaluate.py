"""`glassbox evaluate`: a real run, and every bad input refused with the culprit named and nothing written."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from glassbox import cli, filesystem
from tests.support import saved_models

CONFIG = """
model_specs { label_key: "%(label)s" signature_name: "%(signature)s" }
slicing_specs {}
slicing_specs { feature_keys: "%(slice)s" }
metrics_specs { metrics { class_name: "%(metric)s" } metrics { class_name: "ExampleCount" } }
"""
CONFIG_WITH = (
    'model_specs { label_key: "label" } slicing_specs {} slicing_specs { feature_keys: "category" }'
    ' metrics_specs { metrics { class_name: "AUC" threshold { %s } } }'
)
WEIGHTED = CONFIG.replace('"%(label)s"', '"%(label)s" example_weight_key: "weight"')
GOOD = {"label": "label", "signature": "serving_default", "slice": "category", "metric": "AUC"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    examples = saved_models.make_examples(400, seed=3)
    paths = {
        "model": saved_models.export_model(str(root / "model")),
        "examples": saved_models.write_tfrecords(str(root / "data" / "eval.gz"), examples),
        "plain": saved_models.write_tfrecords(
            str(root / "plain" / "eval.tfrecord"), examples, gzip=False
        ),
        "artifact": saved_models.write_examples_artifact(
            str(root / "artifact"), {"eval": examples, "empty": []}
        ),
    }
    with open(paths["examples"], "rb") as f:
        data = f.read()
    paths["truncated"] = str(root / "truncated.gz")
    with open(paths["truncated"], "wb") as f:
        f.write(data[: len(data) // 2])
    paths["corrupt_model"] = str(root / "corrupt_model")
    os.makedirs(paths["corrupt_model"])
    with open(os.path.join(paths["corrupt_model"], "saved_model.pb"), "wb") as f:
        f.write(b"not a saved model")
    nan_examples = saved_models.make_examples(50, seed=4)
    nan_examples[7].features.feature["x0"].float_list.value[:] = [np.nan]
    paths["nan"] = saved_models.write_tfrecords(str(root / "nan.gz"), nan_examples)
    bad_labels = saved_models.make_examples(50, seed=5)
    bad_labels[3].features.feature["label"].int64_list.value[:] = [3]
    paths["bad_labels"] = saved_models.write_tfrecords(str(root / "bad_labels.gz"), bad_labels)
    negative = saved_models.make_examples(50, seed=6)
    negative[12].features.feature["weight"].float_list.value[:] = [-0.5]
    paths["negative_weight"] = saved_models.write_tfrecords(str(root / "negative.gz"), negative)
    zero = saved_models.make_examples(50, seed=7)
    for example in zero:
        example.features.feature["weight"].float_list.value[:] = [0.0]
    paths["zero_weights"] = saved_models.write_tfrecords(str(root / "zero_weights.gz"), zero)
    for name, label in (("label_5", 5), ("label_minus_1", -1), ("label_nan", np.nan)):
        labelled = saved_models.make_examples(50, seed=8)
        for example in labelled:
            value = example.features.feature["label"].int64_list.value[0]
            example.features.feature["label"].float_list.value[:] = [value]
        labelled[9].features.feature["label"].float_list.value[:] = [label]
        paths[name] = saved_models.write_tfrecords(str(root / f"{name}.gz"), labelled)
    paths["root"] = str(root)
    return paths


def _evaluate(tmp_path, files, examples=None, model=None, config=None, config_text=None, extra=()):
    config_path = tmp_path / "eval_config.pbtxt"
    config_path.write_text(
        config_text if config_text is not None else CONFIG % {**GOOD, **(config or {})}
    )
    output = tmp_path / "out"
    argv = [
        "evaluate",
        "--model",
        model or files["model"],
        "--examples",
        examples or files["examples"],
        "--eval-config",
        str(config_path),
        "--output",
        str(output),
        *extra,
    ]
    return cli.main(argv), output


def test_evaluate_writes_what_tfma_loads(tmp_path, files, capsys):
    code, output = _evaluate(tmp_path, files, examples=os.path.join(files["root"], "*", "eval.*"))
    assert code == 0
    result = tfma.load_eval_result(str(output))
    overall = dict(result.slicing_metrics)[()][""][""]
    assert overall["example_count"]["doubleValue"] == 800  # gzip and plain files alike
    out = capsys.readouterr().out
    assert "auc" in out
    assert "Note: candidate model" in out and "carries no Keras metadata" in out


def test_evaluate_reads_a_split_of_an_examples_artifact(tmp_path, files):
    code, output = _evaluate(tmp_path, files, examples=files["artifact"], extra=["--split", "eval"])
    assert code == 0
    assert (
        dict(tfma.load_eval_result(str(output)).slicing_metrics)[()][""][""]["example_count"][
            "doubleValue"
        ]
        == 400
    )


def test_disabled_outputs_are_not_written(tmp_path, files):
    # As in every Fairness Indicators tutorial ('analysis', which glassbox never writes) and plots.
    config = CONFIG % {**GOOD, "metric": "ConfusionMatrixPlot"}
    disabled = 'options { disabled_outputs { values: "analysis" values: "plots" } }'
    written = {}
    for name, text in (("all", config), ("disabled", config + disabled)):
        (tmp_path / name).mkdir()
        code, output = _evaluate(tmp_path / name, files, config_text=text)
        assert code == 0
        written[name] = {f.split("-")[0] for f in os.listdir(output) if "-" in f}
        overall = dict(tfma.load_eval_result(str(output)).slicing_metrics)[()][""][""]
        assert overall["example_count"]["doubleValue"] == 400
    assert {"metrics", "plots"} <= written["all"]
    assert "metrics" in written["disabled"] and "plots" not in written["disabled"]


def test_validate_refuses_an_evaluation_missing_a_promised_file(tmp_path, files, capsys):
    # A real evaluation validates; with its plots file deleted (eval_config.json promises plots)
    # `glassbox validate` exits 2 naming the file, and writes no decision and no blessing.
    threshold = "value_threshold { lower_bound { value: 0.1 } }"
    code, evaluation = _evaluate(tmp_path, files, config_text=CONFIG_WITH % threshold)
    assert code == 0
    validate = ["validate", "--evaluation", str(evaluation)]
    assert cli.main(validate + ["--output", str(tmp_path / "v1")]) == 0
    (plots,) = [f for f in os.listdir(evaluation) if f.startswith("plots-")]
    os.remove(evaluation / plots)
    capsys.readouterr()
    blessing = tmp_path / "blessing"
    code = cli.main(validate + ["--output", str(tmp_path / "v2"), "--blessing", str(blessing)])
    assert code == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert f"{evaluation}/plots-* not found" in error and "incomplete" in error
    assert "Traceback" not in error
    assert not blessing.exists() and not (tmp_path / "v2" / "decision.json").exists()


@pytest.mark.parametrize(
    "case, culprit",
    [
        (dict(config={"label": "no_such_label"}), "no_such_label"),
        (dict(config={"slice": "no_such_feature"}), "no_such_feature"),
        (dict(examples="bad_labels"), "label"),
        (dict(examples="nan"), "NaN"),
        (dict(config={"signature": "no_such_signature"}), "no_such_signature"),
        (dict(model="missing_model"), "missing_model"),
        (dict(model="corrupt_model"), "corrupt_model"),
        (dict(examples="truncated"), "truncated.gz"),
        (dict(examples="artifact", extra=["--split", "empty"]), "empty"),
        (dict(config={"metric": "NoSuchMetric"}), "NoSuchMetric"),
        (dict(config_text="model_specs { label_key: "), "eval_config.pbtxt"),
        *[
            (
                dict(examples=name),
                f"{name}.gz, record 9: feature 'label' (label_key of model ''): AUC "
                "(metrics_specs[0].metrics[0]) splits fractional labels, which must lie in [0, 1]; "
                f"got label {label}",
            )
            for name, label in (("label_5", 5.0), ("label_minus_1", -1.0), ("label_nan", "nan"))
        ],
        (
            dict(examples="negative_weight", config_text=WEIGHTED % GOOD),
            "negative.gz: feature 'weight' (example_weight_key of model '' (",
        ),
        (
            dict(examples="negative_weight", config_text=WEIGHTED % GOOD),
            "1 of 50 examples hold a negative, NaN or infinite weight (first: record 12 holds -0.5)",
        ),
        (
            dict(examples="zero_weights", config_text=WEIGHTED % GOOD),
            "slice Overall: the example weights (feature 'weight', example_weight_key of model '') "
            "of its 50 examples sum to 0, so its weighted metrics are undefined",
        ),
        (
            dict(
                config_text='model_specs { label_key: "label" preprocessing_function_names: "tf" }'
            ),
            "'model_specs[0].preprocessing_function_names' names 'tf', which is not a signature",
        ),
        (
            dict(config_text=CONFIG_WITH % "change_threshold { absolute { value: -0.01 } }"),
            "'metrics_specs[0].metrics[0].threshold.change_threshold.direction' (on AUC) is unset",
        ),
        (
            dict(
                config_text=CONFIG_WITH
                % "value_threshold { lower_bound { value: 0.9 } upper_bound { value: 0.8 } }"
            ),
            "'metrics_specs[0].metrics[0].threshold.value_threshold' (on AUC) is contradictory: "
            "lower_bound > upper_bound",
        ),
        (
            dict(
                config_text=CONFIG_WITH
                % "value_threshold { lower_bound { value: 0.5 } }"
                + 'metrics_specs { thresholds { key: "accuracy" value { value_threshold { '
                "lower_bound { value: 0.5 } } } } }"
            ),
            "\"metrics_specs[1].thresholds['accuracy']\" sets a threshold on metric 'accuracy', "
            "which the config does not compute",
        ),
        (
            dict(
                config_text=(CONFIG_WITH % "value_threshold { lower_bound { value: 0.5 } }")
                + ' metrics_specs { metrics { class_name: "ExampleCount" per_slice_thresholds { '
                "slicing_specs { feature_keys: 'city' } threshold { value_threshold { "
                "lower_bound { value: 1 } } } } } }"
            ),
            "slicing_specs[0]' selects slices of ['city'], which the slicing_specs never produce",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_culprit_and_nothing_is_written(
    tmp_path, files, capsys, case, culprit
):
    case = dict(case)
    for key in ("examples", "model"):
        if key in case:
            case[key] = files.get(case[key], os.path.join(files["root"], case[key]))
    code, output = _evaluate(tmp_path, files, **case)
    assert code == cli.EXIT_ERROR
    assert culprit in capsys.readouterr().err
    assert not tf.io.gfile.exists(str(output / "eval_config.json"))
    assert not [f for f in (os.listdir(output) if output.exists() else []) if not f.startswith(".")]


@pytest.mark.parametrize(
    "schema_files, culprit",
    [
        ({"schema.pbtxt": "feature { name: "}, "malformed schema in"),
        ({"schema.pbtxt": "", "other.pbtxt": ""}, "must hold one schema file"),
        ({}, "must hold one schema file"),
    ],
)
def test_a_bad_schema_is_refused_naming_it_and_nothing_is_written(
    tmp_path, files, capsys, schema_files, culprit
):
    schema = tmp_path / "schema"
    schema.mkdir()
    for name, text in schema_files.items():
        (schema / name).write_text(text)
    code, output = _evaluate(tmp_path, files, extra=["--schema", str(schema)])
    assert code == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert culprit in error and str(schema) in error
    assert not output.exists()


def test_an_output_path_that_is_a_file_exits_2_naming_it_and_the_cause(tmp_path, files, capsys):
    (tmp_path / "out").write_text("a file")
    code, output = _evaluate(tmp_path, files)
    assert code == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert f"cannot write into the output directory '{output}'" in error
    assert "ot a directory" in error and "Traceback" not in error
    assert output.read_text() == "a file"


def test_a_full_disk_exits_2_naming_the_output_and_the_cause_leaving_nothing(
    tmp_path, files, capsys, monkeypatch
):
    # Every file written in binary into the output (the TFRecord files) goes to /dev/full, whose
    # writes fail with ENOSPC (No space left on device) as on a full disk; the fault comes from
    # inside Beam's pipeline.
    output, open_binary = tmp_path / "out", filesystem.open_binary
    monkeypatch.setattr(
        filesystem,
        "open_binary",
        lambda path, mode="rb": open_binary(
            "/dev/full" if mode == "wb" and path.startswith(str(output)) else path, mode
        ),
    )
    code, _ = _evaluate(tmp_path, files)
    assert code == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert f"cannot write into the output directory '{output}'" in error
    assert "No space left on device" in error and "Traceback" not in error
    assert os.listdir(output) == []  # no staging dir, no file, no eval_config.json


def test_a_symlink_in_the_output_is_replaced_never_written_through(tmp_path, files, capsys):
    # Planted links named as the files an evaluation writes: the files replace the links, and
    # what they point at stays untouched. An output path that is a dangling link exits 2.
    outside = tmp_path / "outside"
    outside.write_text("keep")
    output = tmp_path / "out"
    output.mkdir()
    for name in ("metrics-00000-of-00001.tfrecord", "examples_read.json"):
        (output / name).symlink_to(outside)
    code, _ = _evaluate(tmp_path, files)
    assert code == 0
    assert outside.read_text() == "keep"
    assert not (output / "metrics-00000-of-00001.tfrecord").is_symlink()
    assert tfma.load_eval_result(str(output)).slicing_metrics
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    (dangling / "out").symlink_to(tmp_path / "nowhere")
    capsys.readouterr()
    code, output = _evaluate(dangling, files)
    assert code == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert f"cannot write into the output directory '{output}': a symbolic link to " in error
    assert "which does not exist" in error and "Traceback" not in error
    assert not (tmp_path / "nowhere").exists()


def _evaluate_process(tmp_path, files, *options, examples=None):
    """`glassbox evaluate` as its own process, as a user runs it: (exit code, stdout, stderr)."""
    config_path = tmp_path / "eval_config.pbtxt"
    config_path.write_text(CONFIG % GOOD)
    argv = [sys.executable, "-m", "glassbox.cli", *options, "evaluate", "--model", files["model"]]
    argv += ["--examples", examples or files["examples"], "--eval-config", str(config_path)]
    argv += ["--output", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout, done.stderr


def test_the_command_prints_no_library_noise(tmp_path, files):
    code, out, err = _evaluate_process(tmp_path, files)
    assert code == 0
    assert err == ""  # no TensorFlow, absl, Beam or TFX lines
    assert "Wrote evaluation to" in out and "auc" in out


def test_verbose_shows_the_libraries_output(tmp_path, files):
    code, _, err = _evaluate_process(tmp_path, files, "--verbose")
    assert code == 0
    assert "cudart_stub" in err or "WARNING" in err


def test_an_error_is_one_line_naming_the_log_that_keeps_the_libraries_output(tmp_path, files):
    code, _, err = _evaluate_process(tmp_path, files, examples=files["truncated"])
    assert code == cli.EXIT_ERROR
    (line,) = err.splitlines()
    assert line.startswith("glassbox evaluate: error: ") and files["truncated"] in line
    log = line.rsplit("the libraries' output: ", 1)[1].rstrip(")")
    assert os.path.getsize(log) > 0  # Beam's traceback, kept for a bug report
    os.unlink(log)


def test_tensorboard_summaries_hold_the_metrics_and_the_plots_pr_curves(tmp_path, files):
    logdir = tmp_path / "tensorboard"
    config = {"metric": "ConfusionMatrixPlot"}
    code, output = _evaluate(tmp_path, files, config=config, extra=["--tensorboard", str(logdir)])
    assert code == 0
    written = {}
    for path in tf.io.gfile.glob(str(logdir / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                written[value.tag] = (
                    value.metadata.plugin_data.plugin_name,
                    tf.make_ndarray(value.tensor),
                )
    plots = tfma.load_eval_result(str(output)).plots
    assert plots
    for slice_key, by_output in plots:
        name = "Overall" if not slice_key else "_X_".join(f"{k}:{v}" for k, v in slice_key)
        matrices = by_output[""][""]["confusionMatrixAtThresholds"]["matrices"]
        plugin, curve = written[f"{name}/pr_curve/model"]  # one unnamed model
        assert plugin == "pr_curves" and curve.shape == (6, len(matrices))
        for row, field in enumerate(
            [
                "truePositives",
                "falsePositives",
                "trueNegatives",
                "falseNegatives",
                "precision",
                "recall",
            ]
        ):
            np.testing.assert_allclose(curve[row], [m.get(field, 0.0) for m in matrices], rtol=1e-6)
    assert written["Overall/example_count"][0] == "scalars"
