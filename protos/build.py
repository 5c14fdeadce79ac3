"""Generates the Python code of the `.proto` files in this directory: ``python -m glassbox.protos.build``.

The protos are compiled as ``glassbox/protos/<name>.proto`` (copied into a staging tree), so that
they import each other by that path and the generated modules import as ``glassbox.protos.<name>_pb2``.
grpcio-tools is pinned to 1.76.0 (a dev dependency): its code imports under protobuf 6, 1.85's not.
``tests/test_protos.py`` checks that the committed ``*_pb2.py`` files are what this generates.
"""

from __future__ import annotations

import glob
import importlib.resources
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Dict

PROTOS_DIR = os.path.dirname(os.path.abspath(__file__))
PACKAGE_PATH = os.path.join("glassbox", "protos")


def generate() -> Dict[str, str]:
    """The generated code of every proto here: {'<name>_pb2.py': source}."""
    with tempfile.TemporaryDirectory() as staging:
        package_dir = os.path.join(staging, PACKAGE_PATH)
        os.makedirs(package_dir)
        sources = sorted(glob.glob(os.path.join(PROTOS_DIR, "*.proto")))
        for source in sources:
            shutil.copy(source, package_dir)
        if not sources:
            return {}
        include = str(importlib.resources.files("grpc_tools") / "_proto")
        # In a process of its own: protoc crashes inside a process that has loaded TensorFlow.
        args = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{staging}",
            f"-I{include}",
            f"--python_out={staging}",
        ]
        args += [os.path.join(PACKAGE_PATH, os.path.basename(source)) for source in sources]
        subprocess.run(args, cwd=staging, check=True)
        generated = {}
        for path in sorted(glob.glob(os.path.join(package_dir, "*_pb2.py"))):
            with open(path) as f:
                generated[os.path.basename(path)] = f.read()
        return generated


def main() -> int:
    for name, source in generate().items():
        with open(os.path.join(PROTOS_DIR, name), "w") as f:
            f.write(source)
        print(f"wrote protos/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
