"""tfx-glassbox: transparent model evaluation and validation for TFX."""
