"""Executor of the BaselineResolver: queries ML Metadata, then points its Model at the blessed one
or marks it as no baseline."""

from __future__ import annotations

from typing import Any, Dict, List

from absl import logging
from ml_metadata.metadata_store import metadata_store
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from glassbox.components.baseline_resolver import constants
from glassbox.kfp.metadata import connection_config, latest_blessed_model


class Executor(base_executor.BaseExecutor):
    """Sets the output Model's URI to the latest blessed Model's (KFP's launcher records the URI
    TFX's entrypoint writes in the executor output), or marks it when nothing is blessed yet.
    Any error fails the task: no baseline is ever assumed on an error."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]], output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pipeline_name = exec_properties[constants.PIPELINE_NAME_KEY]
        model = artifact_utils.get_single_instance(output_dict[constants.MODEL_KEY])
        found = latest_blessed_model(metadata_store.MetadataStore(connection_config()), pipeline_name)
        if found is None:
            reason = f"no Model of pipeline {pipeline_name!r} is blessed in ML Metadata yet"
            logging.info("No baseline: %s", reason)
            model.set_string_custom_property(constants.NO_BASELINE_PROPERTY, reason)
            return
        logging.info("Baseline: Model %d at %s, blessed by ModelBlessing %d",
                     found.model.id, found.model.uri, found.blessing.id)
        model.uri = found.model.uri
        model.set_string_custom_property(constants.RESOLVED_MODEL_ID_PROPERTY, str(found.model.id))
        model.set_string_custom_property(constants.RESOLVED_BLESSING_ID_PROPERTY, str(found.blessing.id))
