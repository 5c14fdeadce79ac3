"""Executor of the BaselineResolver: queries ML Metadata, then copies the blessed Model into its own
or marks it as no baseline."""

from __future__ import annotations

from typing import Any, Dict, List

from absl import logging
from ml_metadata.metadata_store import metadata_store
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from glassbox import keys
from glassbox.components.baseline_resolver.kfp_metadata import (
    connection_config,
    latest_blessed_model,
)


class Executor(base_executor.BaseExecutor):
    """Copies the latest blessed Model into the output Model, or marks it when nothing is blessed yet.
    Any error fails the task: no baseline is ever assumed on an error.

    A copy, not the blessed Model's URI: TFX's KFP entrypoint would pass a changed output URI on in
    the executor output, but KFP's launcher then uploads every output from its local path to the
    key of its URI under this run's pipeline root (launcher_v2.go uploadOutputArtifacts,
    objectstore KeyFromURI), and fails the task for a URI of an earlier run.
    """

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pipeline_name = exec_properties[keys.PIPELINE_NAME_KEY]
        model = artifact_utils.get_single_instance(output_dict[keys.MODEL_KEY])
        found = latest_blessed_model(
            metadata_store.MetadataStore(connection_config()), pipeline_name
        )
        if found is None:
            reason = f"no Model of pipeline {pipeline_name!r} is blessed in ML Metadata yet"
            logging.info("No baseline: %s", reason)
            model.set_string_custom_property(keys.NO_BASELINE_PROPERTY, reason)
            return
        logging.info(
            "Baseline: Model %d at %s, blessed by ModelBlessing %d; copied to %s",
            found.model.id,
            found.model.uri,
            found.blessing.id,
            model.uri,
        )
        io_utils.copy_dir(found.model.uri, model.uri)
        model.set_string_custom_property(keys.RESOLVED_MODEL_URI_PROPERTY, found.model.uri)
        model.set_string_custom_property(keys.RESOLVED_MODEL_ID_PROPERTY, str(found.model.id))
        model.set_string_custom_property(keys.RESOLVED_BLESSING_ID_PROPERTY, str(found.blessing.id))
