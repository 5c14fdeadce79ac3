"""The exit of glassbox's own processes (the `glassbox` command, the KFP tasks).

At exit the interpreter runs full garbage collections that walk every object still alive: after
``import tensorflow`` alone, about 0.8 s of CPU of a 4 s process, paid after the work is done.
Objects that ``gc.freeze()`` moved to the permanent generation are not walked; the atexit
handlers, the flushing of the standard streams and the teardown of the modules run as before.
"""

from __future__ import annotations

import atexit
import gc


def spare_exit_collections() -> None:
    """Has the interpreter skip, at this process's exit, the collections of the objects then
    alive (once per process; only then, so a caller in a longer process loses nothing)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
