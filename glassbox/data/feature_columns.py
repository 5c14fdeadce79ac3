"""Dense numpy arrays from the list-typed Arrow columns tfx_bsl decodes tf.Examples into.

Labels, example weights and named model inputs all need "exactly w values in every example" of
one feature; this module checks that for a whole batch at once and says which example is off.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from glassbox.data.errors import FeatureTypeError, MissingFeatureError


def holds_bytes(column: pa.Array) -> bool:
    """Whether a list column's values are bytes/strings (tf.Example bytes_list)."""
    value_type = column.type.value_type
    return (
        pa.types.is_binary(value_type)
        or pa.types.is_large_binary(value_type)
        or pa.types.is_string(value_type)
        or pa.types.is_large_string(value_type)
    )


def dense_values(
    features: pa.RecordBatch, name: str, use: str, width: Optional[int] = None
) -> np.ndarray:
    """Feature ``name`` as an (n, width) numpy array; every example must hold exactly width values.

    width None accepts any width the examples agree on. ``use`` says what the feature is for
    (e.g. "label_key of model 'candidate'") in error messages.

    Raises:
      MissingFeatureError: no example has the feature, or some examples lack it (says how many
        and the first row).
      FeatureTypeError: some examples hold a different number of values (first row and count).
    """
    index = features.schema.get_field_index(name)
    if index < 0:
        raise MissingFeatureError(
            f"feature {name!r} ({use}) is in none of the examples; they have {sorted(features.schema.names)}"
        )
    column = features.column(index)
    lengths = np.asarray(pc.list_value_length(column).fill_null(0))
    check_rows(lengths == 0, name, use, "lack it", MissingFeatureError)
    width = int(lengths[0]) if width is None else width
    check_rows(
        lengths != width,
        name,
        use,
        f"hold a number of values other than {width}",
        FeatureTypeError,
        lengths,
    )
    return pc.list_flatten(column).to_numpy(zero_copy_only=False).reshape(len(lengths), width)


def check_rows(
    bad: np.ndarray,
    name: str,
    use: str,
    problem: str,
    error: type,
    held: Optional[np.ndarray] = None,
) -> None:
    """Raises error (a DataError) if any row is bad, saying how many and the first (and, given
    held, what it holds)."""
    rows = np.flatnonzero(bad)
    if rows.size:
        first = rows[0]
        detail = f" holds {held[first]}" if held is not None else ""
        raise error(
            f"feature {name!r} ({use}): {rows.size} of {bad.size} examples {problem} "
            f"(first: row {first}{detail})"
        ).at_row(first)
