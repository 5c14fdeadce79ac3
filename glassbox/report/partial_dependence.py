"""The report's partial dependence: partial_dependence.json (glassbox.explain.writer) as written,
scores rounded to the plots' digits."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from glassbox import filesystem, keys
from glassbox.report.errors import ReportError
from glassbox.report.load import PLOT_DIGITS, _read_json, _rounded_list


def _rounded_curves(features: Dict[str, Any]) -> Dict[str, Any]:
    return {
        feature: {
            "pdp": {name: _rounded_list(curve, PLOT_DIGITS) for name, curve in c["pdp"].items()},
            "ice": {row: _rounded_list(curve, PLOT_DIGITS) for row, curve in c["ice"].items()},
        }
        for feature, c in features.items()
    }


def load_partial_dependence(evaluation_dir: str) -> Optional[Dict[str, Any]]:
    """The evaluation's PDP and ICE curves (partial_dependence.json), if any.

    Raises:
      ReportError: the file is not as glassbox.explain.writer writes it (named).
    """
    path = os.path.join(evaluation_dir, keys.PARTIAL_DEPENDENCE_FILE)
    if not filesystem.exists(path):
        return None
    content = _read_json(path, "the partial dependence")
    try:
        return {
            "features": {
                feature: {"grid": list(entry["grid"])}
                for feature, entry in content["features"].items()
            },
            "slices": {
                name: {"rows": entry["rows"], "ice_ids": list(entry["ice_ids"])}
                for name, entry in content["slices"].items()
            },
            "models": {
                role: {
                    "model_name": model["model_name"],
                    "features": _rounded_curves(model["features"]),
                }
                for role, model in content["models"].items()
            },
        }
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise ReportError(
            f"{path} is not partial dependence as glassbox.explain.writer writes it: "
            f"{type(e).__name__}: {e}"
        ) from e
