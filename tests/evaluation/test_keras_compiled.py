"""A tf_keras model's compiled loss and metrics (TFMA's ``include_default_metrics``, on unless set
false) on the vectorised engine: the values tf_keras itself gives when its compiled_metrics and
compiled_loss run over the evaluation's examples batch by batch, as TFMA's
``_KerasCompiledMetricsCombiner`` runs them, keyed as TFMA keys them (example_weighted unset).
TFMA's own values for the corpus's Keras models: tests/evaluation/test_eval_config_corpus.py."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.utils.keras_lib import tf_keras

from glassbox.engine.pipeline import run_evaluation
from glassbox.errors import ConfigError
from glassbox.evaluation.exact_path import fast_path_refusal
from glassbox.evaluation.keras_compiled import compiled_metrics
from tests.support import eval_config_cases as cases
from tests.support import saved_models

N = 300
BATCH = 64  # tf_keras' batches: the loss must not depend on them

CONFIG = """
model_specs {{ label_key: "label" {weight} }}
slicing_specs {{}}
slicing_specs {{ feature_keys: "x0_sign" }}
metrics_specs {{ metrics {{ class_name: "ExampleCount" }} }}
"""


def _built(root, model: str, compile_args: dict, weight: str = ""):
    """A trained tf_keras model of the kind, recompiled with compile_args, saved as TFX Trainers
    save it, with its examples (and an 'x0_sign' slice feature)."""
    case = cases.Case(model, classes=3 if model == "multiclass" else 2, weight=weight)
    rows = cases.make_rows(case, N, name=f"keras_compiled_{model}")
    for row in rows:
        row["x0_sign"] = "pos" if row["x0"] > 0 else "neg"
    keras_model = cases.train_model(case, rows, epochs=2)
    keras_model.compile(optimizer="adam", **compile_args)
    model_dir = cases.save_model(case, keras_model, str(root / model))
    examples = saved_models.write_tfrecords(
        str(root / f"{model}.tfrecord"), [saved_models.to_example(r) for r in rows]
    )
    return model_dir, examples, rows, case


def _keras_values(model_dir, rows, case, weight_key):
    """What tf_keras reports: compiled_metrics and compiled_loss run batch by batch over rows,
    their variables summed over batches (as TFMA merges its batches)."""
    model = tf_keras.models.load_model(model_dir)
    columns = cases._columns(case, rows)
    predictions = model.predict(columns, batch_size=BATCH, verbose=0)
    labels = np.asarray([[r["label"]] for r in rows], dtype=np.float32)
    weights = np.asarray([r[weight_key] if weight_key else 1.0 for r in rows], dtype=np.float32)
    totals = None
    for start in range(0, len(rows), BATCH):
        part = slice(start, start + BATCH)
        metrics = [*model.compiled_metrics.metrics, *model.compiled_loss.metrics]
        for metric in metrics:
            metric.reset_state()
        y, p, w = (tf.constant(a[part]) for a in (labels, predictions, weights[:, None]))
        model.compiled_metrics.update_state(y, p, sample_weight=w)
        model.compiled_loss(y, p, sample_weight=w)
        metrics = [*model.compiled_metrics.metrics, *model.compiled_loss.metrics]
        state = [[np.asarray(v) for v in m.get_weights()] for m in metrics]
        totals = (
            state
            if totals is None
            else [[t + s for t, s in zip(ts, ss)] for ts, ss in zip(totals, state)]
        )
    values = {}
    for metric, state in zip(metrics, totals):
        metric.set_weights(state)
        values[metric.name] = float(metric.result())
    return values


def _written(output_dir, slice_key=()):
    metrics = dict(tfma.load_eval_result(output_dir).slicing_metrics)[slice_key][""][""]
    return {name: value["doubleValue"] for name, value in metrics.items()}


@pytest.mark.parametrize(
    "model, compile_args, weight",
    [
        (
            "binary",
            dict(
                loss="binary_crossentropy",
                metrics=["accuracy", "mse"],
                weighted_metrics=[tf_keras.metrics.BinaryAccuracy(name="wacc", threshold=0.4)],
            ),
            "weight",
        ),
        (
            "multiclass",
            dict(
                loss=tf_keras.losses.SparseCategoricalCrossentropy(),
                metrics=["acc", tf_keras.metrics.SparseCategoricalCrossentropy(name="sce")],
            ),
            "",
        ),
        (
            "regression",
            dict(loss="mse", metrics=["mae", tf_keras.metrics.RootMeanSquaredError()]),
            "weight",
        ),
    ],
)
def test_compiled_loss_and_metrics_equal_tf_keras_own(tmp_path, model, compile_args, weight):
    model_dir, examples, rows, case = _built(tmp_path, model, compile_args, weight)
    weight_field = f'example_weight_key: "{weight}"' if weight else ""
    config = text_format.Parse(CONFIG.format(weight=weight_field), config_pb2.EvalConfig())
    assert fast_path_refusal(config, {"": model_dir}) is None  # the vectorised engine runs them
    output = str(tmp_path / "out")
    run_evaluation(config, model_dir, [examples], output)

    expected = _keras_values(model_dir, rows, case, weight)
    written = _written(output)
    assert set(expected) <= set(written)
    for name, value in expected.items():
        assert written[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
    # Per slice too: the positive-x0 rows alone.
    positive = [r for r in rows if r["x0_sign"] == "pos"]
    expected = _keras_values(model_dir, positive, case, weight)
    written = _written(output, (("x0_sign", "pos"),))
    for name, value in expected.items():
        assert written[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name


def test_include_default_metrics_false_adds_none(tmp_path):
    model_dir, examples, _, _ = _built(tmp_path, "binary", dict(loss="binary_crossentropy"))
    config = text_format.Parse(
        CONFIG.format(weight="") + "options { include_default_metrics { value: false } }",
        config_pb2.EvalConfig(),
    )
    run_evaluation(config, model_dir, [examples], str(tmp_path / "out"))
    assert set(_written(str(tmp_path / "out"))) == {"example_count"}


def test_a_compiled_metric_without_a_formula_goes_to_tfmas_path_naming_it(tmp_path):
    model_dir, _, _, _ = _built(
        tmp_path, "binary", dict(loss="binary_crossentropy", metrics=[tf_keras.metrics.AUC()])
    )
    config = text_format.Parse(CONFIG.format(weight=""), config_pb2.EvalConfig())
    reason = fast_path_refusal(config, {"": model_dir})
    assert "compiled metric 'auc' (AUC) has no formula here" in reason
    assert model_dir in reason


def test_a_threshold_on_a_compiled_metric_is_checked_against_the_models(tmp_path):
    model_dir, examples, _, _ = _built(
        tmp_path, "binary", dict(loss="binary_crossentropy", metrics=["accuracy"])
    )
    text = CONFIG.format(weight="") + (
        'metrics_specs { thresholds { key: "%s" value { value_threshold { lower_bound { value: 0.1 } } } } }'
    )
    # 'accuracy' is compiled into the model: accepted, computed.
    run_evaluation(
        text_format.Parse(text % "accuracy", config_pb2.EvalConfig()),
        model_dir,
        [examples],
        str(tmp_path / "ok"),
    )
    assert "accuracy" in _written(str(tmp_path / "ok"))
    # A name neither the config nor the model computes: refused naming it, nothing written.
    with pytest.raises(ConfigError, match="metric 'acuracy', which the config does not compute"):
        run_evaluation(
            text_format.Parse(text % "acuracy", config_pb2.EvalConfig()),
            model_dir,
            [examples],
            str(tmp_path / "typo"),
        )


def test_compiled_metrics_per_output_or_with_batch_dependent_losses_are_named():
    with pytest.raises(Exception, match="reduction 'sum' makes its value depend on"):
        compiled_metrics(
            {"loss": {"class_name": "MeanSquaredError", "config": {"reduction": "sum"}}}, "m"
        )
    with pytest.raises(Exception, match="per model output"):
        compiled_metrics({"loss": "mse", "metrics": {"out1": ["mae"]}}, "m")
