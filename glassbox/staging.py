"""Staging directories: a run writes its files into one inside the output directory and renames
them into place once all are written, so a reader never sees a partial output.

A staging directory is named after the run's host and process (``.incomplete-<host>-<pid>-<id>``),
so that a later run on the same host removes those whose process is gone (killed) and never one
of a run still going. Writing into a directory left by a killed run (no completion file) goes
over the files it left. A run into a local directory claims it (``claimed``): of two concurrent
runs into one directory, one writes and the other gets an error naming it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import uuid
from typing import Iterable, Tuple

from glassbox import filesystem, keys, tfrecords
from glassbox.errors import OutputError

CLAIM_FILE = ".writing"


def _owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _gone(owner: str) -> bool:
    """Whether the run named host-pid ran on this host and no longer runs."""
    host, _, pid = owner.rpartition("-")
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


@contextlib.contextmanager
def claimed(output_dir: str):
    """Holds output_dir for this run while it writes there (a local directory: a ``.writing``
    file created exclusively, naming the run; object stores have no exclusive create, so there
    concurrent runs are not detected). A claim of a killed run on this host is taken over.

    Raises:
      OutputError: another run holds the directory, or it cannot be written.
    """
    if "://" in output_dir:
        yield
        return
    path = os.path.join(output_dir, CLAIM_FILE)
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise OutputError(
            f"cannot write into the output directory {output_dir!r}: Not a directory (a file)"
        )
    if os.path.islink(output_dir) and not os.path.exists(output_dir):
        raise OutputError(
            f"cannot write into the output directory {output_dir!r}: a symbolic link to "
            f"{os.readlink(output_dir)!r}, which does not exist"
        )
    try:
        os.makedirs(output_dir, exist_ok=True)
        while True:
            try:
                claim = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                break
            except FileExistsError:
                with open(path) as f:
                    holder = f.read().strip()
                if not _gone(holder):
                    raise OutputError(
                        f"another run ({holder}) is writing into {output_dir!r}; wait for it, or "
                        f"if it no longer runs (on another host), remove {path}"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        with os.fdopen(claim, "w") as f:
            f.write(_owner())
    except OSError as e:
        raise output_error(output_dir, e) from e
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def temporary_path(output_dir: str) -> str:
    """A path in output_dir for a file or directory of this run not yet in place (removed by a
    later run if this one is killed)."""
    return os.path.join(output_dir, f"{keys.INCOMPLETE_PREFIX}{_owner()}-{uuid.uuid4().hex}")


def new_staging_dir(output_dir: str) -> str:
    """Creates a staging directory in output_dir (created if missing), after removing those of
    this host's killed runs; returns its path."""
    remove_dead_staging_dirs(output_dir)
    path = temporary_path(output_dir)
    filesystem.makedirs(path)
    return path


def remove_dead_staging_dirs(output_dir: str) -> None:
    """Removes the staging directories and temporary files in output_dir of runs on this host
    that no longer run."""
    if not filesystem.isdir(output_dir):
        return
    host = socket.gethostname()
    for name in filesystem.listdir(output_dir):
        if not name.startswith(keys.INCOMPLETE_PREFIX):
            continue
        owner = name[len(keys.INCOMPLETE_PREFIX) :].rsplit("-", 2)
        if (
            len(owner) == 3
            and owner[0] == host
            and owner[1].isdigit()
            and not _alive(int(owner[1]))
        ):
            path = os.path.join(output_dir, name)
            if filesystem.isdir(path):
                filesystem.rmtree(path)
            else:
                filesystem.remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def move_into_place(staging: str, output_dir: str) -> None:
    """Renames every entry of staging into output_dir, replacing what a killed run left there."""
    for name in filesystem.listdir(staging):
        target = os.path.join(output_dir, name)
        if filesystem.isdir(target):
            filesystem.rmtree(target)
        filesystem.rename(os.path.join(staging, name), target)


def copy_into_place(source: str, target: str) -> None:
    """Copies the file source to target through a temporary file beside target (removed by a later
    run if this one is killed), renamed into place: a reader finds the whole file or the old one.

    Raises:
      OutputError: target's directory cannot be written.
    """
    output_dir = os.path.dirname(target)
    temporary = temporary_path(output_dir)
    with writing(output_dir):
        try:
            filesystem.makedirs(output_dir)
            filesystem.copy(source, temporary)
            filesystem.rename(temporary, target)
        finally:
            if filesystem.exists(temporary):
                filesystem.remove(temporary)


@contextlib.contextmanager
def writing(directory: str):
    """Turns an OS or storage fault (no space, read-only, permission, ...) writing into directory,
    or into a staging directory in it, into an OutputError naming the output directory and the
    cause: inside a Beam transform too, where Beam would wrap it in a RuntimeError."""
    try:
        yield
    except _storage_errors() as e:
        output_dir = directory.rstrip("/")
        if os.path.basename(output_dir).startswith(keys.INCOMPLETE_PREFIX):
            output_dir = os.path.dirname(output_dir)
        raise output_error(output_dir, e) from e


def tfma_records_file(output_dir: str, output: str) -> str:
    """The file TFMA's writer writes an output (metrics, plots, attributions) into, in one shard."""
    return os.path.join(output_dir, output + keys.TFMA_SINGLE_SHARD_SUFFIX)


def write_records(path: str, records: Iterable[bytes]) -> None:
    """Writes serialized records into the TFRecord file at path; an OS or storage fault as an
    OutputError naming the output directory (`writing`)."""
    with writing(os.path.dirname(path)):
        tfrecords.write_records(path, records)


def _storage_errors() -> Tuple[type, ...]:
    """OSError, and TensorFlow's OpError once TensorFlow is loaded (only its code raises one)."""
    tf = sys.modules.get("tensorflow")
    return (OSError,) if tf is None else (OSError, tf.errors.OpError)


def output_error(output_dir: str, error: Exception) -> OutputError:
    """An OS or storage fault writing into output_dir, as an OutputError naming it and the cause."""
    cause = str(error) if isinstance(error, OSError) else error.message  # TensorFlow's OpError
    return OutputError(f"cannot write into the output directory {output_dir!r}: {cause}")
