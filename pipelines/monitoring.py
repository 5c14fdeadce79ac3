"""The monitoring example: the demo's data arriving as spans, the model pushed on the first one
monitored on each later one, with drift injected in a late span.

The survey has no time of its own: its rows, in a seeded random order standing for their arrival,
are cut into `SPANS` spans of equal size; span `DRIFTED_SPAN`'s women are `AGE_SHIFT` years older.
Under one root (``data/span-N/fair.csv``, ``pipeline/``, ``serving/``, ``monitoring/``,
``metadata.sqlite``), with TFX's LocalDagRunner:

1. span 1 arrives: the demo pipeline (CsvExampleGen over ``span-{SPAN}/*.csv``, which records
   the span, -> Trainer -> Evaluator -> Validator -> Pusher, thresholds of `monitor_eval_config`)
   trains, blesses and pushes a model;
2. each later span arrives: the pipeline's CsvExampleGen ingests it (its Examples record the
   span), then `glassbox monitor`'s engine evaluates the pushed model on it, with drift from the
   data it was blessed on, against `monitor_eval_config`'s threshold and
   `monitor_validator_config`'s drift gates, and records it in the pipeline's ML Metadata.

``python -m glassbox.pipelines.monitoring --root DIR`` runs it and prints each span's result.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from typing import List, Sequence

import numpy as np
import pandas as pd
from tensorflow_model_analysis.proto import config_pb2
from tfx.orchestration import metadata, pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from glassbox.engine.monitor import MonitorOutcome, monitor
from glassbox.pipelines import data
from glassbox.pipelines.demo_pipeline import (
    AUC,
    DEFAULT_TRAINING,
    MIN_AUC,
    SERVING_DIR_NAME,
    create_pipeline,
    default_eval_config,
    example_gen_of,
)
from glassbox.protos import validator_config_pb2
from glassbox.training.config import TrainingConfig

PIPELINE_NAME = "glassbox-monitoring"
METADATA_FILE_NAME = "metadata.sqlite"
SPAN_PATTERN = "span-{SPAN}/*.csv"
SPANS = 5
DRIFTED_SPAN = 4
DRIFTED_FEATURE = "age"
AGE_SHIFT = 15.0
# The drift gate: every feature's Jensen-Shannon divergence (bits) from the data the model was
# blessed on, overall, at most this. Undrifted spans measure below 0.03 here.
MAX_JENSEN_SHANNON = 0.1
SEED = 0
# The model trained on span 1: a logistic regression (quick, and its AUC is stable across spans).
TRAINING = dataclasses.replace(DEFAULT_TRAINING, hidden_units=(), epochs=3)


def span_tables(spans: int = SPANS, drifted_span: int = DRIFTED_SPAN) -> List[pd.DataFrame]:
    """The demo's rows in a seeded random order, cut into spans (1 first); drifted_span's ages
    shifted by AGE_SHIFT."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        table = pd.read_csv(data.write_fair_csv(scratch))
    order = np.random.default_rng(SEED).permutation(len(table))
    tables = [table.iloc[rows].reset_index(drop=True) for rows in np.array_split(order, spans)]
    tables[drifted_span - 1][DRIFTED_FEATURE] += AGE_SHIFT
    return tables


def write_span(data_root: str, span: int, table: pd.DataFrame) -> str:
    """Writes a span's rows to data_root/span-<span>/fair.csv; returns the path."""
    directory = os.path.join(data_root, f"span-{span}")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, data.CSV_FILE_NAME)
    table.to_csv(path, index=False, float_format="%.1f")
    return path


def monitor_eval_config() -> config_pb2.EvalConfig:
    """The demo's metrics and slices, and one threshold: overall AUC at least `MIN_AUC`."""
    config = default_eval_config()
    for spec in config.metrics_specs:
        for metric in spec.metrics:
            del metric.per_slice_thresholds[:]
            if metric.class_name == "AUC" and json.loads(metric.config).get("name") == AUC:
                bound = metric.per_slice_thresholds.add(slicing_specs=[config_pb2.SlicingSpec()])
                bound.threshold.value_threshold.lower_bound.value = MIN_AUC
    return config


def monitor_validator_config() -> validator_config_pb2.ValidatorConfig:
    """The drift gate: see `MAX_JENSEN_SHANNON`."""
    config = validator_config_pb2.ValidatorConfig()
    config.drift_gates.add(distance="jensen_shannon", max_distance=MAX_JENSEN_SHANNON)
    return config


def run_monitoring(
    root: str,
    spans: int = SPANS,
    drifted_span: int = DRIFTED_SPAN,
    training: TrainingConfig = TRAINING,
    beam_pipeline_args: Sequence[str] = (),
) -> List[MonitorOutcome]:
    """Runs the example (the module's docstring) under root; returns the monitoring of spans 2
    to `spans`, in order."""
    root = os.path.abspath(root)
    data_root = os.path.join(root, "data")
    pipeline_root = os.path.join(root, "pipeline")
    metadata_path = os.path.join(root, METADATA_FILE_NAME)
    tables = span_tables(spans, drifted_span)
    write_span(data_root, 1, tables[0])
    LocalDagRunner().run(
        create_pipeline(
            PIPELINE_NAME,
            pipeline_root,
            data_root,
            training=training,
            eval_config=monitor_eval_config(),
            metadata_path=metadata_path,
            beam_pipeline_args=beam_pipeline_args,
            serving_dir=os.path.join(root, SERVING_DIR_NAME),
            validator_config=validator_config_pb2.ValidatorConfig(),
            input_pattern=SPAN_PATTERN,
        )
    )
    outcomes = []
    for span in range(2, spans + 1):
        write_span(data_root, span, tables[span - 1])
        LocalDagRunner().run(
            pipeline.Pipeline(
                pipeline_name=PIPELINE_NAME,
                pipeline_root=pipeline_root,
                components=[example_gen_of(data_root, SPAN_PATTERN)],
                metadata_connection_config=metadata.sqlite_metadata_connection_config(
                    metadata_path
                ),
                beam_pipeline_args=list(beam_pipeline_args),
            )
        )
        outcomes.append(
            monitor(
                metadata_path,
                os.path.join(root, "monitoring"),
                monitor_eval_config(),
                monitor_validator_config(),
                pipeline=PIPELINE_NAME,
                beam_pipeline_args=beam_pipeline_args,
            )
        )
    return outcomes


def main(argv: Sequence[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="monitoring_output", help="new directory for the runs")
    root = parser.parse_args(argv).root
    for outcome in run_monitoring(root):
        for result in outcome.spans:
            print(f"Span {result.span}: {'FAILED' if result.failures else 'passed'}")
            for sentence in result.failures:
                print(f"  - {sentence}")
    print(
        f"glassbox history --mlmd {os.path.join(os.path.abspath(root), METADATA_FILE_NAME)} "
        f"--metric {AUC} --html history.html"
    )


if __name__ == "__main__":
    main()
