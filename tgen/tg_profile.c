/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic profiles: defaults, the YAML loader (a plan's `traffic:` section
 * or a profile file, after TRex's cap_info), the flag helpers and the
 * checks that say what to change. docs/tgen.md describes every field.
 */
#include "tg_priv.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_yaml.h"

static int check(const struct tg_profile *p, bool need_templates, struct bt_err *e,
                 const char **field);

static void mac_set(uint8_t m[6], uint8_t last)
{
    static const uint8_t base[6] = {2, 0, 0, 0, 0, 0};
    memcpy(m, base, 6);
    m[5] = last;
}

void tg_profile_default(struct tg_profile *p)
{
    memset(p, 0, sizeof(*p));
    p->nclients = 2;
    bt_cidr_parse("16.0.0.0/8", &p->clients[0]);
    bt_cidr_parse("2001:db8:16::/64", &p->clients[1]);
    p->nservers = 2;
    bt_cidr_parse("48.0.0.0/16", &p->servers[0]);
    bt_cidr_parse("2001:db8:48::/64", &p->servers[1]);
    p->cport_lo = 1024;
    p->cport_hi = 65535;
    p->cps = 100;
    p->cps_mult = 1;
    p->speed = 1;
    p->flows = 0;
    p->mode = TG_MODE_OPEN;
    mac_set(p->client_mac, 1);
    mac_set(p->server_mac, 2);
    mac_set(p->client_dst_mac, 2);
    mac_set(p->server_dst_mac, 1);
    p->isn_offset = true;
    p->rto_ns = 200000000ull;
    p->retries = 5;
    p->rto_max_ns = 4000000000ull;
    p->pool_pkts = 4096;
    p->part = 0;
    p->nparts = 1;
}

static void tmpl_default(struct tg_tmpl_cfg *t)
{
    memset(t, 0, sizeof(*t));
    t->weight = 1;
    t->flow = -1;
}

int tg_profile_add_pcap(struct tg_profile *p, const char *path, struct bt_err *e)
{
    struct tg_tmpl_cfg *t;

    if (p->ntemplates >= TG_MAX_TEMPLATES)
        return bt_err_set(e, "--template %s: more than %d templates", path, TG_MAX_TEMPLATES);
    if (strlen(path) >= TG_PATH_MAX)
        return bt_err_set(e, "--template: path longer than %d characters", TG_PATH_MAX - 1);
    t = &p->tmpl[p->ntemplates];
    tmpl_default(t);
    snprintf(t->pcap, sizeof(t->pcap), "%s", path);
    snprintf(t->origin, sizeof(t->origin), "--template %s", path);
    p->ntemplates++;
    return 0;
}

int tg_profile_add_synth(struct tg_profile *p, const char *spec, struct bt_err *e)
{
    struct tg_tmpl_cfg *t;
    int r;

    if (p->ntemplates >= TG_MAX_TEMPLATES)
        return bt_err_set(e, "--synth %s: more than %d templates", spec, TG_MAX_TEMPLATES);
    r = tg_synth_check(spec, e);
    if (r < 0)
        return r;
    t = &p->tmpl[p->ntemplates];
    tmpl_default(t);
    snprintf(t->synth, sizeof(t->synth), "%s", spec);
    snprintf(t->origin, sizeof(t->origin), "--synth %s", spec);
    p->ntemplates++;
    return 0;
}

static int parse_mac(const char *s, uint8_t m[6])
{
    unsigned v[6];
    char tail;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255)
            return -EINVAL;
        m[i] = (uint8_t)v[i];
    }
    return 0;
}

/* A CIDR list: one scalar or a sequence of scalars. */
static int load_cidrs(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                      struct bt_cidr *out, unsigned max, unsigned *nout, struct bt_err *e)
{
    unsigned cnt = n->kind == BT_Y_SEQ ? n->n : 1;

    if (n->kind == BT_Y_MAP)
        return bt_y_error(d, n, e, "%s: expected a CIDR or a list of CIDRs", field);
    if (cnt == 0 || cnt > max)
        return bt_y_error(d, n, e, "%s: give 1 to %u CIDRs", field, max);
    for (unsigned i = 0; i < cnt; i++) {
        const struct bt_ynode *it = n->kind == BT_Y_SEQ ? n->items[i] : n;
        if (it->kind != BT_Y_SCALAR || bt_cidr_parse(it->str, &out[i]) < 0)
            return bt_y_error(d, it, e, "%s: '%s' is not a CIDR (like 16.0.0.0/8 or 2001:db8::/64)",
                              field, it->kind == BT_Y_SCALAR ? it->str : "?");
    }
    *nout = cnt;
    return 0;
}

/* The pool under key `field` of map n, when there, and where it was set
 * into at[atlen]. */
static int load_pool(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                     struct bt_cidr *out, unsigned *nout, char *at, size_t atlen, struct bt_err *e)
{
    const struct bt_ynode *v = bt_y_get(n, field);
    int r;

    if (!v)
        return 0;
    if ((r = load_cidrs(d, v, field, out, TG_MAX_POOLS, nout, e)) < 0)
        return r;
    snprintf(at, atlen, "%s:%u:%u", d->path, v->line, v->col);
    return 0;
}

static int load_ports(const struct bt_ydoc *d, const struct bt_ynode *n, uint16_t *lo,
                      uint16_t *hi, struct bt_err *e)
{
    unsigned a, b;
    char tail;

    if (n->kind != BT_Y_SCALAR)
        return bt_y_error(d, n, e, "client_ports: expected LO-HI (like 1024-65535)");
    if (sscanf(n->str, "%u-%u%c", &a, &b, &tail) == 2) {
        /* a range */
    } else if (sscanf(n->str, "%u%c", &a, &tail) == 1) {
        b = a;
    } else {
        return bt_y_error(d, n, e, "client_ports: '%s' is not LO-HI (like 1024-65535)", n->str);
    }
    if (a == 0 || b > 65535 || a > b)
        return bt_y_error(d, n, e, "client_ports: '%s': need 1 <= LO <= HI <= 65535", n->str);
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

static int load_template(const struct bt_ydoc *d, const struct bt_ynode *n, const char *dir,
                         struct tg_tmpl_cfg *t, struct bt_err *e)
{
    static const char *const keys[] = {"pcap", "synth", "cps", "weight", "ipg", "rtt", "flows",
                                       "flow", "client_cidrs", NULL};
    const struct bt_ynode *v;
    const char *s;
    int64_t i64;
    int r;

    tmpl_default(t);
    r = bt_y_check_keys(d, n, "template", keys, e);
    if (r < 0)
        return r;
    snprintf(t->origin, sizeof(t->origin), "%s:%u:%u", d->path, n->line, n->col);
    const struct bt_ynode *pc = bt_y_get(n, "pcap"), *sy = bt_y_get(n, "synth");
    if (!!pc == !!sy)
        return bt_y_error(d, n, e, "template: give exactly one of pcap: FILE or synth: SPEC");
    if (pc) {
        r = bt_y_str(d, pc, "pcap", &s, e);
        if (r < 0)
            return r;
        int len;
        if (s[0] == '/' || !dir)
            len = snprintf(t->pcap, sizeof(t->pcap), "%s", s);
        else
            len = snprintf(t->pcap, sizeof(t->pcap), "%s/%s", dir, s);
        if (len >= (int)sizeof(t->pcap))
            return bt_y_error(d, pc, e, "pcap: path too long");
    } else {
        r = bt_y_str(d, sy, "synth", &s, e);
        if (r < 0)
            return r;
        struct bt_err se;
        if (tg_synth_check(s, &se) < 0)
            return bt_y_error(d, sy, e, "synth: %s", se.msg);
        snprintf(t->synth, sizeof(t->synth), "%s", s);
    }
    if ((v = bt_y_get(n, "cps")) && (r = bt_y_quantity(d, v, "cps", 0.000001, 1e9, &t->cps, e)) < 0)
        return r;
    if ((v = bt_y_get(n, "weight")) && (r = bt_y_double(d, v, "weight", 0.000001, 1e6, &t->weight, e)) < 0)
        return r;
    /* at most 24h: a gap the packets' times (uint64 ns, summed over the
     * conversation) cannot wrap on */
    if ((v = bt_y_get(n, "ipg")) && (r = bt_y_duration_ns(d, v, "ipg", &t->ipg_ns, e)) < 0)
        return r;
    if (v && t->ipg_ns > 86400ULL * 1000000000ULL)
        return bt_y_error(d, v, e, "ipg: at most 24h");
    if ((v = bt_y_get(n, "rtt")) && (r = bt_y_duration_ns(d, v, "rtt", &t->rtt_ns, e)) < 0)
        return r;
    if (v && t->rtt_ns > 86400ULL * 1000000000ULL)
        return bt_y_error(d, v, e, "rtt: at most 24h");
    if ((v = bt_y_get(n, "flows")) && (r = bt_y_whole(d, v, "flows", 1, 1e12, &t->flows, e)) < 0)
        return r;
    if ((v = bt_y_get(n, "flow"))) {
        if (!pc)
            return bt_y_error(d, v, e, "flow: only for pcap templates");
        if ((r = bt_y_int(d, v, "flow", 0, 1000000, &i64, e)) < 0)
            return r;
        t->flow = (int)i64;
    }
    if ((v = bt_y_get(n, "client_cidrs"))) {
        if (!pc)
            return bt_y_error(d, v, e, "client_cidrs: only for pcap templates");
        r = load_cidrs(d, v, "client_cidrs", t->client_cidrs, 4, &t->nclient_cidrs, e);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The node a cross-field error points at: the value of the key check() names
 * (for "retransmit.max", whichever of timeout and max comes later in the file),
 * or the mapping when the profile did not give that key (a default is wrong). */
static const struct bt_ynode *field_node(const struct bt_ynode *n, const char *field)
{
    const struct bt_ynode *v, *t, *m;

    if (!field)
        return n;
    if (!strcmp(field, "retransmit.max")) {
        if (!(v = bt_y_get(n, "retransmit")))
            return n;
        t = bt_y_get(v, "timeout");
        m = bt_y_get(v, "max");
        if (!t || !m)
            return t ? t : m ? m : v;
        return t->line > m->line || (t->line == m->line && t->col > m->col) ? t : m;
    }
    v = bt_y_get(n, field);
    return v ? v : n;
}

int tg_profile_load(const struct bt_ydoc *d, const struct bt_ynode *n, struct tg_profile *out,
                    struct bt_err *e)
{
    static const char *const keys[] = {
        "mode", "templates", "clients", "servers", "client_ports", "cps", "cps_multiplier",
        "speed", "flows", "duration", "concurrency", "pps", "bps", "rate", "vlan", "macs",
        "isn_offset", "retransmit", "pool_packets", "schema", NULL};
    static const char *const mac_keys[] = {"client", "client_dst", "server", "server_dst", NULL};
    static const char *const rtx_keys[] = {"timeout", "retries", "max", NULL};
    struct tg_profile *p;
    const struct bt_ynode *v;
    const char *s;
    char *dirbuf = NULL;
    const char *dir = NULL;
    uint64_t u64 = 0;   /* (set by bt_y_whole before each use; GCC -O3 cannot see it) */
    int64_t i64;
    int r;

    p = malloc(sizeof(*p));
    if (!p)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    *p = *out;
    r = bt_y_check_keys(d, n, "traffic", keys, e);
    if (r < 0)
        goto out;
    if (d->path) {
        dirbuf = strdup(d->path);
        if (!dirbuf) {
            r = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
        dir = dirname(dirbuf);
    }
    if ((v = bt_y_get(n, "schema"))) {
        /* optional; a later format bumps it */
        if ((r = bt_y_int(d, v, "schema", 1, 1, &i64, e)) < 0)
            goto out;
    }
    if ((v = bt_y_get(n, "mode"))) {
        if ((r = bt_y_str(d, v, "mode", &s, e)) < 0)
            goto out;
        if (!strcmp(s, "open")) {
            p->mode = TG_MODE_OPEN;
        } else if (!strcmp(s, "closed")) {
            p->mode = TG_MODE_CLOSED;
        } else {
            r = bt_y_error(d, v, e, "mode: '%s' is neither open nor closed", s);
            goto out;
        }
    }
    if ((v = bt_y_get(n, "templates"))) {
        if (v->kind != BT_Y_SEQ || v->n == 0) {
            r = bt_y_error(d, v, e, "templates: expected a list of {pcap: FILE} or {synth: SPEC}");
            goto out;
        }
        if (v->n > TG_MAX_TEMPLATES) {
            r = bt_y_error(d, v, e, "templates: at most %d", TG_MAX_TEMPLATES);
            goto out;
        }
        p->ntemplates = 0;
        for (unsigned i = 0; i < v->n; i++) {
            r = load_template(d, v->items[i], dir, &p->tmpl[i], e);
            if (r < 0)
                goto out;
            p->ntemplates++;
        }
    }
    if ((r = load_pool(d, n, "clients", p->clients, &p->nclients, p->clients_at,
                       sizeof(p->clients_at), e)) < 0 ||
        (r = load_pool(d, n, "servers", p->servers, &p->nservers, p->servers_at,
                       sizeof(p->servers_at), e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "client_ports")) && (r = load_ports(d, v, &p->cport_lo, &p->cport_hi, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "cps")) && (r = bt_y_quantity(d, v, "cps", 0.000001, 1e9, &p->cps, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "cps_multiplier")) &&
        (r = bt_y_double(d, v, "cps_multiplier", 0.000001, 1e6, &p->cps_mult, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "speed")) && (r = bt_y_double(d, v, "speed", 0.000001, 1e6, &p->speed, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "flows")) && (r = bt_y_whole(d, v, "flows", 1, 1e12, &p->flows, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "duration"))) {
        /* 0 would mean "no duration" (and the default 1000 flows): refused,
         * as --duration 0s is */
        if ((r = bt_y_duration_ns(d, v, "duration", &p->duration_ns, e)) < 0)
            goto out;
        if (p->duration_ns == 0) {
            r = bt_y_error(d, v, e, "duration: '%s': give a duration > 0 (10s, 500ms, 2m), or "
                           "leave it out to stop after flows", v->str);
            goto out;
        }
    }
    if ((v = bt_y_get(n, "concurrency"))) {
        if ((r = bt_y_whole(d, v, "concurrency", 1, 1e9, &u64, e)) < 0)
            goto out;
        p->concurrency = (uint32_t)u64;
    }
    if ((v = bt_y_get(n, "pps")) && (r = bt_y_quantity(d, v, "pps", 1, 1e10, &p->pps, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "bps")) && (r = bt_y_quantity(d, v, "bps", 1000, 1e13, &p->bps, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "rate"))) {
        if ((r = bt_y_str(d, v, "rate", &s, e)) < 0)
            goto out;
        if (!strcmp(s, "max")) {
            p->rate_max = true;
        } else if (!strcmp(s, "template")) {
            p->rate_max = false;
        } else {
            r = bt_y_error(d, v, e, "rate: '%s': max or template (caps: pps:, bps:)", s);
            goto out;
        }
    }
    if ((v = bt_y_get(n, "vlan"))) {
        if ((r = bt_y_int(d, v, "vlan", 0, 4094, &i64, e)) < 0)
            goto out;
        p->vlan = (uint16_t)i64;
    }
    if ((v = bt_y_get(n, "macs"))) {
        if ((r = bt_y_check_keys(d, v, "macs", mac_keys, e)) < 0)
            goto out;
        for (unsigned i = 0; mac_keys[i]; i++) {
            const struct bt_ynode *m = bt_y_get(v, mac_keys[i]);
            uint8_t *dst = i == 0 ? p->client_mac : i == 1 ? p->client_dst_mac
                         : i == 2 ? p->server_mac : p->server_dst_mac;
            if (!m)
                continue;
            if (m->kind != BT_Y_SCALAR || parse_mac(m->str, dst) < 0) {
                r = bt_y_error(d, m, e, "macs: %s: expected a MAC like 02:00:00:00:00:01",
                               mac_keys[i]);
                goto out;
            }
        }
    }
    if ((v = bt_y_get(n, "isn_offset")) && (r = bt_y_bool(d, v, "isn_offset", &p->isn_offset, e)) < 0)
        goto out;
    if ((v = bt_y_get(n, "retransmit"))) {
        const struct bt_ynode *m;
        if ((r = bt_y_check_keys(d, v, "retransmit", rtx_keys, e)) < 0)
            goto out;
        if ((m = bt_y_get(v, "timeout")) && (r = bt_y_duration_ns(d, m, "timeout", &p->rto_ns, e)) < 0)
            goto out;
        if ((m = bt_y_get(v, "max")) && (r = bt_y_duration_ns(d, m, "max", &p->rto_max_ns, e)) < 0)
            goto out;
        if ((m = bt_y_get(v, "retries"))) {
            if ((r = bt_y_int(d, m, "retries", 0, 30, &i64, e)) < 0)
                goto out;
            p->retries = (unsigned)i64;
        }
        if (p->rto_ns == 0) {
            r = bt_y_error(d, v, e, "retransmit: timeout must be > 0");
            goto out;
        }
        /* like --rto: a timeout above a ceiling nobody set raises the ceiling */
        if (bt_y_get(v, "timeout") && !bt_y_get(v, "max") && p->rto_max_ns < p->rto_ns)
            p->rto_max_ns = p->rto_ns;
    }
    if ((v = bt_y_get(n, "pool_packets"))) {
        if ((r = bt_y_whole(d, v, "pool_packets", 64, 16777216, &u64, e)) < 0)
            goto out;
        p->pool_pkts = (uint32_t)u64;
    }
    {
        struct bt_err ce;
        const char *field;
        if (check(p, false, &ce, &field) < 0) {
            r = bt_y_error(d, field_node(n, field), e, "%s", ce.msg);
            goto out;
        }
    }
    *out = *p;
    r = 0;
out:
    free(dirbuf);
    free(p);
    return r;
}

int tg_profile_load_file(const char *path, struct tg_profile *p, struct bt_err *e)
{
    struct bt_ydoc *d = bt_yaml_load(path, e);
    const struct bt_ynode *n;
    int r;

    if (!d)
        return -EINVAL;
    n = d->root;
    if (!n || n->kind != BT_Y_MAP) {
        r = n ? bt_y_error(d, n, e, "expected a mapping (a traffic profile)")
              : bt_err_set(e, "%s: empty profile", path);
        goto out;
    }
    if (bt_y_get(n, "traffic") && n->n == 1)
        n = bt_y_get(n, "traffic");
    else if (bt_y_get(n, "traffic")) {
        /* name the key that does not belong, not 'traffic' */
        unsigned k = strcmp(n->keys[0], "traffic") ? 0 : 1;
        r = bt_y_error(d, n->keynodes[k], e, "unknown field '%s' beside 'traffic:' (a profile is "
                       "either its fields at the top or all of them under 'traffic:')", n->keys[k]);
        goto out;
    }
    r = tg_profile_load(d, n, p, e);
out:
    bt_yaml_free(d);
    return r;
}

static bool has_family(const struct bt_cidr *c, unsigned n, int fam)
{
    for (unsigned i = 0; i < n; i++)
        if (c[i].family == fam)
            return true;
    return false;
}

/* The checks of tg_profile_check; a profile file may leave the templates to
 * the flags (need_templates false).  *field names the profile key whose
 * value is wrong ("retransmit.max": the timeout or max given last), or NULL
 * when none is (the partition). */
static int bad(const char **field, const char *f, int r)
{
    *field = f;
    return r;
}

static int check(const struct tg_profile *p, bool need_templates, struct bt_err *e,
                 const char **field)
{
    const char *f_;

    if (!field)
        field = &f_;
    *field = NULL;
    if (need_templates && p->ntemplates == 0)
        return bad(field, "templates",
                   bt_err_set(e, "no template: give --template FILE, --synth SPEC or templates:"));
    if (!(p->cps > 0) || !isfinite(p->cps) || p->cps > 1e9)
        return bad(field, "cps", bt_err_set(e, "cps %g is impossible: give 0 < cps <= 1e9", p->cps));
    if (!(p->cps_mult > 0) || !isfinite(p->cps_mult))
        return bad(field, "cps_multiplier",
                   bt_err_set(e, "cps multiplier %g is impossible: give a value > 0", p->cps_mult));
    if (!(p->speed > 0) || !isfinite(p->speed))
        return bad(field, "speed",
                   bt_err_set(e, "speed %g is impossible: give a value > 0", p->speed));
    if (p->pps < 0 || !isfinite(p->pps))
        return bad(field, "pps", bt_err_set(e, "pps/bps caps must be >= 0"));
    if (p->bps < 0 || !isfinite(p->bps))
        return bad(field, "bps", bt_err_set(e, "pps/bps caps must be >= 0"));
    if (p->pps > 0 && p->pps < 1)
        return bad(field, "pps",
                   bt_err_set(e, "a pps cap under 1 packet per second is impossible"));
    if (p->bps > 0 && p->bps < 8 * 1600)
        return bad(field, "bps",
                   bt_err_set(e, "a bps cap of %g cannot carry one 1.5 kB packet a second: "
                              "give >= 12800", p->bps));
    if (p->cport_lo == 0 || p->cport_hi < p->cport_lo)
        return bad(field, "client_ports",
                   bt_err_set(e, "client ports %u-%u: need 1 <= LO <= HI", p->cport_lo,
                              p->cport_hi));
    if (p->nclients == 0)
        return bad(field, "clients", bt_err_set(e, "give at least one client and one server CIDR"));
    if (p->nservers == 0)
        return bad(field, "servers", bt_err_set(e, "give at least one client and one server CIDR"));
    if (!has_family(p->clients, p->nclients, 4) && !has_family(p->clients, p->nclients, 6))
        return bad(field, "clients", bt_err_set(e, "client pool has no usable CIDR"));
    if (p->nparts == 0 || p->part >= p->nparts)
        return bt_err_set(e, "partition %u of %u is impossible", p->part, p->nparts);
    if (p->pool_pkts < 64)
        return bad(field, "pool_packets",
                   bt_err_set(e, "pool of %u packets is too small: give >= 64", p->pool_pkts));
    if (p->mode == TG_MODE_CLOSED && p->rto_ns == 0)
        return bad(field, "retransmit",
                   bt_err_set(e, "closed loop needs a retransmission timeout > 0"));
    if (p->rto_max_ns < p->rto_ns)
        return bad(field, "retransmit.max",
                   bt_err_set(e, "retransmit max (%llu ns) is below the timeout (%llu ns): "
                              "raise max or lower the timeout",
                              (unsigned long long)p->rto_max_ns, (unsigned long long)p->rto_ns));
    for (unsigned i = 0; i < p->ntemplates; i++) {
        const struct tg_tmpl_cfg *t = &p->tmpl[i];
        if (!t->pcap[0] == !t->synth[0])
            return bad(field, "templates",
                       bt_err_set(e, "template %u (%s): give exactly one of a pcap or a synth spec",
                                  i + 1, t->origin));
        if (t->cps < 0 || !(t->weight > 0))
            return bad(field, "templates",
                       bt_err_set(e, "template %u (%s): cps >= 0 and weight > 0", i + 1, t->origin));
        /* a synth template's family is known before it is built: its
         * position, not the engine's "template synth:..." (the flags may
         * still change the pools, so only once they are final) */
        struct tg_synth sy;
        struct bt_err se;
        if (need_templates && t->synth[0] && tg_synth_parse(t->synth, &sy, &se) == 0) {
            int fam = sy.v6 ? 6 : 4;
            bool flag = !strncmp(t->origin, "--", 2);
            bool cl = has_family(p->clients, p->nclients, fam);
            if (!cl || !has_family(p->servers, p->nservers, fam)) {
                /* the pool without the family, and where it was set (the
                 * defaults have both families: a file or a flag set it) */
                const char *at = !cl ? p->clients_at : p->servers_at;
                char where[sizeof(p->clients_at) + 16] = "";
                if (at[0])
                    snprintf(where, sizeof(where), ", set %s %s,", strncmp(at, "--", 2) ? "at" : "by", at);
                return bad(field, "templates",
                           bt_err_set(e, "%s%s%s%s is IPv%d: give an IPv%d CIDR in both the client "
                                      "and the server pools (the %s pool%s has none)", t->origin,
                                      flag ? "" : ": synth: '", flag ? "" : t->synth,
                                      flag ? "" : "'", fam, fam, !cl ? "client" : "server", where));
            }
        }
    }
    /* every entry capped: their caps are all that can start, and a total
     * above them would be cut short without a word (found in review) */
    if (p->flows && p->ntemplates) {
        uint64_t caps = 0;
        unsigned i = 0;
        for (; i < p->ntemplates && p->tmpl[i].flows; i++)
            caps += p->tmpl[i].flows;
        if (i == p->ntemplates && caps < p->flows)
            return bad(field, "flows",
                       bt_err_set(e, "flows %llu: the templates' own flows caps add up to %llu, all that "
                                  "could start: raise a cap, lower flows, or leave an entry uncapped",
                                  (unsigned long long)p->flows, (unsigned long long)caps));
    }
    return 0;
}

int tg_profile_check(const struct tg_profile *p, struct bt_err *e)
{
    return check(p, true, e, NULL);
}

static int loads(const struct tg_tmpl_cfg *c, unsigned i, struct bt_err *e)
{
    struct tg_tset s;
    int r;

    memset(&s, 0, sizeof(s));
    r = tg_tset_add_pcap(&s, c, i, e);
    tg_tset_clear(&s);
    return r;
}

void tg_profile_template_at(const struct tg_profile *p, struct bt_err *e)
{
    /* the engine loads the entries in order and stops at the first that
     * fails: the first pcap entry failing with e's message is that one */
    for (unsigned i = 0; i < p->ntemplates; i++) {
        const struct tg_tmpl_cfg *c = &p->tmpl[i];
        struct tg_tmpl_cfg all;
        struct bt_err le = {{0}};
        char pre[sizeof(c->origin) + 16];

        if (!c->pcap[0] || loads(c, i, &le) == 0)
            continue;
        if (strcmp(le.msg, e->msg) || !c->origin[0] || !strncmp(c->origin, "--", 2))
            return;  /* another failure, or a flag's template (its file named already) */
        all = *c;
        all.flow = -1;
        snprintf(pre, sizeof(pre), "%s: %s", c->origin,
                 c->flow >= 0 && loads(&all, i, &le) == 0 ? "flow" : "pcap");
        bt_err_prefix(e, pre);
        return;
    }
}
