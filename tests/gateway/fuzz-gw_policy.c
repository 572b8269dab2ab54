/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the policy loaders and the compiled policy
 * (gateway/gw_policy.c). The input is a policy, YAML (a `policy:` mapping
 * or the mapping itself) or, when it starts with '{', the control channel's
 * JSON object; after the first NUL byte come frames (a 2-byte big-endian
 * length, then that many bytes of Ethernet), each judged by the compiled
 * policy. A refusal must say why; a policy the loader takes must compile
 * (its patterns were checked at load) and its verdicts name a rule in range
 * and an action that exists.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_parse.h"
#include "bt_yaml.h"
#include "gw_api.h"
#include "gw_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_action(enum gw_action a)
{
    if (a != GW_ACCEPT && a != GW_DROP && a != GW_REJECT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    const uint8_t *fr = nul ? nul + 1 : data + size, *end = data + size;
    struct gw_policy *p = malloc(sizeof(*p));
    struct gw_cpolicy *c = NULL;
    struct bt_ydoc *d = NULL;
    struct bt_err e;
    int rc;

    if (!p)
        return 0;
    memset(&e, 0, sizeof(e));
    gw_policy_default(p);
    if (tlen && data[0] == '{') {
        json_t *o = json_loadb((const char *)data, tlen, JSON_REJECT_DUPLICATES, NULL);
        if (!o)
            goto out;
        rc = gw_policy_from_json(o, p, &e);
        json_decref(o);
    } else {
        const struct bt_ynode *n;
        if (!(d = bt_yaml_load_mem("fuzz.yaml", (const char *)data, tlen, &e)))
            goto out;
        n = bt_y_get(d->root, "policy");
        rc = gw_policy_load(d, n ? n : d->root, p, &e);
    }
    if (rc < 0) {
        if (!e.msg[0])
            abort();
        goto out;
    }
    if (p->nrules > GW_MAX_RULES)
        abort();
    check_action(p->default_action);
    for (unsigned i = 0; i < p->nrules; i++) {
        const struct gw_rule *r = &p->rule[i];
        check_action(r->action);
        if (r->nsrc > GW_MAX_RULE_CIDRS || r->ndst > GW_MAX_RULE_CIDRS || r->proto < -1 ||
            r->proto > 255 || r->sport_lo > r->sport_hi || r->dport_lo > r->dport_hi ||
            !memchr(r->name, 0, sizeof(r->name)) || !memchr(r->pattern, 0, sizeof(r->pattern)))
            abort();
    }
    if (!(c = gw_cpolicy_new(p, &e)))
        abort();   /* taken by the loader, refused by the compiler */
    while (end - fr >= 2) {
        uint32_t len = (uint32_t)fr[0] << 8 | fr[1];
        struct bt_parsed pk;
        enum gw_action a;
        int rule = -2;
        fr += 2;
        if (len > (uint32_t)(end - fr))
            len = (uint32_t)(end - fr);
        bt_parse(fr, len, BT_LINK_ETHERNET, &pk);
        if (pk.ip_version) {
            a = gw_cpolicy_first(c, &pk, fr, len, &rule);
            check_action(a);
            if (rule < -1 || rule >= (int)p->nrules || (rule == -1 && a != p->default_action))
                abort();
            rule = -2;
            if (gw_cpolicy_content(c, &pk, fr, len, &a, &rule)) {
                check_action(a);
                if (rule < 0 || rule >= (int)p->nrules || !p->rule[rule].pattern[0])
                    abort();
            }
        }
        fr += len;
    }
out:
    gw_cpolicy_free(c);
    bt_yaml_free(d);
    free(p);
    return 0;
}
