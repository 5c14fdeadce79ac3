"""The services of Beam's distributed runners, started and stopped by the tests that use them.

Every service is a process of this machine, listening on the loopback interface only: a Flink
session cluster (a JobManager and TaskManagers, each its own JVM), a Spark standalone cluster (a
master and a worker, from pyspark's jars), Beam's Python job service and an external SDK worker
pool. `Services` starts them in their own process groups, logs each into a file, waits for each
to answer within a bound, and stops them all (whole process groups, so also the SDK workers a
pool forked) when its ``with`` block ends, however it ends. A service that dies or does not come
up fails with the tail of its log.

The Java side comes from Maven Central through ``scripts/fetch-runner-jars`` (``runner_jars``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from tests.support import REPO_ROOT

RUNNER_JARS = os.environ.get(
    "GLASSBOX_RUNNER_JARS", os.path.expanduser("~/.cache/glassbox/runner-jars")
)
POMS = os.path.join(REPO_ROOT, "scripts", "runner-jars")
LOOPBACK = "127.0.0.1"
# Packages Flink 1.19 and Spark 3.5 reach into by reflection, which Java 17 closes by default (what
# Flink's env.java.opts.all and Spark's launcher open).
JAVA_OPEN_PACKAGES = (
    "java.base/java.io",
    "java.base/java.lang",
    "java.base/java.lang.invoke",
    "java.base/java.lang.reflect",
    "java.base/java.math",
    "java.base/java.net",
    "java.base/java.nio",
    "java.base/java.security",
    "java.base/java.text",
    "java.base/java.time",
    "java.base/java.util",
    "java.base/java.util.concurrent",
    "java.base/java.util.concurrent.atomic",
    "java.base/java.util.concurrent.locks",
    "java.base/sun.nio.ch",
    "java.base/sun.nio.cs",
    "java.base/sun.security.action",
    "java.base/sun.util.calendar",
)
JAVA_OPENS = [f"--add-opens={package}=ALL-UNNAMED" for package in JAVA_OPEN_PACKAGES]
START_TIMEOUT = 180  # seconds for any one service to answer, on a loaded machine


class ServiceError(RuntimeError):
    """A service could not be started, or died."""


def runner_jars(name: str) -> List[str]:
    """The jars scripts/fetch-runner-jars fetched for scripts/runner-jars/<name>/pom.xml."""
    directory = os.path.join(RUNNER_JARS, name)
    with open(os.path.join(POMS, name, "pom.xml"), "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    try:
        with open(os.path.join(directory, "STAMP")) as f:
            current = f.read().strip() == stamp
    except FileNotFoundError:
        current = False
    if not current:
        raise ServiceError(
            f"the {name} jars in {directory} are missing or stale: run scripts/fetch-runner-jars"
        )
    return sorted(
        os.path.join(directory, jar) for jar in os.listdir(directory) if jar.endswith(".jar")
    )


@dataclasses.dataclass(frozen=True)
class SparkCluster:
    master_url: str  # spark://host:port, for --spark_master_url
    status_url: str  # the master's state as JSON (workers, applications)


def spark_home() -> str:
    """pyspark's directory, which is a Spark installation (bin/, jars/)."""
    try:
        import pyspark  # noqa: PLC0415
    except ImportError as e:
        raise ServiceError("pyspark is missing: uv sync --frozen (its runners group)") from e
    return os.path.dirname(pyspark.__file__)


def spark_jars() -> List[str]:
    """Spark's jars, as pyspark ships them."""
    return sorted(glob.glob(os.path.join(spark_home(), "jars", "*.jar")))


def launcher_jar(path: str, main_class: str, classpath: Sequence[str]) -> str:
    """Writes a jar holding only a manifest (main class, classpath, Java 17 opens): what
    ``java -jar`` runs, as Beam's runners start a job server from a jar path."""
    attributes = {
        "Manifest-Version": "1.0",
        "Main-Class": main_class,
        "Class-Path": " ".join("file://" + jar for jar in classpath),
        "Add-Opens": " ".join(JAVA_OPEN_PACKAGES),
    }
    lines = []
    for name, value in attributes.items():
        line = f"{name}: {value}".encode()
        lines.append(line[:72])  # a manifest line holds 72 bytes; continuations start with " "
        lines.extend(b" " + line[i : i + 71] for i in range(72, len(line), 71))
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", b"\r\n".join(lines) + b"\r\n\r\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((LOOPBACK, port)) == 0


def rest_json(url: str):
    """The JSON a service's HTTP endpoint answers; None while it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


class _Process:
    def __init__(self, name: str, command: Sequence[str], log_dir: str, env: Dict[str, str]):
        self.name = name
        self.log = os.path.join(log_dir, f"{name}.log")
        with open(self.log, "wb") as log:
            self.popen = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: stop() ends its children too
            )

    def log_tail(self, lines: int = 40) -> str:
        with open(self.log, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the group, then SIGKILL to whatever is left of it (its leader after the
        grace period, or children it left behind, e.g. a pool's SDK workers)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass


class Services(contextlib.AbstractContextManager):
    """Processes started for one test; all stopped, in reverse order, when the block ends.

    Starting a service does not wait for it: `wait_ready` waits for every service started so
    far, so that their start-ups overlap.
    """

    def __init__(self, log_dir: str):
        self.log_dir = log_dir
        os.makedirs(log_dir, exist_ok=True)
        self._processes: List[_Process] = []
        self._pending: List[Tuple[Callable[[], bool], str]] = []
        self._created = time.monotonic()

    def start(
        self, name: str, command: Sequence[str], env: Optional[Dict[str, str]] = None
    ) -> _Process:
        process = _Process(name, command, self.log_dir, {**os.environ, **(env or {})})
        self._processes.append(process)
        return process

    def expect(self, ready: Callable[[], bool], what: str) -> None:
        """Registers a readiness check for `wait_ready`."""
        self._pending.append((ready, what))

    def wait_ready(self) -> float:
        """Waits for every check registered so far (each bounded by START_TIMEOUT); returns the
        seconds since this block began."""
        while self._pending:
            self.wait_until(*self._pending.pop(0))
        return time.monotonic() - self._created

    def wait_until(
        self, ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT
    ) -> None:
        """Polls ready() until it holds; fails if a service dies first or timeout passes."""
        deadline = time.monotonic() + timeout
        while not ready():
            for process in self._processes:
                if process.popen.poll() is not None:
                    raise ServiceError(
                        f"{process.name} exited with {process.popen.returncode} while waiting "
                        f"for {what}; its log ({process.log}) ends:\n{process.log_tail()}"
                    )
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {p.name}:\n{p.log_tail(15)}" for p in self._processes)
                raise ServiceError(f"{what}: not ready after {timeout:.0f} s\n{tails}")
            time.sleep(0.5)

    def __exit__(self, *exc_info):
        for process in reversed(self._processes):
            process.stop()
        return None


def python_env() -> Dict[str, str]:
    """This venv's bin first on PATH: what SDK workers and Beam's job service need."""
    return {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}


def _python_service(services: Services, name: str, module: str, port_flag: str) -> str:
    """Starts `python -m module port_flag=PORT` in this venv; returns localhost:PORT."""
    port = free_port()
    services.start(name, [sys.executable, "-m", module, f"{port_flag}={port}"], python_env())
    services.expect(lambda: _port_open(port), name)
    return f"localhost:{port}"


def external_worker_pool(services: Services) -> List[str]:
    """Starts Beam's external SDK worker pool; returns the Beam options that run SDK workers
    through it."""
    address = _python_service(
        services, "sdk-worker-pool", "apache_beam.runners.worker.worker_pool_main", "--service_port"
    )
    return ["--environment_type=EXTERNAL", f"--environment_config={address}"]


def local_job_service(services: Services) -> str:
    """Starts Beam's Python job service; returns its address for --job_endpoint."""
    return _python_service(
        services, "job-service", "apache_beam.runners.portability.local_job_service_main", "--port"
    )


def _flink_resource_params(classpath: str, conf_dir: str, which: str) -> List[List[str]]:
    """Flink's own sizing of a process (its start scripts call BashJavaUtils): JVM flags, then
    dynamic properties."""
    done = subprocess.run(
        ["java", "-cp", classpath, "org.apache.flink.runtime.util.bash.BashJavaUtils", which]
        + ["--configDir", conf_dir],
        capture_output=True,
        text=True,
        timeout=120,
    )
    prefix = "BASH_JAVA_UTILS_EXEC_RESULT:"
    results = [
        line[len(prefix) :].split() for line in done.stdout.splitlines() if line.startswith(prefix)
    ]
    if done.returncode != 0 or len(results) != 2:
        raise ServiceError(f"Flink's BashJavaUtils {which} failed:\n{done.stdout}{done.stderr}")
    return results


def flink_session_cluster(
    services: Services, workdir: str, jars: Sequence[str], taskmanagers: int, slots: int = 1
) -> str:
    """Starts a Flink session cluster: a JobManager and `taskmanagers` TaskManagers, each a JVM
    of its own; returns the JobManager's REST address (host:port) for --flink_master."""
    conf_dir = os.path.join(workdir, "conf")
    os.makedirs(conf_dir, exist_ok=True)
    rest_port = free_port()
    conf = {
        "jobmanager.rpc.address": LOOPBACK,
        "jobmanager.rpc.port": free_port(),
        "jobmanager.bind-host": LOOPBACK,
        "rest.address": LOOPBACK,
        "rest.bind-address": LOOPBACK,
        "rest.port": rest_port,
        "taskmanager.host": LOOPBACK,
        "taskmanager.bind-host": LOOPBACK,
        "taskmanager.numberOfTaskSlots": slots,
        "parallelism.default": taskmanagers * slots,
        "jobmanager.memory.process.size": "768m",
        "taskmanager.memory.process.size": "1280m",
        # Beam's runner needs little of Flink's managed memory; the heap holds its operators.
        "taskmanager.memory.managed.fraction": 0.1,
        # Beam's classes are on the cluster's classpath: never load a second copy from the job.
        "classloader.resolve-order": "parent-first",
        "io.tmp.dirs": workdir,
    }
    with open(os.path.join(conf_dir, "flink-conf.yaml"), "w") as f:
        f.writelines(f"{key}: {value}\n" for key, value in conf.items())
    with open(os.path.join(conf_dir, "log4j2.properties"), "w") as f:
        f.write(
            "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = console\n"
            "appender.console.name = console\nappender.console.type = Console\n"
            "appender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n\n"
        )
    classpath = os.pathsep.join(jars)
    java = ["java", *JAVA_OPENS, f"-Dlog4j.configurationFile={conf_dir}/log4j2.properties"]
    services.start(
        "flink-jobmanager",
        java
        + ["-Xmx384m", "-cp", classpath]
        + ["org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"]
        + ["--configDir", conf_dir],
    )
    jvm_flags, dynamic = _flink_resource_params(classpath, conf_dir, "GET_TM_RESOURCE_PARAMS")
    for i in range(taskmanagers):
        services.start(
            f"flink-taskmanager-{i}",
            java
            + jvm_flags
            + ["-cp", classpath, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"]
            + ["--configDir", conf_dir, *dynamic],
        )

    def registered() -> bool:
        overview = rest_json(f"http://{LOOPBACK}:{rest_port}/overview")
        return bool(overview) and overview["taskmanagers"] == taskmanagers

    services.expect(registered, f"{taskmanagers} Flink TaskManagers registered")
    return f"{LOOPBACK}:{rest_port}"


def spark_standalone_cluster(services: Services, workdir: str, cores: int) -> SparkCluster:
    """Starts a Spark standalone master and one worker of `cores` cores, from pyspark's own jars
    and scripts (the worker once the master listens)."""
    home = spark_home()
    env = {
        "SPARK_HOME": home,
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_LOCAL_DIRS": workdir,
        "SPARK_LOG_DIR": workdir,
    }
    spark_class = os.path.join(home, "bin", "spark-class")
    port, web_port = free_port(), free_port()
    services.start(
        "spark-master",
        [spark_class, "org.apache.spark.deploy.master.Master"]
        + ["--host", LOOPBACK, "--port", str(port), "--webui-port", str(web_port)],
        env,
    )
    master = f"spark://{LOOPBACK}:{port}"
    services.wait_until(lambda: _port_open(port), "the Spark master")
    services.start(
        "spark-worker",
        [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", LOOPBACK]
        + ["--cores", str(cores), "--memory", "2g", "--webui-port", "0"]
        + ["--work-dir", os.path.join(workdir, "work"), master],
        env,
    )

    cluster = SparkCluster(master, f"http://{LOOPBACK}:{web_port}/json/")

    def registered() -> bool:
        state = rest_json(cluster.status_url)
        return bool(state) and state.get("aliveworkers") == 1

    services.expect(registered, "a Spark worker registered")
    return cluster
