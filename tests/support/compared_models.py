"""A candidate and a baseline model, the examples and schema to evaluate them on, and an
EvalConfig with thresholds the candidate partly fails: the same inputs for every front-end in the
tests that compare them."""

import os
from typing import Dict

from tests.support import saved_models

EVAL_CONFIG = """
model_specs { name: "candidate" label_key: "label" }
model_specs { name: "baseline" label_key: "label" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "category" }
metrics_specs {
  metrics { class_name: "ExampleCount" }
  metrics {
    class_name: "AUC"
    threshold {
      value_threshold { lower_bound { value: 0.5 } }
      change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } }
    }
  }
  metrics { class_name: "BinaryAccuracy" threshold { value_threshold { lower_bound { value: 0.55 } } } }
}
"""
EVAL_ROWS = 600


def write_inputs(root: str) -> Dict[str, str]:
    """Writes a TFX Examples artifact (train and eval splits), the two models as TFX Model dirs
    and a Schema artifact under root; returns their paths by input name."""
    examples = saved_models.write_examples_artifact(
        os.path.join(root, "examples"),
        {
            "train": saved_models.make_examples(100, seed=1),
            "eval": saved_models.make_examples(EVAL_ROWS, seed=2),
        },
    )
    model, baseline = (
        os.path.dirname(
            saved_models.export_model(os.path.join(root, name, "Format-Serving"), seed=seed)
        )
        for name, seed in (("model", 0), ("baseline", 1))
    )
    schema = saved_models.write_schema(os.path.join(root, "schema"))
    return {"examples": examples, "model": model, "baseline_model": baseline, "schema": schema}
