"""geoseg:checkenvironment — what GeoSeg's TensorFlow jobs will run on, as a report to read or paste."""
import html
import sys

from qgis.core import (Qgis, QgsProcessingException, QgsProcessingOutputBoolean, QgsProcessingOutputString,
                       QgsProcessingParameterFileDestination)

from ..runner import chosen_python, environment_root, run_in, worker_python
from ..training.host import environment
from .base import GeoSegAlgorithm


class CheckEnvironmentAlgorithm(GeoSegAlgorithm):
    OUTPUT_HTML = "OUTPUT_HTML"
    READY = "READY"
    REPORT = "REPORT"

    NAME = "checkenvironment"
    DISPLAY_NAME = "Check environment"
    TOOLBOX_GROUP = ("Environment", "environment")
    HELP = (
        "Reports what GeoSeg's TensorFlow jobs run on: the worker Python and where it was chosen, the versions "
        "of TensorFlow, Keras, NumPy, GDAL, LiteRT and scikit-learn there, the devices TensorFlow sees (GPU "
        "names), whether "
        "the CPU computes bfloat16 natively, and the engine and precision <i>Classify raster</i> would pick; "
        "which set-up GeoSeg's own environment has (everything, or classification only), and whether ONNX "
        "models can be classified."
        "<br><br>The report is shown in the log and can be saved as an HTML page; paste it into a bug report. "
        "It never fails: a missing environment or package is reported with the fix."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Report"), self.tr("HTML files (*.html)"), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputBoolean(self.READY, self.tr("Ready for TensorFlow jobs")))
        self.addOutput(QgsProcessingOutputString(self.REPORT, self.tr("Report as text")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        rows, ready = self._rows(feedback)
        text = "\n".join(f"{name}: {value}" for name, value in rows)
        feedback.pushInfo(text)
        outputs = {self.READY: ready, self.REPORT: text}
        path = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        if path:
            with open(path, "w", encoding="utf-8") as page:
                page.write(_html(rows, ready))
            outputs[self.OUTPUT_HTML] = path
        return outputs

    def _rows(self, feedback) -> tuple[list[tuple[str, str]], bool]:
        root = environment_root()
        managed = environment.status(root)
        rows = [("QGIS", Qgis.version()), ("QGIS' Python", f"{sys.version.split()[0]} ({sys.executable})"),
                ("GeoSeg environment", f"{root}: {managed.summary}")]
        chosen, where = chosen_python()
        try:
            python = worker_python(tensorflow=False)  # whichever set-up: the check says what it can do
            check = run_in(python, "check", {}, feedback)
        except QgsProcessingException as err:
            return rows + [("Worker Python", chosen or "none"), ("Problem", str(err))], False
        rows += [("Worker Python", f"{check['python']} (Python {check['python_version']}, "
                                   f"{'chosen in ' + where if chosen else 'GeoSeg environment'})"),
                 ("Platform", check["platform"])]
        rows += [(name, version) for name, version in check["versions"].items()]
        rows += [(name, f"not usable: {why}") for name, why in check["problems"].items()]
        rows += [("ONNX models", "can be classified" if check["onnx_ready"] else "cannot be classified here")]
        if check["ready"]:
            rows += [("Devices", ", ".join(check["devices"])),
                     ("Native bfloat16", "yes" if check["native_bfloat16"] else "no"),
                     ("Classify would use", f"{check['engine']} in {check['precision']}"),
                     ("Summary", environment.describe_check(check))]
        return rows, check["ready"]


def _html(rows, ready: bool) -> str:
    cells = "".join(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>" for name, value in rows)
    verdict = "Ready for TensorFlow jobs" if ready else "Not ready for TensorFlow jobs"
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>GeoSeg environment</title><style>"
            "body{font-family:sans-serif;margin:2em} th{text-align:left;padding-right:2em;vertical-align:top}"
            "td{font-family:monospace;white-space:pre-wrap}</style></head><body>"
            f"<h1>GeoSeg environment</h1><p><b>{verdict}</b></p><table>{cells}</table></body></html>")
