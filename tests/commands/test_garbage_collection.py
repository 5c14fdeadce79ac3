"""What glassbox's processes do with the cyclic garbage collector (glassbox.garbage_collection),
each in a fresh interpreter: no full collection while TensorFlow loads, none of the objects alive at
exit, and what is made afterwards collected as usual; exit codes, messages and atexit handlers
kept."""

import json
import os
import subprocess
import sys

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from glassbox import keys
from tests.support import saved_models

# Registered before glassbox's own handler, so it runs after it (atexit runs last-in first-out).
REPORT = (
    "import atexit, gc\n"
    "atexit.register(lambda: print('objects frozen at exit:', gc.get_freeze_count() > 0))\n"
)


def _process(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", REPORT + code], capture_output=True, text=True, timeout=120
    )


def test_a_failing_command_exits_with_its_code_and_message_its_objects_left_uncollected(tmp_path):
    missing = tmp_path / "missing"
    done = _process(
        "import sys\nfrom glassbox import cli\n"
        f"sys.exit(cli.main(['report', '--evaluation', {str(missing)!r}, "
        f"'--output', {str(tmp_path / 'report')!r}]))\n"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("glassbox report: error:") and str(missing) in done.stderr
    assert done.stdout.strip() == "objects frozen at exit: True"


@pytest.mark.parametrize("module", ["glassbox.kfp.tfx_entrypoint", "glassbox.kfp.steps"])
def test_kfp_task_processes_leave_their_objects_uncollected_at_exit(module):
    done = _process(f"import {module}\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("objects frozen at exit: True")


def test_a_process_that_only_imports_glassbox_collects_as_usual():
    done = _process("import glassbox.engine.evaluate\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("objects frozen at exit: False")


def test_tensorflow_loads_without_full_collections_and_later_garbage_is_collected():
    done = _process(
        "import gc\n"
        "from glassbox.garbage_collection import imports_uncollected\n"
        "full = []\n"
        "gc.callbacks.append(lambda phase, info: full.append(phase) if info['generation'] == 2 else None)\n"
        "with imports_uncollected():\n"
        "    import tensorflow\n"
        "print('full collections while importing:', len(full))\n"
        "cycle = []\n"
        "cycle.append(cycle)\n"
        "del cycle\n"
        "print('collector enabled:', gc.isenabled(), 'collected:', gc.collect() >= 1)\n"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "full collections while importing: 0"
    assert lines[1] == "collector enabled: True collected: True"


# Runs glassbox.kfp.tfx_entrypoint as `python -m` does, the full collections counted (the one at
# exit aside, which the test above covers).
_TFX_TASK = (
    "import gc, runpy, sys\n"
    "full = []\n"
    "def count(phase, info):\n"
    "    if phase == 'start' and info['generation'] == 2:\n"
    "        full.append(info)\n"
    "gc.callbacks.append(count)\n"
    "atexit.register(lambda: print('full collections:', len(full)))\n"
    "sys.argv[0] = 'tfx_entrypoint'\n"
    "runpy.run_module('glassbox.kfp.tfx_entrypoint', run_name='__main__', alter_sys=True)\n"
)


def _artifact(executor_input, key, type_title, uri, output=False, **metadata):
    artifacts = (executor_input.outputs if output else executor_input.inputs).artifacts
    artifact = artifacts[key].artifacts.add(uri=uri, name="" if output else uri)
    artifact.type.schema_title = type_title
    for field, value in metadata.items():
        artifact.metadata.fields[field].string_value = value


def _run_tfx_task(executor: str, executor_input, task_root) -> subprocess.CompletedProcess:
    """The TFX component's task as its KFP container runs it (pipelines/kubeflow_runner's command):
    the entrypoint with the executor's class, the ExecutorInput and the inputs' spec (here its
    string parameters); returns the process."""
    executor_input.outputs.output_file = str(task_root / "executor_output.json")
    inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
    for key in executor_input.inputs.parameter_values:
        inputs_spec.parameters[key].parameter_type = pipeline_spec_pb2.ParameterType.STRING
    os.makedirs(task_root)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            REPORT + _TFX_TASK,
            "--executor_class_path",
            f"glassbox.components.{executor}.executor.Executor",
            "--json_serialized_invocation_args",
            json_format.MessageToJson(executor_input),
            "--json_serialized_inputs_spec_args",
            json_format.MessageToJson(inputs_spec),
        ],
        cwd=task_root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _executor_output(executor_input):
    with open(executor_input.outputs.output_file) as f:
        return json.load(f)


def test_the_kfp_tfx_tasks_run_without_full_collections_and_write_their_outputs(tmp_path):
    """The Evaluator's and the Validator's KFP tasks load TensorFlow, TFX, Beam and TFMA (the
    Evaluator's executor module: tf_keras and TFMA's metrics) and run without a full collection,
    and exit 0 with their executor outputs: the Evaluator's evaluation, the Validator's blessing
    of it."""
    model = str(tmp_path / "model")
    saved_models.export_model(os.path.join(model, "Format-Serving"))
    examples = saved_models.write_examples_artifact(
        str(tmp_path / "examples"), {"eval": saved_models.make_examples(200)}
    )
    evaluation = str(tmp_path / "evaluator" / keys.EVALUATION_KEY)
    eval_config = {
        "model_specs": [{"label_key": "label"}],
        "metrics_specs": [{"metrics": [{"class_name": "ExampleCount"}]}],
    }

    task = pipeline_spec_pb2.ExecutorInput()
    task.inputs.parameter_values[keys.EVAL_CONFIG_KEY].string_value = json.dumps(eval_config)
    _artifact(task, keys.EXAMPLES_KEY, "tfx.Examples", examples, split_names='["eval"]')
    _artifact(task, keys.MODEL_KEY, "tfx.Model", model)
    _artifact(task, keys.EVALUATION_KEY, "tfx.ModelEvaluation", evaluation, output=True)
    for key, title in ((keys.BLESSING_KEY, "tfx.ModelBlessing"), (keys.REPORT_KEY, "system.HTML")):
        _artifact(task, key, title, str(tmp_path / "evaluator" / key), output=True)
    done = _run_tfx_task("evaluator", task, tmp_path / "evaluator")
    assert done.returncode == 0, done.stderr[-5000:]
    assert done.stdout.splitlines()[-2:] == ["full collections: 0", "objects frozen at exit: True"]
    assert os.path.isfile(os.path.join(evaluation, "eval_config.json"))
    assert keys.EVALUATION_KEY in _executor_output(task)["artifacts"]

    task = pipeline_spec_pb2.ExecutorInput()
    task.inputs.parameter_values[keys.VALIDATOR_CONFIG_KEY].string_value = json.dumps(
        {"allow_no_thresholds": True, "no_applicable_checks": "RUBBER_STAMP"}
    )
    _artifact(task, keys.EVALUATION_KEY, "tfx.ModelEvaluation", evaluation)
    _artifact(task, keys.MODEL_KEY, "tfx.Model", model)
    for key, title in (
        (keys.BLESSING_KEY, "tfx.ModelBlessing"),
        (keys.VALIDATION_KEY, keys.VALIDATION_RESULT_TYPE),
        (keys.REPORT_KEY, "system.HTML"),
    ):
        _artifact(task, key, title, str(tmp_path / "validator" / key), output=True)
    done = _run_tfx_task("validator", task, tmp_path / "validator")
    assert done.returncode == 0, done.stderr[-5000:]
    assert done.stdout.splitlines()[-2:] == ["full collections: 0", "objects frozen at exit: True"]
    [blessing] = _executor_output(task)["artifacts"][keys.BLESSING_KEY]["artifacts"]
    assert blessing["metadata"]["blessed"] == 1
