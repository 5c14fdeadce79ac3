"""TFX components of tfx-glassbox."""

from glassbox.components.evaluator.component import Evaluator

__all__ = ["Evaluator"]
