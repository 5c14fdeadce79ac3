"""The data layer under evaluation/ and explain/: example files, decoding, slicing, models."""
