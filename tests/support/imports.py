"""What an import loads, seen from a fresh interpreter."""

import json
import subprocess
import sys
from typing import List

# Packages that take seconds (or, the last two, a second) to import: TensorFlow alone about 8 s here.
HEAVY = (
    "tensorflow",
    "tfx",
    "tensorflow_model_analysis",
    "apache_beam",
    "ml_metadata",
    "kfp",
    "sklearn",
    "plotly",
)


def modules_loaded_by(statement: str) -> List[str]:
    """Every module a fresh interpreter has loaded after running statement."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.splitlines()[-1])


def heavy_modules_loaded_by(statement: str) -> List[str]:
    """The HEAVY packages a fresh interpreter has loaded after running statement."""
    return sorted({name.split(".")[0] for name in modules_loaded_by(statement)} & set(HEAVY))
