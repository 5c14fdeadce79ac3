"""The wheel holds every package of the source tree: pyproject's explicit list misses none."""

import os

import tomllib

from tests.support import REPO_ROOT

ROOT = REPO_ROOT


def _source_packages(setuptools_config):
    found = set()
    for package, directory in setuptools_config["package-dir"].items():
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, directory)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__"))]
            if "__init__.py" not in filenames:
                continue
            relative = os.path.relpath(dirpath, os.path.join(ROOT, directory))
            found.add(package if relative == "." else f"{package}.{relative.replace(os.sep, '.')}")
    return found


def test_every_package_is_listed_in_pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        setuptools_config = tomllib.load(f)["tool"]["setuptools"]
    assert _source_packages(setuptools_config) == set(setuptools_config["packages"])
