/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The checks of baton-verify, in one streaming pass over every member's
 * capture merged by time (lib/bt_pcap merge). Each flow lives in a flow table
 * keyed by its canonical 5-tuple while it is open; when it ends (idle timeout,
 * or a new SYN after FIN/RST) it is judged and freed. Idle ends are exact
 * where they matter (the flow's next packet, a failover event) and are
 * swept out of the table in batches otherwise: the table keeps no last-use
 * order, which would cost two random cache-line writes per packet. Failover events are
 * applied when the merged stream crosses their time: the flows then carried
 * by the dead member are marked, and judged when they end.
 * Definitions (exact): docs/verify.md.
 */
#include "vf_api.h"
#include "vf_loss.h"
#include "vf_nat.h"
#include "vf_ftab.h"
#include "vf_pkt.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_capset.h"
#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_parse.h"
#include "bt_pcap.h"

const char *const vf_check_names[VF_NCHECKS] = {
    VF_CHECK_AFFINITY, VF_CHECK_SYMMETRY, VF_CHECK_FAILOVER, VF_CHECK_BALANCE, VF_CHECK_LOSS,
};

#define FLOW_CAPACITY (1u << 22)

enum { DIR_C2S = 0, DIR_S2C = 1 };

/* Per failover event a flow was affected by. */
struct flow_ev {
    uint32_t ev;          /* index into the report's events */
    uint8_t member_after; /* first member seen after T (0: none) */
    uint8_t other;        /* packets after T went to more than one member */
    uint8_t rst;          /* RST seen after T */
    uint8_t dirs;         /* directions seen after T on other members (1 c2s, 2 s2c) */
    uint64_t last_before; /* last packet before T */
    uint64_t first_after; /* first packet at or after T */
};

/* The hot value of a flow in the table, what every packet reads or
 * writes: 24 bytes, so that with its key it is one cache line (there can be
 * millions, each packet's a cache miss). What only a flow's start, its end
 * or a move reads is in its cold record (struct vf_cold, 8 bytes); the
 * failover records of the few flows a member failure affects, and the
 * member masks of the few seen on several members, live in a block of a
 * side pool (evblock). The members seen per direction in this epoch: none,
 * one (one[dir]) or, from the second on, a mask in the block (many bit).
 * fast[side] (side: the packet's VF_PKT_SWAPPED bit, 0 from the canonical
 * src) is the one member whose packets of that side on_packet_fast may
 * judge (0: none): set by on_packet from the rest of the record, cleared
 * wherever that rest changes outside it (an RST or the second FIN on the
 * fast path, a failover event marking the table). */
struct vf_flow {
    uint64_t last_ns;
    uint32_t evblock;                 /* 1 + its block in the pool (failover records,
                                       * member masks), 0: none */
    uint8_t fast[2];                  /* by side: on_packet_fast's member, 0: none */
    uint8_t owner;                    /* member of the first packet */
    uint8_t cur[2];                   /* current member per direction */
    uint8_t one[2];                   /* the member seen per direction (0: none), unless many */
    uint8_t pending_rebal;            /* a move after join/weight awaiting the other direction */
    uint8_t fin : 2, rst : 1, affinity_bad : 1, sym_bad : 1,
        corrected : 1, rebalanced : 1, moved_failover : 1;  /* fin: bit side, a FIN seen */
    uint8_t client_is_canon_src : 1;  /* canonical src is the client */
    uint8_t many : 2;                 /* bit dir: that direction's members are in the block's mask */
    uint8_t epoch_old : 1;            /* a failover event came since its member sets' epoch began
                                       * (every one marks the whole table) */
};
_Static_assert(sizeof(struct vf_flow) <= 24, "the per-flow record grew past a cache line");

/* (the table's side record of a flow: 24 bytes with its links and hash,
 * 150k flows in two huge pages where a 16-byte mask pair made it three) */
struct vf_cold {
    uint64_t first_ns;
};

struct offender {
    char cid[40];
    char tuple[128];
    uint64_t t_ns;
    int members[4];
    unsigned nmembers;
};

struct check_res {
    bool judged, pass;
    char message[256];
    uint64_t violations;
    struct offender *off;
    unsigned noff;
};

struct ev_res {
    uint64_t t_ns;
    int sgm;
    uint64_t affected, survived, lost;
    double *gaps;            /* ms, survivors */
    size_t ngaps, capgaps;
};

struct member_res {
    int id;
    unsigned weight;          /* as configured (capset.json or --weights) */
    uint64_t flows, packets;
    double expected;          /* flows it should own, given who was up with what weight */
    unsigned cur_weight;      /* now, after weight events */
    bool up;                  /* now, after down/up/join events */
};

struct vf_report {
    struct vf_thresholds t;
    uint64_t flows, packets, non_ip, not_parsed;
    uint64_t rebalanced, corrected, failover_moves;
    struct check_res chk[VF_NCHECKS];
    struct ev_res *ev;        /* one per sgm_down event, as many as the file has */
    unsigned nev;
    uint64_t ts_backwards;    /* packets stamped earlier than the one before in their file */
    int back_sgm;             /* the first of them: member and packet number (1-based) */
    uint64_t back_pkt;
    struct member_res m[VF_MAX_MEMBERS];
    unsigned nm;
    double max_dev_pct;
    json_t *loss;             /* vf_loss's report, NULL without link captures */
    bool pass;
};

/* ---- thresholds ---- */

void vf_thresholds_default(struct vf_thresholds *t)
{
    memset(t, 0, sizeof(*t));
    t->max_gap_ms = 300;
    t->max_balance_pct = 10;
    t->min_flows_per_sgm = 1000;
    t->idle_ns = 2000000000ULL;
    t->max_offenders = 20;
    t->max_loss_pct = -1;
}

/* ---- helpers ---- */

static int member_index(const struct vf_report *r, int id)
{
    for (unsigned i = 0; i < r->nm; i++)
        if (r->m[i].id == id)
            return (int)i;
    return -1;
}

static void add_offender(struct vf_report *r, struct check_res *c, const struct bt_flow_key *k,
                         uint64_t t_ns, const int *members, unsigned n)
{
    struct offender *o;

    c->violations++;
    if (c->noff >= r->t.max_offenders)
        return;
    if (!c->off && !(c->off = calloc(r->t.max_offenders, sizeof(*c->off))))
        return;
    o = &c->off[c->noff++];
    bt_community_id(k, 0, o->cid, sizeof(o->cid));
    bt_flow_key_fmt(k, o->tuple, sizeof(o->tuple));
    o->t_ns = t_ns;
    o->nmembers = n > 4 ? 4 : n;
    memcpy(o->members, members, o->nmembers * sizeof(int));
}

static unsigned mask_members(uint64_t mask, int *out, unsigned max)
{
    unsigned n = 0;

    for (int id = 1; id <= 64 && n < max; id++)
        if (mask & (1ULL << (id - 1)))
            out[n++] = id;
    return n;
}

/* ---- the pass ---- */

struct pass {
    struct vf_report *r;
    struct vf_ftab *ft;
    struct bt_event *events;
    size_t nevents;
    size_t next_event;        /* first event not yet applied */
    uint64_t next_event_ns;   /* its time (UINT64_MAX: none left) */
    struct bt_correction *corr;
    size_t ncorr;
    struct vf_nat *nat;       /* hide-NAT halves to join, NULL without nat.jsonl */
    struct vf_delivered *dl;  /* the link captures: when each flow last crossed (NULL: none, or no sgm_down) */
    uint64_t down_mask;       /* members down now */
    uint64_t down_since[65];  /* when each went down */
    uint64_t last_rebalance;  /* time of the latest sgm_join/weight event (0: none) */
    uint64_t mpackets[VF_MAX_MEMBERS + 1];  /* packets per member id (into the report at the end) */
    double up_weight;         /* sum of the weights of members up now */
    int8_t midx[VF_MAX_MEMBERS + 1];  /* member id -> index in the report, -1 */
    /* failover records: a growable list per affected flow (as many events
     * as affect it), lists reused through a free list */
    struct fev_list *fev;
    uint32_t nblocks, capblocks;
    uint32_t *freeb;
    uint32_t nfree;
    bool oom;
    uint32_t full_at;         /* flows in the table when it could take no more
                               * short of FLOW_CAPACITY (0: never) */
    uint64_t idle_ns;
    uint64_t next_sweep_ns;   /* sweep idle flows out when the stream gets here */
    uint64_t attention_ns;    /* the lower of next_event_ns and next_sweep_ns: a
                               * packet stamped before it reaches neither */
    uint64_t since_sweep;     /* packets since the last sweep */
    uint64_t left_by_sweep;   /* flows the last sweep left in the table */
    uint64_t min_last;        /* no flow in the table was last seen before this
                               * (UINT64_MAX: none); last_ns only grows */
    struct bt_flow_key *swept;
    size_t nswept, capswept;
};

struct fev_list {
    struct flow_ev *v;
    uint32_t n, cap;
    uint64_t mask[2];         /* members per direction, where the flow's many says so */
};

static struct flow_ev *flow_evs(const struct pass *ps, const struct vf_flow *f)
{
    return f->evblock ? ps->fev[f->evblock - 1].v : NULL;
}

static unsigned flow_nev(const struct pass *ps, const struct vf_flow *f)
{
    return f->evblock ? ps->fev[f->evblock - 1].n : 0;
}

/* Gives f a block (no failover records, masks 0): 0, or -ENOMEM. */
static int flow_evs_alloc(struct pass *ps, struct vf_flow *f)
{
    uint32_t b;

    if (ps->nfree) {
        b = ps->freeb[--ps->nfree];
    } else {
        if (ps->nblocks == ps->capblocks) {
            uint32_t cap = ps->capblocks ? ps->capblocks * 2 : 1024;
            struct fev_list *n = realloc(ps->fev, (size_t)cap * sizeof(*n));
            uint32_t *fr = n ? realloc(ps->freeb, (size_t)cap * sizeof(*fr)) : NULL;
            if (n) {
                memset(n + ps->capblocks, 0, (size_t)(cap - ps->capblocks) * sizeof(*n));
                ps->fev = n;
            }
            if (!fr)
                return -ENOMEM;
            ps->freeb = fr;
            ps->capblocks = cap;
        }
        b = ps->nblocks++;
    }
    f->evblock = b + 1;
    return 0;
}

static void flow_evs_release(struct pass *ps, struct vf_flow *f)
{
    if (f->evblock) {
        struct fev_list *l = &ps->fev[f->evblock - 1];
        l->n = 0;  /* its allocation is kept for the next */
        l->mask[0] = l->mask[1] = 0;
        ps->freeb[ps->nfree++] = f->evblock - 1;
        f->evblock = 0;
    }
}

static int corr_cmp(const void *a, const void *b)
{
    const struct bt_correction *x = a, *y = b;
    int c = memcmp(x->src, y->src, 16);

    if (c)
        return c;
    if ((c = memcmp(x->dst, y->dst, 16)))
        return c;
    if (x->sport != y->sport)
        return x->sport < y->sport ? -1 : 1;
    if (x->dport != y->dport)
        return x->dport < y->dport ? -1 : 1;
    if (x->from != y->from)
        return x->from - y->from;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

/* Was this packet (directional key k, on member m, at t) forwarded by the
 * correction layer? Matched on tuple and member, within 1 ms of its record.
 * The member it went to in *to (0: not corrected). */
static bool is_corrected(const struct pass *ps, const struct bt_flow_key *k, int m, uint64_t t, int *to)
{
    *to = 0;
    struct bt_correction key;
    size_t lo = 0, hi = ps->ncorr;

    if (!ps->ncorr)
        return false;
    memset(&key, 0, sizeof(key));
    memcpy(key.src, k->src, 16);
    memcpy(key.dst, k->dst, 16);
    key.sport = k->sport;
    key.dport = k->dport;
    key.from = m;
    key.t_ns = t > 1000000 ? t - 1000000 : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (corr_cmp(&ps->corr[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ps->ncorr) {
        const struct bt_correction *c = &ps->corr[lo];
        if (memcmp(c->src, k->src, 16) == 0 && memcmp(c->dst, k->dst, 16) == 0 &&
            c->sport == k->sport && c->dport == k->dport && c->from == m && c->t_ns <= t + 1000000) {
            *to = c->to;
            return true;
        }
    }
    return false;
}

static struct vf_cold *cold_of(const struct pass *ps, const struct vf_flow *f)
{
    return vf_ftab_cold(ps->ft, f);
}

/* The members that saw direction dir of f in this epoch, as a mask. */
static uint64_t dir_members(const struct pass *ps, const struct vf_flow *f, int dir)
{
    if (f->many & (1u << dir))
        return ps->fev[f->evblock - 1].mask[dir];
    return f->one[dir] ? 1ULL << (f->one[dir] - 1) : 0;
}

/* member saw direction dir of f */
static inline void dir_add(struct pass *ps, struct vf_flow *f, int dir, int member)
{
    if (f->one[dir] == member && !(f->many & (1u << dir)))
        return;  /* the common case: the member it has been on */
    if (f->many & (1u << dir)) {
        ps->fev[f->evblock - 1].mask[dir] |= 1ULL << (member - 1);
    } else if (!f->one[dir]) {
        f->one[dir] = (uint8_t)member;
    } else {
        if (!f->evblock && flow_evs_alloc(ps, f) < 0) {
            ps->oom = true;  /* the pass fails with ENOMEM */
            return;
        }
        ps->fev[f->evblock - 1].mask[dir] = 1ULL << (f->one[dir] - 1) | 1ULL << (member - 1);
        f->many |= 1u << dir;
    }
}

/* Symmetry is judged per epoch (the period between failover events). */
static void close_epoch(struct pass *ps, struct vf_flow *f, const struct bt_flow_key *k)
{
    struct vf_report *r = ps->r;
    uint64_t c2s = dir_members(ps, f, DIR_C2S), s2c = dir_members(ps, f, DIR_S2C);

    if (c2s && s2c && !(c2s & s2c) && !f->sym_bad) {
        if (!f->corrected) {
            int mem[4];
            unsigned n = mask_members(c2s, mem, 2);
            n += mask_members(s2c, mem + n, 2);
            f->sym_bad = 1;
            add_offender(r, &r->chk[1], k, cold_of(ps, f)->first_ns, mem, n);
        }
    }
    f->one[DIR_C2S] = f->one[DIR_S2C] = 0;
    f->many = 0;
}

/* With the link captures: did the flow cross the cluster after event ev
 * at t (TCP both ways, else either)? Both ends retransmitting into a new
 * member that has no state for the flow are heard on it in both
 * directions, and nothing gets through (found with real TCP stacks through
 * baton-gateway live). A packet that left after t counts only if it
 * entered by the flow's last packet on a member (last_ns): one of a later
 * connection on the same 5-tuple does not make a stalled one go on (found
 * in review). Past the events the loss pass keeps, the last exit of the
 * 5-tuple is asked. A flow the links never saw (a key they hold
 * otherwise) is not judged here. */
static bool crossed(const struct pass *ps, const struct bt_flow_key *k, unsigned ev, uint64_t t,
                    uint64_t last_ns, bool stateless)
{
    uint64_t v[2];
    int r;

    if (!ps->dl)
        return true;
    if ((r = vf_delivered_after(ps->dl, k, ev, v)) > 0) {
        bool a = v[0] && v[0] - 1 <= last_ns, b = v[1] && v[1] - 1 <= last_ns;
        return stateless ? a || b : a && b;
    }
    if (r == 0 || !vf_delivered_last(ps->dl, k, v))
        return true;
    return stateless ? v[0] > t || v[1] > t : v[0] > t && v[1] > t;
}

/* A flow ends: judge what only its end can tell, then forget it. */
static void finalize(struct pass *ps, const struct bt_flow_key *k, struct vf_flow *f)
{
    struct vf_report *r = ps->r;
    bool stateless = k->proto != 6;

    close_epoch(ps, f, k);
    if (f->pending_rebal) {
        /* the move after a join/weight never showed the other direction:
         * only one direction existed; count it as rebalanced */
        r->rebalanced++;
        f->pending_rebal = 0;
    }
    r->flows++;
    if (f->corrected)
        r->corrected++;  /* flows some of whose packets the cluster corrected */
    int mi = ps->midx[f->owner];
    if (mi >= 0)
        r->m[mi].flows++;
    struct flow_ev *evs = flow_evs(ps, f);
    for (unsigned i = 0, nev = flow_nev(ps, f); i < nev; i++) {
        struct flow_ev *fe = &evs[i];
        struct ev_res *er = &r->ev[fe->ev];
        /* UDP and ICMP count only if they also have packets after T */
        if (stateless && !fe->first_after)
            continue;
        er->affected++;
        /* a TCP flow goes on only if both ends are heard after T: a client
         * retransmitting into a member that dropped its state is not */
        bool both = stateless || fe->dirs == 3;
        if (fe->first_after && fe->member_after && fe->member_after != er->sgm && !fe->other &&
            !fe->rst && both && crossed(ps, k, fe->ev, er->t_ns, f->last_ns, stateless)) {
            er->survived++;
            if (er->ngaps == er->capgaps) {
                size_t cap = er->capgaps ? er->capgaps * 2 : 256;
                double *g = realloc(er->gaps, cap * sizeof(*g));
                if (g) {
                    er->gaps = g;
                    er->capgaps = cap;
                }
            }
            if (er->ngaps < er->capgaps)
                er->gaps[er->ngaps++] = (double)(fe->first_after - fe->last_before) / 1e6;
        } else {
            int mem[2] = {er->sgm, fe->member_after};
            er->lost++;
            add_offender(r, &r->chk[2], k, fe->last_before, mem, fe->member_after ? 2 : 1);
        }
    }
    flow_evs_release(ps, f);
}

static void expire_cb(const struct bt_flow_key *k, void *v, void *arg)
{
    finalize(arg, k, v);
}

/* Ended by idling at now: no packet for more than the idle timeout. */
static bool idle_ended(const struct pass *ps, const struct vf_flow *f, uint64_t now)
{
    return now > ps->idle_ns && f->last_ns < now - ps->idle_ns;
}

struct sweep_ctx {
    struct pass *ps;
    uint64_t now;
};

static void sweep_cb(const struct bt_flow_key *k, void *v, void *arg)
{
    struct sweep_ctx *c = arg;
    struct pass *ps = c->ps;

    const struct vf_flow *f = v;

    if (!idle_ended(ps, f, c->now)) {
        if (f->last_ns < ps->min_last)
            ps->min_last = f->last_ns;
        return;
    }
    if (ps->nswept == ps->capswept) {
        size_t cap = ps->capswept ? ps->capswept * 2 : 4096;
        struct bt_flow_key *n = realloc(ps->swept, cap * sizeof(*n));
        if (!n) {
            ps->oom = true;
            ps->min_last = 0;
            return;
        }
        ps->swept = n;
        ps->capswept = cap;
    }
    finalize(ps, k, v);
    ps->swept[ps->nswept++] = *k;
}

static void set_attention(struct pass *ps)
{
    ps->attention_ns =
        ps->next_event_ns < ps->next_sweep_ns ? ps->next_event_ns : ps->next_sweep_ns;
}

static void sweep_walk(struct pass *ps, uint64_t now)
{
    struct sweep_ctx c = {ps, now};

    ps->next_sweep_ns = now + ps->idle_ns / 4;
    set_attention(ps);
    ps->since_sweep = 0;
    ps->nswept = 0;
    /* no flow was last seen before now - idle: the walk would find nothing
     * (and change nothing), so it is left out; a random cache line per
     * flow in the table saved */
    if (!(now > ps->idle_ns && ps->min_last < now - ps->idle_ns)) {
        ps->left_by_sweep = vf_ftab_count(ps->ft);
        return;
    }
    ps->min_last = UINT64_MAX;  /* sweep_cb takes it down to the flows that stay */
    vf_ftab_foreach(ps->ft, sweep_cb, &c);
    for (size_t i = 0; i < ps->nswept; i++) {
        void *v = vf_ftab_lookup(ps->ft, &ps->swept[i], vf_ftab_hash(&ps->swept[i]));
        if (v)
            vf_ftab_remove(ps->ft, v);
    }
    ps->left_by_sweep = vf_ftab_count(ps->ft);
}

/* Judges and frees the flows that ended by idling, in batches: when the
 * stream has advanced by a quarter of the idle timeout and at least as many
 * packets came as the last sweep left flows (a sweep walks those and at most
 * one new flow per packet since: O(1) per packet), or when the table is
 * full (force). */
static inline void sweep(struct pass *ps, uint64_t now, bool force)
{
    ps->since_sweep++;
    if (!force && (now < ps->next_sweep_ns || ps->since_sweep < ps->left_by_sweep))
        return;
    sweep_walk(ps, now);
}

struct mark_ctx {
    struct pass *ps;
    uint32_t idx;
    int sgm;
    uint64_t t;
};

static void mark_cb(const struct bt_flow_key *k, void *v, void *arg)
{
    struct mark_ctx *c = arg;
    struct vf_flow *f = v;

    (void)k;
    /* a new epoch for every flow: on_packet closes the old one at its next
     * packet, and on_packet_fast judges none of them until then */
    f->epoch_old = 1;
    f->fast[0] = f->fast[1] = 0;
    /* carried by the dead member, and not ended before T */
    if (f->cur[DIR_C2S] != c->sgm && f->cur[DIR_S2C] != c->sgm)
        return;
    if (f->rst || f->fin == 3 || idle_ended(c->ps, f, c->t))
        return;
    if (!f->evblock && flow_evs_alloc(c->ps, f) < 0) {
        c->ps->oom = true;
        return;
    }
    struct fev_list *l = &c->ps->fev[f->evblock - 1];
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        struct flow_ev *nv = realloc(l->v, (size_t)cap * sizeof(*nv));
        if (!nv) {
            c->ps->oom = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    struct flow_ev *fe = &l->v[l->n++];
    memset(fe, 0, sizeof(*fe));
    fe->ev = c->idx;
    fe->last_before = f->last_ns;
}

static void mark_affected(struct pass *ps, uint32_t idx, int sgm, uint64_t t)
{
    struct mark_ctx c = {ps, idx, sgm, t};

    vf_ftab_foreach(ps->ft, mark_cb, &c);
}

/* Who is up, with what weight: the expected shares of new flows follow it. */
static void set_member(struct pass *ps, int id, bool up, int weight)
{
    struct vf_report *r = ps->r;
    int mi = member_index(r, id);

    if (mi < 0)
        return;
    r->m[mi].up = up;
    if (weight >= 0)
        r->m[mi].cur_weight = (unsigned)weight;
    ps->up_weight = 0;
    for (unsigned i = 0; i < r->nm; i++)
        if (r->m[i].up)
            ps->up_weight += r->m[i].cur_weight;
}

/* Applies every event with t <= now (the stream has reached it). */
static void apply_events(struct pass *ps, uint64_t now)
{
    while (ps->next_event < ps->nevents && ps->events[ps->next_event].t_ns <= now) {
        const struct bt_event *ev = &ps->events[ps->next_event++];
        struct vf_report *r = ps->r;
        switch (ev->kind) {
        case BT_EV_SGM_DOWN: {
            /* r->ev has a record per sgm_down (counted before the pass) */
            struct ev_res *er = &r->ev[r->nev];
            uint32_t idx = r->nev++;
            er->t_ns = ev->t_ns;
            er->sgm = ev->sgm;
            ps->down_mask |= 1ULL << (ev->sgm - 1);
            set_member(ps, ev->sgm, false, -1);
            ps->down_since[ev->sgm] = ev->t_ns;
            /* mark the open flows the dead member carried */
            mark_affected(ps, idx, ev->sgm, ev->t_ns);
            break;
        }
        case BT_EV_SGM_UP:
            ps->down_mask &= ~(1ULL << (ev->sgm - 1));
            set_member(ps, ev->sgm, true, -1);
            break;
        case BT_EV_SGM_JOIN:
            /* a member that went down and joins again is alive from now */
            ps->down_mask &= ~(1ULL << (ev->sgm - 1));
            ps->last_rebalance = ev->t_ns ? ev->t_ns : 1;
            set_member(ps, ev->sgm, true, ev->weight);
            break;
        case BT_EV_WEIGHT: {
            /* a new weight; a member that is down stays down */
            int mi = member_index(r, ev->sgm);
            ps->last_rebalance = ev->t_ns ? ev->t_ns : 1;
            set_member(ps, ev->sgm, mi >= 0 && r->m[mi].up, ev->weight);
            break;
        }
        case BT_EV_POLICY:
            break;
        }
    }
    ps->next_event_ns = ps->next_event < ps->nevents ? ps->events[ps->next_event].t_ns : UINT64_MAX;
    set_attention(ps);
}

/* The directional key of a packet as on the wire: with NAT the one read
 * ahead (wk), else the canonical key turned back. */
static const struct bt_flow_key *wire_key(const struct vf_pkt *pk, const struct bt_flow_key *wk,
                                          struct bt_flow_key *buf)
{
    if (wk)
        return wk;
    vf_pkt_wire_key(pk, buf);
    return buf;
}

/* One flow packet (pk read ahead; wk: with NAT, its key as on the wire,
 * else NULL), f its flow in the table or NULL: all but on_packet_fast's
 * case. */
static __attribute__((noinline)) void on_packet(struct pass *ps, const struct vf_pkt *pk,
                                                const struct bt_flow_key *wk, struct vf_flow *f)
{
    struct vf_report *r = ps->r;
    const struct vf_pkt *p = pk;
    const struct bt_flow_key *ckp = &pk->ck;
    int member = pk->member;
    uint64_t ts = pk->ts;
    int swapped = (pk->flags & VF_PKT_SWAPPED) != 0, dir;

    /* idle for longer than the timeout: that flow ended, this starts one */
    if (f && idle_ended(ps, f, ts)) {
        finalize(ps, ckp, f);
        vf_ftab_remove(ps->ft, f);
        f = NULL;
    }
    /* a new SYN after the flow ended by FIN both ways or RST starts a new flow */
    if (f && (f->rst || f->fin == 3) && p->proto == 6 &&
        (p->tcp_flags & (BT_TCP_SYN | BT_TCP_ACK)) == BT_TCP_SYN) {
        finalize(ps, ckp, f);
        vf_ftab_remove(ps->ft, f);
        f = NULL;
    }
    if (!f) {
        f = vf_ftab_insert(ps->ft, ckp, pk->hash);
        if (!f) {
            sweep(ps, ts, true);
            f = vf_ftab_insert(ps->ft, ckp, pk->hash);
        }
        if (!f) {
            /* full short of FLOW_CAPACITY: the address space was limited
             * (the table mapped fewer entries, or its index could not
             * grow); an error, not a different result */
            uint32_t in_table = vf_ftab_count(ps->ft);
            if (in_table < FLOW_CAPACITY && !ps->full_at)
                ps->full_at = in_table ? in_table : 1;
            r->not_parsed++;  /* table full: counted, never silently */
            return;
        }
        cold_of(ps, f)->first_ns = ts;
        if (ts < ps->min_last)
            ps->min_last = ts;
        /* the owner is the first member that saw it alive: a SYN the
         * distributor still sent to a dead member did not open it there */
        bool dead_now = (ps->down_mask & (1ULL << (member - 1))) && ps->down_since[member] <= ts;
        f->owner = dead_now ? 0 : (uint8_t)member;
        /* each member's expected share of this flow: weight / sum of the
         * weights of the members up when it started */
        if (ps->up_weight > 0)
            for (unsigned i = 0; i < r->nm; i++)
                if (r->m[i].up)
                    r->m[i].expected += r->m[i].cur_weight / ps->up_weight;
        /* the header bits bt_client_side reads without client networks */
        struct bt_parsed hp = {.proto = p->proto, .tcp_flags = p->tcp_flags,
                               .flags = p->flags & VF_PKT_PORTS ? BT_PF_PORTS : 0};
        enum bt_client_verdict v = bt_client_side(&hp, NULL, 0);
        /* the first packet's source is the client unless a SYN says otherwise */
        bool src_is_client = v != BT_CLIENT_DST;
        f->client_is_canon_src = (uint8_t)(src_is_client == !swapped);
    }
    /* direction relative to the client */
    bool from_canon_src = !swapped;
    dir = from_canon_src == (bool)f->client_is_canon_src ? DIR_C2S : DIR_S2C;
    if (f->epoch_old) {
        close_epoch(ps, f, ckp);
        f->epoch_old = 0;
    }
    if (!f->owner && !((ps->down_mask & (1ULL << (member - 1))) && ps->down_since[member] <= ts))
        f->owner = (uint8_t)member;
    ps->mpackets[member]++;
    bool corrected = false;
    int corr_to = 0;
    if (ps->ncorr) {
        struct bt_flow_key wbuf;
        corrected = is_corrected(ps, wire_key(pk, wk, &wbuf), member, ts, &corr_to);
    }
    /* a member that an event says is dead saw nothing: what the distributor
     * still sends it before noticing does not make a flow asymmetric */
    bool into_dead = (ps->down_mask & (1ULL << (member - 1))) && ps->down_since[member] <= ts;
    if (corrected)
        f->corrected = 1;
    else if (!into_dead)
        dir_add(ps, f, dir, member);

    /* failover bookkeeping for events this flow is affected by */
    struct flow_ev *evs = flow_evs(ps, f);
    for (unsigned i = 0, nev = flow_nev(ps, f); i < nev; i++) {
        struct flow_ev *fe = &evs[i];
        uint64_t T = r->ev[fe->ev].t_ns;
        /* a packet the correction layer forwarded is handled where it went:
         * the failed member, restored, hands its flows' packets to the
         * members that took them over (found in review: a restore before
         * the retransmissions made every survivor "lost") */
        int at = corrected && corr_to > 0 ? corr_to : member;
        /* what the distributor still delivers to the dead member before it
         * notices (the detection window) is not the flow going on */
        if (ts < T || at == r->ev[fe->ev].sgm)
            continue;
        fe->dirs |= (uint8_t)(1u << dir);
        if (!fe->first_after) {
            fe->first_after = ts;
            fe->member_after = (uint8_t)at;
        } else if (fe->member_after != at && !corrected) {
            /* a later failure of the member it went to moves it on: still
             * the flow going on, not a flow scattered over members */
            int ma = fe->member_after;
            if ((ps->down_mask & (1ULL << (ma - 1))) && ps->down_since[ma] <= ts)
                fe->member_after = (uint8_t)member;
            else
                fe->other = 1;
        }
        if (p->proto == 6 && (p->tcp_flags & BT_TCP_RST))
            fe->rst = 1;
    }

    /* affinity */
    uint8_t prev = f->cur[dir];
    if (!corrected && prev && prev != member) {
        bool prev_down = (ps->down_mask & (1ULL << (prev - 1))) && ps->down_since[prev] <= ts;
        if (prev_down) {
            r->failover_moves++;
            f->moved_failover = 1;
        } else if (ps->last_rebalance && ps->last_rebalance <= ts &&
                   ps->last_rebalance > cold_of(ps, f)->first_ns) {
            /* both directions must move together */
            uint8_t other = f->cur[!dir];
            if (f->pending_rebal && f->pending_rebal == member) {
                f->pending_rebal = 0;
                f->rebalanced = 1;
                r->rebalanced++;
            } else if (!other || other == prev) {
                f->pending_rebal = (uint8_t)member;
            } else if (!f->affinity_bad) {
                int mem[2] = {prev, member};
                f->affinity_bad = 1;
                add_offender(r, &r->chk[0], ckp, ts, mem, 2);
            }
        } else if (!f->affinity_bad) {
            int mem[2] = {prev, member};
            f->affinity_bad = 1;
            add_offender(r, &r->chk[0], ckp, ts, mem, 2);
        }
    } else if (!corrected && f->pending_rebal && prev == member && prev != f->pending_rebal) {
        /* the other direction stayed where it was: split, not a rebalance */
        if (f->cur[!dir] == f->pending_rebal && !f->affinity_bad) {
            int mem[2] = {member, f->pending_rebal};
            f->affinity_bad = 1;
            f->pending_rebal = 0;
            add_offender(r, &r->chk[0], ckp, ts, mem, 2);
        }
    }
    if (!corrected)
        f->cur[dir] = (uint8_t)member;
    if (p->proto == 6) {
        if (p->tcp_flags & BT_TCP_RST)
            f->rst = 1;
        if (p->tcp_flags & BT_TCP_FIN)
            f->fin |= 1u << swapped;
    }
    if (ts > f->last_ns)
        f->last_ns = ts;  /* a time stamp that went back does not make it older */
    /* which packets on_packet_fast may take from here: those of a side
     * whose direction is on the one member it has been on (so far this
     * epoch and now), of a flow not ended, owned, with no failover record,
     * no rebalance pending and no correction layer */
    bool ok = !ps->ncorr && f->owner && !flow_nev(ps, f) && !f->pending_rebal && !f->rst &&
              f->fin != 3;
    for (int side = 0; side < 2; side++) {
        int d = (side == 0) == (bool)f->client_is_canon_src ? DIR_C2S : DIR_S2C;
        f->fast[side] = ok && f->cur[d] == f->one[d] && !(f->many & (1u << d)) ? f->cur[d] : 0;
    }
}

/* Most packets: an open flow going on in this epoch where it was, no
 * failover record, no correction layer, no rebalance pending, and this
 * direction seen on this member alone so far (all of which f->fast[side]
 * says, not ended by idling). Everything on_packet does then comes down to
 * the counter, the TCP flags and the time (down members change nothing
 * there: the owner is known, the member set and the current member stay as
 * they are, and no move is judged). Inline; every other packet goes to
 * on_packet. */
static inline void on_packet_fast(struct pass *ps, const struct vf_pkt *pk,
                                  const struct bt_flow_key *wk, const void *hint)
{
    int member = pk->member;
    uint64_t ts = pk->ts;
    struct vf_flow *f = vf_ftab_lookup_hinted(ps->ft, &pk->ck, pk->hash, hint);

    unsigned side = pk->flags & VF_PKT_SWAPPED;

    if (f && f->fast[side] == member && !idle_ended(ps, f, ts)) {
        ps->mpackets[member]++;
        if (__builtin_expect((pk->tcp_flags & (BT_TCP_RST | BT_TCP_FIN)) && pk->proto == 6, 0)) {
            if (pk->tcp_flags & BT_TCP_RST)
                f->rst = 1;
            if (pk->tcp_flags & BT_TCP_FIN)
                f->fin |= 1u << side;
            if (f->rst || f->fin == 3)
                f->fast[0] = f->fast[1] = 0;  /* ended: a new SYN starts a flow */
        }
        if (ts > f->last_ns)
            f->last_ns = ts;
        return;
    }
    on_packet(ps, pk, wk, f);
}

static double percentile(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return v[i];
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void judge(struct vf_report *r)
{
    const struct vf_thresholds *t = &r->t;
    struct check_res *c;

    c = &r->chk[0];
    c->judged = true;
    c->pass = c->violations <= t->max_affinity;
    snprintf(c->message, sizeof(c->message),
             "expected at most %llu affinity violations, saw %llu (%llu failover moves, %llu rebalanced, %llu corrected)",
             (unsigned long long)t->max_affinity, (unsigned long long)c->violations,
             (unsigned long long)r->failover_moves, (unsigned long long)r->rebalanced,
             (unsigned long long)r->corrected);
    c = &r->chk[1];
    c->judged = true;
    c->pass = c->violations <= t->max_symmetry;
    snprintf(c->message, sizeof(c->message),
             "expected at most %llu asymmetric flows, saw %llu",
             (unsigned long long)t->max_symmetry, (unsigned long long)c->violations);

    c = &r->chk[2];
    uint64_t aff = 0, surv = 0, lost = 0;
    double maxgap = 0;
    for (unsigned i = 0; i < r->nev; i++) {
        struct ev_res *er = &r->ev[i];
        if (er->ngaps) /* gaps may be NULL then: qsort's is nonnull */
            qsort(er->gaps, er->ngaps, sizeof(double), dcmp);
        aff += er->affected;
        surv += er->survived;
        lost += er->lost;
        if (er->ngaps && er->gaps[er->ngaps - 1] > maxgap)
            maxgap = er->gaps[er->ngaps - 1];
    }
    c->judged = true;
    c->violations = lost;
    c->pass = lost <= t->max_lost && maxgap <= t->max_gap_ms;
    if (r->nev == 0)
        snprintf(c->message, sizeof(c->message), "no member failed (no sgm_down event)");
    else
        snprintf(c->message, sizeof(c->message),
                 "expected lost <= %llu and max gap <= %.0f ms; saw %llu affected, %llu survived, %llu lost, max gap %.1f ms",
                 (unsigned long long)t->max_lost, t->max_gap_ms, (unsigned long long)aff,
                 (unsigned long long)surv, (unsigned long long)lost, maxgap);

    c = &r->chk[3];
    bool enough = r->nm > 0 && r->flows > 0;
    r->max_dev_pct = 0;
    int worst = r->nm ? r->m[0].id : 0;  /* named even when no member deviates */
    for (unsigned i = 0; i < r->nm; i++) {
        double exp_flows = r->m[i].expected, dev;
        if (exp_flows <= 0) {
            /* weight 0 all along: it expects nothing and is not what decides
             * whether balance is judged, but every flow it owns is a flow the
             * distributor should not have given it: measured against an
             * expectation of one flow */
            if (!r->m[i].flows)
                continue;
            dev = (double)r->m[i].flows * 100.0;
        } else {
            if (exp_flows < (double)t->min_flows_per_sgm)
                enough = false;
            dev = fabs((double)r->m[i].flows - exp_flows) / exp_flows * 100.0;
        }
        if (dev > r->max_dev_pct) {
            r->max_dev_pct = dev;
            worst = r->m[i].id;
        }
    }
    c->judged = enough;
    c->pass = !enough || r->max_dev_pct <= t->max_balance_pct;
    if (enough)
        snprintf(c->message, sizeof(c->message),
                 "expected every member within %.1f%% of its weight share; worst sgm %d off by %.2f%%",
                 t->max_balance_pct, worst, r->max_dev_pct);
    else
        snprintf(c->message, sizeof(c->message),
                 "not judged: some member expects fewer than %llu flows (max deviation %.2f%%)",
                 (unsigned long long)t->min_flows_per_sgm, r->max_dev_pct);
    c = &r->chk[4];
    c->judged = r->loss && t->max_loss_pct >= 0;
    c->pass = true;
    if (r->loss) {
        double lc = json_real_value(json_object_get(json_object_get(r->loss, "c2s"), "loss_pct"));
        double ls = json_real_value(json_object_get(json_object_get(r->loss, "s2c"), "loss_pct"));
        if (c->judged)
            c->pass = lc <= t->max_loss_pct && ls <= t->max_loss_pct;
        snprintf(c->message, sizeof(c->message),
                 "%s%.3f%% loss client-to-server, %.3f%% server-to-client, %lld RSTs injected",
                 c->judged ? "" : "not judged (no threshold): ", lc, ls,
                 (long long)json_integer_value(json_object_get(r->loss, "injected_rsts")));
        if (c->judged && !c->pass)
            snprintf(c->message + strlen(c->message), sizeof(c->message) - strlen(c->message),
                     "; expected at most %.3f%% each way", t->max_loss_pct);
        json_int_t early = json_integer_value(json_object_get(r->loss, "left_before_entering"));
        if (early)
            snprintf(c->message + strlen(c->message), sizeof(c->message) - strlen(c->message),
                     "; %lld packets left before they entered: the link captures' clocks differ "
                     "by up to %.3f ms (not loss)", (long long)early,
                     json_real_value(json_object_get(r->loss, "clock_skew_max_us")) / 1e3);
    } else {
        snprintf(c->message, sizeof(c->message), "not judged: no client and server captures");
    }
    r->pass = true;
    for (unsigned i = 0; i < VF_NCHECKS; i++)
        r->pass = r->pass && r->chk[i].pass;
}

/* ---- reading and judging packets ---- */

/* What the reading side of the pass needs (in the checks' thread or in its
 * own). */
struct feed {
    struct bt_pcap_merge *m;
    const int *links, *ids;
    const struct vf_nat *nat;
    struct vf_report *r;      /* ts_backwards and its first packet: written here only */
    struct bt_err *e;
    uint64_t last_ts[VF_MAX_MEMBERS];
};

/* Reads up to max packets of the merged stream (of any inputs),
 * decoded, keyed and hashed (none of which depends on the flows) into
 * pk[], and with NAT their keys as on the wire into wk[]; with pf (in the
 * checks' own thread) each flow's index slot prefetched as soon as its
 * packet is decoded: one at a time between decodes, not a burst of them
 * at once (which waits for free fill buffers). The count, 0 at the end,
 * -EBADMSG (e filled). */
enum { FEED_MAX = 64 };

static inline __attribute__((always_inline)) int feed_some(struct feed *fd, struct vf_pkt *pk,
                                                           struct bt_flow_key *wk, unsigned max,
                                                           const struct vf_ftab *pf)
{
    struct bt_pcap_rec rec[FEED_MAX];
    unsigned which[FEED_MAX];
    /* records of every input at once (runs of one input are ~1.5 records
     * in a capture set of a few members) */
    int got = bt_pcap_merge_next_mixed(fd->m, rec, which, max < FEED_MAX ? max : FEED_MAX, fd->e);

    if (got <= 0)
        return got;
    for (int i = 0; i < got; i++) {
        const struct bt_pcap_rec *rc = &rec[i];
        const unsigned w = which[i];
        if (rc->ts_ns < fd->last_ts[w]) {
            /* judged at the time it carries, in its file's order */
            if (!fd->r->ts_backwards++) {
                fd->r->back_sgm = fd->ids[w];
                fd->r->back_pkt = rc->index + 1;
            }
        } else {
            fd->last_ts[w] = rc->ts_ns;
        }
        vf_pkt_decode(rc->data, rc->caplen, fd->links[w], &pk[i]);
        pk[i].ts = rc->ts_ns;
        pk[i].member = (uint8_t)fd->ids[w];
        if (fd->nat && pk[i].kind == VF_PKT_IP) {
            struct bt_flow_key k;
            vf_pkt_wire_key(&pk[i], &wk[i]);
            k = wk[i];
            vf_nat_untranslate(fd->nat, &k, pk[i].ts);
            vf_pkt_set_key(&pk[i], &k);
        }
        if (pf && pk[i].kind == VF_PKT_IP)
            vf_ftab_prefetch(pf, pk[i].hash, 0);
    }
    return got;
}

/* One packet, in stream order: the events and sweeps its time reaches,
 * then the checks (hint: where its flow's entry was, or NULL; see
 * vf_ftab_lookup_hinted). */
static inline void judge_packet(struct pass *ps, const struct vf_pkt *pk,
                                const struct bt_flow_key *wk, const void *hint)
{
    struct vf_report *r = ps->r;

    if (pk->ts >= ps->attention_ns) {
        if (ps->next_event_ns <= pk->ts)
            apply_events(ps, pk->ts);
        sweep(ps, pk->ts, false);
    } else {
        ps->since_sweep++;  /* what sweep() does before next_sweep_ns */
    }
    r->packets++;
    if (pk->kind == VF_PKT_IP)
        on_packet_fast(ps, pk, ps->nat ? wk : NULL, hint);
    else if (pk->kind == VF_PKT_NON_IP)
        r->non_ip++;
    else
        r->not_parsed++;
}

/* Prefetch distances (in packets) of a flow's index slot and of its entry
 * before the packet is judged: the slot must be in cache when the entry's
 * prefetch reads it. */
enum { PF_SLOT = 48, PF_ENTRY = 16 };

/* always inlined: see vf_ftab_prefetch */
static inline __attribute__((always_inline)) void prefetch_slot(const struct pass *ps,
                                                                const struct vf_pkt *pk)
{
    if (pk->kind == VF_PKT_IP)
        vf_ftab_prefetch(ps->ft, pk->hash, 0);
}

/* The entry of pk's flow prefetched, and returned as the hint its judging
 * passes to the lookup (NULL: none). */
static inline __attribute__((always_inline)) const void *prefetch_entry(const struct pass *ps,
                                                                        const struct vf_pkt *pk)
{
    return pk->kind == VF_PKT_IP ? vf_ftab_prefetch_entry(ps->ft, pk->hash) : NULL;
}

/* The pass in one thread: a ring of packets read ahead (DPDK l3fwd
 * style), BURST at a time read and decoded with their flows' index slots
 * prefetched; PF_ENTRY packets before one is judged, the entry its slot
 * points at. The ring holds between PIPE - BURST and PIPE packets. */
static int pass_one_thread(struct pass *ps, struct feed *fd)
{
    enum { PIPE = 128, BURST = 64 };
    _Static_assert(PIPE - BURST > PF_ENTRY, "the ring covers the entry prefetch");
    struct vf_pkt ring[PIPE];
    struct bt_flow_key wring[PIPE];  /* with NAT: the keys as on the wire */
    const void *hint[PIPE] = {0};    /* by ring slot: its packet's entry prefetched (a slot
                                      * left from an earlier packet: a hint that misses) */
    unsigned head = 0, queued = 0;
    bool eof = false;

    for (;;) {
        if (!eof && queued <= PIPE - BURST) {
            for (unsigned want = BURST; want;) {
                unsigned at = (head + queued) & (PIPE - 1);
                unsigned room = PIPE - at < want ? PIPE - at : want;
                int got = feed_some(fd, &ring[at], &wring[at], room, ps->ft);
                if (got < 0)
                    return got;
                if (got == 0) {
                    eof = true;
                    break;
                }
                queued += (unsigned)got;
                want -= (unsigned)got;
            }
        }
        if (!queued)
            return 0;
        /* down to where the ring is refilled (at the end: all of it) */
        for (unsigned run = eof ? queued : queued - (PIPE - BURST); run; run--) {
            if (queued > PF_ENTRY) {
                unsigned at = (head + PF_ENTRY) & (PIPE - 1);
                hint[at] = prefetch_entry(ps, &ring[at]);
            }
            judge_packet(ps, &ring[head], &wring[head], hint[head]);
            head = (head + 1) & (PIPE - 1);
            queued--;
        }
    }
}

/* The pass in two threads: a reader thread reads and decodes blocks of
 * packets while this one judges the blocks before, in order (results are
 * those of one thread: the reader computes only what depends on the
 * packet alone). Blocks, not packets, are handed over, through a mutex and
 * a condition variable: a wait per few thousand packets, no spinning on a
 * machine whose cores other jobs want too. */
enum { HBLK = 2048, NHBLK = 4 };

struct hand {
    struct feed *fd;
    struct vf_pkt *pk;          /* NHBLK x HBLK */
    struct bt_flow_key *wk;     /* the same, with NAT */
    unsigned n[NHBLK];
    bool last[NHBLK];
    unsigned full;              /* blocks read, not yet judged */
    int rc;                     /* the reader's error */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *reader_main(void *arg)
{
    struct hand *h = arg;

    for (unsigned b = 0;; b = (b + 1) % NHBLK) {
        pthread_mutex_lock(&h->mu);
        while (h->full == NHBLK)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
        struct vf_pkt *pk = h->pk + (size_t)b * HBLK;
        struct bt_flow_key *wk = h->wk + (size_t)b * HBLK;
        unsigned n = 0;
        int got = 1;
        while (n < HBLK && (got = feed_some(h->fd, &pk[n], &wk[n], HBLK - n, NULL)) > 0)
            n += (unsigned)got;
        pthread_mutex_lock(&h->mu);
        h->n[b] = n;
        h->last[b] = got <= 0;
        if (got < 0)
            h->rc = got;
        h->full++;
        pthread_mutex_unlock(&h->mu);
        /* after the unlock: a waiter woken under the lock blocks on it at
         * once (voluntary context switches of a pass over the bench pcap:
         * ~1,500 that way, 600-800 this) */
        pthread_cond_broadcast(&h->cv);
        if (got <= 0)
            return NULL;
    }
}

static int pass_two_threads(struct pass *ps, struct feed *fd)
{
    struct hand h = {.fd = fd};
    pthread_t th;
    int rc = 0;
    enum { NHINT = 32 };
    _Static_assert((int)NHINT > (int)PF_ENTRY && !(NHINT & (NHINT - 1)), "the hint ring covers PF_ENTRY");
    const void *hint[NHINT] = {0};  /* as pass_one_thread's */

    h.pk = malloc((size_t)NHBLK * HBLK * sizeof(*h.pk));
    h.wk = malloc((size_t)NHBLK * HBLK * sizeof(*h.wk));
    if (!h.pk || !h.wk) {
        free(h.pk);
        free(h.wk);
        return pass_one_thread(ps, fd);
    }
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    if (pthread_create(&th, NULL, reader_main, &h) != 0) {
        rc = pass_one_thread(ps, fd);
        goto out;
    }
    for (unsigned b = 0;; b = (b + 1) % NHBLK) {
        pthread_mutex_lock(&h.mu);
        while (h.full == 0)
            pthread_cond_wait(&h.cv, &h.mu);
        unsigned n = h.n[b];
        bool last = h.last[b];
        pthread_mutex_unlock(&h.mu);
        const struct vf_pkt *pk = h.pk + (size_t)b * HBLK;
        const struct bt_flow_key *wk = h.wk + (size_t)b * HBLK;
        for (unsigned i = 0; i < n && i < PF_SLOT; i++)
            prefetch_slot(ps, &pk[i]);
        for (unsigned i = 0; i < n; i++) {
            if (i + PF_SLOT < n)
                prefetch_slot(ps, &pk[i + PF_SLOT]);
            if (i + PF_ENTRY < n)
                hint[(i + PF_ENTRY) & (NHINT - 1)] = prefetch_entry(ps, &pk[i + PF_ENTRY]);
            judge_packet(ps, &pk[i], &wk[i], hint[i & (NHINT - 1)]);
        }
        pthread_mutex_lock(&h.mu);
        h.full--;
        pthread_mutex_unlock(&h.mu);
        pthread_cond_broadcast(&h.cv);  /* after the unlock, as the reader's */
        if (last)
            break;
    }
    pthread_join(th, NULL);
    rc = h.rc;
out:
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
    free(h.pk);
    free(h.wk);
    return rc;
}

struct src {
    int id;
    char *path;
};

int vf_check(const struct vf_input *in, const struct vf_thresholds *t, struct vf_report **out,
             struct bt_err *e)
{
    struct vf_report *r = calloc(1, sizeof(*r));
    struct pass ps;
    struct bt_capset_meta meta;
    struct bt_pcap_reader *rd[VF_MAX_MEMBERS] = {0};
    int links[VF_MAX_MEMBERS], ids[VF_MAX_MEMBERS];
    char pathbuf[4096];
    unsigned n = 0;
    struct bt_pcap_merge *m = NULL;
    int rc = 0;

    memset(&ps, 0, sizeof(ps));
    ps.min_last = UINT64_MAX;
    if (!r)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    r->t = *t;
    ps.r = r;
    memset(&meta, 0, sizeof(meta));
    if (in->capset) {
        rc = bt_capset_read_meta(in->capset, &meta, e);
        if (rc < 0)
            goto out;
    }
    /* members: the capset's, then those given by hand (which override) */
    for (unsigned i = 0; i < meta.nmembers; i++) {
        r->m[r->nm].id = meta.ids[i];
        r->m[r->nm].weight = meta.weights[i];
        r->nm++;
    }
    for (unsigned i = 0; i < in->nsgm; i++) {
        int mi = member_index(r, in->sgm_id[i]);
        if (mi < 0) {
            mi = (int)r->nm++;
            r->m[mi].id = in->sgm_id[i];
            r->m[mi].weight = 1;
        }
    }
    for (unsigned i = 0; i < in->nweights; i++) {
        int mi = member_index(r, in->weight_id[i]);
        if (mi < 0) {
            rc = bt_err_set(e, "--weights: member %d has no capture", in->weight_id[i]);
            goto out;
        }
        r->m[mi].weight = in->weight[i];
    }
    if (r->nm == 0) {
        rc = bt_err_set(e, "no member captures: give --capset DIR or --sgm ID=FILE");
        goto out;
    }
    {
        unsigned long wsum = 0;
        for (unsigned i = 0; i < r->nm; i++)
            wsum += r->m[i].weight;
        /* nothing to measure shares against: a balance check that cannot fail */
        if (wsum == 0) {
            if (in->nweights)
                rc = bt_err_set(e, "--weights: every member's weight is 0 (balance needs a "
                                "member with a weight above 0)");
            else
                rc = bt_err_set(e, "%s/capset.json: members: every member's weight is 0 (balance "
                                "needs a member with a weight above 0)", in->capset);
            goto out;
        }
    }
    for (unsigned i = 0; i < r->nm; i++) {
        const char *path = NULL;
        for (unsigned k = 0; k < in->nsgm; k++)
            if (in->sgm_id[k] == r->m[i].id)
                path = in->sgm_path[k];
        if (!path)
            path = bt_capset_sgm_path(in->capset, r->m[i].id, pathbuf, sizeof(pathbuf));
        rd[n] = bt_pcap_open(path, e);
        if (!rd[n]) {
            rc = -EINVAL;
            goto out;
        }
        links[n] = bt_pcap_linktype(rd[n]);
        {
            struct bt_parsed probe;
            if (bt_parse(NULL, 0, links[n], &probe) == BT_PARSE_UNSUPPORTED_LINK) {
                rc = bt_err_set(e, "%s: unsupported link type %d (use Ethernet, Linux SLL/SLL2, "
                                "raw IP or BSD loopback captures)", path, links[n]);
                n++;
                goto out;
            }
        }
        ids[n] = r->m[i].id;
        n++;
    }
    /* events and corrections */
    const char *evp = in->events;
    if (!evp && in->capset && (meta.files & BT_CAPSET_HAS_EVENTS))
        evp = bt_capset_path(in->capset, "events.jsonl", pathbuf, sizeof(pathbuf));
    if (evp && (rc = bt_events_read(evp, &ps.events, &ps.nevents, e)) < 0)
        goto out;
    for (size_t i = 0; i < ps.nevents; i++) {
        if (ps.events[i].kind != BT_EV_POLICY && member_index(r, ps.events[i].sgm) < 0) {
            rc = bt_err_set(e, "%s:%u: event names sgm %d, which has no capture", evp,
                            ps.events[i].line, ps.events[i].sgm);
            goto out;
        }
    }
    /* a member goes down once until it comes back (sgm_up or sgm_join): a
     * second sgm_down would count its flows twice */
    {
        const struct bt_event *down_by[VF_MAX_MEMBERS + 1] = {0};
        unsigned ndown = 0;
        for (size_t i = 0; i < ps.nevents; i++) {
            const struct bt_event *ev = &ps.events[i];
            if (ev->kind == BT_EV_SGM_UP || ev->kind == BT_EV_SGM_JOIN)
                down_by[ev->sgm] = NULL;
            if (ev->kind != BT_EV_SGM_DOWN)
                continue;
            if (down_by[ev->sgm]) {
                const struct bt_event *d = down_by[ev->sgm];
                rc = bt_err_set(e, "%s:%u: sgm_down: member %d is already down since t=%llu.%09llu "
                                "(line %u); an sgm_up must come between", evp, ev->line, ev->sgm,
                                (unsigned long long)(d->t_ns / 1000000000ULL),
                                (unsigned long long)(d->t_ns % 1000000000ULL), d->line);
                goto out;
            }
            down_by[ev->sgm] = ev;
            ndown++;
        }
        if (ndown && !(r->ev = calloc(ndown, sizeof(*r->ev)))) {
            rc = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
    }
    /* the members up at the start: all, but those that join later */
    for (unsigned i = 0; i < r->nm; i++) {
        r->m[i].up = true;
        r->m[i].cur_weight = r->m[i].weight;
        for (size_t k = 0; k < ps.nevents; k++)
            if (ps.events[k].kind == BT_EV_SGM_JOIN && ps.events[k].sgm == r->m[i].id)
                r->m[i].up = false;
    }
    set_member(&ps, r->m[0].id, r->m[0].up, -1);
    memset(ps.midx, -1, sizeof(ps.midx));
    for (unsigned i = 0; i < r->nm; i++)
        ps.midx[r->m[i].id] = (int8_t)i;
    const char *cp = in->corrections;
    if (!cp && in->capset && (meta.files & BT_CAPSET_HAS_CORRECTIONS))
        cp = bt_capset_path(in->capset, "corrections.jsonl", pathbuf, sizeof(pathbuf));
    if (cp) {
        if ((rc = bt_corrections_read(cp, &ps.corr, &ps.ncorr, e)) < 0)
            goto out;
        /* as for events: a correction between members without captures
         * could never be matched to a packet */
        for (size_t i = 0; i < ps.ncorr; i++) {
            int bad = ps.midx[ps.corr[i].from] < 0 ? ps.corr[i].from
                      : ps.midx[ps.corr[i].to] < 0 ? ps.corr[i].to : 0;
            if (bad) {
                rc = bt_err_set(e, "%s:%u: correction names sgm %d, which has no capture", cp,
                                ps.corr[i].line, bad);
                goto out;
            }
        }
        if (ps.ncorr) /* corr may be NULL then: qsort's is nonnull */
            qsort(ps.corr, ps.ncorr, sizeof(*ps.corr), corr_cmp);
    }
    const char *np = in->nat;
    if (!np && in->capset && (meta.files & BT_CAPSET_HAS_NAT))
        np = bt_capset_path(in->capset, "nat.jsonl", pathbuf, sizeof(pathbuf));
    if (np && !(ps.nat = vf_nat_load(np, e))) {
        rc = -EINVAL;
        goto out;
    }
    {
        char cbuf[4096], sbuf[4096];
        const char *cl = in->client, *sv = in->server;
        if (!cl && in->capset && (meta.files & BT_CAPSET_HAS_CLIENT))
            cl = bt_capset_path(in->capset, "client.pcap", cbuf, sizeof(cbuf));
        if (!sv && in->capset && (meta.files & BT_CAPSET_HAS_SERVER))
            sv = bt_capset_path(in->capset, "server.pcap", sbuf, sizeof(sbuf));
        /* the links come in pairs: one without the other is a capture set
         * that lost a file, not a cluster that lost nothing */
        if (in->capset && !in->client && !in->server &&
            !(meta.files & BT_CAPSET_HAS_CLIENT) != !(meta.files & BT_CAPSET_HAS_SERVER)) {
            rc = bt_err_set(e, "%s/capset.json: files: lists %s but not %s (the link captures "
                            "come in pairs; a side nothing reached is an empty capture)",
                            in->capset, cl ? "client.pcap" : "server.pcap",
                            cl ? "server.pcap" : "client.pcap");
            goto out;
        }
        if (t->max_loss_pct >= 0 && !(cl && sv)) {
            rc = bt_err_set(e, "a loss threshold (--max-loss-pct or expect.loss_pct) needs both "
                            "link captures; missing: %s%s%s", cl ? "" : "client.pcap",
                            !cl && !sv ? " and " : "", sv ? "" : "server.pcap");
            goto out;
        }
        if (cl && sv) {
            void *lj = NULL;
            /* the failover check asks the links when a flow last crossed
             * only when they are the set's own (one clock with its events:
             * link captures given apart, e.g. a tester's, may run on
             * another) */
            bool own = !in->client && !in->server;
            /* the sgm_down times in order: r->ev's indices as the pass
             * will give them (apply_events) */
            uint64_t evt[VF_DELIVERED_MAX_EV];
            unsigned nevt = 0;
            for (size_t k = 0; k < ps.nevents && nevt < VF_DELIVERED_MAX_EV; k++)
                if (ps.events[k].kind == BT_EV_SGM_DOWN)
                    evt[nevt++] = ps.events[k].t_ns;
            if ((rc = vf_loss_delivered(cl, sv, ps.nat, &lj, r->ev && own ? &ps.dl : NULL, evt, nevt, e)) < 0)
                goto out;
            r->loss = lj;
        } else if (in->client || in->server) {
            rc = bt_err_set(e, "--client and --server go together");
            goto out;
        }
    }
    ps.next_event_ns = ps.nevents ? ps.events[0].t_ns : UINT64_MAX;
    ps.attention_ns = 0;  /* next_sweep_ns 0: the first packet sweeps (an empty table) */
    /* no idle expiry in the table: sweep() and idle_ended() do it */
    ps.ft = vf_ftab_new(1u << 12, FLOW_CAPACITY, sizeof(struct vf_flow), sizeof(struct vf_cold));
    ps.idle_ns = t->idle_ns;
    m = bt_pcap_merge_new(rd, n);
    if (!ps.ft || !m) {
        rc = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    struct feed fd = {.m = m, .links = links, .ids = ids, .nat = ps.nat, .r = r, .e = e};
    unsigned threads = in->threads;
    if (threads == 0)
        threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
    rc = threads >= 2 ? pass_two_threads(&ps, &fd) : pass_one_thread(&ps, &fd);
    if (rc < 0)
        goto out;
    apply_events(&ps, UINT64_MAX);
    vf_ftab_foreach(ps.ft, expire_cb, &ps);
    for (unsigned i = 0; i < r->nm; i++)
        r->m[i].packets = ps.mpackets[r->m[i].id];
    if (ps.oom) {
        rc = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    if (ps.full_at) {
        rc = bt_err_setr(e, -ENOMEM,
                         "flow table full at %u concurrent flows (address space limited: "
                         "ulimit -v); raise the limit", ps.full_at);
        goto out;
    }
    judge(r);
    *out = r;
    r = NULL;
out:
    bt_pcap_merge_free(m);
    for (unsigned i = 0; i < n; i++)
        bt_pcap_close(rd[i]);
    vf_ftab_free(ps.ft);
    vf_delivered_free(ps.dl);
    free(ps.events);
    free(ps.corr);
    for (uint32_t i = 0; i < ps.nblocks; i++)
        free(ps.fev[i].v);
    free(ps.fev);
    free(ps.freeb);
    free(ps.swept);
    vf_nat_free(ps.nat);
    vf_report_free(r);
    return rc;
}

struct vf_report *vf_report_free(struct vf_report *r)
{
    if (!r)
        return NULL;
    for (unsigned i = 0; i < VF_NCHECKS; i++)
        free(r->chk[i].off);
    for (unsigned i = 0; i < r->nev; i++)
        free(r->ev[i].gaps);
    free(r->ev);
    json_decref(r->loss);
    free(r);
    return NULL;
}

bool vf_report_pass(const struct vf_report *r)
{
    return r->pass;
}

int vf_report_check(const struct vf_report *r, const char *name, bool *pass, const char **message)
{
    for (unsigned i = 0; i < VF_NCHECKS; i++) {
        if (strcmp(vf_check_names[i], name) == 0) {
            *pass = r->chk[i].pass;
            *message = r->chk[i].message;
            return r->chk[i].judged ? 1 : 0;
        }
    }
    return -ENOENT;
}

static json_t *offenders_json(const struct check_res *c)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < c->noff; i++) {
        const struct offender *o = &c->off[i];
        json_t *mem = json_array();
        for (unsigned k = 0; k < o->nmembers; k++)
            json_array_append_new(mem, json_integer(o->members[k]));
        json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:f}", "community_id", o->cid,
                                           "tuple", o->tuple, "members", mem, "t",
                                           (double)o->t_ns / 1e9));
    }
    return a;
}

void *vf_report_json(const struct vf_report *r)
{
    json_t *root = json_object(), *evs = json_array(), *per = json_array();
    uint64_t aff = 0, surv = 0, lost = 0;
    double maxgap = 0;

    for (unsigned i = 0; i < r->nev; i++) {
        const struct ev_res *er = &r->ev[i];
        double mx = er->ngaps ? er->gaps[er->ngaps - 1] : 0;
        aff += er->affected;
        surv += er->survived;
        lost += er->lost;
        if (mx > maxgap)
            maxgap = mx;
        json_array_append_new(
            evs, json_pack("{s:f, s:i, s:I, s:I, s:I, s:f, s:f, s:f}", "t", (double)er->t_ns / 1e9,
                           "sgm", er->sgm, "affected", (json_int_t)er->affected, "survived",
                           (json_int_t)er->survived, "lost", (json_int_t)er->lost, "max_gap_ms",
                           mx, "p50_gap_ms", percentile(er->gaps, er->ngaps, 50), "p99_gap_ms",
                           percentile(er->gaps, er->ngaps, 99)));
    }
    for (unsigned i = 0; i < r->nm; i++)
        json_array_append_new(
            per, json_pack("{s:i, s:I, s:I, s:f, s:f, s:i}", "sgm", r->m[i].id, "flows",
                           (json_int_t)r->m[i].flows, "packets", (json_int_t)r->m[i].packets,
                           "share_pct", r->flows ? 100.0 * (double)r->m[i].flows / (double)r->flows : 0.0,
                           "expected_pct", r->flows ? 100.0 * r->m[i].expected / (double)r->flows : 0.0,
                           "weight", (int)r->m[i].weight));
    json_object_set_new(root, "schema", json_integer(1));
    json_object_set_new(root, "pass", json_boolean(r->pass));
    json_object_set_new(root, "flows", json_integer((json_int_t)r->flows));
    json_object_set_new(root, "packets", json_integer((json_int_t)r->packets));
    json_object_set_new(root, "non_ip", json_integer((json_int_t)r->non_ip));
    json_object_set_new(root, "not_parsed", json_integer((json_int_t)r->not_parsed));
    json_object_set_new(root, "ts_backwards", json_integer((json_int_t)r->ts_backwards));
    json_object_set_new(root, "affinity",
                        json_pack("{s:b, s:I, s:I, s:I, s:I, s:s, s:o}", "pass", r->chk[0].pass,
                                  "violations", (json_int_t)r->chk[0].violations, "rebalanced",
                                  (json_int_t)r->rebalanced, "corrected",
                                  (json_int_t)r->corrected, "failover_moves",
                                  (json_int_t)r->failover_moves, "message", r->chk[0].message,
                                  "offenders", offenders_json(&r->chk[0])));
    json_object_set_new(root, "symmetry",
                        json_pack("{s:b, s:I, s:s, s:o}", "pass", r->chk[1].pass, "violations",
                                  (json_int_t)r->chk[1].violations, "message", r->chk[1].message,
                                  "offenders", offenders_json(&r->chk[1])));
    json_object_set_new(root, "failover",
                        json_pack("{s:b, s:o, s:I, s:I, s:I, s:f, s:s, s:o}", "pass",
                                  r->chk[2].pass, "events", evs, "affected", (json_int_t)aff,
                                  "survived", (json_int_t)surv, "lost", (json_int_t)lost,
                                  "max_gap_ms", maxgap, "message", r->chk[2].message,
                                  "offenders", offenders_json(&r->chk[2])));
    json_object_set_new(root, "balance",
                        json_pack("{s:b, s:b, s:f, s:s, s:o, s:[]}", "pass", r->chk[3].pass,
                                  "judged", r->chk[3].judged, "max_deviation_pct",
                                  r->max_dev_pct, "message", r->chk[3].message, "per_sgm", per,
                                  "offenders"));
    if (r->loss) {
        json_t *l = json_deep_copy(r->loss);
        json_object_set_new(l, "pass", json_boolean(r->chk[4].pass));
        json_object_set_new(l, "judged", json_boolean(r->chk[4].judged));
        json_object_set_new(l, "message", json_string(r->chk[4].message));
        json_object_set_new(root, "loss", l);
    }
    return root;
}

void vf_report_print(const struct vf_report *r, void *fp)
{
    FILE *f = fp;

    fprintf(f, "baton-verify: %llu flows, %llu packets on %u members (%llu non-IP ignored)\n",
            (unsigned long long)r->flows, (unsigned long long)r->packets, r->nm,
            (unsigned long long)r->non_ip);
    if (r->ts_backwards)
        fprintf(f, "  warning: %llu packets stamped earlier than the packet before them in their "
                "file (first: sgm %d, packet %llu); each is judged at the time it carries\n",
                (unsigned long long)r->ts_backwards, r->back_sgm,
                (unsigned long long)r->back_pkt);
    for (unsigned i = 0; i < VF_NCHECKS; i++) {
        const struct check_res *c = &r->chk[i];
        fprintf(f, "  %-9s %s  %s\n", vf_check_names[i],
                !c->judged ? "SKIP" : c->pass ? "PASS" : "FAIL", c->message);
        for (unsigned k = 0; k < c->noff && k < 5; k++) {
            fprintf(f, "            %s  %s  members", c->off[k].cid, c->off[k].tuple);
            for (unsigned j = 0; j < c->off[k].nmembers; j++)
                fprintf(f, " %d", c->off[k].members[j]);
            fprintf(f, "  t=%.6f\n", (double)c->off[k].t_ns / 1e9);
        }
    }
    for (unsigned i = 0; i < r->nev && i < 20; i++)
        fprintf(f, "  sgm %d down at %.3f s: %llu affected, %llu survived, %llu lost, max gap %.1f ms\n",
                r->ev[i].sgm, (double)r->ev[i].t_ns / 1e9, (unsigned long long)r->ev[i].affected,
                (unsigned long long)r->ev[i].survived, (unsigned long long)r->ev[i].lost,
                r->ev[i].ngaps ? r->ev[i].gaps[r->ev[i].ngaps - 1] : 0.0);
    if (r->nev > 20)
        fprintf(f, "  ... and %u more sgm_down events (each in --json failover.events)\n",
                r->nev - 20);
    fprintf(f, "verdict: %s\n", r->pass ? "PASS" : "FAIL");
}
