"""The local runners' baseline step: TFX's latest blessed Model, taken only if a validation of the
pipeline blessed it.

TFX's `LatestBlessedModelStrategy` takes any ModelBlessing with `blessed` = 1 in ML Metadata, so a
blessing recorded by anything that can write there (e.g. one naming a weak model) makes that model
the baseline a bad candidate then passes change thresholds against. This strategy resolves the
same Model, then checks that every blessing of it was output by a validation of the pipeline
(`glassbox.provenance.origin`).

It cannot refuse by raising: TFX's local runners go on after a failed resolver step and give its
consumers no baseline, which is how a first run is evaluated (rubber-stamped). So on any error it
resolves a Model holding no model, marked with the reason (`keys.BASELINE_REFUSED_PROPERTY`); the
glassbox Evaluator and Validator fail on it, naming the reason (`no_baseline.given_baseline`).
"""

from __future__ import annotations

from typing import Dict, List, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts

from glassbox import keys
from glassbox.provenance import origin


class GenuineLatestBlessedModelStrategy(LatestBlessedModelStrategy):
    """`LatestBlessedModelStrategy`, with the blessings of the Model it resolves checked."""

    def __init__(self, pipeline_name: str):
        self._pipeline_name = pipeline_name

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        try:
            result = super().resolve_artifacts(store, input_dict)
            self._check_blessings(store, input_dict, result)
            return result
        except Exception as error:  # noqa: BLE001 - any error refuses the baseline (fails closed)
            refused = standard_artifacts.Model()
            refused.set_string_custom_property(
                keys.BASELINE_REFUSED_PROPERTY, f"{type(error).__name__}: {error}"
            )
            refused.mlmd_artifact.state = metadata_store_pb2.Artifact.LIVE
            return {key: [refused] if key == keys.MODEL_KEY else [] for key in input_dict}

    def _check_blessings(self, store, input_dict, result) -> None:
        if not result[keys.MODEL_KEY]:
            return
        [model] = result[keys.MODEL_KEY]
        pipeline = store.get_context_by_type_and_name(
            keys.PIPELINE_CONTEXT_TYPE, self._pipeline_name
        )
        if pipeline is None:
            raise LookupError(
                f"ML Metadata has no {keys.PIPELINE_CONTEXT_TYPE} context named "
                f"{self._pipeline_name!r}: not this pipeline's store, or not its name"
            )
        for blessing in input_dict[keys.MODEL_BLESSING_KEY]:
            if (
                blessing.get_int_custom_property(keys.BLESSED_PROPERTY) == 1
                and blessing.get_int_custom_property(keys.CURRENT_MODEL_ID_PROPERTY) == model.id
            ):
                origin.check_output_by_a_validation(
                    store, blessing.mlmd_artifact, pipeline, keys.BLESSING_EXECUTION_TYPES
                )
