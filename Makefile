# GeoSeg: `make demo` and `make test` each do all set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv chromium
export QT_QPA_PLATFORM := offscreen
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup demo test lint test-unit test-qgis test-matrix package bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt training/requirements.txt training/requirements-classify.txt
	@dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); }
	/usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

demo: setup
	$(PY) demo/run.py

test: lint test-unit test-qgis

lint: setup
	$(VENV)/bin/ruff check .

# Tests run in parallel processes, one per core (pytest-xdist): most of their time is single-threaded Python and
# subprocesses, so two processes on two cores take about two thirds of one's time.
test-unit: setup
	$(PY) -m pytest -p no:qgis -n auto tests/unit

test-qgis: setup
	$(PY) -m pytest -n auto tests/in_qgis

package: setup
	$(PY) tools/package.py dist

bench: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) bench/quality.py
	$(PY) bench/classify.py
	$(PY) bench/train_speed.py
	$(PY) bench/stability.py
	$(PY) bench/active_learning.py

# The compatibility matrix (docs/compatibility.md), outside `make test` and CI: this host's QGIS and QGIS from
# cached Debian 13 and sid chroots (built once with debootstrap; needs root). Targets and options, e.g.
# `make test-matrix MATRIX="trixie"` or `MATRIX="--rebuild sid"`.
MATRIX ?=
test-matrix:
	tools/test_matrix.sh $(MATRIX)

clean:
	rm -rf dist demo-output bench-output .pytest_cache
