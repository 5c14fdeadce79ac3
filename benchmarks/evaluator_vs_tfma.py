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
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict

from benchmarks import eval_results, synthetic

PHASES = ("inference", "tfma", "glassbox")


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


def prepare(workdir: str, num_examples: int) -> None:
    """Writes the examples and trains and exports the model under workdir."""
    dataset = synthetic.synthetic(synthetic.BINARY, num_examples)
    synthetic.write_tfrecords(
        dataset, _data_dir(workdir), num_shards=max(1, num_examples // 250_000)
    )
    synthetic.train_and_export(dataset, _model_dir(workdir))


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


def in_child(phase: str, args: argparse.Namespace) -> Dict[str, float]:
    """Runs a phase in a fresh child process: its work's wall and CPU seconds, process seconds and
    peak RSS (MiB).

    The parent imports neither TensorFlow nor TFMA before this, so a child's peak RSS (which
    Linux carries over from the forked parent) is its own.
    """
    start = time.perf_counter()
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
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"phase {phase} failed; rerun it alone to see why: {' '.join(command)}")
    return {
        **json.loads(stdout.strip().splitlines()[-1]),
        "process_seconds": time.perf_counter() - start,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


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
        "--phase", choices=("prepare",) + PHASES, help=argparse.SUPPRESS
    )  # a child's one phase
    args = parser.parse_args()
    if args.phase == "prepare":
        prepare(args.workdir, args.examples)
        print(json.dumps({"seconds": 0}))
    elif args.phase:
        print(json.dumps(run_phase(args.phase, args.workdir, args.batch_size)))
    else:
        args.workdir = args.workdir or tempfile.mkdtemp(prefix="glassbox-bench-")
        print(f"preparing {args.examples:,} examples and a model in {args.workdir}", flush=True)
        in_child("prepare", args)
        results = {}
        for phase in PHASES:
            if not (args.skip_tfma and phase == "tfma"):
                print(f"running {phase}", flush=True)
                results[phase] = in_child(phase, args)
        report(args.examples, results, args.workdir)


if __name__ == "__main__":
    main()
