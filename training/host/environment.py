"""GeoSeg's managed Python environment for TensorFlow jobs: found, built and checked in one step.

A virtual environment made from the very interpreter QGIS runs on, with ``--system-site-packages`` so
that it imports QGIS' own GDAL bindings, plus the packages of ``requirements.txt`` beside this file (or, for the
classification-only set-up, of ``requirements-classify.txt``: ONNX Runtime, no TensorFlow). Each
build goes into a new folder under the environment root; the root's ``geoseg-environment.json`` names
the ready one and is written last, after the new environment has imported TensorFlow, NumPy and GDAL.
A cancelled or failed build removes its folder and leaves the previous environment as it was.

Standard library only: this runs in QGIS' Python, before TensorFlow exists anywhere.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GeoSegError
from ..progress import Cancelled, Progress
from .worker_client import clean_environment, hidden_window, output_lines

REQUIREMENTS = Path(__file__).parents[1] / "requirements.txt"
SETUP_REQUIREMENTS = {"full": REQUIREMENTS,  # per set-up (training.config.SETUPS), what it installs
                      "classification": REQUIREMENTS.with_name("requirements-classify.txt")}
ROOT_VARIABLE = "GEOSEG_ENV_DIR"
MARKER = "geoseg-environment.json"
CPU_BUILD = "tensorflow-cpu"  # the name requirements.txt uses (one of training.config.TENSORFLOW_BUILDS)
# Measured on Debian 12 (Python 3.11, x86-64) with an empty pip cache (360 MB, 1.6 GB), plus scikit-learn and
# its dependencies added since (wheels of 10 MB, 60 MB installed, SciPy being Debian's); other platforms differ.
SIZE_NOTE = "about 370 MB to download (TensorFlow alone 274 MB) and 1.7 GB on disk"
PROBE = ("import importlib.util, json, sys; print(json.dumps({'version': list(sys.version_info[:2]), "
         "'gdal': importlib.util.find_spec('osgeo') is not None}))")


class EnvironmentSetupError(GeoSegError):
    """The environment could not be built; the message says why and what to do."""


@dataclass(frozen=True)
class Machine:
    """The platform facts that decide which TensorFlow build to install."""

    system: str  # platform.system(): Linux, Windows, Darwin
    machine: str  # platform.machine(): x86_64, AMD64, arm64, aarch64
    nvidia_gpu: bool

    @classmethod
    def current(cls) -> Machine:
        return cls(platform.system(), platform.machine(), _nvidia_gpu())


def tensorflow_build(machine: Machine) -> str:
    """The TensorFlow distribution for ``machine``: with CUDA on Linux with an NVIDIA driver, the CPU-only
    build where one exists (x86-64 Linux and Windows), else the plain build (macOS, ARM Linux)."""
    x86 = machine.machine.lower() in ("x86_64", "amd64")
    if machine.system == "Linux" and x86 and machine.nvidia_gpu:
        return "tensorflow[and-cuda]"
    if x86 and machine.system in ("Linux", "Windows"):
        return CPU_BUILD
    return "tensorflow"


def requirements_for(text: str, build: str) -> str:
    """``requirements.txt``'s text with its TensorFlow lines naming ``build`` (version and markers kept)."""
    return re.sub(rf"^{re.escape(CPU_BUILD)}(?=\s*[=<>!~;]|\s*$)", build, text, flags=re.M)


def numpy_constraint(numpy_version: str | None) -> str:
    """Hold NumPy to the major version QGIS' Python runs, the one its GDAL bindings were built against."""
    if not numpy_version:
        return ""
    major = int(numpy_version.split(".")[0])
    return f"numpy>={major},<{major + 1}\n"


def expanded(requirements: Path) -> str:
    """``requirements``' text with the files it includes (``-r file``, relative to it) written in their place."""
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        included = re.match(r"^(?:-r|--requirement)\s+(\S+)", line.strip())
        lines.append(expanded(requirements.parent / included[1]).rstrip("\n") if included else line)
    return "\n".join(lines) + "\n"


def requirements_digest(requirements: Path = REQUIREMENTS) -> str:
    return hashlib.sha256(expanded(requirements).encode()).hexdigest()


# --- Which Python QGIS runs on ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Interpreter:
    """What QGIS' Python says about itself; ``sys.executable`` may be QGIS (Windows, macOS) or a shim."""

    executable: str
    base_executable: str
    base_prefix: str
    version: tuple[int, int]
    system: str

    @classmethod
    def current(cls) -> Interpreter:
        return cls(sys.executable, getattr(sys, "_base_executable", sys.executable), sys.base_prefix,
                   tuple(sys.version_info[:2]), platform.system())


def candidates(facts: Interpreter) -> list[Path]:
    """Files that may be QGIS' Python, most likely first; only files named like a Python."""
    major, minor = facts.version
    prefix = Path(facts.base_prefix)
    found = [Path(facts.base_executable), Path(facts.executable)]
    if facts.system == "Windows":  # OSGeo4W and the standalone installer: <QGIS>/apps/Python3xx/python.exe
        found += [prefix / "python.exe", prefix / "python3.exe"]
    else:
        found += [prefix / "bin" / f"python{major}.{minor}", prefix / "bin" / "python3"]
        app = next((p for p in Path(facts.executable).parents if p.suffix == ".app"), None)
        if app is not None:  # the macOS bundle: QGIS.app/Contents/MacOS/bin/python3
            found += [app / "Contents" / "MacOS" / "bin" / f"python{major}.{minor}",
                      app / "Contents" / "MacOS" / "bin" / "python3"]
    found += [Path(p) for p in (shutil.which(f"python{major}.{minor}"), shutil.which("python3")) if p]
    unique = []
    for path in found:
        if path.name.lower().startswith("python") and path.is_file() and path not in unique:
            unique.append(path)
    return unique


def probe(python: Path) -> dict | None:
    """Run ``python`` and ask its version and whether it has GDAL; None if it does not answer."""
    try:
        done = subprocess.run([str(python), "-I", "-c", PROBE], capture_output=True, text=True, timeout=60,
                              **hidden_window())
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def find_base_python(facts: Interpreter | None = None, ask: Callable[[Path], dict | None] = probe) -> Path:
    """The interpreter QGIS runs on: a Python of QGIS' version that imports GDAL, checked by running it."""
    facts = facts or Interpreter.current()
    tried = []
    for python in candidates(facts):
        answer = ask(python)
        if answer and tuple(answer["version"]) == tuple(facts.version) and answer["gdal"]:
            return python
        tried.append(f"{python} ({_describe(answer)})")
    version = "{}.{}".format(*facts.version)
    raise EnvironmentSetupError(
        f"GeoSeg could not find the Python {version} that QGIS runs on, with GDAL (tried: "
        f"{'; '.join(tried) or 'nothing named python near ' + facts.executable}). Choose a Python that has "
        "TensorFlow, NumPy and GDAL in Settings › Options › GeoSeg, or set GEOSEG_PYTHON.")


def _describe(answer: dict | None) -> str:
    if not answer:
        return "did not run"
    version = "Python {}.{}".format(*answer["version"])
    return version if answer["gdal"] else f"{version} without GDAL"


# --- The environment root --------------------------------------------------------------------------------

@dataclass
class Status:
    """``ready``, ``outdated`` (built for other requirements) or ``missing``."""

    state: str
    root: Path
    python: Path | None = None
    details: dict = field(default_factory=dict)  # what the build recorded: TensorFlow build, check result

    @property
    def setup(self) -> str:
        """Which set-up it is (a key of training.config.SETUPS)."""
        return self.details.get("setup", "full")

    @property
    def summary(self) -> str:
        """One line for a status bar, e.g. "TensorFlow 2.21.0 · CPU with bfloat16"."""
        if self.state != "ready":
            return {"missing": "Not set up", "outdated": "Needs an update (GeoSeg's requirements changed)"}[self.state]
        check = self.details.get("check", {})
        if self.setup == "classification":
            return f"Classification only · ONNX Runtime {check.get('versions', {}).get('ONNX Runtime', '?')}"
        return describe_check(check)


def describe_check(check: dict) -> str:
    """"TensorFlow 2.21.0 · CPU with bfloat16", or the GPU's name, from a check result."""
    gpus = [d.split(": ", 1)[1] for d in check.get("devices", []) if d.startswith("GPU")]
    where = ", ".join(gpus) if gpus else ("CPU with bfloat16" if check.get("native_bfloat16") else "CPU")
    return f"TensorFlow {check.get('versions', {}).get('TensorFlow', '?')} · {where}"


def status(root: Path, requirements: Path | None = None) -> Status:
    """The managed environment under ``root``, read from its marker (runs nothing); it is outdated where it was
    built from other requirements than ``requirements`` (default: its set-up's)."""
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
        python = root / marker["python"]
    except (OSError, ValueError, KeyError, TypeError):
        return Status("missing", root)
    if not python.exists():
        return Status("missing", root)
    wanted = requirements or SETUP_REQUIREMENTS.get(marker.get("setup", "full"), REQUIREMENTS)
    state = "ready" if marker.get("requirements_sha256") == requirements_digest(wanted) else "outdated"
    return Status(state, root, python, marker)


def venv_python(env: Path, system: str | None = None) -> Path:
    windows = (system or platform.system()) == "Windows"
    return env / ("Scripts/python.exe" if windows else "bin/python")


def build(root: Path, progress: Progress, verify: Callable[[Path, Progress], dict], *,
          requirements: Path | None = None, pip_options: Sequence[str] = (), tensorflow: str = "",
          setup: str = "full", base_python: Path | None = None, numpy_version: str | None = None) -> Status:
    """Build a new environment under ``root`` and make it the ready one.

    ``verify(python, progress)`` checks the new environment and returns what to record (the ``check``
    job's result); it raises to refuse it. ``setup`` says what to install (``requirements``, default: the
    set-up's list); ``tensorflow`` is the TensorFlow build of the full set-up (default: chosen for this
    machine); ``numpy_version`` is QGIS' own NumPy (default: this Python's).
    """
    requirements = requirements or SETUP_REQUIREMENTS[setup]
    _make_writable_root(root)
    _remove_unused(root)
    if setup != "full":
        tensorflow, engine, what = "", "ONNX Runtime", "ONNX Runtime and NumPy, without TensorFlow"
    else:
        tensorflow = tensorflow_build(Machine.current()) if tensorflow in ("", "auto") else tensorflow
        engine, what = "TensorFlow", f"{tensorflow} and GeoSeg's other packages ({SIZE_NOTE})"
    progress.update(0.0, "Looking for the Python QGIS runs on…")
    base_python = base_python or find_base_python()
    env = Path(tempfile.mkdtemp(prefix="env-", dir=root))
    try:
        progress.update(0.02, f"Creating a virtual environment from {base_python} in {env}…")
        _run([str(base_python), "-m", "venv", "--system-site-packages", str(env)], progress, _venv_hint)
        python = venv_python(env)
        (env / "requirements.txt").write_text(requirements_for(expanded(requirements), tensorflow), encoding="utf-8")
        (env / "constraints.txt").write_text(numpy_constraint(numpy_version or _host_numpy()), encoding="utf-8")
        progress.update(0.05, f"Installing {what} with pip…")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
               "--progress-bar", "off", "-r", str(env / "requirements.txt"), "-c", str(env / "constraints.txt"),
               *pip_options]
        downloaded = _run(pip, progress.span(0.05, 0.9), lambda output: _pip_hint(output, engine))
        progress.update(0.9, f"{downloaded}Checking the new environment…")
        check = verify(python, progress.span(0.9, 1.0))
        marker = {"python": str(python.relative_to(root)), "requirements_sha256": requirements_digest(requirements),
                  "setup": setup, "tensorflow_build": tensorflow, "base_python": str(base_python),
                  "created": time.strftime("%Y-%m-%d %H:%M:%S"), "check": check}
        _write_atomically(root / MARKER, json.dumps(marker, indent=1))
    except BaseException:
        shutil.rmtree(env, ignore_errors=True)
        raise
    _remove_unused(root)
    return status(root, requirements)


def _make_writable_root(root: Path) -> None:
    """Make ``root`` if need be and write a file in it; a folder that is a file, inside a file or read-only is
    refused before anything is built."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=root).close()
    except OSError as err:
        file = next((path for path in (root, *root.parents) if path.is_file()), None)
        reason = f"{file} is a file, not a folder" if file else f"it cannot be written ({err.strerror or err})"
        raise EnvironmentSetupError(
            f"GeoSeg cannot set up its TensorFlow environment in {root}: {reason}. Set {ROOT_VARIABLE} (or, when "
            "it is not set, the folder in Settings › Options › GeoSeg) to a writable folder, then run this again."
        ) from None


def _remove_unused(root: Path) -> None:
    """Environment folders other than the ready one: earlier builds, or builds that were interrupted."""
    current = status(root).python
    for env in root.glob("env-*"):
        if current is None or env not in current.parents:
            shutil.rmtree(env, ignore_errors=True)


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _host_numpy() -> str | None:
    with contextlib.suppress(ImportError):
        import numpy

        return numpy.__version__
    return None


def _nvidia_gpu() -> bool:
    """Whether an NVIDIA driver answers (``nvidia-smi -L`` lists a GPU)."""
    smi = shutil.which("nvidia-smi")
    try:
        return bool(smi) and "GPU" in subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20,
                                                     **hidden_window()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False


# --- Running venv and pip with progress and cancel -------------------------------------------------------

SHOWN = ("Collecting", "Processing", "Downloading", "Installing collected", "Successfully", "ERROR", "error:")
SIZE = re.compile(r"\(([\d.]+) (kB|MB|GB)\)")
UNITS = {"kB": 1e-3, "MB": 1.0, "GB": 1e3}


def _run(command: list[str], progress: Progress, hint: Callable[[str], str]) -> str:
    """Run ``command``, showing its notable lines; cancel ends it. Returns "Downloaded 512 MB. " or ""."""
    tail, collected, megabytes = [], 0, 0.0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                          env=clean_environment(), start_new_session=os.name != "nt", **hidden_window()) as process:
        for line in map(str.strip, output_lines(process, progress, _stop)):
            tail = (tail + [line])[-40:]
            collected += line.startswith(("Collecting", "Processing"))
            if match := SIZE.search(line) if line.startswith("Downloading") else None:
                megabytes += float(match[1]) * UNITS[match[2]]
            fraction = 0.98 if line.startswith("Successfully") else 0.8 if line.startswith("Installing") else (
                0.7 * collected / (collected + 15))
            progress.update(fraction, line if line.startswith(SHOWN) else "")
    if progress.is_cancelled():
        raise Cancelled("Cancelled by the user: the new environment was removed.")
    if process.returncode != 0:
        output = "\n".join(tail)
        raise EnvironmentSetupError(f"{' '.join(command[:3])} … failed (exit code {process.returncode}). "
                                    f"{hint(output)}\nIts last lines:\n{output}")
    return f"Downloaded {megabytes:.0f} MB. " if megabytes else ""


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            process.terminate()
        else:
            os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)


def _venv_hint(output: str) -> str:
    if "ensurepip" in output:
        return ("This Python cannot make virtual environments: on Debian or Ubuntu install the python3-venv "
                "package (sudo apt install python3-venv), then run this again.")
    return "Check that the environment folder is writable (Settings › Options › GeoSeg)."


def _pip_hint(output: str, engine: str = "TensorFlow") -> str:
    """What to do when pip fails; ``engine``: the big package the set-up installs (TensorFlow, ONNX Runtime)."""
    if "No matching distribution" in output or "Could not find a version" in output:
        return (f"pip found no {engine} build for this Python and platform: see the README's compatibility "
                "notes, or choose a Python with TensorFlow in Settings › Options › GeoSeg.")
    if "No space left" in output:
        return "The disk is full: free about 3 GB, or choose another environment folder in Settings › Options › GeoSeg."
    return ("Check the internet connection; behind a proxy or with a local package index, give pip's options "
            "(e.g. --proxy http://host:port, or --index-url URL) under Advanced parameters › Extra pip options.")
