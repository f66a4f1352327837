#!/usr/bin/env bash
# GeoSeg's compatibility matrix (`make test-matrix`; not part of `make test`, not run by CI).
#
# Targets:
#   host    this Debian 12 machine's QGIS (3.22), no chroot
#   trixie  a Debian 13 chroot: QGIS 3.40 LTR, Python 3.13, NumPy 2
#   sid     a Debian unstable chroot: QGIS 3.44, Python 3.14 (skipped with a message where its repository
#           or its QGIS cannot be installed)
# Usage:  tools/test_matrix.sh [--rebuild] [--fresh] [TARGET ...]        (default: host trixie sid)
#
# Each chroot is built once with debootstrap from the Debian mirror of the host's own apt sources (the first
# `deb` entry of a release suite; its -security entry's, if any, for security updates) and cached under
# $GEOSEG_MATRIX_CACHE (default /var/cache/geoseg-matrix/<suite>); GEOSEG_MATRIX_MIRROR and
# GEOSEG_MATRIX_SECURITY_MIRROR (empty: none) override the mirrors. --rebuild builds the named chroots again.
# In each target:
#   1. a dev venv (python3 -m venv --system-site-packages; pip install -r requirements.txt, from PyPI only),
#      kept while the requirements and the Python stay the same (--fresh makes it anew)
#   2. the release zip (tools/package.py) unpacked into a fresh QGIS profile's plugins folder, as
#      Plugins › Install from ZIP does, and enabled with qgis_process
#   3. python -m pytest tests/in_qgis (GEOSEG_PYTHON = the dev venv)
#   4. qgis_process run geoseg:classify on a small raster with a tiny model (GEOSEG_PYTHON = the dev venv)
#   5. where geoseg:setupenvironment exists: qgis_process run geoseg:setupenvironment (GEOSEG_ENV_DIR set,
#      GEOSEG_PYTHON unset), then geoseg:classify again without GEOSEG_PYTHON
# A summary table ends the run; the exit status is non-zero if any target that ran failed.
# One pip cache ($GEOSEG_MATRIX_CACHE/pip) serves the host and, bind-mounted, every chroot.
# Needs root for the chroots (debootstrap, chroot, mount).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GEOSEG_MATRIX_CACHE:-/var/cache/geoseg-matrix}"
MIRROR=""            # set by resolve_mirrors, where a chroot is to be built
SECURITY_MIRROR=""
CHROOT_PACKAGES="qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv python3-pip ca-certificates"
WS_IN_CHROOT=/geoseg-matrix          # a target's workspace, as seen inside a chroot
PIP_CACHE_IN_CHROOT=/var/cache/geoseg-pip
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

say() { printf '%s\n' "$*"; }

# ---------------------------------------------------------------------------------------------------------------
# Inside a target (host or chroot): `test_matrix.sh --inside WORKSPACE`. The source tree is WORKSPACE/src;
# results go to WORKSPACE/results.env (key=value), step logs to WORKSPACE/logs/.
# ---------------------------------------------------------------------------------------------------------------
inside() {
    local ws="$1" src="$1/src" venv="$1/venv" profile="$1/profile" logs="$1/logs" fixture="$1/fixture"
    local results="$1/results.env" qp py start
    rm -rf "$logs" "$profile" "$fixture" "$1/dist" "$1/home" "$1/managed-env" "$results"
    mkdir -p "$logs" "$fixture" "$1/home"
    export HOME="$1/home"
    : >"$results"
    result() { printf '%s=%s\n' "$1" "$2" >>"$results"; }
    # step NAME COMMAND...: run with output in logs/NAME.log, one line here, the log's tail if it fails.
    step() {
        local name="$1" t0=$SECONDS rc; shift
        "$@" >"$logs/$name.log" 2>&1; rc=$?
        result "${name}_seconds" $((SECONDS - t0))
        if [ $rc -eq 0 ]; then
            say "    $name: ok ($((SECONDS - t0)) s)"
        else
            say "    $name: FAILED (exit $rc, $((SECONDS - t0)) s); last lines of $logs/$name.log:"
            tail -n 40 "$logs/$name.log" | sed 's/^/      | /'
        fi
        return $rc
    }

    # Debian 12's qgis_process wrapper passes --noversioncheck, which 3.22 rejects; newer QGIS accept it.
    if qgis_process --version >/dev/null 2>&1; then qp=qgis_process; else qp=qgis_process.bin; fi
    result qgis "$(/usr/bin/python3 -c 'from qgis.core import Qgis; print(Qgis.QGIS_VERSION.split("-")[0])' 2>/dev/null || echo '?')"
    result python "$(/usr/bin/python3 -c 'import platform; print(platform.python_version())')"
    result gdal "$(/usr/bin/python3 -c 'from osgeo import gdal; print(gdal.__version__)' 2>/dev/null || echo '?')"
    result qt "$(/usr/bin/python3 -c 'from qgis.PyQt.QtCore import QT_VERSION_STR; print(QT_VERSION_STR)' 2>/dev/null || echo '?')"

    # 1. The dev venv, remade when the requirements or the Python change, else brought up to date by pip.
    local stamp
    stamp="$(cat "$src/requirements.txt" "$src/training/requirements.txt" | sha256sum | cut -c1-16) $(/usr/bin/python3 -V)"
    if [ "${MATRIX_FRESH:-0}" = 1 ] || [ "$(cat "$venv/.matrix-stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$venv"
        /usr/bin/python3 -m venv --system-site-packages "$venv" || { result venv FAILED; return 1; }
    fi
    py="$venv/bin/python"
    if ! step venv "$py" -m pip install -r "$src/requirements.txt"; then
        result venv FAILED; return 1
    fi
    echo "$stamp" >"$venv/.matrix-stamp"
    result venv ok
    "$py" - >>"$results" 2>>"$logs/versions.log" <<'EOF'
import importlib.metadata as md, sys
import numpy
def version(*names):
    for name in names:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            pass
    return "-"
where = "venv" if numpy.__file__.startswith(sys.prefix) else "system"
print(f"numpy={numpy.__version__} ({where})")
print(f"tensorflow={version('tensorflow-cpu', 'tensorflow')}")
print(f"keras={version('keras', 'keras-nightly')}")
print(f"litert={version('ai-edge-litert')}")
print(f"ml_dtypes={version('ml-dtypes')}")
print(f"pytest_qgis={version('pytest-qgis')}")
EOF
    say "    pip picked: $(grep -E '^(numpy|tensorflow|keras|litert|ml_dtypes)=' "$results" | tr '\n' ' ')"

    # 2. The release zip, installed into a fresh profile as Plugins › Install from ZIP does, and enabled.
    local plugins="$profile/profiles/default/python/plugins"
    install_zip() {
        local zip
        zip="$("$py" "$src/tools/package.py" "$ws/dist" | tail -n 1)" || return 1
        echo "built $zip"
        mkdir -p "$plugins"
        "$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$plugins" || return 1
        QGIS_CUSTOM_CONFIG_PATH="$profile" "$qp" plugins enable geoseg_qgis || return 1
        QGIS_CUSTOM_CONFIG_PATH="$profile" "$qp" list >"$ws/algorithms.txt" || return 1
        grep -q 'geoseg:classify' "$ws/algorithms.txt" || { echo "geoseg:classify is not in qgis_process list"; return 1; }
    }
    if step install install_zip; then result install ok; else result install FAILED; fi

    # 3. The QGIS tests, on the checkout, with the dev venv as the worker's Python.
    (cd "$src" && step tests env GEOSEG_PYTHON="$py" "$py" -m pytest -p no:cacheprovider tests/in_qgis \
        --junitxml="$ws/junit.xml" -o junit_family=xunit2)
    "$py" - "$ws/junit.xml" >>"$results" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("tests_total=0\ntests_passed=0\ntests_failed=?\ntests_skipped=0"); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
count = lambda key: sum(int(s.get(key, 0)) for s in suites)
failed = count("failures") + count("errors")
print(f"tests_total={count('tests')}\ntests_passed={count('tests') - failed - count('skipped')}\n"
      f"tests_failed={failed}\ntests_skipped={count('skipped')}")
EOF

    # 4. qgis_process run geoseg:classify on a small raster with a tiny model, worker = the dev venv.
    make_fixture() {
        PYTHONPATH="$src:$src/tests" "$py" - "$fixture" <<'EOF'
import sys
from pathlib import Path
import keras
from synthetic import write_scene
from training.models.bundle import ModelInfo, save_bundle
from training.data.classes import class_scheme
from training.models import build_model
folder = Path(sys.argv[1])
write_scene(folder, 96, 80)
keras.utils.set_random_seed(0)
model = build_model("unet", 3, 3, base_filters=4, depth=2)
stats = {"method": "standard", "offset": [1000.0] * 3, "scale": [500.0] * 3}
save_bundle(model, ModelInfo("unet", [4, 3, 2], class_scheme(["a", "b", "c"]), stats), str(folder / "model.keras"))
print("wrote", folder / "image.tif", folder / "model.keras")
EOF
    }
    check_classified() {  # check_classified OUTPUT: the input's geotransform and size, classes 0..2 only
        PYTHONPATH="$src/tests" "$py" - "$fixture/image.tif" "$1" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
image, classes = gdal.Open(sys.argv[1]), gdal.Open(sys.argv[2])
values = set(np.unique(classes.ReadAsArray()).tolist())
assert classes.GetGeoTransform() == image.GetGeoTransform(), (classes.GetGeoTransform(), image.GetGeoTransform())
assert (classes.RasterXSize, classes.RasterYSize) == (image.RasterXSize, image.RasterYSize)
assert values <= {0, 1, 2}, values
print(f"{sys.argv[2]}: {classes.RasterXSize}x{classes.RasterYSize}, classes {sorted(values)}: ok")
EOF
    }
    classify() {  # classify OUTPUT [ENV...]
        local output="$1"; shift
        env "$@" QGIS_CUSTOM_CONFIG_PATH="$profile" "$qp" run geoseg:classify --INPUT="$fixture/image.tif" \
            --MODEL="$fixture/model.keras" --OUTPUT="$output" && check_classified "$output"
    }
    if grep -q '^install=ok$' "$results" && step fixture make_fixture \
            && step classify classify "$fixture/classes.tif" GEOSEG_PYTHON="$py"; then
        result classify ok
    else
        result classify FAILED
    fi

    # 5. GeoSeg's managed environment: geoseg:setupenvironment, then classify with no GEOSEG_PYTHON.
    if ! grep -q 'geoseg:setupenvironment' "$ws/algorithms.txt" 2>/dev/null; then
        say "    setupenvironment: skipped (geoseg:setupenvironment is not in this version's qgis_process list)"
        result setupenv skipped
    else
        local envdir="$ws/managed-env"
        if (unset GEOSEG_PYTHON; step setupenvironment env GEOSEG_ENV_DIR="$envdir" \
                QGIS_CUSTOM_CONFIG_PATH="$profile" "$qp" run geoseg:setupenvironment) \
                && (unset GEOSEG_PYTHON; step classify_managed classify "$fixture/classes-managed.tif" \
                    GEOSEG_ENV_DIR="$envdir"); then
            result setupenv ok
        else
            result setupenv FAILED
        fi
        # What the environment's own check recorded (training/host/environment.py's marker file).
        "$py" - "$envdir/geoseg-environment.json" >>"$results" 2>/dev/null <<'EOF2'
import json, sys
marker = json.load(open(sys.argv[1]))
versions = marker.get("check", {}).get("versions", {})
print(f"managed_tensorflow={marker.get('tensorflow_build', '?')} {versions.get('TensorFlow', '?')}")
print(f"managed_numpy={versions.get('NumPy', '?')}")
print(f"managed_keras={versions.get('Keras', '?')}")
print(f"managed_litert={versions.get('LiteRT', '?')}")
EOF2
        [ -f "$envdir/geoseg-environment.json" ] && say "    managed environment: $(grep -E '^managed_' "$results" | tr '\n' ' ')"
    fi
    return 0
}

if [ "${1:-}" = --inside ]; then
    inside "$2"
    exit $?
fi

# ---------------------------------------------------------------------------------------------------------------
# Outside: chroots, mounts, the source copies and the summary.
# ---------------------------------------------------------------------------------------------------------------
REBUILD=0
FRESH=0
TARGETS=()
for arg in "$@"; do
    case "$arg" in
        --rebuild) REBUILD=1 ;;
        --fresh) FRESH=1 ;;
        host|trixie|sid) TARGETS+=("$arg") ;;
        -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) say "unknown argument: $arg (targets: host trixie sid; options --rebuild, --fresh)"; exit 2 ;;
    esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(host trixie sid)

MOUNTED=()
unmount_all() {
    local i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null \
            || say "warning: could not unmount ${MOUNTED[i]}"
    done
    MOUNTED=()
}
trap unmount_all EXIT
trap 'unmount_all; exit 130' INT TERM

mounts_under() { awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts; }

safe_remove() {  # remove a chroot folder, never while anything is mounted below it
    [ -e "$1" ] || return 0
    if [ -n "$(mounts_under "$1")" ]; then
        say "refusing to remove $1: still mounted below it:"; mounts_under "$1"; return 1
    fi
    rm -rf --one-file-system "$1"
}

mount_chroot() {  # mount_chroot ROOTFS: /proc, /sys, /dev, /dev/pts and the shared pip cache
    local r="$1"
    mkdir -p "$r/proc" "$r/sys" "$r/dev" "$CACHE/pip" "$r$PIP_CACHE_IN_CHROOT"
    mount -t proc proc "$r/proc" && MOUNTED+=("$r/proc") || return 1
    { mount -t sysfs sysfs "$r/sys" || mount --bind /sys "$r/sys"; } && MOUNTED+=("$r/sys") || return 1
    mount --bind /dev "$r/dev" && MOUNTED+=("$r/dev") || return 1
    mkdir -p "$r/dev/pts"
    mount --bind /dev/pts "$r/dev/pts" && MOUNTED+=("$r/dev/pts") || return 1
    mount --bind "$CACHE/pip" "$r$PIP_CACHE_IN_CHROOT" && MOUNTED+=("$r$PIP_CACHE_IN_CHROOT") || return 1
}

host_files_into() {  # the host's CA certificates and resolv.conf, so that apt and pip reach the network
    mkdir -p "$1/etc/ssl/certs"
    cp -L /etc/resolv.conf "$1/etc/resolv.conf"
    cp -L "$CA_BUNDLE" "$1$CA_BUNDLE"
}

CHROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8
            DEBIAN_FRONTEND=noninteractive HOME=/root)

# apt_deb_sources [APT_DIR]: "URI SUITE" for each enabled `deb` entry of the host's apt sources, in apt's order:
# sources.list, then sources.list.d's *.list (one-line format) and *.sources (deb822) by name; other files there
# (*.disabled-*, *.save, ...) are not sources.
apt_deb_sources() {
    local dir="${1:-/etc/apt}" f
    for f in "$dir/sources.list" "$dir"/sources.list.d/*; do
        [ -f "$f" ] || continue
        case "$f" in
            *.list) one_line_sources <"$f" ;;
            *.sources) deb822_sources <"$f" ;;
        esac
    done
}

one_line_sources() {  # `deb [opts] URI SUITE COMPONENT...`; # starts a comment; deb-src lines are not wanted
    awk '{ sub(/#.*/, ""); gsub(/\[[^]]*\]/, " ") } $1 == "deb" && NF >= 3 { print $2, $3 }'
}

deb822_sources() {  # stanzas of Types:/URIs:/Suites:[/Enabled:] fields, blank lines between, # comment lines
    awk '
        function flush(   t, u, s, nt, nu, ns, i, j, deb) {
            nt = split(types, t); nu = split(uris, u); ns = split(suites, s)
            for (i = 1; i <= nt; i++) if (t[i] == "deb") deb = 1
            if (deb && tolower(enabled) != "no")
                for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
            types = uris = suites = enabled = key = ""
        }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ {  # a continuation line of the field above
            if (key == "types") types = types " " $0; else if (key == "uris") uris = uris " " $0
            else if (key == "suites") suites = suites " " $0
            next
        }
        index($0, ":") {
            key = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1)
            if (key == "types") types = value; else if (key == "uris") uris = value
            else if (key == "suites") suites = value; else if (key == "enabled") { enabled = value; gsub(/[ \t]/, "", enabled) }
        }
        END { flush() }'
}

host_mirror() {  # host_mirror release|security [APT_DIR]: the first http(s) URI of a plain release suite
                 # (bookworm, trixie, sid, stable, ...: not -updates, -backports, -security) or of a -security one
    apt_deb_sources "${2:-/etc/apt}" | awk -v want="$1" '
        $1 !~ /^https?:\/\// { next }
        { uri = $1; sub(/\/+$/, "", uri) }
        want == "release" && $2 ~ /^[a-z]+$/ { print uri; exit }
        want == "security" && $2 ~ /^[a-z]+-security$/ { print uri; exit }'
}

resolve_mirrors() {  # MIRROR and SECURITY_MIRROR: GEOSEG_MATRIX_MIRROR and _SECURITY_MIRROR, else the host's
    MIRROR="${GEOSEG_MATRIX_MIRROR:-$(host_mirror release)}"
    if [ -z "$MIRROR" ]; then
        say "error: no Debian mirror found in the host's apt sources (a \`deb' entry of a release suite such as"
        say "  bookworm in /etc/apt/sources.list, /etc/apt/sources.list.d/*.list or *.sources): set GEOSEG_MATRIX_MIRROR"
        say "  to the Debian mirror to build the chroots from (and GEOSEG_MATRIX_SECURITY_MIRROR to its security one)"
        return 1
    fi
    if [ -n "${GEOSEG_MATRIX_SECURITY_MIRROR+set}" ]; then
        SECURITY_MIRROR="$GEOSEG_MATRIX_SECURITY_MIRROR"
    else
        SECURITY_MIRROR="$(host_mirror security)"
    fi
}

chroot_ready() { [ -d "$CACHE/$1/rootfs" ] && [ "$(cat "$CACHE/$1/ready" 2>/dev/null)" = "$CHROOT_PACKAGES" ]; }

build_chroot() {  # build_chroot SUITE: debootstrap + QGIS, once; a finished chroot is reused
    local suite="$1" dir="$CACHE/$1" log="$CACHE/$1/build.log"
    local rootfs="$dir/rootfs" tmp="$dir/rootfs.tmp" want="$CHROOT_PACKAGES"
    mkdir -p "$dir"
    if [ $REBUILD = 1 ]; then safe_remove "$rootfs" || return 1; rm -f "$dir/ready"; fi
    if chroot_ready "$suite"; then
        say "  chroot $rootfs: cached (built $(date -r "$dir/ready" +%F); --rebuild to build it again)"
        return 0
    fi
    command -v debootstrap >/dev/null || {
        say "  installing debootstrap on the host"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >>"$log" 2>&1 \
            || { say "  apt-get install debootstrap failed (see $log)"; return 1; }
    }
    say "  building chroot $suite in $rootfs (debootstrap from $MIRROR, then apt; log: $log; several minutes)"
    safe_remove "$tmp" || return 1
    local t0=$SECONDS
    if ! debootstrap --variant=minbase --include=ca-certificates --components=main "$suite" "$tmp" "$MIRROR" \
            >"$log" 2>&1; then
        say "  debootstrap $suite failed; last lines of $log:"; tail -n 15 "$log" | sed 's/^/    | /'
        return 1
    fi
    {
        echo "deb $MIRROR $suite main"
        if [ "$suite" != sid ]; then
            echo "deb $MIRROR $suite-updates main"
            [ -z "$SECURITY_MIRROR" ] || echo "deb $SECURITY_MIRROR $suite-security main"
        fi
    } >"$tmp/etc/apt/sources.list"
    # sid's Release files have been seen expired: accept them. No recommends: a smaller chroot.
    printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' >"$tmp/etc/apt/apt.conf.d/99geoseg-matrix"
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod +x "$tmp/usr/sbin/policy-rc.d"  # start no services
    host_files_into "$tmp"
    mount_chroot "$tmp" || { unmount_all; return 1; }
    chroot "$tmp" env -i "${CHROOT_ENV[@]}" bash -c \
        "apt-get update && apt-get install -y --no-install-recommends $want && apt-get clean" >>"$log" 2>&1
    local rc=$?
    unmount_all
    if [ $rc -ne 0 ]; then
        say "  apt-get install in the $suite chroot failed; last lines of $log:"; tail -n 15 "$log" | sed 's/^/    | /'
        return 1
    fi
    host_files_into "$tmp"   # ca-certificates' trigger rewrote the bundle: the host's again
    safe_remove "$rootfs" || return 1
    mv "$tmp" "$rootfs" && echo "$want" >"$dir/ready"
    say "  chroot $suite built in $((SECONDS - t0)) s ($(du -sh --one-file-system "$rootfs" | cut -f1))"
}

copy_source() {  # the checkout's tracked and untracked-but-not-ignored files, fresh each run
    rm -rf "$1" && mkdir -p "$1"
    (cd "$ROOT" && git ls-files -co --exclude-standard -z \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf -) | tar -xf - -C "$1"
}

INNER_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8
           QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 PIP_CONFIG_FILE=/dev/null
           PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 PIP_PROGRESS_BAR=off
           SSL_CERT_FILE=$CA_BUNDLE PIP_CERT=$CA_BUNDLE REQUESTS_CA_BUNDLE=$CA_BUNDLE MATRIX_FRESH=$FRESH)

declare -A STATUS DURATION
run_target() {
    local target="$1" ws rootfs="" rc t0=$SECONDS
    say ""
    say "== $target"
    rm -f "$CACHE/results-$target.env"
    if [ "$target" = host ]; then
        command -v qgis_process.bin >/dev/null || command -v qgis_process >/dev/null \
            || { say "  no QGIS on this host: skipped"; STATUS[$target]="skipped (no QGIS)"; return 0; }
        ws="$CACHE/host"
        mkdir -p "$ws" "$CACHE/pip"
        copy_source "$ws/src"
        env -i "${INNER_ENV[@]}" PIP_CACHE_DIR="$CACHE/pip" \
            nice -n 10 bash "$ws/src/tools/test_matrix.sh" --inside "$ws"
        rc=$?
    else
        if [ "$(id -u)" != 0 ]; then
            say "  skipped: chroots need root (debootstrap, chroot, mount)"; STATUS[$target]="skipped (not root)"; return 0
        fi
        if ! build_chroot "$target"; then
            if [ "$target" = sid ]; then
                say "  sid skipped: its chroot could not be built (see above); the other targets are unaffected"
                STATUS[$target]="skipped (chroot failed)"; return 0
            fi
            STATUS[$target]="FAILED (chroot)"; return 1
        fi
        rootfs="$CACHE/$target/rootfs"
        ws="$rootfs$WS_IN_CHROOT"
        mkdir -p "$ws"
        copy_source "$ws/src"
        host_files_into "$rootfs"
        mount_chroot "$rootfs" || { unmount_all; STATUS[$target]="FAILED (mount)"; return 1; }
        chroot "$rootfs" env -i "${INNER_ENV[@]}" PIP_CACHE_DIR="$PIP_CACHE_IN_CHROOT" \
            nice -n 10 bash "$WS_IN_CHROOT/src/tools/test_matrix.sh" --inside "$WS_IN_CHROOT"
        rc=$?
        unmount_all
    fi
    DURATION[$target]=$((SECONDS - t0))
    cp "$ws/results.env" "$CACHE/results-$target.env" 2>/dev/null
    local failed
    failed="$(grep -E '^(venv|install|classify|setupenv)=FAILED' "$ws/results.env" 2>/dev/null)"
    if [ $rc -ne 0 ] || [ -n "$failed" ] || [ "$(sed -n 's/^tests_failed=//p' "$ws/results.env")" != 0 ]; then
        STATUS[$target]=FAILED
    else
        STATUS[$target]=ok
    fi
}

# The mirrors are needed only where a chroot is to be built: as root, with --rebuild or none cached yet.
if [ "$(id -u)" = 0 ]; then
    for target in "${TARGETS[@]}"; do
        if [ "$target" != host ] && { [ $REBUILD = 1 ] || ! chroot_ready "$target"; }; then
            resolve_mirrors || exit 2
            say "Debian mirror: $MIRROR; security: ${SECURITY_MIRROR:-none (no -security source on the host)}"
            break
        fi
    done
fi

overall=0
for target in "${TARGETS[@]}"; do
    run_target "$target"
    [[ "${STATUS[$target]}" == FAILED* ]] && overall=1
done

value() { sed -n "s/^$2=//p" "$CACHE/results-$1.env" 2>/dev/null | head -n 1; }
say ""
say "GeoSeg compatibility matrix, $(date +%F)  (logs: $CACHE/host/logs, $CACHE/<suite>/rootfs$WS_IN_CHROOT/logs)"
row() { printf '%-7s %-8s %-7s %-16s %-7s %-11s %-7s %-11s %-7s %-8s %-10s %-6s %s\n' "$@"; }
row target QGIS Python NumPy GDAL TensorFlow LiteRT "tests p/f/s" "tests s" classify setupenv total status
for target in "${TARGETS[@]}"; do
    if [ -f "$CACHE/results-$target.env" ] && [[ "${STATUS[$target]}" != skipped* ]]; then
        row "$target" "$(value "$target" qgis)" "$(value "$target" python)" "$(value "$target" numpy)" \
            "$(value "$target" gdal)" "$(value "$target" tensorflow)" "$(value "$target" litert)" \
            "$(value "$target" tests_passed)/$(value "$target" tests_failed)/$(value "$target" tests_skipped)" \
            "$(value "$target" tests_seconds)s" "$(value "$target" classify)" "$(value "$target" setupenv)" "${DURATION[$target]}s" "${STATUS[$target]}"
    else
        row "$target" - - - - - - - - - - - "${STATUS[$target]}"
    fi
done
exit $overall
