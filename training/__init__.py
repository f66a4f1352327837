"""GeoSeg training module: semantic segmentation of multispectral rasters with TensorFlow/Keras.

Pure Python on TensorFlow, GDAL and NumPy; it never imports QGIS. The public entry points take
plain parameters and report progress through callbacks, so the QGIS plugin, the command line and a
separate Python process can all drive them the same way.
"""
