/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsing of verify's inputs given by hand: --weights, --sgm, and a plan's
 * `expect:` thresholds.
 */
#include "vf_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_yaml.h"

static int parse_id(const char *s, size_t len, int *out)
{
    char buf[16], *end;
    long v;

    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    v = strtol(buf, &end, 10);
    if (*end || v < 1 || v > 64)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

int vf_parse_weights(const char *s, struct vf_input *in, struct bt_err *e)
{
    const char *p = s;

    while (*p) {
        size_t len = strcspn(p, ","), eq = strcspn(p, "=");
        int id;
        char *end;
        long w;

        if (eq >= len || parse_id(p, eq, &id) < 0)
            return bt_err_set(e, "--weights '%s': at offset %zu: expected ID=WEIGHT with ID 1..64",
                              s, (size_t)(p - s));
        w = strtol(p + eq + 1, &end, 10);
        if (end != p + len || end == p + eq + 1 || w < 0 || w > 512)
            return bt_err_set(e, "--weights '%s': at offset %zu: weight must be 0..512", s,
                              (size_t)(p + eq + 1 - s));
        for (unsigned i = 0; i < in->nweights; i++)
            if (in->weight_id[i] == id)
                return bt_err_set(e, "--weights '%s': member %d given twice", s, id);
        if (in->nweights >= VF_MAX_MEMBERS)
            return bt_err_set(e, "--weights '%s': more than %d members", s, VF_MAX_MEMBERS);
        in->weight_id[in->nweights] = id;
        in->weight[in->nweights++] = (unsigned)w;
        p += len;
        if (*p == ',')
            p++;
        else if (*p)
            break;
    }
    if (in->nweights == 0)
        return bt_err_set(e, "--weights '%s': empty", s);
    return 0;
}

int vf_parse_sgm(const char *s, struct vf_input *in, struct bt_err *e)
{
    size_t eq = strcspn(s, "=");
    int id;

    if (!s[eq] || !s[eq + 1] || parse_id(s, eq, &id) < 0)
        return bt_err_set(e, "--sgm '%s': expected ID=FILE with ID 1..64", s);
    for (unsigned i = 0; i < in->nsgm; i++)
        if (in->sgm_id[i] == id)
            return bt_err_set(e, "--sgm '%s': member %d given twice", s, id);
    if (in->nsgm >= VF_MAX_MEMBERS)
        return bt_err_set(e, "--sgm: more than %d members", VF_MAX_MEMBERS);
    in->sgm_id[in->nsgm] = id;
    in->sgm_path[in->nsgm++] = s + eq + 1;
    return 0;
}

int vf_thresholds_load(const struct bt_ydoc *d, const struct bt_ynode *expect,
                       const char *const *ignore, struct vf_thresholds *t, struct bt_err *e)
{
    static const char *const own[] = {"affinity", "symmetry", "lost", "max_gap", "balance_pct",
                                      "min_flows_per_sgm", "idle", "loss_pct", NULL};
    const char *allowed[32];
    unsigned n = 0;
    int64_t v;
    uint64_t ns;
    double x;
    const struct bt_ynode *k;

    if (!expect)
        return 0;
    for (unsigned i = 0; own[i]; i++)
        allowed[n++] = own[i];
    for (unsigned i = 0; ignore && ignore[i] && n < 31; i++)
        allowed[n++] = ignore[i];
    allowed[n] = NULL;
    if (bt_y_check_keys(d, expect, "expect", allowed, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(expect, "affinity"))) {
        if (bt_y_int(d, k, "expect.affinity", 0, INT64_MAX, &v, e) < 0)
            return -EINVAL;
        t->max_affinity = (uint64_t)v;
    }
    if ((k = bt_y_get(expect, "symmetry"))) {
        if (bt_y_int(d, k, "expect.symmetry", 0, INT64_MAX, &v, e) < 0)
            return -EINVAL;
        t->max_symmetry = (uint64_t)v;
    }
    if ((k = bt_y_get(expect, "lost"))) {
        if (bt_y_int(d, k, "expect.lost", 0, INT64_MAX, &v, e) < 0)
            return -EINVAL;
        t->max_lost = (uint64_t)v;
    }
    if ((k = bt_y_get(expect, "max_gap"))) {
        if (bt_y_duration_ns(d, k, "expect.max_gap", &ns, e) < 0)
            return -EINVAL;
        t->max_gap_ms = (double)ns / 1e6;
    }
    if ((k = bt_y_get(expect, "balance_pct"))) {
        if (bt_y_double(d, k, "expect.balance_pct", 0, 1e6, &x, e) < 0)
            return -EINVAL;
        t->max_balance_pct = x;
    }
    if ((k = bt_y_get(expect, "min_flows_per_sgm"))) {
        if (bt_y_int(d, k, "expect.min_flows_per_sgm", 0, INT64_MAX, &v, e) < 0)
            return -EINVAL;
        t->min_flows_per_sgm = (uint64_t)v;
    }
    if ((k = bt_y_get(expect, "loss_pct"))) {
        if (bt_y_double(d, k, "expect.loss_pct", 0, 100, &x, e) < 0)
            return -EINVAL;
        t->max_loss_pct = x;
    }
    if ((k = bt_y_get(expect, "idle"))) {
        if (bt_y_duration_ns(d, k, "expect.idle", &ns, e) < 0)
            return -EINVAL;
        if (ns == 0)
            return bt_y_error(d, k, e, "expect.idle: must be more than 0");
        t->idle_ns = ns;
    }
    return 0;
}
