"""The cost of drift sketches over a metrics-only evaluation: the same data, model and EvalConfig
as ``evaluator_vs_tfma`` (16 numeric inputs, segment, region, multi-valued tags, weight, label;
11 slices), evaluated in one process by ``run_evaluation`` without and with a DriftConfig (every
feature and the predictions sketched in every slice, compared with a previous evaluation's
sketches), alternated.

    uv run python -m benchmarks.drift_cost                     # 100,000 examples, 3 rounds
    uv run python -m benchmarks.drift_cost --examples 1000000 --rounds 2
"""

from __future__ import annotations

import os

from benchmarks import evaluator_vs_tfma as bench
from benchmarks.alternated import alternate, arguments, summarise


def main() -> None:
    args, work = arguments(__doc__, examples=100_000, rounds=3, name="drift-cost")

    from glassbox import keys
    from glassbox.engine.branches import DriftReference
    from glassbox.engine.pipeline import run_evaluation
    from glassbox.protos.drift_config_pb2 import DriftConfig

    config = bench.eval_config(4096)
    reference = work.output("reference")
    run_evaluation(config, work.model, work.files, reference, drift_config=DriftConfig())  # warm-up
    drift = {
        "drift_config": DriftConfig(),
        "drift_reference": DriftReference("reference", evaluation_dir=reference),
    }
    runs = alternate(
        work,
        {
            "metrics": lambda out: run_evaluation(config, work.model, work.files, out),
            "metrics+drift": lambda out: run_evaluation(
                config, work.model, work.files, out, **drift
            ),
        },
        args.rounds,
    )
    summarise(runs, args.examples)
    sketches = os.path.getsize(os.path.join(reference, keys.DRIFT_SKETCHES_FILE))
    print(f"{keys.DRIFT_SKETCHES_FILE}: {sketches / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
