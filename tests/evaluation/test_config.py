"""EvalConfigs as users write them for TFMA: read as text or JSON, malformed ones refused by name."""

import pytest
from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox.errors import ConfigError
from glassbox.evaluation.config import load_eval_config, prepare_eval_config

TEXT = """
model_specs { label_key: "label" signature_name: "serving_default" }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "AUC" } metrics { class_name: "ExampleCount" } }
options { min_slice_size { value: 10 } }
"""


def _config(text=TEXT):
    from google.protobuf import text_format

    return text_format.Merge(text, config_pb2.EvalConfig())


def test_text_and_json_files_give_the_same_config(tmp_path):
    text_path = tmp_path / "eval_config.pbtxt"
    text_path.write_text(TEXT)
    json_path = tmp_path / "eval_config.json"
    json_path.write_text(json_format.MessageToJson(_config()))
    assert load_eval_config(str(text_path)) == load_eval_config(str(json_path)) == _config()


@pytest.mark.parametrize(
    "content", ["model_specs { label_key: ", '{"modelSpecs": [', "no_such_field: 1"]
)
def test_malformed_config_names_the_file(tmp_path, content):
    path = tmp_path / "broken.pbtxt"
    path.write_text(content)
    with pytest.raises(ConfigError, match="broken.pbtxt"):
        load_eval_config(str(path))


def test_a_negative_inference_batch_size_is_refused_naming_the_field():
    config = _config()
    config.model_specs[0].inference_batch_size = -5
    with pytest.raises(ConfigError, match=r"'model_specs\[0\].inference_batch_size' is -5"):
        prepare_eval_config(config, has_baseline=False)


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nowhere.pbtxt"):
        load_eval_config(str(tmp_path / "nowhere.pbtxt"))


def test_what_the_vectorised_engine_does_not_cover_is_not_refused():
    # TFMA's exact path computes it (tests/evaluation/test_exact_path.py).
    for extra in (
        "model_specs { }",
        'model_specs { label_key: "y" model_type: "tf_lite" }',
        'metrics_specs { query_key: "q" }',
    ):
        prepare_eval_config(_config(TEXT + extra), has_baseline=True)


def test_baseline_gets_tfma_model_names_and_intervals_use_poisson_bootstrap():
    config = _config(TEXT + "options { compute_confidence_intervals { value: true } }")
    prepared = prepare_eval_config(config, has_baseline=True)
    assert [(s.name, s.is_baseline) for s in prepared.model_specs] == [
        ("candidate", False),
        ("baseline", True),
    ]
    assert (
        prepared.options.confidence_intervals.method
        == config_pb2.ConfidenceIntervalOptions.POISSON_BOOTSTRAP
    )
    assert prepare_eval_config(config, has_baseline=False).model_specs[0].name == ""
