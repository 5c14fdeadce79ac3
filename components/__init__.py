"""TFX components of tfx-glassbox."""

from glassbox.components.evaluator.component import Evaluator
from glassbox.components.trainer.component import Trainer

__all__ = ["Evaluator", "Trainer"]
