"""The demo pipeline run three times into one SQLite ML Metadata store, once per test session, for
the history, lineage and model card tests (tests/conftest.py shares it):
a first model rubber-stamped and pushed, a better one blessed against it and pushed, an untrained
one refused. Each run's DemoRun is what the runner itself read back after the run."""

from __future__ import annotations

import dataclasses
from typing import Tuple

import pytest

from glassbox.pipelines.local_runner import DEMO_RUNS, DemoRun, run_demo


@dataclasses.dataclass(frozen=True)
class DemoRuns:
    root: str
    store: str  # metadata.sqlite
    runs: Tuple[DemoRun, ...]  # first (rubber stamp), better (blessed), untrained (refused)


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory) -> DemoRuns:
    root = str(tmp_path_factory.mktemp("demo_runs"))
    runs = tuple(run_demo(root, training=training) for _, training in DEMO_RUNS)
    return DemoRuns(root=root, store=runs[0].metadata_path, runs=runs)
