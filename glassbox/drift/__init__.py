"""Drift: mergeable sketches of features and predictions per slice, and their distances from a
reference's (layer 5)."""
