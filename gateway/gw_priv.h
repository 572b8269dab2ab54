/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster's insides, shared by the core's modules (gw_cluster.c the
 * distributor, control, heartbeats and the sync network; gw_member.c what a
 * member does with a packet or a sync record; gw_stats.c, gw_control.c).
 * Not for drivers: they use gw_api.h.
 */
#ifndef GW_PRIV_H
#define GW_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "bt_dist.h"
#include "bt_flow.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "gw_conn.h"
#include "gw_sync.h"

struct bt_flowtab;
struct bt_parsed;
struct bt_pktpool;
struct gw_cpolicy;

enum { ROLE_OWNER = 1, ROLE_BACKUP = 2 };

enum {
    CONN_CLIENT_SRC = 1U << 0, /* the client is the canonical key's source */
    CONN_NAT        = 1U << 1, /* hide-NAT: nat_addr/nat_port translate the client */
    CONN_LOOSE      = 1U << 2, /* picked up from a backup: handshake states accept data */
    CONN_BLOCKED    = 1U << 3, /* a content rule dropped it: every later packet too */
    CONN_DEFERRED   = 1U << 4, /* its first packet was held in defer slot dslot (still there
                                * while that slot holds a packet of the same gen) */
};

/* The inline value of a member's connection table (key: canonical 5-tuple). */
struct gw_conn {
    uint32_t hash;        /* distribution hash of the opening direction (its bucket) */
    uint8_t role;         /* ROLE_* */
    uint8_t state;        /* enum gw_conn_state */
    uint8_t peer;         /* owner: its backup (0: none); backup: its owner */
    uint8_t flags;        /* CONN_* */
    uint8_t fin;          /* GW_FIN_* */
    uint8_t tmo;          /* enum gw_tmo armed for it */
    uint16_t nat_port;    /* host order */
    uint32_t nat_addr;    /* host order */
    uint32_t gen;         /* changes when the entry is (re)created: stale timers skip it */
    union {
        uint32_t dslot;   /* owner, CONN_DEFERRED: its defer slot (absolute index) */
        uint32_t ogen;    /* backup: its owner's gen of the entry (the records' gen) */
    };
    uint64_t last_ns;     /* last packet (owner) or record (backup) */
    uint64_t synced_ns;   /* last record sent about it (owner) */
};

/* A timer queue of one timeout class: FIFO (deadlines pushed in order). */
struct gw_tent {
    uint64_t deadline;
    uint32_t gen;
    struct bt_flow_key key;
};
struct gw_tq {
    struct gw_tent *e;
    uint32_t head, n, cap;       /* cap: 0 or a power of two (indices masked) */
};

/* Timer classes of a member: the connection timeouts (the defer timeout
 * has its own queue, struct gw_defer). */
enum { TQ_SYN = 0, TQ_FIN, TQ_UDP, TQ_ICMP, TQ_N };

/* pfsync's defer: a connection's first packet, held until the backup
 * acknowledges the message that carried its CREATE, at most defer_timeout.
 * The slots are a FIFO in the order connections were created (their
 * deadlines in order: a member's charges only grow), addressed by an
 * absolute index (masked into the ring), so a connection finds its slot
 * without a search and an ACK releases the slots of its message through
 * their chain without a connection lookup. */
struct gw_dslot {
    uint64_t deadline;
    struct bt_pkt *pkt;          /* NULL: released (acked, timed out) or its connection gone */
    uint32_t gen;                /* its connection's gen */
    uint32_t next;               /* the next slot of the same message; GW_DSLOT_NONE: last */
    uint32_t mseq;               /* the message that carried its CREATE (once sent) */
    uint8_t mto;                 /* and where it went (0: not sent) */
    uint8_t ord;                 /* its CREATE's place among the message's ACK_REQ records */
    bool cancelled;              /* acked: its timer is moot */
};
#define GW_DSLOT_NONE UINT32_MAX

/* A message of CREATEs waiting for its ACK: its sequence number, the
 * backup it went to, its first slot; dropped when acked or when its last
 * slot's deadline passed. */
struct gw_dmsg {
    uint64_t deadline;
    uint32_t seq, first, last;
    uint8_t to;
    bool done;
};

struct gw_defer {
    struct gw_dslot *e;
    uint32_t base, n, cap;       /* base: the head's absolute index; cap 0 or a power of two */
    struct gw_dmsg *msg;
    uint32_t mhead, mn, mcap;    /* mcap 0 or a power of two */
};

/* A sync record waiting for the member's next batch, encoded already. */
struct gw_pend {
    uint8_t to;
    uint8_t len;                 /* GW_SYNC_REC_LEN or GW_SYNC_REC_NAT_LEN */
    uint8_t rec[GW_SYNC_REC_NAT_LEN];
};

/* An entry of the out heap (p a struct bt_pkt: the packet's (ts_ns, meta))
 * and of the sync network's (p a struct gw_msg: its (at, seq)): the keys
 * held in the heap so that sifting does not touch what they point at. */
struct gw_hent {
    uint64_t ts, meta;
    void *p;
};

/* A source's entries behind its representative in a heap (gw_cluster.c):
 * the FIFO of what it queued in (ts, meta) order after that entry. */
struct gw_rq {
    struct gw_hent *e;
    uint32_t head, n, cap;       /* cap 0 or a power of two */
    uint64_t last;               /* ts of its newest entry in the heap or the FIFO */
    bool rep;                    /* one of its entries is in the heap, tagged */
};

/* Appends e to q's FIFO, which has room: e comes after q's newest. */
static inline void gw_rq_put(struct gw_rq *q, struct gw_hent e)
{
    q->e[(q->head + q->n++) & (q->cap - 1)] = e;
    q->last = e.ts;
}

#define HB_RING 64

/* The fields a packet or a sync record touches come first, the
 * heartbeat rings (1 KiB, touched once a heartbeat round) last: with 52
 * members the members' hot lines are what the L1 cache holds between
 * their packets (the rings in the middle spread them over 25 lines each). */
struct gw_member {
    int id;
    bool present, alive, detected_dead;
    uint32_t policy_version;
    struct gw_cluster *cl;       /* its cluster (for the earliest-member cache) */
    struct bt_flowtab *conns;    /* owner and backup entries */
    struct bt_flowtab *alias;    /* hide-NAT: translated canonical key -> original canonical key */
    uint32_t gen;
    unsigned npend, pend_cap;
    /* cost model */
    uint64_t busy_until;         /* when the work queued so far is done */
    uint64_t next_ns;            /* earliest of its own deadlines (cache) */
    uint64_t batch_due;          /* UINT64_MAX: nothing pending */
    /* HyperSync */
    struct gw_pend *pend;
    uint32_t *pend_order;        /* flush's scratch: pend's indices by destination (pend_cap) */
    struct gw_rq oq;             /* its packets on their way out (gw_out) */
    struct gw_member_stats st;
    /* timers */
    struct gw_tq tq[TQ_N];
    struct gw_defer defer;
    uint32_t sync_seq;
    uint16_t nat_next;           /* next port to try in its slice */
    uint64_t syncing_until;      /* bulk sync towards it lands by then */
    struct gw_rq nq;             /* its sync messages on the sync network */
    uint64_t died_ns;
    /* heartbeats */
    uint64_t last_ans;           /* the last answer the distributor got */
    double load;                 /* cpu % reported in that answer */
    uint64_t busy_at_hb;         /* busy_ns at the previous heartbeat */
    unsigned hb_head, hb_n;
    uint64_t hb_at[HB_RING];     /* answers on their way: arrival times */
    double hb_load[HB_RING];
};

/* A message of the outbox being filled (gw_sync_now, gw_cluster.c). */
struct gw_obuild {
    struct gw_msg *msg;          /* NULL: no buffer (its records are lost) */
    size_t len;
    uint64_t t;
    unsigned nrec;
    unsigned nreq;               /* records with GW_SYNC_F_ACK_REQ so far */
    uint32_t dfirst, dlast;      /* the chain of their defer slots (GW_DSLOT_NONE: empty) */
    uint64_t ddeadline;          /* the latest deadline of those slots */
    uint8_t from, to;
    bool bulk;
};


/* A sync message on the sync network. */
struct gw_msg {
    uint64_t at;                 /* arrival */
    uint64_t seq;
    uint8_t from, to;
    uint16_t len;
    struct gw_msg *next;         /* free list */
    uint8_t data[GW_SYNC_MTU];
};

struct gw_cluster {
    struct gw_config cfg;
    uint32_t cores_shift;        /* cfg.cost.cores = 1 << this; UINT32_MAX: not a power of two */
    uint64_t qlim_ns;            /* queue_pkts * ns_per_pkt / cores: a member's queue limit */
    uint64_t rng;
    uint64_t dseed;              /* bt_dist_seed(cfg.seed) */
    struct bt_dist *dist;
    struct bt_dist_tab dt;       /* its arrays, for the per-packet lookups */
    uint8_t *prev_owner;         /* per bucket: its primary before the last move */
    unsigned nmembers;           /* ids 1..nmembers ever present */
    struct gw_member m[GW_MAX_MEMBERS + 1];
    /* the earliest member deadline and the lowest id having it, kept as
     * members' next_ns change, so the event loop does not scan 64 members
     * per event: a tournament tree over the members (node i's winner from
     * nodes 2i and 2i+1, member id at leaf mt_leaves + id - 1, mt_leaves a
     * power of two >= nmembers), so a member's new deadline costs a walk
     * to the root, not a scan of every member when the earliest one moves
     * later; rebuilt when !mmin_ok (a member beyond its leaves) */
    uint64_t mmin_ns;
    int mmin_id;
    bool mmin_ok;
    unsigned mt_leaves;
    uint64_t mt_ns[2 * GW_MAX_MEMBERS];
    uint8_t mt_id[2 * GW_MAX_MEMBERS];
    uint64_t now;                /* the latest time seen */
    bool started;                /* the first call fixed the time base */
    uint64_t hb_next;            /* next heartbeat round */
    /* packets on their way out: min-heap on (ts_ns, meta), the keys held
     * in the heap so that sifting does not touch the packets */
    struct gw_hent *heap;
    unsigned heap_n, heap_cap;
    uint64_t out_seq;
    /* the sync network: min-heap on (at, seq) */
    struct gw_hent *net;
    unsigned net_n, net_cap;
    struct gw_msg *msg_free;
    uint64_t msg_seq;
    struct gw_obuild *ob;        /* the outbox: messages to send at the end of this burst */
    unsigned nob, ob_cap;
    uint32_t pair[(GW_MAX_MEMBERS + 1) * (GW_MAX_MEMBERS + 1)]; /* (from, to) -> ob index + 1 */
    struct bt_pktpool *pool;     /* RSTs of reject rules */
    struct gw_cpolicy *pol;
    uint32_t pol_version;
    gw_tap_fn tap;
    void *tap_arg;
    gw_event_fn ev_fn;
    void *ev_arg;
    gw_correction_fn corr;
    void *corr_arg;
    gw_nat_fn nat_fn;
    void *nat_arg;
    struct gw_stats st;
    /* stats sampling */
    uint64_t sample_t, sample_seq;
    struct gw_member_stats sample_prev[GW_MAX_MEMBERS + 1];
    struct bt_event evq[GW_STATS_MAX_EVENTS];
    unsigned evq_n;
    uint64_t evq_dropped;
};

/* gw_cluster.c */
void gw_advance(struct gw_cluster *g, uint64_t now);
/* Queues p (its ts_ns and meta set) in the out heap behind q (NULL: none);
 * drops it on ENOMEM. */
void gw_out_queue(struct gw_cluster *g, struct bt_pkt *p, struct gw_rq *q);
/* p leaves at due from member's queue through port. Inline: every packet
 * ends here, and with its member's earlier packets still queued (a burst)
 * it is an append to that member's FIFO (hq_push's first case). */
static inline void gw_out(struct gw_cluster *g, struct bt_pkt *p, uint64_t due, int member,
                          uint16_t port)
{
    struct gw_rq *q = member >= 1 && member <= GW_MAX_MEMBERS ? &g->m[member].oq : NULL;

    p->ts_ns = due;
    p->port = port;
    /* the member in the low byte: a member's death takes its packets with it */
    p->meta = (g->out_seq++ << 8) | (uint8_t)member;
    if (q && q->rep && due >= q->last && q->n < q->cap) {
        gw_rq_put(q, (struct gw_hent){due, p->meta, p});
        return;
    }
    gw_out_queue(g, p, q);
}
void gw_member_touch_next(struct gw_member *m, uint64_t t);
void gw_event(struct gw_cluster *g, uint64_t t, int kind, int sgm, int weight, int version,
              const char *detail);
int gw_desired_backup_slow(const struct gw_cluster *g, int owner, uint32_t hash);
/* The backup a connection of owner with distribution hash `hash` should
 * have (0: none): a connection whose bucket moved away from its owner is
 * best backed up where the distributor now sends it (if the owner dies, its
 * packets already land there); else the bucket's backup; else the best
 * other member. Inline: every new connection asks. */
static inline int gw_desired_backup(const struct gw_cluster *g, int owner, uint32_t hash)
{
    uint32_t b = bt_dist_tab_bucket(&g->dt, hash);
    int p = g->dt.primary[b], k = g->dt.backup[b];

    if (g->cfg.faults & GW_FAULT_NO_SYNC)
        return 0;
    if (p && p != owner)
        return p;
    if (k && k != owner)
        return k;
    return gw_desired_backup_slow(g, owner, hash);
}
uint64_t gw_charge(struct gw_cluster *g, struct gw_member *m, uint64_t t, uint64_t work_ns);
/* Queues the encoded record rec[0..rl) (gw_member_put_rec) in from's batch
 * (sent within sync_batch). */
void gw_sync_queue(struct gw_cluster *g, struct gw_member *from, int to, uint64_t t,
                   const uint8_t *rec, unsigned rl);
/* Encodes the record of type about from's connection c (key k) straight
 * into the outbox's message from `from` to `to` (sent at the end of the
 * burst or of the message being applied), ready at t; xflags as for
 * gw_member_put_rec; dslot: the defer slot of a CREATE with
 * GW_SYNC_F_ACK_REQ, else GW_DSLOT_NONE. */
void gw_sync_now(struct gw_cluster *g, struct gw_member *from, int to, uint64_t t,
                 const struct bt_flow_key *k, const struct gw_conn *c, uint8_t type,
                 uint8_t xflags, uint32_t dslot);
void gw_tq_push(struct gw_member *m, int q, uint64_t deadline, uint32_t gen,
                const struct bt_flow_key *k);

/* A packet's flow keys as the distributor made them once: k directional,
 * ck canonical (swapped: k was not), fh = bt_flowtab_hash(&ck) (every
 * member's table probes with it; the distributor prefetched with it). */
struct gw_pkey {
    struct bt_flow_key k, ck;
    uint64_t fh;
    int swapped;
};

/* gw_member.c */
void gw_member_rx(struct gw_cluster *g, struct gw_member *m, uint64_t now, uint16_t port,
                  uint32_t hash, struct bt_parsed *p, const struct gw_pkey *pk, struct bt_pkt *pkt);
/* Applies the connection record at r (checked by gw_sync_rec_check; not
 * an ACK: gw_defer_ack) of a message from member `from`; k its key
 * (gw_sync_get_key), fh = bt_flowtab_hash(k). True when r asked for an ACK
 * and is stored (the caller acknowledges the message). */
bool gw_member_apply(struct gw_cluster *g, struct gw_member *m, uint64_t t, uint8_t from,
                     const uint8_t *r, const struct bt_flow_key *k, uint64_t fh);
/* The defer queue (gw_member.c): a slot for p (ready at p->ts_ns) of the
 * connection of gen; its absolute index, or GW_DSLOT_NONE on ENOMEM. */
uint32_t gw_defer_push(struct gw_member *m, struct bt_pkt *p, uint64_t deadline, uint32_t gen);
/* Message seq of m to `to` carries the CREATEs of slots first.. (chained). */
void gw_defer_sent(struct gw_member *m, uint32_t seq, uint8_t to, uint32_t first, uint32_t last,
                   uint64_t deadline);
/* The ACK from member `from` of m's message seq landed on m at t: the
 * packets of the CREATEs its bitmap names leave. */
void gw_defer_ack(struct gw_cluster *g, struct gw_member *m, uint64_t t, uint8_t from,
                  uint32_t seq, uint32_t bits);
/* Timeouts due by t: the packets still held leave without their backup. */
void gw_defer_expire(struct gw_cluster *g, struct gw_member *m, uint64_t t);
/* The earliest defer deadline of m (UINT64_MAX: none). */
static inline uint64_t gw_defer_next(const struct gw_member *m)
{
    return m->defer.n ? m->defer.e[m->defer.base & (m->defer.cap - 1)].deadline : UINT64_MAX;
}
void gw_member_timer(struct gw_cluster *g, struct gw_member *m, int q, uint64_t t);
void gw_member_expire_lru(struct gw_cluster *g, struct gw_member *m, uint64_t t);
void gw_member_remove(struct gw_cluster *g, struct gw_member *m, struct gw_conn *c, uint64_t t,
                      bool sync_delete);
/* Encodes the record of type about m's connection c (key k) at p (room for
 * GW_SYNC_REC_NAT_LEN bytes), with xflags (GW_SYNC_F_ACK_REQ) added to what
 * c says; returns its length. */
static inline unsigned gw_member_put_rec(const struct gw_member *m, const struct bt_flow_key *k,
                                         const struct gw_conn *c, uint8_t type, uint8_t xflags,
                                         uint8_t *p)
{
    uint8_t fl = (uint8_t)(xflags | ((c->flags & CONN_CLIENT_SRC) ? GW_SYNC_F_CLIENT_SRC : 0) |
                           ((c->flags & CONN_NAT) ? GW_SYNC_F_NAT : 0) |
                           ((c->flags & CONN_LOOSE) ? GW_SYNC_F_LOOSE : 0) |
                           ((c->flags & CONN_BLOCKED) ? GW_SYNC_F_BLOCKED : 0));

    return gw_sync_put_conn(p, type, fl, c->state, c->fin, (uint8_t)m->id, c->peer, c->hash,
                            c->gen, k, c->nat_addr, c->nat_port);
}
/* The resync sweep after the bucket table changed: promote backups of dead
 * owners, give owners their desired backup (bulk sync), drop stale backups. */
void gw_member_resync(struct gw_cluster *g, struct gw_member *m, uint64_t t);
int gw_member_tables(struct gw_cluster *g, struct gw_member *m);
void gw_member_wipe(struct gw_cluster *g, struct gw_member *m);

#endif
