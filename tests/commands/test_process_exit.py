"""The end of glassbox's processes (glassbox.process_exit): the interpreter's collections at exit
are skipped, their exit code, error message and atexit handlers kept."""

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
