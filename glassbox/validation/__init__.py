"""The Validator's engine: checks an evaluation against thresholds and gates and explains the decision."""
