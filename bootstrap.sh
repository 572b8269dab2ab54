#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Sets up a fresh Debian 12 machine for baton, builds it, and runs a job:
#   ./bootstrap.sh demo   - the quickstart plan on the simulated cluster
#   ./bootstrap.sh test   - every test (what CI runs), then the compiled
#                           ones again under ASan and UBSan (build-san)
#   ./bootstrap.sh sanitize - only the sanitizer pass
#   ./bootstrap.sh build  - set up and build only
# Idempotent: installs only the Debian packages that are missing, reuses the
# build directory (BUILD_DIR, default ./build).
set -euo pipefail

cd "$(dirname "$0")"
BUILD_DIR=${BUILD_DIR:-build}
MESON_ARGS=${MESON_ARGS:-}

PACKAGES=(
    build-essential meson ninja-build pkg-config
    libpcap-dev libnet1-dev libncurses-dev libpcre2-dev libyaml-dev libjansson-dev nettle-dev
    libdpdk-dev dpdk dpdk-dev
    tshark tcpreplay tcptrace python3 python3-scapy tmux valgrind
    iproute2 ethtool curl openssl python3-minimal bind9-dnsutils socat procps time nftables
)

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then
            echo sudo
        else
            echo "bootstrap.sh: installing packages needs root (or sudo)" >&2
            exit 2
        fi
    fi
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local SUDO
    SUDO=$(need_root)
    echo "bootstrap.sh: installing ${missing[*]}" >&2
    # tshark asks whether non-root users may capture; answer no, non-interactively.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
    # Quiet when it works; meson's or the compiler's messages when it does not
    # (meson prints its errors on stdout).
    local rc=0 log
    log=$(mktemp)
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
        # shellcheck disable=SC2086
        meson setup "$BUILD_DIR" $MESON_ARGS >"$log" 2>&1 || rc=$?
    elif [ -n "$MESON_ARGS" ]; then
        # shellcheck disable=SC2086
        meson configure "$BUILD_DIR" $MESON_ARGS >"$log" 2>&1 || rc=$?
    fi
    if [ "$rc" -ne 0 ]; then
        cat "$log" >&2
        rm -f "$log"
        echo "bootstrap.sh: meson could not configure $BUILD_DIR" >&2
        return "$rc"
    fi
    rm -f "$log"
    ninja -C "$BUILD_DIR" > "$BUILD_DIR/ninja.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        grep -v '^\[[0-9]*/[0-9]*\] ' "$BUILD_DIR/ninja.log" >&2
        echo "bootstrap.sh: build failed (full log: $BUILD_DIR/ninja.log)" >&2
        return "$rc"
    fi
}

# The compiled tests (not the scripts: those run valgrind, time and measure
# memory, which a sanitizer's runtime upsets) in a second build directory.
sanitize() {
    rm -f "${SAN_DIR:-build-san}/meson-logs/testlog.json"
    BUILD_DIR=${SAN_DIR:-build-san} \
        MESON_ARGS="-Dwerror=true -Ddpdk=disabled -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false" \
        build || return 1
    local names
    names=$(python3 - "${SAN_DIR:-build-san}" <<'PY'
import json, os, subprocess, sys
d = os.path.abspath(sys.argv[1])
for t in json.loads(subprocess.check_output(["meson", "introspect", "--tests", d])):
    if t["cmd"][0].startswith(d + "/"):
        print(t["name"])
PY
) || return 1
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C "${SAN_DIR:-build-san}" --no-rebuild --print-errorlogs \
        --num-processes "$(nproc)" $names
}

case "${1:-demo}" in
build)
    install_packages
    build
    ;;
demo)
    install_packages
    build
    exec ./scripts/demo.sh "$BUILD_DIR"
    ;;
test)
    install_packages
    MESON_ARGS="${MESON_ARGS} -Dwerror=true"
    build
    rc=0
    meson test -C "$BUILD_DIR" --print-errorlogs --num-processes "$(nproc)" "${@:2}" || rc=$?
    # With no test names given, every test also means the compiled tests and
    # fuzzers (over their seed corpora) again under AddressSanitizer and
    # UndefinedBehaviorSanitizer, any report fatal.
    if [ $# -le 1 ]; then
        sanitize || rc=1
    fi
    exit "$rc"
    ;;
sanitize)
    install_packages
    sanitize
    ;;
*)
    echo "usage: $0 [demo|test|build|sanitize]" >&2
    exit 2
    ;;
esac
