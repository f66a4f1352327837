"""Rasters, labels, classes, chips and scene windows: reading, checking, splitting and feeding them to training."""
