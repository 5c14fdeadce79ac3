"""Finding TFRecord files of serialized tf.Examples, and reading them in Beam as batches.

Paths go through TensorFlow's filesystem layer (``tf.io.gfile``), so local paths and every
scheme TF reads (gs://, ...) work the same when resolving and when reading on workers.
"""

from __future__ import annotations

import itertools
import os
from typing import Iterator, List, Optional, Sequence

import apache_beam as beam
import tensorflow as tf

from glassbox.evaluation.errors import ConfigError, ExamplesError

DEFAULT_BATCH_SIZE = 4096
# TFX Evaluator evaluates the 'eval' split when no example_splits are given.
DEFAULT_SPLIT = "eval"
_SPLIT_DIR_PREFIX = "Split-"
# A TFRecord frames each record with a length (8 bytes) and two CRCs (4 bytes each).
_RECORD_FRAMING_BYTES = 16
_GZIP_MAGIC = b"\x1f\x8b"
# A GZIP file this small may hold no record at all (an empty member is ~20 bytes); larger ones do.
_MAX_EMPTY_GZIP_BYTES = 64


def resolve_example_files(path_or_glob: str, splits: Optional[Sequence[str]] = None) -> List[str]:
    """The non-empty TFRecord files that path_or_glob names, sorted.

    path_or_glob is a file, a glob, a directory of TFRecord files, or a TFX Examples artifact
    URI with ``Split-<name>/`` subdirectories; for an artifact, ``splits`` picks the splits
    (default: ``['eval']``, as TFX Evaluator), and giving ``splits`` for anything else is an
    error.

    Raises:
      ExamplesError: nothing matches, a split is missing (the message lists those that exist),
        or every file of the path or of a split is empty.
    """
    split_dirs = sorted(tf.io.gfile.glob(os.path.join(path_or_glob, _SPLIT_DIR_PREFIX + "*")))
    if split_dirs:
        existing = {os.path.basename(d)[len(_SPLIT_DIR_PREFIX):]: d for d in split_dirs}
        files = []
        for split in splits or [DEFAULT_SPLIT]:
            if split not in existing:
                raise ExamplesError(
                    f"split {split!r} not found in Examples artifact {path_or_glob}; "
                    f"its splits are {sorted(existing)}")
            files += _non_empty_files(os.path.join(existing[split], "*"), f"split {split!r} of")
        return files
    if splits:
        raise ExamplesError(
            f"cannot select splits {list(splits)} from {path_or_glob}: it is not a TFX Examples "
            f"artifact (no {_SPLIT_DIR_PREFIX}<name>/ subdirectories)")
    if tf.io.gfile.isdir(path_or_glob):
        return _non_empty_files(os.path.join(path_or_glob, "*"), "directory")
    return _non_empty_files(path_or_glob, "pattern")


def _non_empty_files(pattern: str, what: str) -> List[str]:
    """Files matching pattern that hold at least one record; what names the pattern in errors."""
    files = sorted(f for f in tf.io.gfile.glob(pattern) if not tf.io.gfile.isdir(f))
    if not files:
        raise ExamplesError(f"no files match {what} {pattern}")
    non_empty = [f for f in files if _has_records(f)]
    if not non_empty:
        raise ExamplesError(f"{what} {pattern} is empty: its {len(files)} file(s) hold no records")
    return non_empty


def _has_records(path: str) -> bool:
    size = tf.io.gfile.stat(path).length
    if size == 0:
        return False
    if size > _MAX_EMPTY_GZIP_BYTES or _compression_type(path) != "GZIP":
        return True
    return next(read_records(path), None) is not None


def _compression_type(path: str) -> str:
    """'GZIP' if the file starts with the gzip magic bytes, else '' (uncompressed)."""
    with tf.io.gfile.GFile(path, "rb") as f:
        return "GZIP" if f.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC else ""


def read_records(path: str) -> Iterator[bytes]:
    """The records of a TFRecord file, compressed or not, checksums verified.

    Uses TF's C++ record reader through ``tf.compat.v1.io.tf_record_iterator``: it reads ~5x
    faster than ``tf.data.TFRecordDataset(...).batch`` (1.2 vs 6 us per record) and ~3x faster
    than Beam's pure-Python TFRecord reader.

    TF's zlib stream takes a gzip file cut short for a complete one, so for gzip files the bytes
    read are checked against the size in the gzip trailer (ISIZE: uncompressed size mod 2**32;
    ExampleGen and TFRecordWriter write a single gzip member).

    Raises:
      ExamplesError: the file is missing, truncated or corrupt (names the file).
    """
    compression = _compression_type(path)
    uncompressed_size = 0
    try:
        for record in tf.compat.v1.io.tf_record_iterator(path, compression):
            uncompressed_size += len(record) + _RECORD_FRAMING_BYTES
            yield record
    except tf.errors.OpError as e:
        raise ExamplesError(f"cannot read TFRecord file {path}: {e.message}") from e
    if compression == "GZIP" and _gzip_trailer_size(path) != uncompressed_size % 2**32:
        raise ExamplesError(f"TFRecord file {path} is truncated: its gzip stream ends before its "
                            "trailer, so some of its records are lost")


def _gzip_trailer_size(path: str) -> int:
    """ISIZE, the last 4 bytes of a gzip file (little-endian)."""
    with tf.io.gfile.GFile(path, "rb") as f:
        f.seek(tf.io.gfile.stat(path).length - 4)
        return int.from_bytes(f.read(4), "little")


class _ReadRecordBatchesFn(beam.DoFn):
    """Reads a whole TFRecord file and emits its records in lists of at most batch_size."""

    def __init__(self, batch_size: int):
        self._batch_size = batch_size

    def process(self, path: str) -> Iterator[List[bytes]]:
        records = read_records(path)
        while batch := list(itertools.islice(records, self._batch_size)):
            yield batch


class ReadExampleBatches(beam.PTransform):
    """Reads TFRecord files of serialized tf.Examples into lists of at most batch_size records.

    Input: the pipeline root. Output: a PCollection of ``List[bytes]``; a batch never spans two
    files. Each file is read whole by one worker, GZIP or not as its magic bytes say (not its
    extension). Files are reshuffled before reading so that Dataflow/Flink spread them over
    workers; Beam's own TFRecord source is not splittable within a file either. Reading in a
    DoFn and batching there moves ~1k elements per second of work through Beam instead of one
    per record: on DirectRunner it reads 100k records (4 GZIP files) in 0.5 s against 0.95 s for
    ``ReadFromTFRecord | BatchElements`` (which also picks compression only by extension).

    Args:
      file_patterns: files or globs, e.g. from ``resolve_example_files``.
      batch_size: records per emitted batch (the last batch of a file may be smaller).
    """

    def __init__(self, file_patterns: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__()
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        self._file_patterns = list(file_patterns)
        self._batch_size = batch_size

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (pbegin
                | "FilePatterns" >> beam.Create(self._file_patterns)
                | "MatchFiles" >> beam.FlatMap(tf.io.gfile.glob)
                | "SpreadFiles" >> beam.Reshuffle()
                | "ReadBatches" >> beam.ParDo(_ReadRecordBatchesFn(self._batch_size)))
