"""kubernetes/, checked offline with the real tools.

Every overlay is built with `kubectl kustomize`, in a temporary copy of kubernetes/ holding
throwaway credentials files, and its output is validated by kubernetes-validate in strict mode
against a pinned Kubernetes version. The rendered objects are then checked for what a platform
team relies on: hardened containers with requests and limits, pinned images, references that
resolve, credentials generated from an uncommitted file, least-privilege RBAC, and who may reach
whom under the NetworkPolicies. Custom resources (the Flink operator's FlinkDeployment) are
validated against their operator's pinned CRD (tests/deploy/crds/), their pod templates as Pods.
KFP's remote bases (kubernetes/kfp/) cannot be fetched here: their pinning is checked instead.
"""

import base64
import glob
import gzip
import ipaddress
import os
import re
import secrets
import shutil
import subprocess
import sys
from importlib import metadata

import jsonschema
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

# The CRDs of the custom resources the overlays may hold, pinned with their operator: the Flink
# Kubernetes operator 1.10.0's FlinkDeployment, as its API jar ships it
# (org.apache.flink:flink-kubernetes-operator-api:1.10.0,
# META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml).
CRDS = os.path.join(ROOT, "tests", "deploy", "crds")
# The Flink operator's pod roles, and the container it fills in from the FlinkDeployment.
FLINK_ROLES = ("jobManager", "taskManager")
FLINK_MAIN_CONTAINER = "flink-main-container"
PIPELINE_LABELS = {"app.kubernetes.io/component": "pipeline"}
# A cluster DNS pod, as kubeadm, kind and the managed clusters label it.
DNS = ("kube-system", {"k8s-app": "kube-dns"})

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


def _flink_pod_templates(deployment):
    """The JobManager's and TaskManagers' pods as the operator makes them: each role's pod
    template, with the image, resources and service account the FlinkDeployment gives."""
    spec = deployment["spec"]
    # A shared spec.podTemplate would be merged into each role's by list position.
    assert "podTemplate" not in spec, "give each role a complete pod template"
    for role in FLINK_ROLES:
        template = spec[role]["podTemplate"]
        pod = template["spec"]
        (main,) = [c for c in pod["containers"] if c["name"] == FLINK_MAIN_CONTAINER]
        assert "image" not in main and "resources" not in main, "the operator sets them"
        resource = {
            "cpu": spec[role]["resource"]["cpu"],
            "memory": spec[role]["resource"]["memory"],
        }
        filled = {
            **main,
            "image": spec["image"],
            "resources": {"requests": resource, "limits": resource},
        }
        workload = {
            "apiVersion": deployment["apiVersion"],
            "kind": deployment["kind"],
            "metadata": {
                **deployment["metadata"],
                "name": f"{deployment['metadata']['name']}-{role}",
            },
        }
        yield (
            workload,
            {
                **template,
                "spec": {
                    **pod,
                    "serviceAccountName": spec["serviceAccount"],
                    "containers": [filled if c is main else c for c in pod["containers"]],
                },
            },
        )


def _pod_templates(docs):
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield doc, doc["spec"]["template"]
        elif doc["kind"] == "CronJob":
            yield doc, doc["spec"]["jobTemplate"]["spec"]["template"]
        elif doc["kind"] == "FlinkDeployment":
            yield from _flink_pod_templates(doc)


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


def _custom_resource_schemas():
    """{(apiVersion, kind): the openAPIV3Schema of each pinned CRD}."""
    schemas = {}
    for path in glob.glob(os.path.join(CRDS, "*.yml.gz")):
        with gzip.open(path, "rt") as f:
            crd = yaml.safe_load(f)
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schema = version["schema"]["openAPIV3Schema"]
            # Every object's own fields, which a CRD leaves for the API server to check.
            schema["properties"].update(
                apiVersion={"type": "string"}, kind={"type": "string"}, metadata={"type": "object"}
            )
            schemas[key] = schema
    return schemas


def _strict(schema):
    """The schema with unknown fields refused, as the API server refuses them under strict field
    validation (a structural schema prunes what it does not declare)."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


def test_output_validates_strictly_against_pinned_kubernetes_schemas(rendered, tmp_path):
    """Built-in kinds against Kubernetes' schemas; custom resources against their CRD, and the
    pods they template against Kubernetes' Pod schema."""
    schemas = _custom_resource_schemas()
    builtin, pods = [], []
    for doc in rendered["docs"]:
        key = (doc["apiVersion"], doc["kind"])
        if key in schemas:
            jsonschema.validate(doc, _strict(schemas[key]))
        else:  # kubernetes-validate warns of a kind it has no schema for: that fails below
            builtin.append(doc)
    for workload, template in _pod_templates(rendered["docs"]):
        if (workload["apiVersion"], workload["kind"]) in schemas:
            pods.append({**template, "apiVersion": "v1", "kind": "Pod"})
    path = tmp_path / "builtin.yaml"
    path.write_text(yaml.safe_dump_all(builtin + pods))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # A kind without a schema is only a warning for the tool: not validated means not passed.
    assert done.returncode == 0 and "WARN" not in done.stdout, done.stdout + done.stderr
    assert done.stdout.count(" passed ") == len(builtin) + len(pods)


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


def _selects(selector, labels):
    """Whether a label selector selects these labels ({} selects everything)."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if not {
            "In": present and labels.get(key) in (values or ()),
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def _peer_admits(peer, policy_namespace, endpoint):
    """Whether a NetworkPolicy peer (from/to entry) covers an endpoint: a pod, as (namespace,
    labels), or an address outside the cluster (a string)."""
    if isinstance(endpoint, str):
        block = peer.get("ipBlock")
        return bool(block) and (
            ipaddress.ip_address(endpoint) in ipaddress.ip_network(block["cidr"])
            and not any(
                ipaddress.ip_address(endpoint) in ipaddress.ip_network(c)
                for c in block.get("except", ())
            )
        )
    if "ipBlock" in peer:  # counted for addresses outside the cluster only
        return False
    namespace, labels = endpoint
    if "namespaceSelector" in peer:
        in_namespace = _selects(
            peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace}
        )
    else:
        in_namespace = namespace == policy_namespace
    return in_namespace and _selects(peer.get("podSelector", {}), labels)


def _direction_allows(docs, direction, pod, peer, port, protocol):
    """Whether the policies selecting `pod` let traffic of `direction` (Ingress from `peer`,
    Egress to it) through on port/protocol. A pod that no such policy selects is open."""
    namespace, labels = pod
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    policies = []
    for policy in _find(docs, "NetworkPolicy"):
        spec = policy["spec"]
        types = spec.get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in spec else [])
        if (
            policy["metadata"]["namespace"] == namespace
            and direction in types
            and _selects(spec["podSelector"], labels)
        ):
            policies.append(policy)
    if not policies:
        return True
    return any(
        (
            not rule.get("ports")
            or any(
                p.get("protocol", "TCP") == protocol and p.get("port") in (None, port)
                for p in rule["ports"]
            )
        )
        and (
            peers_key not in rule
            or any(_peer_admits(p, policy["metadata"]["namespace"], peer) for p in rule[peers_key])
        )
        for policy in policies
        for rule in policy["spec"].get(rules_key, [])
    )


def _reachable(docs, source, destination, port, protocol="TCP"):
    """Whether the NetworkPolicies let `source` open a connection to `destination` on port, as
    Kubernetes reads them: allowed by the source's egress policies and the destination's ingress
    policies. Pods are (namespace, labels); anything else is an address outside the cluster."""
    return (
        isinstance(source, str)
        or _direction_allows(docs, "Egress", source, destination, port, protocol)
    ) and (
        isinstance(destination, str)
        or _direction_allows(docs, "Ingress", destination, source, port, protocol)
    )


def _pods(docs):
    """{app.kubernetes.io/name: (namespace, labels)} of every templated pod."""
    return {
        template["metadata"]["labels"]["app.kubernetes.io/name"]: (
            workload["metadata"]["namespace"],
            template["metadata"]["labels"],
        )
        for workload, template in _pod_templates(docs)
    }


# Others: a pipeline pod, an unlabelled pod of the namespace, pods elsewhere, an outside address.
PIPELINE = ("glassbox", PIPELINE_LABELS)
STRANGER = ("glassbox", {"app.kubernetes.io/name": "anything-else"})
KUBEFLOW_PIPELINE = ("kubeflow", PIPELINE_LABELS)
OUTSIDE = "203.0.113.7"


def test_every_pod_of_the_namespace_is_denied_by_default(rendered):
    docs = rendered["docs"]
    (deny,) = [
        p
        for p in _find(docs, "NetworkPolicy")
        if p["metadata"]["namespace"] == "glassbox" and p["spec"]["podSelector"] == {}
    ]
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    pods = _pods(docs)
    assert {namespace for namespace, _ in pods.values()} == {"glassbox"}
    # A pod no workload-specific policy names: nothing in, nothing out (DNS included).
    for namespace, labels in pods.values():
        for port in (53, 443, 3306, 6121, 6122, 6123, 8080, 8081, 8098, 8099):
            assert not _reachable(docs, STRANGER, (namespace, labels), port)
            assert not _reachable(docs, (namespace, labels), STRANGER, port)
    assert not _reachable(docs, STRANGER, ("kube-system", {"k8s-app": "kube-dns"}), 53, "UDP")
    assert not _reachable(docs, STRANGER, OUTSIDE, 443)


def test_only_pipeline_pods_reach_the_mlmd_server(rendered):
    docs = rendered["docs"]
    mlmd, mysql = _pods(docs)["mlmd"], _pods(docs)["mysql"]
    (policy,) = [
        p
        for p in _find(docs, "NetworkPolicy")
        if "Ingress" in p["spec"]["policyTypes"]
        and p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "mlmd"}
    ]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": PIPELINE_LABELS}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert _reachable(docs, PIPELINE, mlmd, 8080)
    for other in (STRANGER, KUBEFLOW_PIPELINE, mysql, OUTSIDE):
        assert not _reachable(docs, other, mlmd, 8080), other
    assert not _reachable(docs, PIPELINE, mlmd, 3306)


def test_only_the_mlmd_server_reaches_mysql_and_mysql_reaches_nothing(rendered):
    docs = rendered["docs"]
    mlmd, mysql = _pods(docs)["mlmd"], _pods(docs)["mysql"]
    policies = [
        p
        for p in _find(docs, "NetworkPolicy")
        if p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "mysql"}
    ]
    assert len(policies) == 1
    (rule,) = policies[0]["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mlmd"}}}]
    assert _reachable(docs, mlmd, mysql, 3306)
    for other in (PIPELINE, STRANGER, OUTSIDE):
        assert not _reachable(docs, other, mysql, 3306), other
    # Not even DNS: it resolves no client (--skip-name-resolve).
    assert (
        "--skip-name-resolve"
        in _one(docs, "StatefulSet", "mysql")["spec"]["template"]["spec"]["containers"][0]["args"]
    )
    for destination, port in ((DNS, 53), (mlmd, 8080), (OUTSIDE, 443)):
        assert not _reachable(docs, mysql, destination, port, "UDP" if port == 53 else "TCP")


def test_dns_and_object_stores_are_reachable_where_needed(rendered):
    docs = rendered["docs"]
    pods = _pods(docs)
    assert _reachable(docs, pods["mlmd"], DNS, 53, "UDP")
    assert _reachable(docs, pods["mlmd"], DNS, 53, "TCP")
    assert _reachable(docs, PIPELINE, DNS, 53, "UDP")
    assert _reachable(docs, PIPELINE, OUTSIDE, 443)
    assert not _reachable(docs, pods["mlmd"], OUTSIDE, 443)
    assert not _reachable(docs, PIPELINE, OUTSIDE, 80)


def test_the_flink_overlay_runs_a_session_cluster_and_beams_job_server(workdir):
    docs = _render(workdir, "flink")["docs"]
    session = _one(docs, "FlinkDeployment", "flink-session")["spec"]
    assert session["mode"] == "standalone" and "job" not in session  # a session cluster
    assert session["flinkVersion"] == "v1_19" and session["image"].startswith("flink:1.19.")
    job_server = _one(docs, "Deployment", "beam-job-server")["spec"]["template"]["spec"]
    (container,) = job_server["containers"]
    # Beam's job server for that Flink line, at the Beam release of uv.lock's SDK.
    assert (
        container["image"] == f"apache/beam_flink1.19_job_server:{metadata.version('apache-beam')}"
    )
    assert "--flink-master=flink-session-rest:8081" in container["args"]
    taskmanager = session["taskManager"]["podTemplate"]["spec"]
    (pool,) = [c for c in taskmanager["containers"] if c["name"] == "beam-worker-pool"]
    assert pool["command"][-1] == "--service_port=50000"


def test_flink_traffic_is_only_what_the_evaluator_needs(workdir):
    docs = _render(workdir, "flink")["docs"]
    pods = _pods(docs)
    job_server, jobmanager, taskmanager = (
        pods[name] for name in ("beam-job-server", "flink-jobmanager", "flink-taskmanager")
    )
    operator = ("flink-operator", {"app.kubernetes.io/name": "flink-kubernetes-operator"})
    allowed = [
        (PIPELINE, job_server, 8099),  # the job
        (PIPELINE, job_server, 8098),  # its artifacts
        (job_server, jobmanager, 8081),  # submitted over Flink's REST API
        (operator, jobmanager, 8081),  # the operator's status checks
        (taskmanager, jobmanager, 6123),  # RPC
        (taskmanager, jobmanager, 6124),  # blobs (the job's jars)
        (jobmanager, taskmanager, 6122),  # RPC
        (taskmanager, taskmanager, 6121),  # data exchange between tasks
        (taskmanager, OUTSIDE, 443),  # SDK workers read examples and models, write results
    ]
    denied = [
        (STRANGER, job_server, 8099),
        (KUBEFLOW_PIPELINE, job_server, 8099),
        (PIPELINE, jobmanager, 8081),  # only through the job server
        (STRANGER, jobmanager, 8081),
        (STRANGER, taskmanager, 6121),
        (job_server, pods["mlmd"], 8080),  # nothing of Flink's reaches ML Metadata
        (taskmanager, pods["mlmd"], 8080),
        (jobmanager, OUTSIDE, 443),
        (job_server, OUTSIDE, 443),
        (OUTSIDE, jobmanager, 8081),
    ]
    for source, destination, port in allowed:
        assert _reachable(docs, source, destination, port), (source, destination, port)
    for source, destination, port in denied:
        assert not _reachable(docs, source, destination, port), (source, destination, port)
    for pod in (job_server, jobmanager, taskmanager):
        assert _reachable(docs, pod, DNS, 53, "UDP")


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
