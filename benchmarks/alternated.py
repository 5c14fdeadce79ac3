"""What the in-process cost benchmarks share: ``evaluator_vs_tfma``'s data and model prepared once
in a work directory, and variants of one evaluation run alternated, each run timed (wall and CPU).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Mapping, Tuple

from benchmarks import evaluator_vs_tfma as bench

Runs = Dict[str, List[Tuple[float, float]]]


class Workdir:
    """evaluator_vs_tfma's examples and model, prepared for `examples` (reused when they are)."""

    def __init__(self, path: str, examples: int) -> None:
        self.path = path
        os.makedirs(path, exist_ok=True)
        if bench._prepared(path) != examples:
            bench.prepare(path, examples, batch_size=4096)
        data = bench._data_dir(path)
        self.files = sorted(os.path.join(data, f) for f in os.listdir(data))
        self.model = bench._model_dir(path)

    def output(self, name: str) -> str:
        """An empty output directory `name` in the work directory."""
        path = os.path.join(self.path, name)
        shutil.rmtree(path, ignore_errors=True)
        return path


def arguments(
    doc: str, examples: int, rounds: int, name: str
) -> Tuple[argparse.Namespace, Workdir]:
    """--examples, --rounds and --workdir (default: `name`-EXAMPLES in the temporary directory)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--examples", type=int, default=examples)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--workdir", default=None, help="reused when prepared for --examples")
    args = parser.parse_args()
    path = args.workdir or os.path.join(tempfile.gettempdir(), f"{name}-{args.examples}")
    return args, Workdir(path, args.examples)


def alternate(workdir: Workdir, variants: Mapping[str, Callable[[str], None]], rounds: int) -> Runs:
    """Each variant run once a round, in order, on a fresh output directory; the times printed."""
    runs: Runs = {name: [] for name in variants}
    for round_ in range(rounds):
        for name, run in variants.items():
            output = workdir.output(f"{name}-{round_}")
            start, cpu = time.perf_counter(), time.process_time()
            run(output)
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu))
            wall, cpu = runs[name][-1]
            print(f"{name} round {round_}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return runs


def summarise(runs: Runs, examples: int) -> None:
    """Median (range) wall and CPU of each variant, and its wall time over the first variant's."""
    rounds = len(next(iter(runs.values())))
    print(f"\n{examples:,} examples, {rounds} alternated rounds; median (range)")
    first = statistics.median(w for w, _ in next(iter(runs.values())))
    width = max(len(name) for name in runs) + 1
    for name, values in runs.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(
            f"{name:{width}s} wall {statistics.median(walls):7.2f} s ({min(walls):.2f}-{max(walls):.2f})"
            f"  CPU {statistics.median(cpus):7.2f} s ({min(cpus):.2f}-{max(cpus):.2f})"
            f"  {statistics.median(walls) / first:5.2f}x"
        )
