"""The cost of the simpler-model check over a metrics-only evaluation: the same data, model and
EvalConfig as ``evaluator_vs_tfma`` (16 numeric inputs, segment, region, multi-valued tags,
weight, label; 11 slices), evaluated in one process by ``run_evaluation`` without and with a
default SimpleModelConfig (every feature but the label and weight: each example hashed, 10,000
sampled, logistic regression and a depth-3 tree fitted on 70% of them), alternated.

    uv run python -m benchmarks.simple_model_cost                # 100,000 examples, 3 rounds
    uv run python -m benchmarks.simple_model_cost --examples 1000000 --rounds 2
"""

from __future__ import annotations

import json
import os

from benchmarks import evaluator_vs_tfma as bench
from benchmarks.alternated import alternate, arguments, summarise


def main() -> None:
    args, work = arguments(__doc__, examples=100_000, rounds=3, name="simple-model-cost")

    from glassbox import keys
    from glassbox.engine.pipeline import run_evaluation
    from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig

    config = bench.eval_config(4096)
    run_evaluation(config, work.model, work.files, work.output("warm-up"))
    runs = alternate(
        work,
        {
            "metrics": lambda out: run_evaluation(config, work.model, work.files, out),
            "metrics+simple": lambda out: run_evaluation(
                config, work.model, work.files, out, simple_model_config=SimpleModelConfig()
            ),
        },
        args.rounds,
    )
    summarise(runs, args.examples)
    with open(os.path.join(work.path, "metrics+simple-0", keys.SIMPLE_MODEL_FILE)) as f:
        result = json.load(f)
    scores = ", ".join(f"{m['name']} {m['score']:.4f}" for m in result["models"])
    print(
        f"{result['metric']}: candidate {result['candidate']['score']:.4f}, {scores}; "
        f"{len(result['features'])} features, left out {result['left_out_features']}"
    )


if __name__ == "__main__":
    main()
