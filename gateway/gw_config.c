/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster configuration from YAML (a plan's `cluster:` section, or a
 * cluster file): every error names file:line:col and the field; unknown
 * fields are errors. Format: docs/formats.md section 5.
 */
#include "gw_api.h"

#include <errno.h>
#include <string.h>

#include "bt_err.h"
#include "bt_hash.h"
#include "bt_yaml.h"

static const struct {
    const char *name;
    uint32_t bit;
} fault_names[] = {
    {"no-sync", GW_FAULT_NO_SYNC},
    {"asymmetric", GW_FAULT_ASYMMETRIC},
    {"ignore-weights", GW_FAULT_IGNORE_WEIGHTS},
    {"no-correction", GW_FAULT_NO_CORRECTION},
};

int gw_fault_parse(const char *s, uint32_t *bit)
{
    for (unsigned i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++) {
        if (strcmp(s, fault_names[i].name) == 0) {
            *bit = fault_names[i].bit;
            return 0;
        }
    }
    return -EINVAL;
}

int gw_config_load(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_config *out,
                   struct bt_err *e)
{
    static const char *const keys[] = {"members", "weights", "mode", "l4", "sync",
                                       "dead_timer", "sync_delay", "idle_timeout", "max_conns",
                                       "faults", "seed", NULL};
    struct gw_config c;
    const struct bt_ynode *k;
    int64_t v;
    bool b;
    const char *s;

    gw_config_default(&c);
    if (bt_y_check_keys(d, n, "cluster", keys, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "members"))) {
        if (bt_y_int(d, k, "cluster.members", 1, GW_MAX_MEMBERS, &v, e) < 0)
            return -EINVAL;
        c.nmembers = (unsigned)v;
    }
    if ((k = bt_y_get(n, "weights"))) {
        if (k->kind != BT_Y_SEQ)
            return bt_y_error(d, k, e, "cluster.weights: expected a list, one weight per member");
        if (k->n != c.nmembers)
            return bt_y_error(d, k, e, "cluster.weights: %u weights for %u members", k->n,
                              c.nmembers);
        for (unsigned i = 0; i < k->n; i++) {
            if (bt_y_int(d, k->items[i], "cluster.weights[]", 0, 512, &v, e) < 0)
                return -EINVAL;
            c.weight[i + 1] = (unsigned)v;
        }
    }
    if ((k = bt_y_get(n, "mode"))) {
        enum bt_dist_mode m;
        if (bt_y_str(d, k, "cluster.mode", &s, e) < 0)
            return -EINVAL;
        if (bt_dist_mode_parse(s, &m) < 0)
            return bt_y_error(d, k, e,
                              "cluster.mode: '%s' is not general, user, network or auto", s);
        c.mode = m;
    }
    if ((k = bt_y_get(n, "l4"))) {
        if (bt_y_bool(d, k, "cluster.l4", &b, e) < 0)
            return -EINVAL;
        c.l4 = b;
    }
    if ((k = bt_y_get(n, "sync"))) {
        if (bt_y_bool(d, k, "cluster.sync", &b, e) < 0)
            return -EINVAL;
        if (!b)
            c.faults |= GW_FAULT_NO_SYNC;
    }
    if ((k = bt_y_get(n, "dead_timer")) && bt_y_duration_ns(d, k, "cluster.dead_timer", &c.dead_ns, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "sync_delay")) && bt_y_duration_ns(d, k, "cluster.sync_delay", &c.sync_delay_ns, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "idle_timeout"))) {
        if (bt_y_duration_ns(d, k, "cluster.idle_timeout", &c.idle_ns, e) < 0)
            return -EINVAL;
        if (c.idle_ns == 0)
            return bt_y_error(d, k, e, "cluster.idle_timeout: must be more than 0");
    }
    if ((k = bt_y_get(n, "max_conns"))) {
        if (bt_y_int(d, k, "cluster.max_conns", 1, 1 << 24, &v, e) < 0)
            return -EINVAL;
        c.max_conns = (uint32_t)v;
    }
    if ((k = bt_y_get(n, "seed"))) {
        if (bt_y_int(d, k, "cluster.seed", 0, UINT32_MAX, &v, e) < 0)
            return -EINVAL;
        c.seed = (uint32_t)v;
    }
    if ((k = bt_y_get(n, "faults"))) {
        if (k->kind != BT_Y_SEQ)
            return bt_y_error(d, k, e, "cluster.faults: expected a list (no-sync, asymmetric, ignore-weights, no-correction)");
        for (unsigned i = 0; i < k->n; i++) {
            uint32_t bit;
            if (bt_y_str(d, k->items[i], "cluster.faults[]", &s, e) < 0)
                return -EINVAL;
            if (gw_fault_parse(s, &bit) < 0)
                return bt_y_error(d, k->items[i], e,
                                  "cluster.faults: '%s' is not no-sync, asymmetric, ignore-weights or no-correction", s);
            c.faults |= bit;
        }
    }
    *out = c;
    return 0;
}
