"""Reading back the decision.json a validation wrote, for the report, the model card and trails."""

from __future__ import annotations

import json
import os
from typing import Any, Dict

from glassbox import filesystem, keys
from glassbox.validation.errors import DecisionReadError


def load_decision(validation_dir: str) -> Dict[str, Any]:
    """decision.json of a validation directory, checked for the fields its readers show."""
    if not filesystem.isdir(validation_dir):
        raise DecisionReadError(f"validation directory {validation_dir!r} does not exist")
    path = os.path.join(validation_dir, keys.DECISION_JSON_FILE)
    if not filesystem.exists(path):
        raise DecisionReadError(f"{path} not found: {validation_dir!r} is not a validation output")
    try:
        decision = json.loads(filesystem.read_text(path), parse_constant=lambda _: None)
    except (OSError, ValueError) as e:
        raise DecisionReadError(f"cannot read the decision {path}: {e}") from e
    if not (
        isinstance(decision, dict)
        and isinstance(decision.get("blessed"), bool)
        and isinstance(decision.get("checks"), list)
        and all(isinstance(c, dict) for c in decision["checks"])
    ):
        raise DecisionReadError(
            f"{path} is not a validation decision: expected an object with "
            "'blessed' (true/false) and 'checks' (a list of objects)"
        )
    return decision
