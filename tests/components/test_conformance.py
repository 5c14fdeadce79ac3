"""Every glassbox component: constructs from channels, compiles for LocalDagRunner and for Kubeflow
Pipelines v2, and its executor's Do works on real fixture artifacts."""

import base64
import dataclasses
import gzip
import json
import os
import re
from typing import Callable, Dict, Optional

import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tfx.dsl.compiler import compiler
from tfx.dsl.components.base import base_component
from tfx.dsl.components.common.importer import Importer
from tfx.orchestration import pipeline
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
from tfx.types import channel_utils, standard_artifacts

from glassbox import keys
from glassbox.components import Evaluator, Trainer, Validator
from glassbox.components.baseline_resolver.component import BaselineResolver
from glassbox.components.baseline_resolver.kfp_metadata import CONNECTION_CONFIG_ENV
from glassbox.training.config import TrainingConfig
from tests.support import saved_models
from tests.support.executors import run_executor
from tests.support.kfp_harness import LocalKfp, record_validated_model
from tests.support.validation_fixtures import OVERALL, metrics, write_evaluation

EVAL_CONFIG = text_format.Parse(
    """
model_specs { label_key: "label" }
slicing_specs { feature_keys: "category" }
metrics_specs { metrics { class_name: "AUC" } }
""",
    config_pb2.EvalConfig(),
)
PIPELINE_NAME = "conformance"
TRAINING = TrainingConfig(
    label="label",
    numeric_features=saved_models.NUMERIC_FEATURES,
    categorical_features=("category",),
    epochs=1,
)


class Inputs:
    """Input channels: imported in a pipeline (compilers need producers), or fixed artifacts."""

    def __init__(self, uris: Dict[str, str] = None):
        self._uris = uris
        self.importers = []

    def __call__(self, artifact_type, key):
        if self._uris is None:
            importer = Importer(source_uri=f"/{key}", artifact_type=artifact_type).with_id(
                f"import_{key}"
            )
            self.importers.append(importer)
            return importer.outputs["result"]
        artifact = artifact_type()
        artifact.uri = self._uris[key]
        if artifact_type is standard_artifacts.Examples:
            artifact.split_names = '["train", "eval"]'
        return channel_utils.as_channel([artifact])


@dataclasses.dataclass
class Case:
    build: Callable[[Inputs], base_component.BaseComponent]
    check: Callable[[str], bool]  # the output artifact's uri holds what Do should write
    output: Optional[str] = None  # the output check reads; None: the only one
    report: Optional[str] = None  # the output holding the HTML report Do writes


CASES = {
    # Do: finds the fixture model, blessed in the fixture KFP ML Metadata store.
    "BaselineResolver": Case(
        build=lambda inputs: BaselineResolver(pipeline_name=PIPELINE_NAME),
        check=lambda uri: os.path.exists(os.path.join(uri, "Format-Serving", "saved_model.pb")),
    ),
    "Evaluator": Case(
        build=lambda inputs: Evaluator(
            examples=inputs(standard_artifacts.Examples, "examples"),
            model=inputs(standard_artifacts.Model, "model"),
            eval_config=EVAL_CONFIG,
        ),
        check=lambda uri: os.path.exists(os.path.join(uri, "eval_config.json")),
        output="evaluation",
        report="evaluation",
    ),
    "Trainer": Case(
        build=lambda inputs: Trainer(
            examples=inputs(standard_artifacts.Examples, "examples"), config=TRAINING
        ),
        check=lambda uri: os.path.exists(os.path.join(uri, "Format-Serving", "saved_model.pb")),
    ),
    "Validator": Case(
        build=lambda inputs: Validator(
            evaluation=inputs(standard_artifacts.ModelEvaluation, "evaluation"),
            model=inputs(standard_artifacts.Model, "model"),
        ),
        check=lambda uri: os.listdir(uri) == ["BLESSED"],
        output="blessing",
        report="validation",
    ),
}


@pytest.fixture(scope="module")
def fixture_uris(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixtures")
    examples = saved_models.write_examples_artifact(
        str(root / "examples"),
        {
            "train": saved_models.make_examples(200, seed=1),
            "eval": saved_models.make_examples(200, seed=2),
        },
    )
    model = os.path.dirname(saved_models.export_model(str(root / "model" / "Format-Serving")))
    evaluation = write_evaluation(
        str(root / "evaluation"),
        """
        model_specs { label_key: "label" }
        metrics_specs { metrics { class_name: "AUC" threshold { value_threshold { lower_bound { value: 0.5 } } } } }
        """,
        {OVERALL: metrics({"auc": 0.8})},
    )
    kfp = LocalKfp(str(root / "kfp"))
    record_validated_model(kfp, PIPELINE_NAME, "run-1", model, blessed=True)
    return {
        "examples": examples,
        "model": model,
        "evaluation": evaluation,
        CONNECTION_CONFIG_ENV: kfp.connection_config_path,
    }


def _pipeline(name, root):
    inputs = Inputs()
    component = CASES[name].build(inputs)
    return pipeline.Pipeline(
        pipeline_name=PIPELINE_NAME,
        pipeline_root=str(root),
        components=[*inputs.importers, component],
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_component_compiles_for_local_and_kubeflow_runners(name, tmp_path):
    # A component joins one pipeline only, so each runner gets its own instance.
    ir = compiler.Compiler().compile(_pipeline(name, tmp_path))
    assert ir.nodes[-1].pipeline_node.node_info.id == name
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(default_image="glassbox:test"),
        output_dir=str(tmp_path),
        output_filename="pipeline.json",
    )
    runner.run(_pipeline(name, tmp_path), write_out=True)
    spec = json.loads((tmp_path / "pipeline.json").read_text())
    assert name in spec["pipelineSpec"]["root"]["dag"]["tasks"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_component_executor_does_its_work_on_fixtures(name, tmp_path, fixture_uris, monkeypatch):
    monkeypatch.setenv(CONNECTION_CONFIG_ENV, fixture_uris[CONNECTION_CONFIG_ENV])
    component = CASES[name].build(Inputs(fixture_uris))
    outputs = run_executor(component, tmp_path)
    [artifact] = [outputs[CASES[name].output]] if CASES[name].output else outputs.values()
    assert CASES[name].check(artifact.uri)
    if CASES[name].report:
        artifact = outputs[CASES[name].report]
        # The report of the evaluation (the one made, or the one validated), with the decision if any.
        report = _report_data(os.path.join(artifact.uri, "report.html"))
        evaluation = component.inputs.get("evaluation")
        assert (
            report["evaluation"]["path"]
            == (list(evaluation.get())[0] if evaluation else outputs["evaluation"]).uri
        )
        assert "auc" in [column["id"] for column in report["evaluation"]["columns"]]
        decision = (
            _json(os.path.join(artifact.uri, "decision.json")) if name == "Validator" else None
        )
        assert report["validation"] == decision and (decision is None or decision["blessed"])
        # The same page in `report`, one file at its URI, of the type the KFP UI shows, named.
        html = outputs[keys.REPORT_KEY]
        assert html.type_name == keys.HTML_TYPE
        with open(os.path.join(artifact.uri, "report.html")) as f:
            assert html.read() == f.read()
        assert html.get_string_custom_property(keys.DISPLAY_NAME_PROPERTY)


def _report_data(path):
    """The data a report page embeds (gzipped, base64-encoded JSON)."""
    with open(path) as f:
        packed = re.search(r'id="glassbox-data">([^<]*)</script>', f.read()).group(1)
    return json.loads(gzip.decompress(base64.b64decode(packed)))


def _json(path):
    with open(path) as f:
        return json.load(f)
