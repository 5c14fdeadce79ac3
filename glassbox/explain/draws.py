"""Drawing the explained rows and the background from the evaluation data, deterministically.

Every example is ranked by a seeded hash of its canonical serialization (``canonical_records``:
the tf.Example re-serialized deterministically, its feature map in key order; SipHash keyed by the
seed, ``tf.strings.to_hash_bucket_strong``); a draw of k rows from a stratum (a slice, a label
value) is the k examples of smallest hash there, ties (identical bytes) broken by the bytes. The
choice so depends only on the examples' features and values and the seed, never on files,
batches, their order, the number of workers, or the order a writer serialized a feature map in
(which differs between processes): each batch keeps the k smallest of each stratum with the
stratum's count (a Draw), and Draws merge in any order to the same result. Explained rows and
background rank by independent hashes (keys derived from the seed for each purpose).
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import tensorflow as tf

from glassbox.data.feature_columns import dense_values
from glassbox.data.types import SliceMembership

EXPLAINED = "explained"
BACKGROUND = "background"
# (EXPLAINED, slice key) or (BACKGROUND, label value; None when not stratified).
DrawKey = Tuple[str, Any]
# The largest bucket count to_hash_bucket_strong takes: hashes fill the non-negative int64s.
_HASH_BUCKETS = 2**63 - 1


def _state(seed: int, purpose: str, words: int) -> np.ndarray:
    """words non-negative int64-sized integers derived from seed for one purpose."""
    return (
        np.random.SeedSequence([seed, zlib.crc32(purpose.encode())]).generate_state(
            words, np.uint64
        )
        >> 1
    )


def derived_seed(seed: int, purpose: str) -> int:
    """A 32-bit seed (as sklearn takes) for one purpose (a method, a clustering), independent of
    those of other purposes."""
    return int(_state(seed, purpose, 1)[0] >> 32)


def hash_key(seed: int, purpose: str) -> List[int]:
    """The SipHash key (two int64s) of one purpose's ranking."""
    return [int(value) for value in _state(seed, purpose, 2)]


def canonical_records(records: Sequence[bytes]) -> List[bytes]:
    """Each serialized tf.Example as its deterministic serialization (feature map sorted by key).

    Raises:
      google.protobuf.message.DecodeError: a record is not a tf.Example.
    """
    example = tf.train.Example()
    canonical = []
    for record in records:
        example.ParseFromString(record)
        canonical.append(example.SerializeToString(deterministic=True))
    return canonical


def record_hashes(serialized: tf.Tensor, key: Sequence[int]) -> np.ndarray:
    """The seeded int64 hash of each record of a string tensor."""
    return tf.strings.to_hash_bucket_strong(serialized, _HASH_BUCKETS, key=list(key)).numpy()


@dataclasses.dataclass(frozen=True)
class Draw:
    """The `limit` records of smallest hash among `count` records, sorted by (hash, record)."""

    limit: int
    count: int
    hashes: np.ndarray
    records: Tuple[bytes, ...]


def draw(hashes: np.ndarray, records: Sequence[bytes], rows: np.ndarray, limit: int) -> Draw:
    """The Draw of the given rows of a batch (hashes and records of the whole batch)."""
    count = len(rows)
    if count > limit:
        rows = rows[np.argpartition(hashes[rows], limit - 1)[:limit]]
    return _sorted(limit, count, hashes[rows], [records[r] for r in rows])


def merge_draws(draws: Iterable[Draw]) -> Draw:
    """One Draw of all the draws' records (of one stratum, with one limit)."""
    draws = list(draws)
    return _sorted(
        draws[0].limit,
        sum(d.count for d in draws),
        np.concatenate([d.hashes for d in draws]),
        [record for d in draws for record in d.records],
    )


def _sorted(limit: int, count: int, hashes: np.ndarray, records: List[bytes]) -> Draw:
    order = sorted(range(len(records)), key=lambda i: (hashes[i], records[i]))[:limit]
    return Draw(limit, count, np.asarray(hashes[order], np.int64), tuple(records[i] for i in order))


def _strata(values: np.ndarray) -> Iterator[Tuple[Any, np.ndarray]]:
    """(value, rows) of each distinct value; bytes decoded, numbers as Python numbers."""
    distinct, inverse = np.unique(values, return_inverse=True)
    for code, value in enumerate(distinct):
        yield (
            (value.decode("utf-8", "replace") if isinstance(value, bytes) else value.item()),
            np.flatnonzero(inverse == code),
        )


def batch_draws(
    records: Sequence[bytes],
    explained_hashes: np.ndarray,
    background_hashes: np.ndarray,
    explained_rows: int,
    background_rows: int,
    membership: Optional[SliceMembership] = None,
    features: Optional[pa.RecordBatch] = None,
    stratify_by: str = "",
) -> Iterator[Tuple[DrawKey, Draw]]:
    """A batch's Draws: explained rows overall and per slice of membership, background rows overall
    or per value of feature stratify_by (read from features).

    Raises:
      MissingFeatureError / FeatureTypeError: stratify_by is not one value in every example.
    """
    every_row = np.arange(len(records))
    yield (EXPLAINED, ()), draw(explained_hashes, records, every_row, explained_rows)
    if membership is not None:
        for group, slice_key in enumerate(membership.keys):
            if slice_key:
                rows = membership.rows[membership.groups == group]
                yield (EXPLAINED, slice_key), draw(explained_hashes, records, rows, explained_rows)
    if not stratify_by:
        yield (BACKGROUND, None), draw(background_hashes, records, every_row, background_rows)
        return
    labels = dense_values(
        features, stratify_by, "Background.label_key of the ExplainConfig", width=1
    )[:, 0]
    for value, rows in _strata(labels):
        yield (BACKGROUND, value), draw(background_hashes, records, rows, background_rows)


def stratified(draws: Dict[Any, Draw], size: int) -> Tuple[bytes, ...]:
    """`size` records from the strata's draws (each of limit >= size) in the strata's proportions
    of examples (largest remainders; every record when there are no more), sorted by (hash, record)."""
    strata = sorted(draws, key=repr)
    total = sum(draws[s].count for s in strata)
    quotas = [min(size, total) * draws[s].count / total for s in strata]
    counts = [int(q) for q in quotas]
    for i in sorted(range(len(strata)), key=lambda i: (counts[i] - quotas[i], i))[
        : min(size, total) - sum(counts)
    ]:
        counts[i] += 1
    pairs = sorted(
        (h, record)
        for s, c in zip(strata, counts)
        for h, record in zip(draws[s].hashes[:c].tolist(), draws[s].records[:c])
    )
    return tuple(record for _, record in pairs)
