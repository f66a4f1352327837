"""Run QGIS' qgis_process with the GeoSeg plugin, installed from its release zip, enabled in a private QGIS profile.

Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which QGIS 3.22 rejects, so the real
binary is used when present. GeoSeg's TensorFlow jobs run in this Python (GEOSEG_PYTHON), the one with
the project's requirements.
"""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tools.package import build_zip


def executable() -> str:
    for name in ("qgis_process.bin", "qgis_process"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    raise FileNotFoundError("qgis_process was not found: install QGIS (make setup).")


def install(folder: Path) -> Path:
    """``folder``/plugins holding the release zip, built afresh into ``folder``/dist (a tenth of a second) and
    unpacked as Plugin Manager › Install from ZIP does, replacing an earlier install so that it is today's code."""
    plugins = folder / "plugins"
    shutil.rmtree(plugins, ignore_errors=True)
    with zipfile.ZipFile(build_zip(folder / "dist")) as package:
        package.extractall(plugins)
    return plugins


def environment(profile_dir: Path, plugins_dir: Path | None = None) -> dict:
    """qgis_process' environment: ``profile_dir``, and the plugin from ``plugins_dir`` (default: the release zip
    installed beside the profile)."""
    plugins_dir = plugins_dir or install(profile_dir.with_name(profile_dir.name + "-plugin"))
    env = dict(os.environ)
    env.update({
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_CUSTOM_CONFIG_PATH": str(profile_dir),
        "QGIS_PLUGINPATH": str(plugins_dir),
        "GEOSEG_PYTHON": sys.executable,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    return env


def run(args: list[str], profile_dir: Path, plugins_dir: Path | None = None,
        capture: bool = True) -> subprocess.CompletedProcess:
    """Enable the plugin in ``profile_dir`` (once) and run ``qgis_process <args>``; raise if it fails.

    With ``capture=False`` its output goes straight to this process' stdout and stderr (progress as it happens).
    """
    env = environment(profile_dir, plugins_dir)
    if not (profile_dir / "profiles").exists():
        subprocess.run([executable(), "plugins", "enable", "geoseg_qgis"], env=env, check=True,
                       capture_output=True, text=True)
    result = subprocess.run([executable(), *args], env=env, capture_output=capture, text=True)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
    return result
