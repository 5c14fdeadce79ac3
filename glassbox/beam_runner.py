"""The Beam runner glassbox's Beam pipelines run on when their options name none.

Beam's own default, DirectRunner, first tries its Prism runner, which it downloads from GitHub
(Beam 2.77): without network that fails after a delay and a warning; with network the pipeline
runs on the downloaded binary. An explicit ``--runner=DirectRunner`` does the same.
`DEFAULT_RUNNER` is the in-process runner DirectRunner falls back to for batch pipelines.
"""

from __future__ import annotations

from typing import List, Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

DEFAULT_RUNNER = "FnApiRunner"
# The runners that run a pipeline's work on this machine, their shuffle held in this process's
# memory (no runner named: Beam's DirectRunner).
IN_PROCESS_RUNNERS = frozenset(
    {None, DEFAULT_RUNNER, "DirectRunner", "SwitchingDirectRunner", "BundleBasedDirectRunner"}
)


def with_default_runner(beam_pipeline_args: Sequence[str]) -> List[str]:
    """beam_pipeline_args, plus ``--runner=DEFAULT_RUNNER`` when they name no runner."""
    args = list(beam_pipeline_args)
    if PipelineOptions(args).view_as(StandardOptions).runner is None:
        args.append(f"--runner={DEFAULT_RUNNER}")
    return args


def in_process(options: PipelineOptions) -> bool:
    """Whether a pipeline of these options runs on Beam's in-process runners (this machine's disk
    is its workers', and its shuffle is held in memory)."""
    runner = options.view_as(StandardOptions).runner
    return (runner if runner is None or isinstance(runner, str) else type(runner).__name__) in (
        IN_PROCESS_RUNNERS
    )
