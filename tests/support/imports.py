"""What an import loads, seen from a fresh interpreter."""

import json
import os
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
    """Every module a fresh interpreter has loaded after running statement, started as from a
    user's shell: without the TF_USE_LEGACY_KERAS=1 that importing tensorflow_transform (another
    test's) sets in this process, which makes tf.keras tf_keras."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    return json.loads(output.splitlines()[-1])


def heavy_modules_loaded_by(statement: str) -> List[str]:
    """The HEAVY packages a fresh interpreter has loaded after running statement."""
    return sorted({name.split(".")[0] for name in modules_loaded_by(statement)} & set(HEAVY))
