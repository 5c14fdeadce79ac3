"""Slice membership, checked key for key (values and their types) against TFMA's slicer_lib."""

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.slicer import slicer_lib
from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

from glassbox.data.errors import FeatureTypeError
from glassbox.data.slicing import Slicer, evaluated_slicing_specs
from tests.support import saved_models

# Multi-valued, repeated, missing (None) and empty ([]) values; floats that are and are not
# exact in float32; a non-ASCII string.
ROWS = [
    dict(category="a", count=1, score=0.5, tags=["x", "y"]),
    dict(category=["a", "b"], count=[2, 2], score=0.25, tags=["y", "y"]),
    dict(category=None, count=3, score=0.1, tags="x"),
    dict(category=[], count=1, score=None, tags="x"),
    dict(category=["b", "a", "b"], count=[], score=0.5, tags=None),
    dict(category="c", count=[5, 1], score=2.0, tags=["z"]),
    dict(category="é", count=1, score=-1.5, tags=["x", "z"]),
    dict(category="b", count=2, score=0.5, tags="y"),
]

SPECS = [
    "",
    "feature_keys: 'category'",
    "feature_keys: 'count'",
    "feature_keys: 'score'",
    "feature_keys: ['category', 'count']",
    "feature_keys: ['tags', 'category', 'count']",
    "feature_values { key: 'category' value: 'b' }",
    "feature_values { key: 'count' value: '1' }",
    "feature_values { key: 'count' value: '2.0' }",
    "feature_values { key: 'score' value: '0.5' }",
    "feature_values { key: 'score' value: '0.1' }",
    "feature_values { key: 'category' value: '5' }",
    "feature_keys: 'tags' feature_values { key: 'count' value: '1' }",
    "feature_values { key: 'count' value: '1' } feature_values { key: 'category' value: 'a' }",
    "feature_keys: 'not_a_feature'",
    "feature_keys: 'category'",  # the same slices twice: each row counts once per slice
]


def decode(rows):
    return ExamplesToRecordBatchDecoder().DecodeBatch(
        saved_models.serialize(saved_models.to_example(row) for row in rows)
    )


def typed(key):
    """A slice key with each value's type, so that 2 and 2.0 differ."""
    return tuple((column, type(value).__name__, value) for column, value in key)


def tfma_slices(features, specs):
    """(row, typed key) pairs from TFMA's slicer on each example's features, as TFMA feeds it."""
    tfma_specs = [slicer_lib.SingleSliceSpec(spec=spec) for spec in specs]
    pairs = set()
    for row in range(features.num_rows):
        example = {
            name: column[row].values.to_numpy(zero_copy_only=False)
            for name, column in zip(features.schema.names, features.columns)
            if column[row].is_valid
        }
        # SliceKeyExtractor dedups each example's keys with set(): equal keys (2 == 2.0) keep the first.
        keys = set(slicer_lib.get_slices_for_features_dicts([], example, tfma_specs))
        pairs |= {(row, typed(key)) for key in keys}
    return pairs


def our_slices(features, specs):
    membership = Slicer(specs).membership(features)
    pairs = [
        (int(row), typed(membership.keys[group]))
        for row, group in zip(membership.rows, membership.groups)
    ]
    assert len(pairs) == len(set(pairs)), "a row is listed twice in one slice"
    assert len(membership.keys) == len(set(membership.keys))
    assert set(membership.groups.tolist()) == set(range(len(membership.keys))), "a key without rows"
    return set(pairs)


def test_keys_and_members_equal_tfma_slicer():
    specs = [text_format.Parse(s, config_pb2.SlicingSpec()) for s in SPECS]
    features = decode(ROWS)
    expected = tfma_slices(features, specs)
    assert our_slices(features, specs) == expected
    # The comparison covers what it should: crosses, typed values and non-matches.
    keys = {key for _, key in expected}
    assert (("category", "str", "é"), ("count", "int", 1), ("tags", "str", "z")) in keys
    assert (("count", "int", 2),) in keys and (("score", "float", 0.5),) in keys
    assert (("score", "float", 0.1),) not in keys  # 0.1 is not a float32 value


def test_each_spec_alone_matches_tfma():
    features = decode(ROWS)
    for s in SPECS:
        spec = [text_format.Parse(s, config_pb2.SlicingSpec())]
        assert our_slices(features, spec) == tfma_slices(features, spec), s
    float_on_int = our_slices(features, [config_pb2.SlicingSpec(feature_values={"count": "2.0"})])
    assert float_on_int == {(1, (("count", "float", 2.0),)), (7, (("count", "float", 2.0),))}


def test_overall_slice_holds_every_row_once():
    membership = Slicer([config_pb2.SlicingSpec()]).membership(decode(ROWS))
    assert membership.keys == [()]
    np.testing.assert_array_equal(membership.rows, np.arange(len(ROWS)))
    np.testing.assert_array_equal(membership.groups, np.zeros(len(ROWS)))


def test_non_utf8_slice_value_is_refused_naming_the_feature():
    features = decode([dict(category=b"\xff\xfe"), dict(category="a")])
    with pytest.raises(
        FeatureTypeError, match=r"feature 'category' .*non-UTF-8 value b'\\xff\\xfe'"
    ):
        Slicer([config_pb2.SlicingSpec(feature_keys=["category"])]).membership(features)


def test_cross_slicing_specs_add_their_specs_as_tfmas_slice_key_extractor_does():
    config = text_format.Parse(
        """
        slicing_specs { feature_keys: ["b", "a"] }
        cross_slicing_specs {
          baseline_spec {}
          slicing_specs { feature_keys: ["a", "b"] }
          slicing_specs { feature_values { key: "c" value: "x" } }
        }
        cross_slicing_specs { baseline_spec { feature_values { key: "c" value: "x" } } }
        """,
        config_pb2.EvalConfig(),
    )
    assert [
        (path, text_format.MessageToString(s, as_one_line=True))
        for path, s in evaluated_slicing_specs(config)
    ] == [
        ("slicing_specs[0]", 'feature_keys: "b" feature_keys: "a"'),
        ("cross_slicing_specs[0].baseline_spec", ""),
        ("cross_slicing_specs[0].slicing_specs[1]", 'feature_values { key: "c" value: "x" }'),
    ]
    assert evaluated_slicing_specs(config_pb2.EvalConfig()) == [
        ("overall", config_pb2.SlicingSpec())
    ]
