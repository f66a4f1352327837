"""Plugin entry: the Processing provider (also headless, in qgis_process), and in the desktop a GeoSeg menu,
an options page and, until TensorFlow is set up, a prompt to set it up."""
from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtWidgets import QAction, QPushButton

from .provider import register_provider

MENU = "&GeoSeg"


class GeoSegPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.options_factory = None
        self.actions = []

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is None:
            self.provider = register_provider()

    def initGui(self):  # noqa: N802 (QGIS API name)
        from .options_page import PAGE, GeoSegOptionsFactory

        self.initProcessing()
        self.options_factory = GeoSegOptionsFactory()
        self.iface.registerOptionsWidgetFactory(self.options_factory)
        for label, run in (("Set up TensorFlow environment…", lambda: _dialog("geoseg:setupenvironment")),
                           ("Check environment…", lambda: _dialog("geoseg:checkenvironment")),
                           ("Options…", lambda: self.iface.showOptionsDialog(self.iface.mainWindow(), PAGE))):
            action = QAction(label, self.iface.mainWindow())
            action.triggered.connect(run)
            self.iface.addPluginToMenu(MENU, action)
            self.actions.append(action)
        self._prompt_to_set_up()

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

    def _prompt_to_set_up(self):
        """A message bar offering the one-step set-up, while no Python for TensorFlow is there."""
        from .runner import chosen_python, environment_root
        from training import environment

        if chosen_python()[0] or environment.status(environment_root()).state == "ready":
            return
        bar = self.iface.messageBar()
        message = bar.createMessage("GeoSeg", "Its deep-learning algorithms need TensorFlow, which GeoSeg installs "
                                              "in an environment of its own (about 600 MB, a few minutes).")
        button = QPushButton("Set up TensorFlow…")
        button.clicked.connect(lambda: (bar.popWidget(message), _dialog("geoseg:setupenvironment")))
        message.layout().addWidget(button)
        bar.pushWidget(message, Qgis.Info)


def _dialog(algorithm_id: str) -> None:
    import processing

    processing.execAlgorithmDialog(algorithm_id, {})
