"""TFRecord files read and written without TensorFlow: each record's length and data, both
checked against their masked CRC32C (google-crc32c computes it), as TensorFlow's reader checks
them; written byte for byte as tf.io.TFRecordWriter writes them.

A record is: length (uint64, little-endian), the length's masked CRC32C (uint32), the data, the
data's masked CRC32C (uint32). Local paths are read and written with the os module, URIs through
`glassbox.filesystem` (tf.io.gfile, imported only for them).
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Iterable, Iterator

import google_crc32c

from glassbox import filesystem

_HEADER = struct.Struct("<QI")
_LENGTH = struct.Struct("<Q")
_FOOTER = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


class CorruptRecordError(ValueError):
    """A record is truncated or its CRC does not match; the message says at which byte."""


def masked_crc32c(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def read_records(path: str) -> Iterator[bytes]:
    """The records of an uncompressed TFRecord file, in order.

    Raises:
      CorruptRecordError: a record is truncated or corrupt.
      OSError: the file cannot be read.
    """
    with filesystem.open_binary(path) as f:
        yield from _records(f)


def write_records(path: str, records: Iterable[bytes]) -> None:
    """Writes the records into an uncompressed TFRecord file at path, replacing it.

    Raises:
      OSError: the file cannot be written.
    """
    with filesystem.open_binary(path, "wb") as f:
        for record in records:
            length = _LENGTH.pack(len(record))
            f.write(length + _FOOTER.pack(masked_crc32c(length)))
            f.write(record)
            f.write(_FOOTER.pack(masked_crc32c(record)))


def _records(f: BinaryIO) -> Iterator[bytes]:
    offset = 0
    while True:
        header = f.read(_HEADER.size)
        if not header:
            return
        if len(header) < _HEADER.size:
            raise CorruptRecordError(f"truncated record header at byte {offset}")
        length, length_crc = _HEADER.unpack(header)
        if masked_crc32c(header[:8]) != length_crc:
            raise CorruptRecordError(f"corrupted record length at byte {offset}")
        data = f.read(length)
        footer = f.read(_FOOTER.size)
        if len(data) < length or len(footer) < _FOOTER.size:
            raise CorruptRecordError(f"truncated record at byte {offset} ({length} bytes of data)")
        if masked_crc32c(data) != _FOOTER.unpack(footer)[0]:
            raise CorruptRecordError(f"corrupted record data at byte {offset}")
        offset += _HEADER.size + length + _FOOTER.size
        yield data
