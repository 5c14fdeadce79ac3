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


def heavy_modules_loaded_by(statement: str) -> List[str]:
    """The HEAVY packages a fresh interpreter has loaded after running statement."""
    code = (
        f"import json, sys\n{statement}\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return sorted(set(json.loads(output.splitlines()[-1])) & set(HEAVY))
