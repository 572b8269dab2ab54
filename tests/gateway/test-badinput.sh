#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-gateway: bad usage exits 2 with a message naming the option and value.
set -uo pipefail
GW=$1
fail=0
expect2() {
    local want=$1
    shift
    "$GW" "$@" > /dev/null 2> /tmp/bt-gwbad-$$
    local rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" /tmp/bt-gwbad-$$; then
        echo "FAIL: $* -> exit $rc: $(cat /tmp/bt-gwbad-$$) (wanted '$want')"
        fail=1
    fi
}
expect2 "usage"
expect2 "unknown command" explode
expect2 "--out DIR is required" sim
expect2 "--members '0'" sim --out /tmp/x --members 0
expect2 "--members '65'" sim --out /tmp/x --members 65
expect2 "--weights" sim --out /tmp/x --members 3 --weights 1,2
expect2 "--weights" sim --out /tmp/x --members 2 --weights 1,600
expect2 "--weights" sim --out /tmp/x --members 1 --weights 1,2
expect2 "--mode 'sideways'" sim --out /tmp/x --mode sideways
expect2 "--fail" sim --out /tmp/x --fail 2
expect2 "--fail" sim --out /tmp/x --fail 2@soon
expect2 "no such member" sim --out /tmp/x --members 2 --fail 3@1s
expect2 "--restore '2'" sim --out /tmp/x --restore 2
expect2 "--fault 'gremlins'" sim --out /tmp/x --fault gremlins
expect2 "--cps" sim --out /tmp/x --cps -5
expect2 "cannot create" sim --out /proc/nope/x --flows 10
printf 'cluster:\n  members: 2\n  colour: blue\n' > /tmp/bt-gwbad-$$.yaml
expect2 "bt-gwbad-$$.yaml:3:3: unknown field 'colour'" sim --out /tmp/x --config /tmp/bt-gwbad-$$.yaml
expect2 "nonexistent.yaml" sim --out /tmp/x --config /nonexistent.yaml
rm -f /tmp/bt-gwbad-$$ /tmp/bt-gwbad-$$.yaml
exit $fail
