/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine: flow instances over templates, scheduled on the lib timer
 * wheel (open loop and closed loop) or round-robin (rate max, open loop),
 * rewritten with incremental checksums (RFC 1624), matched back on receive
 * (closed loop, through hide-NAT).
 *
 * State per flow: struct tg_flow, 64 bytes (the wheel's intrusive timer,
 * the flow number, its start, the next template packet); everything else
 * (addresses, ports, ISN offsets, tag) is derived from the flow number and
 * the seed when a packet is built (rate max keeps them, computed once at
 * the flow's start, in the timer fields it does not use). Each template
 * packet carries its rewrite plan (the checksum terms of the words that
 * change, summed at load), so an open-loop packet is a frame copy, a few
 * stores and one RFC 1624 update per checksum. Closed loop adds struct tg_cflow (the
 * window of packets in flight, the learned translation) and three hash
 * entries of 8 bytes.
 */
#include "tg_priv.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_csum.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "bt_timer_wheel.h"

#define ETH_HLEN 14
#define CHUNK_SHIFT 12
#define CHUNK (1u << CHUNK_SHIFT)
#define TG_WIN 16                   /* closed loop: packets in flight per flow */
#define WHEEL_TICK_NS 1024
#define WHEEL_SLOTS 65536
#define MAX_RATE_CONC_DEFAULT 65536 /* rate max without a concurrency cap */
#define FRAME_MAX (9216 + 4)
#define RR_AHEAD 8                  /* rate max: flows prefetched this far ahead (a power of 2) */

enum { F_FREE = 0, F_ACTIVE = 1 };

/* A flow's values, kept while it is on the rate max round robin (computed
 * once when it starts, not per packet): its addresses, the pools, the port
 * and the ISN offsets, and the fast path's sums. IPv6: ab[0] and ab[1] the
 * low 8 bytes of the client's and the server's address (the high 8 are
 * their pools'). IPv4: ab[s] the source and destination addresses of the
 * packets side s sends, as they lie in the frame (ab[0] client then
 * server, ab[1] server then client). */
struct fcache {
    uint8_t ab[2][8];
    uint32_t off[2];      /* the ISN offsets of the client's and the server's packets */
    uint16_t cpn;         /* the client port, network order */
    uint16_t asum;        /* IPv4: the four address words summed, folded to 16 bits */
    uint16_t l4sum;       /* IPv4: asum plus the client port's word, folded */
    uint8_t cpool, spool;
};

/* Rate max, open loop: a template packet's plan for the fast path (one per
 * template packet, in template order from tg_tmpl.fbase), beside its frame
 * image (IMG bytes: MACs, VLAN tag and the template's bytes, zero after
 * them). fast: an IPv4 TCP frame of at most IMG bytes without SACK, which
 * build_fast writes from the image and these sums; the others go through
 * build_open. ipb, l4b: the checksums' starting sums, ~HC plus the one's
 * complements of every word the rewrite overwrites (addresses, client
 * port, sequence and acknowledgment numbers), folded to 16 bits. */
#define IMG 64
enum { FP_FAST = 1, FP_LAST = 2 };
struct fpkt {
    uint32_t lp;          /* frame bytes (the VLAN tag included) | side << 16: tg_tx_frames' word */
    uint8_t fast, side;
    uint8_t oside;        /* side ^ 1 */
    uint8_t ipa, cp;      /* offsets in the frame: the IP addresses (source, destination), the client port */
    uint8_t l4;           /* the TCP header */
    uint8_t ipc;          /* the IP checksum */
    uint8_t fl;           /* FP_FAST if fast, | FP_LAST if last: rr_burst's test */
    uint32_t ackm;        /* ~0: the ack moves by the other side's offset (ACK set), 0: kept */
    uint32_t ipb, l4b;
    uint32_t seq, ack;    /* the template's, host order */
};
_Static_assert(sizeof(struct fpkt) == 32, "a plan in half a line");

/* A template packet's plan beside its image, one record of two lines:
 * one base address and one index for both. acct: its frame bytes | 1 << 32
 * if it leaves from the server side (the counters' sum, a word a packet). */
struct fplan {
    uint8_t img[IMG];
    struct fpkt p;
    uint64_t acct;
    uint8_t pad[24];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct fplan) == 128, "two lines a plan");
_Static_assert(sizeof(struct fcache) == 32, "a flow's values in half a line");

struct tg_flow {
    union {
        struct bt_timer t;  /* t.next links free / round-robin lists when not armed */
        struct {
            struct bt_timer *next;  /* t.next: the round robin's link */
            struct fcache fc;       /* rate max: over the timer's unused fields */
        } rr;
    };
    uint64_t idx;         /* flow number */
    uint64_t start_ns;    /* open: start; closed: when packet k-1 left */
    uint32_t k;           /* next template packet (rate max, open loop: its plan, g->fpl[k]) */
    uint16_t tmpl;
    uint8_t state;
    uint8_t tries;        /* closed: retransmissions of the current window */
};
_Static_assert(sizeof(struct tg_flow) == 64, "flow state of 64 bytes, a cache line");
_Static_assert(offsetof(struct tg_flow, rr.next) == offsetof(struct tg_flow, t.next) &&
               sizeof(((struct tg_flow *)0)->rr) <= sizeof(struct bt_timer),
               "the round robin's cache must leave t.next alone and fit the timer");

struct tg_cflow {
    uint8_t xaddr[16];    /* learned translated client address (hide-NAT) */
    uint16_t xport;
    uint8_t learned;      /* 1: xaddr/xport hold the translation */
    uint8_t wside;        /* side of the packets in flight */
    uint8_t tagged;       /* a TAG entry is in the hash */
    uint8_t pad[3];
    uint32_t wbase;       /* template index of the first packet in flight */
    uint16_t wrecv, wretx;/* bitmaps over [wbase, k): received, retransmitted */
    uint64_t ready_ns;    /* when the window last emptied */
    uint64_t first_ns;    /* when the flow started (tg_flow's start_ns moves on) */
    uint64_t sent[TG_WIN];
};

/* A packet due to leave. */
struct qent {
    uint64_t idx;
    uint64_t due;
    uint32_t slot;
    uint32_t k;
    uint16_t tmpl;
    uint16_t retx;
};

struct group {
    double rate;          /* flows per second of this entry (this engine's share of time) */
    uint64_t n;           /* flows of this entry scheduled so far (all parts) */
    uint64_t limit;       /* 0: none */
    unsigned first, count;/* its templates */
    bool done;
};

struct fvals {
    uint8_t caddr[16], saddr[16];
    uint16_t cport;
    uint32_t coff, soff;  /* ISN offsets */
    uint32_t tag;         /* v4 IP id / v6 flow label of client packets (closed loop) */
};

enum { K_ORIG = 0, K_LEARN = 1, K_TAG = 2 };

/* Paced runs (every mode but rate max, open loop): the values of the flows
 * whose packets were built last, by flow number mod FV_MEMO (a power of 2):
 * the flows active at once have numbers close together, so a flow's later
 * packets find them (one compare) instead of computing them again (~175
 * instructions a packet); another flow's packet takes the entry. Values
 * are a function of the flow number alone (its template is its number's),
 * so what is built is the same either way. */
#define FV_MEMO 4096
struct fmemo {
    uint64_t idx;         /* UINT64_MAX: empty */
    struct fvals fv;
} __attribute__((aligned(64)));

struct tg_engine {
    struct tg_profile p;
    uint32_t seed;
    struct tg_tset ts;
    struct group grp[TG_MAX_TEMPLATES];
    unsigned ngrp;
    /* pools by family: indexes into p.clients / p.servers */
    unsigned ncl[7], nsv[7];
    uint8_t cl[7][TG_MAX_POOLS], sv[7][TG_MAX_POOLS];
    uint64_t nports;
    /* x % d without a division on the per-packet path (Lemire, Kaser and
     * Kurz, "Faster remainder by direct computation", 2019): M = 2^128 / d
     * + 1 for the client ports and each server pool's size - 1 */
    unsigned __int128 nports_m, svmod_m[TG_MAX_POOLS];
    uint64_t svmod[TG_MAX_POOLS];
    uint64_t flows_total;  /* 0: unlimited */
    uint32_t conc;         /* 0: unlimited */
    bool closed;
    /* tg_engine_reserve was called: everything is sized, nothing grows
     * (a full queue defers a packet, the concurrency cap holds starts) */
    bool reserved;

    /* flows */
    struct tg_flow **chunks;
    struct tg_cflow **cchunks;
    uint32_t nchunks, chunkcap;
    uint32_t nslots;       /* slots ever used */
    struct tg_flow *freel;
    uint64_t active;
    /* rate max round robin: a queue of flows kept as RR_AHEAD lists
     * linked through t.next, the flow put on it a-th in list a % RR_AHEAD,
     * taken in the same order: the flow after f in its list is the one
     * RR_AHEAD turns later, prefetched when f is taken (no hints to keep) */
    struct bt_timer *rr_head[RR_AHEAD];
    struct bt_timer **rr_tailp[RR_AHEAD]; /* where each list's next flow is linked */
    uint32_t rr_napp, rr_ntake;           /* flows put on it and taken off it so far (mod 2^32) */
    struct fplan *fpl;                 /* rate max, open loop: every template packet's plan and image */
    uint32_t nfpk;

    struct bt_twheel *w;
    uint64_t wnext;        /* cached earliest timer */

    /* starts */
    bool started, starts_done, stopped;
    bool ns_valid;         /* next_start's cache: ns_t (group ns_which) */
    unsigned ns_which;
    uint64_t ns_t;
    uint64_t t0, gidx, last_ns, now;
    bool blocked;          /* the concurrency cap holds a start back */

    /* out queue */
    struct qent *q;
    uint32_t qcap, qhead, qn;

    /* each port's destination and source MACs, as a frame starts */
    uint8_t macs[2][12];
    /* caps */
    bool capped;           /* a pps or bps cap */
    double tok_pkts, tok_bytes, depth_pkts, depth_bytes;
    uint64_t tok_ns;
    uint32_t cap_need;           /* rate max: the frame the caps held back last (bytes) */

    /* hash (closed loop) */
    uint64_t *ht;
    uint32_t htmask, htn;

    struct bt_pktpool *pool;
    struct fmemo *fvm;     /* paced runs (NULL: no memory for it, values computed) */
    struct tg_summary sum;
    struct tg_hist lat;
    tg_flow_fn flow_cb;
    void *flow_arg;
};

/* ---------------------------------------------------------------- slots */

static struct tg_flow *flow_at(const struct tg_engine *g, uint32_t slot)
{
    return &g->chunks[slot >> CHUNK_SHIFT][slot & (CHUNK - 1)];
}

static struct tg_cflow *cflow_at(const struct tg_engine *g, uint32_t slot)
{
    return &g->cchunks[slot >> CHUNK_SHIFT][slot & (CHUNK - 1)];
}

/* Chunks are aligned to their size and flow 0 of each is a header holding
 * the chunk number, so a flow's slot comes from its address alone. */
#define CHUNK_BYTES (CHUNK * sizeof(struct tg_flow))

static uint32_t slot_of(const struct tg_engine *g, const struct tg_flow *f)
{
    const struct tg_flow *base = (const struct tg_flow *)((uintptr_t)f & ~(uintptr_t)(CHUNK_BYTES - 1));
    (void)g;
    return (uint32_t)(base->idx << CHUNK_SHIFT) | (uint32_t)(f - base);
}

/* Appends a chunk of CHUNK flows (its flow 0 the header) without using
 * any of its slots. 0 or -ENOMEM. */
static int chunk_add(struct tg_engine *g)
{
    if (g->nchunks == g->chunkcap) {
        uint32_t cap = g->chunkcap ? g->chunkcap * 2 : 16;
        struct tg_flow **c = realloc(g->chunks, cap * sizeof(*c));
        if (!c)
            return -ENOMEM;
        g->chunks = c;
        struct tg_cflow **cc = realloc(g->cchunks, cap * sizeof(*cc));
        if (!cc)
            return -ENOMEM;
        g->cchunks = cc;
        g->chunkcap = cap;
    }
    if (g->nchunks >= (1u << (30 - CHUNK_SHIFT)))
        return -ENOMEM;
    struct tg_flow *ch = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
    if (!ch)
        return -ENOMEM;
    struct tg_cflow *cc = NULL;
    if (g->closed && !(cc = calloc(CHUNK, sizeof(struct tg_cflow)))) {
        free(ch);
        return -ENOMEM;
    }
    memset(&ch[0], 0, sizeof(ch[0]));
    ch[0].state = F_FREE;
    ch[0].idx = g->nchunks;
    g->chunks[g->nchunks] = ch;
    g->cchunks[g->nchunks] = cc;
    g->nchunks++;
    return 0;
}

static struct tg_flow *flow_alloc(struct tg_engine *g)
{
    if (g->freel) {
        struct tg_flow *f = g->freel;
        g->freel = (struct tg_flow *)f->t.next;
        return f;
    }
    if ((g->nslots & (CHUNK - 1)) == 0) {
        /* the next chunk (reserved ahead, or a new one); its flow 0 is the
         * header */
        if ((g->nslots >> CHUNK_SHIFT) >= g->nchunks && (g->reserved || chunk_add(g) < 0))
            return NULL;
        g->nslots++;
    }
    return flow_at(g, g->nslots++);
}

static void flow_release(struct tg_engine *g, struct tg_flow *f)
{
    f->state = F_FREE;
    f->idx = UINT64_MAX;
    f->t.next = (struct bt_timer *)g->freel;
    f->t.prev = NULL;
    g->freel = f;
    g->active--;
}

/* ---------------------------------------------------------------- values */

static uint64_t flow_seed(const struct tg_engine *g, uint64_t idx, uint64_t salt)
{
    return bt_mix64(idx * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)g->seed << 20) ^ salt);
}

/* bt_cidr_nth for i below the prefix's size, without its division (this
 * runs for every packet): i added to the low 64 bits, big-endian. */
static inline void cidr_nth(const struct bt_cidr *c, uint64_t i, uint8_t out[16])
{
    uint64_t lo;

    memcpy(out, c->addr, 8);
    memcpy(&lo, c->addr + 8, 8);
    lo = __builtin_bswap64(__builtin_bswap64(lo) + i);
    memcpy(out + 8, &lo, 8);
}

static inline unsigned __int128 fastmod_m(uint64_t d)
{
    return ~(unsigned __int128)0 / d + 1;
}

/* a % d, m = fastmod_m(d) (exact for every 64-bit a and d > 0) */
static inline uint64_t fastmod(uint64_t a, unsigned __int128 m, uint64_t d)
{
    unsigned __int128 low = m * a;
    unsigned __int128 top = (unsigned __int128)(uint64_t)(low >> 64) * d;
    unsigned __int128 bot = ((unsigned __int128)(uint64_t)low * d) >> 64;
    return (uint64_t)((top + bot) >> 64);
}

/* A closed-loop flow's tag (v4 IP id, v6 flow label). With several parts
 * (per-lcore engines) tag mod nparts is the flow's part, so whoever
 * receives a packet knows the engine that owns it (tg_frame_part). */
static uint32_t tag_of(const struct tg_engine *g, uint64_t idx, unsigned fam)
{
    uint32_t mask = fam == 4 ? 0xffffu : 0xfffffu;
    uint32_t tag = (uint32_t)flow_seed(g, idx, 3) & mask;
    uint32_t np = g->p.nparts;

    if (np > 1) {
        tag = tag - tag % np + (uint32_t)(idx % np);
        if (tag > mask)
            tag -= np;
    }
    return tag;
}

static inline __attribute__((always_inline)) void
flow_values_in(const struct tg_engine *g, uint64_t idx, const struct tg_tmpl *t, struct fvals *fv,
               uint8_t *cpool, uint8_t *spool)
{
    unsigned fam = t->family;
    unsigned nc = g->ncl[fam], ns = g->nsv[fam];
    /* (one pool is the common case: no division for it) */
    unsigned ci = g->cl[fam][nc == 1 ? 0 : idx % nc];
    const struct bt_cidr *cp = &g->p.clients[ci];
    uint64_t j = nc == 1 ? idx : idx / nc;
    unsigned host = 128u - cp->plen;
    uint64_t h = flow_seed(g, idx, 1);
    unsigned si = g->sv[fam][ns == 1 ? 0 : h % ns];
    const struct bt_cidr *sp = &g->p.servers[si];

    /* the address varies fastest (a cluster spreads flows by address);
     * host 0 of the prefix comes last */
    if (host >= 64) {
        cidr_nth(cp, j + 1, fv->caddr);
        fv->cport = (uint16_t)(g->p.cport_lo + fastmod(j >> 56, g->nports_m, g->nports));
    } else {
        uint64_t k = (j & ((1ull << host) - 1)) + 1;
        cidr_nth(cp, k >> host ? 0 : k, fv->caddr);
        fv->cport = (uint16_t)(g->p.cport_lo + fastmod(j >> host, g->nports_m, g->nports));
    }
    uint64_t hs = ns == 1 ? h : h / ns;
    /* svmod: the pool's size - 1 (0: a single address) */
    cidr_nth(sp, g->svmod[si] ? 1 + fastmod(hs, g->svmod_m[si], g->svmod[si]) : 0, fv->saddr);
    /* (per packet: the mixes only where they are used) */
    if (g->p.isn_offset && t->proto == 6) {
        uint64_t o = flow_seed(g, idx, 2);
        fv->coff = (uint32_t)o;
        fv->soff = (uint32_t)(o >> 32);
    } else {
        fv->coff = fv->soff = 0;
    }
    fv->tag = g->closed ? tag_of(g, idx, fam) : 0;
    *cpool = (uint8_t)ci;
    *spool = (uint8_t)si;
}

static void flow_values_at(const struct tg_engine *g, uint64_t idx, const struct tg_tmpl *t,
                           struct fvals *fv, uint8_t *cpool, uint8_t *spool)
{
    flow_values_in(g, idx, t, fv, cpool, spool);
}

static void flow_values(const struct tg_engine *g, uint64_t idx, const struct tg_tmpl *t,
                        struct fvals *fv)
{
    uint8_t cpool, spool;
    flow_values_at(g, idx, t, fv, &cpool, &spool);
}

/* flow_values of flow idx through the memo (into tmp without one). */
static inline const struct fvals *flow_values_kept(struct tg_engine *g, uint64_t idx,
                                                   const struct tg_tmpl *t, struct fvals *tmp)
{
    if (__builtin_expect(!g->fvm, 0)) {
        flow_values(g, idx, t, tmp);
        return tmp;
    }
    struct fmemo *m = &g->fvm[idx & (FV_MEMO - 1)];
    if (m->idx != idx) {
        flow_values(g, idx, t, &m->fv);
        m->idx = idx;
    }
    return &m->fv;
}

/* The sum of the words a flow writes into the address fields (the same
 * set on both sides: client and server swap places), as build_open adds
 * them. */
/* A flow's addresses as build_open takes them: the high and low 8 bytes of
 * each (the high ones are the pool's in rate max), its port and offsets. */
struct fview {
    const uint8_t *chi, *clo, *shi, *slo;
    uint16_t cport;
    uint32_t coff, soff;
};

static inline uint16_t w16(const uint8_t *p)
{
    uint16_t w;
    memcpy(&w, p, 2);
    return w;
}

static inline uint32_t addr_sum(const struct fview *a, unsigned family)
{
    uint32_t s = 0;

    if (family == 4)
        return (uint32_t)w16(a->clo + 4) + w16(a->clo + 6) + w16(a->slo + 4) + w16(a->slo + 6);
    for (unsigned i = 0; i < 8; i += 2) {
        uint16_t w[4];
        memcpy(&w[0], a->clo + i, 2);
        memcpy(&w[1], a->slo + i, 2);
        s += (uint32_t)w[0] + w[1];
        if (family == 6) {
            memcpy(&w[2], a->chi + i, 2);
            memcpy(&w[3], a->shi + i, 2);
            s += (uint32_t)w[2] + w[3];
        }
    }
    return s;
}

/* The sum of an IPv6 packet's new source address alone (the server's on
 * the server side), for the packets whose pseudo-header keeps the
 * template's destination (tg_tpkt.ph_src_only). */
static inline uint32_t src_sum(const struct fview *a, bool server)
{
    const uint8_t *hi = server ? a->shi : a->chi, *lo = server ? a->slo : a->clo;
    uint32_t s = 0;

    for (unsigned i = 0; i < 8; i += 2)
        s += (uint32_t)w16(hi + i) + w16(lo + i);
    return s;
}

static inline void fview_of(const struct fvals *fv, struct fview *a)
{
    a->chi = fv->caddr;
    a->clo = fv->caddr + 8;
    a->shi = fv->saddr;
    a->slo = fv->saddr + 8;
    a->cport = fv->cport;
    a->coff = fv->coff;
    a->soff = fv->soff;
}

/* A one's complement sum (below 2^31) folded to 16 bits. */
static inline uint32_t fold16(uint32_t s)
{
    s = (s & 0xffff) + (s >> 16);
    return (s & 0xffff) + (s >> 16);
}

static inline uint32_t be32_at(const uint8_t *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return __builtin_bswap32(x);
}

/* fcache_fill for an IPv4 template with one client and one server pool
 * of its family: flow_values_in's values for IPv4 computed on the 32 bits
 * that are kept (cidr_nth's sum of the low 64 bits, whose bytes 12..15
 * are those of the 32-bit sum), the port without the division while the
 * port index is below the port count (no wrap yet); the same values. */
static void fcache_fill_v4(const struct tg_engine *g, struct tg_flow *f, const struct tg_tmpl *t)
{
    struct fcache *c = &f->rr.fc;
    uint64_t idx = f->idx;
    unsigned ci = g->cl[4][0], si = g->sv[4][0];
    const struct bt_cidr *cp = &g->p.clients[ci], *sp = &g->p.servers[si];
    unsigned host = 128u - cp->plen;   /* (IPv4: at most 32) */
    uint64_t k = (idx & ((1ull << host) - 1)) + 1;
    uint32_t ca = be32_at(cp->addr + 12) + (uint32_t)(k >> host ? 0 : k);
    uint64_t q = idx >> host;
    uint16_t cport = (uint16_t)(g->p.cport_lo + (q < g->nports ? q : fastmod(q, g->nports_m, g->nports)));
    uint64_t h = flow_seed(g, idx, 1);
    uint32_t sa = be32_at(sp->addr + 12) +
                  (uint32_t)(g->svmod[si] ? 1 + fastmod(h, g->svmod_m[si], g->svmod[si]) : 0);
    if (g->p.isn_offset && t->proto == 6) {
        uint64_t o = flow_seed(g, idx, 2);
        c->off[0] = (uint32_t)o;
        c->off[1] = (uint32_t)(o >> 32);
    } else {
        c->off[0] = c->off[1] = 0;
    }
    c->cpool = (uint8_t)ci;
    c->spool = (uint8_t)si;
    c->cpn = __builtin_bswap16(cport);
    uint64_t cb = __builtin_bswap32(ca), sb = __builtin_bswap32(sa);
    uint64_t w0 = cb | sb << 32, w1 = sb | cb << 32;
    memcpy(c->ab[0], &w0, 8);
    memcpy(c->ab[1], &w1, 8);
    /* (the words as they lie in the frame: each 32-bit half byte-swapped) */
    uint32_t a = (uint32_t)(cb & 0xffff) + (uint32_t)(cb >> 16) + (uint32_t)(sb & 0xffff) +
                 (uint32_t)(sb >> 16);
    c->asum = (uint16_t)fold16(a);
    c->l4sum = (uint16_t)fold16((uint32_t)c->asum + c->cpn);
}

/* Open loop only (no tag). */
static void fcache_fill(const struct tg_engine *g, struct tg_flow *f, const struct tg_tmpl *t)
{
    struct fvals fv;
    struct fcache *c = &f->rr.fc;

    if (t->family == 4 && g->ncl[4] == 1 && g->nsv[4] == 1) {
        fcache_fill_v4(g, f, t);
        return;
    }
    /* (inline: a rate max flow's start; what it does not keep is dropped) */
    flow_values_in(g, f->idx, t, &fv, &c->cpool, &c->spool);
    c->off[0] = fv.coff;
    c->off[1] = fv.soff;
    c->cpn = __builtin_bswap16(fv.cport);
    if (t->family == 4) {
        memcpy(c->ab[0], fv.caddr + 12, 4);
        memcpy(c->ab[0] + 4, fv.saddr + 12, 4);
        memcpy(c->ab[1], fv.saddr + 12, 4);
        memcpy(c->ab[1] + 4, fv.caddr + 12, 4);
        uint32_t a = (uint32_t)w16(c->ab[0]) + w16(c->ab[0] + 2) + w16(c->ab[0] + 4) +
                     w16(c->ab[0] + 6);
        c->asum = (uint16_t)fold16(a);
        c->l4sum = (uint16_t)fold16((uint32_t)c->asum + c->cpn);
    } else {
        memcpy(c->ab[0], fv.caddr + 8, 8);
        memcpy(c->ab[1], fv.saddr + 8, 8);
        c->asum = c->l4sum = 0;
    }
}

/* Puts f at the round robin's tail (the tail of list rr_napp % RR_AHEAD). */
static inline void rr_append(struct tg_engine *g, struct tg_flow *f)
{
    unsigned i = g->rr_napp++ & (RR_AHEAD - 1);

    f->t.next = NULL;
    *g->rr_tailp[i] = &f->t;
    g->rr_tailp[i] = &f->t.next;
}

/* The round robin emptied (every list at once: tg_engine_new, tg_abort). */
static void rr_reset(struct tg_engine *g)
{
    for (unsigned i = 0; i < RR_AHEAD; i++) {
        g->rr_head[i] = NULL;
        g->rr_tailp[i] = &g->rr_head[i];
    }
    g->rr_napp = g->rr_ntake = 0;
}

static inline void fcache_view(const struct tg_engine *g, const struct fcache *c, unsigned family,
                               struct fview *a)
{
    a->chi = g->p.clients[c->cpool].addr;
    a->shi = g->p.servers[c->spool].addr;
    /* (IPv4: build_open takes bytes 4..7: the client's in ab[1], the
     * server's in ab[0]) */
    a->clo = c->ab[family == 4];
    a->slo = c->ab[family != 4];
    a->cport = __builtin_bswap16(c->cpn);
    a->coff = c->off[0];
    a->soff = c->off[1];
}

/* ---------------------------------------------------------------- build */

struct csd {
    uint32_t ip, l4;      /* accumulated ~old + new (RFC 1624 eqn. 3) */
};

static inline void cs_word(uint32_t *s, uint16_t oldw, uint16_t neww)
{
    *s += (uint16_t)~oldw;
    *s += neww;
}

/* Overwrites n bytes (even) at p with v, accumulating the checksum delta. */
static inline void put_cs(uint8_t *p, const uint8_t *v, unsigned n, uint32_t *s1, uint32_t *s2)
{
    for (unsigned i = 0; i < n; i += 2) {
        uint16_t o, w;
        memcpy(&o, p + i, 2);
        memcpy(&w, v + i, 2);
        if (s1)
            cs_word(s1, o, w);
        if (s2)
            cs_word(s2, o, w);
    }
    memcpy(p, v, n);
}

static inline void put32_cs(uint8_t *p, uint32_t host, uint32_t *s)
{
    uint8_t v[4] = {(uint8_t)(host >> 24), (uint8_t)(host >> 16), (uint8_t)(host >> 8), (uint8_t)host};
    put_cs(p, v, 4, s, NULL);
}

static inline uint16_t apply(uint16_t csum, uint32_t delta)
{
    /* HC' = ~(~HC + sum(~m + m')) */
    uint32_t s = (uint32_t)(uint16_t)~csum + (delta & 0xffff) + (delta >> 16);

    /* bt_csum_fold, inline (twice is enough: s < 3 * 0xffff) */
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* The end of both builders (build and build_open): the SACK blocks
 * acknowledge the other side's data (shifted by its offset), then the TCP
 * checksum takes the summed delta. f is the frame (VLAN included). */
static inline void sack_and_tcp_csum(const struct tg_tpkt *tp, uint8_t *f, uint8_t *l4,
                                     uint32_t other, uint32_t sl4)
{
    if (other && tp->sack_off) {
        uint8_t *o = f + tp->sack_off;
        for (unsigned i = 2; i + 4 <= tp->sack_len; i += 4) {
            uint32_t x = (uint32_t)o[i] << 24 | (uint32_t)o[i + 1] << 16 |
                         (uint32_t)o[i + 2] << 8 | o[i + 3];
            put32_cs(o + i, x + other, &sl4);
        }
    }
    uint16_t c;
    memcpy(&c, l4 + 16, 2);
    c = apply(c, sl4);
    memcpy(l4 + 16, &c, 2);
}

/* The UDP checksum takes the delta; UDP over IPv4 without a checksum stays
 * so, and a computed 0 is sent as 0xffff. */
static inline void udp_csum(const struct tg_tmpl *t, uint8_t *l4, uint32_t sl4)
{
    uint16_t c;
    memcpy(&c, l4 + 6, 2);
    if (c != 0 || t->family == 6) {
        c = apply(c, sl4);
        if (c == 0)
            c = 0xffff;
        memcpy(l4 + 6, &c, 2);
    }
}


/* A frame's bytes (n >= 32: every IP frame is): up to 64 as two
 * overlapping 32-byte moves inline, longer ones by memcpy. */
static inline void copy_frame(uint8_t *out, const uint8_t *src, uint32_t n)
{
    if (n <= 64 && n >= 32) {
        uint8_t a[32], b[32];
        memcpy(a, src, 32);
        memcpy(b, src + n - 32, 32);
        memcpy(out, a, 32);
        memcpy(out + n - 32, b, 32);
    } else {
        memcpy(out, src, n);
    }
}

/* The template frame into out with the port's MACs, tagged (v = 4) when
 * the profile has a VLAN: how both builders start. */
static inline __attribute__((always_inline)) void
copy_head(const struct tg_engine *g, const struct tg_tpkt *tp, const uint8_t *src, unsigned v,
          bool server, uint8_t *out)
{
    if (v) {
        memcpy(out + 16, src + 12, tp->len - 12u);
        out[12] = 0x81;
        out[13] = 0x00;
        out[14] = (uint8_t)(g->p.vlan >> 8);
        out[15] = (uint8_t)g->p.vlan;
    } else {
        copy_frame(out, src, tp->len);
    }
    memcpy(out, g->macs[server], 12);
}

/* Builds packet k of template t for a flow into out (cap bytes). Returns
 * the frame length, 0 if it does not fit. */
static uint32_t build(const struct tg_engine *g, const struct tg_tmpl *t, uint32_t k,
                      const struct fvals *fv, const struct tg_cflow *cf, uint8_t *out, uint32_t cap)
{
    const struct tg_tpkt *tp = &t->p[k];
    const uint8_t *src = t->blob + tp->off;
    unsigned v = g->p.vlan ? 4 : 0;
    uint32_t len = tp->len + v;
    uint8_t *ip, *l4;
    uint32_t sip = 0, sl4 = 0;
    bool server = tp->side;

    if (len > cap)
        return 0;
    copy_head(g, tp, src, v, server, out);
    ip = out + ETH_HLEN + v;
    l4 = out + tp->l4 + v;

    const uint8_t *cad = fv->caddr;
    uint16_t cport = fv->cport;
    if (server && cf && cf->learned) {
        cad = cf->xaddr;
        cport = cf->xport;
    }
    uint8_t cpb[2] = {(uint8_t)(cport >> 8), (uint8_t)cport};
    if (t->family == 4) {
        put_cs(ip + (server ? 16 : 12), cad + 12, 4, &sip, &sl4);
        put_cs(ip + (server ? 12 : 16), fv->saddr + 12, 4, &sip, &sl4);
        if (cf && (!server || g->p.nparts > 1)) {
            uint8_t id[2] = {(uint8_t)(fv->tag >> 8), (uint8_t)fv->tag};
            put_cs(ip + 4, id, 2, &sip, NULL);
        }
        uint16_t c;
        memcpy(&c, ip + 10, 2);
        c = apply(c, sip);
        memcpy(ip + 10, &c, 2);
    } else {
        /* (the destination, at 24, out of the L4 sum when a routing
         * header's final address stands for it in the pseudo-header) */
        put_cs(ip + (server ? 24 : 8), cad, 16, NULL, server && tp->ph_src_only ? NULL : &sl4);
        put_cs(ip + (server ? 8 : 24), fv->saddr, 16, NULL,
               !server && tp->ph_src_only ? NULL : &sl4);
        if (cf && (!server || g->p.nparts > 1)) {
            /* flow label: low 20 bits of the first word (not in any checksum) */
            ip[1] = (uint8_t)((ip[1] & 0xf0) | ((fv->tag >> 16) & 0x0f));
            ip[2] = (uint8_t)(fv->tag >> 8);
            ip[3] = (uint8_t)fv->tag;
        }
    }
    put_cs(l4 + (server ? 2 : 0), cpb, 2, NULL, &sl4);
    if (t->proto == 6) {
        uint32_t own = server ? fv->soff : fv->coff, other = server ? fv->coff : fv->soff;
        if (own)
            put32_cs(l4 + 4, tp->seq + own, &sl4);
        if (other && (tp->tcp_flags & BT_TCP_ACK))
            put32_cs(l4 + 8, tp->ack + other, &sl4);
        sack_and_tcp_csum(tp, out + v, l4, other, sl4);
    } else {
        udp_csum(t, l4, sl4);
    }
    return len;
}

/* build without a closed-loop flow (open loop), from the template packet's
 * rewrite plan (tg_tpkt.cs_*): the frame copied, the fields stored and the
 * checksums updated by sums computed once (the template's words at load,
 * the flow's address words, addr_sum, per packet). The same bytes as
 * build (the same terms summed). */
static inline __attribute__((always_inline)) uint32_t
build_open(const struct tg_engine *g, const struct tg_tmpl *t, uint32_t k, const struct fview *fv,
           uint8_t *out, uint32_t cap)
{
    const struct tg_tpkt *tp = &t->p[k];
    const uint8_t *src = t->blob + tp->off;
    unsigned v = g->p.vlan ? 4 : 0;
    uint32_t len = tp->len + v;
    bool server = tp->side;

    if (__builtin_expect(len > cap, 0))
        return 0;
    copy_head(g, tp, src, v, server, out);
    uint8_t *ip = out + ETH_HLEN + v, *l4 = out + tp->l4 + v;
    uint32_t sl4 = tp->cs_addr + (__builtin_expect(tp->ph_src_only, 0) ? src_sum(fv, server)
                                                                          : addr_sum(fv, t->family));
    if (t->family == 4) {
        memcpy(ip + (server ? 16 : 12), fv->clo + 4, 4);
        memcpy(ip + (server ? 12 : 16), fv->slo + 4, 4);
        uint16_t c;
        memcpy(&c, ip + 10, 2);
        c = apply(c, sl4);
        memcpy(ip + 10, &c, 2);
    } else {
        memcpy(ip + (server ? 24 : 8), fv->chi, 8);
        memcpy(ip + (server ? 32 : 16), fv->clo, 8);
        memcpy(ip + (server ? 8 : 24), fv->shi, 8);
        memcpy(ip + (server ? 16 : 32), fv->slo, 8);
    }
    uint8_t cpb[2] = {(uint8_t)(fv->cport >> 8), (uint8_t)fv->cport};
    uint16_t cpw;
    memcpy(&cpw, cpb, 2);
    memcpy(l4 + (server ? 2 : 0), cpb, 2);
    sl4 += tp->cs_port + cpw;
    if (t->proto == 6) {
        uint32_t own = server ? fv->soff : fv->coff, other = server ? fv->coff : fv->soff;
        if (own) {
            uint32_t x = tp->seq + own;
            uint32_t be = __builtin_bswap32(x);
            memcpy(l4 + 4, &be, 4);
            /* the two 16-bit words of x as they lie in the frame */
            sl4 += tp->cs_seq + (be & 0xffff) + (be >> 16);
        }
        if (other && (tp->tcp_flags & BT_TCP_ACK)) {
            uint32_t x = tp->ack + other;
            uint32_t be = __builtin_bswap32(x);
            memcpy(l4 + 8, &be, 4);
            sl4 += tp->cs_ack + (be & 0xffff) + (be >> 16);
        }
        sack_and_tcp_csum(tp, out + v, l4, other, sl4);
    } else {
        udp_csum(t, l4, sl4);
    }
    return len;
}

/* build_open for a fast template packet (struct fpkt) into out (at least
 * IMG bytes): the image copied whole, the flow's words stored, both
 * checksums from the plan's sums. The same bytes as build_open: the
 * sequence and acknowledgment numbers are always stored, unchanged where
 * build_open leaves them (no offset, no ACK), whose words then add
 * ~w + w = 0xffff each to the sum, which the fold leaves as it was (the
 * sums are never 0: ipb and l4b hold ~HC plus the complements of the old
 * words, folded, 0 only where every one of them was). */
/* 32 bytes as one value (a 32-byte move where the target has one, two
 * 16-byte ones otherwise); the image is 64-byte aligned, out need not be */
typedef uint8_t tg_v32 __attribute__((vector_size(32), aligned(1), may_alias));

static inline __attribute__((always_inline)) uint32_t
build_fast(const struct fpkt *fp, const uint8_t *img, const struct fcache *c, uint8_t *out)
{
    unsigned side = fp->side;
    tg_v32 i0 = *(const tg_v32 *)img, i1 = *(const tg_v32 *)(img + 32);
    *(tg_v32 *)out = i0;
    *(tg_v32 *)(out + 32) = i1;
    memcpy(out + fp->ipa, c->ab[side], 8);
    /* (ipb + asum < 0x1ffff: one fold step is the whole fold) */
    uint32_t s = fp->ipb + c->asum;
    uint16_t x = (uint16_t)~((s & 0xffff) + (s >> 16));
    memcpy(out + fp->ipc, &x, 2);
    memcpy(out + fp->cp, &c->cpn, 2);
    uint32_t sb = __builtin_bswap32(fp->seq + c->off[side]);
    uint32_t ab = __builtin_bswap32(fp->ack + (c->off[fp->oside] & fp->ackm));
    uint8_t *l4 = out + fp->l4;
    memcpy(l4 + 4, &sb, 4);
    memcpy(l4 + 8, &ab, 4);
    /* the two numbers' words summed as two 32-bit words (2^16 = 1 in one's
     * complement): below 2^34, folded to 32 bits (below 2^32 + 3), then
     * to 17 (below 0x1ffff) and to 16 */
    uint64_t t = (uint64_t)fp->l4b + c->l4sum + sb + ab;
    t = (t & 0xffffffff) + (t >> 32);
    t = (t & 0xffff) + (t >> 16);
    x = (uint16_t)~((t & 0xffff) + (t >> 16));
    memcpy(l4 + 16, &x, 2);
    return fp->lp & 0xffff;
}

/* Sums of the one's complements of a frame's words (n bytes at p). */
static uint32_t inv_sum(const uint8_t *p, unsigned n)
{
    uint32_t s = 0;
    for (unsigned i = 0; i < n; i += 2) {
        uint16_t w;
        memcpy(&w, p + i, 2);
        s += (uint16_t)~w;
    }
    return s;
}

/* Whether an IPv6 packet's TCP/UDP checksum (as loading left it: over the
 * pseudo-header RFC 8200 8.1 asks for) is the one over the header's own
 * source and destination. It is not when a routing header with segments
 * left names the final destination; the engine then keeps that address out
 * of its updates. A segment cut short cannot tell: taken as the header's. */
static bool ph_is_header(const uint8_t *ip, const uint8_t *l4, const uint8_t *end, uint8_t proto)
{
    uint32_t n = (uint32_t)(end - l4);
    uint16_t plen = (uint16_t)(ip[4] << 8 | ip[5]);

    if ((uint32_t)(l4 - ip) - 40 + n != plen)
        return true;
    /* source, destination, the length (< 2^16 here) and the protocol as
     * 16-bit words; a valid sum over them and the segment folds to 0 */
    uint8_t ph[4] = {(uint8_t)(n >> 8), (uint8_t)n, 0, proto};
    uint32_t s = bt_csum_partial(ip + 8, 32, 0);
    s = bt_csum_partial(ph, 4, s);
    s = bt_csum_partial(l4, n, s);
    return bt_csum_fold(s) == 0;
}

/* The rewrite plan of every template packet (tg_tpkt.cs_*). */
static void plan_templates(struct tg_tset *ts)
{
    for (unsigned i = 0; i < ts->n; i++) {
        struct tg_tmpl *t = &ts->t[i];
        for (uint32_t k = 0; k < t->n; k++) {
            struct tg_tpkt *tp = &t->p[k];
            const uint8_t *f = t->blob + tp->off, *ip = f + ETH_HLEN, *l4 = f + tp->l4;
            bool server = tp->side;
            tp->ph_src_only = t->family == 6 && !ph_is_header(ip, l4, f + tp->len, t->proto);
            tp->cs_addr = t->family == 4 ? inv_sum(ip + 12, 8)
                          : tp->ph_src_only ? inv_sum(ip + 8, 16) : inv_sum(ip + 8, 32);
            tp->cs_port = inv_sum(l4 + (server ? 2 : 0), 2);
            tp->cs_seq = t->proto == 6 ? inv_sum(l4 + 4, 4) : 0;
            tp->cs_ack = t->proto == 6 ? inv_sum(l4 + 8, 4) : 0;
        }
    }
}

/* The MACs of the images (at their start) from g->macs. */
static void fast_macs(struct tg_engine *g)
{
    for (uint32_t i = 0; i < g->nfpk; i++)
        if (g->fpl[i].p.fast)
            memcpy(g->fpl[i].img, g->macs[g->fpl[i].p.side], 12);
}

/* Rate max, open loop: every template packet's struct fpkt and image.
 * -ENOMEM or 0. */
static int fast_plans(struct tg_engine *g)
{
    unsigned v = g->p.vlan ? 4 : 0;
    uint64_t n = 0;

    for (unsigned i = 0; i < g->ts.n; i++) {
        g->ts.t[i].fbase = (uint32_t)n;
        n += g->ts.t[i].n;
    }
    if (n > UINT32_MAX)
        return -ENOMEM;
    g->nfpk = (uint32_t)n;
    g->fpl = aligned_alloc(sizeof(*g->fpl), (n ? n : 1) * sizeof(*g->fpl));
    if (!g->fpl)
        return -ENOMEM;
    memset(g->fpl, 0, (n ? n : 1) * sizeof(*g->fpl));
    for (unsigned i = 0; i < g->ts.n; i++) {
        const struct tg_tmpl *t = &g->ts.t[i];
        for (uint32_t k = 0; k < t->n; k++) {
            const struct tg_tpkt *tp = &t->p[k];
            struct fpkt *fp = &g->fpl[t->fbase + k].p;
            const uint8_t *src = t->blob + tp->off;
            bool server = tp->side;
            fp->lp = (uint32_t)(tp->len + v) | (uint32_t)tp->side << 16;
            fp->side = tp->side;
            fp->oside = tp->side ^ 1;
            fp->fast = t->family == 4 && t->proto == 6 && !tp->sack_off && tp->len + v <= IMG;
            fp->fl = (uint8_t)((fp->fast ? FP_FAST : 0) | (k + 1 == t->n ? FP_LAST : 0));
            g->fpl[t->fbase + k].acct = (uint64_t)(tp->len + v) | (uint64_t)tp->side << 32;
            if (!fp->fast)
                continue;
            copy_head(g, tp, src, v, server, g->fpl[t->fbase + k].img);
            fp->ipc = (uint8_t)(ETH_HLEN + v + 10);
            fp->ipa = (uint8_t)(ETH_HLEN + v + 12);
            fp->l4 = (uint8_t)(tp->l4 + v);
            fp->cp = (uint8_t)(fp->l4 + (server ? 2 : 0));
            fp->ackm = tp->tcp_flags & BT_TCP_ACK ? ~0u : 0;
            fp->seq = tp->seq;
            fp->ack = tp->ack;
            uint16_t hc;
            memcpy(&hc, src + ETH_HLEN + 10, 2);
            fp->ipb = fold16((uint32_t)(uint16_t)~hc + fold16(tp->cs_addr));
            memcpy(&hc, src + tp->l4 + 16, 2);
            fp->l4b = fold16((uint32_t)(uint16_t)~hc + fold16(tp->cs_addr) + fold16(tp->cs_port) +
                             fold16(tp->cs_seq) + fold16(tp->cs_ack));
        }
    }
    fast_macs(g);
    return 0;
}

/* ---------------------------------------------------------------- hash */

static uint32_t key_hash(uint8_t proto, const uint8_t *a, uint16_t ap, const uint8_t *b,
                         uint16_t bp, uint64_t salt)
{
    uint64_t x = salt ^ proto, y;

    for (int i = 0; i < 16; i += 8) {
        memcpy(&y, a + i, 8);
        x = bt_mix64(x ^ y);
        memcpy(&y, b + i, 8);
        x = bt_mix64(x ^ y);
    }
    x = bt_mix64(x ^ ((uint64_t)ap << 16 | bp));
    return (uint32_t)(x >> 32) | 1u;  /* never 0 (0 marks an empty entry) */
}

#define H_SALT_TUPLE 0x51ed270b
#define H_SALT_TAG 0x2545f491

static uint32_t tag_hash(uint8_t proto, const uint8_t *saddr, uint16_t sport, uint32_t tag)
{
    static const uint8_t zero[16];
    return key_hash(proto, saddr, sport, zero, (uint16_t)tag, H_SALT_TAG ^ ((uint64_t)tag << 32));
}

static int ht_grow(struct tg_engine *g)
{
    uint32_t ncap = g->ht ? (g->htmask + 1) * 2 : 4096;
    uint64_t *nt = calloc(ncap, sizeof(*nt));

    if (!nt)
        return -ENOMEM;
    for (uint32_t i = 0; g->ht && i <= g->htmask; i++) {
        uint64_t e = g->ht[i];
        if (!e)
            continue;
        uint32_t pos = (uint32_t)(e >> 32) & (ncap - 1);
        while (nt[pos])
            pos = (pos + 1) & (ncap - 1);
        nt[pos] = e;
    }
    free(g->ht);
    g->ht = nt;
    g->htmask = ncap - 1;
    return 0;
}

static int ht_put(struct tg_engine *g, uint32_t h, unsigned kind, uint32_t slot)
{
    if (!g->ht || (g->htn + 1) * 2 > g->htmask + 1) {
        /* (reserved: sized for every flow the cap allows, cannot happen) */
        int r = g->reserved ? -ENOBUFS : ht_grow(g);
        if (r < 0)
            return r;
    }
    uint32_t pos = h & g->htmask;
    while (g->ht[pos])
        pos = (pos + 1) & g->htmask;
    g->ht[pos] = (uint64_t)h << 32 | (uint64_t)kind << 30 | slot;
    g->htn++;
    return 0;
}

static void ht_del(struct tg_engine *g, uint32_t h, unsigned kind, uint32_t slot)
{
    uint64_t want = (uint64_t)h << 32 | (uint64_t)kind << 30 | slot;
    uint32_t pos;

    if (!g->ht)
        return;
    pos = h & g->htmask;
    while (g->ht[pos] && g->ht[pos] != want)
        pos = (pos + 1) & g->htmask;
    if (!g->ht[pos])
        return;
    /* backward-shift deletion keeps probe chains whole */
    uint32_t hole = pos, i = pos;
    for (;;) {
        i = (i + 1) & g->htmask;
        uint64_t e = g->ht[i];
        if (!e)
            break;
        uint32_t home = (uint32_t)(e >> 32) & g->htmask;
        /* move e into the hole unless its home lies cyclically in (hole, i] */
        bool stay = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stay) {
            g->ht[hole] = e;
            hole = i;
        }
    }
    g->ht[hole] = 0;
    g->htn--;
}

/* ---------------------------------------------------------------- queue */

static int q_grow(struct tg_engine *g, uint32_t ncap)
{
    struct qent *nq = malloc(ncap * sizeof(*nq));

    if (!nq)
        return -ENOMEM;
    for (uint32_t i = 0; i < g->qn; i++)
        nq[i] = g->q[(g->qhead + i) & (g->qcap - 1)];
    free(g->q);
    g->q = nq;
    g->qcap = ncap;
    g->qhead = 0;
    return 0;
}

/* A full queue: -ENOBUFS when reserved (the caller defers the packet),
 * else it doubles. */
static __attribute__((noinline, cold)) int q_full(struct tg_engine *g)
{
    if (g->reserved)
        return -ENOBUFS;
    return q_grow(g, g->qcap ? g->qcap * 2 : 1024);
}

/* The queue's next slot, taken (the caller fills it), or NULL with *r
 * -ENOBUFS (reserved and full: the caller defers the packet) or -ENOMEM.
 * (Inline, the growth out of line: a paced run queues every packet it
 * sends; open_fire fills the slot in place rather than copy an entry.) */
static inline struct qent *q_slot(struct tg_engine *g, int *r)
{
    if (__builtin_expect(g->qn == g->qcap, 0) && (*r = q_full(g)) < 0)
        return NULL;
    return &g->q[(g->qhead + g->qn++) & (g->qcap - 1)];
}

/* -ENOBUFS: reserved and full (the caller defers the packet). */
static inline int q_push(struct tg_engine *g, const struct qent *e)
{
    int r = 0;
    struct qent *s = q_slot(g, &r);

    if (!s)
        return r;
    *s = *e;
    return 0;
}

/* ---------------------------------------------------------------- flows */

static const struct tg_tmpl *tmpl_of(const struct tg_engine *g, const struct tg_flow *f)
{
    return &g->ts.t[f->tmpl];
}

static uint64_t scaled(const struct tg_engine *g, uint64_t rel)
{
    if (g->p.speed == 1.0)
        return rel;
    return (uint64_t)((double)rel / g->p.speed);
}

static void flow_end(struct tg_engine *g, struct tg_flow *f, uint64_t now, bool ok, bool reset,
                     bool aborted)
{
    const struct tg_tmpl *t = tmpl_of(g, f);
    uint32_t slot = UINT32_MAX;

    bt_twheel_cancel(g->w, &f->t);
    if (aborted)
        g->sum.flows_aborted++;
    else if (ok)
        g->sum.flows_completed++;
    else
        g->sum.flows_failed++;
    if (g->closed || g->flow_cb) {
        struct fvals fv;
        flow_values(g, f->idx, t, &fv);
        if (g->closed) {
            slot = slot_of(g, f);
            struct tg_cflow *cf = cflow_at(g, slot);
            ht_del(g, key_hash(t->proto, fv.caddr, fv.cport, fv.saddr, t->sport, H_SALT_TUPLE),
                   K_ORIG, slot);
            if (cf->learned)
                ht_del(g, key_hash(t->proto, cf->xaddr, cf->xport, fv.saddr, t->sport,
                                   H_SALT_TUPLE), K_LEARN, slot);
            if (cf->tagged)
                ht_del(g, tag_hash(t->proto, fv.saddr, t->sport, fv.tag), K_TAG, slot);
        }
        if (g->flow_cb && !aborted) {
            struct tg_flow_info fi = {
                .flow = f->idx, .tmpl = f->tmpl, .ok = ok, .reset = reset, .proto = t->proto,
                .family = t->family, .cport = fv.cport, .sport = t->sport,
                .start_ns = g->closed ? cflow_at(g, slot_of(g, f))->first_ns : f->start_ns,
                .end_ns = now,
            };
            memcpy(fi.client, fv.caddr, 16);
            memcpy(fi.server, fv.saddr, 16);
            g->flow_cb(g->flow_arg, &fi);
        }
    }
    flow_release(g, f);
}

static void open_fire(struct bt_timer *tm, uint64_t now, void *arg);
static void closed_fire(struct bt_timer *tm, uint64_t now, void *arg);
static void closed_run(struct tg_engine *g, struct tg_flow *f, uint64_t now);

/* The latest start time a run may need, in seconds: the engine's clock is
 * uint64_t ns (1.8e10 s); starts stay well inside it so t0 and template
 * times can be added (tg_engine_new refuses profiles that go past). */
#define TG_START_MAX_S 1e10

/* The earliest start among the groups, or UINT64_MAX. */
static uint64_t next_start_scan(const struct tg_engine *g, unsigned *which)
{
    uint64_t best = UINT64_MAX;

    if (g->ngrp == 1 && g->p.rate_max) {
        /* rate max starts at once: the time only orders several entries */
        *which = 0;
        return g->grp[0].done ? UINT64_MAX : g->t0;
    }
    for (unsigned i = 0; i < g->ngrp; i++) {
        const struct group *gr = &g->grp[i];
        if (gr->done)
            continue;
        uint64_t t = g->t0 + (uint64_t)((double)gr->n * 1e9 / gr->rate);
        if (t < best) {
            best = t;
            *which = i;
        }
    }
    return best;
}

/* next_start_scan's answer, kept until a group's count or done changes
 * (take_start, start_due_rr: ns_valid cleared) or t0 is set (begin, once,
 * before the first look): a paced run asks twice a step, one start in
 * many steps changes it. */
static inline uint64_t next_start(const struct tg_engine *g, unsigned *which)
{
    struct tg_engine *cg = (struct tg_engine *)g;  /* the cache only */

    if (!g->ns_valid) {
        cg->ns_t = next_start_scan(g, &cg->ns_which);
        cg->ns_valid = true;
    }
    if (g->ns_t != UINT64_MAX)
        *which = g->ns_which;
    return g->ns_t;
}

static int start_flow(struct tg_engine *g, unsigned gi, uint64_t start)
{
    struct group *gr = &g->grp[gi];
    struct tg_flow *f = flow_alloc(g);
    const struct tg_tmpl *t;

    if (!f)
        return -ENOMEM;
    memset(f, 0, sizeof(*f));
    f->idx = g->gidx - 1;
    f->tmpl = (uint16_t)(gr->first + (gr->count == 1 ? 0 : (gr->n - 1) % gr->count));
    f->state = F_ACTIVE;
    f->start_ns = start;
    g->active++;
    g->sum.flows_started++;
    t = tmpl_of(g, f);
    if (g->closed) {
        uint32_t slot = slot_of(g, f);
        struct tg_cflow *cf = cflow_at(g, slot);
        struct fvals fv;
        memset(cf, 0, sizeof(*cf));
        flow_values(g, f->idx, t, &fv);
        if (ht_put(g, key_hash(t->proto, fv.caddr, fv.cport, fv.saddr, t->sport, H_SALT_TUPLE),
                   K_ORIG, slot) < 0 ||
            ht_put(g, tag_hash(t->proto, fv.saddr, t->sport, fv.tag), K_TAG, slot) < 0)
            return -ENOMEM;
        cf->tagged = 1;
        cf->first_ns = start;
        bt_timer_init(&f->t, closed_fire, g);
        /* the first packet leaves at its template time */
        f->start_ns = start;
        closed_run(g, f, start);
    } else if (g->p.rate_max) {
        fcache_fill(g, f, t);
        f->k = t->fbase;
        rr_append(g, f);
    } else {
        bt_timer_init(&f->t, open_fire, g);
        bt_twheel_arm(g->w, &f->t, start + scaled(g, t->p[0].rel_ns));
    }
    return 0;
}

/* start_flow for rate max, open loop, from one template entry: every
 * field of the flow set (no memset), its values computed inline. */
static inline int start_rr_flow(struct tg_engine *g, const struct group *gr, uint64_t now)
{
    struct tg_flow *f = flow_alloc(g);

    if (!f)
        return -ENOMEM;
    f->idx = g->gidx - 1;
    f->tmpl = (uint16_t)(gr->first + (gr->count == 1 ? 0 : (gr->n - 1) % gr->count));
    f->state = F_ACTIVE;
    f->tries = 0;
    f->start_ns = now;
    g->active++;
    g->sum.flows_started++;
    const struct tg_tmpl *t = tmpl_of(g, f);
    fcache_fill(g, f, t);
    f->k = t->fbase;
    rr_append(g, f);
    return 0;
}

/* Counts one start of group gr (its entry's limit, the flow index); false
 * when the flow is another partition's (another worker starts it). */
static inline __attribute__((always_inline)) bool take_start(struct tg_engine *g, struct group *gr)
{
    gr->n++;
    if (gr->limit && gr->n >= gr->limit)
        gr->done = true;
    g->ns_valid = false;
    g->gidx++;
    return g->p.nparts <= 1 || (g->gidx - 1) % g->p.nparts == g->p.part;
}

/* start_due for rate max, open loop, one template entry: the same checks
 * in the same order (its next start is always the time origin). */
static int start_due_rr(struct tg_engine *g, uint64_t now)
{
    struct group *gr = &g->grp[0];

    g->blocked = false;
    /* (one part and a concurrency cap: the starts the limits leave, in a
     * row, without checking each limit before each; the loop below then
     * meets the limit that stopped them and says so) */
    if (g->p.nparts <= 1 && g->conc && !g->starts_done && !g->stopped && !gr->done &&
        !(g->p.duration_ns && now - g->t0 >= g->p.duration_ns)) {
        uint64_t k = g->active < g->conc ? g->conc - g->active : 0;
        if (g->flows_total) {
            uint64_t left = g->flows_total > g->gidx ? g->flows_total - g->gidx : 0;
            k = left < k ? left : k;
        }
        if (gr->limit) {
            uint64_t left = gr->limit > gr->n ? gr->limit - gr->n : 0;
            k = left < k ? left : k;
        }
        int r = 0;
        for (; k && r == 0; k--) {
            /* take_start's counts */
            gr->n++;
            g->gidx++;
            r = start_rr_flow(g, gr, now);
        }
        if (gr->limit && gr->n >= gr->limit)
            gr->done = true;
        g->ns_valid = false;
        if (r < 0)
            return r;
    }
    while (!g->starts_done && !g->stopped) {
        if (gr->done || (g->flows_total && g->gidx >= g->flows_total) ||
            (g->p.duration_ns && now - g->t0 >= g->p.duration_ns)) {
            g->starts_done = true;
            break;
        }
        if (g->conc && g->active >= g->conc) {
            g->blocked = true;
            break;
        }
        if (!take_start(g, gr))
            continue;
        int r = start_rr_flow(g, gr, now);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Starts every flow due by now (rate max: as many as the cap allows). */
static int start_due(struct tg_engine *g, uint64_t now)
{
    unsigned gi = 0;

    if (g->p.rate_max && !g->closed && g->ngrp == 1)
        return start_due_rr(g, now);
    g->blocked = false;
    while (!g->starts_done && !g->stopped) {
        uint64_t t = next_start(g, &gi);
        if (t == UINT64_MAX) {
            g->starts_done = true;
            break;
        }
        /* the limits first: once no start is left, starts are done now
         * (not when the next start would have been due) */
        if (g->flows_total && g->gidx >= g->flows_total) {
            g->starts_done = true;
            break;
        }
        if (g->p.duration_ns && t - g->t0 >= g->p.duration_ns && !g->p.rate_max) {
            g->starts_done = true;
            break;
        }
        if (!g->p.rate_max && t > now)
            break;
        if (g->p.duration_ns && g->p.rate_max && now - g->t0 >= g->p.duration_ns) {
            g->starts_done = true;
            break;
        }
        if (g->conc && g->active >= g->conc) {
            g->blocked = true;
            break;
        }
        if (!take_start(g, &g->grp[gi]))
            continue;
        /* a start held back by the cap happens now, not in the past */
        int r = start_flow(g, gi, g->p.rate_max || t < now ? now : t);
        if (r < 0)
            return r;
    }
    return 0;
}

static void open_fire(struct bt_timer *tm, uint64_t now, void *arg)
{
    struct tg_engine *g = arg;
    struct tg_flow *f = (struct tg_flow *)tm;
    const struct tg_tmpl *t = tmpl_of(g, f);
    int r = 0;
    struct qent *e = q_slot(g, &r);

    if (e) {
        e->idx = f->idx;
        e->due = tm->deadline_ns;
        e->slot = UINT32_MAX;
        e->k = f->k;
        e->tmpl = f->tmpl;
        e->retx = 0;
    }
    if (r == -ENOBUFS) {
        /* reserved and the queue is full: the wheel fires it again at the
         * next advance, still due when it was */
        bt_twheel_arm(g->w, &f->t, tm->deadline_ns);
        return;
    }
    if (r < 0) {
        /* out of memory: the flow cannot go on */
        flow_end(g, f, now, false, false, false);
        return;
    }
    if (++f->k < t->n)
        bt_twheel_arm(g->w, &f->t, f->start_ns + scaled(g, t->p[f->k].rel_ns));
    else
        flow_end(g, f, now, true, false, false);
}

/* ---------------------------------------------------------------- closed loop */

static uint64_t rto_of(const struct tg_engine *g, unsigned tries)
{
    uint64_t r = g->p.rto_ns;
    for (unsigned i = 0; i < tries && r < g->p.rto_max_ns; i++)
        r *= 2;
    return r < g->p.rto_max_ns ? r : g->p.rto_max_ns;
}

/* When packet k may leave, if the window lets it (UINT64_MAX: not yet). */
static uint64_t closed_send_time(const struct tg_engine *g, const struct tg_flow *f,
                                 const struct tg_cflow *cf, const struct tg_tmpl *t)
{
    uint32_t k = f->k, inflight = k - cf->wbase;
    const struct tg_tpkt *tp = &t->p[k];

    if (inflight && cf->wside != tp->side)
        return UINT64_MAX;           /* waits for the other side's packets */
    if (inflight >= TG_WIN)
        return UINT64_MAX;           /* window full */
    if (g->p.rate_max)
        return 0;
    if (k == 0)
        return f->start_ns + scaled(g, tp->rel_ns);
    if (t->p[k - 1].side != tp->side)
        return cf->ready_ns;         /* answered: goes as soon as the last one arrived */
    return f->start_ns + scaled(g, tp->rel_ns - t->p[k - 1].rel_ns);
}

static void closed_run(struct tg_engine *g, struct tg_flow *f, uint64_t now)
{
    const struct tg_tmpl *t = tmpl_of(g, f);
    uint32_t slot = slot_of(g, f);
    struct tg_cflow *cf = cflow_at(g, slot);
    uint64_t next = UINT64_MAX;

    bt_twheel_cancel(g->w, &f->t);
    /* retransmission timeout of the oldest unanswered packet */
    uint32_t inflight = f->k - cf->wbase;
    if (inflight) {
        uint64_t oldest = UINT64_MAX;
        for (uint32_t j = 0; j < inflight; j++)
            if (!(cf->wrecv >> j & 1) && cf->sent[j] < oldest)
                oldest = cf->sent[j];
        if (oldest != UINT64_MAX && oldest + rto_of(g, f->tries) <= now) {
            if (f->tries >= g->p.retries) {
                flow_end(g, f, now, false, false, false);
                return;
            }
            if (g->reserved && g->qcap - g->qn < inflight) {
                /* no room for the window: again at the next advance */
                bt_twheel_arm(g->w, &f->t, now);
                return;
            }
            f->tries++;
            for (uint32_t j = 0; j < inflight; j++) {
                if (cf->wrecv >> j & 1)
                    continue;
                struct qent e = {.idx = f->idx, .due = now, .slot = slot, .k = cf->wbase + j,
                                 .tmpl = f->tmpl, .retx = 1};
                if (q_push(g, &e) < 0) {
                    flow_end(g, f, now, false, false, false);
                    return;
                }
                cf->sent[j] = now;
                cf->wretx |= (uint16_t)(1u << j);
                g->sum.retransmits++;
            }
        }
    }
    /* new packets */
    while (f->k < t->n) {
        uint64_t st = closed_send_time(g, f, cf, t);
        if (st > now) {
            next = st;
            break;
        }
        if (g->reserved && g->qn == g->qcap) {
            next = now;  /* the queue is full: again at the next advance */
            break;
        }
        if (f->k == cf->wbase) {
            cf->wside = t->p[f->k].side;
            cf->wrecv = cf->wretx = 0;
        }
        struct qent e = {.idx = f->idx, .due = st > 0 ? st : now, .slot = slot, .k = f->k,
                         .tmpl = f->tmpl};
        if (q_push(g, &e) < 0) {
            flow_end(g, f, now, false, false, false);
            return;
        }
        cf->sent[f->k - cf->wbase] = e.due;
        f->start_ns = e.due;         /* closed loop: when the previous packet left */
        f->k++;
    }
    inflight = f->k - cf->wbase;
    if (inflight) {
        uint64_t oldest = UINT64_MAX;
        for (uint32_t j = 0; j < inflight; j++)
            if (!(cf->wrecv >> j & 1) && cf->sent[j] < oldest)
                oldest = cf->sent[j];
        if (oldest != UINT64_MAX) {
            uint64_t d = oldest + rto_of(g, f->tries);
            if (d < next)
                next = d;
        }
    }
    if (next != UINT64_MAX)
        bt_twheel_arm(g->w, &f->t, next);
}

static void closed_fire(struct bt_timer *tm, uint64_t now, void *arg)
{
    closed_run(arg, (struct tg_flow *)tm, now);
}

/* Does received packet p (parsed) belong to flow f as a candidate of kind? */
static bool verify_tuple(const struct tg_engine *g, const struct tg_flow *f, unsigned kind,
                         const struct bt_parsed *p, uint16_t port, uint32_t slot)
{
    const struct tg_tmpl *t = tmpl_of(g, f);
    struct fvals fv;
    const uint8_t *ca = port == TG_PORT_SERVER ? p->src : p->dst;
    const uint8_t *sa = port == TG_PORT_SERVER ? p->dst : p->src;
    uint16_t cp = port == TG_PORT_SERVER ? p->sport : p->dport;
    uint16_t sp = port == TG_PORT_SERVER ? p->dport : p->sport;

    if (f->state != F_ACTIVE || t->proto != p->proto || sp != t->sport)
        return false;
    flow_values(g, f->idx, t, &fv);
    if (memcmp(sa, fv.saddr, 16))
        return false;
    if (kind == K_ORIG)
        return cp == fv.cport && !memcmp(ca, fv.caddr, 16);
    const struct tg_cflow *cf = cflow_at(g, slot);
    return cf->learned && cp == cf->xport && !memcmp(ca, cf->xaddr, 16);
}

/* Which packet in flight p is: its window index, or -1. */
static int window_match(const struct tg_engine *g, const struct tg_flow *f,
                        const struct tg_cflow *cf, const struct bt_parsed *p, uint8_t side)
{
    const struct tg_tmpl *t = tmpl_of(g, f);
    uint32_t inflight = f->k - cf->wbase;
    struct fvals fv;

    if (!inflight || cf->wside != side)
        return -1;
    if (t->proto == 6)
        flow_values(g, f->idx, t, &fv);
    for (uint32_t j = 0; j < inflight; j++) {
        const struct tg_tpkt *tp = &t->p[cf->wbase + j];
        if (cf->wrecv >> j & 1)
            continue;
        if (tp->paylen != p->payload_len)
            continue;
        if (t->proto == 6) {
            uint32_t off = side ? fv.soff : fv.coff;
            uint8_t mask = BT_TCP_SYN | BT_TCP_FIN | BT_TCP_RST;
            if ((tp->tcp_flags & mask) != (p->tcp_flags & mask) || tp->seq + off != p->seq)
                continue;
        }
        return (int)j;
    }
    return -1;
}

static void closed_rx(struct tg_engine *g, uint64_t now, uint16_t port, const uint8_t *frame,
                      uint32_t len)
{
    struct bt_parsed p;
    uint8_t side = port == TG_PORT_SERVER ? 0 : 1;  /* who sent what arrives on port */
    struct tg_flow *f = NULL;
    uint32_t slot = 0;
    unsigned kind = 0;

    if (bt_parse(frame, len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK ||
        (p.proto != 6 && p.proto != 17) || !g->ht) {
        g->sum.rx_unmatched++;
        return;
    }
    const uint8_t *ca = port == TG_PORT_SERVER ? p.src : p.dst;
    const uint8_t *sa = port == TG_PORT_SERVER ? p.dst : p.src;
    uint16_t cp = port == TG_PORT_SERVER ? p.sport : p.dport;
    uint16_t sp = port == TG_PORT_SERVER ? p.dport : p.sport;
    uint32_t h = key_hash(p.proto, ca, cp, sa, sp, H_SALT_TUPLE);
    for (uint32_t pos = h & g->htmask; g->ht[pos]; pos = (pos + 1) & g->htmask) {
        uint64_t e = g->ht[pos];
        if ((uint32_t)(e >> 32) != h)
            continue;
        unsigned kd = (unsigned)(e >> 30) & 3;
        uint32_t s = (uint32_t)e & 0x3fffffff;
        if (kd == K_TAG)
            continue;
        if (verify_tuple(g, flow_at(g, s), kd, &p, port, s)) {
            f = flow_at(g, s);
            slot = s;
            kind = kd;
            break;
        }
    }
    if (!f && port == TG_PORT_SERVER) {
        /* hide-NAT: a client packet with a translated source; find its flow
         * by the tag it carries and learn the translation */
        uint32_t tag = p.ip_version == 4
            ? (uint32_t)frame[p.l3_off + 4] << 8 | frame[p.l3_off + 5]
            : ((uint32_t)(frame[p.l3_off + 1] & 0x0f) << 16 | (uint32_t)frame[p.l3_off + 2] << 8 |
               frame[p.l3_off + 3]);
        uint32_t th = tag_hash(p.proto, sa, sp, tag);
        for (uint32_t pos = th & g->htmask; g->ht[pos]; pos = (pos + 1) & g->htmask) {
            uint64_t e = g->ht[pos];
            if ((uint32_t)(e >> 32) != th || ((e >> 30) & 3) != K_TAG)
                continue;
            uint32_t s = (uint32_t)e & 0x3fffffff;
            struct tg_flow *c = flow_at(g, s);
            struct tg_cflow *cf = cflow_at(g, s);
            const struct tg_tmpl *t = tmpl_of(g, c);
            struct fvals fv;
            if (c->state != F_ACTIVE || cf->learned || t->proto != p.proto || t->sport != sp)
                continue;
            flow_values(g, c->idx, t, &fv);
            if (fv.tag != tag || memcmp(fv.saddr, sa, 16) || window_match(g, c, cf, &p, 0) < 0)
                continue;
            memcpy(cf->xaddr, ca, 16);
            cf->xport = cp;
            cf->learned = 1;
            cf->tagged = 0;
            ht_del(g, th, K_TAG, s);
            if (ht_put(g, h, K_LEARN, s) < 0) {
                flow_end(g, c, now, false, false, false);
                g->sum.rx_unmatched++;
                return;
            }
            g->sum.nat_learned++;
            f = c;
            slot = s;
            kind = K_LEARN;
            break;
        }
    }
    if (!f) {
        g->sum.rx_unmatched++;
        return;
    }
    (void)kind;  /* ORIG or LEARN: the same from here on */
    g->sum.rx_matched++;
    struct tg_cflow *cf = cflow_at(g, slot);
    const struct tg_tmpl *t = tmpl_of(g, f);
    if (cf->tagged && port == TG_PORT_SERVER) {
        /* arrived untranslated: no need to learn */
        struct fvals fv;
        flow_values(g, f->idx, t, &fv);
        ht_del(g, tag_hash(t->proto, fv.saddr, t->sport, fv.tag), K_TAG, slot);
        cf->tagged = 0;
    }
    int j = window_match(g, f, cf, &p, side);
    if (p.proto == 6 && (p.tcp_flags & BT_TCP_RST) &&
        (j < 0 || !(t->p[cf->wbase + (uint32_t)j].tcp_flags & BT_TCP_RST))) {
        /* the device (or a policy) reset the connection */
        g->sum.rsts_seen++;
        flow_end(g, f, now, false, true, false);
        return;
    }
    if (j < 0)
        return;  /* a duplicate or a late copy: counted matched, changes nothing */
    cf->wrecv |= (uint16_t)(1u << j);
    if (!(cf->wretx >> j & 1)) {
        tg_hist_add(&g->lat, now >= cf->sent[j] ? now - cf->sent[j] : 0);
    }
    f->tries = 0;
    while (f->k > cf->wbase && (cf->wrecv & 1)) {
        cf->wrecv >>= 1;
        cf->wretx >>= 1;
        memmove(cf->sent, cf->sent + 1, (TG_WIN - 1) * sizeof(cf->sent[0]));
        cf->wbase++;
    }
    if (f->k == cf->wbase) {
        cf->ready_ns = now;
        if (f->k == t->n) {
            flow_end(g, f, now, true, false, false);
            return;
        }
    }
    closed_run(g, f, now);
}

/* ---------------------------------------------------------------- API */

static void refresh_next(struct tg_engine *g)
{
    g->wnext = bt_twheel_next_ns(g->w);
}

static void macs_set(struct tg_engine *g)
{
    memcpy(g->macs[0], g->p.client_dst_mac, 6);
    memcpy(g->macs[0] + 6, g->p.client_mac, 6);
    memcpy(g->macs[1], g->p.server_dst_mac, 6);
    memcpy(g->macs[1] + 6, g->p.server_mac, 6);
    if (g->fpl)
        fast_macs(g);
}

struct tg_engine *tg_engine_new(const struct tg_profile *p, uint32_t seed, struct bt_err *e)
{
    struct tg_engine *g;
    int r;

    if (tg_profile_check(p, e) < 0)
        return NULL;
    g = calloc(1, sizeof(*g));
    if (!g) {
        bt_err_setr(e, -ENOMEM, "out of memory");
        return NULL;
    }
    g->p = *p;
    g->seed = seed;
    g->closed = p->mode == TG_MODE_CLOSED;
    for (unsigned i = 0; i < p->ntemplates; i++) {
        const struct tg_tmpl_cfg *c = &p->tmpl[i];
        unsigned first = g->ts.n;
        r = c->pcap[0] ? tg_tset_add_pcap(&g->ts, c, i, e) : tg_tset_add_synth(&g->ts, c, i, e);
        if (r < 0)
            goto fail;
        for (unsigned k = first; k < g->ts.n; k++)
            tg_tmpl_retime(&g->ts.t[k], c->ipg_ns, c->rtt_ns);
        g->grp[i].first = first;
        g->grp[i].count = g->ts.n - first;
        g->grp[i].limit = c->flows;
    }
    if (g->ts.n > 65535) {
        bt_err_set(e, "%u templates: at most 65535 (pick conversations with flow:)", g->ts.n);
        goto fail;
    }
    g->ngrp = p->ntemplates;
    plan_templates(&g->ts);
    /* a conversation's packets at their template times / speed must fit
     * the clock as the starts do (a double past it converts to garbage:
     * every packet at once; found in review) */
    for (unsigned k = 0; k < g->ts.n; k++) {
        const struct tg_tmpl *t = &g->ts.t[k];
        double last = t->n ? (double)t->p[t->n - 1].rel_ns / p->speed : 0;
        if (last > TG_START_MAX_S * 1e9) {
            bt_err_set(e, "template %u (%s): its conversation lasts %.3g s at speed %g, past the %.3g s "
                       "the clock holds: raise speed or shorten rtt/ipg", t->entry + 1,
                       p->tmpl[t->entry].origin, last / 1e9, p->speed, TG_START_MAX_S);
            goto fail;
        }
    }
    /* rates: an entry's own cps, or its weight's share of the profile's */
    double wsum = 0;
    for (unsigned i = 0; i < p->ntemplates; i++)
        if (p->tmpl[i].cps == 0)
            wsum += p->tmpl[i].weight;
    for (unsigned i = 0; i < p->ntemplates; i++) {
        double r0 = p->tmpl[i].cps > 0 ? p->tmpl[i].cps : p->cps * p->tmpl[i].weight / wsum;
        g->grp[i].rate = r0 * p->cps_mult;
        if (!(g->grp[i].rate > 0) || g->grp[i].rate > 1e10) {
            bt_err_set(e, "template %u (%s): a rate of %g flows/s is impossible", i + 1,
                       p->tmpl[i].origin, g->grp[i].rate);
            goto fail;
        }
        /* the n-th start is at n / rate: it must fit the engine's clock
         * (uint64_t ns, 584 years; a double past it converts to garbage) */
        if (g->grp[i].rate < 1e-6) {
            bt_err_set(e, "template %u (%s): %g flows/s (cps x cps_multiplier) is one flow in "
                       "%.3g s: give at least 1e-6 flows/s", i + 1, p->tmpl[i].origin,
                       g->grp[i].rate, 1 / g->grp[i].rate);
            goto fail;
        }
        uint64_t most = g->grp[i].limit && (!p->flows || g->grp[i].limit < p->flows)
                            ? g->grp[i].limit : p->flows;
        if (most && (double)most / g->grp[i].rate > TG_START_MAX_S) {
            bt_err_set(e, "template %u (%s): %llu flows at %g flows/s start over %.3g s, past "
                       "the %.3g s the clock holds: raise cps or lower flows", i + 1,
                       p->tmpl[i].origin, (unsigned long long)most, g->grp[i].rate,
                       (double)most / g->grp[i].rate, TG_START_MAX_S);
            goto fail;
        }
    }
    /* pools by family */
    for (unsigned i = 0; i < p->nclients; i++) {
        unsigned f = p->clients[i].family;
        g->cl[f][g->ncl[f]++] = (uint8_t)i;
    }
    for (unsigned i = 0; i < p->nservers; i++) {
        unsigned f = p->servers[i].family;
        g->sv[f][g->nsv[f]++] = (uint8_t)i;
    }
    for (unsigned i = 0; i < g->ts.n; i++) {
        unsigned f = g->ts.t[i].family;
        if (!g->ncl[f] || !g->nsv[f]) {
            bt_err_set(e, "template %s is IPv%u: give an IPv%u CIDR in both the client and the "
                       "server pools", g->ts.t[i].name, f, f);
            goto fail;
        }
        if (g->ts.t[i].n > UINT32_MAX / 2) {
            bt_err_set(e, "template %s: too many packets", g->ts.t[i].name);
            goto fail;
        }
    }
    g->nports = (uint64_t)p->cport_hi - p->cport_lo + 1;
    g->nports_m = fastmod_m(g->nports);
    for (unsigned i = 0; i < p->nservers; i++) {
        uint64_t ss = bt_cidr_size(&p->servers[i]);
        g->svmod[i] = ss == 1 ? 0 : ss == UINT64_MAX ? UINT64_MAX - 1 : ss - 1;
        if (g->svmod[i])
            g->svmod_m[i] = fastmod_m(g->svmod[i]);
    }
    g->flows_total = p->flows;
    if (!p->flows && !p->duration_ns)
        g->flows_total = 1000;
    g->conc = p->concurrency;
    if (p->rate_max && !g->conc && !g->closed)
        g->conc = MAX_RATE_CONC_DEFAULT;
    /* distinct conversations need distinct client (address, port) pairs */
    if (g->flows_total) {
        for (unsigned f = 4; f <= 6; f += 2) {
            uint64_t cap = 0;
            for (unsigned i = 0; i < g->ncl[f]; i++) {
                uint64_t s = bt_cidr_size(&p->clients[g->cl[f][i]]);
                cap = s > UINT64_MAX / g->nports ? UINT64_MAX : cap + s * g->nports;
            }
            bool used = false;
            for (unsigned i = 0; i < g->ts.n; i++)
                used |= g->ts.t[i].family == f;
            if (used && cap < g->flows_total) {
                bt_err_set(e, "%llu flows need more client address x port pairs than the IPv%u "
                           "pool has (%llu): widen clients or client_ports, or lower flows",
                           (unsigned long long)g->flows_total, f, (unsigned long long)cap);
                goto fail;
            }
        }
    }
    macs_set(g);
    if (p->rate_max && !g->closed && fast_plans(g) < 0) {
        bt_err_setr(e, -ENOMEM, "out of memory (the templates' rate max plans)");
        goto fail;
    }
    g->capped = p->pps > 0 || p->bps > 0;
    if (p->pps > 0) {
        g->depth_pkts = p->pps / 1000 > 32 ? p->pps / 1000 : 32;
        g->tok_pkts = g->depth_pkts;
    }
    if (p->bps > 0) {
        g->depth_bytes = p->bps / 8 / 1000 > 32 * 1600 ? p->bps / 8 / 1000 : 32 * 1600;
        g->tok_bytes = g->depth_bytes;
    }
    g->w = bt_twheel_new(WHEEL_TICK_NS, WHEEL_SLOTS, 0);
    g->pool = bt_pktpool_new(p->pool_pkts, FRAME_MAX);
    if (!g->w || !g->pool) {
        bt_err_setr(e, -ENOMEM, "out of memory: a packet pool of %u packets needs %.1f GiB (%u bytes "
                    "each): lower pool_packets", p->pool_pkts,
                    (double)p->pool_pkts * FRAME_MAX / (1024.0 * 1024 * 1024), (unsigned)FRAME_MAX);
        goto fail;
    }
    g->wnext = UINT64_MAX;
    rr_reset(g);
    if (!p->rate_max || g->closed) {
        /* (without it the values are computed a packet: the same bytes) */
        g->fvm = aligned_alloc(_Alignof(struct fmemo), FV_MEMO * sizeof(struct fmemo));
        for (unsigned i = 0; g->fvm && i < FV_MEMO; i++)
            g->fvm[i].idx = UINT64_MAX;
    }
    return g;
fail:
    tg_engine_free(g);
    return NULL;
}

struct tg_engine *tg_engine_free(struct tg_engine *g)
{
    if (!g)
        return NULL;
    for (uint32_t c = 0; c < g->nchunks; c++) {
        free(g->chunks[c]);
        free(g->cchunks[c]);
    }
    free(g->chunks);
    free(g->cchunks);
    free(g->q);
    free(g->ht);
    free(g->fpl);
    free(g->fvm);
    bt_twheel_free(g->w);
    bt_pktpool_free(g->pool);
    tg_tset_clear(&g->ts);
    free(g);
    return NULL;
}

int tg_engine_reserve(struct tg_engine *g, uint64_t concurrent_flows)
{
    uint64_t n = concurrent_flows;
    int r;

    if (g->started || g->reserved)
        return -EINVAL;
    if (g->conc && g->conc < n)
        n = g->conc;
    if (n == 0)
        n = 1;
    /* slots: chunks of CHUNK - 1 flows (flow 0 is a header); the slot
     * number must fit the hash entries' 30 bits */
    uint64_t nch = (n + CHUNK - 2) / (CHUNK - 1);
    if (nch > (1u << (30 - CHUNK_SHIFT)) - 1)
        return -E2BIG;
    /* the queue: closed loop, a window and one retransmission of it per
     * flow; paced open loop, a packet per flow (more are deferred); rate
     * max open loop does not queue */
    uint64_t qn = g->closed ? 2 * TG_WIN * n : g->p.rate_max ? 64 : n;
    uint32_t qcap = 1024;
    while (qcap < qn) {
        if (qcap >= 1u << 30)
            return -E2BIG;
        qcap <<= 1;
    }
    /* the hash: at most 2 entries per flow (ORIG and TAG or LEARN), kept
     * under half full */
    uint32_t hcap = 0;
    if (g->closed) {
        hcap = 4096;
        while (hcap < 2 * (3 * n + 1)) {
            if (hcap >= 1u << 31)
                return -E2BIG;
            hcap <<= 1;
        }
    }
    while ((uint64_t)g->nchunks < nch)
        if ((r = chunk_add(g)) < 0)
            return r;
    if (g->qcap < qcap && (r = q_grow(g, qcap)) < 0)
        return r;
    if (hcap && (!g->ht || g->htmask + 1 < hcap)) {
        uint64_t *nt = calloc(hcap, sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        free(g->ht);  /* (empty: nothing has started) */
        g->ht = nt;
        g->htmask = hcap - 1;
    }
    /* the cap holds starts back once every reserved slot is busy */
    g->conc = (uint32_t)(nch * (CHUNK - 1) < UINT32_MAX ? nch * (CHUNK - 1) : UINT32_MAX);
    if (n < g->conc)
        g->conc = (uint32_t)n;
    g->reserved = true;
    return 0;
}

/* The first call's work: the time origin, the wheel's "now". */
static __attribute__((noinline, cold)) void begin_first(struct tg_engine *g, uint64_t now)
{
    g->started = true;
    g->t0 = now;
    g->ns_valid = false;
    g->tok_ns = now;
    if (g->reserved) {
        /* the wheel (still empty) moved on to the time origin: the
         * same state as a new one, without allocating */
        bt_twheel_advance(g->w, now);
    } else {
        /* a new wheel whose "now" is the time origin */
        bt_twheel_free(g->w);
        g->w = bt_twheel_new(WHEEL_TICK_NS, WHEEL_SLOTS, now);
    }
}

/* (inline: every call of the API starts here, a paced run's twice a step) */
static inline void begin(struct tg_engine *g, uint64_t now)
{
    if (__builtin_expect(!g->started, 0))
        begin_first(g, now);
    if (now > g->now)
        g->now = now;
}

/* Makes every packet due by now ready (queue) and returns 0 or -ENOMEM. */
static int pump(struct tg_engine *g, uint64_t now)
{
    int r;

    begin(g, now);
    if (!g->w)
        return -ENOMEM;
    r = start_due(g, now);
    if (!g->p.rate_max || g->closed)
        bt_twheel_advance(g->w, now);
    refresh_next(g);
    return r;
}

static inline void refill(struct tg_engine *g, uint64_t now)
{
    if (now <= g->tok_ns)
        return;
    if (!g->capped) {
        g->tok_ns = now;   /* (no bucket to fill: no double arithmetic a call) */
        return;
    }
    double dt = (double)(now - g->tok_ns) / 1e9;
    if (g->p.pps > 0) {
        g->tok_pkts += dt * g->p.pps;
        if (g->tok_pkts > g->depth_pkts)
            g->tok_pkts = g->depth_pkts;
    }
    if (g->p.bps > 0) {
        g->tok_bytes += dt * g->p.bps / 8;
        if (g->tok_bytes > g->depth_bytes)
            g->tok_bytes = g->depth_bytes;
    }
    g->tok_ns = now;
}

static inline bool caps_allow(const struct tg_engine *g, uint32_t len)
{
    if (!g->capped)
        return true;
    if (g->p.pps > 0 && g->tok_pkts < 1)
        return false;
    if (g->p.bps > 0 && g->tok_bytes < len)
        return false;
    return true;
}

static inline void account(struct tg_engine *g, uint64_t now, uint32_t len, uint16_t port,
                           bool retx)
{
    g->sum.tx_packets++;
    g->sum.tx_bytes += len;
    if (port)
        g->sum.tx_server_packets++;
    else
        g->sum.tx_client_packets++;
    if (g->capped) {
        if (g->p.pps > 0)
            g->tok_pkts -= 1;
        if (g->p.bps > 0)
            g->tok_bytes -= len;
    }
    (void)retx;
    if (now > g->last_ns)
        g->last_ns = now;
}

/* account's work for n packets of bytes in all, server of them on port 1
 * (rate max without a cap: once per call, not per packet). */
static inline void rr_count(struct tg_engine *g, uint64_t now, unsigned n, uint64_t bytes,
                            uint64_t server)
{
    g->sum.tx_packets += n;
    g->sum.tx_bytes += bytes;
    g->sum.tx_server_packets += server;
    g->sum.tx_client_packets += n - server;
    if (n && now > g->last_ns)
        g->last_ns = now;
}

/* Rate max, open loop: the next flow on the round robin builds its next
 * packet into data (cap bytes), and fills pkt unless it is NULL. Its
 * length | its port << 16, 0 nothing. (Inlined into the loops of
 * tg_tx_fill and tg_tx_frames: this is the per-packet path of a --rate max
 * run.) */
static inline __attribute__((always_inline)) uint32_t next_rr(struct tg_engine *g, uint64_t now,
                                                              uint8_t *data, uint32_t cap,
                                                              struct bt_pkt *pkt, bool counted)
{
    {
        unsigned li = g->rr_ntake & (RR_AHEAD - 1);
        struct tg_flow *f = (struct tg_flow *)g->rr_head[li];
        if (!f) {
            /* (the queue is empty: its next flow would head list li) */
            if (start_due(g, now) < 0 || !(f = (struct tg_flow *)g->rr_head[li]))
                return 0;
        }
        /* the flow RR_AHEAD turns ahead: a cache miss at many concurrent
         * flows (a prefetch of NULL does nothing) */
        struct bt_timer *nx = f->t.next;
        __builtin_prefetch(nx, 1);
        uint32_t fi = f->k;
        const struct fpkt *fp = &g->fpl[fi].p;
        uint32_t len;
        if (__builtin_expect(fp->fast && cap >= IMG, 1)) {
            len = build_fast(fp, g->fpl[fi].img, &f->rr.fc, data);
        } else {
            const struct tg_tmpl *t = tmpl_of(g, f);
            struct fview a;
            fcache_view(g, &f->rr.fc, t->family, &a);
            len = build_open(g, t, fi - t->fbase, &a, data, cap);
            if (!len)
                return 0;
        }
        /* (counted: the caller's loop runs without a cap) */
        if (!counted && !caps_allow(g, len)) {
            g->cap_need = len;   /* tg_next_ns: when this one can go */
            return 0;
        }
        uint8_t side = fp->side;
        if (pkt) {
            pkt->len = pkt->wire_len = len;
            pkt->port = side;
            pkt->flags = side ? BT_PKT_F_SERVER : BT_PKT_F_CLIENT;
            pkt->ts_ns = now;
            pkt->meta = f->idx;
        }
        if (!counted)
            account(g, now, len, side, false);
        g->rr_head[li] = nx;
        if (!nx)
            g->rr_tailp[li] = &g->rr_head[li];
        g->rr_ntake++;
        f->k++;
        if (!(fp->fl & FP_LAST)) {
            rr_append(g, f);
        } else if (!g->flow_cb) {
            /* flow_end's work for an open-loop flow nobody is told of */
            g->sum.flows_completed++;
            flow_release(g, f);
        } else {
            f->t.next = NULL;  /* off the round robin: not an armed timer */
            flow_end(g, f, now, true, false, false);
        }
        return len | (uint32_t)side << 16;
    }
}

/* Builds the next packet into pkt (data/cap given). 1 built, 0 nothing. */
static inline __attribute__((always_inline)) int next_pkt(struct tg_engine *g, uint64_t now,
                                                         struct bt_pkt *pkt)
{
    struct fvals tmp;

    if (g->p.rate_max && !g->closed)
        return next_rr(g, now, pkt->data, pkt->cap, pkt, false) != 0;
    while (g->qn) {
        struct qent *e = &g->q[g->qhead];
        const struct tg_tmpl *t = &g->ts.t[e->tmpl];
        const struct tg_cflow *cf = NULL;
        if (e->slot != UINT32_MAX) {
            struct tg_flow *f = flow_at(g, e->slot);
            if (f->state != F_ACTIVE || f->idx != e->idx) {
                /* the flow ended (failed) after this packet was queued */
                g->qhead = (g->qhead + 1) & (g->qcap - 1);
                g->qn--;
                continue;
            }
            cf = cflow_at(g, e->slot);
        }
        const struct fvals *fv = flow_values_kept(g, e->idx, t, &tmp);
        struct fview a;
        fview_of(fv, &a);
        uint32_t len = cf ? build(g, t, e->k, fv, cf, pkt->data, pkt->cap)
                          : build_open(g, t, e->k, &a, pkt->data, pkt->cap);
        if (!len || !caps_allow(g, len))
            return 0;
        uint8_t side = t->p[e->k].side;
        pkt->len = pkt->wire_len = len;
        pkt->port = side;
        pkt->flags = (uint16_t)((side ? BT_PKT_F_SERVER : BT_PKT_F_CLIENT) |
                                (e->retx ? BT_PKT_F_RETX : 0));
        /* a packet held back by a cap leaves now */
        pkt->ts_ns = e->due > now || !g->capped ? e->due : now;
        if (g->p.rate_max)
            pkt->ts_ns = now;
        pkt->meta = e->idx;
        if (cf) {
            /* latency and timeouts count from when it really left */
            struct tg_cflow *wcf = cflow_at(g, e->slot);
            if (e->k >= wcf->wbase && e->k - wcf->wbase < TG_WIN)
                wcf->sent[e->k - wcf->wbase] = now > pkt->ts_ns ? now : pkt->ts_ns;
        }
        account(g, pkt->ts_ns, len, side, e->retx);
        g->qhead = (g->qhead + 1) & (g->qcap - 1);
        g->qn--;
        return 1;
    }
    return 0;
}

unsigned tg_tx_fill(struct tg_engine *g, uint64_t now_ns, struct bt_pkt *pkts, unsigned max)
{
    unsigned n = 0;

    if (pump(g, now_ns) < 0)
        return 0;
    refill(g, now_ns);
    if (g->p.rate_max && !g->closed) {
        if (g->capped) {
            while (n < max && next_rr(g, now_ns, pkts[n].data, pkts[n].cap, &pkts[n], false))
                n++;
            return n;
        }
        /* no cap: the counters once per call (account's work, summed) */
        uint64_t bytes = 0, server = 0;
        while (n < max && next_rr(g, now_ns, pkts[n].data, pkts[n].cap, &pkts[n], true)) {
            bytes += pkts[n].len;
            server += pkts[n].port;
            n++;
        }
        rr_count(g, now_ns, n, bytes, server);
        return n;
    }
    while (n < max && next_pkt(g, now_ns, &pkts[n]))
        n++;
    return n;
}

/* next_rr's work for a run of fast packets (frames into bufs[i] + off, of
 * at least IMG bytes each), without a cap, with the engine's hot values in
 * locals (the frames' byte stores may alias anything the engine holds):
 * stops before a packet it does not build (the round robin empty, a frame
 * for build_open) and before a flow's end that flow_end must see (a flow
 * callback), which next_rr then takes. Adds to *bytes and *server; the
 * count built. */
static inline __attribute__((always_inline)) unsigned
rr_burst_in(struct tg_engine *g, void *const *bufs, uint32_t off, uint32_t *lp, unsigned max,
            uint64_t *acct, bool cb)
{
    const struct fplan *fpl = g->fpl;
    uint32_t ntake = g->rr_ntake, napp = g->rr_napp;
    uint32_t *o = lp, *end = lp + max;
    uint64_t acc = 0;

    for (; o < end; o++, bufs++) {
        unsigned li = ntake & (RR_AHEAD - 1);
        struct bt_timer *t = g->rr_head[li];
        if (__builtin_expect(!t, 0))
            break;
        struct tg_flow *f = (struct tg_flow *)t;
        uint32_t fi = f->k;
        const struct fplan *pl = &fpl[fi];
        /* (a flow callback: a flow's end is next_rr's) */
        if (__builtin_expect(cb ? (pl->p.fl & (FP_FAST | FP_LAST)) != FP_FAST : !(pl->p.fl & FP_FAST), 0))
            break;
        struct bt_timer *nx = t->next;
        __builtin_prefetch(nx, 1);
        build_fast(&pl->p, pl->img, &f->rr.fc, (uint8_t *)*bufs + off);
        *o = pl->p.lp;
        acc += pl->acct;
        g->rr_head[li] = nx;
        if (!nx)
            g->rr_tailp[li] = &g->rr_head[li];
        ntake++;
        f->k = fi + 1;
        if (__builtin_expect(!(pl->p.fl & FP_LAST), 1)) {
            unsigned i = napp++ & (RR_AHEAD - 1);
            t->next = NULL;
            *g->rr_tailp[i] = t;
            g->rr_tailp[i] = &t->next;
        } else {
            /* flow_end's work for an open-loop flow nobody is told of */
            g->sum.flows_completed++;
            flow_release(g, f);
        }
    }
    g->rr_ntake = ntake;
    g->rr_napp = napp;
    *acct += acc;
    return (unsigned)(o - lp);
}

/* next_rr's work for a run of fast packets (frames into bufs[i] + off, of
 * at least IMG bytes each), without a cap, with the engine's hot values in
 * locals (the frames' byte stores may alias anything the engine holds):
 * stops before a packet it does not build (the round robin empty, a frame
 * for build_open) and before a flow's end that flow_end must see (a flow
 * callback), which next_rr then takes. Adds the plans' acct words to
 * *acct (max <= 65536: the bytes' sum stays below 2^32); the count
 * built. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TG_NO_CLONES)
/* (built twice, one picked at load time: for x86-64-v3, whose 32-byte
 * moves copy the image in two, and for any x86-64; -DTG_NO_CLONES builds
 * only the second, to test it on a machine that would pick the first) */
#define RR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RR_CLONES
#endif
static __attribute__((noinline)) RR_CLONES unsigned rr_burst(struct tg_engine *g, void *const *bufs,
                                                             uint32_t off, uint32_t *lp,
                                                             unsigned max, uint64_t *acct)
{
    if (g->flow_cb)
        return rr_burst_in(g, bufs, off, lp, max, acct, true);
    return rr_burst_in(g, bufs, off, lp, max, acct, false);
}

unsigned tg_tx_frames(struct tg_engine *g, uint64_t now_ns, void *const *bufs, uint32_t off,
                      uint32_t room, uint32_t *lp, unsigned max)
{
    unsigned n = 0;

    if (pump(g, now_ns) < 0)
        return 0;
    refill(g, now_ns);
    if (g->p.rate_max && !g->closed && !g->capped) {
        uint64_t bytes = 0, server = 0;
        while (n < max) {
            if (room >= IMG) {
                uint64_t acct = 0;
                n += rr_burst(g, bufs + n, off, lp + n, max - n < 65536 ? max - n : 65536, &acct);
                bytes += (uint32_t)acct;
                server += acct >> 32;
                if (n == max)
                    break;
            }
            /* (what rr_burst leaves: starts, build_open, flow_end) */
            uint32_t r = next_rr(g, now_ns, (uint8_t *)bufs[n] + off, room, NULL, true);
            if (!r)
                break;
            lp[n++] = r;
            bytes += r & 0xffff;
            server += r >> 16;
        }
        rr_count(g, now_ns, n, bytes, server);
        return n;
    }
    /* (every other mode: tg_tx_fill's path, a packet at a time) */
    for (; n < max; n++) {
        struct bt_pkt pk = {.data = (uint8_t *)bufs[n] + off, .cap = room};
        if (!next_pkt(g, now_ns, &pk))
            break;
        lp[n] = pk.len | (uint32_t)pk.port << 16;
    }
    return n;
}

unsigned tg_tx(struct tg_engine *g, uint64_t now_ns, struct bt_pkt **out, unsigned max)
{
    unsigned n = 0;

    if (pump(g, now_ns) < 0)
        return 0;
    refill(g, now_ns);
    while (n < max) {
        if (!g->qn && (!g->p.rate_max || g->closed)) {
            /* next_pkt would build nothing (most calls of a paced run):
             * no packet taken and given back, the pool's state the same;
             * an empty pool counted as the allocation would have */
            if (!bt_pktpool_avail(g->pool))
                g->sum.tx_pool_empty++;
            break;
        }
        struct bt_pkt *pk = bt_pkt_alloc(g->pool);
        if (!pk) {
            g->sum.tx_pool_empty++;
            break;
        }
        if (!next_pkt(g, now_ns, pk)) {
            bt_pkt_free(pk);
            break;
        }
        out[n++] = pk;
    }
    return n;
}

/* false only when the frame cannot be a TCP RST whatever else it is: the
 * byte at the TCP flags' place of the layout it claims lacks the bit, or
 * its IP header names another protocol. (A non-first fragment's byte there
 * is payload: with the bit it goes to bt_parse, which sees no TCP header,
 * and without it it is no RST either way.) */
static inline bool maybe_rst(const uint8_t *f, uint32_t len)
{
    if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[14] == 0x45)
        return f[23] == 6 && (f[47] & BT_TCP_RST);
    if (len >= 74 && f[12] == 0x86 && f[13] == 0xdd) {
        if (f[20] == 6)
            return f[67] & BT_TCP_RST;
        return f[20] != 17 && f[20] != 58;   /* UDP, ICMPv6: no; extension headers: look */
    }
    return true;
}

void tg_rx_frame(struct tg_engine *g, uint64_t now_ns, uint16_t port, const uint8_t *frame,
                 uint32_t len)
{
    begin(g, now_ns);
    g->sum.rx_packets++;
    g->sum.rx_bytes += len;
    if (now_ns > g->last_ns)
        g->last_ns = now_ns;
    if (g->closed) {
        closed_rx(g, now_ns, port, frame, len);
        refresh_next(g);
        return;
    }
    /* open loop: count RSTs, match nothing. Most frames are plainly no RST
     * (untagged IPv4 without options or IPv6 without extension headers,
     * UDP or a TCP header without the bit: a whole parse each was ~3.5 % of
     * a co-simulation); whatever might be one is parsed */
    if (!maybe_rst(frame, len))
        return;
    struct bt_parsed p;
    if (bt_parse(frame, len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK && p.proto == 6 &&
        (p.tcp_flags & BT_TCP_RST))
        g->sum.rsts_seen++;
}

void tg_rx(struct tg_engine *g, uint64_t now_ns, uint16_t port, struct bt_pkt **pkts, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        tg_rx_frame(g, now_ns, port, pkts[i]->data, pkts[i]->len);
        bt_pkt_free(pkts[i]);
    }
}

/* The first time from due on at which the caps let a frame of need bytes
 * go (the buckets refill from tok_ns on). */
static uint64_t caps_ready(const struct tg_engine *g, uint64_t due, double need)
{
    if (g->p.pps > 0 && g->tok_pkts < 1) {
        uint64_t w = g->tok_ns + (uint64_t)((1 - g->tok_pkts) * 1e9 / g->p.pps) + 1;
        if (w > due)
            due = w;
    }
    if (g->p.bps > 0 && g->tok_bytes < need) {
        uint64_t w = g->tok_ns + (uint64_t)((need - g->tok_bytes) * 8e9 / g->p.bps) + 1;
        if (w > due)
            due = w;
    }
    return due;
}

uint64_t tg_next_ns(const struct tg_engine *g)
{
    uint64_t best;
    unsigned gi;

    if (!g->started)
        return 0;
    if (tg_done(g))
        return UINT64_MAX;
    if (g->qn) {
        const struct tg_tmpl *t = &g->ts.t[g->q[g->qhead].tmpl];
        return caps_ready(g, g->q[g->qhead].due,
                          t->p[g->q[g->qhead].k].len + (g->p.vlan ? 4 : 0));
    }
    /* rate max sends whenever the caps let it: when the frame they held
     * back last can go (a nanosecond a step was 10^5 steps a packet at
     * 10 kpps); before any was held back, when a frame of the smallest size
     * could */
    if (g->p.rate_max && !g->closed)
        return g->capped ? caps_ready(g, g->now, g->cap_need ? g->cap_need : 42) : g->now;
    best = g->wnext;
    if (!g->starts_done && !g->stopped && !g->blocked) {
        uint64_t s = next_start(g, &gi);
        if (g->p.rate_max)
            s = g->now;
        if (s < best)
            best = s;
    }
    return best;
}

bool tg_done(const struct tg_engine *g)
{
    if (!g->started)
        return false;
    return (g->starts_done || g->stopped) && g->active == 0 && g->qn == 0;
}

void tg_stop(struct tg_engine *g, uint64_t now_ns)
{
    begin(g, now_ns);
    g->stopped = true;
}

void tg_abort(struct tg_engine *g, uint64_t now_ns)
{
    begin(g, now_ns);
    g->stopped = true;
    /* rate max links its flows through t.next: off the round robin first,
     * or flow_end takes them for armed timers */
    for (unsigned i = 0; i < RR_AHEAD; i++)
        for (struct bt_timer *t = g->rr_head[i], *nx; t; t = nx) {
            nx = t->next;
            t->next = NULL;
        }
    rr_reset(g);
    for (uint32_t s = 0; s < g->nslots; s++) {
        struct tg_flow *f = flow_at(g, s);
        if ((s & (CHUNK - 1)) && f->state == F_ACTIVE)
            flow_end(g, f, now_ns, false, false, true);
    }
    g->qn = 0;
    refresh_next(g);
}

void tg_set_macs(struct tg_engine *g, uint16_t port, const uint8_t *src, const uint8_t *dst)
{
    if (src)
        memcpy(port ? g->p.server_mac : g->p.client_mac, src, 6);
    if (dst)
        memcpy(port ? g->p.server_dst_mac : g->p.client_dst_mac, dst, 6);
    macs_set(g);
}

unsigned tg_frame_part(const uint8_t *f, uint32_t len, unsigned nparts)
{
    uint32_t o = ETH_HLEN, tag;

    if (nparts <= 1)
        return 0;
    if (len < ETH_HLEN)
        return nparts;
    uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
    if (type == 0x8100 && len >= ETH_HLEN + 4) {
        type = (uint16_t)(f[16] << 8 | f[17]);
        o += 4;
    }
    if (type == 0x0800 && len >= o + 20 && (f[o] >> 4) == 4)
        tag = (uint32_t)f[o + 4] << 8 | f[o + 5];
    else if (type == 0x86dd && len >= o + 40 && (f[o] >> 4) == 6)
        tag = (uint32_t)(f[o + 1] & 0x0f) << 16 | (uint32_t)f[o + 2] << 8 | f[o + 3];
    else
        return nparts;
    return tag % nparts;
}

void tg_set_flow_cb(struct tg_engine *g, tg_flow_fn fn, void *arg)
{
    g->flow_cb = fn;
    g->flow_arg = arg;
}

unsigned tg_template_count(const struct tg_engine *g)
{
    return g->ts.n;
}

int tg_template_info(const struct tg_engine *g, unsigned i, struct tg_tmpl_info *out)
{
    const struct tg_tmpl *t;

    if (i >= g->ts.n)
        return -EINVAL;
    t = &g->ts.t[i];
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", t->name);
    out->proto = t->proto;
    out->family = t->family;
    out->server_port = t->sport;
    out->packets = t->n;
    out->client_packets = t->nclient;
    out->bytes = t->bytes;
    out->duration_ns = t->p[t->n - 1].rel_ns;
    out->cps = g->grp[t->entry].rate / g->grp[t->entry].count;
    return 0;
}

void tg_summary_get(const struct tg_engine *g, uint64_t now_ns, struct tg_summary *s)
{
    uint64_t end = g->last_ns > now_ns ? g->last_ns : now_ns;

    *s = g->sum;
    s->flows_active = g->active;
    s->duration_s = g->started && end > g->t0 ? (double)(end - g->t0) / 1e9 : 0;
    if (s->duration_s > 0) {
        s->tx_pps = (double)s->tx_packets / s->duration_s;
        s->tx_bps = (double)s->tx_bytes * 8 / s->duration_s;
        s->rx_pps = (double)s->rx_packets / s->duration_s;
        s->cps = (double)s->flows_started / s->duration_s;
        s->completed_cps = (double)s->flows_completed / s->duration_s;
    }
    s->lat_samples = g->lat.n;
    s->lat_p50_ns = tg_hist_pct(&g->lat, 50);
    s->lat_p99_ns = tg_hist_pct(&g->lat, 99);
    s->lat_max_ns = g->lat.max;
    s->state_bytes_per_flow = sizeof(struct tg_flow);
    if (g->closed)
        s->state_bytes_per_flow += sizeof(struct tg_cflow) + 3 * 2 * sizeof(uint64_t);
}
