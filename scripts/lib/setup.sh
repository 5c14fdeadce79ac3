# Installs what the scripts in scripts/ need on a fresh Debian machine with Python 3.11, and nothing
# twice: each step checks first and prints nothing when there is nothing to do. Sourced by
# scripts/demo, scripts/test and .ci/run from the repository root.

# Debian's chromium, the browser the report tests drive (tests/support/report_browser.py).
CHROMIUM=/usr/bin/chromium

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command, showing its output only if it fails.
quietly() {
  local log
  log=$("$@" 2>&1) || { echo "$log" >&2; return 1; }
}

apt_install() {
  quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# uv, from PyPI: with pip where the Python allows it, else (Debian's Python is externally managed,
# PEP 668) with Debian's pipx. Both put it in ~/.local/bin.
ensure_uv() {
  case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) export PATH="$PATH:$HOME/.local/bin" ;; esac
  command -v uv >/dev/null 2>&1 && return
  echo "Installing uv ..." >&2
  if ! python3 -m pip install --quiet --user uv >/dev/null 2>&1; then
    command -v pipx >/dev/null 2>&1 || apt_install pipx
    quietly pipx install uv
  fi
  command -v uv >/dev/null 2>&1 || { echo "uv was installed but is not on PATH" >&2; return 1; }
}

# The locked environment (.venv): every dependency group (dev, docs) and the demo's extra, its
# libraries compiled to bytecode at install (as the Docker image's are), so that no process
# compiles them at import where Python cannot write .pyc files (PYTHONDONTWRITEBYTECODE, a
# read-only venv): `import tensorflow` alone then compiled 4,771 modules, 9.8 s of CPU, not 3.7 s.
ensure_env() {
  if uv sync --frozen --extra demo --check --quiet 2>/dev/null \
    && compgen -G ".venv/lib/python3*/site-packages/tensorflow/__pycache__" >/dev/null; then
    return
  fi
  echo "Installing the locked environment into .venv (uv sync; a few minutes the first time) ..." >&2
  uv sync --frozen --extra demo --compile-bytecode --quiet
}

# Java 17 and Maven: scripts/fetch-runner-jars, and the job servers and Flink and Spark clusters of
# the distributed-runner tests (tests/runners/).
ensure_java_maven() {
  command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 && return
  echo "Installing Java 17 and Maven for the distributed-runner tests (apt-get) ..." >&2
  apt_install openjdk-17-jdk-headless maven
}

ensure_chromium() {
  [ -x "$CHROMIUM" ] && return
  echo "Installing Debian's chromium for the browser tests (apt-get) ..." >&2
  apt_install chromium
}
