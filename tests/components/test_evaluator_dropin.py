"""The glassbox Evaluator as a drop-in for the stock one, in TFX's penguin example's pipeline.

`_penguin_pipeline` is the wiring of tfx/examples/penguin/penguin_pipeline_local.py (latest blessed
model Resolver -> Evaluator -> Pusher through `evaluator.outputs['blessing']`, the example's
EvalConfig with its label from the Transform graph's `transform_features` signature), with the
Evaluator imported from glassbox.components and the Trainer's model imported (a real tf.Transform
graph and a tf_keras model, tests/support/transform_models.py). Under LocalDagRunner with SQLite
MLMD: the first, good model is blessed (no baseline yet: rubber-stamped on its value threshold)
and pushed by the stock Pusher; the second, trained for one epoch, is compared with it (the
Resolver found the blessing) and is neither blessed nor pushed; the blessing says why.
"""

import os

import ml_metadata as mlmd
import pytest
import tensorflow_model_analysis as tfma
from tfx.components.example_gen.import_example_gen.component import ImportExampleGen
from tfx.components.pusher.component import Pusher
from tfx.dsl.components.common.importer import Importer
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.orchestration import metadata, pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.proto import example_gen_pb2, pusher_pb2
from tfx.types import Channel, standard_artifacts

from glassbox import keys
from glassbox.components import Evaluator  # the only edit: was tfx.components.Evaluator
from glassbox.components.validator.component import Validator
from glassbox.engine.outcome import ModelArtifact, Models
from glassbox.engine.validate import evaluator_blessing
from glassbox.errors import ConfigError
from tests.support import eval_config_cases, saved_models
from tests.support import transform_models as tm

pytestmark = pytest.mark.integration  # whole pipelines under LocalDagRunner


def _penguin_pipeline(root, data_root, model_uri, serving_model_dir, eval_config):
    """TFX's penguin_pipeline_local.py from the Evaluator on (the Trainer's model imported)."""
    example_gen = ImportExampleGen(
        input_base=data_root,
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="eval", pattern="eval/*")]
        ),
    )
    trainer = Importer(source_uri=model_uri, artifact_type=standard_artifacts.Model).with_id(
        "trainer"
    )
    model_resolver = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["result"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config,
    )
    pusher = Pusher(
        model=trainer.outputs["result"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=serving_model_dir)
        ),
    )
    return pipeline.Pipeline(
        pipeline_name="penguin_local",
        pipeline_root=os.path.join(root, "pipeline"),
        components=[example_gen, trainer, model_resolver, evaluator, pusher],
        metadata_connection_config=metadata.sqlite_metadata_connection_config(
            os.path.join(root, "metadata.sqlite")
        ),
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs: a trained model, then one trained for one epoch; the MLMD store and the serving dir."""
    root = str(tmp_path_factory.mktemp("penguin"))
    good = tm.build_penguin(os.path.join(root, "models"), n=240, model_name="good")
    bad = tm.build_penguin(os.path.join(root, "models"), n=240, model_name="bad", epochs=1)
    saved_models.write_tfrecords(os.path.join(root, "data", "eval", "part.gz"), good.examples)
    serving = os.path.join(root, "serving")
    eval_config = eval_config_cases.load_config("tfx_penguin_pipeline_local")
    for model in (good, bad):
        LocalDagRunner().run(
            _penguin_pipeline(
                root, os.path.join(root, "data"), model.model_uri, serving, eval_config
            )
        )
    store = mlmd.MetadataStore(
        metadata.sqlite_metadata_connection_config(os.path.join(root, "metadata.sqlite"))
    )
    return store, serving, good, bad


def _by_model_uri(store, type_name):
    models = {m.id: m.uri for m in store.get_artifacts_by_type(standard_artifacts.Model.TYPE_NAME)}
    found = {}
    for artifact in store.get_artifacts_by_type(type_name):
        model_id = artifact.custom_properties[keys.CURRENT_MODEL_ID_PROPERTY].int_value
        found[models[model_id]] = artifact
    return found


def test_the_stock_pusher_pushes_the_blessed_model_and_not_the_failing_one(runs):
    store, serving, good, bad = runs
    blessings = _by_model_uri(store, standard_artifacts.ModelBlessing.TYPE_NAME)
    assert blessings[good.model_uri].custom_properties[keys.BLESSED_PROPERTY].int_value == 1
    assert sorted(os.listdir(blessings[good.model_uri].uri)) == sorted(
        [keys.BLESSED_FILE, keys.EVALUATOR_VALIDATION_DIR]
    )
    refused = blessings[bad.model_uri].custom_properties
    assert refused[keys.BLESSED_PROPERTY].int_value == 0
    assert "sparse_categorical_accuracy" in refused[keys.REASON_PROPERTY].string_value
    pushed = {
        p.custom_properties[keys.PUSHED_PROPERTY].int_value
        for p in store.get_artifacts_by_type(standard_artifacts.PushedModel.TYPE_NAME)
    }
    assert pushed == {0, 1}
    [version] = os.listdir(serving)  # only the good model was pushed
    assert os.path.exists(os.path.join(serving, version, "saved_model.pb"))


def test_tfma_load_validation_result_reads_the_verdict_from_the_evaluation(runs):
    # As TFX's tutorials read it: tfma.load_validation_result(evaluator's evaluation uri).
    store, _, good, bad = runs
    evaluations = _by_model_uri(store, standard_artifacts.ModelEvaluation.TYPE_NAME)
    assert tfma.load_validation_result(evaluations[good.model_uri].uri).validation_ok
    assert not tfma.load_validation_result(evaluations[bad.model_uri].uri).validation_ok


def test_the_latest_blessed_model_strategy_finds_the_blessing_as_the_baseline(runs):
    store, _, good, bad = runs
    blessings = _by_model_uri(store, standard_artifacts.ModelBlessing.TYPE_NAME)
    baseline = blessings[bad.model_uri].custom_properties[keys.BASELINE_MODEL_PROPERTY]
    assert baseline.string_value == good.model_uri
    assert keys.BASELINE_MODEL_PROPERTY not in blessings[good.model_uri].custom_properties


@pytest.mark.parametrize(
    "argument, value, reason",
    [
        ("module_file", "udfs.py", "custom_eval_shared_model"),
        ("module_path", "my.udfs", "custom_eval_shared_model"),
        ("fairness_indicator_thresholds", [0.5], "FairnessIndicators"),
        ("feature_slicing_spec", object(), "deprecated"),
        ("eval_config", None, "eval_config is required"),
    ],
)
def test_stock_arguments_glassbox_cannot_honour_are_refused_with_the_reason(
    argument, value, reason
):
    stock_arguments = dict(
        examples=Channel(type=standard_artifacts.Examples),
        model=Channel(type=standard_artifacts.Model),
        eval_config=eval_config_cases.load_config("tfx_penguin_pipeline_local"),
    )
    with pytest.raises(ConfigError, match=reason):
        Evaluator(**{**stock_arguments, argument: value})


def test_a_validator_of_the_evaluation_makes_the_evaluator_leave_the_verdict_to_it(tmp_path):
    evaluator = Evaluator(
        examples=Channel(type=standard_artifacts.Examples),
        model=Channel(type=standard_artifacts.Model),
        eval_config=eval_config_cases.load_config("tfx_penguin_pipeline_local"),
    )
    assert not evaluator.exec_properties.get(keys.DEFERS_TO_VALIDATOR_KEY)
    Validator(
        evaluation=evaluator.outputs["evaluation"], model=Channel(type=standard_artifacts.Model)
    )
    assert evaluator.exec_properties[keys.DEFERS_TO_VALIDATOR_KEY] == 1
    record = evaluator_blessing(
        str(tmp_path / "evaluation"),  # not read: the Validator decides
        str(tmp_path / "validation"),
        eval_config_cases.load_config("tfx_penguin_pipeline_local"),
        Models(ModelArtifact("/models/1", 1)),
        defers_to_validator=True,
    )
    assert record.file_name == keys.NOT_BLESSED_FILE
    assert record.properties[keys.BLESSED_PROPERTY] == 0
    assert "a Validator decides" in record.properties[keys.REASON_PROPERTY]
    assert not os.path.exists(tmp_path / "validation")
