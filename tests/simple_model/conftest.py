"""The evaluations the simpler-model tests read, on data whose truth is a linear rule
(label = x0 + x1 + x2 + noise > 0): a candidate knowing the rule, one reading only an unrelated
feature, and the first again on the same examples shuffled into three files."""

import json
import os

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.engine.pipeline import run_evaluation
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from tests.support import saved_models

N = 2000
EVAL_CONFIG = """
model_specs { label_key: "label" example_weight_key: "weight" }
metrics_specs { metrics { class_name: "ExampleCount" } }
slicing_specs {}
"""
# The model's features (the examples' others, class and target, are other tasks' labels).
CONFIG = SimpleModelConfig(seed=7, features=saved_models.MODEL_FEATURES)
# Weights of the model's layer over x0, x1, x2, the category's 4 one-hot columns, count.
RULE = [np.array([[3.0], [3.0], [3.0], [0], [0], [0], [0], [0]]), np.zeros(1)]
COUNT_ONLY = [np.array([[0], [0], [0], [0], [0], [0], [0], [1.0]]), np.zeros(1)]


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("simple_model")
    examples = saved_models.make_examples(N, seed=3)
    files = [saved_models.write_tfrecords(str(root / "data.gz"), examples)]
    order = np.random.default_rng(0).permutation(N)
    shuffled = [
        saved_models.write_tfrecords(str(root / f"part-{i}.gz"), [examples[j] for j in part])
        for i, part in enumerate(np.array_split(order, 3))
    ]
    eval_config = text_format.Parse(EVAL_CONFIG, config_pb2.EvalConfig())
    outputs = {}
    for name, weights, data in (
        ("good", RULE, files),
        ("bad", COUNT_ONLY, files),
        ("good_shuffled", RULE, shuffled),
    ):
        model = saved_models.export_model(str(root / f"model-{name}"), dense_weights=weights)
        output = str(root / name)
        run_evaluation(eval_config, model, data, output, simple_model_config=CONFIG)
        with open(os.path.join(output, keys.SIMPLE_MODEL_FILE)) as f:
            outputs[name] = json.load(f)
    outputs["examples"] = examples
    outputs["root"] = root
    return outputs
