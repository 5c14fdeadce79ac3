"""Memory and time per slice: whole-process peak RSS and CPU of `glassbox evaluate` as the number
of slices grows.

    uv run python -m benchmarks.slice_scaling --slices 1500               # 1M examples
    uv run python -m benchmarks.slice_scaling --slices 1500 100000 --glassbox-path OTHER_CHECKOUT

On evaluator_vs_tfma's synthetic binary data, model and metrics (9 of TFMA's default binary
metrics, weighted), with one user-id-like feature per --slices value (N user ids, uniform, so
about N slices of examples / N examples each), it runs `glassbox evaluate` sliced overall, by
segment (10) and by that feature, in a fresh process each, and prints its wall and CPU seconds
(user + system, all threads) and peak RSS. --glassbox-path runs another checkout's glassbox on
the same data (e.g. the code before a change), by putting it first on the child's PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

from benchmarks import synthetic
from benchmarks.evaluator_vs_tfma import eval_config, timed_process

PREPARED_FILE = "prepared.json"


def _user_key(num_users: int) -> str:
    return f"user_{num_users}"


def _config_file(workdir: str, num_users: int) -> str:
    return os.path.join(workdir, f"eval_config_{num_users}.pbtxt")


def _output(workdir: str, num_users: int) -> str:
    return os.path.join(workdir, f"evaluation_{num_users}")


def prepare(workdir: str, num_examples: int, slices: List[int]) -> None:
    """Writes the examples (with a user feature per slice count), the model and an EvalConfig per
    slice count (overall, segment, the user feature) under workdir."""
    from google.protobuf import text_format
    from tensorflow_model_analysis.proto import config_pb2

    dataset = synthetic.synthetic(synthetic.BINARY, num_examples)
    for seed, num_users in enumerate(slices):
        dataset = synthetic.with_users(dataset, num_users, seed=seed, key=_user_key(num_users))
        config = eval_config(4096)
        config.slicing_specs.append(config_pb2.SlicingSpec(feature_keys=[_user_key(num_users)]))
        with open(_config_file(workdir, num_users), "w") as f:
            f.write(text_format.MessageToString(config))
    synthetic.write_tfrecords(
        dataset, os.path.join(workdir, "examples"), num_shards=max(1, num_examples // 250_000)
    )
    synthetic.train_and_export(dataset, os.path.join(workdir, "model"))
    with open(os.path.join(workdir, PREPARED_FILE), "w") as f:
        json.dump({"examples": num_examples, "slices": slices}, f)


def _prepared(workdir: str) -> Optional[dict]:
    try:
        with open(os.path.join(workdir, PREPARED_FILE)) as f:
            return json.load(f)
    except OSError:
        return None


def count_slices(output: str) -> int:
    """How many slices an evaluation wrote metrics for."""
    from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as writer

    return sum(1 for _ in writer.load_and_deserialize_metrics(output))


def _child(phase: str, *arguments: str) -> str:
    """Runs a phase of this module in a child (the parent imports neither TensorFlow nor TFMA,
    so that a timed child's peak RSS is its own): its last line of output."""
    command = [sys.executable, "-m", "benchmarks.slice_scaling", "--phase", phase, *arguments]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def evaluate(workdir: str, num_users: int, glassbox_path: Optional[str]) -> dict:
    """`glassbox evaluate` of the EvalConfig slicing by the feature of num_users ids."""
    output = _output(workdir, num_users)
    shutil.rmtree(output, ignore_errors=True)
    env_path = os.environ.get("PYTHONPATH")
    if glassbox_path:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [glassbox_path, env_path]))
    command = [sys.executable, "-m", "glassbox.cli", "evaluate"]
    command += ["--model", os.path.join(workdir, "model")]
    command += ["--examples", os.path.join(workdir, "examples")]
    command += ["--eval-config", _config_file(workdir, num_users), "--output", output]
    try:
        timed = timed_process(command)
    finally:
        if glassbox_path:
            os.environ.pop("PYTHONPATH")
            if env_path:
                os.environ["PYTHONPATH"] = env_path
    timed.pop("stdout")
    timed["slices"] = int(_child("count", output).splitlines()[-1])
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--slices", type=int, nargs="+", default=[1500], help="user ids per run")
    parser.add_argument("--workdir", help="data, model and outputs (default: a new temp dir)")
    parser.add_argument("--glassbox-path", help="a checkout whose glassbox to run instead")
    parser.add_argument("--phase", choices=("prepare", "count"), help=argparse.SUPPRESS)
    parser.add_argument("output", nargs="?", help=argparse.SUPPRESS)  # --phase count's
    args = parser.parse_args()
    if args.phase == "prepare":
        prepare(args.workdir, args.examples, args.slices)
        return
    if args.phase == "count":
        print(count_slices(args.output))
        return
    workdir = args.workdir or tempfile.mkdtemp(prefix="glassbox-slices-")
    prepared = _prepared(workdir)
    if (
        not prepared
        or prepared["examples"] != args.examples
        or not set(args.slices) <= set(prepared["slices"])
    ):
        print(f"preparing {args.examples:,} examples and a model in {workdir}", flush=True)
        _child(
            "prepare",
            *("--workdir", workdir, "--examples", str(args.examples), "--slices"),
            *map(str, args.slices),
        )
    print(f"{'user ids':>9} {'slices':>8} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    for num_users in args.slices:
        r = evaluate(workdir, num_users, args.glassbox_path)
        print(
            f"{num_users:>9,} {r['slices']:>8,} {r['process_seconds']:>8.1f} "
            f"{r['process_cpu_seconds']:>8.1f} {r['peak_rss_mib']:>13.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
