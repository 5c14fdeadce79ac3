"""The Evaluator's drift under LocalDagRunner: from a split of its Examples (train), and from an
earlier ModelEvaluation's sketches, written into the evaluation as drift.json."""

import json
import os

import ml_metadata as mlmd
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tfx.components.example_gen.import_example_gen.component import ImportExampleGen
from tfx.dsl.components.common.importer import Importer
from tfx.orchestration import metadata, pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts

from glassbox import keys
from glassbox.components import Evaluator
from glassbox.errors import ConfigError
from glassbox.protos.drift_config_pb2 import DriftConfig
from tests.support import saved_models

pytestmark = pytest.mark.integration  # a whole pipeline under LocalDagRunner

EVAL_CONFIG = text_format.Parse(
    'model_specs { label_key: "label" } slicing_specs {} slicing_specs { feature_keys: "category" }'
    ' metrics_specs { metrics { class_name: "ExampleCount" } }',
    config_pb2.EvalConfig(),
)
DRIFT_CONFIG = DriftConfig(
    features=["x0", "x1", "category", "count"], categorical_features=["count"]
)


def _shifted(examples, feature, by):
    for example in examples:
        example.features.feature[feature].float_list.value[0] += by
    return examples


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift_pipeline")
    data = root / "data"
    saved_models.write_tfrecords(
        str(data / "train" / "part.gz"), saved_models.make_examples(300, seed=1)
    )
    saved_models.write_tfrecords(
        str(data / "eval" / "part.gz"),
        _shifted(saved_models.make_examples(300, seed=2), "x1", 1.5),
    )
    model = os.path.dirname(saved_models.export_model(str(root / "model" / "Format-Serving")))
    example_gen = ImportExampleGen(
        input_base=str(data),
        input_config=example_gen_pb2.Input(
            splits=[
                example_gen_pb2.Input.Split(name="train", pattern="train/*"),
                example_gen_pb2.Input.Split(name="eval", pattern="eval/*"),
            ]
        ),
    )
    model_importer = Importer(source_uri=model, artifact_type=standard_artifacts.Model).with_id(
        "model_importer"
    )
    from_train = Evaluator(
        examples=example_gen.outputs["examples"],
        model=model_importer.outputs["result"],
        eval_config=EVAL_CONFIG,
        drift_config=DRIFT_CONFIG,
        drift_reference_split="train",
    ).with_id("from_train")
    from_evaluation = Evaluator(
        examples=example_gen.outputs["examples"],
        model=model_importer.outputs["result"],
        eval_config=EVAL_CONFIG,
        drift_config=DRIFT_CONFIG,
        drift_reference=from_train.outputs["evaluation"],
    ).with_id("from_evaluation")
    connection = metadata.sqlite_metadata_connection_config(str(root / "metadata.sqlite"))
    LocalDagRunner().run(
        pipeline.Pipeline(
            pipeline_name="evaluator_drift",
            pipeline_root=str(root / "root"),
            components=[example_gen, model_importer, from_train, from_evaluation],
            metadata_connection_config=connection,
        )
    )
    # pipeline_root/<component id>/evaluation/<execution id>
    return {
        evaluation.uri.split(os.sep)[-3]: evaluation.uri
        for evaluation in mlmd.MetadataStore(connection).get_artifacts_by_type(
            keys.MODEL_EVALUATION_TYPE
        )
    }


def _drift(uri):
    with open(os.path.join(uri, keys.DRIFT_FILE)) as f:
        return json.load(f)


def test_drift_from_the_train_split_ranks_the_shifted_feature_first(evaluations):
    drift = _drift(evaluations["from_train"])
    assert drift["reference"].startswith("split train of ")
    assert len(drift["slices"]) == 4  # Overall and the three categories
    for drift_slice in drift["slices"]:
        assert drift_slice["features"][0]["name"] == "x1"
        assert drift_slice["features"][0]["wasserstein"] > 1.2


def test_an_earlier_evaluation_is_a_reference(evaluations):
    """The same eval split against the first Evaluator's sketches: every distance 0."""
    drift = _drift(evaluations["from_evaluation"])
    assert drift["reference"] == f"evaluation {evaluations['from_train']}"
    entries = [e for s in drift["slices"] for e in s["features"] + s["predictions"]]
    assert {e["name"] for e in entries} == {"x0", "x1", "category", "count", "prediction"}
    assert len(entries) == 4 * 5
    for entry in entries:
        assert entry["count"] == entry["reference_count"]
        assert entry["jensen_shannon"] == pytest.approx(0, abs=1e-12)


def test_two_drift_references_are_refused():
    with pytest.raises(ConfigError, match="drift_reference_split and drift_reference"):
        Evaluator(
            examples=_channel(standard_artifacts.Examples),
            model=_channel(standard_artifacts.Model),
            eval_config=EVAL_CONFIG,
            drift_reference_split="train",
            drift_reference=_channel(standard_artifacts.ModelEvaluation),
        )


def _channel(artifact_type):
    from tfx.types import channel_utils

    return channel_utils.as_channel([artifact_type()])
