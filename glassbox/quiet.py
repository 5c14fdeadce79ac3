"""Library noise kept off the terminal for the `glassbox` command (``--verbose`` shows it).

TensorFlow's C++ libraries write to file descriptor 2 directly (CUDA probes, CPU feature notes,
absl's "before InitializeLog" warning); TensorFlow, absl, Beam, TFX and ML Metadata log warnings
through Python's logging, Beam logs the traceback of every error raised in a pipeline, and TFX and
Keras raise deprecation warnings. ``libraries_silenced`` sets the environment and logging levels
before any of them loads and captures descriptor 2 while a command runs. What it captured is
dropped when the command succeeds, kept in a log file (named in the error) when it fails with a
GlassboxError, whose message glassbox prints itself, and shown when anything else fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from typing import Iterator, List

from glassbox.errors import GlassboxError

# Loggers of the libraries glassbox runs; errors still reach descriptor 2 (captured).
_LIBRARY_LOGGERS = ("tensorflow", "absl", "apache_beam", "tfx", "ml_metadata", "kfp")


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


@contextlib.contextmanager
def _quiet_settings() -> Iterator[None]:
    """The libraries' log levels and warnings filters quiet, the previous ones restored after."""
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "GRPC_VERBOSITY": "ERROR"}
    before_env = {name: os.environ.get(name) for name in env}
    loggers = [logging.getLogger(), *map(logging.getLogger, _LIBRARY_LOGGERS)]
    before_levels = [logger.level for logger in loggers]
    for name, value in env.items():
        os.environ.setdefault(name, value)
    for logger in loggers:
        logger.setLevel(logging.ERROR)
        # A library may set its level again: TensorFlow does, to INFO, when its logger is first
        # used in an interactive session (a notebook's kernel), writing to that cell's stdout.
        logger.addFilter(_errors_only)
    try:
        with warnings.catch_warnings():
            for category in (
                DeprecationWarning,
                PendingDeprecationWarning,
                FutureWarning,
                UserWarning,
            ):
                warnings.filterwarnings("ignore", category=category)
            yield
    finally:
        for logger, level in zip(loggers, before_levels):
            logger.setLevel(level)
            logger.removeFilter(_errors_only)
        for name, value in before_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def libraries_silenced(verbose: bool = False) -> Iterator[List[str]]:
    """Runs the block with the libraries' output captured (see the module docstring); yields a
    list that holds, after a GlassboxError, the path of the log file keeping that output."""
    kept: List[str] = []
    if verbose:
        yield kept
        return
    with _quiet_settings(), _descriptor_2_captured(kept):
        yield kept


@contextlib.contextmanager
def _descriptor_2_captured(kept: List[str]) -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    captured = tempfile.NamedTemporaryFile(prefix="glassbox-", suffix=".log", delete=False)
    os.dup2(captured.fileno(), 2)
    replay = False
    try:
        yield
    except GlassboxError:
        kept.append(captured.name)
        raise
    except BaseException:
        replay = True
        raise
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if replay:
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
        captured.close()
        if not kept:
            os.unlink(captured.name)
