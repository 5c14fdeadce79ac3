"""glassbox on Kubeflow Pipelines: the TFX components' container entrypoint (`tfx_entrypoint`) and
native KFP components (`components`, whose bodies run `steps`: the engine on KFP's artifacts)."""

# The image the compiled pipeline and the native components run in (the project's Dockerfile).
DEFAULT_IMAGE = "ghcr.io/tfx-glassbox/glassbox:0.1.0"
