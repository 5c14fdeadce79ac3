"""Drawing the explained rows and the background: the same examples whatever the batches, their
order and the seed's other uses; strata in proportion; k-means centroids weighted by cluster size."""

import itertools

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_model_analysis.proto import config_pb2
from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

from glassbox.data.errors import MissingFeatureError
from glassbox.data.slicing import Slicer
from glassbox.data.types import SliceMembership
from glassbox.evaluation import config as config_lib
from glassbox.explain import draws as draws_lib
from glassbox.explain.config import explain_plan
from glassbox.explain.draws import BACKGROUND, EXPLAINED
from glassbox.explain.errors import ExplanationError
from glassbox.explain.evaluation import sample_label
from glassbox.explain.sample import background_limit, build_sample, kmeans_background
from glassbox.protos.explain_config_pb2 import ExplainConfig
from tests.support import saved_models

RECORDS = [f"example-{i}".encode() for i in range(200)] + [b"example-7"]  # one duplicate


def _hashes(records, seed, purpose):
    return draws_lib.record_hashes(tf.constant(records), draws_lib.hash_key(seed, purpose))


def _batch_draws(records, seed=1, limit=10, groups=None):
    membership = None
    if groups is not None:
        keys = sorted(set(groups))
        membership = SliceMembership(
            keys=[((("g", k),)) for k in keys],
            rows=np.arange(len(records)),
            groups=np.array([keys.index(g) for g in groups]),
        )
    return dict(
        draws_lib.batch_draws(
            records,
            _hashes(records, seed, EXPLAINED),
            _hashes(records, seed, BACKGROUND),
            limit,
            limit,
            membership,
        )
    )


def test_the_draw_depends_on_the_data_and_seed_only():
    whole = _batch_draws(RECORDS)
    rng = np.random.default_rng(0)
    shuffled = [RECORDS[i] for i in rng.permutation(len(RECORDS))]
    batches = [_batch_draws(shuffled[start : start + 37]) for start in range(0, len(shuffled), 37)]
    for key, expected in whole.items():
        parts = [batch[key] for batch in batches]
        for order in (parts, parts[::-1], parts[2:] + parts[:2]):
            merged = draws_lib.merge_draws(order)
            assert (merged.records, merged.count) == (expected.records, len(RECORDS))
            assert np.array_equal(merged.hashes, expected.hashes)
    explained, background = whole[(EXPLAINED, ())], whole[(BACKGROUND, None)]
    assert len(explained.records) == 10 and list(explained.hashes) == sorted(explained.hashes)
    assert explained.records != background.records  # independent rankings
    assert _batch_draws(RECORDS, seed=2)[(EXPLAINED, ())].records != explained.records


def test_the_draw_depends_on_the_examples_features_not_the_order_of_their_map():
    examples = saved_models.make_examples(100, seed=5)
    in_order = [e.SerializeToString(deterministic=True) for e in examples]
    reordered = [saved_models.serialize_reordered(e) for e in examples]
    assert all(a != b for a, b in zip(in_order, reordered))  # other bytes, the same examples
    assert [tf.train.Example.FromString(r) for r in reordered] == examples
    # Ranked by the bytes as read, the same examples draw other rows; canonical, the same ones.
    assert (
        _batch_draws(in_order)[(EXPLAINED, ())].records
        != _batch_draws(reordered)[(EXPLAINED, ())].records
    )
    canonical = draws_lib.canonical_records(reordered)
    assert canonical == draws_lib.canonical_records(in_order) == in_order


def test_slices_draw_from_their_own_rows():
    groups = [i % 3 for i in range(len(RECORDS))]
    draws = _batch_draws(RECORDS, groups=groups, limit=5)
    for g in range(3):
        d = draws[(EXPLAINED, (("g", g),))]
        assert d.count == groups.count(g) and len(d.records) == 5
        assert {RECORDS.index(r) % 3 for r in d.records} == {g}
    small = _batch_draws(RECORDS[:4], limit=10)[(EXPLAINED, ())]
    assert sorted(small.records) == sorted(RECORDS[:4])


def test_stratified_background_keeps_the_label_proportions():
    hashes = np.arange(100, dtype=np.int64)
    strata = {
        label: draws_lib.draw(
            hashes, [f"{label}-{i}".encode() for i in range(100)], np.arange(count), 10
        )
        for label, count in ((0.0, 70), (1.0, 24), ("x", 6))
    }
    chosen = draws_lib.stratified(strata, 10)
    # quotas 7, 2.4, 0.6: the one row left goes to the largest remainder.
    assert sorted(r.split(b"-")[0] for r in chosen) == [b"0.0"] * 7 + [b"1.0"] * 2 + [b"x"]
    everything = draws_lib.stratified(
        {0: draws_lib.draw(hashes, [b"a", b"b"], np.arange(2), 10)}, 10
    )
    assert sorted(everything) == [b"a", b"b"]


def test_kmeans_background_summarises_clusters_with_values_the_model_takes():
    rng = np.random.default_rng(0)
    centres = np.repeat([-5.0, 0.0, 5.0], 30)
    pool = {
        "x": (centres + rng.normal(scale=0.1, size=90)).astype(np.float32),
        "n": np.repeat([1, 2, 3], 30).astype(np.int64),
        "city": np.array([b"a", b"b", b"c"] * 30, dtype=object),
    }
    centroids, weights = kmeans_background(pool, 3, seed=0)
    order = np.argsort(centroids["x"])
    assert (
        np.allclose(centroids["x"][order], [-5, 0, 5], atol=0.1)
        and centroids["x"].dtype == np.float32
    )
    assert list(centroids["n"][order]) == [1, 2, 3] and list(weights) == [30, 30, 30]
    assert set(centroids["city"]) <= {b"a", b"b", b"c"}
    with pytest.raises(ExplanationError, match="KMEANS background clusters numeric features"):
        kmeans_background({"city": pool["city"]}, 3, seed=0)


def test_derived_seeds_differ_by_purpose_and_fit_sklearn():
    seeds = [
        draws_lib.derived_seed(s, p)
        for s, p in itertools.product((0, 2**64 - 1), ("shapley", "kmeans"))
    ]
    assert len(set(seeds)) == 4 and all(0 <= s < 2**32 for s in seeds)


def test_the_sample_of_a_model_parsing_examples_holds_every_single_valued_feature_but_label_and_weight():
    examples = saved_models.make_examples(300, seed=4)
    for example in examples[
        ::3
    ]:  # (tf.Example bytes, so which examples are drawn, vary by process)
        example.features.feature["tags"].bytes_list.value[:] = [b"x", b"y"]
    examples[1].features.feature["count"].int64_list.value[:] = [7]  # alone in its slice
    records = saved_models.serialize(examples)
    eval_config = config_lib.prepare_eval_config(
        text_format.Parse(
            'model_specs { label_key: "label" example_weight_key: "weight" } slicing_specs { feature_keys: "count" } '
            "options { min_slice_size { value: 2 } }",
            config_pb2.EvalConfig(),
        ),
        has_baseline=False,
    )
    plan = explain_plan(
        text_format.Parse(
            "background { size: 10 sampling: STRATIFIED_BY_LABEL } explained_rows { count: 20 } per_slice: true "
            "methods { shapley {} }",
            ExplainConfig(),
        ),
        eval_config,
    )
    features = ExamplesToRecordBatchDecoder().DecodeBatch(records)
    serialized = tf.constant(records)
    batch = draws_lib.batch_draws(
        records,
        draws_lib.record_hashes(serialized, draws_lib.hash_key(0, EXPLAINED)),
        draws_lib.record_hashes(serialized, draws_lib.hash_key(0, BACKGROUND)),
        plan.explained_rows,
        background_limit(plan),
        Slicer(plan.slicing_specs).membership(features),
        features,
        plan.stratify_by,
    )
    sample = build_sample(plan, dict(batch), features=None, label_key="label")
    assert sorted(sample.rows) == ["category", "class", "count", "target", "x0", "x1", "x2"]
    assert sample.not_attributed == ("tags",)
    assert list(sample.slices) == ["Overall"] + [
        f"count:{c}" for c in range(5)
    ]  # count:7 under min_slice_size
    assert all(mask.sum() == 20 for mask in sample.slices.values())
    labels = np.array([e.features.feature["label"].int64_list.value[0] for e in examples])
    assert len(sample.background["x0"]) == 10 and sample.background_weights is None
    assert sample.labels.dtype == np.float64 and sample.weights.shape == sample.labels.shape
    assert set(sample.labels) <= set(labels.astype(float))


def _sample_of(examples, methods):
    """The sample of a plan with these methods on the examples, reading the label sample_label says."""
    records = saved_models.serialize(examples)
    eval_config = config_lib.prepare_eval_config(
        text_format.Parse('model_specs { label_key: "label" }', config_pb2.EvalConfig()),
        has_baseline=False,
    )
    plan = explain_plan(
        text_format.Parse(f"background {{ size: 5 }} {methods}", ExplainConfig()), eval_config
    )
    serialized = tf.constant(records)
    batch = draws_lib.batch_draws(
        records,
        draws_lib.record_hashes(serialized, draws_lib.hash_key(0, EXPLAINED)),
        draws_lib.record_hashes(serialized, draws_lib.hash_key(0, BACKGROUND)),
        plan.explained_rows,
        background_limit(plan),
        None,
    )
    label_key, required = sample_label(plan)
    return build_sample(plan, dict(batch), ["x0", "x1"], label_key, label_required=required)


def test_the_explained_rows_read_the_candidate_s_label_and_do_without_one_not_numeric():
    examples = saved_models.make_examples(40, seed=2)
    by_row = {
        e.features.feature["x0"].float_list.value[0]: e.features.feature["label"].int64_list.value[
            0
        ]
        for e in examples
    }
    sample = _sample_of(examples, "methods { shapley {} }")
    assert [by_row[x] for x in sample.rows["x0"]] == sample.labels.tolist()

    texts = saved_models.make_examples(40, seed=2)
    for example in texts:
        example.features.feature["label"].Clear()
        example.features.feature["label"].bytes_list.value.append(b"yes")
    assert _sample_of(texts, "methods { shapley {} }").labels is None
    missing = saved_models.make_examples(40, seed=2)
    for example in missing[::2]:
        del example.features.feature["label"]
    assert _sample_of(missing, "methods { shapley {} }").labels is None

    with pytest.raises(ExplanationError, match="'label'.*holds bytes"):
        _sample_of(texts, "methods { shapley {} } methods { permutation_importance {} }")
    with pytest.raises(MissingFeatureError, match="'label'"):
        _sample_of(missing, "methods { shapley {} } methods { permutation_importance {} }")
