"""Building Batches (labels, predictions, weights per model) from real examples and SavedModels."""

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pytest
from apache_beam.testing.util import assert_that, equal_to
from google.protobuf import text_format
from tensorflow_model_analysis.metrics import metric_util
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_metadata.proto.v0 import schema_pb2

from glassbox.evaluation.batches import BatchBuilder, PredictDoFn
from glassbox.evaluation.errors import (ConfigError, ExamplesError, FeatureTypeError, MissingFeatureError,
                                        PredictionError, SignatureError)
from glassbox.evaluation.examples import ReadExampleBatches
from glassbox.evaluation.models import ServingModel
from tests import saved_models

N = 40


def eval_config(*model_specs: str) -> config_pb2.EvalConfig:
    return text_format.Parse(" ".join(f"model_specs {{ {s} }}" for s in model_specs),
                             config_pb2.EvalConfig())


def columns(examples, name):
    """A feature's single values across examples, as written."""
    return np.array([first_value(e, name) for e in examples])


def first_value(example, name):
    feature = example.features.feature[name]
    return (feature.float_list.value or feature.int64_list.value)[0]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "binary": saved_models.export_model(str(root / "binary"), with_logits=True),
        "multiclass": saved_models.export_model(str(root / "multiclass"), task="multiclass",
                                                inputs="features"),
        "regression": saved_models.export_model(str(root / "regression"), task="regression", seed=3),
    }


@pytest.fixture(scope="module")
def examples():
    return saved_models.make_examples(N, seed=2)


def build(config, dirs, examples):
    return BatchBuilder(config, dirs).build(saved_models.serialize(examples))


def test_binary_model_batch_has_float64_labels_squeezed_predictions_and_unit_weights(model_dirs, examples):
    batch = build(eval_config('label_key: "label"'), {"": model_dirs["binary"]}, examples)
    serialized = saved_models.serialize(examples)
    direct = ServingModel(model_dirs["binary"]).predict(serialized, batch.features)["predictions"]
    assert batch.num_rows == N
    np.testing.assert_array_equal(batch.predictions[""], direct[:, 0])
    np.testing.assert_array_equal(batch.labels[""], columns(examples, "label"))
    np.testing.assert_array_equal(batch.example_weights[""], np.ones(N))
    assert {a.dtype for a in (batch.labels[""], batch.predictions[""], batch.example_weights[""])} == {np.dtype(np.float64)}


def test_candidate_and_baseline_are_keyed_by_spec_name_with_their_own_keys(model_dirs, examples):
    config = eval_config('name: "candidate" label_key: "class" example_weight_key: "weight"',
                         'name: "baseline" label_key: "target" is_baseline: true')
    batch = build(config, {"candidate": model_dirs["multiclass"], "baseline": model_dirs["regression"]},
                  examples)
    assert batch.predictions["candidate"].shape == (N, saved_models.NUM_CLASSES)
    np.testing.assert_allclose(batch.predictions["candidate"].sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(batch.labels["candidate"], columns(examples, "class"))
    np.testing.assert_allclose(batch.example_weights["candidate"], columns(examples, "weight"))
    assert batch.predictions["baseline"].shape == (N,)
    np.testing.assert_allclose(batch.labels["baseline"], columns(examples, "target"))
    np.testing.assert_array_equal(batch.example_weights["baseline"], np.ones(N))


def test_one_hot_labels_are_kept_for_multiclass(model_dirs):
    examples = saved_models.make_examples(N, seed=2)
    for example in examples:
        one_hot = np.eye(saved_models.NUM_CLASSES)[first_value(example, "class")]
        example.features.feature["class"].int64_list.value[:] = one_hot.astype(int).tolist()
    batch = build(eval_config('label_key: "class"'), {"": model_dirs["multiclass"]}, examples)
    assert batch.labels[""].shape == (N, saved_models.NUM_CLASSES)


def test_output_is_chosen_as_tfma_chooses_it(model_dirs, examples):
    """Without prediction_key TFMA picks 'predictions' over 'logits'; with one, that output."""
    serialized = saved_models.serialize(examples)
    batch = build(eval_config('label_key: "label"'), {"": model_dirs["binary"]}, examples)
    outputs = ServingModel(model_dirs["binary"]).predict(serialized, batch.features)
    _, tfma_choice = metric_util.prepare_labels_and_predictions(np.array([1.0]), outputs)
    np.testing.assert_array_equal(batch.predictions[""], tfma_choice[:, 0])
    logits = build(eval_config('label_key: "label" prediction_key: "logits"'),
                   {"": model_dirs["binary"]}, examples)
    np.testing.assert_array_equal(logits.predictions[""], outputs["logits"][:, 0])


def test_unknown_prediction_key_lists_the_outputs(model_dirs):
    with pytest.raises(SignatureError, match=r"outputs \['logits', 'predictions'\]; set prediction_key 'probs'"):
        BatchBuilder(eval_config('label_key: "label" prediction_key: "probs"'), {"": model_dirs["binary"]})


def test_unknown_signature_is_refused(model_dirs):
    with pytest.raises(SignatureError, match=r"signature 'eval' not found .*\['serving_default'\]"):
        BatchBuilder(eval_config('label_key: "label" signature_name: "eval"'), {"": model_dirs["binary"]})


def test_model_without_directory_is_a_config_error(model_dirs):
    config = eval_config('name: "candidate" label_key: "label"', 'name: "baseline" label_key: "label"')
    with pytest.raises(ConfigError, match=r"no model directory for model 'baseline'.*\['candidate'\]"):
        BatchBuilder(config, {"candidate": model_dirs["binary"]})


def edited(edit):
    examples = saved_models.make_examples(N, seed=2)
    edit(examples)
    return examples


@pytest.mark.parametrize("edit, error, message", [
    (lambda ex: [e.features.feature.pop("label") for e in ex], MissingFeatureError,
     r"feature 'label' \(label_key of model '' .*\) is in none of the examples"),
    (lambda ex: [ex[i].features.feature.pop("label") for i in (5, 9, 11)], MissingFeatureError,
     r"feature 'label' \(label_key .*\): 3 of 40 examples lack it \(first: row 5\)"),
    (lambda ex: ex[4].features.feature["label"].int64_list.value.append(1), FeatureTypeError,
     r"feature 'label' .*1 of 40 examples hold a number of values other than 1 \(first: row 4; row 4 holds 2\)"),
    (lambda ex: [e.features.feature["label"].int64_list.value.append(1) for e in ex], FeatureTypeError,
     r"feature 'label' \(label_key .*\) holds 2 values per example; expected 1$"),
    (lambda ex: [e.features.feature["label"].CopyFrom(saved_models.to_example({"l": "yes"}).features.feature["l"])
                 for e in ex], FeatureTypeError,
     r"feature 'label' \(label_key .*\) holds bytes; numbers are needed"),
    (lambda ex: [ex[i].features.feature["x0"].float_list.value.__setitem__(0, np.nan) for i in (3, 7)],
     PredictionError, r"output 'predictions' of model '' .* is NaN or infinite for 2 of 40 examples \(first: row 3\)"),
], ids=["label-absent", "label-missing-in-some", "label-multivalued-in-one", "label-multivalued",
        "label-bytes", "nan-prediction"])
def test_bad_examples_are_reported_naming_the_feature(model_dirs, edit, error, message):
    with pytest.raises(error, match=message):
        build(eval_config('label_key: "label"'), {"": model_dirs["binary"]}, edited(edit))


def test_undecodable_examples_are_reported_naming_the_feature(model_dirs, examples):
    builder = BatchBuilder(eval_config('label_key: "label"'), {"": model_dirs["binary"]})
    mixed = saved_models.serialize(examples[:3] + [saved_models.to_example({"category": 7})])
    with pytest.raises(ExamplesError, match=r"wrong type, expected bytes_list, found int64_list for feature \"category\""):
        builder.build(mixed)
    with pytest.raises(ExamplesError, match="cannot decode a batch of 2 tf.Examples: .*Unable to parse"):
        builder.build([b"\xff\xff not an example", saved_models.serialize(examples[:1])[0]])


def test_weight_missing_in_some_examples_is_named(model_dirs):
    examples = edited(lambda ex: ex[2].features.feature.pop("weight"))
    with pytest.raises(MissingFeatureError, match=r"'weight' \(example_weight_key .*1 of 40 examples lack it"):
        build(eval_config('label_key: "label" example_weight_key: "weight"'), {"": model_dirs["binary"]}, examples)


def test_predict_dofn_turns_read_batches_into_batches(model_dirs, examples, tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), examples)
    config = eval_config('label_key: "label"')
    with beam.Pipeline() as pipeline:
        summaries = (pipeline
                     | ReadExampleBatches([path], batch_size=16)
                     | beam.ParDo(PredictDoFn(config, {"": model_dirs["binary"]}))
                     | beam.Map(lambda b: (b.num_rows, float(b.labels[""].sum()), b.predictions[""].shape)))
        labels = columns(examples, "label")
        assert_that(summaries, equal_to([(16, float(labels[:16].sum()), (16,)),
                                         (16, float(labels[16:32].sum()), (16,)),
                                         (8, float(labels[32:].sum()), (8,))]))


def test_schema_decides_the_decoded_columns_and_a_type_mismatch_is_named(model_dirs, examples):
    config = eval_config('label_key: "label"')
    schema = text_format.Parse("""
        feature { name: "label" type: INT }
        feature { name: "count" type: INT }
        feature { name: "rare" type: BYTES }
    """, schema_pb2.Schema())
    builder = BatchBuilder(config, {"": model_dirs["binary"]}, schema.SerializeToString())
    features = builder.build(saved_models.serialize(examples)).features
    assert features.schema.names == ["label", "count", "rare"]  # only what the schema declares
    assert features.column("rare").null_count == N  # declared, in no example

    schema.feature[1].type = schema_pb2.FLOAT
    builder = BatchBuilder(config, {"": model_dirs["binary"]}, schema.SerializeToString())
    with pytest.raises(ExamplesError, match='"count"'):
        builder.build(saved_models.serialize(examples))
