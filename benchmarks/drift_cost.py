"""The cost of drift sketches over a metrics-only evaluation: the same data, model and EvalConfig
as ``evaluator_vs_tfma`` (16 numeric inputs, segment, region, multi-valued tags, weight, label;
11 slices), evaluated in one process by ``run_evaluation`` without and with a DriftConfig (every
feature and the predictions sketched in every slice, compared with a previous evaluation's
sketches), alternated.

    uv run python -m benchmarks.drift_cost                     # 100,000 examples, 3 pairs
    uv run python -m benchmarks.drift_cost --examples 1000000 --pairs 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

from benchmarks import evaluator_vs_tfma as bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="reused when prepared for --examples")
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), f"drift-cost-{args.examples}")
    os.makedirs(workdir, exist_ok=True)
    if bench._prepared(workdir) != args.examples:
        bench.prepare(workdir, args.examples, batch_size=4096)

    from glassbox import keys
    from glassbox.engine.branches import DriftReference
    from glassbox.engine.pipeline import run_evaluation
    from glassbox.protos.drift_config_pb2 import DriftConfig

    data = bench._data_dir(workdir)
    files = sorted(os.path.join(data, f) for f in os.listdir(data))
    reference = os.path.join(workdir, "reference")
    shutil.rmtree(reference, ignore_errors=True)
    run_evaluation(  # the reference, and a warm-up
        bench.eval_config(4096),
        bench._model_dir(workdir),
        files,
        reference,
        drift_config=DriftConfig(),
    )
    runs = {"metrics": [], "metrics+drift": []}
    for pair in range(args.pairs):
        for name in runs:
            output = os.path.join(workdir, f"{name}-{pair}")
            shutil.rmtree(output, ignore_errors=True)
            drift = (
                {
                    "drift_config": DriftConfig(),
                    "drift_reference": DriftReference("reference", evaluation_dir=reference),
                }
                if name == "metrics+drift"
                else {}
            )
            start, cpu = time.perf_counter(), time.process_time()
            run_evaluation(
                bench.eval_config(4096), bench._model_dir(workdir), files, output, **drift
            )
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu))
            print(
                f"{name} run {pair}: {runs[name][-1][0]:.2f} s wall, {runs[name][-1][1]:.2f} s CPU"
            )
    sketches = os.path.getsize(os.path.join(reference, keys.DRIFT_SKETCHES_FILE))
    print(f"\n{args.examples:,} examples, {args.pairs} alternated pairs; median (range)")
    for name, values in runs.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(
            f"{name:14s} wall {statistics.median(walls):6.2f} s ({min(walls):.2f}-{max(walls):.2f})"
            f"  CPU {statistics.median(cpus):6.2f} s ({min(cpus):.2f}-{max(cpus):.2f})"
        )
    ratio = [d[0] / m[0] for m, d in zip(runs["metrics"], runs["metrics+drift"])]
    print(f"drift / metrics wall per pair: {', '.join(f'{r:.2f}x' for r in ratio)}")
    print(f"{keys.DRIFT_SKETCHES_FILE}: {sketches / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
