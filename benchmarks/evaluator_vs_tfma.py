"""Times glassbox's run_evaluation against TFMA and against bare reading + inference.

    uv run python -m benchmarks.evaluator_vs_tfma                      # 100,000 examples
    uv run python -m benchmarks.evaluator_vs_tfma --examples 1000000 --skip-tfma

On the same synthetic binary data, model and EvalConfig (9 metrics, overall + 10 segment
slices) it runs, each in its own process so that peak memory is per phase:
  inference  read the TFRecords and call the serving signature in batches (the floor),
  tfma       tfma.run_model_analysis on Beam's DirectRunner,
  glassbox   glassbox.engine.pipeline.run_evaluation on Beam's DirectRunner,
then prints wall and CPU times, their ratios, peak RSS, and how far TFMA's and glassbox's metrics
differ. Wall time is that of the phase's work, after its imports; CPU time is that of all the
process's threads over the same span (steadier than wall time on a shared machine); 'process'
includes interpreter start and imports. Modules load lazily so that the inference phase does not carry TFMA.

    uv run python -m benchmarks.evaluator_vs_tfma --processes [--mlmd demo_output/metadata.sqlite]

times whole processes as a user meets them instead, side by side in one run (--repeat N: N rounds,
medians): `python -c "import tensorflow"`; the inference phase's process (import tensorflow, then
read + infer), and again exiting as glassbox's processes do (glassbox.garbage_collection: without the
interpreter's collections at exit); `glassbox evaluate`; TFMA's run_model_analysis (the tfma phase's process); and the
commands that only read: `glassbox report`, `model-card` and `validate` on glassbox's evaluation
and, with --mlmd (e.g. the store `glassbox demo` writes), `lineage` and `history`. Wall and CPU
seconds (user + system of the process and its threads) and the ratios of the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

from benchmarks import eval_results, synthetic

PHASES = ("inference", "tfma", "glassbox")
# The inference phase's process, exiting as glassbox's processes do (without the interpreter's
# collections at exit, which glassbox.garbage_collection skips): the floor of the engine's own work.
READ_INFER_GLASSBOX_EXIT = "read+infer, glassbox exit"
PREPARED_FILE = "prepared.json"  # written last by prepare: how many examples


def eval_config(batch_size: int):
    """The benchmark's EvalConfig: 9 of TFMA's default binary classification metrics (all but
    Calibration, the loss and the plots) on the weighted binary model, overall and per segment.
    (TFMA's default predictions extractor ignores inference_batch_size; glassbox honours it.)"""
    from tensorflow_model_analysis import metrics
    from tensorflow_model_analysis.proto import config_pb2

    specs = metrics.specs_from_metrics(
        [  # adds ExampleCount and WeightedExampleCount
            metrics.BinaryAccuracy(name="binary_accuracy"),
            metrics.AUC(name="auc"),
            metrics.AUC(name="auc_precision_recall", curve="PR"),
            metrics.Precision(name="precision"),
            metrics.Recall(name="recall"),
            metrics.MeanLabel(name="mean_label"),
            metrics.MeanPrediction(name="mean_prediction"),
        ]
    )
    return config_pb2.EvalConfig(
        model_specs=[
            config_pb2.ModelSpec(
                label_key=synthetic.LABEL_KEY,
                example_weight_key=synthetic.WEIGHT_KEY,
                inference_batch_size=batch_size,
            )
        ],
        metrics_specs=specs,
        slicing_specs=[
            config_pb2.SlicingSpec(),
            config_pb2.SlicingSpec(feature_keys=[synthetic.SEGMENT_KEY]),
        ],
    )


def prepare(workdir: str, num_examples: int, batch_size: int) -> None:
    """Writes the examples, trains and exports the model, and writes the EvalConfig as a text
    proto under workdir."""
    from google.protobuf import text_format

    dataset = synthetic.synthetic(synthetic.BINARY, num_examples)
    synthetic.write_tfrecords(
        dataset, _data_dir(workdir), num_shards=max(1, num_examples // 250_000)
    )
    synthetic.train_and_export(dataset, _model_dir(workdir))
    with open(_config_file(workdir), "w") as f:  # for `glassbox evaluate`
        f.write(text_format.MessageToString(eval_config(batch_size)))
    with open(os.path.join(workdir, PREPARED_FILE), "w") as f:
        json.dump({"examples": num_examples}, f)


def _prepared(workdir: str) -> Optional[int]:
    """How many examples prepare wrote into workdir; None when it has not (completely)."""
    try:
        with open(os.path.join(workdir, PREPARED_FILE)) as f:
            return json.load(f)["examples"]
    except OSError:
        return None


def run_phase(phase: str, workdir: str, batch_size: int) -> Dict[str, float]:
    """Runs one timed phase on the prepared workdir; returns its wall and CPU seconds after imports
    (CPU: of all the process's threads)."""
    files = sorted(os.path.join(_data_dir(workdir), f) for f in os.listdir(_data_dir(workdir)))
    output_dir = os.path.join(workdir, phase)
    shutil.rmtree(output_dir, ignore_errors=True)  # a rerun in the same workdir
    if phase == "inference":
        import tensorflow as tf

        start, cpu_start = time.perf_counter(), time.process_time()
        serve = tf.saved_model.load(_model_dir(workdir)).signatures["serving_default"]
        for examples in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(batch_size):
            serve(examples=examples)
    elif phase == "tfma":
        from tensorflow_model_analysis.api import model_eval_lib

        start, cpu_start = time.perf_counter(), time.process_time()
        config = eval_config(batch_size)
        model = model_eval_lib.default_eval_shared_model(_model_dir(workdir), eval_config=config)
        model_eval_lib.run_model_analysis(
            model,
            config,
            data_location=os.path.join(_data_dir(workdir), "*"),
            output_path=output_dir,
        )
    elif phase == "glassbox":
        from glassbox.engine.pipeline import run_evaluation

        start, cpu_start = time.perf_counter(), time.process_time()
        run_evaluation(eval_config(batch_size), _model_dir(workdir), files, output_dir)
    else:
        raise ValueError(f"unknown phase {phase!r}")
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start}


def timed_process(command: Sequence[str], ok_codes: Tuple[int, ...] = (0,)) -> Dict[str, object]:
    """Runs command to its end: its stdout, wall and CPU seconds (user + system, all threads) and
    peak RSS (MiB). The parent imports neither TensorFlow nor TFMA, so a child's peak RSS (which
    Linux carries over from the forked parent) is its own.
    """
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) not in ok_codes:
        raise RuntimeError(f"failed; rerun it alone to see why: {' '.join(command)}")
    return {
        "stdout": stdout,
        "process_seconds": time.perf_counter() - start,
        "process_cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


def in_child(phase: str, args: argparse.Namespace, glassbox_exit: bool = False) -> Dict[str, float]:
    """Runs a phase in a fresh child process: its work's wall and CPU seconds, process seconds and
    peak RSS (MiB). glassbox_exit: the child exits as glassbox's processes do
    (glassbox.garbage_collection)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.evaluator_vs_tfma",
        "--phase",
        phase,
        "--workdir",
        args.workdir,
        "--examples",
        str(args.examples),
        "--batch-size",
        str(args.batch_size),
    ] + (["--glassbox-exit"] if glassbox_exit else [])
    timed = timed_process(command)
    return {**json.loads(timed.pop("stdout").strip().splitlines()[-1]), **timed}


def whole_processes(args: argparse.Namespace) -> Dict[str, List[Dict[str, float]]]:
    """Each process of the --processes comparison, args.repeat times in turn: name -> its runs."""
    glassbox = [sys.executable, "-m", "glassbox.cli"]
    workdir = args.workdir
    evaluation = os.path.join(workdir, "glassbox-cli")
    config = _config_file(workdir)
    steps = [
        ("import tensorflow", lambda: [sys.executable, "-c", "import tensorflow"], (0,)),
        ("import tf + read+infer", None, (0,)),
        (READ_INFER_GLASSBOX_EXIT, None, (0,)),
        (
            "glassbox evaluate",
            lambda: (
                glassbox
                + ["evaluate", "--model", _model_dir(workdir), "--examples", _data_dir(workdir)]
                + ["--eval-config", config, "--output", _fresh(evaluation)]
            ),
            (0,),
        ),
        ("glassbox report", lambda: glassbox + _read_only("report", evaluation, workdir), (0,)),
        (
            "glassbox model-card",
            lambda: glassbox + _read_only("model-card", evaluation, workdir),
            (0,),
        ),
        (  # exit 1: not blessed
            "glassbox validate",
            lambda: glassbox + _read_only("validate", evaluation, workdir),
            (0, 1),
        ),
    ]
    if args.mlmd:
        steps += [
            (
                "glassbox lineage",
                lambda: glassbox + ["lineage", "--mlmd", args.mlmd, "--latest-push"],
                (0,),
            ),
            (
                "glassbox history",
                lambda: glassbox + ["history", "--mlmd", args.mlmd, "--metric", "auc"],
                (0,),
            ),
        ]
    if not args.skip_tfma:
        steps.append(("tfma run_model_analysis", None, (0,)))
    runs: Dict[str, List[Dict[str, float]]] = {name: [] for name, _, _ in steps}
    for round_number in range(args.repeat):
        for name, command, ok_codes in steps:
            print(f"round {round_number + 1}: {name}", flush=True)
            if command is None:  # a phase: its process's figures
                phase = "tfma" if name.startswith("tfma") else "inference"
                timed = in_child(phase, args, glassbox_exit=name == READ_INFER_GLASSBOX_EXIT)
            else:
                timed = timed_process(command(), ok_codes)
                timed.pop("stdout")
            runs[name].append(timed)
    return runs


def _fresh(path: str) -> str:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _read_only(command: str, evaluation: str, workdir: str) -> List[str]:
    output = _fresh(os.path.join(workdir, command))
    arguments = [command, "--evaluation", evaluation, "--output", output]
    if command == "validate":  # the benchmark's EvalConfig sets no threshold
        config = os.path.join(workdir, "validator_config.pbtxt")
        with open(config, "w") as f:
            f.write("allow_no_thresholds: true\n")
        arguments += ["--config", config]
    return arguments


def report_processes(num_examples: int, runs: Dict[str, List[Dict[str, float]]]) -> None:
    """Prints the whole processes' wall and CPU seconds (medians over rounds) and the ratios."""
    rounds = len(next(iter(runs.values())))
    print(
        f"\n{num_examples:,} examples, whole processes, median of {rounds} round(s), {os.cpu_count()} CPUs"
    )
    print(f"{'process':<26} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    medians = {}
    for name, timed in runs.items():
        medians[name] = {
            field: statistics.median(t[field] for t in timed)
            for field in ("process_seconds", "process_cpu_seconds", "peak_rss_mib")
        }
        m = medians[name]
        print(
            f"{name:<26} {m['process_seconds']:>8.1f} {m['process_cpu_seconds']:>8.1f} "
            f"{m['peak_rss_mib']:>13.0f}"
        )

    def ratio(a: str, b: str) -> Optional[str]:
        if a not in medians or b not in medians:
            return None
        wall = medians[a]["process_seconds"] / medians[b]["process_seconds"]
        cpu = medians[a]["process_cpu_seconds"] / medians[b]["process_cpu_seconds"]
        return f"{wall:5.2f}x wall, {cpu:5.2f}x CPU"

    for a, b, target in (
        ("glassbox evaluate", "import tf + read+infer", "target <= 1.2x"),
        ("glassbox evaluate", READ_INFER_GLASSBOX_EXIT, "(the same exit)"),
        ("tfma run_model_analysis", "glassbox evaluate", ""),
        ("glassbox evaluate", "import tensorflow", ""),
    ):
        figures = ratio(a, b)
        if figures:
            print(f"{a} / {b}: {figures}  {target}".rstrip())
    slowest = max(
        (name for name in medians if name.startswith("glassbox ") and name != "glassbox evaluate"),
        key=lambda name: medians[name]["process_seconds"],
    )
    print(
        f"slowest read-only command: {slowest}, {medians[slowest]['process_seconds']:.1f} s (target < 3 s)"
    )


def report(num_examples: int, results: Dict[str, Dict[str, float]], workdir: str) -> None:
    """Prints the timing table, the target ratios and the TFMA/glassbox metric agreement."""
    print(f"\n{num_examples:,} examples, 11 slices, 9 metrics, {os.cpu_count()} CPUs")
    print(f"{'phase':<10} {'wall s':>9} {'CPU s':>9} {'process s':>10} {'peak RSS MiB':>13}")
    for phase, r in results.items():
        print(
            f"{phase:<10} {r['seconds']:>9.1f} {r['cpu_seconds']:>9.1f} {r['process_seconds']:>10.1f} "
            f"{r['peak_rss_mib']:>13.0f}"
        )
    ours, ours_cpu = results["glassbox"]["seconds"], results["glassbox"]["cpu_seconds"]
    if "tfma" in results:
        print(
            f"tfma / glassbox       {results['tfma']['seconds'] / ours:6.1f}x   (target >= 20x; "
            f"CPU {results['tfma']['cpu_seconds'] / ours_cpu:.1f}x)"
        )
    print(
        f"glassbox / inference  {ours / results['inference']['seconds']:6.2f}x   (target <= 2x at 1M; "
        f"CPU {ours_cpu / results['inference']['cpu_seconds']:.2f}x)"
    )
    print(
        f"glassbox peak RSS     {results['glassbox']['peak_rss_mib'] / 1024:6.2f} GiB (target < 2 GiB at 1M)"
    )
    if "tfma" in results:
        expected = eval_results.load_flat(os.path.join(workdir, "tfma"))
        actual = eval_results.load_flat(os.path.join(workdir, "glassbox"))
        missing = len(expected.keys() ^ actual.keys())
        print(
            f"metrics: {len(expected)} TFMA values, {missing} keys on one side only, max relative "
            f"difference {eval_results.max_relative_difference(expected, actual):.2e}"
        )


def _data_dir(workdir: str) -> str:
    return os.path.join(workdir, "examples")


def _config_file(workdir: str) -> str:
    return os.path.join(workdir, "eval_config.pbtxt")


def _model_dir(workdir: str) -> str:
    return os.path.join(workdir, "model")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--skip-tfma", action="store_true", help="skip TFMA (about 20 min at 1M)")
    parser.add_argument(
        "--workdir", help="where data, model and outputs go (default: a new temp dir)"
    )
    parser.add_argument("--batch-size", type=int, default=4096, help="examples per inference call")
    parser.add_argument(
        "--processes",
        action="store_true",
        help="time whole processes (import tensorflow, read+infer, glassbox evaluate, TFMA, the "
        "read-only commands) instead of the phases' work",
    )
    parser.add_argument("--repeat", type=int, default=1, help="with --processes: rounds to run")
    parser.add_argument(
        "--mlmd", help="with --processes: an ML Metadata store to time lineage and history on"
    )
    parser.add_argument(
        "--phase", choices=("prepare",) + PHASES, help=argparse.SUPPRESS
    )  # a child's one phase
    parser.add_argument("--glassbox-exit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.glassbox_exit:
        from glassbox import garbage_collection

        garbage_collection.spare_exit_collections()
    if args.phase == "prepare":
        prepare(args.workdir, args.examples, args.batch_size)
        print(json.dumps({"seconds": 0}))
    elif args.phase:
        print(json.dumps(run_phase(args.phase, args.workdir, args.batch_size)))
    else:
        args.workdir = args.workdir or tempfile.mkdtemp(prefix="glassbox-bench-")
        if _prepared(args.workdir) != args.examples:  # a rerun reuses a workdir's data
            print(f"preparing {args.examples:,} examples and a model in {args.workdir}", flush=True)
            in_child("prepare", args)
        if args.processes:
            report_processes(args.examples, whole_processes(args))
            return
        results = {}
        for phase in PHASES:
            if not (args.skip_tfma and phase == "tfma"):
                print(f"running {phase}", flush=True)
                results[phase] = in_child(phase, args)
        report(args.examples, results, args.workdir)


if __name__ == "__main__":
    main()
