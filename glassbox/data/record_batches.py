"""TFRecord files -> batches of serialized tf.Examples, file after file, and what was read of each.

A *model batch* is batch_size consecutive records of one file (the last one of a file may hold
fewer): the models are called on one at a time. ``FileProgress`` counts the model batches, records
and bytes made into Batches so far, so that reading can resume after the last of them and the file
be checked whole at its end (``examples.check_complete``); ``serialized_batches`` reads the files'
model batches with tf.data, ``FileProgress.rest`` the rest of one file in Python.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator, List, Sequence

import tensorflow as tf

from glassbox.data.examples import check_complete, compression_type, record_dataset, record_lists


@dataclasses.dataclass
class FileProgress:
    """What of a TFRecord file has been made into Batches: its first ``model_batches`` model
    batches, of ``records`` records totalling ``record_bytes`` bytes."""

    path: str
    model_batches: int = 0
    records: int = 0
    record_bytes: int = 0

    def add(self, model_batches: int, records: int, record_bytes: int) -> None:
        self.model_batches += model_batches
        self.records += records
        self.record_bytes += record_bytes

    def add_records(self, serialized: Sequence[bytes]) -> None:
        """Counts one model batch of these records."""
        self.add(1, len(serialized), sum(map(len, serialized)))

    def rest(self, batch_size: int) -> Iterator[List[bytes]]:
        """The file's model batches after those counted, as lists of records (``read_records``:
        a missing, corrupt or truncated file raises ExamplesError naming it)."""
        return record_lists(self.path, batch_size, skip=self.model_batches)

    def check_complete(self) -> None:
        """Raises ExamplesError if the file holds more than was counted (a gzip file cut short, an
        uncompressed one cut inside a record header)."""
        check_complete(self.path, self.records, self.record_bytes)


def serialized_batches(
    files: Sequence[FileProgress],
    batch_size: int,
    per_file: Callable[[tf.data.Dataset], tf.data.Dataset],
) -> tf.data.Dataset:
    """One tf.data pipeline over the files, one after another: each file's model batches (string
    tensors of serialized records; for the first file, those after its counted ones) go through
    per_file, whose elements come out tagged with the file's index in files.

    TF's C++ reader reads on tf.data's threads; tf.data's parallel interleave (cycle_length 1)
    opens the next file ahead and buffers its first elements while Python works on the last ones
    of the file before. A missing or corrupt file fails the iteration with a TF error, and a gzip
    file cut short, or an uncompressed one cut inside a record header, reads as complete: see
    ``FileProgress.check_complete``.
    """
    paths = tf.constant([file.path for file in files])
    compressions = tf.constant([compression_type(file.path) for file in files])
    skip = tf.constant(files[0].model_batches if files else 0, tf.int64)

    @tf.autograph.experimental.do_not_convert  # plain TF calls: AutoGraph would only add ~0.2 s
    def file_pipeline(index):
        records = record_dataset(paths[index], batch_size, compressions[index])
        elements = per_file(records.skip(tf.where(index == 0, skip, 0)))
        return elements.map(lambda *element: (index, *element))

    return (
        tf.data.Dataset.range(len(files))
        .interleave(file_pipeline, cycle_length=1, num_parallel_calls=1, deterministic=True)
        .prefetch(1)
    )
