"""Memory and time per slice: whole-process peak RSS and CPU of `glassbox evaluate` as the number
of slices, and of examples, grows.

    uv run python -m benchmarks.slice_scaling --slices 1500               # 1M examples
    uv run python -m benchmarks.slice_scaling --slices 1500 100000 --glassbox-path OTHER_CHECKOUT
    uv run python -m benchmarks.slice_scaling --examples 1000000 10000000 --slices 10000 \\
        --cross region --workdir /tmp/slices-10m                         # the first 1M, then 10M
    uv run python -m benchmarks.slice_scaling --slices 10 --confidence-intervals

On evaluator_vs_tfma's synthetic binary data, model and metrics (9 of TFMA's default binary
metrics, weighted), with one user-id-like feature per --slices value (N user ids, uniform, so
about N slices of examples / N examples each), it runs `glassbox evaluate` sliced overall, by
segment (10) and by that feature, in a fresh process each, and prints its wall and CPU seconds
(user + system, all threads) and peak RSS. --cross K adds the cross of the user feature with
feature K (a feature_keys spec of both). --confidence-intervals runs each config a second time
with options.compute_confidence_intervals. Several --examples values evaluate the first N
examples of the largest set (generated once, 1M at a time; the smaller sizes must be multiples
of 1M). --glassbox-path runs another checkout's glassbox on the same data (e.g. the code before a
change), by putting it first on the child's PYTHONPATH.
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
CHUNK = 1_000_000  # examples generated (and held in memory) at a time
SHARD = 250_000  # examples per TFRecord file
CROSS_KEYS = (synthetic.REGION_KEY, synthetic.SEGMENT_KEY)


def _user_key(num_users: int) -> str:
    return f"user_{num_users}"


def _variant(num_users: int, cross: Optional[str], intervals: bool) -> str:
    return f"{num_users}" + (f"_x_{cross}" if cross else "") + ("_ci" if intervals else "")


def _config_file(workdir: str, num_users: int, cross: Optional[str], intervals: bool) -> str:
    return os.path.join(workdir, f"eval_config_{_variant(num_users, cross, intervals)}.pbtxt")


def write_config(workdir: str, num_users: int, cross: Optional[str], intervals: bool) -> None:
    """The EvalConfig slicing overall, by segment, by the feature of num_users ids and, with
    cross, by that feature crossed with feature cross; with intervals, computing confidence
    intervals (TFMA's default: 20 Poisson-bootstrap samples in glassbox)."""
    from google.protobuf import text_format
    from tensorflow_model_analysis.proto import config_pb2

    config = eval_config(4096)
    user = _user_key(num_users)
    config.slicing_specs.append(config_pb2.SlicingSpec(feature_keys=[user]))
    if cross:
        config.slicing_specs.append(config_pb2.SlicingSpec(feature_keys=[user, cross]))
    if intervals:
        config.options.compute_confidence_intervals.value = True
    with open(_config_file(workdir, num_users, cross, intervals), "w") as f:
        f.write(text_format.MessageToString(config))


def prepare(workdir: str, num_examples: int, slices: List[int]) -> None:
    """Writes the examples (with a user feature per slice count), CHUNK at a time, and the model
    (trained on the first chunk) under workdir."""
    directory = os.path.join(workdir, "examples")
    for chunk, start in enumerate(range(0, num_examples, CHUNK)):
        size = min(CHUNK, num_examples - start)
        dataset = synthetic.synthetic(synthetic.BINARY, size, seed=chunk)
        for i, num_users in enumerate(slices):
            seed = chunk * len(slices) + i
            dataset = synthetic.with_users(dataset, num_users, seed=seed, key=_user_key(num_users))
        synthetic.write_tfrecords(
            dataset, directory, num_shards=max(1, size // SHARD), prefix=f"examples-{chunk:05d}"
        )
        if chunk == 0:
            synthetic.train_and_export(dataset, os.path.join(workdir, "model"))
    with open(os.path.join(workdir, PREPARED_FILE), "w") as f:
        json.dump({"examples": num_examples, "chunk": CHUNK, "slices": slices}, f)


def _examples(workdir: str, num_examples: int) -> str:
    """A directory of the first num_examples examples: all of them, or links to the first chunks'
    files."""
    everything = os.path.join(workdir, "examples")
    if num_examples == _prepared(workdir)["examples"]:
        return everything
    subset = os.path.join(workdir, f"examples_{num_examples}")
    shutil.rmtree(subset, ignore_errors=True)
    os.makedirs(subset)
    for name in sorted(os.listdir(everything)):
        if int(name.split("-")[1]) < num_examples // CHUNK:
            os.symlink(os.path.join(everything, name), os.path.join(subset, name))
    return subset


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


def evaluate(
    workdir: str,
    num_examples: int,
    num_users: int,
    cross: Optional[str],
    intervals: bool,
    glassbox_path: Optional[str],
) -> dict:
    """`glassbox evaluate` of the first num_examples examples under the EvalConfig of the user
    feature of num_users ids, its cross with feature cross, and confidence intervals."""
    config = _config_file(workdir, num_users, cross, intervals)
    if not os.path.exists(config):
        arguments = ["--workdir", workdir, "--slices", str(num_users)]
        arguments += (["--cross", cross] if cross else []) + ["--confidence-intervals"] * intervals
        _child("config", *arguments)
    output = os.path.join(
        workdir, f"evaluation_{num_examples}_{_variant(num_users, cross, intervals)}"
    )
    shutil.rmtree(output, ignore_errors=True)
    env_path = os.environ.get("PYTHONPATH")
    if glassbox_path:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [glassbox_path, env_path]))
    command = [sys.executable, "-m", "glassbox.cli", "evaluate"]
    command += ["--model", os.path.join(workdir, "model")]
    command += ["--examples", _examples(workdir, num_examples)]
    command += ["--eval-config", config, "--output", output]
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
    parser.add_argument("--examples", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--slices", type=int, nargs="+", default=[1500], help="user ids per run")
    parser.add_argument("--cross", choices=CROSS_KEYS, help="also slice by user x this feature")
    parser.add_argument(
        "--confidence-intervals",
        action="store_true",
        help="run each config also with options.compute_confidence_intervals",
    )
    parser.add_argument("--workdir", help="data, model and outputs (default: a new temp dir)")
    parser.add_argument("--glassbox-path", help="a checkout whose glassbox to run instead")
    parser.add_argument("--phase", choices=("prepare", "config", "count"), help=argparse.SUPPRESS)
    parser.add_argument("output", nargs="?", help=argparse.SUPPRESS)  # --phase count's
    args = parser.parse_args()
    largest = max(args.examples)
    if args.phase == "prepare":
        prepare(args.workdir, largest, args.slices)
        return
    if args.phase == "config":
        write_config(args.workdir, args.slices[0], args.cross, args.confidence_intervals)
        return
    if args.phase == "count":
        print(count_slices(args.output))
        return
    if any(n != largest and n % CHUNK for n in args.examples):
        parser.error(f"--examples: the smaller sizes must be multiples of {CHUNK:,}")
    workdir = args.workdir or tempfile.mkdtemp(prefix="glassbox-slices-")
    prepared = _prepared(workdir)
    if (
        not prepared
        or prepared["examples"] != largest
        or prepared.get("chunk") != CHUNK
        or not set(args.slices) <= set(prepared["slices"])
    ):
        print(f"preparing {largest:,} examples and a model in {workdir}", flush=True)
        _child(
            "prepare",
            *("--workdir", workdir, "--examples", str(largest), "--slices"),
            *map(str, args.slices),
        )
    print(
        f"{'examples':>11} {'user ids':>9} {'cross':>7} {'CI':>3} {'slices':>8} {'wall s':>8} "
        f"{'CPU s':>8} {'peak RSS MiB':>13}",
        flush=True,
    )
    for num_examples in args.examples:
        for num_users in args.slices:
            for intervals in (False, True) if args.confidence_intervals else (False,):
                r = evaluate(
                    workdir, num_examples, num_users, args.cross, intervals, args.glassbox_path
                )
                print(
                    f"{num_examples:>11,} {num_users:>9,} {args.cross or '-':>7} "
                    f"{'yes' if intervals else 'no':>3} {r['slices']:>8,} "
                    f"{r['process_seconds']:>8.1f} {r['process_cpu_seconds']:>8.1f} "
                    f"{r['peak_rss_mib']:>13.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
