#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every file of the tcpdump test corpus given as --template: baton-tgen
# either replays it (exit 0) or refuses it with a message (exit 2), never
# crashes or hangs; two of each kind under valgrind (no error, no leak).
#   test-corpus.sh BATON-TGEN CORPUS-DIR
set -uo pipefail
TG=$1
CORPUS=$2
if [ ! -d "$CORPUS" ]; then
    echo "skip: $CORPUS absent (the shared tcpdump corpus)"
    exit 77
fi
T=$(mktemp -d /tmp/bt-tgen-corpus-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0 n=0 n0=0 n2=0
: > "$T/ok0"
: > "$T/ok2"
for f in "$CORPUS"/*; do
    [ -f "$f" ] || continue
    case $f in *.md|*.txt|*.sh) continue ;; esac
    n=$((n + 1))
    timeout 20 "$TG" --template "$f" --flows 3 --cps 1000 --quiet --pcap-out "$T/o" \
        > /dev/null 2> "$T/err"
    rc=$?
    case $rc in
    0)
        n0=$((n0 + 1))
        echo "$f" >> "$T/ok0" ;;
    2)
        n2=$((n2 + 1))
        if [ ! -s "$T/err" ] || ! grep -qF "$(basename "$f")" "$T/err"; then
            echo "FAIL $f: exit 2 without naming the file: $(cat "$T/err")"
            fail=1
        fi
        echo "$f" >> "$T/ok2" ;;
    *)
        echo "FAIL $f: exit $rc $(head -c 300 "$T/err")"
        fail=1 ;;
    esac
done
echo "$n files: $n0 replayed, $n2 refused with a message"
# IPv6 with a routing header (segments left): the pseudo-header's
# destination is its final address, which flows keep while they rewrite the
# header's; tshark (the oracle) finds every flow's checksum good, in each of
# the engine's builders (paced, rate max, closed loop)
RH=$CORPUS/ipv6-routing-header.pcap
if [ -f "$RH" ]; then
    for mode in "" "--rate max" "--mode closed"; do
        rm -rf "$T/rh"
        # shellcheck disable=SC2086
        timeout 20 "$TG" --template "$RH" --flows 5 $mode --quiet --pcap-out "$T/rh" > /dev/null 2>&1
        st=$(tshark -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE -r "$T/rh/client.pcap" -V 2> /dev/null |
             grep -o 'Checksum Status: [A-Za-z]*' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
        if [ "$st" = " 5 Checksum Status: Good;" ]; then   # one packet a flow
            echo "ok   routing header, '$mode': $st"
        else
            echo "FAIL routing header, '$mode': checksums $st"
            fail=1
        fi
    done
fi
# the crash check can fail: a process killed by a signal is neither 0 nor 2
sh -c 'kill -SEGV $$'
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 2 ] && echo "ok   a crash (exit $rc) would be caught" ||
    { echo "FAIL crash detection"; fail=1; }
[ "$n0" -gt 0 ] && [ "$n2" -gt 0 ] || { echo "FAIL expected some of each"; fail=1; }
# valgrind a few of each (spread over the list)
if command -v valgrind > /dev/null; then
    for list in ok0 ok2; do
        total=$(wc -l < "$T/$list")
        for k in 1 3; do
            f=$(sed -n "$(( (total * k) / 4 + 1 ))p" "$T/$list")
            [ -n "$f" ] || continue
            timeout 120 valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
                "$TG" --template "$f" --flows 3 --cps 1000 --quiet --pcap-out "$T/v" > /dev/null 2> "$T/verr"
            rc=$?
            if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
                echo "FAIL valgrind $f: exit $rc $(head -c 600 "$T/verr")"
                fail=1
            else
                echo "ok   valgrind clean: $(basename "$f") (exit $rc)"
            fi
        done
    done
fi
exit $fail
