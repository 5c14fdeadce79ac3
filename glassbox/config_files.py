"""Reading configuration protos (tfma.EvalConfig, our own configs) from files users write.

A file holds the message as JSON (when it starts with '{') or as text proto.
"""

from __future__ import annotations

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
