"""glassbox's own TFX artifact types (namespaced type names, as Kubeflow Pipelines v2 requires)."""

from tfx.types import artifact

from glassbox import keys


class ValidationResult(artifact.Artifact):
    """A Validator's decision: TFMA's ValidationResult (``tfma.load_validation_result`` reads the
    dir), ``decision.json`` (machine-readable, every check) and ``decision.md`` (the sentences)."""

    TYPE_NAME = keys.VALIDATION_RESULT_TYPE


class Override(artifact.Artifact):
    """A person's approval or veto of one Model, recorded by `glassbox override` (no files: its
    custom properties say who, when, why, which Model and which ModelBlessing it overrides)."""

    TYPE_NAME = keys.OVERRIDE_TYPE
