"""Staging directories: a run writes its files into one inside the output directory and renames
them into place once all are written, so a reader never sees a partial output.

A staging directory is named after the run's host and process (``.incomplete-<host>-<pid>-<id>``),
so that a later run on the same host removes those whose process is gone (killed) and never one
of a run still going. Writing into a directory left by a killed run (no completion file) goes
over the files it left.
"""

from __future__ import annotations

import os
import socket
import uuid

import tensorflow as tf

from glassbox import keys
from glassbox.errors import OutputError


def new_staging_dir(output_dir: str) -> str:
    """Creates a staging directory in output_dir (created if missing), after removing those of
    this host's killed runs; returns its path."""
    remove_dead_staging_dirs(output_dir)
    path = os.path.join(
        output_dir,
        f"{keys.INCOMPLETE_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}",
    )
    tf.io.gfile.makedirs(path)
    return path


def remove_dead_staging_dirs(output_dir: str) -> None:
    """Removes the staging directories in output_dir of runs on this host that no longer run."""
    if not tf.io.gfile.isdir(output_dir):
        return
    host = socket.gethostname()
    for name in tf.io.gfile.listdir(output_dir):
        name = name.rstrip("/")
        if not name.startswith(keys.INCOMPLETE_PREFIX):
            continue
        owner = name[len(keys.INCOMPLETE_PREFIX) :].rsplit("-", 2)
        if (
            len(owner) == 3
            and owner[0] == host
            and owner[1].isdigit()
            and not _alive(int(owner[1]))
        ):
            tf.io.gfile.rmtree(os.path.join(output_dir, name))


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
    for name in tf.io.gfile.listdir(staging):
        name = name.rstrip("/")
        target = os.path.join(output_dir, name)
        if tf.io.gfile.isdir(target):
            tf.io.gfile.rmtree(target)
        tf.io.gfile.rename(os.path.join(staging, name), target, overwrite=True)


def output_error(output_dir: str, error: Exception) -> OutputError:
    """An OS or storage fault writing into output_dir, as an OutputError naming it and the cause."""
    cause = error.message if isinstance(error, tf.errors.OpError) else str(error)
    return OutputError(f"cannot write into the output directory {output_dir!r}: {cause}")
