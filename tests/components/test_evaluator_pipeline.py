"""The Evaluator in a real TFX pipeline: LocalDagRunner, SQLite MLMD, TFMA's loader on the output."""

import os

import ml_metadata as mlmd
import pytest
import tensorflow_model_analysis as tfma
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
from tests.support import saved_models

pytestmark = pytest.mark.integration  # whole pipelines under LocalDagRunner

EVAL_CONFIG = text_format.Parse(
    """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "AUC" }
  metrics { class_name: "BinaryAccuracy" }
}
""",
    config_pb2.EvalConfig(),
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    data = root / "data"
    saved_models.write_tfrecords(
        str(data / "train" / "part.gz"), saved_models.make_examples(300, seed=1)
    )
    saved_models.write_tfrecords(
        str(data / "eval" / "part.gz"), saved_models.make_examples(500, seed=2)
    )
    model = saved_models.export_model(str(root / "model" / "Format-Serving"))
    return str(data), os.path.dirname(model)


def _run(tmp_path, inputs, beam_pipeline_args=()):
    data, model = inputs
    example_gen = ImportExampleGen(
        input_base=data,
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
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=model_importer.outputs["result"],
        eval_config=EVAL_CONFIG,
    )
    connection = metadata.sqlite_metadata_connection_config(str(tmp_path / "metadata.sqlite"))
    LocalDagRunner().run(
        pipeline.Pipeline(
            pipeline_name="evaluator_test",
            pipeline_root=str(tmp_path / "root"),
            components=[example_gen, model_importer, evaluator],
            metadata_connection_config=connection,
            beam_pipeline_args=list(beam_pipeline_args),
        )
    )
    return mlmd.MetadataStore(connection)


def _check_store(store):
    [evaluation] = store.get_artifacts_by_type("ModelEvaluation")
    props = evaluation.custom_properties
    assert props["overall_example_count"].double_value == 500
    assert 0.0 <= props["overall_auc"].double_value <= 1.0
    assert "overall_binary_accuracy" in props

    result = tfma.load_eval_result(evaluation.uri)
    slices = {key for key, _ in result.slicing_metrics}
    assert slices == {()} | {(("category", c),) for c in saved_models.CATEGORIES}
    overall = dict(result.slicing_metrics)[()][""][""]
    assert overall["example_count"]["doubleValue"] == 500
    assert overall["auc"]["doubleValue"] == pytest.approx(props["overall_auc"].double_value)

    # Lineage: the Evaluator's execution consumed the imported model under the key 'model'.
    [model] = store.get_artifacts_by_type("Model")
    events = store.get_events_by_artifact_ids([model.id, evaluation.id])
    [execution_id] = {e.execution_id for e in events if e.artifact_id == evaluation.id}
    [consumed] = [e for e in events if e.execution_id == execution_id and e.artifact_id == model.id]
    assert consumed.path.steps[0].key == keys.MODEL_KEY


def test_local_dag_runner_writes_a_tfma_readable_evaluation_with_mlmd_properties(tmp_path, inputs):
    _check_store(_run(tmp_path, inputs))


@pytest.mark.slow
def test_same_pipeline_on_multi_process_beam(tmp_path, inputs):
    _check_store(
        _run(tmp_path, inputs, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    )
