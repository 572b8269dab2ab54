/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Co-simulation: the tgen core (closed loop) and the gateway core on one
 * virtual clock in one process. Each step goes to the earliest of: the
 * engine's next send, the cluster's next action, a packet landing at the end
 * of a link (links have a fixed one-way delay), the next plan event. tgen's
 * port 0 packets enter the cluster on its port 0 (client side), port 1 on
 * port 1; what the cluster sends out of a port reaches tgen's port of the
 * same number. Plan events (fail, restore, add, weight, policy) call the
 * cluster's control functions at their virtual time; a `run:` hook runs a
 * command with the clock paused. The capture set is written from the taps
 * (sgm-<id>.pcap), the links (client.pcap, server.pcap) and the callbacks
 * (events, corrections, NAT). Deterministic: no wall clock decides anything
 * (a hook's timeout is wall time, but it only decides the hook's verdict).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_pkt.h"
#include "bt_ring.h"
#include "pl_api.h"

#define BURST 64

/* Long plans capture the first 128 bytes of each packet unless the plan
 * says sim.snaplen (docs/plans.md): a plan whose traffic lasts this long
 * (its profile's duration, else flows / cps) writes and reads back
 * gigabytes of payload that no check looks at beyond the headers.
 * `snaplen: 65535` keeps whole packets. */
#define LONG_TRAFFIC_NS (10 * 1000000000ULL)
#define LONG_SNAPLEN 128

/* A link's packets in flight, a FIFO ring of (landing time, packet): the
 * loop asks each link for its next landing every step, which reads the ring
 * and not the packet (its struct is cold by then), and a push writes no
 * other packet. Grows by doubling; the order is the order of push. */
struct linkq {
    struct lq_ent {
        uint64_t due;
        struct bt_pkt *p;
    } *e;
    /* the head's landing time, UINT64_MAX when empty: the loop asks for
     * it eight times a step (one load, not four and a branch) */
    uint64_t hdue;
    uint32_t head, n, cap;   /* cap: 0 or a power of two */
    int err;                 /* -ENOMEM once the ring could not grow */
};

static void q_push(struct linkq *q, struct bt_pkt *p, uint64_t due)
{
    if (q->n == q->cap &&
        bt_ring_grow((void **)&q->e, sizeof(*q->e), &q->head, q->n, &q->cap, 256) < 0) {
        q->err = -ENOMEM;
        bt_pkt_free(p);
        return;
    }
    q->e[(q->head + q->n) & (q->cap - 1)] = (struct lq_ent){due, p};
    if (!q->n++)
        q->hdue = due;
}

static struct bt_pkt *q_pop(struct linkq *q)
{
    struct bt_pkt *p;

    if (!q->n)
        return NULL;
    p = q->e[q->head].p;
    q->head = (q->head + 1) & (q->cap - 1);
    q->hdue = --q->n ? q->e[q->head].due : UINT64_MAX;
    return p;
}

static uint64_t q_due(const struct linkq *q)
{
    return q->hdue;
}

static void q_free(struct linkq *q)
{
    struct bt_pkt *p;

    while ((p = q_pop(q)))
        bt_pkt_free(p);
    free(q->e);
    q->e = NULL;
    q->cap = 0;
}

struct cosim {
    const struct pl_plan *p;
    struct tg_engine *tg;
    struct gw_cluster *g;
    struct bt_capset_writer *w;  /* NULL: no capture set (trials) */
    struct linkq to_gw[2], to_tg[2];
    struct pl_cosim_result *res;
    const char *out;
    uint32_t snaplen;            /* bytes captured of each packet (0: all) */
    bool trial;                  /* a capacity-search trial: stop at the first sign of overload */
    bool overloaded;
    int err;
    int oom;                     /* a link's ring could not grow (err is -ENOMEM too) */
    char refused[320];           /* an event the cluster refused ("": none) */
};

/* Bytes of p written to a capture (sim.snaplen; the wire length stays). */
static uint32_t snap(const struct cosim *s, const struct bt_pkt *p)
{
    uint32_t n = s->snaplen;
    return n && p->len > n ? n : p->len;
}

/* sim.snaplen, or LONG_SNAPLEN when the traffic is long and the plan gave none. */
static uint32_t plan_snaplen(const struct pl_plan *p, const struct tg_profile *prof)
{
    double cps = prof->cps * (prof->cps_mult > 0 ? prof->cps_mult : 1);
    double len_ns = prof->duration_ns ? (double)prof->duration_ns
                    : cps > 0 && prof->flows ? (double)prof->flows / cps * 1e9 : 0;

    if (p->snaplen)
        return p->snaplen;
    return len_ns >= (double)LONG_TRAFFIC_NS ? LONG_SNAPLEN : 0;
}

/* What crosses the client-side (port 0) or server-side (port 1) link, seen
 * at tgen's ports: n packets at time t, in one call (a call a packet was
 * most of a link record's cost). */
static void cap_link(struct cosim *s, uint16_t port, uint64_t t, struct bt_pkt *const *v,
                     unsigned n)
{
    int r;

    s->res->link_pkts += n;
    if (!n || !s->w || s->p->no_links)
        return;
    r = port == TG_PORT_CLIENT ? bt_capset_writer_client_pkts(s->w, t, v, n, s->snaplen)
                               : bt_capset_writer_server_pkts(s->w, t, v, n, s->snaplen);
    if (r < 0 && !s->err)
        s->err = r;
}

static void tap(void *arg, int sgm, const struct bt_pkt *p)
{
    struct cosim *s = arg;
    int r = bt_capset_writer_sgm(s->w, sgm, p->ts_ns, p->data, snap(s, p), p->wire_len);

    if (r < 0 && !s->err)
        s->err = r;
}

static void on_event(void *arg, const struct bt_event *ev)
{
    struct cosim *s = arg;
    int r = bt_capset_writer_event(s->w, ev);

    if (r < 0 && !s->err)
        s->err = r;
}

static void on_correction(void *arg, const struct bt_correction *c)
{
    struct cosim *s = arg;
    int r = bt_capset_writer_correction(s->w, c);

    if (r < 0 && !s->err)
        s->err = r;
}

static void on_nat(void *arg, const struct bt_nat_map *m)
{
    struct cosim *s = arg;
    int r = bt_capset_writer_nat(s->w, m);

    if (r < 0 && !s->err)
        s->err = r;
}

static void on_flow(void *arg, const struct tg_flow_info *fi)
{
    struct cosim *s = arg;

    if (!fi->ok)
        s->overloaded = true;
}

/* A trial is decided at the first drop (queue, table, state) or failed flow. */
static void check_overload(struct cosim *s)
{
    struct gw_stats g;

    gw_get_stats(s->g, &g);
    if (g.drops_queue || g.drops_full || g.backups_full)
        s->overloaded = true;
    if (s->p->ramp.kind == PL_RAMP_CPS && (g.drops_state || g.drops_dead))
        s->overloaded = true;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_note(struct pl_cosim_result *res, uint64_t t, const char *cmd, const char *what)
{
    size_t n = strlen(res->run_report);

    snprintf(res->run_report + n, sizeof(res->run_report) - n, "%st=%.3fs '%.60s': %s",
             n ? "; " : "", t / 1e9, cmd, what);
}

/* A `run:` hook: /bin/sh -c CMD with the virtual clock paused (nothing else
 * happens meanwhile), its stdout sent to stderr (stdout may be --json), in
 * its own process group so that a timeout kills everything it started. */
static void run_hook(struct cosim *s, const struct pl_event *ev, uint64_t now)
{
    struct pl_cosim_result *res = s->res;
    char tbuf[32], mbuf[16];
    int status = 0;
    pid_t pid;

    res->runs++;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        res->runs_failed++;
        run_note(res, now, ev->cmd, "cannot fork");
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(2, 1);
        snprintf(tbuf, sizeof(tbuf), "%.9f", now / 1e9);
        snprintf(mbuf, sizeof(mbuf), "%u", gw_member_count(s->g));
        setenv("BATON_T", tbuf, 1);
        setenv("BATON_PLAN", s->p->name, 1);
        setenv("BATON_MEMBERS", mbuf, 1);
        setenv("BATON_OUT", s->out ? s->out : "", 1);
        execl("/bin/sh", "sh", "-c", ev->cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    double deadline = wall_now() + ev->timeout_ns / 1e9;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (wall_now() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            res->runs_timeout++;
            char what[64];
            snprintf(what, sizeof(what), "timed out after %.3f s (killed)", ev->timeout_ns / 1e9);
            run_note(res, now, ev->cmd, what);
            return;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char what[64];
    if (code < 0 || (ev->want_status >= 0 && code != ev->want_status)) {
        res->runs_failed++;
        if (code < 0)
            snprintf(what, sizeof(what), "killed by a signal");
        else
            snprintf(what, sizeof(what), "exit %d (expected %d)", code, ev->want_status);
    } else {
        snprintf(what, sizeof(what), "exit %d", code);
    }
    run_note(res, now, ev->cmd, what);
}

static void do_event(struct cosim *s, const struct pl_event *ev, uint64_t now)
{
    struct bt_err e = {{0}};
    int r = 0;

    switch (ev->kind) {
    case PL_EV_FAIL: r = gw_fail(s->g, now, ev->sgm); break;
    case PL_EV_RESTORE: r = gw_restore(s->g, now, ev->sgm); break;
    case PL_EV_ADD: r = gw_add(s->g, now, ev->sgm, ev->weight); break;
    case PL_EV_WEIGHT: r = gw_weight(s->g, now, ev->sgm, ev->weight); break;
    case PL_EV_POLICY:
        r = gw_policy_install(s->g, now, ev->policy, &e);
        if (r >= 0) {
            s->res->policy_installs++;
            s->res->policy_version = (uint32_t)r;
        }
        break;
    case PL_EV_RUN: run_hook(s, ev, now); break;
    }
    if (r >= 0)
        return;
    /* a timeline the cluster cannot follow (a member failed twice,
     * restored while up) is a bad plan: the run stops and says where */
    s->res->bad_events++;
    if (!s->refused[0]) {
        static const char *const cmds[] = {
            [PL_EV_FAIL] = "fail", [PL_EV_RESTORE] = "restore", [PL_EV_ADD] = "add",
            [PL_EV_WEIGHT] = "weight",
        };
        char why[160];
        if (ev->kind == PL_EV_POLICY)
            snprintf(why, sizeof(why), "policy: %s", e.msg);
        else
            gw_refusal(s->g, cmds[ev->kind], ev->sgm, r, why, sizeof(why));
        snprintf(s->refused, sizeof(s->refused), "%s:%u:%u: at %.6f s the cluster refused the event: %s",
                 s->p->file, ev->line, ev->col, (double)now / 1e9, why);
        if (!s->err)
            s->err = -EINVAL;
    }
}

/* The plan's time (sim.duration) ran out before events [next, nevents):
 * nothing may pass for having happened. A hook is a run that did not run
 * (the run check fails, as --live reports it); a cluster event is an error
 * of the plan, named where it is. */
static void not_reached(struct cosim *s, unsigned next, uint64_t now)
{
    const struct pl_plan *p = s->p;

    for (; next < p->nevents; next++) {
        const struct pl_event *ev = &p->ev[next];
        if (ev->kind == PL_EV_RUN) {
            char what[96];
            s->res->runs++;
            s->res->runs_failed++;
            snprintf(what, sizeof(what), "not run: the plan's end (sim.duration %.3f s) came first",
                     (double)p->max_sim_ns / 1e9);
            run_note(s->res, ev->at_ns, ev->cmd, what);
            continue;
        }
        s->res->bad_events++;
        if (!s->refused[0]) {
            snprintf(s->refused, sizeof(s->refused),
                     "%s:%u:%u: the event at %.3f s comes after the plan's end (sim.duration %.3f s, "
                     "reached at %.3f s): it never happened; raise sim.duration or move the event",
                     p->file, ev->line, ev->col, (double)ev->at_ns / 1e9, (double)p->max_sim_ns / 1e9,
                     (double)now / 1e9);
            if (!s->err)
                s->err = -EINVAL;
        }
    }
}

static void to_cluster(struct cosim *s, uint16_t port, struct bt_pkt **v, unsigned n, uint64_t now)
{
    if (n)
        gw_rx(s->g, now, port, v, n);
}

static void to_engine(struct cosim *s, uint16_t port, struct bt_pkt **v, unsigned n, uint64_t now)
{
    cap_link(s, port, now, v, n);
    if (n)
        tg_rx(s->tg, now, port, v, n);
}

/* Packets landing at the end of a link by now, in bursts per port. */
static __attribute__((noinline)) bool land_due(struct cosim *s, struct linkq q[2], uint64_t now,
                                               bool engine)
{
    bool moved = false;

    for (uint16_t port = 0; port < 2; port++) {
        if (q_due(&q[port]) > now)
            continue;   /* most steps: nothing lands on this port */
        moved = true;
        do {
            struct bt_pkt *v[BURST];
            unsigned n = 0;
            while (n < BURST && q_due(&q[port]) <= now)
                v[n++] = q_pop(&q[port]);
            engine ? to_engine(s, port, v, n, now) : to_cluster(s, port, v, n, now);
        } while (q_due(&q[port]) <= now);
    }
    return moved;
}

/* Most steps land nothing on either port: decided here, inline, without
 * the call and the frame of its burst (~1.7M of 3.6M calls on the 10 s cut
 * of cosim-60s-4m). */
static inline bool land(struct cosim *s, struct linkq q[2], uint64_t now, bool engine)
{
    if (q_due(&q[0]) > now && q_due(&q[1]) > now)
        return false;
    return land_due(s, q, now, engine);
}

/* Links without delay: what one side sent reaches the other now, port 0's
 * packets first. */
static void hand_over(struct cosim *s, struct bt_pkt **v, unsigned n, uint64_t now,
                      bool from_engine)
{
    struct bt_pkt *by[2][BURST];
    unsigned nb[2] = {0, 0};

    for (unsigned i = 0; i < n; i++)
        by[v[i]->port][nb[v[i]->port]++] = v[i];
    for (uint16_t port = 0; port < 2; port++)
        from_engine ? to_cluster(s, port, by[port], nb[port], now)
                    : to_engine(s, port, by[port], nb[port], now);
}

/* Everything one side sends by now onto its links (from_engine: tgen to
 * the cluster, else the cluster to tgen). True when a packet moved. */
static bool pump(struct cosim *s, uint64_t now, bool from_engine)
{
    uint64_t d = s->p->link_delay_ns;
    struct linkq *q = from_engine ? s->to_gw : s->to_tg;
    bool moved = false;

    unsigned n;

    do {
        struct bt_pkt *v[BURST], *by[2][BURST];
        unsigned nb[2] = {0, 0};
        n = from_engine ? tg_tx(s->tg, now, v, BURST) : gw_tx(s->g, now, v, BURST);
        if (!n)
            break;
        moved = true;
        for (unsigned i = 0; i < n; i++) {
            uint16_t port = v[i]->port ? 1 : 0;
            v[i]->port = port;
            by[port][nb[port]++] = v[i];
        }
        /* (each link's capture in the order sent, as a call a packet wrote it) */
        if (from_engine)
            for (uint16_t port = 0; port < 2; port++)
                cap_link(s, port, now, by[port], nb[port]);
        for (unsigned i = 0; i < n; i++) {
            uint16_t port = v[i]->port;
            if (d) {
                v[i]->ts_ns = now + d;
                q_push(&q[port], v[i], now + d);
                if (q[port].err && !s->err)
                    s->err = s->oom = q[port].err;
            }
        }
        if (!d)
            hand_over(s, v, n, now, from_engine);
    } while (n == BURST);
    return moved;
}

static void fill_meta(const struct cosim *s, struct bt_capset_meta *m)
{
    const struct gw_config *c = &s->p->sim.cluster;

    memset(m, 0, sizeof(*m));
    m->nmembers = s->g ? gw_member_count(s->g) : c->nmembers;
    for (unsigned i = 0; i < m->nmembers && i < BT_CAPSET_MAX_MEMBERS; i++) {
        m->ids[i] = (int)i + 1;
        m->weights[i] = c->weight[i + 1];
        for (unsigned k = 0; k < s->p->nevents; k++)
            if (s->p->ev[k].kind == PL_EV_ADD && s->p->ev[k].sgm == (int)i + 1)
                m->weights[i] = s->p->ev[k].weight;
    }
    snprintf(m->mode, sizeof(m->mode), "%s", bt_dist_mode_name(c->mode));
    m->l4 = c->l4;
    if (c->nat) {
        m->npools = 1;
        bt_cidr_fmt(&c->nat_pool, m->nat_pools[0], sizeof(m->nat_pools[0]));
    }
    snprintf(m->generator, sizeof(m->generator), "baton-plan cosim");
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int pl_cosim_run(const struct pl_plan *p, const struct tg_profile *prof, const char *out,
                 struct pl_cosim_result *res, struct bt_err *e)
{
    struct cosim s;
    uint64_t now = 0, done_at = 0;   /* done_at: when tgen's traffic ended (tg_ended) */
    unsigned next_ev = 0, steps = 0;
    bool stuck = false, timed_out = false, tg_ended = false;
    int r = 0;

    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    for (int k = 0; k < 2; k++)
        s.to_gw[k].hdue = s.to_tg[k].hdue = UINT64_MAX;   /* empty */
    s.p = p;
    s.res = res;
    s.out = out;
    s.snaplen = plan_snaplen(p, prof);
    if (!(s.g = gw_cluster_new(&p->sim.cluster, p->seed)))
        return bt_err_set(e, "%s: cluster: bad configuration (members 1..64, weights 0..512, "
                             "an IPv4 NAT pool, a policy PCRE2 accepts)", p->file);
    if (!(s.tg = tg_engine_new(prof, p->seed, e))) {
        bt_err_prefix(e, p->file);
        r = -EINVAL;
        goto out;
    }
    s.trial = !out && p->ramp.kind != PL_RAMP_NONE;
    if (s.trial)
        tg_set_flow_cb(s.tg, on_flow, &s);
    if (out) {
        if (!(s.w = bt_capset_writer_open(out, e))) {
            r = -EIO;
            goto out;
        }
        /* both link captures exist even when nothing reached a side (that
         * is 100 % loss, which verify must see, not a missing file) */
        if (!s.p->no_links && (r = bt_capset_writer_links(s.w)) < 0) {
            r = bt_err_setr(e, r, "%s: cannot create the link captures: %s", out, strerror(-r));
            goto out;
        }
        gw_set_tap(s.g, tap, &s);
        gw_set_event_cb(s.g, on_event, &s);
        gw_set_correction_cb(s.g, on_correction, &s);
        gw_set_nat_cb(s.g, on_nat, &s);
    }
    for (;;) {
        bool done = tg_done(s.tg);
        /* tgen's figures end with its traffic, as in --live: the time a
         * later event keeps the run going is not traffic (rates over it
         * would be diluted) */
        if (done && !tg_ended) {
            tg_ended = true;
            done_at = now;
        }
        uint64_t tn = done ? UINT64_MAX : tg_next_ns(s.tg), tn_send = tn;
        uint64_t t, ev_t = next_ev < p->nevents ? p->ev[next_ev].at_ns : UINT64_MAX;
        bool moved = false;

        if (done && ev_t == UINT64_MAX && !s.to_gw[0].n && !s.to_gw[1].n &&
            !s.to_tg[0].n && !s.to_tg[1].n && gw_idle(s.g))
            break;
        /* an engine that wants to send now but cannot (its pool is empty:
         * every buffer is in flight) waits for the others */
        if (stuck && tn <= now)
            tn = UINT64_MAX;
        t = min64(tn, min64(gw_next_ns(s.g), ev_t));
        for (int k = 0; k < 2; k++)
            t = min64(t, min64(q_due(&s.to_gw[k]), q_due(&s.to_tg[k])));
        if (t == UINT64_MAX) {
            if (!done)
                tg_abort(s.tg, now);
            break;
        }
        if (t < now)
            t = now;
        if (t > p->max_sim_ns) {
            tg_abort(s.tg, now);  /* the plan's time is up */
            timed_out = true;
            break;
        }
        now = t;
        while (next_ev < p->nevents && p->ev[next_ev].at_ns <= now) {
            do_event(&s, &p->ev[next_ev++], now);
            moved = true;
        }
        /* tgen sends, packets reach the cluster; the cluster sends, packets reach tgen */
        /* tgen sends nothing before its next send time (a stuck engine's
         * too: it tries again every step) */
        if (tn_send <= now)
            moved |= pump(&s, now, true);
        moved |= land(&s, s.to_gw, now, false);
        moved |= pump(&s, now, false);
        moved |= land(&s, s.to_tg, now, true);
        stuck = !moved;
        if (s.err)
            break;
        if (s.trial && (++steps & 255) == 0)
            check_overload(&s);
        if (s.overloaded) {
            tg_abort(s.tg, now);
            break;
        }
    }
    if (s.trial)
        check_overload(&s);
    if (timed_out)
        not_reached(&s, next_ev, now);
    res->overloaded = s.overloaded;
    res->end_ns = now;
    tg_summary_get(s.tg, tg_ended ? done_at : now, &res->tg);
    gw_get_stats(s.g, &res->gw);
    res->members = gw_member_count(s.g);
    {
        double busy = 0, conns = 0, pkts = 0, recs = 0;
        for (unsigned i = 1; i <= res->members; i++) {
            struct gw_member_stats ms;
            if (gw_member_stats(s.g, (int)i, &ms) < 0)
                continue;
            busy += (double)ms.busy_ns;
            conns += (double)ms.conns_created;
            pkts += (double)ms.pkts;
            recs += (double)(ms.sync_tx + ms.sync_rx);
            if (ms.alive && !ms.detected_dead && ms.policy_version != gw_policy_version(s.g))
                res->policy_stale++;
        }
        busy -= (double)res->gw.heartbeats * p->sim.cluster.cost.ns_per_pkt;
        res->work_ns_per_conn = conns > 0 ? busy / conns : 0;
        res->pkts_per_conn = conns > 0 ? pkts / conns : 0;
        res->sync_per_conn = conns > 0 ? recs / conns : 0;
    }
    if (!res->policy_version)
        res->policy_version = gw_policy_version(s.g);
out:
    for (int k = 0; k < 2; k++) {
        q_free(&s.to_gw[k]);
        q_free(&s.to_tg[k]);
    }
    if (s.w) {
        struct bt_capset_meta m;
        fill_meta(&s, &m);
        int cr = bt_capset_writer_close(s.w, &m, e);
        if (r == 0 && cr < 0)
            r = cr;
    }
    if (r == 0 && s.refused[0])
        r = bt_err_setr(e, -EINVAL, "%s", s.refused);
    else if (r == 0 && s.oom)
        r = bt_err_setr(e, s.oom, "%s: out of memory (packets in flight on the links)", p->file);
    else if (r == 0 && s.err)
        r = bt_err_setr(e, s.err, "%s: write failed: %s", out, strerror(-s.err));
    /* packets the cluster still holds return to tgen's pool before it goes */
    s.g = gw_cluster_free(s.g);
    s.tg = tg_engine_free(s.tg);
    return r;
}
