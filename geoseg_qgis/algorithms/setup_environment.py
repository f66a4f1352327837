"""geoseg:setupenvironment — install TensorFlow for GeoSeg in a Python environment of its own."""
import functools
import shlex

from qgis.core import QgsProcessingOutputString, QgsProcessingParameterBoolean, QgsProcessingParameterString

from ..runner import chosen_python, environment_root, processing_errors, progress
from ..training.config import EnvironmentConfig
from ..training.host import environment
from ..training.host.worker_client import run_worker
from .base import GeoSegAlgorithm


class SetupEnvironmentAlgorithm(GeoSegAlgorithm):
    TENSORFLOW = "TENSORFLOW"
    SETUP = "SETUP"
    PIP_OPTIONS = "PIP_OPTIONS"
    REINSTALL = "REINSTALL"
    PYTHON = "PYTHON"
    STATUS = "STATUS"

    CONFIG = EnvironmentConfig
    NAME = "setupenvironment"
    DISPLAY_NAME = "Set up TensorFlow environment"
    TOOLBOX_GROUP = ("Environment", "environment")
    HELP = (
        "Installs what GeoSeg's deep-learning algorithms need — TensorFlow, Keras and LiteRT — into a Python "
        "environment of GeoSeg's own, in one step. QGIS' own Python is left untouched, and TensorFlow runs in "
        "a separate process, so it can never take QGIS down.<br><br>"
        "The environment is made from the Python QGIS runs on, so it uses QGIS' GDAL and NumPy. pip needs "
        f"{environment.SIZE_NOTE}; on a fast connection the set-up takes under a minute. The "
        "log shows what pip is doing, and <i>Cancel</i> stops it and removes the unfinished environment, "
        "leaving any earlier one as it was. Finally the new environment imports TensorFlow, NumPy and GDAL "
        "and reports the versions and devices.<br><br>"
        "The TensorFlow build suits the machine: with CUDA on Linux with an NVIDIA driver, the CPU-only build "
        "on other x86-64 Linux and Windows machines, the standard build on macOS. The environment lives in "
        "a GeoSeg folder of the QGIS profile (another folder can be chosen in Settings › Options › GeoSeg or "
        "with GEOSEG_ENV_DIR). When an update of GeoSeg needs other packages, its algorithms say so: run "
        "this again.<br><br>"
        "Behind a proxy or with a local package index, give pip's options under <i>Extra pip options</i>, "
        "e.g. <tt>--proxy http://host:port</tt> or <tt>--index-url URL</tt>.<br><br>"
        "<b>Classification only</b> installs ONNX Runtime instead of TensorFlow: enough for <i>Classify "
        "raster</i> and <i>Suggest samples to label</i> with ONNX models (<i>Export model</i> writes them, "
        "Deepness and others publish them), far smaller and quicker to install. Training, .keras models and "
        "the export need the full set-up; run this again with <i>Everything</i> to get it."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self.addParameter(self.setting(self.SETUP, "setup", "What to install"))
        self.add_advanced((
            self.setting(self.TENSORFLOW, "tensorflow", "TensorFlow build"),
            QgsProcessingParameterString(self.PIP_OPTIONS, self.tr("Extra pip options"), optional=True),
            QgsProcessingParameterBoolean(self.REINSTALL, self.tr("Build it again even if it is ready"), False),
        ))
        self.addOutput(QgsProcessingOutputString(self.PYTHON, self.tr("Python of the environment")))
        self.addOutput(QgsProcessingOutputString(self.STATUS, self.tr("Status")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        root = environment_root()
        current = environment.status(root)
        chosen, where = chosen_python()
        if chosen:
            feedback.pushWarning(f"{where} names {chosen}: GeoSeg uses that Python, not this environment, "
                                 "until it is cleared.")
        settings = self.setting_values(parameters, context)
        if (current.state == "ready" and current.setup == settings["setup"]
                and not self.parameterAsBool(parameters, self.REINSTALL, context)):
            feedback.pushInfo(f"GeoSeg's TensorFlow environment in {root} is ready: {current.summary}.")
            return {self.PYTHON: str(current.python), self.STATUS: current.summary}
        feedback.pushInfo(f"Setting up GeoSeg's TensorFlow environment in {root}.")
        with processing_errors():
            ready = environment.build(
                root, progress(feedback), functools.partial(_verify, setup=settings["setup"]),
                pip_options=shlex.split(self.parameterAsString(parameters, self.PIP_OPTIONS, context)), **settings)
        check = ready.details["check"]
        for name, version in check["versions"].items():
            feedback.pushInfo(f"{name} {version}")
        feedback.pushInfo(f"Devices: {', '.join(check['devices'])}")
        feedback.pushInfo(f"Ready: {ready.summary}. GeoSeg's algorithms now run their jobs in {ready.python}.")
        return {self.PYTHON: str(ready.python), self.STATUS: ready.summary}


def _verify(python, reporter, setup: str) -> dict:
    """The new environment's check result, or an error if what its ``setup`` needs (TensorFlow, or for
    classification only ONNX Runtime; NumPy and GDAL) does not import there."""
    check = run_worker(str(python), "check", {}, reporter)
    if not check["ready" if setup == "full" else "onnx_ready"]:
        raise environment.EnvironmentSetupError(
            "The new environment was installed but cannot import what GeoSeg needs: "
            + "; ".join(f"{name}: {why}" for name, why in check["problems"].items()))
    return check
