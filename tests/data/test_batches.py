"""Building Batches (labels, predictions, weights per model) from real examples and SavedModels."""

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_model_analysis.metrics import metric_util
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.batches import BatchBuilder, PredictDoFn
from glassbox.data.errors import (
    ExamplesError,
    FeatureTypeError,
    FeatureValueError,
    MissingFeatureError,
    PredictionError,
    SignatureError,
)
from glassbox.data.examples import MatchExampleFiles, record_lists
from glassbox.data.models import ServingModel
from glassbox.errors import ConfigError
from tests.support import saved_models

N = 40


def eval_config(*model_specs: str) -> config_pb2.EvalConfig:
    return text_format.Parse(
        " ".join(f"model_specs {{ {s} }}" for s in model_specs), config_pb2.EvalConfig()
    )


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
        "multiclass": saved_models.export_model(
            str(root / "multiclass"), task="multiclass", inputs="features"
        ),
        "regression": saved_models.export_model(
            str(root / "regression"), task="regression", seed=3
        ),
    }


@pytest.fixture(scope="module")
def examples():
    return saved_models.make_examples(N, seed=2)


def build(config, dirs, examples):
    return BatchBuilder(config, dirs).build(saved_models.serialize(examples))


def test_binary_model_batch_has_float64_labels_squeezed_predictions_and_unit_weights(
    model_dirs, examples
):
    batch = build(eval_config('label_key: "label"'), {"": model_dirs["binary"]}, examples)
    serialized = saved_models.serialize(examples)
    direct = ServingModel(model_dirs["binary"]).predict(serialized, batch.features)["predictions"]
    assert batch.num_rows == N
    np.testing.assert_array_equal(batch.predictions[""], direct[:, 0])
    np.testing.assert_array_equal(batch.labels[""], columns(examples, "label"))
    np.testing.assert_array_equal(batch.example_weights[""], np.ones(N))
    assert {
        a.dtype for a in (batch.labels[""], batch.predictions[""], batch.example_weights[""])
    } == {np.dtype(np.float64)}


def test_candidate_and_baseline_are_keyed_by_spec_name_with_their_own_keys(model_dirs, examples):
    config = eval_config(
        'name: "candidate" label_key: "class" example_weight_key: "weight"',
        'name: "baseline" label_key: "target" is_baseline: true',
    )
    batch = build(
        config,
        {"candidate": model_dirs["multiclass"], "baseline": model_dirs["regression"]},
        examples,
    )
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
    logits = build(
        eval_config('label_key: "label" prediction_key: "logits"'),
        {"": model_dirs["binary"]},
        examples,
    )
    np.testing.assert_array_equal(logits.predictions[""], outputs["logits"][:, 0])


def test_unknown_prediction_key_lists_the_outputs(model_dirs):
    with pytest.raises(
        SignatureError, match=r"outputs \['logits', 'predictions'\]; set prediction_key 'probs'"
    ):
        BatchBuilder(
            eval_config('label_key: "label" prediction_key: "probs"'), {"": model_dirs["binary"]}
        )


def test_unknown_signature_is_refused(model_dirs):
    with pytest.raises(SignatureError, match=r"signature 'eval' not found .*\['serving_default'\]"):
        BatchBuilder(
            eval_config('label_key: "label" signature_name: "eval"'), {"": model_dirs["binary"]}
        )


def test_model_without_directory_is_a_config_error(model_dirs):
    config = eval_config(
        'name: "candidate" label_key: "label"', 'name: "baseline" label_key: "label"'
    )
    with pytest.raises(
        ConfigError, match=r"no model directory for model 'baseline'.*\['candidate'\]"
    ):
        BatchBuilder(config, {"candidate": model_dirs["binary"]})


def edited(edit):
    examples = saved_models.make_examples(N, seed=2)
    edit(examples)
    return examples


@pytest.mark.parametrize(
    "edit, error, message",
    [
        (
            lambda ex: [e.features.feature.pop("label") for e in ex],
            MissingFeatureError,
            r"feature 'label' \(label_key of model '' .*\) is in none of the examples",
        ),
        (
            lambda ex: [ex[i].features.feature.pop("label") for i in (5, 9, 11)],
            MissingFeatureError,
            r"feature 'label' \(label_key .*\): 3 of 40 examples lack it \(first: row 5\)",
        ),
        (
            lambda ex: ex[4].features.feature["label"].int64_list.value.append(1),
            FeatureTypeError,
            r"feature 'label' .*1 of 40 examples hold a number of values other than 1 \(first: row 4 holds 2\)",
        ),
        (
            lambda ex: [e.features.feature["label"].int64_list.value.append(1) for e in ex],
            FeatureTypeError,
            r"feature 'label' \(label_key .*\) holds 2 values per example; expected 1$",
        ),
        (
            lambda ex: [
                e.features.feature["label"].CopyFrom(
                    saved_models.to_example({"l": "yes"}).features.feature["l"]
                )
                for e in ex
            ],
            FeatureTypeError,
            r"feature 'label' \(label_key .*\) holds bytes; numbers are needed",
        ),
        (
            lambda ex: [
                ex[i].features.feature["x0"].float_list.value.__setitem__(0, np.nan) for i in (3, 7)
            ],
            PredictionError,
            r"output 'predictions' of model '' .* is NaN or infinite for 2 of 40 examples \(first: row 3\)",
        ),
    ],
    ids=[
        "label-absent",
        "label-missing-in-some",
        "label-multivalued-in-one",
        "label-multivalued",
        "label-bytes",
        "nan-prediction",
    ],
)
def test_bad_examples_are_reported_naming_the_feature(model_dirs, edit, error, message):
    with pytest.raises(error, match=message):
        build(eval_config('label_key: "label"'), {"": model_dirs["binary"]}, edited(edit))


def test_undecodable_examples_are_reported_naming_the_feature(model_dirs, examples):
    builder = BatchBuilder(eval_config('label_key: "label"'), {"": model_dirs["binary"]})
    mixed = saved_models.serialize(examples[:3] + [saved_models.to_example({"category": 7})])
    with pytest.raises(
        ExamplesError,
        match=r"wrong type, expected bytes_list, found int64_list for feature \"category\"",
    ):
        builder.build(mixed)
    with pytest.raises(
        ExamplesError, match="cannot decode a batch of 2 tf.Examples: .*Unable to parse"
    ):
        builder.build([b"\xff\xff not an example", saved_models.serialize(examples[:1])[0]])


def test_weight_missing_in_some_examples_is_named(model_dirs):
    examples = edited(lambda ex: ex[2].features.feature.pop("weight"))
    with pytest.raises(
        MissingFeatureError, match=r"'weight' \(example_weight_key .*1 of 40 examples lack it"
    ):
        build(
            eval_config('label_key: "label" example_weight_key: "weight"'),
            {"": model_dirs["binary"]},
            examples,
        )


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf])
def test_a_negative_nan_or_infinite_weight_is_refused_naming_the_file_record_and_key(
    model_dirs, tmp_path, weight
):
    examples = edited(
        lambda ex: ex[21].features.feature["weight"].float_list.value.__setitem__(0, weight)
    )
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), examples)
    builder = BatchBuilder(
        eval_config('label_key: "label" example_weight_key: "weight"'), {"": model_dirs["binary"]}
    )
    with pytest.raises(FeatureValueError) as refused:
        list(builder.file_batches([path], batch_size=16))
    assert str(refused.value) == (
        f"{path}: feature 'weight' (example_weight_key of model '' ({model_dirs['binary']})): 1 of 16 "
        f"examples hold a negative, NaN or infinite weight (first: record 21 holds {weight})"
    )


def test_predict_dofn_turns_files_into_batches(model_dirs, examples, tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), examples)
    config = eval_config('label_key: "label"')
    with beam.Pipeline() as pipeline:
        summaries = (
            pipeline
            | MatchExampleFiles([path])
            | beam.Map(lambda path: [path])
            | beam.ParDo(PredictDoFn(config, {"": model_dirs["binary"]}, batch_size=16))
            | beam.Map(lambda b: (b.num_rows, float(b.labels[""].sum()), b.predictions[""].shape))
        )
        # The models see 16 examples at a time; a Batch holds up to ROWS_PER_BATCH of them.
        assert_that(summaries, equal_to([(N, float(columns(examples, "label").sum()), (N,))]))


def test_batch_size_must_be_positive(model_dirs):
    with pytest.raises(ConfigError, match="batch_size must be positive, got 0"):
        PredictDoFn(eval_config('label_key: "label"'), {"": model_dirs["binary"]}, batch_size=0)


def test_schema_decides_the_decoded_columns_and_a_type_mismatch_is_named(model_dirs, examples):
    config = eval_config('label_key: "label"')
    config.slicing_specs.add(feature_keys=["count", "rare", "x0"])
    schema = text_format.Parse(
        """
        feature { name: "label" type: INT }
        feature { name: "count" type: INT }
        feature { name: "rare" type: BYTES }
        feature { name: "weight" type: FLOAT }
    """,
        schema_pb2.Schema(),
    )
    builder = BatchBuilder(config, {"": model_dirs["binary"]}, schema.SerializeToString())
    features = builder.build(saved_models.serialize(examples)).features
    # Declared and read by the evaluation ('weight' is not read, 'x0' not declared).
    assert features.schema.names == ["count", "label", "rare"]
    assert features.column("rare").null_count == N  # declared, in no example

    schema.feature[1].type = schema_pb2.FLOAT
    builder = BatchBuilder(config, {"": model_dirs["binary"]}, schema.SerializeToString())
    with pytest.raises(ExamplesError, match='"count"'):
        builder.build(saved_models.serialize(examples))


# Files read with tf.data and tf.io.parse_example (BatchBuilder.file_batches) give the Batches that
# tfx_bsl decoding of the same records (BatchBuilder.build) gives, and the same errors.


def assert_same_batches(builder, path, batch_size, num_decoded=0):
    """file_batches equals build on the same records, batch by batch (one model batch each),
    having built num_decoded of them with build (those after a batch the tf.data pipeline failed
    on)."""
    decoded_by_file_batches = []
    build = builder.build
    builder.build = lambda records: decoded_by_file_batches.append(records) or build(records)
    parsed = list(builder.file_batches([path], batch_size, rows_per_batch=batch_size))
    builder.build = build
    assert len(decoded_by_file_batches) == num_decoded
    decoded = [builder.build(records) for records in record_lists(path, batch_size)]
    assert len(parsed) == len(decoded)
    for ours, reference in zip(parsed, decoded):
        assert ours.features.schema.names == reference.features.schema.names
        for (
            name
        ) in ours.features.schema.names:  # empty lists where tfx_bsl has nulls: both no value
            assert (
                ours.features.column(name).fill_null([]).to_pylist()
                == reference.features.column(name).fill_null([]).to_pylist()
            ), name
        for field in ("labels", "predictions", "example_weights"):
            assert getattr(ours, field).keys() == getattr(reference, field).keys()
            for model in getattr(ours, field):
                np.testing.assert_array_equal(
                    getattr(ours, field)[model], getattr(reference, field)[model]
                )
    return parsed


def sliced_config(*model_specs: str, slices=(["category"], ["tags", "count"], ["late"])):
    config = eval_config(*model_specs)
    for keys in slices:
        config.slicing_specs.add(feature_keys=keys)
    return config


def varied_examples(n=N):
    """make_examples with a multi-valued feature 'tags' (0 to 3 values, absent in a quarter) and
    'late' only in the second half (in no example of the first batch)."""
    examples = saved_models.make_examples(n, seed=4)
    for i, example in enumerate(examples):
        example.features.feature["tags"].bytes_list.value.extend(
            f"t{(i + j) % 4}".encode() for j in range(i % 4)
        )
        if i >= n // 2:
            example.features.feature["late"].int64_list.value.append(i % 3)
    return examples


def test_file_batches_equal_decoded_batches(model_dirs, tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), varied_examples())
    config = sliced_config(
        'name: "candidate" label_key: "class" example_weight_key: "weight"',
        'name: "baseline" label_key: "label" is_baseline: true',
    )
    builder = BatchBuilder(
        config, {"candidate": model_dirs["multiclass"], "baseline": model_dirs["binary"]}
    )
    # 'late' is first seen in the second batch: parsed as bytes, it fails; that batch is decoded
    # by tfx_bsl, which learns its type, and the next one is parsed again.
    batches = assert_same_batches(builder, path, batch_size=16, num_decoded=1)
    # Read features only: both models' labels, the weight, the sliced features, the named inputs.
    assert set(batches[-1].features.schema.names) == {
        "class",
        "label",
        "weight",
        "category",
        "tags",
        "count",
        "late",
        *saved_models.NUMERIC_FEATURES,
    }
    assert (
        "late" not in batches[0].features.schema.names
    )  # in none of its examples, as with tfx_bsl


def test_file_batches_with_a_schema_equal_decoded_batches(model_dirs, tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), varied_examples())
    schema = text_format.Parse(
        """
        feature { name: "label" type: INT }
        feature { name: "tags" type: BYTES }
        feature { name: "count" type: INT }
        feature { name: "late" type: INT }
    """,
        schema_pb2.Schema(),
    )
    builder = BatchBuilder(
        sliced_config('label_key: "label"'), {"": model_dirs["binary"]}, schema.SerializeToString()
    )
    assert_same_batches(builder, path, batch_size=16)


def test_a_feature_changing_type_between_batches_is_decoded_like_tfx_bsl(model_dirs, tmp_path):
    examples = varied_examples()
    for example in examples[24:]:  # 'tags' holds ints from the fourth batch on
        feature = example.features.feature["tags"]
        count = len(feature.bytes_list.value)
        feature.Clear()
        feature.int64_list.value.extend(range(count))
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), examples)
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    # Decoded by tfx_bsl: the third batch ('late' first seen), then from the fourth ('tags' changed) on.
    assert_same_batches(builder, path, batch_size=8, num_decoded=3)


@pytest.mark.parametrize(
    "edit, good_sizes, error, message",
    [
        (
            lambda ex: ex[21].features.feature.pop("label"),
            [16],
            MissingFeatureError,
            r"eval.gz: feature 'label' \(label_key .*\): 1 of 8 examples lack it \(first: record 21\)",
        ),
        (
            lambda ex: ex[30].features.feature["x0"].float_list.value.__setitem__(0, np.nan),
            [16, 8],
            PredictionError,
            r"eval.gz: output .* NaN or infinite for 1 of 8 examples \(first: record 30\)",
        ),
        (
            lambda ex: (
                ex[19]
                .features.feature["tags"]
                .CopyFrom(saved_models.to_example({"t": 1}).features.feature["t"])
            ),
            [16],
            ExamplesError,
            r"cannot decode a batch of 8 tf.Examples: .*\"tags\"",
        ),
    ],
    ids=["label-missing", "nan-prediction", "sliced-feature-type"],
)
def test_file_batches_fail_as_decoded_batches_do_after_the_good_ones(
    model_dirs, tmp_path, edit, good_sizes, error, message
):
    """A parsed Batch of two model batches fails: its model batches are built again with build."""
    examples = varied_examples()
    edit(examples)
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), examples)
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    batches = builder.file_batches([path], batch_size=8, rows_per_batch=16)
    assert [next(batches).num_rows for _ in good_sizes] == good_sizes
    with pytest.raises(error, match=message):
        list(batches)


def test_parsed_batches_hold_several_model_batches(model_dirs, tmp_path, monkeypatch):
    path = saved_models.write_tfrecords(str(tmp_path / "eval.gz"), varied_examples())
    config = sliced_config(
        'name: "candidate" label_key: "label"',
        'name: "baseline" label_key: "class" is_baseline: true',
        slices=(["tags"],),
    )
    builder = BatchBuilder(
        config, {"candidate": model_dirs["binary"], "baseline": model_dirs["multiclass"]}
    )
    named_input_calls = []
    predict = ServingModel.predict
    monkeypatch.setattr(
        ServingModel,
        "predict",
        lambda self, serialized, features: (
            named_input_calls.append(features.num_rows) or predict(self, serialized, features)
        ),
    )
    parsed = list(builder.file_batches([path], batch_size=8, rows_per_batch=24))
    assert [b.num_rows for b in parsed] == [24, 16]
    assert named_input_calls == [8, 8, 8, 8, 8]  # the named-input model, one model batch at a time
    decoded = [builder.build(records) for records in record_lists(path, 40)]
    for field in ("labels", "predictions", "example_weights"):
        for model in ("candidate", "baseline"):
            np.testing.assert_allclose(
                np.concatenate([getattr(b, field)[model] for b in parsed]),
                getattr(decoded[0], field)[model],
                rtol=1e-6,
            )


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "uncompressed"])
def test_file_batches_of_a_truncated_file_fail_naming_it(model_dirs, tmp_path, gzip):
    path = saved_models.write_tfrecords(
        str(tmp_path / "broken.tfrecord"), varied_examples(), gzip=gzip
    )
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    with pytest.raises(ExamplesError, match=r"TFRecord file .*broken\.tfrecord"):
        list(builder.file_batches([path], batch_size=8, rows_per_batch=8))


def test_file_batches_of_a_file_cut_inside_a_record_header_fail_naming_it(model_dirs, tmp_path):
    examples = varied_examples()
    path = saved_models.write_tfrecords(str(tmp_path / "cut.tfrecord"), examples, gzip=False)
    kept = sum(len(e.SerializeToString()) + 16 for e in examples[:-1])
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: kept + 5])  # TF's tf.data reader yields the records before the cut, no error
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    with pytest.raises(ExamplesError, match=r"TFRecord file .*cut\.tfrecord is truncated"):
        list(builder.file_batches([path], batch_size=8, rows_per_batch=8))


def test_several_files_read_by_one_pipeline_equal_each_file_decoded(model_dirs, tmp_path):
    """Files in order, each in its own Batches; a feature first seen in the second file (parsed
    as bytes, it fails there) sends that batch to tfx_bsl, which learns its type; the third file
    is parsed again."""
    examples = varied_examples()
    paths = [
        saved_models.write_tfrecords(str(tmp_path / f"eval-{i}.gz"), part)
        for i, part in enumerate((examples[:16], examples[16:24], examples[24:]))
    ]
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    decoded_by_file_batches = []
    build = builder.build
    builder.build = lambda records: decoded_by_file_batches.append(records) or build(records)
    parsed = list(builder.file_batches(paths, batch_size=8, rows_per_batch=16))
    builder.build = build
    assert [b.num_rows for b in parsed] == [16, 8, 16]
    assert len(decoded_by_file_batches) == 1  # 'late' first seen in the second file
    # The model sees the same batches of 8 both ways (a float32 matmul's rounding may depend on the batch).
    decoded = [builder.build(records) for path in paths for records in record_lists(path, 8)]
    assert [b.num_rows for b in decoded] == [8, 8, 8, 8, 8]
    for field in ("labels", "predictions", "example_weights"):
        np.testing.assert_array_equal(
            np.concatenate([getattr(b, field)[""] for b in parsed]),
            np.concatenate([getattr(b, field)[""] for b in decoded]),
        )


@pytest.mark.parametrize("broken", [0, 1], ids=["first-file", "last-file"])
def test_several_files_fail_naming_the_truncated_one_after_the_good_batches(
    model_dirs, tmp_path, broken
):
    examples = varied_examples()
    paths = [
        saved_models.write_tfrecords(str(tmp_path / f"eval-{i}.gz"), part)
        for i, part in enumerate((examples[:24], examples[24:]))
    ]
    data = open(paths[broken], "rb").read()
    with open(paths[broken], "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    batches = builder.file_batches(paths, batch_size=8, rows_per_batch=8)
    if broken == 1:
        assert [next(batches).num_rows for _ in range(3)] == [8, 8, 8]  # the whole first file
    with pytest.raises(ExamplesError, match=rf"TFRecord file .*eval-{broken}\.gz"):
        list(batches)


def test_an_example_failing_in_a_later_file_is_named_after_the_earlier_files(model_dirs, tmp_path):
    examples = varied_examples()
    examples[29].features.feature.pop("label")
    paths = [
        saved_models.write_tfrecords(str(tmp_path / f"eval-{i}.gz"), part)
        for i, part in enumerate((examples[:16], examples[16:]))
    ]
    builder = BatchBuilder(sliced_config('label_key: "label"'), {"": model_dirs["binary"]})
    batches = builder.file_batches(paths, batch_size=8, rows_per_batch=16)
    assert [next(batches).num_rows for _ in range(2)] == [
        16,
        8,
    ]  # the first file, the second's first batch
    with pytest.raises(
        MissingFeatureError, match=r"eval-1.gz: .*1 of 8 examples lack it \(first: record 13\)"
    ):
        list(batches)
