"""Count reconciliation: an evaluation fails, with nothing written, unless every record read from
the example files reached the metrics, whatever the Beam runner.

The examples are counted where the metrics are: each Batch adds its row count under a key of its
own (EXAMPLES_KEY) beside its slices' accumulators, through the same table and merge, so a bundle
the runner loses takes its count with it. ``WriteExamplesRead`` writes both totals into the
evaluation (``keys.EXAMPLES_READ_FILE``); ``check_examples_read`` compares them before the
evaluation's files are moved into place, and a missing total (a runner that dropped the whole
output) fails too.
"""

from __future__ import annotations

import json
import os

import apache_beam as beam
import tensorflow as tf

from glassbox.data.types import SliceKey
from glassbox.evaluation.errors import ExamplesLostError
from glassbox.keys import EXAMPLES_READ_FILE
from glassbox.staging import writing

# The key the examples' count is accumulated under; no slicing spec produces it.
EXAMPLES_KEY: SliceKey = (("__glassbox_examples__", ""),)
READ = "records_read"
EVALUATED = "examples_evaluated"


def _write(totals: dict, path: str) -> None:
    with writing(os.path.dirname(path)), tf.io.gfile.GFile(path, "w") as f:
        json.dump(totals, f, sort_keys=True)


class WriteExamplesRead(beam.PTransform):
    """{READ: record counts, EVALUATED: example counts} -> their totals in EXAMPLES_READ_FILE."""

    def __init__(self, output_dir: str):
        super().__init__()
        self._path = os.path.join(output_dir, EXAMPLES_READ_FILE)

    def expand(self, counts):
        totals = [
            counts[name]
            | f"Total{name.title().replace('_', '')}"
            >> beam.CombineGlobally(sum).without_defaults()
            | f"Name{name.title().replace('_', '')}"
            >> beam.Map(lambda n, name=name: (name, int(n)))
            for name in (READ, EVALUATED)
        ]
        return (
            totals
            | "BothTotals" >> beam.Flatten()
            | "AsDict" >> beam.combiners.ToDict()
            | "WriteTotals" >> beam.Map(_write, self._path)
        )


def check_examples_read(directory: str) -> None:
    """Raises ExamplesLostError unless directory's EXAMPLES_READ_FILE shows every record read
    reached the metrics."""
    path = os.path.join(directory, EXAMPLES_READ_FILE)
    try:
        with tf.io.gfile.GFile(path) as f:
            totals = json.load(f)
    except tf.errors.NotFoundError:
        totals = {}
    read, evaluated = totals.get(READ), totals.get(EVALUATED)
    if read is None or evaluated is None or read != evaluated:
        raise ExamplesLostError(
            f"the Beam runner lost examples: {_count(read)} records were read from the example "
            f"files, {_count(evaluated)} examples reached the metrics; nothing was written. Run again, or "
            "on another runner (Beam's DaskRunner drops DoFn.finish_bundle output)"
        )


def _count(value) -> str:
    return "an unknown number of" if value is None else str(value)
