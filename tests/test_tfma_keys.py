"""glassbox.tfma_keys against TFMA's metric_types and slicer_lib: every kind of key and slice key
reads from TFMA's protos as TFMA reads it, prints, hashes and compares as TFMA's, and writes the
same protos back."""

import itertools

import pytest
from tensorflow_model_analysis.metrics import metric_types as tfma
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox import tfma_keys

SUB_KEYS = [
    None,
    tfma.SubKey(class_id=2),
    tfma.SubKey(k=3),
    tfma.SubKey(top_k=5),
    tfma.SubKey(class_id=1, top_k=3),
]
AGGREGATIONS = [
    None,
    tfma.AggregationType(micro_average=True),
    tfma.AggregationType(macro_average=True),
    tfma.AggregationType(weighted_macro_average=True),
]
KINDS = [
    (tfma.MetricKey, tfma_keys.MetricKey),
    (tfma.PlotKey, tfma_keys.PlotKey),
    (tfma.AttributionsKey, tfma_keys.AttributionsKey),
]


@pytest.mark.parametrize("tfma_type, our_type", KINDS, ids=lambda t: t.__name__)
def test_keys_read_print_and_compare_as_tfma_s(tfma_type, our_type):
    for sub_key, aggregation, weighted, diff, model, output in itertools.product(
        SUB_KEYS, AGGREGATIONS, (None, False, True), (False, True), ("", "b"), ("", "o")
    ):
        proto = tfma.MetricKey(
            "auc", model, output, sub_key, aggregation, weighted, diff
        ).to_proto()
        if tfma_type is not tfma.MetricKey:
            proto = tfma_type(*tfma.MetricKey.from_proto(proto)).to_proto()
        theirs, ours = tfma_type.from_proto(proto), our_type.from_proto(proto)
        # Read keys are cached by their serialized protos, which may be equal for two kinds.
        assert type(ours) is our_type and ours is our_type.from_proto(proto)
        assert (ours, hash(ours), str(ours)) == (theirs, hash(theirs), str(theirs))
        assert {theirs: 1}[ours] == 1 and ours.to_proto() == proto
        assert str(ours.sub_key) == str(theirs.sub_key)
        assert str(ours.aggregation_type) == str(theirs.aggregation_type)


SLICES = [(), (("a", "x"),), (("a", 1), ("b", 2.5)), (("é", "ü"),), (("n", -3),)]


@pytest.mark.parametrize("key", SLICES, ids=str)
def test_slice_keys_read_and_print_as_tfma_s(key):
    proto = slicer_lib.serialize_slice_key(key)
    ours = tfma_keys.slice_key(proto)
    assert ours == slicer_lib.deserialize_slice_key(proto)
    assert tfma_keys.slice_label(ours) == slicer_lib.stringify_slice_key(ours)
    assert not tfma_keys.is_cross_slice_key(ours)
    for other in SLICES:
        cross = slicer_lib.serialize_cross_slice_key((key, other))
        ours = tfma_keys.cross_slice_key(cross)
        assert ours == slicer_lib.deserialize_cross_slice_key(cross)
        assert tfma_keys.is_cross_slice_key(ours) and slicer_lib.is_cross_slice_key(ours)
        assert tfma_keys.slice_label(ours) == (
            f"{slicer_lib.stringify_slice_key(key)} minus {slicer_lib.stringify_slice_key(other)}"
        )
