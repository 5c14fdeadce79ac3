"""TFX components of tfx-glassbox."""

from glassbox.components.evaluator.component import Evaluator
from glassbox.components.trainer.component import Trainer
from glassbox.components.validator.component import Validator

__all__ = ["Evaluator", "Trainer", "Validator"]
