"""Finding example files, and reading them in batches (Python lists and tf.data string tensors)."""

import os

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from glassbox.data.errors import ExamplesError
from glassbox.data.examples import (
    MatchExampleFiles,
    check_complete,
    record_dataset,
    record_lists,
    resolve_example_files,
)
from tests.support import saved_models

RECORDS = saved_models.serialize(saved_models.make_examples(25))


def assert_batches(path, batch_size, sizes, records):
    """Both readers give the file's records in batches of these sizes, in order."""
    lists = list(record_lists(path, batch_size))
    tensors = [[bytes(r) for r in batch.numpy()] for batch in record_dataset(path, batch_size)]
    for batches in (lists, tensors):
        assert [len(b) for b in batches] == sizes
        assert [r for b in batches for r in b] == records


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    uri = str(tmp_path_factory.mktemp("examples"))
    return saved_models.write_examples_artifact(
        uri, {"train": RECORDS, "eval": RECORDS[:10], "empty": []}, num_shards=2
    )


def test_artifact_splits_default_to_eval_as_tfx_evaluator(artifact):
    files = resolve_example_files(artifact)
    assert files == sorted(
        os.path.join(artifact, "Split-eval", f"data_tfrecord-0000{i}-of-00002.gz") for i in (0, 1)
    )


def test_artifact_splits_are_selected_by_name(artifact):
    files = resolve_example_files(artifact, splits=["train", "eval"])
    assert [os.path.basename(os.path.dirname(f)) for f in files] == ["Split-train"] * 2 + [
        "Split-eval"
    ] * 2


def test_missing_split_lists_the_existing_ones(artifact):
    with pytest.raises(
        ExamplesError, match=r"split 'test' not found.*\['empty', 'eval', 'train'\]"
    ):
        resolve_example_files(artifact, splits=["test"])


def test_split_of_empty_gzip_files_is_an_error_naming_the_split(artifact):
    with pytest.raises(ExamplesError, match=r"split 'empty' of .*Split-empty.* is empty"):
        resolve_example_files(artifact, splits=["empty"])


def test_file_glob_and_directory(tmp_path):
    a = saved_models.write_tfrecords(str(tmp_path / "a.tfrecord"), RECORDS, gzip=False)
    b = saved_models.write_tfrecords(str(tmp_path / "b.gz"), RECORDS)
    (tmp_path / "zero_bytes").write_bytes(b"")
    assert resolve_example_files(a) == [a]
    assert resolve_example_files(str(tmp_path / "*.gz")) == [b]
    assert resolve_example_files(str(tmp_path)) == [a, b]


def test_nothing_matching_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(ExamplesError, match=r"no files match pattern .*nothing-\*\.gz"):
        resolve_example_files(str(tmp_path / "nothing-*.gz"))


def test_only_zero_byte_files_is_an_empty_error(tmp_path):
    (tmp_path / "part-0").write_bytes(b"")
    with pytest.raises(ExamplesError, match="directory .* is empty"):
        resolve_example_files(str(tmp_path))


def test_splits_of_a_plain_directory_are_refused(tmp_path):
    saved_models.write_tfrecords(str(tmp_path / "a.gz"), RECORDS)
    with pytest.raises(ExamplesError, match=r"cannot select splits \['eval'\].*not a TFX Examples"):
        resolve_example_files(str(tmp_path), splits=["eval"])


@pytest.mark.parametrize(
    "name, gzip", [("gzip.gz", True), ("gzip_no_extension", True), ("plain.gz", False)]
)
def test_batches_hold_every_record_whatever_the_compression_or_extension(tmp_path, name, gzip):
    # Compression is read from the magic bytes, not the name.
    path = saved_models.write_tfrecords(str(tmp_path / name), RECORDS, gzip=gzip)
    assert_batches(path, 10, sizes=[10, 10, 5], records=RECORDS)


def test_record_lists_skip_whole_batches(tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "a.gz"), RECORDS)
    assert list(record_lists(path, 10, skip=2)) == [RECORDS[20:]]
    assert list(record_lists(path, 10, skip=3)) == []


def test_patterns_are_expanded_into_files_in_beam(tmp_path):
    files = [
        saved_models.write_tfrecords(str(tmp_path / f"part-{i}.gz"), RECORDS) for i in range(3)
    ]
    other = saved_models.write_tfrecords(str(tmp_path / "other.tfrecord"), RECORDS, gzip=False)
    with beam.Pipeline() as pipeline:
        paths = pipeline | MatchExampleFiles([str(tmp_path / "part-*.gz"), other])
        assert_that(paths, equal_to(files + [other]))


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "uncompressed"])
def test_truncated_file_fails_naming_it(tmp_path, gzip):
    path = saved_models.write_tfrecords(str(tmp_path / "broken.tfrecord"), RECORDS, gzip=gzip)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    with pytest.raises(ExamplesError, match=r"cannot read TFRecord file .*broken\.tfrecord"):
        list(record_lists(path, 10))


def test_gzip_file_cut_at_a_record_boundary_is_caught_by_its_trailer(tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "cut.gz"), RECORDS)
    record_bytes = sum(len(r) for r in RECORDS)
    check_complete(path, len(RECORDS), record_bytes)
    with pytest.raises(ExamplesError, match=r"TFRecord file .*cut\.gz is truncated"):
        check_complete(path, len(RECORDS) - 1, record_bytes - len(RECORDS[-1]))
    plain = saved_models.write_tfrecords(str(tmp_path / "plain"), RECORDS, gzip=False)
    check_complete(plain, len(RECORDS), record_bytes)


def test_uncompressed_file_cut_inside_a_record_header_fails_naming_it(tmp_path):
    """TF's reader reads the records before a cut inside a record's 12-byte header and silently
    drops the rest: the file's size tells."""
    path = saved_models.write_tfrecords(str(tmp_path / "cut.tfrecord"), RECORDS, gzip=False)
    kept = sum(len(r) + 16 for r in RECORDS[:20])
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: kept + 5])
    with pytest.raises(
        ExamplesError,
        match=r"TFRecord file .*cut\.tfrecord is truncated: it ends inside the header of the "
        r"record after its 20 complete records",
    ):
        list(record_lists(path, 10))


def test_corrupt_record_fails_naming_the_file(tmp_path):
    path = saved_models.write_tfrecords(str(tmp_path / "corrupt.tfrecord"), RECORDS, gzip=False)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(
        ExamplesError, match=r"cannot read TFRecord file .*corrupt\.tfrecord.*corrupted record"
    ):
        list(record_lists(path, 10))
