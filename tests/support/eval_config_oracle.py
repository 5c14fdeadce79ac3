"""TFMA 0.52 as the oracle of the EvalConfig corpus: what it does with each config.

`run_tfma` runs TFMA the way TFX 1.21's Evaluator executor does (``update_eval_config_with_defaults``
with ``has_baseline`` and ``rubber_stamp=True``, ``verify_eval_config``, one
``default_eval_shared_model`` per ModelSpec, then ``run_model_analysis``) on a case's generated
examples and model(s), and reports whether TFMA accepted the config (it wrote its metrics) or
refused it (the exception it raised).

TFX's container image sets ``TF_USE_LEGACY_KERAS=1``; without it ``tf.keras`` is Keras 3, which
cannot load a tf_keras SavedModel, so TFMA treats the model as a generic one and computes none
of its compiled metrics. The oracle therefore runs in its own process with that variable set::

    python -m tests.support.eval_config_oracle OUTPUT_JSON WORK_DIR NAME...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from typing import Dict, List, Sequence

ENV = {"TF_USE_LEGACY_KERAS": "1"}
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_tfma(name: str, directory: str) -> dict:
    """Builds the case under directory and runs TFMA on it; returns a JSON-able outcome:
    {'verdict': 'accepted' | 'refused', 'reason': ..., 'metrics': [metric names],
    'validation_ok': bool | None, 'seconds': float, and what was built and written:
    'examples_path', 'model_dirs' (by ModelSpec name), 'output' (TFMA's output directory)}."""
    import tensorflow_model_analysis as tfma  # noqa: PLC0415 (after TF_USE_LEGACY_KERAS)
    from apache_beam.options.pipeline_options import PipelineOptions  # noqa: PLC0415

    import glassbox.evaluation.fairness  # noqa: F401, PLC0415 (registers FairnessIndicators)
    from glassbox.beam_runner import with_default_runner  # noqa: PLC0415
    from tests.support import eval_config_cases  # noqa: PLC0415

    started = time.time()
    built = eval_config_cases.build(name, directory)
    output = os.path.join(directory, "tfma")
    outcome: Dict = {
        "metrics": [],
        "validation_ok": None,
        "examples_path": built.examples_path,
        "model_dirs": built.model_dirs,
        "output": output,
    }
    try:
        eval_config = tfma.utils.update_eval_config_with_defaults(
            built.eval_config, has_baseline=built.has_baseline, rubber_stamp=True
        )
        tfma.utils.verify_eval_config(eval_config)
        shared = [
            tfma.default_eval_shared_model(
                eval_saved_model_path=built.model_dir(spec),
                model_name=spec.name,
                eval_config=eval_config,
            )
            for spec in eval_config.model_specs
            if built.model_dir(spec)
        ]
        result = tfma.run_model_analysis(
            eval_shared_model=(shared[0] if len(shared) == 1 else shared) or None,
            eval_config=eval_config,
            data_location=built.examples_path,
            output_path=output,
            pipeline_options=PipelineOptions(with_default_runner([])),
        )
        results = result.get_results() if hasattr(result, "get_results") else [result]
        outcome["metrics"] = sorted(
            {
                name
                for one_model in results
                for _, by_output in one_model.slicing_metrics
                for by_class in by_output.values()
                for metrics in by_class.values()
                for name in metrics
            }
        )
        if os.path.exists(os.path.join(output, "validations.tfrecord")):
            outcome["validation_ok"] = tfma.load_validation_result(output).validation_ok
        outcome.update(verdict="accepted", reason="")
    except Exception as error:  # noqa: BLE001 (the refusal is the result)
        outcome.update(verdict="refused", reason=_reason(error))
        outcome["traceback"] = traceback.format_exc(limit=-3)
    outcome["seconds"] = round(time.time() - started, 1)
    return outcome


def _reason(error: BaseException) -> str:
    """The exception and the ones that caused it, outermost first (Beam wraps TFMA's own)."""
    chain = []
    while error is not None and len(chain) < 5:
        chain.append(f"{type(error).__name__}: {str(error)[:500]}")
        error = error.__cause__ or error.__context__
    return " <- ".join(chain)


def run_in_subprocess(names: Sequence[str], work_dir: str, timeout: float = 3600) -> Dict:
    """run_tfma for each name in one fresh process with ENV set; {name: outcome}."""
    output = os.path.join(work_dir, "outcomes.json")
    subprocess.run(
        [sys.executable, "-m", __name__, output, work_dir, *names],
        env={**os.environ, **ENV},
        cwd=REPO_ROOT,
        check=True,
        timeout=timeout,
    )
    with open(output) as f:
        return json.load(f)


def main(argv: List[str]) -> None:
    output, work_dir, *names = argv
    outcomes = {}
    for name in names:
        outcomes[name] = run_tfma(name, os.path.join(work_dir, name))
        print(name, outcomes[name]["verdict"], outcomes[name]["reason"][:200], flush=True)
        with open(output, "w") as f:
            json.dump(outcomes, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    os.environ.update(ENV)
    main(sys.argv[1:])
