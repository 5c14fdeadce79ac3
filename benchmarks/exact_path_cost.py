"""The cost of TFMA's exact path (a config the vectorised engine does not cover, computed by TFMA's
own combiners inside glassbox's pipeline) against the fast path, on ``evaluator_vs_tfma``'s data,
model and EvalConfig (9 metrics, 11 slices), in one process by ``run_evaluation``, alternated:

- ``fast``: the benchmark's config (point estimates);
- ``fast+bootstrap``: with confidence intervals (Poisson bootstrap, 20 draws, the fast path's);
- ``exact+jackknife``: with JACKKNIFE intervals, which only TFMA computes (the exact path).

    uv run python -m benchmarks.exact_path_cost                  # 20,000 examples, 2 rounds
    uv run python -m benchmarks.exact_path_cost --examples 100000 --rounds 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

from benchmarks import evaluator_vs_tfma as bench


def _configs():
    from tensorflow_model_analysis.proto import config_pb2

    fast = bench.eval_config(4096)
    bootstrap, jackknife = (config_pb2.EvalConfig() for _ in range(2))
    for config, method in ((bootstrap, "POISSON_BOOTSTRAP"), (jackknife, "JACKKNIFE")):
        config.CopyFrom(fast)
        config.options.compute_confidence_intervals.value = True
        config.options.confidence_intervals.method = (
            config_pb2.ConfidenceIntervalOptions.ConfidenceIntervalMethod.Value(method)
        )
    return {"fast": fast, "fast+bootstrap": bootstrap, "exact+jackknife": jackknife}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", default=None, help="reused when prepared for --examples")
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(
        tempfile.gettempdir(), f"exact-path-cost-{args.examples}"
    )
    os.makedirs(workdir, exist_ok=True)
    if bench._prepared(workdir) != args.examples:
        bench.prepare(workdir, args.examples, batch_size=4096)

    from glassbox.engine.pipeline import run_evaluation
    from glassbox.evaluation.exact_path import fast_path_refusal

    data = bench._data_dir(workdir)
    files = sorted(os.path.join(data, f) for f in os.listdir(data))
    model = bench._model_dir(workdir)
    configs = _configs()
    for name, config in configs.items():
        print(f"{name}: {fast_path_refusal(config, {'': model}) or 'vectorised engine'}")
    warm_up = os.path.join(workdir, "exact-warm-up")
    shutil.rmtree(warm_up, ignore_errors=True)
    run_evaluation(configs["fast"], model, files, warm_up)
    runs = {name: [] for name in configs}
    for round_ in range(args.rounds):
        for name, config in configs.items():
            output = os.path.join(workdir, f"exact-{name}-{round_}")
            shutil.rmtree(output, ignore_errors=True)
            start, cpu = time.perf_counter(), time.process_time()
            run_evaluation(config, model, files, output)
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu))
            wall, cpu = runs[name][-1]
            print(f"{name} round {round_}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"\n{args.examples:,} examples, {args.rounds} alternated rounds; median (range)")
    fast = statistics.median(w for w, _ in runs["fast"])
    for name, values in runs.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(
            f"{name:16s} wall {statistics.median(walls):7.2f} s ({min(walls):.2f}-{max(walls):.2f})"
            f"  CPU {statistics.median(cpus):7.2f} s  {statistics.median(walls) / fast:5.1f}x fast"
        )


if __name__ == "__main__":
    main()
