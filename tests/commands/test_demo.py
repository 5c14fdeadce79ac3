"""`glassbox demo` as its own process, as a newcomer runs it (about a minute here): its three runs
printed, and nothing of TensorFlow, absl, numpy, Beam or TFX on stderr."""

import os
import re
import subprocess
import sys

import pytest


@pytest.mark.integration
def test_the_demo_prints_its_three_runs_and_no_library_noise(tmp_path):
    root = tmp_path / "demo"
    argv = [sys.executable, "-m", "glassbox.cli", "demo", "--root", str(root)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert re.findall(r"^Run (\d) of 3: ", out, flags=re.MULTILINE) == ["1", "2", "3"]
    decisions = re.findall(r"^  Decision: +(Blessed|Not blessed)", out, flags=re.MULTILINE)
    assert decisions == ["Blessed", "Blessed", "Not blessed"]
    reports = re.findall(r"^ +(?:Reports: +)?(\S+report\.html) \(", out, flags=re.MULTILINE)
    assert len(reports) == 6 and all(os.path.isfile(path) for path in reports)
    model_ids = re.findall(r"^  Model id: +(\d+) \(in ML Metadata\)", out, flags=re.MULTILINE)
    assert f"glassbox lineage --mlmd {root}/metadata.sqlite --model-id {model_ids[-1]}" in out
