"""The committed generated code of protos/ is what `python -m glassbox.protos.build` makes of them."""

import glob
import os

from glassbox.protos import build


def test_generated_code_matches_the_protos():
    committed = {}
    for path in glob.glob(os.path.join(build.PROTOS_DIR, "*_pb2.py")):
        with open(path) as f:
            committed[os.path.basename(path)] = f.read()
    assert build.generate() == committed, (
        "protos/ changed: run `uv run python -m glassbox.protos.build`"
    )
