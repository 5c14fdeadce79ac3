# The glassbox component image: what KFP runs for every TFX component of a glassbox pipeline.
# Build: docker build -t ghcr.io/tfx-glassbox/glassbox:0.1.0 .   (README "Deploy on Kubernetes")
#
# Both stages start from the same Python image, so the venv built in the first stage (whose
# bin/python is a symlink to /usr/local/bin/python3.11) runs unchanged in the second.
# Pinned by tag and by the digest of the tag's multi-architecture index. The digest could not be
# pulled where this file was written (no registry access); it is the one public Dockerfiles that
# build from this tag use. To re-pin, e.g. after a Debian security rebuild of the tag:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm   # "Digest:" line
# and pass it with --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>.
# Python 3.11 and Debian bookworm (glibc 2.36) are what uv.lock is resolved and tested on.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

# --- builder: resolve nothing, install exactly uv.lock into /opt/venv ---
FROM ${PYTHON_IMAGE} AS builder

# uv from PyPI at the version the lock was written with; only this stage has it.
RUN pip install --no-cache-dir uv==0.13.9

# Use the image's interpreter (never download one), install into /opt/venv as real files (the
# cache is a mount, not part of the layer) and compile bytecode now: the runtime venv is owned by
# root, so Python could not write .pyc files there later.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1

WORKDIR /src

# Dependencies first, in their own layer: rebuilt only when the lock changes, not on every code edit.
# --frozen: fail rather than re-resolve if uv.lock and pyproject.toml disagree. --no-dev: no test
# tools. The `demo` extra (statsmodels) lets the image run the example pipeline end to end.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra demo --no-install-project

# Then the package itself, as a regular (not editable) install: /src does not exist at run time.
# .dockerignore lets only the package sources, pyproject.toml, uv.lock and README.md through.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra demo --no-editable

# --- runtime: the slim image, the venv, an unprivileged user; no uv, no compiler ---
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="tfx-glassbox" \
      org.opencontainers.image.description="TFX components (Evaluator, Validator, ...) of tfx-glassbox, for TFX on Kubeflow Pipelines" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed, numeric, non-root UID/GID: Kubernetes' runAsNonRoot can only verify a numeric USER,
# and fsGroup/runAsUser in pod specs can name it.
# KFP's launcher stages a component's artifacts under /gcs, /minio, /s3 and /oci (local mirrors of
# gs://, minio://, s3:// and oci:// URIs) and creates those directories at the filesystem root,
# which a non-root user cannot: they are created here, owned by that user.
RUN groupadd --gid 10001 glassbox \
    && useradd --uid 10001 --gid glassbox --no-log-init --create-home --home-dir /home/glassbox \
       --shell /usr/sbin/nologin glassbox \
    && install --directory --owner=glassbox --group=glassbox /gcs /minio /s3 /oci

# Owned by root and read-only for the user: a component cannot alter the code it runs.
COPY --from=builder /opt/venv /opt/venv

# The venv's python first on PATH: a compiled glassbox pipeline starts every TFX component as
# `python -m glassbox.kfp.tfx_entrypoint ...` (TFX's KFP entrypoint, repaired; README "Run on
# Kubeflow Pipelines").
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/home/glassbox \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER 10001:10001
WORKDIR /home/glassbox

# KFP replaces the command with the component's own; run by hand, the image shows the CLI.
CMD ["glassbox", "--help"]
