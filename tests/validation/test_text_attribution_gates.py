"""Attribution gates on a text method, on real models evaluated by `glassbox evaluate`: the keyword
LSTM (tests/support/text_models.py) as the candidate, against a baseline that reads the same
keywords (the top tokens overlap: passes) and one that reads two filler words instead (fails,
naming the slice, the method and the overlap found); a token's share capped; the gate fails
closed without the method's token attributions or without text explanations; without a
baseline, the comparison is skipped, saying so, and the share still checked."""

import os
import re
import shutil

import pytest
from google.protobuf import text_format

from glassbox import keys
from glassbox.protos import validator_config_pb2
from glassbox.validation.validate import validate, write_validation
from tests.support import explained_runs, saved_models, text_models

EXPLAIN_CONFIG = """
text { feature: "text" }
explained_rows { count: 15 }
per_slice: true
seed: 4
methods { token_occlusion {} }
"""
KEYWORD_SLICE = "slicing_spec { feature_values { key: 'label' value: '1' } }"
TOP_TOKENS = f"""attribution_gates {{
  method: "token_occlusion" top_k_overlap {{ k: 2 min_overlap: 2 }} {KEYWORD_SLICE}
}}"""


@pytest.fixture(scope="module")
def evaluations(trained_text_model, tmp_path_factory):
    """Evaluation dirs by name: the candidate against a baseline reading the keywords
    ('agrees'), one reading w0 and w1 ('elsewhere'), and alone ('first')."""
    root = tmp_path_factory.mktemp("text_gates")
    texts, labels, _ = text_models.keyword_texts(100, seed=8)
    baselines = {
        "agrees": text_models.bag_of_words(text_models.KEYWORDS, "keyword_bag"),
        "elsewhere": text_models.bag_of_words(("w0", "w1"), "filler_bag"),
        "first": None,
    }
    examples = saved_models.write_tfrecords(
        str(root / "eval.gz"), text_models.examples(texts, labels)
    )
    result = {}
    for name, baseline in baselines.items():
        baseline_dir = baseline and text_models.export(baseline, str(root / f"{name}_model"))
        result[name] = explained_runs.evaluate(
            root,
            name,
            trained_text_model.model_dir,
            examples,
            explained_runs.SLICED_BY_LABEL,
            EXPLAIN_CONFIG,
            baseline_dir,
        )
    return result


def _gates(text: str) -> validator_config_pb2.ValidatorConfig:
    return text_format.Parse(text, validator_config_pb2.ValidatorConfig())


def _checks(decision):
    return [c for c in decision.checks if c.kind == "attribution"]


def test_top_tokens_overlapping_the_baseline_s_pass(evaluations, tmp_path):
    decision = validate(evaluations["agrees"], _gates(TOP_TOKENS))
    [check] = _checks(decision)
    assert (check.slice, check.passed, check.value, check.metric) == (
        "label:1",
        True,
        2.0,
        "top-2 overlap of tokens by token_occlusion",
    )
    assert check.sentence.startswith(
        "2 of the candidate's top 2 tokens by token_occlusion on label:1"
    )
    assert check.sentence.endswith(": at least the required 2.")
    assert decision.blessed
    write_validation(decision, str(tmp_path))
    with open(tmp_path / keys.DECISION_MARKDOWN_FILE) as f:
        assert check.sentence in f.read()


def test_a_baseline_reading_other_tokens_fails_naming_slice_method_and_overlap(evaluations):
    decision = validate(evaluations["elsewhere"], _gates(TOP_TOKENS))
    [check] = _checks(decision)
    assert (check.passed, check.value) == (False, 0.0)
    assert re.fullmatch(
        r"0 of the candidate's top 2 tokens by token_occlusion on label:1 \((excellent, superb|"
        r"superb, excellent)\) are among the baseline's top 2 \((w0, w1|w1, w0)\): fewer than "
        r"the required 2\.",
        check.sentence,
    )
    assert not decision.blessed
    shift = validate(
        evaluations["elsewhere"],
        _gates("attribution_gates { method: 'token_occlusion' max_shift { max_shift: 0.5 } }"),
    )
    [check] = _checks(shift)
    assert not check.passed and check.value > 0.9  # the models share no attributed token
    assert check.sentence.startswith(
        "The attribution shift of the tokens by token_occlusion from the baseline on Overall is "
    )


@pytest.mark.parametrize(
    "token, max_share, passed", [("excellent", 0.2, False), ("w10", 0.2, True)]
)
def test_a_token_s_share_is_capped(evaluations, token, max_share, passed):
    decision = validate(
        evaluations["agrees"],
        _gates(
            f"attribution_gates {{ method: 'token_occlusion' "
            f"max_feature_share {{ feature: '{token}' max_share: {max_share} }} }}"
        ),
    )
    [check] = _checks(decision)
    assert check.passed == passed and check.slice == "Overall"
    assert check.sentence.startswith(
        f"The share of the total |attribution| by token_occlusion of the token '{token}' on "
        f"Overall is {check.value:.6g} "
    )
    assert ("above" if not passed else "within") + " the allowed 0.2" in check.sentence


def test_without_the_method_s_or_any_text_attributions_the_gate_fails_closed(evaluations, tmp_path):
    decision = validate(
        evaluations["agrees"],
        _gates(
            "attribution_gates { method: 'token_shapley' top_k_overlap { k: 2 min_overlap: 1 } } "
            "attribution_gates { method: 'token_occlusion' "
            "max_feature_share { feature: 'bravo' max_share: 0.5 } }"
        ),
    )
    shapley, absent = _checks(decision)
    assert not shapley.passed and not absent.passed and not decision.blessed
    assert shapley.sentence == (
        "The attribution gate (at least 1 of the top 2 tokens by token_shapley shared with the "
        "baseline) on Overall cannot be checked: the evaluation holds no token_shapley "
        "attributions of the candidate model (text_explanations.json holds: token_occlusion)."
    )
    assert absent.sentence == (
        "The token 'bravo' occurs in none of the texts explained on Overall (attributed by "
        "token_occlusion), so its share of |attribution| cannot be checked against 0.5."
    )
    copy = shutil.copytree(evaluations["first"], tmp_path / "without_texts")
    os.remove(copy / keys.TEXT_EXPLANATIONS_FILE)
    without = validate(
        str(copy),
        _gates(
            "attribution_gates { method: 'token_occlusion' "
            "max_feature_share { feature: 'excellent' max_share: 1 } }"
        ),
    )
    [check] = _checks(without)
    assert not check.passed and check.sentence.endswith(
        "cannot be checked: the evaluation holds no text explanations (text_explanations.json)."
    )


def test_without_a_baseline_the_comparison_is_skipped_and_the_share_checked(evaluations):
    decision = validate(
        evaluations["first"],
        _gates(
            TOP_TOKENS + " attribution_gates { method: 'token_occlusion' "
            "max_feature_share { feature: 'w10' max_share: 0.2 } }"
        ),
    )
    overlap, share = _checks(decision)
    assert overlap.skipped and overlap.passed
    assert overlap.sentence == (
        "The attribution gate (at least 2 of the top 2 tokens by token_occlusion shared with the "
        "baseline) on label:1 is skipped: there is no baseline model to compare with (first "
        "model, rubber stamp)."
    )
    assert share.passed and not share.skipped and decision.blessed
