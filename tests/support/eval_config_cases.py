"""The corpus of real EvalConfigs (tests/data/eval_configs/) and what each needs to run.

Every ``<name>.pbtxt`` is an EvalConfig copied from a public source (its header names it) and has
a `Case` here: the label, the features the config slices, weights or ranks by, the model kind,
and what TFMA 0.52 did with it (``tfma``). `build` writes matching data and a trained model:

    built = build(CASES["tfx_penguin_pipeline_local"], directory)
    built.eval_config, built.examples_path, built.model_dirs  # {model_spec name: SavedModel dir}

Model kinds:
  binary, multiclass, regression  tf_keras functional models over the case's model features,
      compiled with the case's loss and metrics (as TFX Trainers compile them), saved with
      ``model.save(save_format='tf')`` so they carry Keras metadata, with a ``serving_default``
      signature over serialized tf.Examples (input ``examples``) -> {prediction key: output}.
  multi_output    two sigmoid outputs (``output_1``, ``output_2``) with labels ``label_1``/``_2``.
  ranking_list    one example per query with up to LIST_SIZE documents: varlen ``doc_quality``
      and ``relevance``; the model scores LIST_SIZE positions (TFX's ranking example's shape).
  penguin_transform, taxi_transform  tests.support.transform_models (a real tf.Transform graph
      and its transform_features signature).
  none            no model: the predictions are a feature of the data (prediction_key).

Labels depend on the features (a hidden linear score), so trained models beat chance and every
metric has something to measure. Data and models are deterministic in (case, seed).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import zlib
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tf_keras
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from tests.support import transform_models
from tests.support.saved_models import to_example, write_tfrecords

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "eval_configs")
LIST_SIZE = 5  # documents a ranking_list model scores per query
NUM_EXAMPLES = 300
ACCEPTED = "accepted"
MATCHES = "matches"

WORDS_GOOD = ("great", "lovely", "fine", "kind", "clear")
WORDS_BAD = ("awful", "rude", "stupid", "broken", "dull")
WORDS_NEUTRAL = ("the", "a", "movie", "plot", "people", "day", "it", "was", "and", "very")


@dataclasses.dataclass(frozen=True)
class Feature:
    """One feature of the generated examples.

    kind: 'float' offset + scale * N(0, 1); 'int' in the range ``values`` (low, high);
      'category' one string of ``values``; 'tags' 0-2 strings of ``values`` (multi-valued, never
      a model input); 'text' a sentence of words; 'image' ``size`` floats in [0, 1];
      'digits' 64 pixels of scikit-learn's digits (the label is the digit); 'doc_list' the
      scores of 1 to LIST_SIZE documents padded to LIST_SIZE with -1, their relevance (varlen)
      the label (ranking_list).
    model_input: whether the model reads it (False: only sliced, weighted or ranked by).
    """

    name: str
    kind: str = "float"
    values: Tuple = ()
    size: int = 1
    scale: float = 1.0
    offset: float = 0.0
    model_input: bool = True


@dataclasses.dataclass(frozen=True)
class Case:
    """What one corpus config needs. ``tfma`` is what TFMA 0.52 did with it: ``ACCEPTED``, or
    ``refused: <the reason TFMA gave>``; ``glassbox`` what glassbox does: ``MATCHES`` (it writes
    TFMA's values), or ``refused: <its reason>``."""

    model: str
    label: str = "label"
    features: Tuple[Feature, ...] = (Feature("x0"), Feature("x1"), Feature("x2"))
    classes: int = 2
    weight: str = ""
    query: str = ""
    gain: str = ""
    prediction_key: str = "outputs"  # the serving signature's output (or the data's, for 'none')
    compiled_metrics: Tuple[str, ...] = ()
    transform_signature: bool = False  # add a transform_features signature (no tf.Transform)
    baseline: bool = False  # evaluate with a baseline model too (as the second run of a pipeline)
    label_as_float: bool = False
    string_label: bool = True  # penguin_transform: species as strings (False: ints, as TFX's data)
    keras_metadata: bool = True  # False: a plain SavedModel (no Keras model, no compiled metrics)
    tfma: str = ACCEPTED
    glassbox: str = MATCHES

    @property
    def model_features(self) -> List[Feature]:
        return [f for f in self.features if f.model_input and f.kind != "tags"]


def _cat(name: str, values: Sequence[str], model_input: bool = True) -> Feature:
    return Feature(name, "category", tuple(values), model_input=model_input)


def _slice(name: str, values: Sequence[str]) -> Feature:
    return _cat(name, values, model_input=False)


NUMERIC = (Feature("x0"), Feature("x1"), Feature("x2"))
AGE = Feature("age", "int", (18, 80), model_input=False)
TEXT = Feature("comment_text", "text")
IDENTITY_GROUPS = {
    "sexual_orientation": ("bisexual", "heterosexual", "homosexual_gay_or_lesbian"),
    "gender": ("female", "male", "transgender"),
    "religion": ("atheist", "buddhist", "christian", "hindu", "jewish", "muslim"),
    "race": ("asian", "black", "latino", "white"),
}
TAXI_SLICES = (Feature("trip_start_hour", "int", (0, 24), model_input=False),)
DIGITS = (Feature("image_floats", "digits", size=64),)
PENGUIN = tuple(
    Feature(name, scale=s, offset=o)
    for name, s, o in (
        ("culmen_length_mm", 5.0, 44.0),
        ("culmen_depth_mm", 2.0, 17.0),
        ("flipper_length_mm", 14.0, 200.0),
        ("body_mass_g", 800.0, 4200.0),
    )
)

CASES: Dict[str, Case] = {
    # --- TFX examples, templates and tutorials
    "tfx_penguin_pipeline_local": Case("penguin_transform", "species_xf", baseline=True),
    "tfx_penguin_template": Case("penguin_transform", "species", baseline=True, string_label=False),
    "tfx_taxi_pipeline_native_keras": Case("taxi_transform", "tips_xf", baseline=True),
    "tfx_taxi_template": Case("taxi_transform", "tips_xf", baseline=True),
    # label_key 'tips' is the raw tip in dollars (the tutorial's Transform writes tips_xf):
    # TFMA 0.52's own BinaryAccuracy takes labels in [0, 1] only.
    "tfx_components_keras": Case(
        "taxi_transform",
        "tips",
        baseline=True,
        tfma="refused: label must be within [0, 1]",
        glassbox="refused: splits fractional labels, which must lie in [0, 1]",
    ),
    "tfx_taxi_pipeline_simple": Case(
        "binary",
        "tips",
        (Feature("fare", scale=5, offset=12), *TAXI_SLICES),
        compiled_metrics=("accuracy",),
        baseline=True,
        tfma="refused: eval not found in model signatures",  # an Estimator's EvalSavedModel
        glassbox="refused: eval not found in model signatures",
    ),
    "tfx_mnist_native_keras": Case(
        "multiclass", "image_class", DIGITS, classes=10, compiled_metrics=("accuracy",)
    ),
    "tfx_imdb_native_keras": Case(
        "binary", "label", (Feature("text", "text"),), compiled_metrics=("accuracy",), baseline=True
    ),
    "tfx_bert_cola": Case(
        "multiclass",
        "label",
        (Feature("sentence", "text"),),
        classes=2,
        compiled_metrics=("sparse_categorical_accuracy",),
        baseline=True,
    ),
    # The example's model compiles tensorflow_ranking's NDCG as 'metric/ndcg_10' (TFMA computes it
    # through the exact path); this generated model, without tensorflow_ranking, compiles only
    # its loss: a threshold on that name could never be checked, which glassbox refuses.
    "tfx_ranking": Case(
        "ranking_list",
        "relevance",
        (Feature("doc_quality", "doc_list"), Feature("query_tokens", "tags", ("a", "b", "c"))),
        glassbox="refused: sets a threshold on metric 'metric/ndcg_10', which the config does not",
    ),
    "tfx_penguin_tfma_tutorial": Case(
        "multiclass",
        "species",
        PENGUIN,
        classes=3,
        compiled_metrics=("sparse_categorical_accuracy",),
        baseline=True,
    ),
    # --- TFMA's guides and tests
    "tfma_get_started_validation": Case(
        "binary",
        features=(*NUMERIC, AGE),
        weight="weight",
        compiled_metrics=("AUC",),
        baseline=True,
    ),
    "tfma_model_validations": Case(
        "binary",
        features=(*NUMERIC, AGE),
        weight="weight",
        compiled_metrics=("AUC",),
        baseline=True,
    ),
    "tfma_metrics_regression": Case(
        "regression",
        compiled_metrics=("mse",),
        # The guide's CalibrationPlot config predates TFMA 0.52's (left, right, num_buckets).
        tfma="refused: CalibrationPlot.__init__() got an unexpected keyword argument 'min_value'",
        glassbox="refused: CalibrationPlot.__init__() got an unexpected keyword argument 'min_value'",
    ),
    "tfma_metrics_binary": Case("binary"),
    "tfma_metrics_binary_from_python": Case("binary"),
    "tfma_metrics_multiclass": Case("multiclass", features=DIGITS, classes=10),
    "tfma_metrics_binarize": Case("multiclass", features=DIGITS, classes=10),
    "tfma_metrics_micro_top_k": Case("multiclass", features=DIGITS, classes=10),
    "tfma_metrics_macro_class_weights": Case("multiclass", features=DIGITS, classes=10),
    "tfma_metrics_query_ndcg": Case(
        "binary",
        features=(*NUMERIC, _slice("doc_id", [f"q{i}" for i in range(30)])),
        query="doc_id",
        gain="gain",
    ),
    "tfma_metrics_custom_module": Case("binary"),
    "tfma_faq_keras": Case(
        "binary", weight="weight", compiled_metrics=("accuracy", "AUC"), label_as_float=True
    ),
    "tfma_faq_eval_no_default_metrics": Case(
        "binary",
        compiled_metrics=("accuracy",),
        tfma="refused: eval not found in model signatures",  # only Estimators exported one
        glassbox="refused: eval not found in model signatures",
    ),
    "tfma_faq_binarize_class_0": Case("multiclass", classes=2),
    # TFMA's test of a threshold on a slice no spec produces: TFMA never checks it; glassbox refuses
    # a threshold that could never be checked rather than bless without it.
    "tfma_multi_output": Case(
        "multi_output",
        baseline=True,
        glassbox="refused: selects slices of ['non_existent_slice'], which the slicing_specs never",
    ),
    "tfma_query_based_metrics": Case(
        "binary",
        features=(*NUMERIC, _slice("language", ("english", "chinese", "hindi", "spanish"))),
        query="language",
        gain="age",
        label_as_float=True,
    ),
    "tfma_uncertainty": Case(
        "binary",
        features=(*NUMERIC, _slice("language", ("english", "chinese", "hindi"))),
        weight="age",
        label_as_float=True,
    ),
    "tfma_jackknife_diff": Case(
        "binary",
        weight="example_weight",
        label_as_float=True,
    ),
    # TFMA's test validates metrics without a model and the config has no label_key: on a Keras
    # model TFMA would compute its compiled loss and fail ("no value provided for label").
    "tfma_cross_slice_thresholds": Case(
        "binary",
        keras_metadata=False,
        features=(
            *NUMERIC,
            _slice("feature1", ("value1", "other1")),
            _slice("feature2", ("value2", "other2")),
            _slice("feature3", ("value3", "other3")),
        ),
    ),
    # --- Fairness Indicators tutorials
    "fi_example_colab": Case(
        "binary",
        "toxicity",
        (TEXT, Feature("sexual_orientation", "tags", IDENTITY_GROUPS["sexual_orientation"])),
        label_as_float=True,
    ),
    "fi_tutorial_utils": Case(
        "binary",
        "toxicity",
        (TEXT, Feature("religion", "tags", IDENTITY_GROUPS["religion"])),
        label_as_float=True,
    ),
    "fi_tfco_celeba": Case(
        "binary",
        "Smiling",
        (Feature("image", "image", size=28 * 28 * 3), _slice("Young", ("True", "False"))),
        label_as_float=True,
    ),
    "fi_pandas_case_study": Case(
        "none",
        "pass_bar",
        (*NUMERIC, _slice("race1", ("asian", "black", "hisp", "other", "white"))),
        prediction_key="dnn_bar_pass_prediction",
        label_as_float=True,
    ),
    "fi_tensorboard_plugin": Case(
        "binary",
        "toxicity",
        (TEXT, Feature("gender", "tags", IDENTITY_GROUPS["gender"])),
        prediction_key="predictions",
        label_as_float=True,
    ),
    "fi_lineage_case_study": Case(
        "binary",
        "is_recid",
        (*NUMERIC, _slice("race", ("African-American", "Caucasian", "Hispanic", "Other"))),
        label_as_float=True,
    ),
    # --- third-party pipelines
    "thirdparty_tfx2_workshop": Case(
        "binary",
        "income_bracket",
        (
            Feature("age", scale=12, offset=38),
            Feature("hours_per_week", scale=10, offset=40),
            _cat("occupation", ("Adm-clerical", "Craft-repair", "Exec-managerial", "Sales")),
        ),
        weight="fnlwgt",
        compiled_metrics=("accuracy",),
    ),
    "thirdparty_income_classification": Case(
        "binary",
        "label",
        (
            *NUMERIC,
            _cat("sex", ("Female", "Male")),
            _slice("race", ("Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White")),
        ),
        compiled_metrics=("binary_accuracy",),
        baseline=True,
    ),
    "thirdparty_black_friday": Case(
        "regression",
        "Purchase",
        (
            _cat("Gender", ("F", "M")),
            _cat("Age", ("0-17", "18-25", "26-35", "36-45", "46-50", "51-55", "55+")),
            Feature("Occupation", "int", (0, 21)),
            Feature("Product_Category_1", "int", (1, 21)),
        ),
        compiled_metrics=("mse",),
        transform_signature=True,
    ),
}


def config_path(name: str) -> str:
    return os.path.join(CONFIG_DIR, f"{name}.pbtxt")


def config_names() -> List[str]:
    """Every config file's name (without .pbtxt), sorted."""
    return sorted(f[: -len(".pbtxt")] for f in os.listdir(CONFIG_DIR) if f.endswith(".pbtxt"))


def load_config(name: str) -> config_pb2.EvalConfig:
    with open(config_path(name)) as f:
        return text_format.Parse(f.read(), config_pb2.EvalConfig())


def source_header(name: str) -> Dict[str, str]:
    """The config file's header comment: {'Source': ..., 'What': ..., 'Changes': ...}."""
    header = {}
    with open(config_path(name)) as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition(": ")
            if key in ("Source", "What", "Changes"):
                header[key] = value
    return header


# --- data ------------------------------------------------------------------------------------


def _seed(case_name: str, seed: int) -> int:
    return zlib.crc32(case_name.encode()) + seed


def _effect(value: str) -> float:
    """A fixed pseudo-random effect of a categorical value on the hidden score."""
    return (zlib.crc32(value.encode()) % 1000) / 500.0 - 1.0


def _text(rng: np.random.Generator, score: float) -> str:
    good = rng.poisson(max(0.1, 1 + score))
    bad = rng.poisson(max(0.1, 1 - score))
    words = (
        list(rng.choice(WORDS_GOOD, good))
        + list(rng.choice(WORDS_BAD, bad))
        + list(rng.choice(WORDS_NEUTRAL, rng.integers(3, 8)))
    )
    rng.shuffle(words)
    return " ".join(words)


def _digits():
    from sklearn.datasets import load_digits  # noqa: PLC0415 (only digit cases need it)

    digits = load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target


def make_rows(case: Case, n: int = NUM_EXAMPLES, seed: int = 0, name: str = "") -> List[dict]:
    """n rows of python values with every feature, label, weight, query and gain of the case."""
    rng = np.random.default_rng(_seed(name or case.model, seed))
    rows: List[dict] = [{} for _ in range(n)]
    score = rng.normal(0, 0.5, n)
    digits = any(f.kind == "digits" for f in case.features)
    if digits:
        images, targets = _digits()
        picks = rng.choice(len(targets), n, replace=False)
    for feature in case.features:
        for i, row in enumerate(rows):
            if feature.kind == "float":
                z = rng.normal()
                row[feature.name] = float(feature.offset + feature.scale * z)
                score[i] += z * (1 if zlib.crc32(feature.name.encode()) % 2 else -1)
            elif feature.kind == "int":
                low, high = feature.values or (0, 10)
                row[feature.name] = int(rng.integers(low, high))
                score[i] += 0.3 * _effect(f"{feature.name}{row[feature.name]}")
            elif feature.kind == "category":
                row[feature.name] = str(rng.choice(feature.values))
                score[i] += _effect(row[feature.name])
            elif feature.kind == "tags":
                row[feature.name] = [str(v) for v in rng.choice(feature.values, rng.integers(0, 3))]
            elif feature.kind == "image":
                values = rng.uniform(0, 1, feature.size).astype(np.float32)
                row[feature.name] = values.tolist()
                score[i] += 4 * (values[: feature.size // 2].mean() - 0.5)
            elif feature.kind == "digits":
                row[feature.name] = images[picks[i]].tolist()
                row[case.label] = int(targets[picks[i]])
            elif feature.kind == "doc_list":  # the documents' relevance is the label
                quality = rng.normal(size=rng.integers(1, LIST_SIZE + 1))
                relevance = np.round(quality + rng.normal(0, 0.5, len(quality)) + 1)
                row[feature.name] = quality.tolist() + [-1.0] * (LIST_SIZE - len(quality))
                row[case.label] = np.clip(relevance, 0, 4).tolist()
    cuts = np.quantile(score, np.linspace(0, 1, case.classes + 1)[1:-1])
    for i, row in enumerate(rows):
        for feature in case.features:
            if feature.kind == "text":
                row[feature.name] = _text(rng, score[i])
        if case.model == "ranking_list":
            pass  # labelled with its documents
        elif case.model == "multi_output":
            row["label_1"] = float(score[i] > 0)
            row["label_2"] = float(score[i] + rng.normal(0, 1) > 0.3)
        elif case.classes > 2 and case.model == "multiclass":
            if not digits:  # digits come with their label
                row[case.label] = int(np.searchsorted(cuts, score[i]))
        elif case.model == "regression":
            row[case.label] = float(10 + 3 * score[i] + rng.normal(0, 0.5))
        else:
            positive = score[i] + rng.normal(0, 0.5) > 0
            row[case.label] = float(positive) if case.label_as_float else int(positive)
        if case.model == "none":
            row[case.prediction_key] = float(1 / (1 + np.exp(-2 * score[i])))
        if case.weight and case.weight not in row:
            row[case.weight] = float(rng.uniform(0.5, 2.0))
        if case.gain and case.gain not in row:
            row[case.gain] = float(rng.uniform(0, 1) + row.get(case.label, 0))
    return rows


# --- models ----------------------------------------------------------------------------------


def _parse_spec(case: Case) -> Dict[str, tf.io.FixedLenFeature]:
    spec = {}
    for f in case.model_features:
        if f.kind in ("float", "image", "digits"):
            spec[f.name] = tf.io.FixedLenFeature([f.size], tf.float32)
        elif f.kind == "int":
            spec[f.name] = tf.io.FixedLenFeature([1], tf.int64)
        elif f.kind in ("category", "text"):
            spec[f.name] = tf.io.FixedLenFeature([1], tf.string)
        elif f.kind == "doc_list":
            spec[f.name] = tf.io.FixedLenFeature([LIST_SIZE], tf.float32)
    return spec


def _columns(case: Case, rows: Sequence[dict]) -> Dict[str, np.ndarray]:
    parsed = tf.io.parse_example(
        [to_example(row).SerializeToString() for row in rows], _parse_spec(case)
    )
    return dict(parsed)


def _encoded_inputs(case: Case, columns: Mapping[str, np.ndarray]):
    inputs, encoded = {}, []
    for f in case.model_features:
        spec = _parse_spec(case)[f.name]
        shape = tuple(spec.shape)
        dtype = "string" if f.kind in ("category", "text") else spec.dtype.name
        inputs[f.name] = x = tf_keras.Input(shape=shape, name=f.name, dtype=dtype)
        if f.kind == "category":
            encoded.append(
                tf_keras.layers.StringLookup(vocabulary=list(f.values), output_mode="one_hot")(x)
            )
        elif f.kind == "text":
            vocabulary = list(WORDS_GOOD + WORDS_BAD + WORDS_NEUTRAL)
            vectorize = tf_keras.layers.TextVectorization(
                vocabulary=vocabulary,
                output_mode="multi_hot",
                standardize="lower_and_strip_punctuation",
            )
            encoded.append(vectorize(x))
        else:
            values = np.asarray(columns[f.name], dtype=np.float32)
            norm = tf_keras.layers.Normalization(mean=values.mean(0), variance=values.var(0) + 1e-6)
            encoded.append(norm(x))
    hidden = tf_keras.layers.concatenate(encoded) if len(encoded) > 1 else encoded[0]
    return inputs, hidden


def _head(case: Case, hidden, seed: int):
    init = tf_keras.initializers.GlorotUniform(seed)
    hidden = tf_keras.layers.Dense(16, activation="relu", kernel_initializer=init)(hidden)
    if case.model == "binary":
        return tf_keras.layers.Dense(1, activation="sigmoid", kernel_initializer=init)(hidden), (
            "binary_crossentropy"
        )
    if case.model == "multiclass":
        return tf_keras.layers.Dense(case.classes, activation="softmax", kernel_initializer=init)(
            hidden
        ), "sparse_categorical_crossentropy"
    if case.model == "regression":
        return tf_keras.layers.Dense(1, kernel_initializer=init)(hidden), "mse"
    if case.model == "ranking_list":
        return tf_keras.layers.Dense(LIST_SIZE, kernel_initializer=init)(hidden), "mse"
    if case.model == "multi_output":
        outputs = {
            name: tf_keras.layers.Dense(
                1, activation="sigmoid", name=name, kernel_initializer=init
            )(hidden)
            for name in ("output_1", "output_2")
        }
        return outputs, {name: "binary_crossentropy" for name in outputs}
    raise ValueError(f"unknown model kind {case.model!r}")


def _labels(case: Case, rows: Sequence[dict]):
    if case.model == "multi_output":
        return {
            f"output_{i}": np.array([[row[f"label_{i}"]] for row in rows], np.float32)
            for i in (1, 2)
        }
    if case.model == "ranking_list":
        padded = np.full((len(rows), LIST_SIZE), 0.0, np.float32)
        for i, row in enumerate(rows):
            padded[i, : len(row[case.label])] = row[case.label]
        return padded
    return np.array([row[case.label] for row in rows], np.float32)


def train_model(case: Case, rows: Sequence[dict], seed: int = 0, epochs: int = 20):
    """A tf_keras model for the case, compiled with its loss and metrics and fitted on rows."""
    tf_keras.utils.set_random_seed(seed)
    columns = _columns(case, rows)
    inputs, hidden = _encoded_inputs(case, columns)
    outputs, loss = _head(case, hidden, seed)
    model = tf_keras.Model(inputs, outputs)
    model.compile(
        optimizer=tf_keras.optimizers.Adam(0.02), loss=loss, metrics=list(case.compiled_metrics)
    )
    model.fit(columns, _labels(case, rows), epochs=epochs, batch_size=32, verbose=0)
    return model


def save_model(case: Case, model, export_dir: str) -> str:
    """Saves model as TFX Trainers do: Keras metadata (unless the case says not) plus a
    serving_default signature over serialized tf.Examples (and a transform_features signature if
    the case asks for one)."""
    spec = _parse_spec(case)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(serialized):
        parsed = tf.io.parse_example(serialized, spec)
        outputs = model(parsed)
        return outputs if isinstance(outputs, dict) else {case.prediction_key: outputs}

    signatures = {"serving_default": serve}
    if case.transform_signature:

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def transform_features(serialized):
            parsed = tf.io.parse_example(serialized, spec)
            return {
                f"{name}_xf": value if value.dtype == tf.string else tf.cast(value, tf.float32)
                for name, value in parsed.items()
            }

        signatures[transform_models.TRANSFORM_SIGNATURE] = transform_features
    if case.keras_metadata:
        model.save(export_dir, save_format="tf", signatures=signatures)
    else:
        holder = tf.Module()
        holder.model = model
        tf.saved_model.save(holder, export_dir, signatures=signatures)
    return export_dir


# --- a whole case ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BuiltCase:
    name: str
    case: Case
    eval_config: config_pb2.EvalConfig
    examples_path: str
    model_dirs: Dict[str, str]  # ModelSpec name ('' for the single model) -> SavedModel dir

    @property
    def has_baseline(self) -> bool:
        return any(spec.is_baseline for spec in self.eval_config.model_specs) or self.case.baseline

    def model_dir(self, spec: config_pb2.ModelSpec) -> Optional[str]:
        """The SavedModel for a ModelSpec, found by its role: TFMA renames a single spec ''."""
        candidate, baseline = model_names(self.eval_config, self.case.baseline)
        return self.model_dirs.get(baseline if spec.is_baseline else candidate)


def model_names(eval_config: config_pb2.EvalConfig, baseline: bool) -> Tuple[str, Optional[str]]:
    """(candidate, baseline) ModelSpec names as TFX's Evaluator names them: the config's names,
    else 'candidate' and 'baseline' when a baseline is evaluated, else ''."""
    named = {spec.is_baseline: spec.name for spec in eval_config.model_specs if spec.name}
    if named:
        return named.get(False, ""), named.get(True)
    return ("candidate", "baseline") if baseline else ("", None)


def build(name: str, directory: str, seed: int = 0, n: int = NUM_EXAMPLES) -> BuiltCase:
    """Writes the case's examples (one gzip TFRecord file) and trained model(s) under directory."""
    case = CASES[name]
    eval_config = load_config(name)
    candidate, baseline = model_names(eval_config, case.baseline)
    names = [candidate] + ([baseline] if baseline is not None else [])
    model_dirs: Dict[str, str] = {}
    if case.model in ("penguin_transform", "taxi_transform"):
        build_fn = transform_models.build_taxi
        if case.model == "penguin_transform":
            build_fn = functools.partial(
                transform_models.build_penguin, species_as_string=case.string_label
            )
        for i, model_name in enumerate(names):  # the models share one Transform graph
            built = build_fn(
                os.path.join(directory, "pipeline"),
                n=n,
                seed=seed,
                model_name=f"model_{i}",
                model_seed=seed + i,
                epochs=30 if i == 0 else 3,
            )
            model_dirs[model_name] = built.serving_dir
        examples = built.examples
    else:
        rows = make_rows(case, n, seed, name)
        examples = [to_example(row) for row in rows]
        if case.model != "none":
            for i, model_name in enumerate(names):
                model = train_model(case, rows, seed + i, epochs=20 if i == 0 else 3)
                model_dirs[model_name] = save_model(
                    case, model, os.path.join(directory, f"model_{i}")
                )
    path = write_tfrecords(os.path.join(directory, "examples", "data.tfrecord.gz"), examples)
    return BuiltCase(name, case, eval_config, path, model_dirs)
