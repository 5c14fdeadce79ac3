"""Files at local paths or at remote artifact URIs (gs://, s3://, hdfs://, ...): the os module for
local paths, TensorFlow's tf.io.gfile for URIs, imported only then. Commands that read decisions
or write pages on local paths so never pay for TensorFlow's import (about 8 s).

Every function raises OSError, also for a URI (TensorFlow's error's message as its text).
"""

from __future__ import annotations

import contextlib
import glob as glob_module
import os
import shutil
from typing import BinaryIO, Iterator, List


def is_uri(path: str) -> bool:
    """Whether path names a file system other than the local one (it has a scheme)."""
    return "://" in path


@contextlib.contextmanager
def _gfile_errors() -> Iterator[None]:
    import tensorflow as tf

    try:
        yield
    except tf.errors.OpError as e:
        raise OSError(e.message) from e


def exists(path: str) -> bool:
    if not is_uri(path):
        return os.path.exists(path)
    import tensorflow as tf

    with _gfile_errors():
        return tf.io.gfile.exists(path)


def isdir(path: str) -> bool:
    if not is_uri(path):
        return os.path.isdir(path)
    import tensorflow as tf

    with _gfile_errors():
        return tf.io.gfile.isdir(path)


def makedirs(path: str) -> None:
    if not is_uri(path):
        os.makedirs(path, exist_ok=True)
        return
    import tensorflow as tf

    with _gfile_errors():
        tf.io.gfile.makedirs(path)


def read_text(path: str) -> str:
    """The file's text (UTF-8)."""
    if not is_uri(path):
        with open(path, encoding="utf-8") as f:
            return f.read()
    import tensorflow as tf

    with _gfile_errors(), tf.io.gfile.GFile(path) as f:
        return f.read()


def write_text(path: str, text: str) -> None:
    """Writes text (UTF-8) to path, replacing what it held."""
    if not is_uri(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    import tensorflow as tf

    with _gfile_errors(), tf.io.gfile.GFile(path, "w") as f:
        f.write(text)


def rename(source: str, target: str) -> None:
    """Renames source to target, replacing any target."""
    if not (is_uri(source) or is_uri(target)):
        os.replace(source, target)
        return
    import tensorflow as tf

    with _gfile_errors():
        tf.io.gfile.rename(source, target, overwrite=True)


def copy(source: str, target: str) -> None:
    """Copies the file source to target, replacing any target."""
    if not (is_uri(source) or is_uri(target)):
        shutil.copyfile(source, target)
        return
    import tensorflow as tf

    with _gfile_errors():
        tf.io.gfile.copy(source, target, overwrite=True)


def listdir(path: str) -> List[str]:
    """The names of the directory's entries (a URI's subdirectories without their trailing '/')."""
    if not is_uri(path):
        return os.listdir(path)
    import tensorflow as tf

    with _gfile_errors():
        return [name.rstrip("/") for name in tf.io.gfile.listdir(path)]


def rmtree(path: str) -> None:
    """Removes the directory and everything in it."""
    if not is_uri(path):
        shutil.rmtree(path)
        return
    import tensorflow as tf

    with _gfile_errors():
        tf.io.gfile.rmtree(path)


def remove(path: str) -> None:
    if not is_uri(path):
        os.remove(path)
        return
    import tensorflow as tf

    with _gfile_errors():
        tf.io.gfile.remove(path)


def glob(pattern: str) -> List[str]:
    """The paths matching pattern (shell wildcards, as tf.io.gfile.glob reads them), sorted."""
    if not is_uri(pattern):
        return sorted(glob_module.glob(pattern))
    import tensorflow as tf

    with _gfile_errors():
        return sorted(tf.io.gfile.glob(pattern))


@contextlib.contextmanager
def open_binary(path: str, mode: str = "rb") -> Iterator[BinaryIO]:
    """The file opened for reading bytes ("rb") or for writing them ("wb", replacing it)."""
    if not is_uri(path):
        with open(path, mode) as f:
            yield f
        return
    import tensorflow as tf

    with _gfile_errors(), tf.io.gfile.GFile(path, mode) as f:
        yield f
