/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The replay driver: client-side and server-side captures (as tgen
 * --pcap-out writes them) enter the cluster open loop at their time stamps,
 * a timeline of events (fail, restore, add, weight, policy) is applied at its
 * times, and the capture set and the stats stream are written at virtual
 * time. Open loop: no packet waits for another; what the cluster delays,
 * drops or resets is seen in the output, never fed back (docs/gateway.md).
 */
#include "gw_api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_pcap.h"
#include "bt_pkt.h"
#include "bt_yaml.h"
#include "gw_policy.h"
#include "gw_serve.h"
#include "gw_sink.h"

#define POOL_PKTS 65536
#define POOL_BUF 2048
#define MAX_ACTIONS 4096

struct action {
    uint64_t t_ns;
    int kind;                  /* enum bt_event_kind */
    int sgm, weight;
    struct gw_policy *policy;  /* BT_EV_POLICY */
    unsigned line, col;        /* for messages (col 0: a JSON line, no column) */
};

struct replay {
    const struct gw_replay_opts *o;
    struct gw_replay_result *res;
    struct gw_cluster *g;
    struct gw_sink k;          /* the capture set (k.w) and its first write error */
    struct bt_pktpool *pool;
    struct gw_serve *serve;
    struct gw_stats_line *line;
    FILE *stats;
    struct action *act;
    size_t nact, next_act;
    uint64_t nstats, last_stats;
};

static void free_actions(struct action *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i].policy);
    free(a);
}

static int cmp_action(const void *x, const void *y)
{
    const struct action *a = x, *b = y;

    if (a->t_ns != b->t_ns)
        return a->t_ns < b->t_ns ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* ---- events: YAML (plan style, `at` relative to the first packet) ---- */

static int yaml_events(const char *path, struct action **out, size_t *nout, bool *relative,
                       struct bt_err *e)
{
    static const char *const keys[] = {"at", "fail", "restore", "add", "set_weight", "weight",
                                       "policy", NULL};
    struct bt_ydoc *d = bt_yaml_load(path, e);
    const struct bt_ynode *list;
    struct action *a = NULL;
    size_t n = 0, alloc_n = 0;
    int r = -EINVAL;

    *relative = true;
    if (!d)
        return -EINVAL;
    list = d->root;
    if (list && list->kind == BT_Y_MAP && bt_y_get(list, "events"))
        list = bt_y_get(list, "events");
    if (!list || list->kind != BT_Y_SEQ) {
        bt_y_error(d, list, e, "events: expected a list of {at: TIME, fail|restore|add|set_weight|policy: ...}");
        goto out;
    }
    if (list->n > MAX_ACTIONS) {
        bt_y_error(d, list, e, "events: at most %d", MAX_ACTIONS);
        goto out;
    }
    alloc_n = list->n;
    a = calloc(list->n ? list->n : 1, sizeof(*a));
    if (!a) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < list->n; i++, n++) {
        const struct bt_ynode *it = list->items[i], *k, *w;
        const char *acts[] = {"fail", "restore", "add", "set_weight", "policy"};
        static const int kinds[] = {BT_EV_SGM_DOWN, BT_EV_SGM_UP, BT_EV_SGM_JOIN, BT_EV_WEIGHT,
                                    BT_EV_POLICY};
        int which = -1, count = 0;
        int64_t v;
        if (bt_y_check_keys(d, it, "an event", keys, e) < 0)
            goto out;
        a[i].line = it->line;
        a[i].col = it->col;
        a[i].weight = -1;
        if (!(k = bt_y_get(it, "at"))) {
            bt_y_error(d, it, e, "events: an event needs 'at'");
            goto out;
        }
        if (bt_y_duration_ns(d, k, "events.at", &a[i].t_ns, e) < 0)
            goto out;
        for (int j = 0; j < 5; j++)
            if (bt_y_get(it, acts[j])) {
                which = j;
                count++;
            }
        if (count != 1) {
            bt_y_error(d, it, e, "events: an event needs exactly one of fail, restore, add, set_weight, policy");
            goto out;
        }
        a[i].kind = kinds[which];
        k = bt_y_get(it, acts[which]);
        w = bt_y_get(it, "weight");
        if (w && a[i].kind != BT_EV_SGM_JOIN && a[i].kind != BT_EV_WEIGHT) {
            bt_y_error(d, w, e, "events.weight: goes with add or set_weight");
            goto out;
        }
        if (w) {
            if (bt_y_int(d, w, "events.weight", 0, 512, &v, e) < 0)
                goto out;
            a[i].weight = (int)v;
        }
        if (a[i].kind == BT_EV_WEIGHT && !w) {
            bt_y_error(d, it, e, "events: set_weight needs 'weight: W'");
            goto out;
        }
        if (a[i].kind == BT_EV_POLICY) {
            if (!(a[i].policy = malloc(sizeof(*a[i].policy)))) {
                r = bt_err_setr(e, -ENOMEM, "out of memory");
                goto out;
            }
            if (gw_policy_load(d, k, a[i].policy, e) < 0)
                goto out;
            continue;
        }
        if (bt_y_int(d, k, "events.sgm", 1, GW_MAX_MEMBERS, &v, e) < 0)
            goto out;
        a[i].sgm = (int)v;
    }
    r = 0;
out:
    bt_yaml_free(d);
    if (r < 0) {
        free_actions(a, alloc_n);
        return r;
    }
    *out = a;
    *nout = n;
    return 0;
}

/* ---- events: JSON lines (events.jsonl schema, absolute t) ---- */

struct jsonl_ctx {
    const char *path;
    struct action *a;
    size_t n, cap;
};

static int jsonl_event(void *ctx, const char *line, size_t len, json_t *o, unsigned lineno,
                       struct bt_err *e)
{
    struct jsonl_ctx *c = ctx;
    const char *path = c->path, *ev;
    enum bt_event_kind kind;
    struct action *x;
    json_t *v;

    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        struct action *na = nc > MAX_ACTIONS ? NULL : realloc(c->a, nc * sizeof(*na));
        if (!na)
            return bt_err_set(e, "%s:%u: at most %d events", path, lineno, MAX_ACTIONS);
        c->a = na;
        c->cap = nc;
    }
    x = &c->a[c->n];
    memset(x, 0, sizeof(*x));
    x->line = lineno;
    x->weight = -1;
    /* exact to the nanosecond from the decimal text, as every reader */
    if (bt_jsonl_time_ns(line, len, o, &x->t_ns) < 0)
        return bt_err_set(e, "%s:%u: \"t\" must be seconds (a number 0..1e10)", path, lineno);
    v = json_object_get(o, "event");
    ev = json_is_string(v) ? json_string_value(v) : "";
    if (bt_event_kind_parse(ev, &kind) < 0)
        return bt_err_set(e, "%s:%u: \"event\" must be sgm_down, sgm_up, sgm_join, weight or policy",
                          path, lineno);
    x->kind = kind;
    c->n++;
    if (kind == BT_EV_POLICY) {
        struct bt_err pe = {""};
        if (!(x->policy = malloc(sizeof(*x->policy))))
            return bt_err_setr(e, -ENOMEM, "out of memory");
        if (!(v = json_object_get(o, "policy")))
            return bt_err_set(e, "%s:%u: a policy event needs \"policy\": {\"default\", \"rules\"}",
                              path, lineno);
        if (gw_policy_from_json(v, x->policy, &pe) < 0)
            return bt_err_set(e, "%s:%u: %s", path, lineno, pe.msg);
        return 0;
    }
    v = json_object_get(o, "sgm");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > GW_MAX_MEMBERS)
        return bt_err_set(e, "%s:%u: \"sgm\" must be 1..64", path, lineno);
    x->sgm = (int)json_integer_value(v);
    if ((v = json_object_get(o, "weight"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 512)
            return bt_err_set(e, "%s:%u: \"weight\" must be 0..512", path, lineno);
        x->weight = (int)json_integer_value(v);
    }
    if (kind == BT_EV_WEIGHT && x->weight < 0)
        return bt_err_set(e, "%s:%u: a weight event needs \"weight\"", path, lineno);
    return 0;
}

static int jsonl_events(const char *path, struct action **out, size_t *nout, struct bt_err *e)
{
    struct jsonl_ctx c = {path, NULL, 0, 0};
    int r = bt_jsonl_each(path, jsonl_event, &c, e);

    if (r < 0) {
        free_actions(c.a, c.n);
        return r;
    }
    *out = c.a;
    *nout = c.n;
    return 0;
}

static int load_events(const char *path, struct action **a, size_t *n, bool *relative,
                       struct bt_err *e)
{
    size_t len = strlen(path);

    *a = NULL;
    *n = 0;
    *relative = false;
    if ((len > 5 && !strcmp(path + len - 5, ".yaml")) || (len > 4 && !strcmp(path + len - 4, ".yml")))
        return yaml_events(path, a, n, relative, e);
    return jsonl_events(path, a, n, e);
}

/* ---- the run ---- */

static void drain(struct replay *s, uint64_t now)
{
    struct bt_pkt *out[32];
    unsigned n;

    while ((n = gw_tx(s->g, now, out, 32)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            struct bt_pkt *p = out[i];
            int r = p->port == 1 ? bt_capset_writer_server(s->k.w, p->ts_ns, p->data, p->len, p->wire_len)
                                 : bt_capset_writer_client(s->k.w, p->ts_ns, p->data, p->len, p->wire_len);
            if (r < 0)
                s->k.err = r;
            s->res->out_pkts++;
            bt_pkt_free(p);
        }
    }
}

static void stats_line(struct replay *s, uint64_t now)
{
    char *txt;

    gw_stats_sample(s->g, now, s->line);
    txt = gw_stats_line_json(s->line);
    if (!txt || fprintf(s->stats, "%s\n", txt) < 0)
        s->k.err = -EIO;
    if (txt && s->serve)
        gw_serve_stats(s->serve, txt);
    free(txt);
    s->nstats++;
    s->last_stats = now;
}

/* Applies one event of the timeline. An event the cluster refuses (a
 * member failed twice, restored while up, an id out of order) is bad
 * input: -EINVAL with e naming the events file, its line and why, and the
 * replay stops there (what was written so far stays). */
static int do_action(struct replay *s, const struct action *a, uint64_t now, struct bt_err *e)
{
    struct bt_err pe = {""};
    const char *cmd;
    char why[160];
    int r;

    switch (a->kind) {
    case BT_EV_SGM_DOWN: cmd = "fail"; r = gw_fail(s->g, now, a->sgm); break;
    case BT_EV_SGM_UP: cmd = "restore"; r = gw_restore(s->g, now, a->sgm); break;
    case BT_EV_SGM_JOIN:
        cmd = "add";
        r = gw_add(s->g, now, a->sgm, a->weight < 0 ? 100 : (unsigned)a->weight);
        break;
    case BT_EV_WEIGHT: cmd = "weight"; r = gw_weight(s->g, now, a->sgm, (unsigned)a->weight); break;
    default: cmd = "policy"; r = gw_policy_install(s->g, now, a->policy, &pe); break;
    }
    if (r >= 0)
        return 0;
    s->res->bad_events++;
    if (a->kind == BT_EV_POLICY)
        snprintf(why, sizeof(why), "policy: %s", pe.msg);
    else
        gw_refusal(s->g, cmd, a->sgm, r, why, sizeof(why));
    if (a->col)
        return bt_err_setr(e, -EINVAL, "%s:%u:%u: at %.6f s the cluster refused the event: %s",
                           s->o->events, a->line, a->col, (double)now / 1e9, why);
    return bt_err_setr(e, -EINVAL, "%s:%u: at %.6f s the cluster refused the event: %s",
                       s->o->events, a->line, (double)now / 1e9, why);
}

void gw_replay_opts_default(struct gw_replay_opts *o)
{
    memset(o, 0, sizeof(*o));
    gw_config_default(&o->cluster);
    o->stats_interval_ns = 1000000000ULL;
    o->speed = 1;
    o->max_gap_ns = 60000000000ULL;
}

static int open_input(const char *path, struct bt_pcap_reader **r, struct bt_err *e)
{
    if (!(*r = bt_pcap_open(path, e)))
        return -EINVAL;
    if (bt_pcap_linktype(*r) != 1)
        return bt_err_set(e, "%s: link type %d: the sim replays Ethernet captures (link type 1)", path,
                          bt_pcap_linktype(*r));
    return 0;
}

/* Input time (the captures' and absolute events' clock) to virtual time.
 * Time stamps that go back below the shift are taken as now by the loop. */
static uint64_t vtime(uint64_t in_ns, uint64_t shift)
{
    return in_ns > shift ? in_ns - shift : 0;
}

int gw_replay_run(const struct gw_replay_opts *o, struct gw_replay_result *res, struct bt_err *e)
{
    struct replay s;
    struct bt_pcap_reader *rd[2] = {NULL, NULL};
    struct bt_pcap_merge *mg = NULL;
    struct bt_pcap_rec rec;
    unsigned which = 0;
    bool have = false, relative = false, started = false;
    uint64_t t0 = 0, next_stats = UINT64_MAX, end = UINT64_MAX;
    /* virtual time = input time - shift; shift grows where a silence
     * between two things of the input (packets and events, on the input
     * clock) is longer than max_gap_ns and shortened to it, so a capture
     * spanning weeks does not simulate weeks of heartbeats and stats lines;
     * order and the gaps below max_gap are kept */
    uint64_t shift = 0, last_in = 0, inpkt[2] = {0, 0};
    char path[4096];
    int r = 0, rc;

    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    s.o = o;
    s.res = res;
    if (!o->client_pcap || !o->server_pcap || !o->out)
        return bt_err_set(e, "replay: needs a client capture, a server capture and an output directory");
    if ((r = open_input(o->client_pcap, &rd[0], e)) < 0 || (r = open_input(o->server_pcap, &rd[1], e)) < 0)
        goto out;
    if (o->events && (r = load_events(o->events, &s.act, &s.nact, &relative, e)) < 0)
        goto out;
    if (!(s.g = gw_cluster_new(&o->cluster, o->seed))) {
        r = bt_err_set(e, "bad cluster configuration (members 1..64, weights 0..512, an IPv4 NAT pool)");
        goto out;
    }
    s.pool = bt_pktpool_new(POOL_PKTS, POOL_BUF);
    s.line = malloc(sizeof(*s.line));
    mg = bt_pcap_merge_new(rd, 2);
    if (!s.pool || !s.line || !mg) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    if ((r = gw_sink_open(&s.k, o->out, e)) < 0)
        goto out;
    if (o->stats)
        snprintf(path, sizeof(path), "%s", o->stats);
    else
        bt_capset_path(o->out, "stats.jsonl", path, sizeof(path));
    if (!(s.stats = fopen(path, "w"))) {
        r = bt_err_setr(e, -errno, "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    if (o->serve && !(s.serve = gw_serve_open(o->serve, o->speed, e))) {
        r = -EINVAL;
        goto out;
    }
    gw_sink_attach(s.g, &s.k);
    if ((rc = bt_pcap_merge_next(mg, &rec, &which, e)) < 0) {
        r = -EINVAL;
        goto out;
    }
    have = rc == 1;
    /* the clock starts at the first packet (or the first absolute event) */
    t0 = have ? rec.ts_ns : 0;
    if (!relative && s.nact) {
        qsort(s.act, s.nact, sizeof(*s.act), cmp_action);
        if (s.act[0].t_ns < t0 || !have)
            t0 = s.act[0].t_ns;
    } else if (s.nact) {
        for (size_t i = 0; i < s.nact; i++)
            s.act[i].t_ns += t0;
        qsort(s.act, s.nact, sizeof(*s.act), cmp_action);
    }
    if (o->stats_interval_ns)
        next_stats = t0 + o->stats_interval_ns;
    if (o->duration_ns)
        end = t0 + o->duration_ns;
    last_in = t0;
    for (;;) {
        /* the next thing on the input clock, a packet or an event */
        uint64_t next_in = have ? rec.ts_ns : UINT64_MAX;
        if (s.next_act < s.nact && s.act[s.next_act].t_ns < next_in)
            next_in = s.act[s.next_act].t_ns;
        if (o->max_gap_ns && next_in != UINT64_MAX && next_in > last_in + o->max_gap_ns) {
            shift += next_in - last_in - o->max_gap_ns;
            last_in = next_in;
        }
        uint64_t t = gw_next_ns(s.g), tp = have ? vtime(rec.ts_ns, shift) : UINT64_MAX,
                 ta = s.next_act < s.nact ? vtime(s.act[s.next_act].t_ns, shift) : UINT64_MAX;
        bool more_input = have || s.next_act < s.nact;
        if (!started)
            t = UINT64_MAX;
        if (tp < t)
            t = tp;
        if (ta < t)
            t = ta;
        if (!more_input && gw_idle(s.g) && end == UINT64_MAX)
            break;
        if (next_stats < t && (more_input || !gw_idle(s.g) || end != UINT64_MAX))
            t = next_stats;
        if (end != UINT64_MAX && t > end)
            t = end;
        if (t == UINT64_MAX)
            break;
        if (started && t < res->end_ns)
            t = res->end_ns;   /* captures whose time stamps go back: taken as now */
        if (s.serve) {
            int pr = gw_serve_pace(s.serve, s.g, t);
            if (pr == -EINTR)
                break;
            if (pr == 1) {
                drain(&s, res->end_ns);
                continue;
            }
        }
        started = true;
        res->end_ns = t;
        /* events first, then the packets of this instant, then what leaves */
        while (s.next_act < s.nact && vtime(s.act[s.next_act].t_ns, shift) <= t) {
            if (s.act[s.next_act].t_ns > last_in)
                last_in = s.act[s.next_act].t_ns;
            if ((r = do_action(&s, &s.act[s.next_act++], t, e)) < 0)
                goto out;
        }
        while (have && vtime(rec.ts_ns, shift) <= t) {
            struct bt_pkt *p = bt_pkt_copy(s.pool, rec.data, rec.caplen, rec.wire_len, t);
            int wr = which == 0 ? bt_capset_writer_client(s.k.w, t, rec.data, rec.caplen, rec.wire_len)
                                : bt_capset_writer_server(s.k.w, t, rec.data, rec.caplen, rec.wire_len);
            inpkt[which]++;
            if (wr == -EINVAL) {
                /* the only time stamps a pcap cannot hold */
                r = bt_err_setr(e, -EINVAL,
                                "%s: packet %llu: time stamp %llu s is past what a pcap can hold "
                                "(2106-02-07); rebase the capture's times (editcap -t)",
                                which == 0 ? o->client_pcap : o->server_pcap,
                                (unsigned long long)inpkt[which],
                                (unsigned long long)(t / 1000000000ULL));
                goto out;
            }
            if (wr < 0)
                s.k.err = wr;
            if (rec.ts_ns > last_in)
                last_in = rec.ts_ns;
            res->in_pkts++;
            if (p)
                gw_rx(s.g, t, (uint16_t)which, &p, 1);
            else
                res->pool_empty++;
            if ((rc = bt_pcap_merge_next(mg, &rec, &which, e)) < 0) {
                r = -EINVAL;
                goto out;
            }
            have = rc == 1;
        }
        drain(&s, t);
        if (t >= next_stats) {
            stats_line(&s, t);
            next_stats += o->stats_interval_ns;
        }
        if (s.k.err || t >= end)
            break;
    }
    if (s.nstats == 0 || s.last_stats < res->end_ns)
        stats_line(&s, res->end_ns);  /* the last, partial interval */
    gw_get_stats(s.g, &res->gw);
out:
    if (s.stats && fclose(s.stats) != 0 && r == 0)
        r = bt_err_setr(e, -EIO, "%s: write failed", path);
    if (s.k.w) {
        struct bt_capset_meta m;
        int cr;
        gw_sink_meta(&o->cluster, s.g ? gw_member_count(s.g) : o->cluster.nmembers, NULL,
                     "baton-gateway sim (replay)", &m);
        for (unsigned i = 0; i < m.nmembers; i++)   /* joins: from the events file */
            for (size_t k = 0; k < s.nact; k++)
                if (s.act[k].kind == BT_EV_SGM_JOIN && s.act[k].sgm == (int)i + 1)
                    m.weights[i] = s.act[k].weight < 0 ? 100 : (unsigned)s.act[k].weight;
        /* a first error already in e is the one to report */
        struct bt_err later;
        cr = bt_capset_writer_close(s.k.w, &m, r == 0 ? e : &later);
        if (r == 0 && cr < 0)
            r = cr;
    }
    if (r == 0 && s.k.err)
        r = bt_err_setr(e, s.k.err, "%s: write failed: %s", o->out, strerror(-s.k.err));
    gw_serve_close(s.serve);
    gw_cluster_free(s.g);
    bt_pcap_merge_free(mg);
    bt_pcap_close(rd[0]);
    bt_pcap_close(rd[1]);
    bt_pktpool_free(s.pool);
    free(s.line);
    free_actions(s.act, s.nact);
    return r;
}
