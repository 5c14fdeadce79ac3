"""The ML Metadata (MLMD) store of a Kubeflow Pipelines (KFP) installation, from inside a task: how
to connect to it, and the latest Model a pipeline's validation blessed, as recorded there.

What KFP v2 records (backend/src/v2/metadata/client.go): every output artifact of a task, typed by
its schema title (`tfx.Model`, `tfx.ModelBlessing`), its metadata as custom properties converted by
the launcher (numbers as doubles, bools as ints, strings as strings), and attributed to the run's
`system.PipelineRun` context and to the `system.Pipeline` context named after the pipeline (the
spec's pipelineInfo.name), which the driver creates when a run starts. KFP names an artifact it
passes to a task by its MLMD id, so a blessing's `current_model_id` (set by our Validator, or TFX's
Evaluator, under `glassbox.kfp.tfx_entrypoint`) is its Model's MLMD id, as a string. The task's
execution (`system.ContainerExecution`) is recorded with an OUTPUT event per output artifact, keyed
by the output's name, in the same two contexts: how a blessing shows which task wrote it.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Mapping, Optional, Union

from google.protobuf import text_format
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from glassbox import keys
from glassbox.errors import GlassboxError
from glassbox.provenance import origin

# Set in every KFP task pod from KFP's metadata-grpc-configmap (the argo compiler's envFrom).
HOST_ENV = "METADATA_GRPC_SERVICE_HOST"
PORT_ENV = "METADATA_GRPC_SERVICE_PORT"
# Overrides them: a text-format ml_metadata.ConnectionConfig (a database) or
# MetadataStoreClientConfig (a gRPC server, e.g. with ssl_config) file.
CONNECTION_CONFIG_ENV = "GLASSBOX_MLMD_CONNECTION_CONFIG"

MODEL_TYPE = keys.KFP_TFX_TYPE_PREFIX + keys.MODEL_TYPE
BLESSING_TYPE = keys.KFP_TFX_TYPE_PREFIX + keys.MODEL_BLESSING_TYPE
# Characters a pipeline name may not have: it is quoted in an MLMD filter query.
_UNQUOTABLE = re.compile(r"['\\]")

Config = Union[metadata_store_pb2.ConnectionConfig, metadata_store_pb2.MetadataStoreClientConfig]


class MetadataStoreError(GlassboxError):
    """No usable ML Metadata: a missing or bad connection setting, or a store without the pipeline's runs."""


class BlessedModelError(GlassboxError):
    """The latest blessing names a Model that ML Metadata does not hold as it says."""


@dataclasses.dataclass(frozen=True)
class BlessedModel:
    """A Model and the latest ModelBlessing that blessed it, as ML Metadata holds them."""

    model: metadata_store_pb2.Artifact
    blessing: metadata_store_pb2.Artifact


def connection_config(environ: Mapping[str, str] = os.environ) -> Config:
    """How this task reaches ML Metadata: the file `CONNECTION_CONFIG_ENV` names, else the gRPC
    server at `HOST_ENV`:`PORT_ENV`.

    Raises:
      MetadataStoreError: neither is set, or the setting is bad (the message names it).
    """
    path = environ.get(CONNECTION_CONFIG_ENV)
    if path:
        return _read_connection_config(path)
    missing = [name for name in (HOST_ENV, PORT_ENV) if not environ.get(name)]
    if missing:
        raise MetadataStoreError(
            f"no ML Metadata to query: {' and '.join(missing)} not set (KFP sets {HOST_ENV} and {PORT_ENV} in "
            f"every task pod from its metadata-grpc-configmap); set them, or {CONNECTION_CONFIG_ENV} to a "
            "text-format ml_metadata ConnectionConfig or MetadataStoreClientConfig file"
        )
    port = environ[PORT_ENV]
    if not port.isdigit():
        raise MetadataStoreError(f"{PORT_ENV}={port!r} is not a port number")
    return metadata_store_pb2.MetadataStoreClientConfig(host=environ[HOST_ENV], port=int(port))


def _read_connection_config(path: str) -> Config:
    try:
        with open(path) as f:
            text = f.read()
    except OSError as error:
        raise MetadataStoreError(f"{CONNECTION_CONFIG_ENV}={path!r}: {error.strerror}") from error
    for config, is_complete in (
        (metadata_store_pb2.ConnectionConfig(), lambda c: c.WhichOneof("config")),
        (metadata_store_pb2.MetadataStoreClientConfig(), lambda c: c.host),
    ):
        try:
            text_format.Parse(text, config)
        except text_format.ParseError:
            continue
        if is_complete(config):
            return config
    raise MetadataStoreError(
        f"{CONNECTION_CONFIG_ENV}={path!r} holds neither a text-format ml_metadata ConnectionConfig "
        "(with a database) nor a MetadataStoreClientConfig (with a host)"
    )


def check_pipeline_name(pipeline_name: str) -> None:
    """Refuses a name that cannot be the pipeline context's (empty) or be quoted in a query.

    Raises:
      MetadataStoreError: naming the name.
    """
    if not pipeline_name or _UNQUOTABLE.search(pipeline_name):
        raise MetadataStoreError(
            f"pipeline name {pipeline_name!r}: must be non-empty, without quotes or backslashes"
        )


def latest_blessed_model(
    store: metadata_store.MetadataStore, pipeline_name: str
) -> Optional[BlessedModel]:
    """The Model of the latest ModelBlessing with `blessed` = 1 of the pipeline's runs; None when
    none is blessed yet.

    Raises:
      MetadataStoreError: the store has no such pipeline (KFP records it as a run starts: so this is
        not the store of this run, or not its pipeline's name).
      ForgedBlessingError: the latest blessing was not output by a task of the pipeline.
      BlessedModelError: its model is not a live tfx.Model at the URI it names.
    """
    check_pipeline_name(pipeline_name)
    pipeline = store.get_context_by_type_and_name(keys.KFP_PIPELINE_CONTEXT_TYPE, pipeline_name)
    if pipeline is None:
        raise MetadataStoreError(
            f"ML Metadata has no {keys.KFP_PIPELINE_CONTEXT_TYPE} context named {pipeline_name!r}, "
            "which KFP creates as a run of the pipeline starts: this is not the store KFP records "
            "this run in, or not the pipeline's name"
        )
    blessed = keys.BLESSED_PROPERTY
    # KFP stores the Validator's int as a double; a bool would be an int. MLMD ids grow with time.
    blessings = store.get_artifacts(
        list_options=metadata_store.ListOptions(
            filter_query=(
                f"type = '{BLESSING_TYPE}' AND state = LIVE AND contexts_a.type = '{keys.KFP_PIPELINE_CONTEXT_TYPE}' "
                f"AND contexts_a.name = '{pipeline_name}' AND (custom_properties.{blessed}.double_value = 1 "
                f"OR custom_properties.{blessed}.int_value = 1)"
            ),
            order_by=metadata_store.OrderByField.ID,
            is_asc=False,
            limit=1,
        )
    )
    if not blessings:
        return None
    origin.check_output_by_a_validation(
        store, blessings[0], pipeline, (keys.KFP_CONTAINER_EXECUTION_TYPE,)
    )
    return BlessedModel(model=_blessed_model(store, blessings[0]), blessing=blessings[0])


def _blessed_model(
    store: metadata_store.MetadataStore, blessing: metadata_store_pb2.Artifact
) -> metadata_store_pb2.Artifact:
    """The Model the blessing names by id (an MLMD id is one artifact; nothing keeps a URI to one),
    checked against the URI it also names."""
    about = f"ModelBlessing {blessing.id} ({blessing.uri})"
    model_id = blessing.custom_properties[keys.CURRENT_MODEL_ID_PROPERTY].string_value
    if not model_id.isdigit():
        raise BlessedModelError(
            f"{about}: {keys.CURRENT_MODEL_ID_PROPERTY} is not a KFP artifact name (an MLMD id): "
            f"{blessing.custom_properties[keys.CURRENT_MODEL_ID_PROPERTY]}"
        )
    models = store.get_artifacts_by_id([int(model_id)])
    if not models:
        raise BlessedModelError(
            f"{about} blesses model {model_id}, which ML Metadata does not have"
        )
    model = models[0]
    [model_type] = store.get_artifact_types_by_id([model.type_id])
    uri = blessing.custom_properties[keys.CURRENT_MODEL_PROPERTY].string_value
    if (
        model_type.name != MODEL_TYPE
        or model.state != metadata_store_pb2.Artifact.LIVE
        or model.uri != uri
    ):
        raise BlessedModelError(
            f"{about} blesses model {model_id} at {uri!r}, but ML Metadata holds a "
            f"{metadata_store_pb2.Artifact.State.Name(model.state)} {model_type.name} at {model.uri!r} under that id"
        )
    return model
