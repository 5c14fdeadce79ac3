"""The method registry's conformance: every ExplainConfig method has one registered implementation,
and each, called with the one call shape on a real SavedModel, returns its kind of value with a
stated accuracy; the same seed gives the same result; a method without an implementation is
refused by the config check, naming the field."""

import json

import numpy as np
import pytest
from google.protobuf import text_format

from glassbox import keys
from glassbox.explain import methods
from glassbox.explain.attributions import Attributions
from glassbox.explain.config import check_explain_config
from glassbox.explain.counterfactual import Counterfactuals
from glassbox.explain.errors import ExplanationError
from glassbox.explain.global_surrogate import SurrogateTree
from glassbox.explain.model_function import SavedModelFunction
from glassbox.explain.partial_dependence import PartialDependenceCurves
from glassbox.explain.permutation_importance import PermutationImportances
from glassbox.protos.explain_config_pb2 import ExplainConfig, Method
from glassbox.training.model import FEATURES_SIGNATURE_NAME
from tests.support import explain_known_models, explain_models

ROWS, BACKGROUND = 40, 8
VALUE_TYPES = {
    methods.LOCAL: Attributions,
    methods.PERMUTATION: PermutationImportances,
    methods.SURROGATE: SurrogateTree,
    methods.COUNTERFACTUAL: Counterfactuals,
    methods.PARTIAL_DEPENDENCE: PartialDependenceCurves,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    model_dir = explain_models.export(
        explain_known_models.linear_model([1.5, -0.5], {"paris": 1.0, "lyon": -1.0}, 0.3),
        str(tmp_path_factory.mktemp("methods") / "model"),
    )
    function = SavedModelFunction(model_dir, FEATURES_SIGNATURE_NAME)
    rows = explain_models.columns(ROWS, num_numeric=2, seed=1)
    background = explain_models.columns(BACKGROUND, num_numeric=2, seed=2)
    half = np.arange(ROWS) < ROWS // 2
    return methods.MethodInputs(
        function=function,
        rows=rows,
        background=background,
        groups=[],
        features=[],
        background_weights=None,
        slices={"Overall": np.ones(ROWS, bool), "half:first": half},
        labels=np.random.default_rng(3).integers(0, 2, ROWS).astype(np.float64),
        weights=None,
        predictions=function(rows),
    )


def test_every_config_method_has_one_registered_implementation():
    assert set(methods.METHODS) == {
        f.name for f in Method.DESCRIPTOR.oneofs_by_name["method"].fields
    }


def test_the_image_and_text_methods_the_gates_name_are_the_registered_ones():
    for kind, names in ((methods.IMAGE, keys.IMAGE_METHODS), (methods.TEXT, keys.TEXT_METHODS)):
        assert {name for name, method in methods.METHODS.items() if method.kind == kind} == set(
            names
        )


TABULAR = sorted(
    name
    for name, method in methods.METHODS.items()
    if method.kind not in (methods.IMAGE, methods.TEXT)
)


# image and text methods: tests/explain/test_images.py, test_text.py
@pytest.mark.parametrize("name", TABULAR)
def test_each_method_returns_its_kind_of_value_and_its_accuracy(inputs, name):
    registered = methods.METHODS[name]
    options = getattr(Method(), name)
    result = registered.attribute(inputs, options, 5)
    assert isinstance(result.value, VALUE_TYPES[registered.kind])
    assert result.accuracy and json.loads(json.dumps(result.accuracy)) == result.accuracy
    again = registered.attribute(inputs, options, 5)
    if registered.kind == methods.LOCAL:
        assert result.value.values.shape == (ROWS, len(result.value.groups))
        # (integrated gradients attributes only the differentiable inputs)
        assert {"x0", "x1"} <= set(result.value.groups) <= {"x0", "x1", "city", "rooms"}
        np.testing.assert_allclose(result.value.predictions, inputs.predictions, rtol=1e-6)
        np.testing.assert_array_equal(result.value.values, again.value.values)
    elif registered.kind == methods.COUNTERFACTUAL:
        assert result.value.index.shape == (ROWS,) and (result.value.index >= 0).any()
        np.testing.assert_array_equal(result.value.index, again.value.index)
    elif registered.kind == methods.PARTIAL_DEPENDENCE:
        assert sorted(result.value.features) == ["rooms", "x0", "x1"]  # the numeric features
        assert set(result.value.slices) == set(inputs.slices)
        for feature, curves in result.value.features.items():
            assert curves.ice.shape == (ROWS, len(curves.grid))
            np.testing.assert_array_equal(curves.ice, again.value.features[feature].ice)
    else:
        described = result.value.to_json()
        slices = described["slices"] if "slices" in described else described["fidelity"]
        assert set(slices) == set(inputs.slices)
        assert described == again.value.to_json()


def test_a_method_without_implementation_is_refused_naming_the_field(monkeypatch):
    monkeypatch.delitem(methods.METHODS, "local_surrogate")
    config = text_format.Parse(
        "methods { shapley {} } methods { local_surrogate {} }", ExplainConfig()
    )
    with pytest.raises(
        ExplanationError, match=r"'methods\[1\]' is local_surrogate, which no registered"
    ):
        check_explain_config(config)
