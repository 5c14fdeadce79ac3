"""The cost of the simpler-model check over a metrics-only evaluation: the same data, model and
EvalConfig as ``evaluator_vs_tfma`` (16 numeric inputs, segment, region, multi-valued tags,
weight, label; 11 slices), evaluated in one process by ``run_evaluation`` without and with a
default SimpleModelConfig (every feature but the label and weight: each example hashed, 10,000
sampled, logistic regression and a depth-3 tree fitted on 70% of them), alternated.

    uv run python -m benchmarks.simple_model_cost                # 100,000 examples, 3 pairs
    uv run python -m benchmarks.simple_model_cost --examples 1000000 --pairs 2
"""

from __future__ import annotations

import argparse
import json
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
    workdir = args.workdir or os.path.join(
        tempfile.gettempdir(), f"simple-model-cost-{args.examples}"
    )
    os.makedirs(workdir, exist_ok=True)
    if bench._prepared(workdir) != args.examples:
        bench.prepare(workdir, args.examples, batch_size=4096)

    from glassbox import keys
    from glassbox.engine.pipeline import run_evaluation
    from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig

    data = bench._data_dir(workdir)
    files = sorted(os.path.join(data, f) for f in os.listdir(data))
    warm_up = os.path.join(workdir, "simple-warm-up")
    shutil.rmtree(warm_up, ignore_errors=True)
    run_evaluation(bench.eval_config(4096), bench._model_dir(workdir), files, warm_up)
    runs = {"metrics": [], "metrics+simple": []}
    for pair in range(args.pairs):
        for name in runs:
            output = os.path.join(workdir, f"simple-{name}-{pair}")
            shutil.rmtree(output, ignore_errors=True)
            extra = {"simple_model_config": SimpleModelConfig()} if name != "metrics" else {}
            start, cpu = time.perf_counter(), time.process_time()
            run_evaluation(
                bench.eval_config(4096), bench._model_dir(workdir), files, output, **extra
            )
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu))
            print(
                f"{name} run {pair}: {runs[name][-1][0]:.2f} s wall, {runs[name][-1][1]:.2f} s CPU"
            )
    with open(os.path.join(workdir, "simple-metrics+simple-0", keys.SIMPLE_MODEL_FILE)) as f:
        result = json.load(f)
    print(f"\n{args.examples:,} examples, {args.pairs} alternated pairs; median (range)")
    for name, values in runs.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(
            f"{name:15s} wall {statistics.median(walls):6.2f} s ({min(walls):.2f}-{max(walls):.2f})"
            f"  CPU {statistics.median(cpus):6.2f} s ({min(cpus):.2f}-{max(cpus):.2f})"
        )
    ratio = [s[0] / m[0] for m, s in zip(runs["metrics"], runs["metrics+simple"])]
    print(f"simple / metrics wall per pair: {', '.join(f'{r:.2f}x' for r in ratio)}")
    scores = ", ".join(f"{m['name']} {m['score']:.4f}" for m in result["models"])
    print(
        f"{result['metric']}: candidate {result['candidate']['score']:.4f}, {scores}; "
        f"{len(result['features'])} features, left out {result['left_out_features']}"
    )


if __name__ == "__main__":
    main()
