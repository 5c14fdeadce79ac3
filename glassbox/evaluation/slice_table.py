"""A bundle's slice accumulators, summed in memory up to a budget of bytes, and their merge.

With tens of thousands of small slices, the slices' sparse sums gain cells with almost every
example read (40,011 slices: about 125 MiB a million examples), so no step may hold them all
until the examples end. ``SliceTable`` holds a bundle's sums up to a budget; past it, and when
the bundle ends, they leave it, compacted, for the merge:

- through the runner's shuffle, as (slice key, part) pairs, on runners that keep a shuffle on
  disk (Dataflow, Flink, Spark);
- on Beam's in-process runners, whose shuffle is held in memory, as runs: files in a local
  directory of the parts in slice-key order (``write_run``), which ``merge_runs`` reads side by
  side, one slice at a time.

Either way the merge adds a slice's parts one at a time, so memory is bounded by the budget and
the slices' count, not by the examples'.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import os
import pickle
import shutil
import tempfile
import uuid
import zlib
from typing import Dict, Iterable, Iterator, Optional, Sequence, Tuple

from apache_beam.options.pipeline_options import PipelineOptions

from glassbox import beam_runner
from glassbox.data.types import SliceKey
from glassbox.errors import OutputError
from glassbox.evaluation.metrics_plan import MetricsPlan, SliceAccumulator
from glassbox.evaluation.sparse_sums import nbytes

# The sums one bundle holds before they leave for the merge.
BUDGET_BYTES = 256 << 20
# Batches summed between two counts of the table's bytes (a count visits every slice).
BATCHES_PER_COUNT = 16

Part = Tuple[SliceKey, bytes]


def compacted(accumulator: SliceAccumulator) -> bytes:
    """The accumulator as the merge receives it: pickled and compressed."""
    return zlib.compress(pickle.dumps(accumulator, protocol=pickle.HIGHEST_PROTOCOL), 1)


def expanded(part: bytes) -> SliceAccumulator:
    return pickle.loads(zlib.decompress(part))


def accumulator_bytes(accumulator: SliceAccumulator) -> int:
    return (
        sum(map(nbytes, accumulator.arrays))
        + accumulator.counts.nbytes
        + accumulator.weights.nbytes
    )


def merge_parts(plan: MetricsPlan, parts: Iterable[bytes]) -> SliceAccumulator:
    """A slice's compacted parts summed, decoding one at a time."""
    return plan.merge(map(expanded, parts))


def _order(key: SliceKey) -> Tuple[int, str]:
    """The order of slice keys in a run, the same in every process ('1' and 1 differ): the overall
    slice first (a failure that concerns every slice names it), then by number of columns."""
    return len(key), repr(key)


class SliceTable:
    """Per slice, the sum of the accumulators added since the table last emptied."""

    def __init__(self, plan: MetricsPlan, budget_bytes: int = BUDGET_BYTES):
        self._plan = plan
        self._budget_bytes = budget_bytes
        self._sums: Dict[SliceKey, SliceAccumulator] = {}
        self._batches_uncounted = 0

    def __len__(self) -> int:
        return len(self._sums)

    def add(self, accumulators: Iterable[Tuple[SliceKey, SliceAccumulator]]) -> bool:
        """Sums one batch's accumulators in; True when the sums have outgrown the budget."""
        for key, accumulator in accumulators:
            total = self._sums.get(key)
            # The first is copied: a batch's accumulators may be views of one array of the batch.
            self._sums[key] = (
                self._plan.merge([accumulator])
                if total is None
                else self._plan.add_into(total, accumulator)
            )
        self._batches_uncounted += 1
        if self._batches_uncounted < BATCHES_PER_COUNT:
            return False
        self._batches_uncounted = 0
        return sum(map(accumulator_bytes, self._sums.values())) > self._budget_bytes

    def drain(self) -> Iterator[Part]:
        """Every slice's part in slice-key order, compacted, freeing each as it goes; the table
        is then empty."""
        for key in sorted(self._sums, key=_order):
            yield key, compacted(self._sums.pop(key))
        self._batches_uncounted = 0


def run_directory(options: PipelineOptions) -> Optional[str]:
    """A new local directory for the runs of a pipeline on Beam's in-process runners (removed at
    this process's exit at the latest); None on other runners, whose shuffle takes the parts."""
    if not beam_runner.in_process(options):
        return None
    try:
        directory = tempfile.mkdtemp(prefix="glassbox-sums-")
    except OSError as e:
        raise _run_error(tempfile.gettempdir(), e) from e
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def run_paths(directory: str) -> Iterator[str]:
    """Paths for one bundle's runs in directory, in an order their names sort in."""
    prefix = os.path.join(directory, uuid.uuid4().hex)
    return (f"{prefix}-{number:06d}.run" for number in itertools.count())


def write_run(path: str, parts: Iterable[Part]) -> str:
    """Writes parts (in slice-key order) to path; returns it.

    Raises:
      OutputError: the file cannot be written (its directory gone or full).
    """
    try:
        with open(path, "wb") as f:
            for key, part in parts:
                pickle.dump((_order(key), key, part), f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as e:
        raise _run_error(os.path.dirname(path), e) from e
    return path


def _run_error(directory: str, e: OSError) -> OutputError:
    return OutputError(
        f"cannot write the slices' sums to {directory}, a temporary directory (TMPDIR chooses "
        f"it: a disk with room for about the compressed sums): {e.strerror or e}"
    )


def _read_run(path: str) -> Iterator[Tuple[Tuple[int, str], SliceKey, bytes]]:
    with open(path, "rb") as f:
        while True:
            try:
                yield pickle.load(f)
            except EOFError:
                return


def merge_runs(
    paths: Sequence[str], plan: MetricsPlan
) -> Iterator[Tuple[SliceKey, SliceAccumulator]]:
    """Every slice's accumulator from the runs (read side by side, each part decoded once, a
    slice's parts summed in the order of the runs' names); then their directories are deleted,
    with any run the runner wrote but did not deliver."""
    runs = [_read_run(path) for path in sorted(paths)]
    merged = heapq.merge(*runs, key=lambda record: record[0])
    for _, records in itertools.groupby(merged, key=lambda record: record[0]):
        records = list(records)  # one slice's parts, compacted
        yield records[0][1], merge_parts(plan, [part for _, _, part in records])
    for directory in {os.path.dirname(path) for path in paths}:
        shutil.rmtree(directory)
