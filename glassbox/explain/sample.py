"""The drawn examples as the explanation methods take them: columns of raw features of the
explained rows and of the background, each slice's rows, labels and weights.

The explained rows are the union of the slices' draws (an example drawn for several slices is
explained once), in the order of their hash. The background is the background draw as drawn
(RANDOM), in its label's proportions (STRATIFIED_BY_LABEL), or k-means centroids of a larger draw
weighted by cluster size (KMEANS): float features take their cluster's mean, other features
(integers, strings) their cluster's most frequent value, so every value is one the model can take.
"""

from __future__ import annotations

import dataclasses
from typing import Collection, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_model_analysis.slicer import slicer_lib

from glassbox.data.errors import FeatureTypeError, MissingFeatureError
from glassbox.data.example_decoder import ExampleDecoder
from glassbox.data.feature_columns import dense_values, holds_bytes
from glassbox.data.types import SliceKey
from glassbox.explain import draws as draws_lib
from glassbox.explain.config import ExplainPlan
from glassbox.explain.draws import BACKGROUND, EXPLAINED, Draw, DrawKey
from glassbox.explain.errors import ExplanationError
from glassbox.explain.model_function import Columns
from glassbox.protos.explain_config_pb2 import Background

# A KMEANS background clusters this many times its size of drawn examples.
KMEANS_POOL_FACTOR = 10
_KMEANS_INITS = 4


@dataclasses.dataclass(frozen=True)
class ExplainedSample:
    """What the methods explain.

    Attributes:
      rows: raw feature columns of the explained rows, each of shape (n,).
      ids: each row's hash (hex), which identifies it within the sample.
      slices: boolean row mask of each explained slice, by TFMA slice string ('Overall' first).
      slice_keys: the TFMA slice key of each slice string.
      slice_sizes: examples in each slice (all of them, not only those explained).
      background: raw feature columns of the background rows.
      background_weights: their weights (k-means cluster sizes), or None: equal weights.
      labels: the candidate's label of each explained row (float64), when read.
      weights: each explained row's example weight, when the candidate has a weight feature.
      not_attributed: features of the examples left out because they are not one value per row.
    """

    rows: Columns
    ids: Tuple[str, ...]
    slices: Dict[str, np.ndarray]
    slice_keys: Dict[str, SliceKey]
    slice_sizes: Dict[str, int]
    background: Columns
    background_weights: Optional[np.ndarray]
    labels: Optional[np.ndarray]
    weights: Optional[np.ndarray]
    not_attributed: Tuple[str, ...]


def _explained_draws(plan: ExplainPlan, draws: Dict[DrawKey, Draw]) -> Dict[SliceKey, Draw]:
    """The explained draws by slice key, the overall first, then by slice string; slices under
    min_slice_size left out (their metrics are withheld too)."""
    by_slice = {key: d for (kind, key), d in draws.items() if kind == EXPLAINED}
    kept = [key for key in by_slice if not key or by_slice[key].count >= plan.min_slice_size]
    return {
        key: by_slice[key]
        for key in sorted(kept, key=lambda k: (bool(k), slicer_lib.stringify_slice_key(k)))
    }


def _background_records(plan: ExplainPlan, draws: Dict[DrawKey, Draw]) -> Tuple[bytes, ...]:
    strata = {value: d for (kind, value), d in draws.items() if kind == BACKGROUND}
    if plan.stratify_by:
        return draws_lib.stratified(strata, plan.background_size)
    return strata[None].records


def background_limit(plan: ExplainPlan) -> int:
    """Examples drawn for the background (per label value when stratified)."""
    kmeans = plan.config.background.sampling == Background.KMEANS
    return plan.background_size * (KMEANS_POOL_FACTOR if kmeans else 1)


def _single_values(batch: pa.RecordBatch, excluded: Collection[str]) -> Tuple[List[str], List[str]]:
    """The features holding exactly one value in every row, and the others (excluded left out), by
    name: tfx_bsl orders a batch's columns as protobuf iterates each example's feature map, which
    may differ between processes, and the attribution order must not."""
    single, other = [], []
    for name in sorted(batch.schema.names):
        if name not in excluded:
            lengths = np.asarray(pc.list_value_length(batch.column(name)).fill_null(0))
            (single if (lengths == 1).all() else other).append(name)
    return single, other


def _columns(batch: pa.RecordBatch, names: Sequence[str], use: str) -> Columns:
    return {name: dense_values(batch, name, use, width=1)[:, 0] for name in names}


def _numbers(batch: pa.RecordBatch, name: str, use: str) -> np.ndarray:
    if name in batch.schema.names and holds_bytes(batch.column(name)):
        raise ExplanationError(f"feature {name!r} ({use}) holds bytes; numbers are needed")
    return dense_values(batch, name, use, width=1)[:, 0].astype(np.float64)


def _labels(batch: pa.RecordBatch, label_key: str, required: bool) -> Optional[np.ndarray]:
    """The label of each row, if one is named; None for a label not required and not one number
    in each row."""
    if not label_key:
        return None
    try:
        return _numbers(batch, label_key, "the label explanations read")
    except (ExplanationError, MissingFeatureError, FeatureTypeError):
        if required:
            raise
        return None


def _mode(values: np.ndarray) -> object:
    """The most frequent value (the smallest of equally frequent ones)."""
    distinct, counts = np.unique(values, return_counts=True)
    return distinct[np.argmax(counts)]


def kmeans_background(pool: Columns, size: int, seed: int) -> Tuple[Columns, np.ndarray]:
    """Up to `size` centroids of the pool's rows, clustered on their standardised numeric
    features, and each cluster's size as its weight (see the module docstring).

    Raises:
      ExplanationError: the pool has no numeric feature to cluster on.
    """
    numeric = [name for name, values in pool.items() if values.dtype.kind in "iuf"]
    if not numeric:
        raise ExplanationError(
            f"a KMEANS background clusters numeric features, and the features {sorted(pool)} "
            "hold none; use RANDOM or STRATIFIED_BY_LABEL sampling"
        )
    matrix = np.column_stack([pool[name].astype(np.float64) for name in numeric])
    spread = matrix.std(axis=0)
    matrix = (matrix - matrix.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    clusters = min(size, len(np.unique(matrix, axis=0)))
    from sklearn.cluster import KMeans  # scikit-learn's part: only for a k-means background

    labels = KMeans(n_clusters=clusters, random_state=seed, n_init=_KMEANS_INITS).fit_predict(
        matrix
    )
    members = [labels == c for c in range(clusters)]
    centroids = {
        name: (
            np.array([values[m].mean() for m in members], values.dtype)
            if values.dtype.kind == "f"
            else np.array([_mode(values[m]) for m in members], values.dtype)
        )
        for name, values in pool.items()
    }
    return centroids, np.array([m.sum() for m in members], np.float64)


def build_sample(
    plan: ExplainPlan,
    draws: Dict[DrawKey, Draw],
    features: Optional[Collection[str]],
    label_key: str = "",
    schema: Optional[bytes] = None,
    label_required: bool = True,
) -> ExplainedSample:
    """Decodes the drawn examples into the explained rows and the background.

    Args:
      plan: the resolved ExplainConfig.
      draws: every Draw of the data, merged (by draws_lib key).
      features: the raw features the models take by name (their union); None when a model
        parses whole tf.Examples: then every feature of one value per row but the label and the
        example weight, the others listed in not_attributed.
      label_key: the label to read for each explained row ('' for none).
      schema: optional serialized TFMD Schema to decode with.
      label_required: whether a label missing from some explained row, or not one number in
        each, is an error; if not, the sample has no labels.

    Raises:
      ExplanationError: no examples; a required label that is not numeric.
      ExamplesError: the drawn examples cannot be decoded together (tfx_bsl's message names the
        feature).
      MissingFeatureError / FeatureTypeError: a feature a model takes is not one value in every
        drawn example (named).
    """
    by_slice = _explained_draws(plan, draws)
    if () not in by_slice or not by_slice[()].records:
        raise ExplanationError("the evaluation data holds no examples to explain")
    pairs = sorted(
        {(h, record) for d in by_slice.values() for h, record in zip(d.hashes.tolist(), d.records)}
    )
    records = [record for _, record in pairs]
    background = _background_records(plan, draws)
    batch = ExampleDecoder(schema).decode(records + list(background))
    if features is None:
        names, not_attributed = _single_values(batch, plan.excluded)
    else:
        names, not_attributed = sorted(features), []
    columns = _columns(batch, names, "a feature explained")
    n = len(records)
    rows = {name: values[:n] for name, values in columns.items()}
    background_columns = {name: values[n:] for name, values in columns.items()}
    background_weights = None
    if plan.config.background.sampling == Background.KMEANS:
        background_columns, background_weights = kmeans_background(
            background_columns,
            plan.background_size,
            draws_lib.derived_seed(plan.config.seed, "kmeans"),
        )
    position = {pair: i for i, pair in enumerate(pairs)}
    slices = {}
    for key, d in by_slice.items():
        mask = np.zeros(n, dtype=bool)
        mask[[position[pair] for pair in zip(d.hashes.tolist(), d.records)]] = True
        slices[slicer_lib.stringify_slice_key(key)] = mask
    rows_batch = batch.slice(0, n)
    return ExplainedSample(
        rows=rows,
        ids=tuple(f"{h:016x}" for h, _ in pairs),
        slices=slices,
        slice_keys={slicer_lib.stringify_slice_key(key): key for key in by_slice},
        slice_sizes={slicer_lib.stringify_slice_key(key): d.count for key, d in by_slice.items()},
        background=background_columns,
        background_weights=background_weights,
        labels=_labels(rows_batch, label_key, label_required),
        weights=_numbers(rows_batch, plan.weight_key, "example_weight_key of the candidate")
        if plan.weight_key
        else None,
        not_attributed=tuple(not_attributed),
    )
