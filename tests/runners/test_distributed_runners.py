"""`glassbox evaluate` of a candidate against a baseline, with explanations, on Beam's distributed
runners: Flink (a session cluster of separate JobManager and TaskManager processes, parallelism
2), Spark (a standalone master and worker) and Beam's portable runner with an external SDK worker
pool. Each run's metrics, plots, attributions and explanation files equal the default runner's
(FnApiRunner), value by value.

Every test starts its services and stops them (tests/support/runner_services.py), each bounded in
time. The Java side comes from scripts/fetch-runner-jars; Spark from the `runners` dependency
group. Wall times (services ready, the evaluation as a process) are printed at the end of the run.
"""

import os
import sys
import time

import numpy as np
import pytest

from tests.support import explain_known_models, explain_models, saved_models
from tests.support.evaluation_dirs import evaluation_values
from tests.support.runner_services import (
    LOOPBACK,
    Services,
    external_worker_pool,
    flink_session_cluster,
    launcher_jar,
    local_job_service,
    python_env,
    rest_json,
    runner_jars,
    spark_jars,
    spark_standalone_cluster,
)
from tests.support.tfma_reference import assert_equivalent

pytestmark = [pytest.mark.slow, pytest.mark.integration]

NUM_ROWS = 600
NUM_FILES = 4
EVAL_CONFIG = """
model_specs { name: "candidate" label_key: "label" example_weight_key: "weight" }
model_specs { name: "baseline" label_key: "label" example_weight_key: "weight" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics { class_name: "AUC" }
  metrics { class_name: "BinaryAccuracy" }
  metrics { class_name: "MeanPrediction" }
  metrics { class_name: "CalibrationPlot" }
  metrics { class_name: "ConfusionMatrixPlot" }
}
"""
# Draws merged across workers: explained rows per slice, a background stratified by label.
EXPLAIN_CONFIG = """
model_output { signature_name: "serving_features" }
background { size: 8 sampling: STRATIFIED_BY_LABEL label_key: "label" }
explained_rows { count: 12 }
per_slice: true
seed: 11
methods { shapley { algorithm: EXACT } }
methods { permutation_importance { label_key: "label" num_repeats: 2 } }
methods { global_surrogate { max_depth: 3 min_samples_leaf: 5 } }
"""
# Doubles summed in another order differ in their last bits; a float32 score may round by an ulp
# in a batch of another size. Anything else is a difference.
RTOL = 2e-7
EVALUATION_TIMEOUT = 600  # seconds for one `glassbox evaluate`, on a loaded machine


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Examples in several files (so that workers share them), a candidate, a baseline, configs."""
    root = tmp_path_factory.mktemp("runner_case")
    columns = explain_models.columns(NUM_ROWS, num_numeric=2, seed=3)
    rng = np.random.default_rng(3)
    columns["label"] = rng.integers(0, 2, NUM_ROWS)
    columns["weight"] = rng.uniform(0.5, 2.0, NUM_ROWS).astype(np.float32)
    examples = [
        saved_models.to_example(dict(zip(columns, row)))
        for row in zip(*(c.tolist() for c in columns.values()))
    ]
    for i in range(NUM_FILES):
        saved_models.write_tfrecords(str(root / "data" / f"part-{i}.gz"), examples[i::NUM_FILES])
    (root / "eval_config.pbtxt").write_text(EVAL_CONFIG)
    (root / "explain_config.pbtxt").write_text(EXPLAIN_CONFIG)
    return {
        "--model": explain_models.export(
            explain_known_models.linear_model(
                [1.5, -0.5], {"paris": 1.0, "lyon": -1.0}, rooms_slope=0.3
            ),
            str(root / "candidate"),
        ),
        "--baseline": explain_models.export(
            explain_known_models.linear_model([0.2, 2.0], {"nice": 1.5}), str(root / "baseline")
        ),
        "--examples": str(root / "data" / "part-*.gz"),
        "--eval-config": str(root / "eval_config.pbtxt"),
        "--explain-config": str(root / "explain_config.pbtxt"),
    }


def _evaluate(services, case, output, beam_args, env=None):
    """Runs `glassbox evaluate` as a process (in the services' care, so that a job server it
    starts is stopped with them); returns its wall time."""
    glassbox = os.path.join(os.path.dirname(sys.executable), "glassbox")
    arguments = [item for pair in case.items() for item in pair]
    start = time.monotonic()
    process = services.start(
        f"glassbox-evaluate-{os.path.basename(output)}",
        [glassbox, "evaluate", *arguments, "--output", output]
        + ["--beam-pipeline-args", " ".join(beam_args)],
        {**python_env(), **(env or {})},
    )
    code = process.popen.wait(EVALUATION_TIMEOUT)
    wall = time.monotonic() - start
    assert code == 0, f"glassbox evaluate exited {code}; its log ends:\n{process.log_tail(60)}"
    return wall


@pytest.fixture(scope="module")
def reference(case, tmp_path_factory):
    """The default runner's evaluation (FnApiRunner: no --runner)."""
    root = tmp_path_factory.mktemp("default_runner")
    with Services(str(root / "logs")) as services:
        wall = _evaluate(services, case, str(root / "evaluation"), [])
    return {"values": evaluation_values(str(root / "evaluation")), "wall": wall}


def _check_same_as_reference(output, reference, record_property, runner, services_ready, wall):
    """The evaluation in output equals the default runner's; records the wall times."""
    record_property(
        "runner_wall_times",
        {
            "runner": runner,
            "services_ready_s": round(services_ready, 1),
            "evaluate_s": round(wall, 1),
            "default_runner_evaluate_s": round(reference["wall"], 1),
        },
    )
    actual = evaluation_values(output)
    assert sorted(actual["metrics"]) == ["Overall"] + [
        f"city:{c}" for c in sorted(explain_models.CITIES)
    ]
    assert actual["plots"] and actual["attributions"]
    assert_equivalent(reference["values"], actual, RTOL, runner)


# Keep each executor's or TaskManager's SDK worker for the whole job: without it, Flink and Spark
# start one (a Python process importing TensorFlow) for each stage and stop it after.
CACHE_SDK_WORKERS = "--environment_cache_millis=600000"


@pytest.mark.timeout(900)
def test_flink_session_cluster_gives_the_default_runners_evaluation(
    case, reference, tmp_path, record_property
):
    jars = runner_jars("flink")
    job_server = launcher_jar(
        str(tmp_path / "flink-job-server.jar"),
        "org.apache.beam.runners.flink.FlinkJobServerDriver",
        jars,
    )
    output = str(tmp_path / "evaluation")
    with Services(str(tmp_path / "logs")) as services:
        pool = external_worker_pool(services)
        flink_master = flink_session_cluster(
            services, str(tmp_path / "flink"), jars, taskmanagers=2, slots=1
        )
        ready = services.wait_ready()
        runner_args = [
            "--runner=FlinkRunner",
            f"--flink_master={flink_master}",
            "--flink_version=1.19",
            f"--flink_job_server_jar={job_server}",
            "--parallelism=2",
            CACHE_SDK_WORKERS,
        ]
        wall = _evaluate(services, case, output, runner_args + pool)
        jobs = rest_json(f"http://{flink_master}/jobs/overview")["jobs"]
        assert [job["state"] for job in jobs] == ["FINISHED"]
        job = rest_json(f"http://{flink_master}/jobs/{jobs[0]['jid']}")
    # Ran on the session cluster, its operators spread over both TaskManagers' single slots.
    assert max(vertex["parallelism"] for vertex in job["vertices"]) == 2
    _check_same_as_reference(output, reference, record_property, "FlinkRunner", ready, wall)


@pytest.mark.timeout(900)
def test_spark_standalone_cluster_gives_the_default_runners_evaluation(
    case, reference, tmp_path, record_property
):
    # Beam's Spark job server, with Spark on its classpath: pyspark's jars, as the cluster's.
    job_server = launcher_jar(
        str(tmp_path / "spark-job-server.jar"),
        "org.apache.beam.runners.spark.SparkJobServerDriver",
        runner_jars("spark") + spark_jars(),
    )
    output = str(tmp_path / "evaluation")
    with Services(str(tmp_path / "logs")) as services:
        pool = external_worker_pool(services)
        spark = spark_standalone_cluster(services, str(tmp_path / "spark"), cores=2)
        ready = services.wait_ready()
        runner_args = [
            "--runner=SparkRunner",
            f"--spark_master_url={spark.master_url}",
            f"--spark_job_server_jar={job_server}",
            CACHE_SDK_WORKERS,
        ]
        # The job server hosts the Spark driver: keep it on the loopback interface too.
        wall = _evaluate(services, case, output, runner_args + pool, {"SPARK_LOCAL_IP": LOOPBACK})
        apps = rest_json(spark.status_url)["completedapps"]
    assert [app["state"] for app in apps] == ["FINISHED"]
    _check_same_as_reference(output, reference, record_property, "SparkRunner", ready, wall)


@pytest.mark.timeout(600)
def test_portable_runner_with_an_external_worker_pool_gives_the_default_runners_evaluation(
    case, reference, tmp_path, record_property
):
    output = str(tmp_path / "evaluation")
    with Services(str(tmp_path / "logs")) as services:
        job_endpoint = local_job_service(services)
        pool = external_worker_pool(services)
        ready = services.wait_ready()
        runner_args = ["--runner=PortableRunner", f"--job_endpoint={job_endpoint}"]
        wall = _evaluate(services, case, output, runner_args + pool)
    _check_same_as_reference(output, reference, record_property, "PortableRunner", ready, wall)
