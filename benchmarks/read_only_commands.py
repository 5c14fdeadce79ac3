"""Whole-process wall and CPU of the `glassbox` commands that only read (ML Metadata, evaluation
and validation directories), optionally alternated with another checkout's glassbox:

    uv run glassbox demo --root /tmp/demo      # once: three runs into one ML Metadata store
    uv run python -m benchmarks.read_only_commands --demo-root /tmp/demo --rounds 3 \\
        --other-python OTHER_CHECKOUT/.venv/bin/python

Each command runs as `python -m glassbox.cli ...`: from directories on the demo's last run (a
candidate refused against its baseline, with attributions), from ML Metadata on the model the
demo pushed last (`--latest-push`); with --other-python, the interpreter of another checkout's
environment (e.g. the code before a change, `uv sync` there: its editable install is its glassbox)
runs it too, right after, in every round. CPU is user + system of the process and its threads
(`os.wait4`, as `evaluator_vs_tfma.timed_process` measures it).
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
from typing import Dict, List, Tuple

from benchmarks.evaluator_vs_tfma import timed_process


def _last_run(demo_root: str) -> Tuple[str, str, str]:
    """(store, evaluation dir, validation dir) of the demo's last run."""
    pipeline = os.path.join(demo_root, "pipeline")

    def newest(pattern: str) -> str:
        return max(glob.glob(os.path.join(pipeline, pattern)), key=lambda p: int(p.split("/")[-1]))

    store = os.path.join(demo_root, "metadata.sqlite")
    return store, newest("Evaluator/evaluation/*"), newest("Validator/validation/*")


def commands(demo_root: str, output: str) -> Dict[str, List[str]]:
    store, evaluation, validation = _last_run(demo_root)
    dirs = ["--evaluation", evaluation, "--validation", validation]
    return {
        "report (from dirs)": ["report", *dirs, "--output", os.path.join(output, "dirs.html")],
        "report (model in MLMD)": [
            "report",
            "--mlmd",
            store,
            "--latest-push",
            "--output",
            os.path.join(output, "model.html"),
        ],
        "model-card (from dirs)": ["model-card", *dirs, "--output", os.path.join(output, "card")],
        "model-card (MLMD)": [
            "model-card",
            "--mlmd",
            store,
            "--latest-push",
            "--output",
            os.path.join(output, "card2"),
        ],
        "history --html": [
            "history",
            "--mlmd",
            store,
            "--metric",
            "auc",
            "--html",
            os.path.join(output, "h"),
        ],
        "lineage": ["lineage", "--mlmd", store, "--latest-push"],
    }


def _timed(python: str, argv: List[str]) -> Tuple[float, float]:
    # -I: the checkout in the working directory is not on the child's path.
    run = timed_process([python, "-I", "-m", "glassbox.cli", *argv])
    return run["process_seconds"], run["process_cpu_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-root", required=True, help="a `glassbox demo --root` directory")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--other-python", help="another checkout's interpreter, alternated")
    args = parser.parse_args()
    variants = {
        "this": sys.executable,
        **({"other": args.other_python} if args.other_python else {}),
    }
    output = tempfile.mkdtemp(prefix="read_only_commands-")
    runs: Dict[Tuple[str, str], List[Tuple[float, float]]] = {}
    for round_ in range(args.rounds):
        for name, argv in commands(args.demo_root, output).items():
            for variant, path in variants.items():
                wall, cpu = _timed(path, argv)
                runs.setdefault((name, variant), []).append((wall, cpu))
                print(f"round {round_} {name} ({variant}): {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"\n{args.rounds} alternated rounds; median wall and CPU seconds")
    print("| command | " + " | ".join(f"{v} wall | {v} CPU" for v in variants) + " |")
    for name in commands(args.demo_root, output):
        cells = [
            f"{statistics.median(x[i] for x in runs[(name, variant)]):.2f}"
            for variant in variants
            for i in (0, 1)
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
