"""The evaluation's one Beam pipeline: its branches write into the output directory together, or
nothing is written; a new kind of output is one more branch."""

import json
import os
import socket
import subprocess
import time

import apache_beam as beam
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox import filesystem, keys, staging
from glassbox.engine import branches
from glassbox.engine.branches import EvaluationInputs
from glassbox.engine.pipeline import run_branches, run_evaluation
from glassbox.errors import ConfigError, GlassboxError, OutputError
from glassbox.evaluation import beam as evaluation_beam
from glassbox.evaluation import slice_table, writer
from glassbox.evaluation.config import prepare_eval_config
from glassbox.evaluation.errors import ExamplesLostError
from tests.support import saved_models
from tests.support.killed_child import BLOCKED, kill_when_blocked

N = 64
EVAL_CONFIG = (
    'model_specs { label_key: "label" } metrics_specs { metrics { class_name: "ExampleCount" } }'
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    eval_config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    return EvaluationInputs(
        eval_config=prepare_eval_config(eval_config, has_baseline=False),
        model_dirs={"": saved_models.export_model(str(root / "model"))},
        example_files=[
            saved_models.write_tfrecords(str(root / "eval.gz"), saved_models.make_examples(N))
        ],
    )


def _row_count(directory: str):
    """A branch writing count.json (the number of example files' records) into directory."""

    def write(count):
        with open(os.path.join(directory, "count.json"), "w") as f:
            json.dump({"records": count}, f)

    return beam.Create([N]) | beam.Map(write)


def _failing(inputs, directory):
    def fail(_):
        raise GlassboxError("the sketch branch failed")

    return beam.Create([0]) | beam.Map(fail)


def test_another_branch_is_one_more_entry_and_writes_beside_the_metrics(inputs, tmp_path):
    run_branches(
        {"Metrics": branches.metrics, "Count": lambda inputs, directory: _row_count(directory)},
        inputs,
        str(tmp_path),
    )
    assert json.load(open(tmp_path / "count.json")) == {"records": N}
    assert writer.overall_scalar_metrics(str(tmp_path))["example_count"] == N
    assert not [f for f in os.listdir(tmp_path) if f.startswith(keys.INCOMPLETE_PREFIX)]


def test_a_failing_branch_leaves_nothing_behind(inputs, tmp_path):
    with pytest.raises(GlassboxError, match="the sketch branch failed"):
        run_branches({"Metrics": branches.metrics, "Sketch": _failing}, inputs, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_an_evaluation_is_never_written_over(inputs, tmp_path):
    run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(tmp_path))
    written = sorted(os.listdir(tmp_path))
    assert keys.EVAL_CONFIG_FILE in written
    with pytest.raises(ConfigError, match="already holds an evaluation"):
        run_evaluation(
            inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(tmp_path)
        )
    assert sorted(os.listdir(tmp_path)) == written


def test_every_record_read_is_reconciled_with_the_examples_evaluated(inputs, tmp_path):
    run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(tmp_path))
    assert json.load(open(tmp_path / keys.EXAMPLES_READ_FILE)) == {
        "examples_evaluated": N,
        "records_read": N,
    }


def _patch_accumulation(monkeypatch, elements):
    """A runner that loses what the accumulation emits: elements(batch number, its elements).

    (With a budget of nothing, each batch's sums leave the bundle's table as the batch is done.)"""
    monkeypatch.setattr(slice_table, "BUDGET_BYTES", 0)
    monkeypatch.setattr(slice_table, "BATCHES_PER_COUNT", 1)
    process = evaluation_beam._AccumulateSlices.process
    seen = []

    def patched(self, batch):
        seen.append(batch)
        return elements(len(seen), list(process(self, batch)))

    monkeypatch.setattr(evaluation_beam._AccumulateSlices, "process", patched)


def test_examples_lost_by_the_runner_fail_the_evaluation_and_write_nothing(
    inputs, tmp_path, monkeypatch
):
    files = [*inputs.example_files, inputs.example_files[0]]  # a Batch per file at least
    _patch_accumulation(monkeypatch, lambda number, elements: [] if number == 1 else elements)
    with pytest.raises(
        ExamplesLostError, match=f"{2 * N} records were read .*, {N} examples reached the metrics"
    ):
        run_evaluation(inputs.eval_config, inputs.model_dirs[""], files, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_counts_the_runner_never_delivered_fail_the_evaluation(inputs, tmp_path, monkeypatch):
    """As on Beam's DaskRunner, which drops what DoFns emit in finish_bundle: no count at all."""
    monkeypatch.setattr(evaluation_beam._AccumulateSlices, "finish_bundle", lambda self: iter(()))
    with pytest.raises(ExamplesLostError, match="an unknown number of examples reached"):
        run_evaluation(
            inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(tmp_path)
        )
    assert os.listdir(tmp_path) == []


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_killed_runs_leftovers_are_removed_and_its_directory_written_again(inputs, tmp_path):
    """A run killed during its renames left a staging directory (with a stale decision.json) and
    some files but no eval_config.json: the next run removes the dead run's staging directory,
    not a live run's, and writes the whole evaluation over the files left."""
    complete = tmp_path / "complete"
    run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(complete))
    output = tmp_path / "output"
    host = socket.gethostname()
    dead = output / f"{keys.INCOMPLETE_PREFIX}{host}-{_dead_pid()}-0123"
    live = output / f"{keys.INCOMPLETE_PREFIX}{host}-{os.getppid()}-4567"
    for left in (dead, live):
        left.mkdir(parents=True)
        (left / keys.DECISION_JSON_FILE).write_text('{"blessed": true}')
    (metrics,) = [name for name in os.listdir(complete) if name.startswith("metrics")]
    (output / metrics).write_bytes((complete / metrics).read_bytes()[:10])  # cut short

    run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(output))
    assert not dead.exists() and live.exists()
    assert writer.overall_scalar_metrics(str(output))["example_count"] == N
    written = {name for name in os.listdir(output) if not name.startswith(".")}
    assert written == {name for name in os.listdir(complete) if not name.startswith(".")}


def test_an_output_path_that_is_a_file_is_an_output_error_naming_it(inputs, tmp_path):
    output = tmp_path / "evaluation"
    output.write_text("not a directory")
    for path in (output, output / "below"):
        with pytest.raises(OutputError, match=f"output directory '{path}': .*[Nn]ot a directory"):
            run_evaluation(
                inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(path)
            )
    assert output.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_output_directory_is_an_output_error_naming_it(inputs, tmp_path):
    output = tmp_path / "read-only"
    output.mkdir()
    output.chmod(0o555)
    with pytest.raises(OutputError, match=f"output directory '{output}': .*[Pp]ermission"):
        run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(output))
    assert os.listdir(output) == []


# Where a run is killed: before its first rename out of staging, after it, and with every file in
# place but eval_config.json (its temporary file written, not yet renamed).
KILL_STAGES = ("before-renames", "mid-renames", "before-eval-config")


def _run_killed_at(stage, output, model_dir, example_file):
    """In a child process: runs an evaluation into output that blocks at stage, saying so on stdout."""
    rename = filesystem.rename

    def rename_blocking(source, target):
        last = os.path.basename(target) == keys.EVAL_CONFIG_FILE
        if stage == "before-renames" or (stage == "before-eval-config" and last):
            print(BLOCKED, flush=True)
            time.sleep(3600)
        rename(source, target)
        if stage == "mid-renames":
            print(BLOCKED, flush=True)
            time.sleep(3600)

    filesystem.rename = rename_blocking
    eval_config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    run_evaluation(eval_config, model_dir, [example_file], output)


@pytest.mark.slow
@pytest.mark.parametrize("stage", KILL_STAGES)
def test_a_run_killed_at_each_stage_of_writing_leaves_no_evaluation_and_the_next_run_repairs_it(
    inputs, tmp_path, stage
):
    output = tmp_path / "output"
    kill_when_blocked(
        "tests.engine.test_pipeline",
        "_run_killed_at",
        stage,
        str(output),
        inputs.model_dirs[""],
        inputs.example_files[0],
    )
    left = os.listdir(output)
    assert keys.EVAL_CONFIG_FILE not in left  # nothing that looks complete
    assert [n for n in left if n.startswith(keys.INCOMPLETE_PREFIX)]  # staged, or eval_config's

    eval_config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    run_evaluation(eval_config, inputs.model_dirs[""], inputs.example_files, str(output))
    assert writer.overall_scalar_metrics(str(output))["example_count"] == N
    assert not [n for n in os.listdir(output) if n.startswith(keys.INCOMPLETE_PREFIX)]


def test_of_two_runs_into_one_directory_one_writes_and_the_other_is_refused(inputs, tmp_path):
    """A run holding the directory (here: this test's parent process, alive) keeps it; a claim
    left by a killed run is taken over."""
    output = tmp_path / "output"
    output.mkdir()
    claim = output / staging.CLAIM_FILE
    holder = f"{socket.gethostname()}-{os.getppid()}"
    claim.write_text(holder)
    with pytest.raises(OutputError, match=f"another run .{holder}. is writing into '{output}'"):
        run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(output))
    assert os.listdir(output) == [staging.CLAIM_FILE]

    claim.write_text(f"{socket.gethostname()}-{_dead_pid()}")
    run_evaluation(inputs.eval_config, inputs.model_dirs[""], inputs.example_files, str(output))
    assert keys.EVAL_CONFIG_FILE in os.listdir(output) and not claim.exists()
