"""Loading real Keras SavedModels and feeding them batches, serialized or as named features."""

import os
import shutil

import numpy as np
import pytest
from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

from glassbox.data.errors import (
    FeatureTypeError,
    MissingFeatureError,
    ModelLoadError,
    PredictionError,
    SignatureError,
)
from glassbox.data.models import ServingModel, resolve_model_dir
from tests.support import saved_models

SERIALIZED = saved_models.serialize(saved_models.make_examples(40, seed=1))


def decode(serialized):
    return ExamplesToRecordBatchDecoder().DecodeBatch(serialized)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "examples": saved_models.export_model(str(root / "examples"), with_logits=True),
        "features_flat": saved_models.export_model(str(root / "flat"), inputs="features"),
        "features_column": saved_models.export_model(
            str(root / "column"), inputs="features", feature_shape=(1,)
        ),
        "renamed": saved_models.export_model(str(root / "renamed"), signature_name="predict"),
    }


@pytest.fixture(scope="module")
def features_model(model_dirs):
    return ServingModel(model_dirs["features_flat"])


def test_serialized_and_named_feature_signatures_predict_the_same(model_dirs):
    """The same weights fed parsed-in-model or through our Arrow conversion agree (to float32 rounding)."""
    outputs = {
        kind: ServingModel(model_dirs[kind]).predict(SERIALIZED, decode(SERIALIZED))
        for kind in ("examples", "features_flat", "features_column")
    }
    expected = outputs["examples"]["predictions"]
    assert expected.shape == (40, 1) and np.all((expected > 0) & (expected < 1))
    for kind in ("features_flat", "features_column"):
        np.testing.assert_allclose(outputs[kind]["predictions"], expected, rtol=1e-6)
    np.testing.assert_allclose(
        expected, 1 / (1 + np.exp(-outputs["examples"]["logits"])), rtol=1e-6
    )


def test_inputs_are_classified_by_the_tfx_convention(model_dirs, features_model):
    model = ServingModel(model_dirs["examples"])
    assert model.takes_serialized_examples and list(model.input_specs) == ["examples"]
    assert model.output_names == ["logits", "predictions"]
    assert not features_model.takes_serialized_examples
    assert set(features_model.input_specs) == set(saved_models.MODEL_FEATURES)


def test_signature_is_chosen_by_name(model_dirs):
    model = ServingModel(model_dirs["renamed"], signature_name="predict")
    assert model.predict(SERIALIZED, decode(SERIALIZED))["predictions"].shape == (40, 1)


def test_missing_signature_lists_the_available_ones(model_dirs):
    with pytest.raises(
        SignatureError, match=r"signature 'eval' not found .*\['predict', 'serving_default'\]"
    ):
        ServingModel(model_dirs["renamed"], signature_name="eval")


def test_model_dir_and_tfx_model_artifact_resolve(model_dirs, tmp_path):
    assert resolve_model_dir(model_dirs["examples"]) == model_dirs["examples"]
    artifact = tmp_path / "Model"
    shutil.copytree(model_dirs["examples"], artifact / "Format-Serving")
    assert resolve_model_dir(str(artifact)) == str(artifact / "Format-Serving")


def test_missing_model_dir_or_saved_model_is_an_error_naming_it(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model directory .*nowhere does not exist"):
        resolve_model_dir(str(tmp_path / "nowhere"))
    with pytest.raises(
        ModelLoadError, match=r"no SavedModel \(saved_model.pb\) in .*test_missing_model_dir"
    ):
        resolve_model_dir(str(tmp_path))


def test_corrupt_saved_model_is_an_error_naming_it(model_dirs, tmp_path):
    broken = shutil.copytree(model_dirs["examples"], tmp_path / "broken")
    pb = os.path.join(broken, "saved_model.pb")
    with open(pb, "rb") as f:
        content = f.read()
    with open(pb, "wb") as f:
        f.write(content[: len(content) // 2])
    with pytest.raises(ModelLoadError, match=r"cannot load SavedModel .*broken"):
        ServingModel(str(broken))


def without(feature, rows):
    """SERIALIZED with feature removed from the given rows."""
    examples = saved_models.make_examples(40, seed=1)
    for row in rows:
        del examples[row].features.feature[feature]
    return saved_models.serialize(examples)


def test_input_feature_absent_everywhere_is_named(features_model):
    serialized = without("x1", range(40))
    with pytest.raises(
        MissingFeatureError, match=r"feature 'x1' \(input of model .*flat\) is in none"
    ):
        features_model.predict(serialized, decode(serialized))


def test_input_feature_absent_in_some_examples_says_how_many_and_where(features_model):
    serialized = without("count", [7, 30])
    with pytest.raises(
        MissingFeatureError, match=r"'count' .*2 of 40 examples lack it \(first: row 7\)"
    ):
        features_model.predict(serialized, decode(serialized))


def test_multi_valued_input_is_refused(features_model):
    examples = saved_models.make_examples(40, seed=1)
    examples[3].features.feature["x0"].float_list.value.append(1.0)
    serialized = saved_models.serialize(examples)
    with pytest.raises(
        FeatureTypeError,
        match=r"'x0' .*1 of 40 examples hold a number of values other than 1 \(first: row 3 holds 2\)",
    ):
        features_model.predict(serialized, decode(serialized))


def test_strings_for_a_numeric_input_are_refused(features_model):
    examples = saved_models.make_examples(40, seed=1)
    for example in examples:
        example.features.feature["x2"].ClearField("float_list")
        example.features.feature["x2"].bytes_list.value.append(b"oops")
    serialized = saved_models.serialize(examples)
    with pytest.raises(FeatureTypeError, match=r"'x2' .*holds large_binary values.*takes float32"):
        features_model.predict(serialized, decode(serialized))


def test_failing_signature_call_is_a_prediction_error_with_tf_reason(model_dirs):
    serialized = without("x1", [0])
    with pytest.raises(
        PredictionError,
        match=r"(?s)signature 'serving_default' of model .*examples failed .*Feature: x1 .* could not be found",
    ):
        ServingModel(model_dirs["examples"]).predict(serialized, decode(serialized))
    with pytest.raises(PredictionError) as failed:
        ServingModel(model_dirs["examples"]).predict(serialized, decode(serialized))
    # The cause first, without TensorFlow's preamble, trace and op markers.
    assert str(failed.value).endswith(
        "failed on a batch of 40 examples: Name: <unknown>, Feature: x1 (data type: float) is "
        "required but could not be found."
    )
