"""GeoSeg Processing algorithms: each parses its parameters and calls the ``training`` package."""
