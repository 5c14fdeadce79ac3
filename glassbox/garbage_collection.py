"""What glassbox's processes do with Python's cyclic garbage collector, whose full collections walk
every object alive: about 400,000 after ``import tensorflow``, 600,000 with TFMA and Beam.

- While libraries load, the heap grows from nothing to those objects, and the collector runs a
  full collection each time it has grown by a quarter: 6 during ``import tensorflow`` (0.6 s of
  CPU), although what a module defines lives as long as the process (``imports_uncollected``).
- While a pipeline runs, every full collection walks the objects alive before it
  (``existing_objects_spared``).
- At exit the interpreter collects every object still alive: 0.8 s of a 4 s process after
  ``import tensorflow`` alone (``spare_exit_collections``).

Objects ``gc.freeze()`` moved to the permanent generation are walked by no collection.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def imports_uncollected() -> Iterator[None]:
    """Runs the block (the libraries' imports) without collections, then leaves the objects alive
    out of later ones; the objects made afterwards are collected as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def existing_objects_spared() -> Iterator[None]:
    """Keeps the objects alive now out of the collections while the block (a pipeline) runs (each
    full collection otherwise walked them all: ~0.4 s of a 2 s evaluation of 100k examples); they
    are handed back to the collector after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def spare_exit_collections() -> None:
    """Has the interpreter skip, at this process's exit, the collections of the objects then alive
    (the atexit handlers, the flushing of the standard streams and the teardown of the modules run
    as before). Once per process; only at exit, so a caller in a longer process loses nothing."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
