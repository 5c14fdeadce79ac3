"""Which rows of a batch fall in which TFMA slices, computed for the whole batch at once.

Reproduces TFMA's ``slicer_lib.SingleSliceSpec.generate_slices`` (applied per example by
``SliceKeyExtractor``) with Arrow/numpy over all rows: a Python loop runs only over slicing
specs, sliced columns and distinct slice keys. TFMA's rules, kept here:

* ``feature_keys`` slices by every value of the feature; several keys cross: one slice per
  combination of an example's values. An example's repeated values count once.
* ``feature_values`` keeps the examples that have that value. The value string is typed as
  TFMA types it ('5' -> 5, '0.5' -> 0.5, else str) and the key holds that typed value; a str
  matches bytes features, a number matches numeric features (float32 values compared as float64).
* An example lacking a sliced feature (or with no value for it) is in no slice of that spec.
* Key values are str for bytes features (UTF-8 decoded), int for int64, float for float32.
* Key entries are sorted by feature name; a row is in a slice once even if several specs
  produce its key. Keys equal in Python (``('count', 2) == ('count', 2.0)``) are one slice,
  typed as the first spec produces it, as TFMA's per-example ``set()`` of keys leaves them.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.errors import FeatureTypeError
from glassbox.data.feature_columns import holds_bytes
from glassbox.data.types import SliceKey, SliceMembership, SliceValue

_EMPTY = np.zeros(0, dtype=np.int64)


def spec_value(value: str) -> SliceValue:
    """A feature_values value typed as TFMA types it (slicer_lib._to_type, private in TFMA)."""
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


def _column(features: pa.RecordBatch, name: str) -> Optional[pa.Array]:
    index = features.schema.get_field_index(name)
    return features.column(index) if index >= 0 else None


def _rows_with_value(features: pa.RecordBatch, name: str, value: SliceValue) -> np.ndarray:
    """Boolean mask of the rows whose feature name holds value, matched as TFMA matches it."""
    hits = np.zeros(features.num_rows, dtype=bool)
    column = _column(features, name)
    if column is None or holds_bytes(column) != isinstance(value, str):
        return hits
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False)
    if isinstance(value, str):
        value = value.encode()
    elif values.dtype.kind == "f":
        values = values.astype(np.float64)
    hits[np.asarray(pc.list_parent_indices(column))[values == value]] = True
    return hits


def _distinct_values(column: pa.Array) -> Tuple[np.ndarray, np.ndarray, pa.Array]:
    """Each row's distinct values: parallel (rows, codes) grouped by row, and the code dictionary."""
    encoded = pc.dictionary_encode(pc.list_flatten(column))
    rows = np.asarray(pc.list_parent_indices(column))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if np.any(np.diff(rows) == 0):  # some row holds several values, maybe repeated
        size = len(encoded.dictionary)
        pairs = np.unique(rows * size + codes)
        rows, codes = pairs // size, pairs % size
    return rows, codes, encoded.dictionary


def _cross(
    rows: np.ndarray,
    combos: np.ndarray,
    table: np.ndarray,
    other_rows: np.ndarray,
    other_codes: np.ndarray,
    other_size: int,
    num_rows: int,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs every entry with every other entry of its row (other_rows grouped by row).

    An entry's combo indexes ``table``, whose rows hold a code per column crossed so far.
    Returns the paired entries' rows and combos, and the table with the other column added.
    """
    other_counts = np.bincount(other_rows, minlength=num_rows)
    other_starts = np.cumsum(other_counts) - other_counts
    repeats = other_counts[rows]
    entry = np.repeat(np.arange(rows.size), repeats)
    offsets = np.arange(entry.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    other_entry = other_starts[rows[entry]] + offsets
    pairs, combos = np.unique(
        combos[entry] * other_size + other_codes[other_entry], return_inverse=True
    )
    return rows[entry], combos, np.column_stack([table[pairs // other_size], pairs % other_size])


def used_codes(codes: np.ndarray, num_codes: int) -> Tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)`` for codes in [0, num_codes), by counting (no sort)."""
    used = np.flatnonzero(np.bincount(codes, minlength=num_codes))
    position = np.zeros(num_codes, dtype=np.int64)
    position[used] = np.arange(len(used))
    return used, position[codes]


def _key_value(value, feature: str) -> SliceValue:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError as e:
            raise FeatureTypeError(
                f"feature {feature!r} is sliced on but holds the non-UTF-8 "
                f"value {value!r}, which cannot be a slice key"
            ) from e
    return value


class _SpecSlicer:
    """The slices of one SlicingSpec."""

    def __init__(self, spec: config_pb2.SlicingSpec):
        self._columns = sorted(set(spec.feature_keys))
        self._value_matches = sorted(
            (name, spec_value(v)) for name, v in spec.feature_values.items()
        )

    def slices(self, features: pa.RecordBatch) -> Tuple[np.ndarray, List[SliceKey], np.ndarray]:
        """(rows, keys, key index of each row entry); a row appears once per slice it is in."""
        selected = np.ones(features.num_rows, dtype=bool)
        for name, value in self._value_matches:
            selected &= _rows_with_value(features, name, value)
        if not self._columns:
            rows = np.flatnonzero(selected)
            if not rows.size:
                return _EMPTY, [], _EMPTY
            return rows, [tuple(self._value_matches)], np.zeros(rows.size, dtype=np.int64)
        rows, combos, table, dictionaries = None, None, None, []
        for name in self._columns:
            column = _column(features, name)
            if column is None:
                return _EMPTY, [], _EMPTY
            column_rows, column_codes, dictionary = _distinct_values(column)
            keep = selected[column_rows]
            column_rows, column_codes = column_rows[keep], column_codes[keep]
            dictionaries.append(dictionary)
            if rows is None:
                rows, combos, table = column_rows, column_codes, np.arange(len(dictionary))[:, None]
            else:
                rows, combos, table = _cross(
                    rows,
                    combos,
                    table,
                    column_rows,
                    column_codes,
                    len(dictionary),
                    features.num_rows,
                )
        used, inverse = used_codes(combos, len(table))
        keys = [
            tuple(
                sorted(
                    self._value_matches
                    + [
                        (name, _key_value(dictionary[code].as_py(), name))
                        for name, dictionary, code in zip(self._columns, dictionaries, combo)
                    ]
                )
            )
            for combo in table[used]
        ]
        return rows, keys, inverse.reshape(-1)


def evaluated_slicing_specs(
    eval_config: config_pb2.EvalConfig,
) -> List[Tuple[str, config_pb2.SlicingSpec]]:
    """The specs TFMA slices an evaluation by, each with its field path in the config.

    As TFMA's SliceKeyExtractor: ``slicing_specs``, then each cross slicing spec's baseline and
    comparison specs not among them yet; the overall slice when there are none at all.
    """
    found: List[Tuple[str, config_pb2.SlicingSpec]] = [
        (f"slicing_specs[{i}]", spec) for i, spec in enumerate(eval_config.slicing_specs)
    ]
    for i, cross in enumerate(eval_config.cross_slicing_specs):
        path = f"cross_slicing_specs[{i}]"
        candidates = [(f"{path}.baseline_spec", cross.baseline_spec)]
        candidates += [(f"{path}.slicing_specs[{j}]", s) for j, s in enumerate(cross.slicing_specs)]
        for where, spec in candidates:
            if all(_spec_identity(spec) != _spec_identity(known) for _, known in found):
                found.append((where, spec))
    return found or [("overall", config_pb2.SlicingSpec())]


def _spec_identity(spec: config_pb2.SlicingSpec) -> Tuple:
    """What makes two specs the same (TFMA's SingleSliceSpec equality: order does not count)."""
    return tuple(sorted(spec.feature_keys)), tuple(sorted(spec.feature_values.items()))


def sliced_features(slicing_specs: Sequence[config_pb2.SlicingSpec]) -> Set[str]:
    """The features the specs slice on or filter by."""
    return {name for spec in slicing_specs for name in (*spec.feature_keys, *spec.feature_values)}


class Slicer:
    """Slice membership of batches for a list of TFMA SlicingSpecs.

    Pass the specs TFMA would use (``evaluated_slicing_specs``).
    """

    def __init__(self, slicing_specs: Sequence[config_pb2.SlicingSpec]):
        self._spec_slicers = [_SpecSlicer(spec) for spec in slicing_specs]

    def membership(self, features: pa.RecordBatch) -> SliceMembership:
        """The slices each row of the batch belongs to.

        Raises:
          FeatureTypeError: a sliced bytes feature holds a value that is not UTF-8.
        """
        key_ids: Dict[SliceKey, int] = {}
        rows, groups = [_EMPTY], [_EMPTY]
        keys_shared = False  # by two specs: rows in both would be listed twice
        for spec_slicer in self._spec_slicers:
            spec_rows, keys, key_index = spec_slicer.slices(features)
            known = len(key_ids)
            ids = np.array([key_ids.setdefault(key, len(key_ids)) for key in keys], dtype=np.int64)
            keys_shared |= bool(ids.size) and int(ids.min()) < known
            rows.append(spec_rows)
            groups.append(ids[key_index])
        rows, groups = np.concatenate(rows), np.concatenate(groups)
        if keys_shared:
            num_rows = features.num_rows
            pairs = np.unique(groups * num_rows + rows)
            rows, groups = pairs % num_rows, pairs // num_rows
        return SliceMembership(keys=list(key_ids), rows=rows, groups=groups)
