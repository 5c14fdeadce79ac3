"""Transform-based models, built the way TFX's penguin and Chicago taxi pipelines build them.

A tf.Transform graph is analysed with ``tensorflow_transform.beam`` on generated raw examples
(as TFX's Transform component does: z-scores, a vocabulary-encoded label, a bucketized slice
feature), a tf_keras model is trained on the transformed features, and it is saved as TFX's
Trainers save it (``tf.saved_model.save`` with the transform layer tracked as ``model.tft_layer``;
see tfx/examples/penguin/penguin_utils_base.py and chicago_taxi_pipeline/
taxi_utils_native_keras.py) into a TFX Model artifact directory, ``<uri>/Format-Serving``:

- ``serving_default``: serialized tf.Examples (input ``examples``) -> {'outputs': model output},
  the label left out of the parsed features as at serving time;
- ``transform_features``: serialized tf.Examples -> every transformed feature, label included
  (what TFMA's ``preprocessing_function_names`` calls).

Penguin-like: raw ``culmen_length_mm``, ``culmen_depth_mm``, ``flipper_length_mm``,
``body_mass_g`` (float), ``island`` and ``species`` (string, or int as in TFX's
penguins_processed.csv); transformed ``*_xf`` z-scores, ``species_xf`` (vocabulary index, the
label), ``body_mass_g_bucket_xf`` (3 quantile buckets). Three logits, SparseCategoricalAccuracy.

Taxi-like: raw ``fare``, ``trip_miles``, ``tips`` (float), ``trip_start_hour``, ``trip_start_day``
(int), ``payment_type``, ``company`` (string); transformed ``fare_xf``, ``trip_miles_xf`` (4
quantile buckets), ``trip_start_hour_xf``, ``payment_type_xf`` (vocabulary) and ``tips_xf``
(tips > 20% of the fare, the label). Sigmoid output, BinaryAccuracy.

Importing tensorflow_transform sets TF_USE_LEGACY_KERAS=1 in os.environ when it is unset (so
``tf.keras`` is Keras 2 if nothing resolved it yet, and in child processes).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Callable, Dict, List, Mapping, Sequence

import apache_beam as beam
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
import tf_keras
from apache_beam.options.pipeline_options import PipelineOptions
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io

from glassbox.beam_runner import with_default_runner
from tests.support.saved_models import to_example

SERVING_DIR = "Format-Serving"  # TFX's Model artifact layout (tfx.utils.path_utils)
TRANSFORM_SIGNATURE = "transform_features"
OUTPUT_KEY = "outputs"

PENGUIN_NUMERIC = ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
PENGUIN_SPECIES = ("Adelie", "Chinstrap", "Gentoo")
ISLANDS = ("Biscoe", "Dream", "Torgersen")
PAYMENT_TYPES = ("Cash", "Credit Card", "No Charge", "Dispute")
COMPANIES = ("Flash Cab", "Taxi Affiliation Services", "Yellow Cab")


def xf(key: str) -> str:
    """The transformed name of a raw feature, as TFX's examples name them."""
    return f"{key}_xf"


@dataclasses.dataclass(frozen=True)
class TransformedModel:
    """What a penguin-like or taxi-like pipeline makes: its raw examples, graph and model."""

    examples: List[tf.train.Example]
    transform_dir: str  # the Transform graph (TFTransformOutput's directory)
    model_uri: str  # the TFX Model artifact; the SavedModel is in model_uri/Format-Serving
    label: str  # the transformed label key
    raw_label: str

    @property
    def serving_dir(self) -> str:
        return os.path.join(self.model_uri, SERVING_DIR)


@dataclasses.dataclass(frozen=True)
class _Pipeline:
    raw_spec: Dict[str, tf.io.FixedLenFeature]
    raw_label: str
    preprocessing_fn: Callable[[Dict[str, tf.Tensor]], Dict[str, tf.Tensor]]
    build_model: Callable[[int], tf_keras.Model]
    model_inputs: Sequence[str]


# --- penguin-like ---------------------------------------------------------------------------


def penguin_rows(n: int, seed: int = 0, species_as_string: bool = True) -> List[dict]:
    """n raw penguin-like rows: measurements that differ by species, as in the real dataset."""
    rng = np.random.default_rng(seed)
    species = rng.integers(0, len(PENGUIN_SPECIES), n)
    centres = np.array([[39, 18.3, 190, 3700], [48.8, 18.4, 196, 3730], [47.5, 15, 217, 5070]])
    spread = np.array([2.7, 1.2, 6.5, 460])
    measures = centres[species] + rng.normal(size=(n, 4)) * spread * 1.6
    rows = []
    for i in range(n):
        row = {key: float(measures[i, j]) for j, key in enumerate(PENGUIN_NUMERIC)}
        row["island"] = ISLANDS[rng.integers(0, len(ISLANDS))]
        row["species"] = PENGUIN_SPECIES[species[i]] if species_as_string else int(species[i])
        rows.append(row)
    return rows


def _penguin_preprocessing(inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    outputs = {xf(key): tft.scale_to_z_score(inputs[key]) for key in PENGUIN_NUMERIC}
    species = inputs["species"]
    if species.dtype != tf.string:
        species = tf.strings.as_string(species)
    outputs[xf("species")] = tft.compute_and_apply_vocabulary(species, vocab_filename="species")
    outputs["body_mass_g_bucket_xf"] = tft.bucketize(inputs["body_mass_g"], num_buckets=3)
    return outputs


def _penguin_model(seed: int) -> tf_keras.Model:
    inputs = [tf_keras.Input(shape=(1,), name=xf(key)) for key in PENGUIN_NUMERIC]
    hidden = tf_keras.layers.Dense(8, activation="relu", kernel_initializer=_init(seed))(
        tf_keras.layers.concatenate(inputs)
    )
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(3, kernel_initializer=_init(seed))(hidden))
    model.compile(
        optimizer=tf_keras.optimizers.Adam(0.05),
        loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[tf_keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _penguin_pipeline(species_as_string: bool) -> _Pipeline:
    raw_spec = {key: tf.io.FixedLenFeature([1], tf.float32) for key in PENGUIN_NUMERIC}
    raw_spec["island"] = tf.io.FixedLenFeature([1], tf.string)
    raw_spec["species"] = tf.io.FixedLenFeature([1], tf.string if species_as_string else tf.int64)
    return _Pipeline(
        raw_spec,
        "species",
        _penguin_preprocessing,
        _penguin_model,
        [xf(k) for k in PENGUIN_NUMERIC],
    )


# --- taxi-like ------------------------------------------------------------------------------


def taxi_rows(n: int, seed: int = 0) -> List[dict]:
    """n raw taxi-like trips; card payments and longer trips tip more, cash rarely does."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        miles = float(rng.gamma(2.0, 2.0))
        fare = 3.25 + 2.25 * miles + float(rng.normal(0, 1.5))
        payment = PAYMENT_TYPES[rng.choice(4, p=[0.45, 0.45, 0.05, 0.05])]
        rate = {"Credit Card": 0.22, "Cash": 0.02}.get(payment, 0.0) + rng.normal(0, 0.06)
        rows.append(
            {
                "fare": fare,
                "trip_miles": miles,
                "trip_start_hour": int(rng.integers(0, 24)),
                "trip_start_day": int(rng.integers(1, 8)),
                "payment_type": payment,
                "company": COMPANIES[rng.integers(0, len(COMPANIES))],
                "tips": float(max(0.0, fare * rate)),
            }
        )
    return rows


def _taxi_preprocessing(inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    fare = inputs["fare"]
    return {
        xf("fare"): tft.scale_to_z_score(fare),
        xf("trip_miles"): tft.bucketize(inputs["trip_miles"], num_buckets=4),
        xf("trip_start_hour"): inputs["trip_start_hour"],
        xf("payment_type"): tft.compute_and_apply_vocabulary(
            inputs["payment_type"], num_oov_buckets=1, vocab_filename="payment_type"
        ),
        xf("tips"): tf.cast(tf.greater(inputs["tips"], fare * 0.2), tf.int64),
    }


def _taxi_model(seed: int) -> tf_keras.Model:
    fare = tf_keras.Input(shape=(1,), name=xf("fare"))
    categorical = {
        xf("trip_miles"): 4,
        xf("trip_start_hour"): 24,
        xf("payment_type"): len(PAYMENT_TYPES) + 1,
    }
    inputs = {name: tf_keras.Input(shape=(1,), name=name, dtype="int64") for name in categorical}
    encoded = [
        tf_keras.layers.CategoryEncoding(size, output_mode="one_hot")(inputs[name])
        for name, size in categorical.items()
    ]
    hidden = tf_keras.layers.Dense(8, activation="relu", kernel_initializer=_init(seed))(
        tf_keras.layers.concatenate([fare, *encoded])
    )
    output = tf_keras.layers.Dense(1, activation="sigmoid", kernel_initializer=_init(seed))(hidden)
    model = tf_keras.Model({xf("fare"): fare, **inputs}, output)
    model.compile(
        optimizer=tf_keras.optimizers.Adam(0.05),
        loss="binary_crossentropy",
        metrics=[tf_keras.metrics.BinaryAccuracy()],
    )
    return model


def _taxi_pipeline() -> _Pipeline:
    raw_spec = {
        **{key: tf.io.FixedLenFeature([1], tf.float32) for key in ("fare", "trip_miles", "tips")},
        **{
            key: tf.io.FixedLenFeature([1], tf.int64)
            for key in ("trip_start_hour", "trip_start_day")
        },
        **{key: tf.io.FixedLenFeature([1], tf.string) for key in ("payment_type", "company")},
    }
    model_inputs = [xf(k) for k in ("fare", "trip_miles", "trip_start_hour", "payment_type")]
    return _Pipeline(raw_spec, "tips", _taxi_preprocessing, _taxi_model, model_inputs)


# --- building -------------------------------------------------------------------------------


def _init(seed: int) -> tf_keras.initializers.Initializer:
    return tf_keras.initializers.GlorotUniform(seed)


def analyze(
    raw_spec: Mapping[str, tf.io.FixedLenFeature],
    preprocessing_fn: Callable,
    rows: Sequence[dict],
    transform_dir: str,
) -> tft.TFTransformOutput:
    """Analyses preprocessing_fn over rows with tft_beam and writes the transform graph and the raw
    schema to transform_dir, as TFX's Transform does."""
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(dict(raw_spec))
    instances = [{key: [row[key]] for key in raw_spec} for row in rows]
    options = PipelineOptions(with_default_runner([]))
    with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir):
        with beam.Pipeline(options=options) as pipeline:
            transform_fn = (
                pipeline | beam.Create(instances, reshuffle=False),
                metadata,
            ) | tft_beam.AnalyzeDataset(preprocessing_fn)
            _ = transform_fn | tft_beam.WriteTransformFn(transform_dir)
    # TFX's Transform also writes the raw schema, which raw_feature_spec() reads.
    metadata_io.write_metadata(
        metadata, os.path.join(transform_dir, tft.TFTransformOutput.RAW_METADATA_DIR)
    )
    return tft.TFTransformOutput(transform_dir)


def _serving_signatures(model: tf_keras.Model, transform: tft.TFTransformOutput, raw_label: str):
    model.tft_layer = transform.transform_features_layer()
    inputs = list(model.input_names)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_tf_examples_fn(serialized):
        spec = transform.raw_feature_spec()
        spec.pop(raw_label)  # labels are not present at serving time
        transformed = model.tft_layer(tf.io.parse_example(serialized, spec))
        return {OUTPUT_KEY: model({name: transformed[name] for name in inputs})}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features_fn(serialized):
        return model.tft_layer(tf.io.parse_example(serialized, transform.raw_feature_spec()))

    return {"serving_default": serve_tf_examples_fn, TRANSFORM_SIGNATURE: transform_features_fn}


def _build(
    pipeline: _Pipeline,
    rows: List[dict],
    directory: str,
    model_name: str,
    model_seed: int,
    epochs: int = 30,
) -> TransformedModel:
    transform_dir = os.path.join(directory, "transform_graph")
    if os.path.exists(transform_dir):  # one graph per directory: more models may share it
        transform = tft.TFTransformOutput(transform_dir)
    else:
        transform = analyze(pipeline.raw_spec, pipeline.preprocessing_fn, rows, transform_dir)
    examples = [to_example(row) for row in rows]
    transformed = transform.transform_raw_features(
        tf.io.parse_example([e.SerializeToString() for e in examples], pipeline.raw_spec)
    )
    label = xf(pipeline.raw_label)
    tf_keras.utils.set_random_seed(model_seed)
    model = pipeline.build_model(model_seed)
    features = {name: transformed[name] for name in pipeline.model_inputs}
    model.fit(features, transformed[label], epochs=epochs, batch_size=32, verbose=0)
    model_uri = os.path.join(directory, model_name)
    tf.saved_model.save(
        model,
        os.path.join(model_uri, SERVING_DIR),
        signatures=_serving_signatures(model, transform, pipeline.raw_label),
    )
    return TransformedModel(examples, transform_dir, model_uri, label, pipeline.raw_label)


def build_penguin(
    directory: str,
    n: int = 300,
    seed: int = 0,
    species_as_string: bool = True,
    model_name: str = "model",
    model_seed: int = 0,
    epochs: int = 30,
) -> TransformedModel:
    """A penguin-like Transform graph (analysed once per directory) and a model trained on it,
    saved to directory/model_name (see module docstring). seed fixes the data, model_seed the
    model."""
    rows = penguin_rows(n, seed, species_as_string)
    pipeline = _penguin_pipeline(species_as_string)
    return _build(pipeline, rows, directory, model_name, model_seed, epochs)


def build_taxi(
    directory: str,
    n: int = 300,
    seed: int = 0,
    model_name: str = "model",
    model_seed: int = 0,
    epochs: int = 30,
) -> TransformedModel:
    """A taxi-like Transform graph and model, as build_penguin (see module docstring)."""
    return _build(_taxi_pipeline(), taxi_rows(n, seed), directory, model_name, model_seed, epochs)
