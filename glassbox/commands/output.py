"""Printing shared by the subcommands."""

from typing import Mapping


def print_metrics(metrics: Mapping[str, float]) -> None:
    """One aligned line per metric, sorted by name."""
    for name, value in sorted(metrics.items()):
        print(f"  {name:<40} {value:.6g}")
