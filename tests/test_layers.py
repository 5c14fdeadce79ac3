"""The package's layers point down: no module imports one from a layer above its own, and the
metrics and explanations packages never import each other (docs/architecture.md).

Every import counts, those inside functions too: a lazy import upward is still a cycle waiting
for a re-export to close it. import-linter cannot check this tree, whose glassbox.components,
glassbox.pipelines and glassbox.protos live outside glassbox/ (pyproject's package-dir)."""

import ast
from pathlib import Path

import pytest
import tomllib

from tests.support import REPO_ROOT as _ROOT

REPO_ROOT = Path(_ROOT)

# Top to bottom; a module may import its own layer's packages and those below.
LAYERS = (
    (
        "glassbox.cli",
        "glassbox.commands",
        "glassbox.kfp",
        "glassbox.pipelines",
        "glassbox.components",
        "glassbox.notebook",
    ),
    ("glassbox.engine",),
    ("glassbox.report", "glassbox.model_card"),
    ("glassbox.validation", "glassbox.provenance"),
    # training: the example Trainer's library (components/trainer, the pipelines and tests use it).
    (
        "glassbox.evaluation",
        "glassbox.explain",
        "glassbox.drift",
        "glassbox.simple_model",
        "glassbox.training",
    ),
    ("glassbox.data",),
    (
        "glassbox.keys",
        "glassbox.errors",
        "glassbox.protos",
        "glassbox.config_files",
        "glassbox.beam_runner",
        "glassbox.artifacts",
        "glassbox.staging",
        "glassbox.tfma_internals",
        "glassbox.quiet",
        "glassbox.filesystem",
        "glassbox.deferred_imports",
        "glassbox.garbage_collection",
        "glassbox.tfrecords",
        "glassbox.tfma_keys",
    ),
)
# Siblings in one layer that must stay independent of each other.
INDEPENDENT = (
    {"glassbox.evaluation", "glassbox.explain"},
    {"glassbox.evaluation", "glassbox.training"},
    {"glassbox.explain", "glassbox.training"},
    {"glassbox.drift", "glassbox.evaluation"},
    {"glassbox.drift", "glassbox.explain"},
    {"glassbox.drift", "glassbox.training"},
    {"glassbox.simple_model", "glassbox.evaluation"},
    {"glassbox.simple_model", "glassbox.explain"},
    {"glassbox.simple_model", "glassbox.drift"},
    {"glassbox.simple_model", "glassbox.training"},
)


def _package_dirs() -> dict[str, Path]:
    """Each top-level package of the distribution and its folder, from pyproject's package-dir."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    mapping = pyproject["tool"]["setuptools"]["package-dir"]
    return {name: REPO_ROOT / folder for name, folder in mapping.items()}


def _modules() -> dict[str, Path]:
    """Every module of the distribution by its dotted name (the longest package-dir match wins)."""
    modules: dict[str, Path] = {}
    for package, folder in sorted(_package_dirs().items(), key=lambda item: len(item[0])):
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def _imports(name: str, path: Path) -> set[str]:
    """The glassbox modules `name` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + is_package]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {module for module in found if module and module.startswith("glassbox.")}


def _unit(module: str) -> str | None:
    """The layer unit (e.g. glassbox.evaluation) a module belongs to."""
    for layer in LAYERS:
        for unit in layer:
            if module == unit or module.startswith(unit + "."):
                return unit
    return None


def _rank(unit: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if unit in layer)


MODULES = _modules()


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in MODULES if m != "glassbox" and _unit(m) is None)
    assert not unplaced, f"add these to a layer in {__name__}.LAYERS: {unplaced}"


@pytest.mark.parametrize("name", sorted(m for m in MODULES if _unit(m)))
def test_imports_point_down(name):
    unit = _unit(name)
    wrong = []
    for imported in sorted(_imports(name, MODULES[name])):
        target = _unit(imported)
        if target is None or target == unit:
            continue
        if _rank(target) < _rank(unit):
            wrong.append(f"{imported} (a layer above {unit})")
        elif any({unit, target} == pair for pair in INDEPENDENT):
            wrong.append(f"{imported} ({unit} and {target} stay independent)")
    assert not wrong, f"{name} imports " + "; ".join(wrong)
