"""kubernetes/, checked offline with the real tools.

Every overlay is built with `kubectl kustomize`, in a temporary copy of kubernetes/ holding
throwaway credentials files, and its output is validated by kubernetes-validate in strict mode
against a pinned Kubernetes version. The rendered objects are then checked for what a platform
team relies on: hardened containers with requests and limits, pinned images, references that
resolve, credentials generated from an uncommitted file, least-privilege RBAC. KFP's remote bases
(kubernetes/kfp/) cannot be fetched here: their pinning is checked instead.
"""

import base64
import glob
import os
import re
import secrets
import shutil
import subprocess
import sys
from importlib import metadata

import pytest
import yaml

from tests.support import REPO_ROOT

ROOT = REPO_ROOT
K8S = os.path.join(ROOT, "kubernetes")
OVERLAYS = sorted(
    os.path.basename(os.path.dirname(p))
    for p in glob.glob(os.path.join(K8S, "overlays", "*", "kustomization.yaml"))
)
# The schemas the output must match, strictly (unknown fields are errors).
KUBERNETES_VERSION = "1.34.0"
CREDENTIALS_FILE = "mysql.env"
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
PINNED_IMAGE = re.compile(r"^[\w.-]+(:\d+)?(/[\w.-]+)*(:(?P<tag>[\w.-]+))?(@sha256:[0-9a-f]{64})?$")
REMOTE_REF = re.compile(r"[?&]ref=(?P<ref>[^&]+)")
RELEASE_TAG = re.compile(r"^v?\d+\.\d+\.\d+$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")

_rendered = {}


def _example_keys():
    with open(os.path.join(K8S, "mysql.env.example")) as f:
        return [line.split("=", 1)[0] for line in f if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of kubernetes/ with a throwaway credentials file in every overlay."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    copy = tmp_path_factory.mktemp("k8s") / "kubernetes"
    shutil.copytree(K8S, copy)
    credentials = {}
    for overlay in OVERLAYS:
        values = {key: f"test-{secrets.token_hex(8)}" for key in _example_keys()}
        with open(copy / "overlays" / overlay / CREDENTIALS_FILE, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in values.items())
        credentials[overlay] = values
    return copy, credentials


def _render(workdir, overlay):
    if overlay not in _rendered:
        copy, credentials = workdir
        done = subprocess.run(
            ["kubectl", "kustomize", str(copy / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        path = copy.parent / f"{overlay}.yaml"
        path.write_text(done.stdout)
        docs = [d for d in yaml.safe_load_all(done.stdout) if d]
        _rendered[overlay] = {"path": str(path), "docs": docs, "credentials": credentials[overlay]}
    return _rendered[overlay]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request, workdir):
    return _render(workdir, request.param)


def _find(docs, kind, name=None):
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def _one(docs, kind, name):
    found = _find(docs, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _pod_templates(docs):
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield doc, doc["spec"]["template"]
        elif doc["kind"] == "CronJob":
            yield doc, doc["spec"]["jobTemplate"]["spec"]["template"]


def _containers(pod_spec):
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def _generated(docs, kind, name, namespace):
    """The object kustomize generated as `name-<hash>`."""
    found = [
        d
        for d in docs
        if d["kind"] == kind
        and d["metadata"].get("namespace") == namespace
        and re.fullmatch(rf"{re.escape(name)}-[a-z0-9]{{10}}", d["metadata"]["name"])
    ]
    assert len(found) == 1, f"no generated {kind} {name} in {namespace}"
    return found[0]


def test_there_are_overlays_to_build():
    assert {"local", "production"} <= set(OVERLAYS)


def test_output_validates_strictly_against_pinned_kubernetes_schemas(rendered):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            rendered["path"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # A kind without a schema is only a warning for the tool: not validated means not passed.
    assert done.returncode == 0 and "WARN" not in done.stdout, done.stdout + done.stderr
    assert done.stdout.count(" passed ") == len(rendered["docs"])


def test_every_container_is_non_root_read_only_and_unprivileged(rendered):
    templates = list(_pod_templates(rendered["docs"]))
    assert templates
    for workload, template in templates:
        pod = template["spec"]
        pod_security = pod.get("securityContext", {})
        for container in _containers(pod):
            where = f"{workload['kind']}/{workload['metadata']['name']} {container['name']}"
            security = {**pod_security, **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, where
            assert security.get("runAsUser", 1) != 0, where
            assert security.get("readOnlyRootFilesystem") is True, where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            assert security.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            assert "privileged" not in security or security["privileged"] is False, where
            # With a read-only root, /tmp must be a volume of its own.
            assert "/tmp" in {m["mountPath"] for m in container.get("volumeMounts", [])}, where


def test_every_container_has_requests_and_limits(rendered):
    for workload, template in _pod_templates(rendered["docs"]):
        for container in _containers(template["spec"]):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert set(resources.get(bound, {})) >= {"cpu", "memory"}, (
                    f"{workload['metadata']['name']}/{container['name']}: {bound}"
                )


def test_every_image_is_pinned(rendered):
    for _workload, template in _pod_templates(rendered["docs"]):
        for container in _containers(template["spec"]):
            image = container["image"]
            pinned = PINNED_IMAGE.match(image)
            assert pinned, f"{image}: not an image reference"
            tag, by_digest = pinned.group("tag"), "@sha256:" in image
            # A digest pins by itself; a tag must be an exact version (not latest, not `8`).
            assert by_digest or (tag and re.search(r"\d+\.\d+", tag)), f"{image}: not pinned"


def test_writable_volumes_are_bounded(rendered):
    for workload, template in _pod_templates(rendered["docs"]):
        for volume in template["spec"].get("volumes", []):
            if "emptyDir" in volume:
                assert "sizeLimit" in volume["emptyDir"], (
                    f"{workload['metadata']['name']}: {volume}"
                )


def test_references_resolve(rendered):
    """Secrets, config maps, service accounts, $(VAR)s and Services point at what exists."""
    docs = rendered["docs"]
    by_key = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs}

    def data_of(kind, namespace, name):
        obj = by_key.get((kind, namespace, name))
        assert obj is not None, f"{kind} {namespace}/{name} is referenced but not rendered"
        return obj.get("data", {})

    for workload, template in _pod_templates(docs):
        namespace, pod = workload["metadata"]["namespace"], template["spec"]
        assert ("ServiceAccount", namespace, pod["serviceAccountName"]) in by_key
        for container in _containers(pod):
            defined = set()
            for source in container.get("envFrom", []):
                for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if ref in source:
                        defined |= set(data_of(kind, namespace, source[ref]["name"]))
            for var in container.get("env", []):
                defined.add(var["name"])
                source = var.get("valueFrom", {})
                for kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    if ref in source:
                        assert source[ref]["key"] in data_of(kind, namespace, source[ref]["name"])
            # Kubernetes leaves an undefined $(VAR) in the command line as it is.
            for arg in container.get("command", []) + container.get("args", []):
                for var in re.findall(r"\$\((\w+)\)", arg):
                    assert var in defined, f"{container['name']}: $({var}) is not defined"
    for service in _find(docs, "Service"):
        namespace = service["metadata"]["namespace"]
        selected = [
            t
            for w, t in _pod_templates(docs)
            if w["metadata"]["namespace"] == namespace
            and service["spec"]["selector"].items() <= t["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, f"Service {service['metadata']['name']} selects {len(selected)}"
        ports = {
            p.get("name") for c in selected[0]["spec"]["containers"] for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"Service {service['metadata']['name']}: {port}"
    for statefulset in _find(docs, "StatefulSet"):
        governing = by_key[
            ("Service", statefulset["metadata"]["namespace"], statefulset["spec"]["serviceName"])
        ]
        assert governing["spec"]["clusterIP"] == "None"


def test_credentials_are_generated_from_the_overlays_file(rendered):
    secret = _generated(rendered["docs"], "Secret", "mysql-credentials", "glassbox")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    # Exactly the throwaway values written into this test's copy: nothing committed feeds it.
    assert decoded == rendered["credentials"]


def test_credentials_file_is_gitignored_and_no_secret_is_committed():
    if shutil.which("git") is None or not os.path.isdir(os.path.join(ROOT, ".git")):
        pytest.skip("git is not installed, or this is not a git checkout")
    for overlay in OVERLAYS:
        path = os.path.join("kubernetes", "overlays", overlay, CREDENTIALS_FILE)
        ignored = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} is not gitignored"
        with open(os.path.join(K8S, "overlays", overlay, "kustomization.yaml")) as f:
            generators = yaml.safe_load(f).get("secretGenerator", [])
        assert [g["envs"] for g in generators if g["name"] == "mysql-credentials"] == [
            [CREDENTIALS_FILE]
        ]
    tracked = subprocess.run(
        ["git", "ls-files", "kubernetes"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [p for p in tracked if os.path.basename(p) == CREDENTIALS_FILE]
    for path in tracked:
        if path.endswith((".yaml", ".yml")) and os.path.exists(os.path.join(ROOT, path)):
            with open(os.path.join(ROOT, path)) as f:
                kinds = [d.get("kind") for d in yaml.safe_load_all(f) if isinstance(d, dict)]
            assert "Secret" not in kinds, f"{path} commits a Secret"


def test_metadata_namespace_enforces_restricted_pod_security(rendered):
    labels = _one(rendered["docs"], "Namespace", "glassbox")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_only_the_mlmd_server_reaches_mysql(rendered):
    policies = [
        p
        for p in _find(rendered["docs"], "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "mysql"}
    ]
    assert len(policies) == 1
    (rule,) = policies[0]["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mlmd"}}}]


def test_pipeline_runner_has_least_privilege(rendered):
    docs = rendered["docs"]
    # Namespaced only: nothing that reaches beyond KFP's namespace.
    assert not _find(docs, "ClusterRole") and not _find(docs, "ClusterRoleBinding")
    account = _one(docs, "ServiceAccount", "glassbox-pipeline-runner")
    assert account["metadata"]["namespace"] == "kubeflow"
    binding = _one(docs, "RoleBinding", "glassbox-pipeline-runner")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "glassbox-pipeline-runner",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "glassbox-pipeline-runner", "namespace": "kubeflow"}
    ]
    role = _one(docs, "Role", "glassbox-pipeline-runner")
    granted = set()
    for rule in role["rules"]:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], f"wildcard {field} in {rule}"
        for resource in rule["resources"]:
            for verb in rule["verbs"]:
                granted.add((resource, verb, tuple(rule.get("resourceNames", ()))))
    assert granted == {
        ("workflowtaskresults", "create", ()),
        ("workflowtaskresults", "patch", ()),
        ("configmaps", "get", ("kfp-launcher",)),
        ("secrets", "get", ("mlpipeline-minio-artifact",)),
    }


def test_workloads_that_need_no_api_get_no_token(rendered):
    for workload, template in _pod_templates(rendered["docs"]):
        assert template["spec"].get("automountServiceAccountToken") is False, workload["metadata"][
            "name"
        ]


def test_production_is_sized_and_guarded_unlike_local(workdir):
    local, production = (_render(workdir, o)["docs"] for o in ("local", "production"))

    def mysql(docs):
        return _one(docs, "StatefulSet", "mysql")

    def upgrade(docs):
        return _generated(docs, "ConfigMap", "mlmd-config", "glassbox")["data"][
            "MLMD_ENABLE_DATABASE_UPGRADE"
        ]

    def storage(docs):
        return mysql(docs)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
            "storage"
        ]

    def memory_limit(docs):
        return mysql(docs)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][
            "memory"
        ]

    assert (storage(local), storage(production)) == ("5Gi", "50Gi")
    assert (memory_limit(local), memory_limit(production)) == ("1Gi", "4Gi")
    # Production metadata is never migrated by an image bump alone.
    assert (upgrade(local), upgrade(production)) == ("true", "false")


def _kustomizations():
    for path in glob.glob(os.path.join(K8S, "**", "kustomization.yaml"), recursive=True):
        with open(path) as f:
            yield os.path.relpath(path, ROOT), yaml.safe_load(f) or {}


def _remote(entry):
    return "://" in entry or entry.startswith(("github.com/", "git@", "gitlab.com/"))


def test_remote_bases_are_pinned_to_the_kfp_release_of_the_locked_sdk():
    refs = {}
    for path, kustomization in _kustomizations():
        for entry in kustomization.get("resources", []) + kustomization.get("components", []):
            if not _remote(entry):
                continue
            # Only kubernetes/kfp/ may reach out: everything else builds offline (tests above).
            assert path.startswith(os.path.join("kubernetes", "kfp", "")), f"{path}: {entry}"
            match = REMOTE_REF.search(entry)
            assert match, f"{path}: {entry} is not pinned (?ref=<tag or commit>)"
            ref = match.group("ref")
            assert RELEASE_TAG.match(ref) or COMMIT.match(ref), f"{path}: {ref} is a branch?"
            refs[path] = ref
    assert len(refs) >= 2, "KFP's cluster-scoped resources and its install"
    assert len(set(refs.values())) == 1, f"KFP parts pinned to different releases: {refs}"
    # The KFP backend must be the release of the kfp SDK that compiles and submits our pipelines.
    (ref,) = set(refs.values())
    if RELEASE_TAG.match(ref):
        sdk = metadata.version("kfp")
        assert ref.lstrip("v").split(".")[:2] == sdk.split(".")[:2], (ref, sdk)
