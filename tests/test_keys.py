"""glassbox.keys: where a name is TFX's, TFMA's or KFP's, it is spelt as theirs; importing it
loads nothing heavy."""

import pytest
from kfp import dsl
from tensorflow_model_analysis import constants as tfma_constants
from tensorflow_model_analysis.writers import eval_config_writer
from tfx.components.evaluator import constants as evaluator_constants
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.compiler import constants as compiler_constants
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs

from glassbox import keys
from glassbox.artifacts import ValidationResult
from tests.support.imports import heavy_modules_loaded_by

# (glassbox.keys's value, theirs)
SAME_AS_THEIRS = {
    # Standard artifact type names.
    "EXAMPLES_TYPE": standard_artifacts.Examples.TYPE_NAME,
    "MODEL_TYPE": standard_artifacts.Model.TYPE_NAME,
    "SCHEMA_TYPE": standard_artifacts.Schema.TYPE_NAME,
    "MODEL_EVALUATION_TYPE": standard_artifacts.ModelEvaluation.TYPE_NAME,
    "MODEL_BLESSING_TYPE": standard_artifacts.ModelBlessing.TYPE_NAME,
    "PUSHED_MODEL_TYPE": standard_artifacts.PushedModel.TYPE_NAME,
    "VALIDATION_RESULT_TYPE": ValidationResult.TYPE_NAME,
    # KFP's type of an HTML file, which its UI shows.
    "HTML_TYPE": dsl.HTML.schema_title,
    # Channel and parameter keys of the stock Evaluator and Pusher.
    "EXAMPLES_KEY": standard_component_specs.EXAMPLES_KEY,
    "MODEL_KEY": standard_component_specs.MODEL_KEY,
    "BASELINE_MODEL_KEY": standard_component_specs.BASELINE_MODEL_KEY,
    "SCHEMA_KEY": standard_component_specs.SCHEMA_KEY,
    "EVALUATION_KEY": standard_component_specs.EVALUATION_KEY,
    "BLESSING_KEY": standard_component_specs.BLESSING_KEY,
    "MODEL_BLESSING_KEY": standard_component_specs.MODEL_BLESSING_KEY,
    "PUSHED_MODEL_KEY": standard_component_specs.PUSHED_MODEL_KEY,
    "EVAL_CONFIG_KEY": standard_component_specs.EVAL_CONFIG_KEY,
    "EXAMPLE_SPLITS_KEY": standard_component_specs.EXAMPLE_SPLITS_KEY,
    "FEATURE_SLICING_SPEC_KEY": standard_component_specs.FEATURE_SLICING_SPEC_KEY,
    "FAIRNESS_INDICATOR_THRESHOLDS_KEY": (
        standard_component_specs.FAIRNESS_INDICATOR_THRESHOLDS_KEY
    ),
    "MODULE_FILE_KEY": standard_component_specs.MODULE_FILE_KEY,
    "MODULE_PATH_KEY": standard_component_specs.MODULE_PATH_KEY,
    # The stock Evaluator's blessing: file names and properties.
    "BLESSED_FILE": evaluator_constants.BLESSED_FILE_NAME,
    "NOT_BLESSED_FILE": evaluator_constants.NOT_BLESSED_FILE_NAME,
    "BLESSED_PROPERTY": evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY,
    "CURRENT_MODEL_PROPERTY": evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY,
    "CURRENT_MODEL_ID_PROPERTY": evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY,
    "BASELINE_MODEL_PROPERTY": evaluator_constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY,
    "BASELINE_MODEL_ID_PROPERTY": evaluator_constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY,
    # TFMA's files of an evaluation and a validation (its loaders look for these names).
    "EVAL_CONFIG_FILE": (
        f"{eval_config_writer.EVAL_CONFIG_FILE}.{eval_config_writer.EVAL_CONFIG_FILE_FORMAT}"
    ),
    "VALIDATIONS_FILE": evaluator_constants.VALIDATIONS_TFRECORDS_FILE_NAME,
    # The Pusher's PushedModel properties (private names of its executor).
    "PUSHED_PROPERTY": pusher_executor._PUSHED_KEY,
    "PUSHED_DESTINATION_PROPERTY": pusher_executor._PUSHED_DESTINATION_KEY,
    # ML Metadata contexts of TFX's orchestrators.
    "PIPELINE_CONTEXT_TYPE": compiler_constants.PIPELINE_CONTEXT_TYPE_NAME,
    "PIPELINE_RUN_CONTEXT_TYPE": compiler_constants.PIPELINE_RUN_CONTEXT_TYPE_NAME,
}


@pytest.mark.parametrize("name", sorted(SAME_AS_THEIRS))
def test_a_name_tfx_or_tfma_defines_is_spelt_as_theirs(name):
    assert getattr(keys, name) == SAME_AS_THEIRS[name]


def test_the_validations_file_is_the_one_tfmas_loader_globs_for():
    assert keys.VALIDATIONS_FILE == tfma_constants.VALIDATIONS_KEY + ".tfrecord"


def test_split_dirs_and_kfp_type_titles_are_named_as_tfx_names_them():
    examples = standard_artifacts.Examples()
    examples.uri, examples.split_names = "/examples", '["eval"]'
    assert artifact_utils.get_split_uri([examples], "eval") == (
        "/examples/" + keys.SPLIT_DIR_PREFIX + "eval"
    )
    assert compiler_utils.get_artifact_title(standard_artifacts.Model) == (
        keys.KFP_TFX_TYPE_PREFIX + keys.MODEL_TYPE
    )


def test_every_name_is_a_string_or_a_tuple_of_strings():
    names = {name: value for name, value in vars(keys).items() if name.isupper()}
    assert len(names) > 50
    for name, value in names.items():
        values = value if isinstance(value, tuple) else (value,)
        assert all(isinstance(v, str) and v for v in values), name


def test_importing_keys_loads_no_tensorflow_tfx_or_tfma():
    assert heavy_modules_loaded_by("import glassbox.keys") == []


def test_the_blessing_execution_types_are_the_components_as_tfx_records_them():
    """A local runner records a component's execution under its node type: the class's path."""
    from tfx.components.evaluator.component import Evaluator as TfxEvaluator

    from glassbox.components import Evaluator, Validator

    assert keys.BLESSING_EXECUTION_TYPES == tuple(
        f"{component.__module__}.{component.__name__}"
        for component in (Validator, Evaluator, TfxEvaluator)
    )
    for component in (Validator, Evaluator, TfxEvaluator):
        assert keys.BLESSING_KEY in component.SPEC_CLASS.OUTPUTS
