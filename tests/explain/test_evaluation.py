"""Explanations in the evaluation, end to end on real SavedModels: `glassbox evaluate --explain-config`
and the Evaluator component write attributions TFMA reads, equal to glassbox.explain's values on the
same rows; the baseline's shift; the Validator's gates on them; determinism; bad input."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tfx.dsl.compiler import compiler
from tfx.dsl.components.common.importer import Importer
from tfx.orchestration import pipeline
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
from tfx.types import channel_utils, standard_artifacts

from glassbox import cli, filesystem
from glassbox.components import Evaluator
from glassbox.engine.pipeline import run_evaluation
from glassbox.explain import shift
from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.shapley import shapley_values
from glassbox.protos import validator_config_pb2
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from glassbox.validation.validate import validate
from tests.support import explain_known_models, explain_models, saved_models
from tests.support.executors import run_executor

NUM_ROWS = 240
EVAL_CONFIG = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "ExampleCount" } metrics { class_name: "AUC" } }
"""
EXPLAIN_CONFIG = """
model_output { signature_name: "serving_features" }
background { size: 10 }
explained_rows { count: 15 }
per_slice: true
seed: 7
methods { shapley {} }
methods { integrated_gradients { steps: 16 } }
methods { permutation_importance { num_repeats: 2 } }
methods { global_surrogate { min_samples_leaf: 5 } }
methods { counterfactual {} }
methods { partial_dependence { grid_size: 5 ice_rows: 3 } }
"""
SLICES = ["Overall"] + [f"city:{city}" for city in sorted(explain_models.CITIES)]


def _examples(num_rows: int, seed: int):
    columns = explain_models.columns(num_rows, num_numeric=2, seed=seed)
    columns["label"] = np.random.default_rng(seed).integers(0, 2, num_rows)
    return [
        saved_models.to_example(dict(zip(columns, row)))
        for row in zip(*(c.tolist() for c in columns.values()))
    ]


def _parse(text, message):
    return text_format.Parse(text, message)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain_evaluation")
    examples = _examples(NUM_ROWS, seed=11)
    shuffled = [examples[i] for i in np.random.default_rng(0).permutation(NUM_ROWS)]
    paths = {
        "model": explain_models.export(
            explain_known_models.linear_model(
                [1.5, -0.5], {"paris": 1.0, "lyon": -1.0}, rooms_slope=0.3
            ),
            str(root / "model" / "Format-Serving"),
        ),
        "baseline": explain_models.export(
            explain_known_models.linear_model([0.2, 2.0], {"nice": 1.5}),
            str(root / "baseline" / "Format-Serving"),
        ),
        "examples": saved_models.write_tfrecords(str(root / "data" / "eval.gz"), examples),
        # The examples shuffled, in three files, with their feature maps in reverse key order.
        "shards": [
            saved_models.write_tfrecords(
                str(root / "shards" / f"part-{i}.gz"),
                [saved_models.serialize_reordered(e) for e in shuffled[i::3]],
                gzip=i != 1,
            )
            for i in range(3)
        ],
        "artifact": saved_models.write_examples_artifact(
            str(root / "artifact"), {"eval": examples}
        ),
        "eval_config": str(root / "eval_config.pbtxt"),
        "explain_config": str(root / "explain_config.pbtxt"),
        "root": str(root),
    }
    (root / "eval_config.pbtxt").write_text(EVAL_CONFIG)
    (root / "explain_config.pbtxt").write_text(EXPLAIN_CONFIG)
    return paths


@pytest.fixture(scope="module")
def evaluated(files):
    """`glassbox evaluate --explain-config` of the candidate alone."""
    output = os.path.join(files["root"], "cli_output")
    code = cli.main(
        [
            "evaluate",
            "--model",
            files["model"],
            "--examples",
            files["examples"],
            "--eval-config",
            files["eval_config"],
            "--explain-config",
            files["explain_config"],
            "--output",
            output,
        ]
    )
    assert code == 0
    return output


def _evaluator(files, explain_config):
    def channel(artifact_type, uri):
        artifact = artifact_type()
        artifact.uri = uri
        if artifact_type is standard_artifacts.Examples:
            artifact.split_names = '["eval"]'
        return channel_utils.as_channel([artifact])

    return Evaluator(
        examples=channel(standard_artifacts.Examples, files["artifact"]),
        model=channel(standard_artifacts.Model, os.path.dirname(files["model"])),
        baseline_model=channel(standard_artifacts.Model, os.path.dirname(files["baseline"])),
        eval_config=_parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        explain_config=explain_config,
    )


@pytest.fixture(scope="module")
def compared(files):
    """The Evaluator component's executor, with a baseline and a k-means background."""
    config = _parse(EXPLAIN_CONFIG, ExplainConfig())
    config.background.sampling = config.background.KMEANS
    outputs = run_executor(_evaluator(files, config), os.path.join(files["root"], "component"))
    return outputs["evaluation"].uri


def _json(evaluation_dir, name):
    with open(os.path.join(evaluation_dir, name)) as f:
        return json.load(f)


def _tfma_attributions(evaluation_dir):
    """{slice string: {(metric, model name): {feature: value}}} as TFMA's loader reads them."""
    result = {}
    for record in tfma.load_attributions(evaluation_dir):
        name = tfma.slicer.stringify_slice_key(tfma.slicer.deserialize_slice_key(record.slice_key))
        result[name] = {
            (entry.key.name, entry.key.model_name): {
                f: v.double_value.value for f, v in entry.values.items()
            }
            for entry in record.attributions_keys_and_values
        }
    return result


def test_tfma_reads_each_slices_mean_absolute_attributions_equal_to_glassbox_explain_on_the_same_rows(
    files, evaluated
):
    attributions = _tfma_attributions(evaluated)
    assert sorted(attributions) == SLICES
    examples = _json(evaluated, "explanations.json")["examples"]
    background = _json(evaluated, "explanation_summary.json")["sample"]["background"]["features"]
    features = ["city", "rooms", "x0", "x1"]
    rows = {name: np.array([e["features"][name] for e in examples]) for name in features}
    model = SavedModelFunction(files["model"], FEATURES_SIGNATURE_NAME)
    direct = shapley_values(
        model,
        {n: rows[n].astype(np.float32) if n[0] == "x" else rows[n] for n in features},
        {n: np.array(background[n], np.float32 if n[0] == "x" else None) for n in features},
    )
    for name in SLICES:
        in_slice = np.array([name in e["slices"] for e in examples])
        assert in_slice.sum() == 15  # every city has more than 15 examples
        if name != "Overall":
            assert {e["features"]["city"] for e, kept in zip(examples, in_slice) if kept} == {
                name.split(":")[1]
            }
        expected = dict(zip(direct.groups, np.abs(direct.values[in_slice]).mean(axis=0)))
        written = attributions[name][("mean_absolute_attributions", "")]
        assert written == pytest.approx(expected, rel=1e-6, abs=1e-9)
        assert sorted(attributions[name]) == [
            ("mean_absolute_attributions", ""),
            ("mean_attributions", ""),
        ]


def test_the_summary_states_each_methods_accuracy_and_the_surrogates_fidelity(evaluated):
    summary = _json(evaluated, "explanation_summary.json")
    assert summary["sample"]["slices"]["Overall"] == {"explained_rows": 15, "examples": NUM_ROWS}
    assert summary["sample"]["background"]["rows"] == 10 and summary["shift"] is None
    candidate = summary["models"]["candidate"]
    assert candidate["primary_method"] == "exact_shapley"
    shapley, gradients = (
        candidate["methods"]["exact_shapley"],
        candidate["methods"]["integrated_gradients"],
    )
    assert shapley["accuracy"]["max_standard_error"] == 0
    # x0 and x1 enter the logit linearly; city and rooms pass lookups and casts (no gradient).
    assert sorted(gradients["accuracy"]["not_attributed"]) == ["city", "rooms"]
    assert gradients["accuracy"]["max_relative_delta"] < 1e-3
    assert sorted(gradients["slices"]["Overall"]["mean_absolute_attribution"]) == ["x0", "x1"]
    importance = candidate["permutation_importance"]
    assert importance["metric"] == "log_loss" and sorted(importance["slices"]) == SLICES
    surrogate = _json(evaluated, "surrogate.json")
    assert sorted(surrogate["fidelity"]) == SLICES and "|---" in surrogate["rules"]
    assert 0 <= surrogate["fidelity"]["Overall"]["agreement"] <= 1


def test_files_batches_their_order_and_the_feature_maps_order_do_not_change_the_explanations(
    files, evaluated, tmp_path
):
    run_evaluation(
        _parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        files["model"],
        files["shards"],
        str(tmp_path),
        explain_config=_parse(EXPLAIN_CONFIG, ExplainConfig()),
    )
    for name in ("explanations.json", "explanation_summary.json", "surrogate.json"):
        assert _json(tmp_path, name) == _json(evaluated, name)
    assert _tfma_attributions(tmp_path) == _tfma_attributions(evaluated)


def test_with_a_baseline_both_models_are_explained_on_the_same_rows_and_their_shift_is_written(
    compared,
):
    attributions = _tfma_attributions(compared)
    summary = _json(compared, "explanation_summary.json")
    for name in SLICES:
        candidate = attributions[name][("mean_absolute_attributions", "candidate")]
        baseline = attributions[name][("mean_absolute_attributions", "baseline")]
        written = summary["shift"]["slices"][name]
        assert written["attribution_shift"] == pytest.approx(
            shift.attribution_shift(candidate, baseline)
        )
        assert written["top_k_overlap"] == shift.top_k_overlap(
            candidate, baseline, shift.DEFAULT_TOP_K
        )
    assert 0.2 < summary["shift"]["slices"]["Overall"]["attribution_shift"] < 1
    background = summary["sample"]["background"]
    # 10 centroids of the 100 examples drawn, weighted by cluster size.
    assert (background["sampling"], background["rows"], sum(background["weights"])) == (
        "KMEANS",
        10,
        100,
    )
    examples = _json(compared, "explanations.json")["examples"]
    assert all(sorted(e["models"]) == ["baseline", "candidate"] for e in examples)
    # What-if (tests/explain/test_what_if.py): each model's counterfactuals and curves.
    assert all(
        e["models"][role]["counterfactual"] is not None
        for e in examples
        for role in ("candidate", "baseline")
    )
    curves = _json(compared, "partial_dependence.json")
    assert sorted(curves["models"]) == ["baseline", "candidate"]
    assert sorted(curves["models"]["baseline"]["features"]) == ["rooms", "x0", "x1"]
    assert "baseline" in _json(compared, "surrogate.json")


def test_the_validator_gates_the_written_attributions(compared):
    overall = _tfma_attributions(compared)["Overall"]
    shares = shift.shares(overall[("mean_absolute_attributions", "candidate")])
    moved = _json(compared, "explanation_summary.json")["shift"]["slices"]["Overall"][
        "attribution_shift"
    ]
    config = _parse(
        f"""
        attribution_gates {{ max_feature_share {{ feature: "x0" max_share: {shares["x0"] + 0.01} }} }}
        attribution_gates {{ max_feature_share {{ feature: "x0" max_share: {shares["x0"] - 0.01} }} }}
        attribution_gates {{ max_shift {{ max_shift: {moved + 0.01} }} }}
        attribution_gates {{ max_shift {{ max_shift: {moved - 0.01} }} }}
        attribution_gates {{ top_k_overlap {{ k: 4 min_overlap: 4 }} }}
        """,
        validator_config_pb2.ValidatorConfig(),
    )
    decision = validate(compared, config)
    checks = [c for c in decision.checks if c.kind == "attribution"]
    assert [c.passed for c in checks] == [True, False, True, False, True]
    assert checks[1].sentence.startswith(
        f"x0's share of the total |attribution| on Overall is {shares['x0']:.6g} ("
    )
    assert checks[3].sentence.startswith(
        f"The attribution shift from the baseline on Overall is {moved:.6g} ("
    )
    assert not decision.blessed


def _pipeline(root):
    importer = Importer(source_uri="/examples", artifact_type=standard_artifacts.Examples).with_id(
        "examples"
    )
    model = Importer(source_uri="/model", artifact_type=standard_artifacts.Model).with_id("model")
    evaluator = Evaluator(
        examples=importer.outputs["result"],
        model=model.outputs["result"],
        eval_config=_parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        explain_config=_parse(EXPLAIN_CONFIG, ExplainConfig()),
    )
    return pipeline.Pipeline(
        pipeline_name="explain", pipeline_root=str(root), components=[importer, model, evaluator]
    )


def test_the_evaluator_with_an_explain_config_compiles_for_local_and_kubeflow_runners(
    files, tmp_path
):
    ir = compiler.Compiler().compile(_pipeline(tmp_path))
    parameters = ir.nodes[-1].pipeline_node.parameters.parameters
    assert json.loads(parameters["explain_config"].field_value.string_value)["seed"] == "7"
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(default_image="glassbox:test"),
        output_dir=str(tmp_path),
        output_filename="pipeline.json",
    )
    runner.run(_pipeline(tmp_path), write_out=True)
    assert "explain_config" in (tmp_path / "pipeline.json").read_text()
    with pytest.raises(ExplanationError, match="'methods' is empty"):
        _evaluator(files, ExplainConfig(seed=1))


def _sequence_model(path: str) -> str:
    """A SavedModel whose only input is a token sequence of shape [None, 5]."""
    tokens = keras.Input(shape=(5,), name="tokens", dtype="int64")
    hidden = keras.layers.Flatten()(keras.layers.Embedding(10, 2)(tokens))
    model = keras.Model({"tokens": tokens}, keras.layers.Dense(1, activation="sigmoid")(hidden))
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default",
        tf.function(
            lambda tokens: {"probabilities": model({"tokens": tokens})},
            input_signature=[tf.TensorSpec([None, 5], tf.int64, name="tokens")],
        ),
    )
    archive.write_out(path, verbose=False)
    return path


def test_a_model_no_method_can_explain_is_refused_naming_its_input_and_nothing_is_written(tmp_path):
    model = _sequence_model(str(tmp_path / "sequence"))
    rng = np.random.default_rng(0)
    examples = saved_models.write_tfrecords(
        str(tmp_path / "tokens.gz"),
        [
            saved_models.to_example(
                {"tokens": rng.integers(0, 10, 5).tolist(), "label": int(rng.integers(0, 2))}
            )
            for _ in range(50)
        ],
    )
    output = tmp_path / "out"
    with pytest.raises(ExplanationError, match=r"input 'tokens' .* has shape \(None, 5\)"):
        run_evaluation(
            _parse(
                'model_specs { label_key: "label" } metrics_specs { metrics { class_name: "AUC" } }',
                config_pb2.EvalConfig(),
            ),
            model,
            [examples],
            str(output),
            explain_config=_parse("methods { shapley {} }", ExplainConfig()),
        )
    assert not [f for f in os.listdir(output) if not f.startswith(".")]


@pytest.mark.parametrize(
    "config, culprit",
    [
        ("", "'methods' is empty"),
        ("methods { shapley {} } methods { shapley {} }", "'methods[1]' repeats shapley"),
        ("methods { permutation_importance { metric: 'f1' } }", "'f1'"),
        ("methods { shapley {} ", "explain_config.pbtxt"),
        ("features: 'no_such_feature' methods { shapley {} }", "no_such_feature"),
    ],
)
def test_bad_explain_configs_are_refused_naming_the_culprit_and_nothing_is_written(
    files, tmp_path, capsys, config, culprit
):
    path = tmp_path / "explain_config.pbtxt"
    path.write_text('model_output { signature_name: "serving_features" } ' + config)
    output = tmp_path / "out"
    code = cli.main(
        [
            "evaluate",
            "--model",
            files["model"],
            "--examples",
            files["examples"],
            "--eval-config",
            files["eval_config"],
            "--explain-config",
            str(path),
            "--output",
            str(output),
        ]
    )
    assert code == cli.EXIT_ERROR
    assert culprit in capsys.readouterr().err
    assert not [f for f in (os.listdir(output) if output.exists() else []) if not f.startswith(".")]


def test_a_full_disk_writing_the_attributions_exits_2_naming_the_output_leaving_nothing(
    files, tmp_path, capsys, monkeypatch
):
    # TFMA's attributions file goes to /dev/full, whose writes fail with ENOSPC (No space left on
    # device) as on a full disk, from inside the Beam pipeline.
    output, open_binary = tmp_path / "out", filesystem.open_binary
    monkeypatch.setattr(
        filesystem,
        "open_binary",
        lambda path, mode="rb": open_binary(
            "/dev/full" if os.path.basename(path).startswith("attributions-") else path, mode
        ),
    )
    argv = ["evaluate", "--model", files["model"], "--examples", files["examples"]]
    argv += ["--eval-config", files["eval_config"], "--explain-config", files["explain_config"]]
    assert cli.main([*argv, "--output", str(output)]) == cli.EXIT_ERROR
    error = capsys.readouterr().err
    assert f"cannot write into the output directory '{output}'" in error
    assert "No space left on device" in error and "Traceback" not in error
    assert os.listdir(output) == []  # no staging dir, no file, no eval_config.json


@pytest.mark.slow
def test_multi_process_beam_writes_the_same_explanations(files, evaluated, tmp_path):
    run_evaluation(
        _parse(EVAL_CONFIG, config_pb2.EvalConfig()),
        files["model"],
        files["shards"],
        str(tmp_path),
        beam_pipeline_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
        explain_config=_parse(EXPLAIN_CONFIG, ExplainConfig()),
    )
    for name in ("explanations.json", "explanation_summary.json", "surrogate.json"):
        assert _json(tmp_path, name) == _json(evaluated, name)
    assert _tfma_attributions(tmp_path) == _tfma_attributions(evaluated)
