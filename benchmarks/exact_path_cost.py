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

from benchmarks import evaluator_vs_tfma as bench
from benchmarks.alternated import alternate, arguments, summarise


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
    args, work = arguments(__doc__, examples=20_000, rounds=2, name="exact-path-cost")

    from glassbox.engine.pipeline import run_evaluation
    from glassbox.evaluation.exact_path import fast_path_refusal

    configs = _configs()
    for name, config in configs.items():
        print(f"{name}: {fast_path_refusal(config, {'': work.model}) or 'vectorised engine'}")
    run_evaluation(configs["fast"], work.model, work.files, work.output("warm-up"))
    runs = alternate(
        work,
        {
            name: lambda out, config=config: run_evaluation(config, work.model, work.files, out)
            for name, config in configs.items()
        },
        args.rounds,
    )
    summarise(runs, args.examples)


if __name__ == "__main__":
    main()
