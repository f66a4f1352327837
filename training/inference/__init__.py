"""Classifying rasters: tiles, engines, class and probability rasters, many scenes on Dask."""
