#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A fuzz campaign over every fuzzer of the tree: builds them as libFuzzer
# binaries with clang, AddressSanitizer and UndefinedBehaviorSanitizer (any
# report fatal) in BUILD_FUZZ (default build-fuzz), then runs each for
# SECONDS, JOBS at a time (one a core), each on a scratch copy of its seed
# corpus (the corpora the meson tests give it: libFuzzer writes what it
# finds into its first corpus directory, which must not be the tree's). What
# crashes, leaks or hangs is left under OUT/artifacts/<fuzzer>/, to be
# reproduced with the plain build's fuzzer (`build/tests/<part>/fuzz-x FILE`)
# and kept as a seed once fixed. Not a test: CI runs every fuzzer over its
# seeds only (./bootstrap.sh test).
# usage: scripts/fuzz.sh [SECONDS] [JOBS] [NAME...]   (names: fuzz-bt_parse ...)
# exit 0: nothing found; 1: findings (listed); 2: bad usage or no build.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}; JOBS=${2:-$(nproc)}
shift $(( $# > 2 ? 2 : $# ))
BF=${BUILD_FUZZ:-build-fuzz}
OUT=${OUT:-out/fuzz}
case "$SECS$JOBS" in *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [JOBS] [NAME...]" >&2; exit 2;; esac
if ! command -v clang >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null || exit 2
    else
        echo "scripts/fuzz.sh: needs clang (apt-get install clang)" >&2
        exit 2
    fi
fi
if [ ! -f "$BF/build.ninja" ]; then
    CC=clang meson setup "$BF" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Db_lto=false -Ddpdk=disabled >/dev/null || { echo "scripts/fuzz.sh: meson setup $BF failed" >&2; exit 2; }
fi
ninja -C "$BF" >/dev/null || { echo "scripts/fuzz.sh: the build in $BF failed" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT"
# name, binary and seed paths of every fuzz test, one line each (tab-separated)
meson introspect --tests "$BF" | /usr/bin/python3 -c '
import json, sys
want = set(sys.argv[1:])
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz-") and (not want or t["name"] in want):
        print("\t".join([t["name"]] + t["cmd"]))
' "$@" > "$OUT/list"
[ -s "$OUT/list" ] || { echo "scripts/fuzz.sh: no such fuzzer: $*" >&2; exit 2; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run_one() {   # name binary seed...
    local n=$1 bin=$2 s; shift 2
    mkdir -p "$OUT/corpus/$n" "$OUT/artifacts/$n"
    for s in "$@"; do
        if [ -d "$s" ]; then cp -r "$s"/. "$OUT/corpus/$n"/; else cp "$s" "$OUT/corpus/$n"/; fi
    done
    timeout $((SECS + 120)) "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -artifact_prefix="$OUT/artifacts/$n/" "$OUT/corpus/$n" > "$OUT/$n.log" 2>&1
    echo "$n $? $(grep -o 'Done [0-9]* runs' "$OUT/$n.log" | tail -1 | cut -d' ' -f2)" >> "$OUT/results"
}
while IFS=$'\t' read -r -a f; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    run_one "${f[@]}" &
done < "$OUT/list"
wait
found=0
while read -r n rc runs; do
    a=$(find "$OUT/artifacts/$n" -type f | head -1)
    if [ "$rc" -ne 0 ] || [ -n "$a" ]; then
        found=1
        echo "$n: FOUND (exit $rc) ${a:-see $OUT/$n.log}"
    else
        echo "$n: ok, ${runs:-?} runs in ${SECS} s"
    fi
done < <(sort "$OUT/results")
exit "$found"
