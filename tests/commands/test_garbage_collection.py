"""What glassbox's processes do with the cyclic garbage collector (glassbox.garbage_collection),
each in a fresh interpreter: no full collection while TensorFlow loads, none of the objects alive at
exit, and what is made afterwards collected as usual; exit codes, messages and atexit handlers
kept."""

import subprocess
import sys

import pytest

# Registered before glassbox's own handler, so it runs after it (atexit runs last-in first-out).
REPORT = (
    "import atexit, gc\n"
    "atexit.register(lambda: print('objects frozen at exit:', gc.get_freeze_count() > 0))\n"
)


def _process(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", REPORT + code], capture_output=True, text=True, timeout=120
    )


def test_a_failing_command_exits_with_its_code_and_message_its_objects_left_uncollected(tmp_path):
    missing = tmp_path / "missing"
    done = _process(
        "import sys\nfrom glassbox import cli\n"
        f"sys.exit(cli.main(['report', '--evaluation', {str(missing)!r}, "
        f"'--output', {str(tmp_path / 'report')!r}]))\n"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("glassbox report: error:") and str(missing) in done.stderr
    assert done.stdout.strip() == "objects frozen at exit: True"


@pytest.mark.parametrize("module", ["glassbox.kfp.tfx_entrypoint", "glassbox.kfp.steps"])
def test_kfp_task_processes_leave_their_objects_uncollected_at_exit(module):
    done = _process(f"import {module}\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("objects frozen at exit: True")


def test_a_process_that_only_imports_glassbox_collects_as_usual():
    done = _process("import glassbox.engine.evaluate\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("objects frozen at exit: False")


def test_tensorflow_loads_without_full_collections_and_later_garbage_is_collected():
    done = _process(
        "import gc\n"
        "from glassbox.garbage_collection import imports_uncollected\n"
        "full = []\n"
        "gc.callbacks.append(lambda phase, info: full.append(phase) if info['generation'] == 2 else None)\n"
        "with imports_uncollected():\n"
        "    import tensorflow\n"
        "print('full collections while importing:', len(full))\n"
        "cycle = []\n"
        "cycle.append(cycle)\n"
        "del cycle\n"
        "print('collector enabled:', gc.isenabled(), 'collected:', gc.collect() >= 1)\n"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "full collections while importing: 0"
    assert lines[1] == "collector enabled: True collected: True"
