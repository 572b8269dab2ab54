/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster configuration from YAML (a plan's `cluster:` section, or a
 * cluster file): every error names file:line:col and the field; unknown
 * fields are errors. Format: docs/formats.md section 5.
 */
#include "gw_api.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_dist.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_yaml.h"
#include "gw_nat.h"
#include "gw_policy.h"

static const struct {
    const char *name;
    uint32_t bit;
} fault_names[] = {
    {"no-sync", GW_FAULT_NO_SYNC},
    {"asymmetric", GW_FAULT_ASYMMETRIC},
    {"ignore-weights", GW_FAULT_IGNORE_WEIGHTS},
    {"no-correction", GW_FAULT_NO_CORRECTION},
    {"sync-loss", GW_FAULT_SYNC_LOSS},
    {"slow-detection", GW_FAULT_SLOW_DETECTION},
    {"stale-policy", GW_FAULT_STALE_POLICY},
};

#define NFAULTS (sizeof(fault_names) / sizeof(fault_names[0]))

int gw_fault_parse(const char *s, uint32_t *bit)
{
    for (unsigned i = 0; i < NFAULTS; i++) {
        if (strcmp(s, fault_names[i].name) == 0) {
            *bit = fault_names[i].bit;
            return 0;
        }
    }
    return -EINVAL;
}

const char *gw_fault_name(uint32_t bit)
{
    for (unsigned i = 0; i < NFAULTS; i++)
        if (fault_names[i].bit == bit)
            return fault_names[i].name;
    return NULL;
}

void gw_config_default(struct gw_config *c)
{
    memset(c, 0, sizeof(*c));
    c->nmembers = 4;
    for (unsigned i = 1; i <= GW_MAX_MEMBERS; i++)
        c->weight[i] = 100;
    c->mode = BT_DIST_GENERAL;
    c->l4 = true;
    c->dead_ns = 100000000ULL;      /* 100 ms: the vendor's sub-300 ms failover */
    c->sync_delay_ns = 20000ULL;    /* 20 us on the sync network */
    c->idle_ns = 60000000000ULL;
    c->max_conns = 1u << 18;
    c->heartbeat_ns = 10000000ULL;          /* 10 ms */
    c->dead_loaded_ns = 8000000000ULL;      /* the vendor's 7-9 s above 80 % cpu */
    c->load_pct = 80;
    c->detect_delay_ns = 2000000000ULL;
    c->syn_ns = 5000000000ULL;
    c->fin_ns = 2000000000ULL;
    c->udp_ns = 30000000000ULL;
    c->icmp_ns = 10000000000ULL;
    c->sync_batch_ns = 1000000ULL;          /* 1 ms */
    c->defer = true;
    c->defer_ns = 20000000ULL;              /* pfsync's 20 ms */
    c->sync_loss_pct = 10;
    /* the vendor's setup cost: 1.2 us without sync (packet + setup), 3 us
     * with (+ the record encoded by the owner, applied by the backup, and
     * its ACK applied by the owner) */
    c->cost.ns_per_pkt = 500;
    c->cost.ns_per_setup = 700;
    c->cost.ns_per_sync = 600;
    c->cost.cores = 8;
    c->cost.queue_pkts = 65536;
    c->nat_port_lo = 1024;
    c->nat_port_hi = 65535;
    gw_policy_default(&c->policy);
}

/* A cost figure: a duration with a unit ("500ns", "1.2us"); a bare number
 * would mean seconds, which is never meant here. */
static int cost_ns(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                   uint32_t *out, struct bt_err *e)
{
    uint64_t v;
    const char *s;

    if (bt_y_str(d, n, field, &s, e) < 0)
        return -EINVAL;
    if (*s && isdigit((unsigned char)s[strlen(s) - 1]))
        return bt_y_error(d, n, e, "%s: give a unit ('500ns', '1.2us')", field);
    if (bt_y_duration_ns(d, n, field, &v, e) < 0)
        return -EINVAL;
    if (v > 1000000000ULL)
        return bt_y_error(d, n, e, "%s: at most 1s", field);
    *out = (uint32_t)v;
    return 0;
}

#define GW_DUR_MAX (3600ULL * 1000000000ULL)

/* The cluster's detection and sync durations, at most GW_DUR_MAX: the
 * simulation runs heartbeats (and sync traffic) through all of it, so a
 * dead_timer of 1.8e10 s ran for days of CPU (found with 1e10-class values
 * in the option review; 1e6 s already takes 8 s). */
static int dur_max(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                   uint64_t *out, struct bt_err *e)
{
    uint64_t v;

    if (bt_y_duration_ns(d, n, field, &v, e) < 0)
        return -EINVAL;
    if (v > GW_DUR_MAX)
        return bt_y_error(d, n, e, "%s: at most 1h", field);
    *out = v;
    return 0;
}

static int load_cost(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_cost *c,
                     struct bt_err *e)
{
    static const char *const keys[] = {"pkt", "setup", "sync", "cores", "queue", NULL};
    const struct bt_ynode *k;
    int64_t v;

    if (bt_y_check_keys(d, n, "cluster.cost", keys, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "pkt")) && cost_ns(d, k, "cluster.cost.pkt", &c->ns_per_pkt, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "setup")) && cost_ns(d, k, "cluster.cost.setup", &c->ns_per_setup, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "sync")) && cost_ns(d, k, "cluster.cost.sync", &c->ns_per_sync, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "cores"))) {
        if (bt_y_int(d, k, "cluster.cost.cores", 1, 1024, &v, e) < 0)
            return -EINVAL;
        c->cores = (uint32_t)v;
    }
    if ((k = bt_y_get(n, "queue"))) {
        if (bt_y_int(d, k, "cluster.cost.queue", 1, 1 << 24, &v, e) < 0)
            return -EINVAL;
        c->queue_pkts = (uint32_t)v;
    }
    return 0;
}

static int load_timeouts(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_config *c,
                         struct bt_err *e)
{
    static const char *const keys[] = {"established", "syn", "fin", "udp", "icmp", NULL};
    static const struct {
        const char *key;
        size_t off;
    } f[] = {
        {"established", offsetof(struct gw_config, idle_ns)},
        {"syn", offsetof(struct gw_config, syn_ns)},
        {"fin", offsetof(struct gw_config, fin_ns)},
        {"udp", offsetof(struct gw_config, udp_ns)},
        {"icmp", offsetof(struct gw_config, icmp_ns)},
    };
    char field[48];

    if (bt_y_check_keys(d, n, "cluster.timeouts", keys, e) < 0)
        return -EINVAL;
    for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const struct bt_ynode *k = bt_y_get(n, f[i].key);
        uint64_t *dst = (uint64_t *)((char *)c + f[i].off);
        if (!k)
            continue;
        snprintf(field, sizeof(field), "cluster.timeouts.%s", f[i].key);
        if (bt_y_duration_ns(d, k, field, dst, e) < 0)
            return -EINVAL;
        if (*dst == 0)
            return bt_y_error(d, k, e, "%s: must be more than 0", field);
    }
    return 0;
}

static int load_nat(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_config *c,
                    struct bt_err *e)
{
    static const char *const keys[] = {"pool", "ports", NULL};
    const struct bt_ynode *k;
    const char *s;
    uint16_t lo, hi;

    if (bt_y_check_keys(d, n, "cluster.nat", keys, e) < 0)
        return -EINVAL;
    if (!(k = bt_y_get(n, "pool")))
        return bt_y_error(d, n, e, "cluster.nat: needs a pool (an IPv4 prefix, e.g. 198.51.100.0/28)");
    if (bt_y_str(d, k, "cluster.nat.pool", &s, e) < 0)
        return -EINVAL;
    if (bt_cidr_parse(s, &c->nat_pool) < 0 || c->nat_pool.family != 4)
        return bt_y_error(d, k, e, "cluster.nat.pool: '%s' is not an IPv4 prefix (hide-NAT translates IPv4)", s);
    if ((k = bt_y_get(n, "ports"))) {
        if (bt_y_str(d, k, "cluster.nat.ports", &s, e) < 0)
            return -EINVAL;
        if (gw_ports_parse(s, &c->nat_port_lo, &c->nat_port_hi) < 0 || c->nat_port_lo == 0)
            return bt_y_error(d, k, e, "cluster.nat.ports: '%s' is not a port range (1024-65535)", s);
    }
    c->nat = true;
    if (gw_nat_slice(c, 1, &lo, &hi) < 0)
        return bt_y_error(d, k ? k : n, e, "cluster.nat.ports: at least %d ports (one slice per member id)",
                          GW_MAX_MEMBERS);
    return 0;
}

int gw_config_load(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_config *out,
                   struct bt_err *e)
{
    static const char *const keys[] = {
        "members", "weights", "mode", "l4", "sync", "dead_timer", "sync_delay", "idle_timeout",
        "max_conns", "faults", "seed", "heartbeat", "dead_timer_loaded", "load_threshold",
        "detect_delay", "sync_loss", "sync_batch", "defer", "defer_timeout", "timeouts",
        "cost", "nat", "policy", NULL};
    struct gw_config *c = malloc(sizeof(*c));
    const struct bt_ynode *k;
    int64_t v;
    bool b;
    const char *s;
    int r = -EINVAL;

    if (!c)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    gw_config_default(c);
    if (bt_y_check_keys(d, n, "cluster", keys, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "members"))) {
        if (bt_y_int(d, k, "cluster.members", 1, GW_MAX_MEMBERS, &v, e) < 0)
            goto out;
        c->nmembers = (unsigned)v;
    }
    if ((k = bt_y_get(n, "weights"))) {
        if (k->kind != BT_Y_SEQ) {
            bt_y_error(d, k, e, "cluster.weights: expected a list, one weight per member");
            goto out;
        }
        if (k->n != c->nmembers) {
            bt_y_error(d, k, e, "cluster.weights: %u weights for %u members", k->n, c->nmembers);
            goto out;
        }
        for (unsigned i = 0; i < k->n; i++) {
            if (bt_y_int(d, k->items[i], "cluster.weights[]", 0, 512, &v, e) < 0)
                goto out;
            c->weight[i + 1] = (unsigned)v;
        }
    }
    if ((k = bt_y_get(n, "mode"))) {
        enum bt_dist_mode m;
        if (bt_y_str(d, k, "cluster.mode", &s, e) < 0)
            goto out;
        if (bt_dist_mode_parse(s, &m) < 0) {
            bt_y_error(d, k, e, "cluster.mode: '%s' is not general, user, network or auto", s);
            goto out;
        }
        c->mode = m;
    }
    if ((k = bt_y_get(n, "l4"))) {
        if (bt_y_bool(d, k, "cluster.l4", &b, e) < 0)
            goto out;
        c->l4 = b;
    }
    if ((k = bt_y_get(n, "sync"))) {
        if (bt_y_bool(d, k, "cluster.sync", &b, e) < 0)
            goto out;
        if (!b)
            c->faults |= GW_FAULT_NO_SYNC;
    }
    if ((k = bt_y_get(n, "defer"))) {
        if (bt_y_bool(d, k, "cluster.defer", &b, e) < 0)
            goto out;
        c->defer = b;
    }
    if ((k = bt_y_get(n, "heartbeat"))) {
        if (dur_max(d, k, "cluster.heartbeat", &c->heartbeat_ns, e) < 0)
            goto out;
        if (c->heartbeat_ns < 100000) {
            bt_y_error(d, k, e, "cluster.heartbeat: at least 100us");
            goto out;
        }
    }
    if ((k = bt_y_get(n, "dead_timer")) && dur_max(d, k, "cluster.dead_timer", &c->dead_ns, e) < 0)
        goto out;
    if (c->dead_ns < 2 * c->heartbeat_ns) {
        bt_y_error(d, k ? k : n, e, "cluster.dead_timer: at least two heartbeats (%.3f ms)",
                   2e-6 * (double)c->heartbeat_ns);
        goto out;
    }
    if ((k = bt_y_get(n, "dead_timer_loaded")) &&
        dur_max(d, k, "cluster.dead_timer_loaded", &c->dead_loaded_ns, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "load_threshold"))) {
        if (bt_y_int(d, k, "cluster.load_threshold", 1, 101, &v, e) < 0)
            goto out;
        c->load_pct = (unsigned)v;
    }
    if ((k = bt_y_get(n, "detect_delay")) &&
        dur_max(d, k, "cluster.detect_delay", &c->detect_delay_ns, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "sync_loss")) &&
        bt_y_double(d, k, "cluster.sync_loss", 0, 100, &c->sync_loss_pct, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "sync_delay")) && dur_max(d, k, "cluster.sync_delay", &c->sync_delay_ns, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "sync_batch")) && dur_max(d, k, "cluster.sync_batch", &c->sync_batch_ns, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "defer_timeout")) &&
        dur_max(d, k, "cluster.defer_timeout", &c->defer_ns, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "idle_timeout"))) {
        if (bt_y_duration_ns(d, k, "cluster.idle_timeout", &c->idle_ns, e) < 0)
            goto out;
        if (c->idle_ns == 0) {
            bt_y_error(d, k, e, "cluster.idle_timeout: must be more than 0");
            goto out;
        }
    }
    if ((k = bt_y_get(n, "timeouts")) && load_timeouts(d, k, c, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "max_conns"))) {
        if (bt_y_int(d, k, "cluster.max_conns", 1, 1 << 24, &v, e) < 0)
            goto out;
        c->max_conns = (uint32_t)v;
    }
    if ((k = bt_y_get(n, "seed"))) {
        if (bt_y_int(d, k, "cluster.seed", 0, UINT32_MAX, &v, e) < 0)
            goto out;
        c->seed = (uint32_t)v;
    }
    if ((k = bt_y_get(n, "cost")) && load_cost(d, k, &c->cost, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "nat")) && load_nat(d, k, c, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "policy")) && gw_policy_load(d, k, &c->policy, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "faults"))) {
        if (k->kind != BT_Y_SEQ) {
            bt_y_error(d, k, e, "cluster.faults: expected a list (no-sync, asymmetric, ignore-weights, "
                                "no-correction, sync-loss, slow-detection, stale-policy)");
            goto out;
        }
        for (unsigned i = 0; i < k->n; i++) {
            uint32_t bit;
            if (bt_y_str(d, k->items[i], "cluster.faults[]", &s, e) < 0)
                goto out;
            if (gw_fault_parse(s, &bit) < 0) {
                bt_y_error(d, k->items[i], e,
                           "cluster.faults: '%s' is not no-sync, asymmetric, ignore-weights, "
                           "no-correction, sync-loss, slow-detection or stale-policy", s);
                goto out;
            }
            c->faults |= bit;
        }
    }
    *out = *c;
    r = 0;
out:
    free(c);
    return r;
}

int gw_config_load_file(const char *path, struct gw_config *c, struct bt_err *e)
{
    struct bt_ydoc *d = bt_yaml_load(path, e);
    const struct bt_ynode *n;
    int r;

    if (!d)
        return -EINVAL;
    n = d->root;
    if (!n) {
        bt_err_set(e, "%s:1:1: empty cluster file (expected a mapping: members, weights, mode...)", path);
        bt_yaml_free(d);
        return -EINVAL;
    }
    if (n->kind == BT_Y_MAP && n->n == 1 && bt_y_get(n, "cluster"))
        n = bt_y_get(n, "cluster");
    else if (n->kind == BT_Y_MAP && bt_y_get(n, "cluster")) {
        /* name the key that does not belong, not 'cluster' */
        unsigned k = strcmp(n->keys[0], "cluster") ? 0 : 1;
        r = bt_y_error(d, n->keynodes[k], e, "unknown field '%s' beside 'cluster:' (a cluster file is "
                       "either its fields at the top or all of them under 'cluster:')", n->keys[k]);
        bt_yaml_free(d);
        return r;
    }
    r = gw_config_load(d, n, c, e);
    bt_yaml_free(d);
    return r;
}
