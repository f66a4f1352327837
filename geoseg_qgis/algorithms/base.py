"""What every GeoSeg algorithm shares: naming, group, help, icon and the check of raster files."""
import dataclasses
import os

from osgeo import gdal
from qgis.core import (Qgis, QgsFeature, QgsFeatureSink, QgsField, QgsFields, QgsProcessingAlgorithm,
                       QgsProcessingException, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFile, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString, QgsRasterLayer, QgsWkbTypes)
from qgis.PyQt.QtCore import QCoreApplication, QMetaType, QVariant
from qgis.PyQt.QtGui import QIcon

from ..metadata import ICON_PATH

# The Toolbox group of GeoSeg's algorithms and shipped models (the environment algorithms have their own).
GROUP = "Deep learning"
GROUP_ID = "deeplearning"


class GeoSegAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses set ``NAME``, ``DISPLAY_NAME``, ``HELP`` (and ``TOOLBOX_GROUP``, name and id,
    outside *Deep learning*) and implement the Processing hooks."""

    NAME = ""
    DISPLAY_NAME = ""
    HELP = ""
    CONFIG = None  # the training.config class whose settings :meth:`setting` makes parameters of
    TOOLBOX_GROUP = (GROUP, GROUP_ID)

    def tr(self, text):
        return QCoreApplication.translate("GeoSeg", text)

    def createInstance(self):  # noqa: N802 (QGIS API name)
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr(self.TOOLBOX_GROUP[0])

    def groupId(self):  # noqa: N802 (QGIS API name)
        return self.TOOLBOX_GROUP[1]

    def shortHelpString(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.HELP)

    def icon(self):
        return QIcon(ICON_PATH)

    def checkParameterValues(self, parameters, context):  # noqa: N802 (QGIS API name)
        """Name a raster file that exists but does not read as a raster (Processing would say "not found"), and
        a number outside its range with the range (Processing would say "Incorrect parameter value")."""
        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if isinstance(definition, QgsProcessingParameterNumber) and isinstance(value, (int, float)):
                if value < definition.minimum():
                    return False, self.tr(f"{definition.description()}: {value} is too small, give at least "
                                          f"{definition.minimum():g}.")
                if value > definition.maximum():
                    return False, self.tr(f"{definition.description()}: {value} is too large, give at most "
                                          f"{definition.maximum():g}.")
            if (isinstance(definition, QgsProcessingParameterRasterLayer) and isinstance(value, str)
                    and os.path.isfile(value) and not gdal.IdentifyDriverEx(value, gdal.OF_RASTER)):
                return False, self.tr(f"{value} ({definition.description()}) is not a readable raster: GDAL does not "
                                      "recognise it (is it damaged, or not a raster at all?). Give a GeoTIFF or "
                                      "another raster GDAL reads.")
        return super().checkParameterValues(parameters, context)

    def choice_parameter(self, name: str, description: str, choices: dict[str, str], default: str):
        """A drop-down of ``choices`` (key → label, declared in training.config), set to ``default``."""
        return QgsProcessingParameterEnum(name, self.tr(description), [self.tr(label) for label in choices.values()],
                                          defaultValue=list(choices).index(default))

    def setting(self, name: str, setting: str, description: str, folder: bool = False, extension: str = ""):
        """The parameter ``name`` of the setting ``setting`` of the algorithm's ``CONFIG`` class
        (:meth:`setting_parameter`), remembered so that :meth:`setting_values` reads it. A text setting is an
        optional text box, or a file chooser: a ``folder``, or a file with ``extension``."""
        self._settings = {**getattr(self, "_settings", {}), name: setting}
        declared = _declaration(self.CONFIG, setting)
        if declared.type != "str" or "choices" in declared.metadata:
            return self.setting_parameter(name, description, self.CONFIG, setting)
        if folder or extension:
            parameter = QgsProcessingParameterFile(name, self.tr(description), optional=True, extension=extension,
                                                   behavior=QgsProcessingParameterFile.Folder if folder else
                                                   QgsProcessingParameterFile.File)
        else:
            parameter = QgsProcessingParameterString(name, self.tr(description), optional=True)
        return self.with_help(parameter, declared_help(self.CONFIG, setting))

    def setting_values(self, parameters, context) -> dict:
        """The values of the parameters made by :meth:`setting`, by setting name, each read as its declared type."""
        values = {}
        for name, setting in getattr(self, "_settings", {}).items():
            declared = _declaration(self.CONFIG, setting)
            if "choices" in declared.metadata:
                values[setting] = self.parameter_as_choice(parameters, name, context, declared.metadata["choices"])
            elif isinstance(self.parameterDefinition(name), QgsProcessingParameterFile):
                values[setting] = self.parameterAsFile(parameters, name, context)
            else:
                read = {"bool": self.parameterAsBool, "int": self.parameterAsInt, "float": self.parameterAsDouble,
                        "str": self.parameterAsString}[declared.type]
                values[setting] = read(parameters, name, context)
        return values

    def setting_parameter(self, name: str, description: str, config_class, setting: str):
        """The parameter of a setting declared in training.config, set to its declared default: a drop-down of
        its choices, a checkbox for a boolean, else a number within its declared range; its declared help is the
        parameter's help (the dialog's tooltip)."""
        declared = _declaration(config_class, setting)
        if "choices" in declared.metadata:
            parameter = self.choice_parameter(name, description, declared.metadata["choices"], declared.default)
        elif declared.type == "bool":
            parameter = QgsProcessingParameterBoolean(name, self.tr(description), declared.default)
        else:
            kind = (QgsProcessingParameterNumber.Integer if declared.type == "int" else
                    QgsProcessingParameterNumber.Double)
            parameter = QgsProcessingParameterNumber(name, self.tr(description), kind, declared.default)
            if "minimum" in declared.metadata:
                parameter.setMinimum(declared.metadata["minimum"])
            if "maximum" in declared.metadata:
                parameter.setMaximum(declared.metadata["maximum"])
        return self.with_help(parameter, declared_help(config_class, setting))

    def with_help(self, parameter, text: str):
        """``parameter`` with ``text`` as its help: what its short label leaves out, shown as its tooltip."""
        parameter.setHelp(self.tr(text))
        return parameter

    def add_advanced(self, parameters) -> None:
        """Add ``parameters`` under *Advanced parameters*."""
        for parameter in parameters:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)

    def model_parameter(self, name: str, config_class):
        """A model file chooser for GeoSeg (.keras) and ONNX (.onnx) models, with ``config_class``'s
        ``model_path`` help."""
        return self.with_help(QgsProcessingParameterFile(
            name, self.tr("Model file (GeoSeg .keras, or ONNX)"),
            fileFilter=self.tr("GeoSeg and ONNX models (*.keras *.onnx)")), declared_help(config_class, "model_path"))

    def chip_suffix_parameters(self) -> list:
        """``IMAGE_SUFFIX`` and ``LABEL_SUFFIX``: chip file name suffixes, X_img.tif pairing with X_label.tif."""
        return [self.with_help(QgsProcessingParameterString(name, self.tr(f"{what} chip name suffix (e.g. {example})"),
                                                            optional=True),
                               "Chips whose names end in the image suffix pair with those ending in the label "
                               "suffix: X_img.tif with X_label.tif.")
                for name, what, example in (("IMAGE_SUFFIX", "Image", "_img"), ("LABEL_SUFFIX", "Label", "_label"))]

    def chip_suffixes(self, parameters, context) -> dict:
        """The chip name suffixes given, as config fields."""
        return {field: self.parameterAsString(parameters, name, context)
                for field, name in (("image_suffix", "IMAGE_SUFFIX"), ("label_suffix", "LABEL_SUFFIX"))}

    def table_sink(self, parameters, name: str, context, rows: list[dict]):
        """Write ``rows`` (dicts sharing their keys) to the feature sink ``name``, a table without geometry: text
        columns as strings, whole numbers as integers, other numbers as doubles. Returns the sink's id (None
        when the sink was not asked for), for the algorithm's results."""
        text, whole, number = _field_types()
        fields = QgsFields()
        for key in rows[0]:
            values = [row[key] for row in rows if row[key] is not None]
            kind = (text if any(isinstance(v, str) for v in values) else
                    whole if values and all(type(v) is int for v in values) else number)
            fields.append(QgsField(key, kind))
        sink, destination = self.parameterAsSink(parameters, name, context, fields, QgsWkbTypes.NoGeometry)
        if sink is None:
            return None
        for row in rows:
            feature = QgsFeature(fields)
            feature.setAttributes(list(row.values()))
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        return destination

    def vector_file(self, parameters, name: str, context, feedback) -> str:
        """The file of the optional vector layer ``name`` (saved as a GeoPackage where it is no file), or ''."""
        if parameters.get(name) in (None, ""):
            return ""
        return self.parameterAsCompatibleSourceLayerPath(
            parameters, name, context, ["gpkg", "shp"], "gpkg", feedback).split("|")[0]

    def parameter_as_choice(self, parameters, name: str, context, choices: dict[str, str]) -> str:
        """The key of the drop-down choice made for ``name``."""
        return list(choices)[self.parameterAsEnum(parameters, name, context)]


def raster_file(layer: QgsRasterLayer, parameter: str) -> str:
    """The file behind a GDAL raster layer, or a clear error for other providers."""
    if layer is None:
        raise QgsProcessingException(f"No raster layer given for {parameter}.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"{layer.name()} is a {layer.providerType()} layer: GeoSeg reads rasters through GDAL files. "
            "Save it as a GeoTIFF first (Export › Save As…).")
    return layer.source().split("|")[0]


def declared_default(config_class, setting: str):
    """The default a setting of a training.config class declares."""
    return _declaration(config_class, setting).default


def declared_help(config_class, setting: str) -> str:
    """The help a setting of a training.config class declares (the command line's ``-h``), as a sentence."""
    text = _declaration(config_class, setting).metadata["help"]
    return f"{text[:1].upper()}{text[1:]}."


def _declaration(config_class, setting: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(config_class) if f.name == setting)


def _field_types() -> tuple:
    """QgsField's text, whole-number and number types: QMetaType from QGIS 3.38 (all Qt 6 has), QVariant before."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        return QMetaType.Type.QString, QMetaType.Type.Int, QMetaType.Type.Double
    return QVariant.String, QVariant.Int, QVariant.Double
