"""The corpus of real EvalConfigs (tests/data/eval_configs) and TFMA 0.52's verdict on each.

By default: every file parses as an EvalConfig and names its source, every file has a case in
tests/support/eval_config_cases.py (and every case a file), and each case's generated data has
every feature its config names (labels, weights, slices, query and gain keys, predictions).

Slow: TFMA 0.52 runs each config on the case's generated examples and trained model(s), as TFX's
Evaluator runs it (tests/support/eval_config_oracle.py, one process with TF_USE_LEGACY_KERAS=1 as
TFX's image sets), and must do what the case records: accept it (write its metrics) or refuse it
for the recorded reason. The outcomes, with the metric names TFMA wrote, go to
``eval_config_corpus_outcomes.json`` in the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from benchmarks.eval_results import mismatches
from glassbox.engine.pipeline import run_evaluation
from glassbox.errors import GlassboxError
from tests.evaluation.test_parity_tfma import ATOL, RTOL, load_both
from tests.support import eval_config_cases as cases
from tests.support import eval_config_oracle, transform_models

NAMES = cases.config_names()


def test_the_corpus_has_twenty_configs_each_naming_its_source():
    assert len(NAMES) >= 20
    for name in NAMES:
        header = cases.source_header(name)
        assert set(header) == {"Source", "What", "Changes"}, f"{name}: header {header}"
        assert re.fullmatch(r"[\w.-]+/[\w.-]+, \S+, commit [0-9a-f]{40}", header["Source"]), name
        config = cases.load_config(name)
        assert config.model_specs, f"{name}: no model_specs"


def test_every_config_has_a_case_and_every_case_a_config():
    assert sorted(cases.CASES) == NAMES


def _metric_config_json(metric) -> dict:
    text = metric.config.strip()
    return json.loads(text if text.startswith("{") else "{" + text + "}") if text else {}


def _named_features(name: str) -> set:
    """Every feature the config reads from the examples (labels, weights, slices, ...)."""
    config = cases.load_config(name)
    named = set()
    for spec in config.model_specs:
        named |= {spec.label_key, spec.example_weight_key, *spec.label_keys.values()}
        named |= set(spec.example_weight_keys.values())
        if cases.CASES[name].model == "none":
            named.add(spec.prediction_key)
    slicing = list(config.slicing_specs)
    for cross in config.cross_slicing_specs:
        slicing += [cross.baseline_spec, *cross.slicing_specs]
    for metrics_spec in config.metrics_specs:
        named.add(metrics_spec.query_key)
        for metric in metrics_spec.metrics:
            named.add(_metric_config_json(metric).get("gain_key", ""))
            for threshold in metric.per_slice_thresholds:
                slicing += list(threshold.slicing_specs)
    for spec in slicing:
        named |= set(spec.feature_keys) | set(spec.feature_values)
    return named - {"", "non_existent_slice"}  # tfma_multi_output slices on a missing feature


@pytest.mark.parametrize("name", NAMES)
def test_generated_examples_hold_every_feature_the_config_names(name):
    case = cases.CASES[name]
    if case.model == "penguin_transform":
        rows = transform_models.penguin_rows(5)
        produced = {"species_xf", "body_mass_g_bucket_xf"}
    elif case.model == "taxi_transform":
        rows = transform_models.taxi_rows(5)
        produced = {f"{key}_xf" for key in ("fare", "trip_miles", "trip_start_hour", "tips")}
    else:
        rows, produced = cases.make_rows(case, 50, name=name), set()
    present = set().union(*rows) | produced
    assert _named_features(name) <= present, f"{name}: missing {_named_features(name) - present}"


@pytest.fixture(scope="module")
def tfma_outcomes(request, tmp_path_factory) -> dict:
    """TFMA's outcome for every case selected in this session, from one oracle process."""
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_tfma_does_what_the_case_records"
    ]
    directory = str(tmp_path_factory.mktemp("corpus"))
    outcomes = eval_config_oracle.run_in_subprocess(selected, directory)
    with open(os.path.join(directory, "eval_config_corpus_outcomes.json"), "w") as f:
        json.dump(outcomes, f, indent=1, sort_keys=True)
    return outcomes


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("name", NAMES)
def test_tfma_does_what_the_case_records(name, tfma_outcomes):
    outcome, expected = tfma_outcomes[name], cases.CASES[name].tfma
    if expected == cases.ACCEPTED:
        assert outcome["verdict"] == "accepted", f"{name}: TFMA refused it: {outcome['reason']}"
        assert outcome["metrics"], f"{name}: TFMA wrote no metrics"
    else:
        assert outcome["verdict"] == "refused", (
            f"{name}: TFMA accepted it, the case says {expected}"
        )
        assert expected.removeprefix("refused: ") in outcome["reason"]


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("name", NAMES)
def test_glassbox_writes_tfmas_values_or_refuses_as_the_case_records(name, tfma_outcomes, tmp_path):
    """glassbox evaluates TFMA's examples and models of the case as TFX's Evaluator would (its
    defaults, a baseline when the case has one) and writes every value TFMA wrote (counts exactly,
    others within RTOL/ATOL; confidence bounds, drawn otherwise, only present), the models'
    compiled Keras metrics included (``options.include_default_metrics``); or it refuses the
    config with the recorded reason, naming the field, and writes nothing."""
    tfma_outcome, case = tfma_outcomes[name], cases.CASES[name]
    config = cases.load_config(name)
    candidate, baseline = cases.model_names(config, case.baseline)
    models = tfma_outcome["model_dirs"]
    output = str(tmp_path / "glassbox")
    try:
        run_evaluation(
            config,
            models.get(candidate),
            [tfma_outcome["examples_path"]],
            output,
            baseline_model_dir=models.get(baseline) if baseline is not None else None,
        )
        outcome = cases.MATCHES
    except GlassboxError as error:
        outcome = f"refused: {error}"
    if case.glassbox != cases.MATCHES:
        assert outcome.startswith("refused: "), f"{name}: glassbox accepted it"
        assert case.glassbox.removeprefix("refused: ") in outcome, outcome
        assert not os.path.exists(os.path.join(output, "eval_config.json"))
        return
    assert outcome == cases.MATCHES, f"{name}: {outcome}"
    assert tfma_outcome["verdict"] == "accepted", f"{name}: TFMA refused what glassbox ran"
    expected, actual = load_both((tfma_outcome["output"], output))
    missing = sorted(map(repr, expected.keys() - actual.keys()))[:10]
    assert not missing, f"{name}: missing {missing}"
    assert actual.keys() <= expected.keys(), sorted(map(repr, actual.keys() - expected.keys()))[:10]
    counts = {k for k in actual if k[2].name == "example_count" and not k[2].example_weighted}
    assert {k: actual[k] for k in counts} == {k: expected[k] for k in counts}
    # Confidence bounds come from other bootstrap draws than TFMA's: present, not compared.
    compared = [k for k in actual if "confidenceInterval" not in k]
    assert (
        dict(
            list(
                mismatches(
                    {k: expected[k] for k in compared}, {k: actual[k] for k in compared}, RTOL, ATOL
                ).items()
            )[:10]
        )
        == {}
    )
