"""Map products made from class rasters: clean-up, polygons, accuracy and area estimates."""
