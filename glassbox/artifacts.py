"""glassbox's own TFX artifact types (namespaced type names, as Kubeflow Pipelines v2 requires)."""

from tfx.types import artifact, value_artifact

from glassbox import keys


class ValidationResult(artifact.Artifact):
    """A Validator's decision: TFMA's ValidationResult (``tfma.load_validation_result`` reads the
    dir), ``decision.json`` (machine-readable, every check) and ``decision.md`` (the sentences)."""

    TYPE_NAME = keys.VALIDATION_RESULT_TYPE


class Override(artifact.Artifact):
    """A person's approval or veto of one Model, recorded by `glassbox override` (no files: its
    custom properties say who, when, why, which Model and which ModelBlessing it overrides)."""

    TYPE_NAME = keys.OVERRIDE_TYPE


class HTMLReport(value_artifact.ValueArtifact):
    """An HTML report, the file at the artifact's URI (a value artifact: TFX's local runners make
    its URI a file, not a directory). Its type is KFP's `system.HTML`, which the Kubeflow Pipelines
    UI shows; `glassbox.kfp.tfx_entrypoint` maps that type back to this class."""

    TYPE_NAME = keys.HTML_TYPE

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def decode(self, serialized_value: bytes) -> str:
        return serialized_value.decode("utf-8")
