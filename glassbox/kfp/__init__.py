"""glassbox on Kubeflow Pipelines: the TFX components' container entrypoint (`tfx_entrypoint`) and
native KFP components (`components`, whose bodies run `steps`: the engine on KFP's artifacts).

Both run in processes of their own (a task's container), which import this package before
TensorFlow, TFMA or TFX: the imports glassbox.deferred_imports defers are deferred here, and the
collections at exit skipped (glassbox.garbage_collection), as in the `glassbox` command."""

from glassbox import deferred_imports, garbage_collection

deferred_imports.install()
garbage_collection.spare_exit_collections()

# The image the compiled pipeline and the native components run in (the project's Dockerfile).
DEFAULT_IMAGE = "ghcr.io/tfx-glassbox/glassbox:0.1.0"
