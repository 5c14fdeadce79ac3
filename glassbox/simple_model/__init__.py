"""The "simpler model" check: simple interpretable models fitted on a seeded sample of the
evaluation data and scored beside the candidate on held-out examples (simple_model.json)."""
