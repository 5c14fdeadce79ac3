"""The Beam runner when the user names none: never Beam's Prism download; a named runner is kept."""

import os

import pytest
from apache_beam.runners.portability import prism_runner
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox.beam_runner import DEFAULT_RUNNER, with_default_runner
from glassbox.engine.pipeline import run_evaluation
from tests.support import saved_models


@pytest.mark.parametrize(
    "args, expected",
    [
        ([], [f"--runner={DEFAULT_RUNNER}"]),
        (
            ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
            [
                "--direct_num_workers=2",
                "--direct_running_mode=multi_processing",
                f"--runner={DEFAULT_RUNNER}",
            ],
        ),
        (["--runner=DataflowRunner", "--project=p"], ["--runner=DataflowRunner", "--project=p"]),
        (["--runner", "DirectRunner"], ["--runner", "DirectRunner"]),
    ],
)
def test_the_default_runner_is_added_only_when_no_runner_is_named(args, expected):
    assert with_default_runner(tuple(args)) == expected


def test_an_evaluation_without_beam_args_never_starts_prism(tmp_path, monkeypatch):
    prism_runs = []
    monkeypatch.setattr(
        prism_runner.PrismRunner,
        "run_pipeline",
        lambda self, pipeline, options: prism_runs.append(options),
    )
    model = saved_models.export_model(str(tmp_path / "model"))
    examples = saved_models.write_tfrecords(
        str(tmp_path / "eval.gz"), saved_models.make_examples(100)
    )
    eval_config = text_format.Parse(
        'model_specs { label_key: "label" } '
        'metrics_specs { metrics { class_name: "ExampleCount" } }',
        config_pb2.EvalConfig(),
    )

    _, overall = run_evaluation(eval_config, model, [examples], str(tmp_path / "out"))

    assert prism_runs == []
    assert overall["example_count"] == 100
    assert os.path.exists(tmp_path / "out" / "eval_config.json")
