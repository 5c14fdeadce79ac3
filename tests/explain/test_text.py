"""Token attributions against ground truth: texts of 8 filler words whose label is 1 exactly when
a keyword ("excellent", "superb") is among them (tests/support/text_models.py), a Keras 3 model
with an embedding and an LSTM exported with serving_default on tf.Examples holding the text.
Token occlusion, token Shapley values and integrated gradients on the embedding, through the method
registry and through `glassbox evaluate`, rank the keyword first in every text holding one; per
slice, the keywords are the most influential tokens."""

import json
import os
import shutil

import numpy as np
import pytest
from google.protobuf import text_format

from glassbox import keys
from glassbox.explain import methods
from glassbox.explain.config import check_explain_config
from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import SavedModelFunction
from glassbox.protos.explain_config_pb2 import (
    ExplainConfig,
    TextInput,
    TextIntegratedGradients,
    TokenOcclusion,
    TokenShapley,
)
from tests.support import explained_runs, saved_models, text_models

EXPLAIN_CONFIG = """
text { feature: "text" }
explained_rows { count: 15 }
per_slice: true
seed: 4
methods { token_occlusion {} }
methods { token_shapley {} }
methods { text_integrated_gradients {} }
"""


def _inputs(model_dir, texts, text=None):
    rows = {"text": np.array([t.encode() for t in texts], object)}
    return methods.MethodInputs(
        function=SavedModelFunction(model_dir),
        rows=rows,
        background={},
        groups=[],
        features=[],
        background_weights=None,
        slices={"Overall": np.ones(len(texts), bool)},
        labels=None,
        weights=None,
        predictions=None,
        text=text or TextInput(feature="text"),
    )


def test_the_keyword_ranks_first_in_every_text_holding_one(trained_text_model):
    assert trained_text_model.accuracy >= 0.95
    texts, labels, positions = text_models.keyword_texts(40, seed=5)
    inputs = _inputs(trained_text_model.model_dir, texts)
    result = methods.METHODS["token_occlusion"].attribute(inputs, TokenOcclusion(), 3).value
    assert [" ".join(tokens) for tokens in result.tokens] == texts
    first = [int(np.argmax(values)) for values in result.values]
    hits = [rank == position for rank, position in zip(first, positions) if position >= 0]
    assert len(hits) >= 15 and all(hits)  # measured: 1.0
    keyword_share = [
        values[position] / np.abs(values).sum()
        for values, position in zip(result.values, positions)
        if position >= 0
    ]
    assert min(keyword_share) > 0.9
    fidelity = result.accuracy["fidelity"]
    assert fidelity["deletion"] < 0.5 * fidelity["random_deletion"]  # measured 0.09 vs 0.29
    np.testing.assert_array_equal(result.targets, 0)
    np.testing.assert_allclose(result.scores, inputs.function(inputs.rows), rtol=1e-6)


@pytest.mark.parametrize("shapley", ["", "shapley { max_exact_features: 4 }"])
def test_token_shapley_ranks_the_keyword_first_and_sums_to_the_score_change(
    trained_text_model, shapley
):
    """Exact (8 tokens: 2^8 + 1 scored texts per text) and KernelSHAP (forced: 2,048 coalitions):
    the keyword first in every text holding one; each text's values sum to f(text) - f(every
    token removed)."""
    texts, _, positions = text_models.keyword_texts(40, seed=5)
    inputs = _inputs(trained_text_model.model_dir, texts)
    options = text_format.Parse(shapley, TokenShapley())
    result = methods.METHODS["token_shapley"].attribute(inputs, options, 3).value
    assert [" ".join(tokens) for tokens in result.tokens] == texts
    first = [int(np.argmax(values)) for values in result.values]
    hits = [rank == position for rank, position in zip(first, positions) if position >= 0]
    assert len(hits) >= 15 and all(hits)  # measured: 18 of 18
    accuracy = result.accuracy
    assert accuracy["algorithm"] == ("kernel_shap" if shapley else "exact_shapley")
    assert accuracy["max_efficiency_gap"] < 1e-6
    if not shapley:
        assert accuracy["model_calls_per_text"] == 2**8 + 1
    fidelity = accuracy["fidelity"]
    assert fidelity["deletion"] < 0.5 * fidelity["random_deletion"]  # measured 0.07 vs 0.26
    np.testing.assert_allclose(result.scores, inputs.function(inputs.rows), rtol=1e-6)


def test_text_integrated_gradients_rank_the_keyword_first_and_are_complete(trained_text_model):
    """On the embedding layer of model.keras (found beside the SavedModel, the Embedding by its
    type): the keyword first in every text holding one; the attributions sum to the score change
    within 1% (measured 8e-6 at the default 4,096 Gauss-Legendre steps)."""
    texts, _, positions = text_models.keyword_texts(40, seed=5)
    inputs = _inputs(trained_text_model.model_dir, texts)
    result = (
        methods.METHODS["text_integrated_gradients"]
        .attribute(inputs, TextIntegratedGradients(), 3)
        .value
    )
    assert [" ".join(tokens) for tokens in result.tokens] == texts
    first = [int(np.argmax(values)) for values in result.values]
    hits = [rank == position for rank, position in zip(first, positions) if position >= 0]
    assert len(hits) >= 15 and all(hits)  # measured: 18 of 18
    accuracy = result.accuracy
    assert accuracy["steps"] == 4096 and accuracy["max_relative_delta"] < 0.01
    assert accuracy["layer"] == "token_embedding"  # named in tests/support/text_models.py
    fidelity = accuracy["fidelity"]
    assert fidelity["deletion"] < 0.5 * fidelity["random_deletion"]


def test_text_integrated_gradients_without_a_keras_model_are_refused(trained_text_model, tmp_path):
    model_dir = str(tmp_path / "model")
    shutil.copytree(trained_text_model.model_dir, model_dir)
    os.remove(os.path.join(model_dir, "model.keras"))
    inputs = _inputs(model_dir, ["w1 excellent"])
    with pytest.raises(ExplanationError, match="'text.keras_model'"):
        methods.METHODS["text_integrated_gradients"].attribute(inputs, TextIntegratedGradients(), 3)


def test_tokens_past_max_tokens_are_held(trained_text_model):
    texts = ["w1 w2 w3 w4 w5 excellent w6 w7"]
    text = TextInput(feature="text", max_tokens=4)
    inputs = _inputs(trained_text_model.model_dir, texts, text)
    result = methods.METHODS["token_occlusion"].attribute(inputs, TokenOcclusion(), 3).value
    assert result.tokens == (("w1", "w2", "w3", "w4"),)
    assert result.scores[0] > 0.9  # the held keyword still counts
    assert np.abs(result.values[0]).max() < 0.05


def test_bad_text_settings_are_refused_naming_the_field(trained_text_model):
    with pytest.raises(ExplanationError, match="'text.feature' is empty.*token_occlusion"):
        check_explain_config(text_format.Parse("methods { token_occlusion {} }", ExplainConfig()))
    inputs = _inputs(trained_text_model.model_dir, ["w1 w2"], TextInput(feature="review"))
    with pytest.raises(ExplanationError, match="lack the text feature 'review'"):
        methods.METHODS["token_occlusion"].attribute(inputs, TokenOcclusion(), 3)


def test_evaluate_writes_each_rows_tokens_and_each_slices_top_tokens(trained_text_model, tmp_path):
    texts, labels, _ = text_models.keyword_texts(100, seed=8)
    examples = saved_models.write_tfrecords(
        str(tmp_path / "eval.gz"), text_models.examples(texts, labels)
    )
    output = explained_runs.evaluate(
        tmp_path,
        "output",
        trained_text_model.model_dir,
        examples,
        explained_runs.SLICED_BY_LABEL,
        EXPLAIN_CONFIG,
    )
    with open(os.path.join(output, keys.TEXT_EXPLANATIONS_FILE)) as f:
        written = json.load(f)
    summary = written["models"]["candidate"]["methods"]["token_occlusion"]
    top = [entry["token"] for entry in summary["slices"]["label:1"]["top_tokens"][:2]]
    assert set(top) == set(text_models.KEYWORDS)
    assert summary["slices"]["label:1"]["rows"] == 15
    assert (
        summary["accuracy"]["fidelity"]["deletion"]
        < summary["accuracy"]["fidelity"]["random_deletion"]
    )
    shapley = written["models"]["candidate"]["methods"]["token_shapley"]
    top = [entry["token"] for entry in shapley["slices"]["label:1"]["top_tokens"][:2]]
    assert set(top) == set(text_models.KEYWORDS)
    assert shapley["accuracy"]["max_efficiency_gap"] < 1e-6
    gradients = written["models"]["candidate"]["methods"]["text_integrated_gradients"]
    top = [entry["token"] for entry in gradients["slices"]["label:1"]["top_tokens"][:2]]
    assert set(top) == set(text_models.KEYWORDS)
    assert gradients["accuracy"]["max_relative_delta"] < 0.01
    # Each row's attributions are those of its text explained alone.
    rows = written["examples"]
    direct = (
        methods.METHODS["token_occlusion"]
        .attribute(
            _inputs(
                trained_text_model.model_dir,
                [" ".join(r["models"]["candidate"]["token_occlusion"]["tokens"]) for r in rows],
            ),
            TokenOcclusion(),
            3,
        )
        .value
    )
    for row, values in zip(rows, direct.values):
        np.testing.assert_allclose(
            row["models"]["candidate"]["token_occlusion"]["attributions"], values, atol=1e-6
        )
    assert set(
        " ".join(r["models"]["candidate"]["token_occlusion"]["tokens"]) for r in rows
    ) <= set(texts)
