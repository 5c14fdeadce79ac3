"""Reading configuration protos (tfma.EvalConfig, our own configs, TFMD Schemas) from files users write.

A file holds the message as JSON (when it starts with '{') or as text proto.
"""

from __future__ import annotations

import os
from typing import Type, TypeVar

from google.protobuf import json_format, message, text_format

from glassbox.errors import GlassboxError

Message = TypeVar("Message", bound=message.Message)


def parse_config(
    content: str,
    message_type: Type[Message],
    what: str,
    error: Type[GlassboxError],
    source: str = "<string>",
) -> Message:
    """Parses JSON or text proto; `what` names the config in errors ('eval config')."""
    config = message_type()
    try:
        if content.lstrip().startswith("{"):
            json_format.Parse(content, config)
        else:
            text_format.Parse(content, config)
    except (json_format.ParseError, text_format.ParseError) as e:
        raise error(f"malformed {what} in {source}: {e}") from e
    return config


def load_config(
    path: str, message_type: Type[Message], what: str, error: Type[GlassboxError]
) -> Message:
    """Reads a config file; errors name the file."""
    try:
        with open(path, encoding="utf-8") as f:
            content = f.read()
    except OSError as e:
        raise error(f"cannot read {what} file {path!r}: {e.strerror}") from e
    return parse_config(content, message_type, what, error, source=path)


class SchemaFileError(GlassboxError):
    """A schema file is missing, unreadable or not a text-format TFMD Schema."""


def load_schema(path: str) -> bytes:
    """The serialized TFMD Schema at path: a text-format file, or a TFX Schema artifact's dir
    holding one (SchemaGen writes schema.pbtxt), local or remote (tf.io.gfile).

    Raises:
      SchemaFileError: naming the path or file at fault.
    """
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2

    if tf.io.gfile.isdir(path):
        files = [
            f for f in tf.io.gfile.listdir(path) if not tf.io.gfile.isdir(os.path.join(path, f))
        ]
        if len(files) != 1:
            raise SchemaFileError(
                f"schema directory {path!r} must hold one schema file, e.g. schema.pbtxt; "
                f"it holds {sorted(files)}"
            )
        path = os.path.join(path, files[0])
    try:
        with tf.io.gfile.GFile(path) as f:
            content = f.read()
    except tf.errors.OpError as e:
        raise SchemaFileError(f"cannot read schema file {path!r}: {e.message}") from e
    try:
        return text_format.Parse(content, schema_pb2.Schema()).SerializeToString()
    except text_format.ParseError as e:
        raise SchemaFileError(f"malformed schema in {path}: {e}") from e
