"""Evaluations with explanations as a user runs them: columns of values written as tf.Examples,
then `glassbox evaluate` with an EvalConfig and an ExplainConfig given as text."""

from __future__ import annotations

import pathlib
from typing import Mapping, Optional, Sequence

import numpy as np

from glassbox import cli
from tests.support import saved_models

# One model labelled by "label", overall and sliced by the label.
SLICED_BY_LABEL = """
model_specs { label_key: "label" }
slicing_specs {}
slicing_specs { feature_keys: "label" }
metrics_specs { metrics { class_name: "ExampleCount" } }
"""
# A candidate and a baseline labelled by "label", sliced by "city" (explain_models.columns).
COMPARED_BY_CITY = """
model_specs { name: "candidate" label_key: "label" }
model_specs { name: "baseline" label_key: "label" is_baseline: true }
slicing_specs {}
slicing_specs { feature_keys: "city" }
metrics_specs { metrics { class_name: "ExampleCount" } }
"""


def examples_file(path: pathlib.Path, columns: Mapping[str, Sequence]) -> str:
    """The rows of columns (name -> values, one per row) as tf.Examples in a gzipped TFRecord file
    at path; its path."""
    values = [np.asarray(c).tolist() for c in columns.values()]
    examples = [saved_models.to_example(dict(zip(columns, row))) for row in zip(*values)]
    return saved_models.write_tfrecords(str(path), examples)


def evaluate(
    root: pathlib.Path,
    name: str,
    model_dir: str,
    examples: str,
    eval_config: str,
    explain_config: str,
    baseline_dir: Optional[str] = None,
) -> str:
    """`glassbox evaluate [--baseline baseline_dir]` of the examples file with the two configs
    (text protos, written beside) into root/name; its path."""
    (root / f"{name}_eval.pbtxt").write_text(eval_config)
    (root / f"{name}_explain.pbtxt").write_text(explain_config)
    output = str(root / name)
    arguments = ["evaluate", "--model", model_dir, "--examples", examples]
    arguments += ["--baseline", baseline_dir] if baseline_dir else []
    arguments += ["--eval-config", str(root / f"{name}_eval.pbtxt")]
    arguments += ["--explain-config", str(root / f"{name}_explain.pbtxt"), "--output", output]
    assert cli.main(arguments) == 0
    return output
