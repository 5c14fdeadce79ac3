"""TFX components of tfx-glassbox."""

from glassbox.components.baseline_resolver.component import BaselineResolver
from glassbox.components.evaluator.component import Evaluator
from glassbox.components.trainer.component import Trainer
from glassbox.components.validator.component import Validator

__all__ = ["BaselineResolver", "Evaluator", "Trainer", "Validator"]
