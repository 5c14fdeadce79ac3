"""glassbox on Kubeflow Pipelines: the TFX components' container entrypoint (`tfx_entrypoint`) and
KFP's ML Metadata as a task reaches it (`metadata`: the baseline step's query)."""

# The image the compiled pipeline and the native components run in (the project's Dockerfile).
DEFAULT_IMAGE = "ghcr.io/tfx-glassbox/glassbox:0.1.0"
