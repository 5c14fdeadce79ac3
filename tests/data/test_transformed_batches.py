"""Batches of a Transform-based model (ModelSpec.preprocessing_function_names): labels, weights and
sliced features taken from the model's transform_features signature, before raw features of the
same name (TFMA's precedence), alike through the fast decoder and tfx_bsl's; a signature the model
lacks is refused naming the field and the model's signatures."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.batches import BatchBuilder
from glassbox.data.errors import PredictionError
from glassbox.errors import ConfigError
from tests.data.test_batches import assert_same_batches
from tests.support import saved_models
from tests.support import transform_models as tm

N = 60


@pytest.fixture(scope="module")
def taxi(tmp_path_factory) -> tm.TransformedModel:
    return tm.build_taxi(str(tmp_path_factory.mktemp("taxi")), n=N, epochs=2)


def _config(*slices, preprocessing=(tm.TRANSFORM_SIGNATURE,), weight="") -> config_pb2.EvalConfig:
    config = config_pb2.EvalConfig()
    spec = config.model_specs.add(label_key="tips_xf", example_weight_key=weight)
    spec.preprocessing_function_names.extend(preprocessing)
    for keys in slices:
        config.slicing_specs.add(feature_keys=keys)
    return config


def _transformed(taxi, examples) -> dict:
    loaded = tf.saved_model.load(taxi.serving_dir)
    serialized = tf.constant(saved_models.serialize(examples))
    outputs = loaded.signatures[tm.TRANSFORM_SIGNATURE](examples=serialized)
    return {name: value.numpy() for name, value in outputs.items()}


def _with_raw(examples, name, values):
    """Copies of the examples with a raw feature `name` of the given int values."""
    copies = []
    for example, value in zip(examples, values):
        copy = tf.train.Example()
        copy.CopyFrom(example)
        copy.features.feature[name].int64_list.value[:] = [int(value)]
        copies.append(copy)
    return copies


def test_label_weight_and_slices_come_from_the_transform_before_raw_features(taxi, tmp_path):
    expected = _transformed(taxi, taxi.examples)
    # Raw features named as transformed ones, of other values: the transformed ones win.
    examples = _with_raw(taxi.examples, "tips_xf", 1 - expected["tips_xf"].ravel())
    examples = _with_raw(examples, "trip_miles_xf", np.full(N, 99))
    config = _config(["trip_miles_xf"], ["payment_type"], weight="trip_start_hour_xf")
    builder = BatchBuilder(config, {"": taxi.serving_dir})
    path = saved_models.write_tfrecords(str(tmp_path / "data.gz"), examples)
    (batch,) = assert_same_batches(builder, path, batch_size=N)
    np.testing.assert_array_equal(batch.labels[""], expected["tips_xf"].ravel())
    np.testing.assert_array_equal(batch.example_weights[""], expected["trip_start_hour_xf"].ravel())
    assert batch.features.column("trip_miles_xf").to_pylist() == expected["trip_miles_xf"].tolist()
    assert batch.features.column("payment_type").to_pylist()[0] == [
        examples[0].features.feature["payment_type"].bytes_list.value[0]
    ]
    assert set(batch.features.schema.names) == {
        "tips_xf",
        "trip_miles_xf",
        "trip_start_hour_xf",
        "payment_type",
    }


def test_several_model_batches_per_chunk_equal_decoded_batches(taxi, tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "data.gz"), taxi.examples)
    builder = BatchBuilder(_config(["trip_miles_xf"]), {"": taxi.serving_dir})
    chunked = list(builder.file_batches([path], batch_size=16, rows_per_batch=64))
    assert [batch.num_rows for batch in chunked] == [N]
    whole = builder.build(saved_models.serialize(taxi.examples))
    np.testing.assert_array_equal(chunked[0].labels[""], whole.labels[""])
    assert chunked[0].features.equals(whole.features)


def test_a_signature_the_model_lacks_is_refused_naming_the_field_and_the_signatures(taxi):
    with pytest.raises(ConfigError) as error:
        BatchBuilder(
            _config(preprocessing=["transform_features", "tft_layer"]), {"": taxi.serving_dir}
        )
    message = str(error.value)
    assert "'model_specs[0].preprocessing_function_names'" in message
    assert "'tft_layer'" in message
    assert "['serving_default', 'transform_features']" in message


def test_a_preprocessing_signature_failing_on_a_file_is_named_with_the_file(taxi, tmp_path):
    # transform_features parses the raw label 'tips', which these examples lack.
    stripped = []
    for example in taxi.examples:
        copy = tf.train.Example()
        copy.CopyFrom(example)
        del copy.features.feature["tips"]
        stripped.append(copy)
    path = saved_models.write_tfrecords(str(tmp_path / "no_tips.gz"), stripped)
    builder = BatchBuilder(_config(), {"": taxi.serving_dir})
    with pytest.raises(PredictionError, match="transform_features") as error:
        list(builder.file_batches([path], batch_size=16))
    assert "no_tips.gz" in str(error.value)
