"""Plugin entry: the Processing provider (also headless, in qgis_process), and in the desktop a GeoSeg menu,
an options page and, until TensorFlow is set up, a prompt to set it up."""
import contextlib

from qgis.core import Qgis, QgsApplication, QgsProcessingModelAlgorithm
from qgis.PyQt.QtWidgets import QPushButton

try:  # Qt 6 (QGIS 4) has QAction in QtGui, Qt 5 in QtWidgets
    from qgis.PyQt.QtGui import QAction
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

from .provider import SHIPPED_MODEL, register_provider

MENU = "&GeoSeg"


class GeoSegPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.options_factory = None
        self.actions = []
        self.prompt = None

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is None:
            self.provider = register_provider()

    def initGui(self):  # noqa: N802 (QGIS API name)
        from .options_page import PAGE, GeoSegOptionsFactory

        self.initProcessing()
        self.options_factory = GeoSegOptionsFactory(on_change=self._update_prompt)
        self.iface.registerOptionsWidgetFactory(self.options_factory)
        for label, run in (("Set up TensorFlow environment…", lambda: self._dialog("geoseg:setupenvironment")),
                           ("Check environment…", lambda: self._dialog("geoseg:checkenvironment")),
                           ("Open “Train and classify” in the graphical modeler…", self._open_model),
                           ("Options…", lambda: self.iface.showOptionsDialog(self.iface.mainWindow(), PAGE))):
            action = QAction(label, self.iface.mainWindow())
            action.triggered.connect(run)
            self.iface.addPluginToMenu(MENU, action)
            self.actions.append(action)
        self._update_prompt()

    def unload(self):
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
        self.actions = []
        if self.options_factory is not None:
            self.iface.unregisterOptionsWidgetFactory(self.options_factory)
            self.options_factory = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    def _update_prompt(self):
        """A message bar offering the one-step set-up while no Python for TensorFlow is there; gone once one is."""
        from .runner import chosen_python, environment_root
        from .training.host import environment

        needed = not chosen_python()[0] and environment.status(environment_root()).state != "ready"
        bar = self.iface.messageBar()
        if self.prompt is not None and not needed:
            with contextlib.suppress(RuntimeError):  # the user may have closed it already
                bar.popWidget(self.prompt)
            self.prompt = None
        if self.prompt is None and needed:
            self.prompt = bar.createMessage("GeoSeg", "Its deep-learning algorithms need TensorFlow, installed "
                                                      "once in a Python environment of GeoSeg's own.")
            button = QPushButton("Set up TensorFlow…")
            button.clicked.connect(lambda: self._dialog("geoseg:setupenvironment"))
            self.prompt.layout().addWidget(button)
            bar.pushWidget(self.prompt, Qgis.Info)

    def _dialog(self, algorithm_id: str) -> None:
        import processing

        processing.execAlgorithmDialog(algorithm_id, {})
        self._update_prompt()

    def _open_model(self) -> None:
        """Open the shipped model in QGIS' graphical modeler as an unsaved copy: saving it asks where (the
        user's models folder first, where QGIS then lists it under Models), never over the plugin's file."""
        try:
            from processing.modeler.ModelerDialog import ModelerDialog
        except ImportError:  # a QGIS whose modeler moved: say where the model is instead
            self.iface.messageBar().pushWarning("GeoSeg", f"Open {SHIPPED_MODEL} with Processing › Graphical "
                                                          "Modeler › Open Model…")
            return
        model = QgsProcessingModelAlgorithm()
        model.fromFile(str(SHIPPED_MODEL))
        dialog = ModelerDialog.create(model)  # the dialog edits a copy of ``model``
        dialog.update_model.connect(QgsApplication.processingRegistry().providerById("model").refreshAlgorithms)
        dialog.show()
        dialog.activate()
