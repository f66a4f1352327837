"""Run QGIS' qgis_process with the GeoSeg plugin enabled in a private QGIS profile.

Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which QGIS 3.22 rejects, so the real
binary is used when present. GeoSeg's TensorFlow jobs run in this Python (GEOSEG_PYTHON), the one with
the project's requirements.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def executable() -> str:
    for name in ("qgis_process.bin", "qgis_process"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    raise FileNotFoundError("qgis_process was not found: install QGIS (make setup).")


def environment(profile_dir: Path, plugins_dir: Path = ROOT) -> dict:
    env = dict(os.environ)
    env.update({
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_CUSTOM_CONFIG_PATH": str(profile_dir),
        "QGIS_PLUGINPATH": str(plugins_dir),
        "GEOSEG_PYTHON": sys.executable,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    return env


def run(args: list[str], profile_dir: Path, plugins_dir: Path = ROOT,
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
