"""tfx_bsl's decoding of serialized tf.Examples into Arrow columns, its failures named."""

from __future__ import annotations

from typing import Optional, Sequence

import pyarrow as pa
from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

from glassbox.data.errors import ExamplesError


class ExampleDecoder:
    """Decodes every feature of a batch of serialized tf.Examples (tfx_bsl's C++ decoder) into
    list-typed Arrow columns: with a Schema, its features with their declared types; without one,
    the features of the batch, each typed as the batch holds it.

    It cannot be pickled: in a Beam DoFn, build it in ``setup()``.

    Args:
      schema: optional serialized TFMD Schema.
    """

    def __init__(self, schema: Optional[bytes] = None):
        self._decoder = (
            ExamplesToRecordBatchDecoder(schema) if schema else ExamplesToRecordBatchDecoder()
        )

    def decode(self, serialized: Sequence[bytes]) -> pa.RecordBatch:
        """The batch's features.

        Raises:
          ExamplesError: a record is not a tf.Example, or a feature's list type differs between
            examples or from the Schema (tfx_bsl's message names the feature).
        """
        try:
            return self._decoder.DecodeBatch(list(serialized))
        except RuntimeError as e:
            raise ExamplesError(
                f"cannot decode a batch of {len(serialized)} tf.Examples: {e}"
            ) from e
