"""The pipeline's baseline: the latest blessed Model of earlier runs, resolved by either of TFX's
two mechanisms: the `LatestBlessedModelStrategy` Resolver node (the default; Kubeflow Pipelines v2
compiles it), or the `LatestPolicyModel` resolver op, which follows lineage from each Model
through the input key `model` to a ModelBlessing with `blessed` = 1.
"""

from __future__ import annotations

from typing import List, Tuple

from tfx.dsl.components.base import base_node
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution import resolver_function
from tfx.dsl.input_resolution.ops import latest_policy_model_op, ops
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.types import channel, standard_artifacts

LATEST_BLESSED_MODEL_STRATEGY = "latest_blessed_model_strategy"
LATEST_POLICY_MODEL = "latest_policy_model"
RESOLVERS = (LATEST_BLESSED_MODEL_STRATEGY, LATEST_POLICY_MODEL)
# The Resolver node's id, and the keys of both mechanisms' outputs.
RESOLVER_ID = "latest_blessed_model_resolver"
MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"


@resolver_function.resolver_function(
    output_type={MODEL_KEY: standard_artifacts.Model, BLESSING_KEY: standard_artifacts.ModelBlessing})
def latest_policy_model(models):
    """The latest Model blessed by an evaluator, and its ModelBlessing; nothing on a first run.

    tfx.v1 exposes this as `tfx.dsl.experimental.latest_policy_model`, which this project does not
    import (tfx.v1 pulls in TFDV), so it is built here from the same op.
    """
    return ops.LatestPolicyModel(models, policy=latest_policy_model_op.Policy.LATEST_EVALUATOR_BLESSED,
                                 raise_skip_signal=False)


def latest_blessed_model(resolver: str = LATEST_BLESSED_MODEL_STRATEGY
                         ) -> Tuple[List[base_node.BaseNode], channel.BaseChannel]:
    """The latest blessed Model's channel, and the nodes the pipeline needs for it.

    Raises:
      ValueError: resolver is not one of RESOLVERS.
    """
    models = channel.Channel(type=standard_artifacts.Model)
    if resolver == LATEST_BLESSED_MODEL_STRATEGY:
        node = Resolver(strategy_class=LatestBlessedModelStrategy, **{
            MODEL_KEY: models, BLESSING_KEY: channel.Channel(type=standard_artifacts.ModelBlessing)}).with_id(RESOLVER_ID)
        return [node], node.outputs[MODEL_KEY]
    if resolver == LATEST_POLICY_MODEL:
        return [], latest_policy_model({MODEL_KEY: models})[MODEL_KEY]
    raise ValueError(f"baseline resolver must be one of {', '.join(RESOLVERS)}, got {resolver!r}")
