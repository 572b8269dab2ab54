/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference cluster core: the distributor (per packet: the mode's hash,
 * the bucket table's primary, the tap, the member's queue), heartbeats and
 * the dead timer, the sync network (messages delayed by sync_delay, lost
 * with the sync-loss fault), the packets on their way out (a min-heap on
 * their leaving time), and the control calls. What a member does with a
 * packet or a sync record is in gw_member.c.
 *
 * Time: every call runs the internal timers up to now_ns first, earliest
 * first (heartbeat rounds before anything else at the same instant), so a
 * driver may call at any time not before the previous one.
 */
#include "gw_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_dist.h"
#include "bt_err.h"
#include "bt_flow_table.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "bt_ring.h"
#include "gw_nat.h"
#include "gw_policy.h"

#define RST_POOL 1024

/* ---------------------------------------------------------------- heaps */

/* Without branches: the heap's comparisons are coin flips to a predictor. */
static inline bool ent_before(const struct gw_hent *a, const struct gw_hent *b)
{
#ifdef __SIZEOF_INT128__
    /* one 128-bit compare (cmp, sbb) on (ts, meta) */
    unsigned __int128 x = (unsigned __int128)a->ts << 64 | a->meta;
    unsigned __int128 y = (unsigned __int128)b->ts << 64 | b->meta;

    return x < y;
#else
    return (a->ts < b->ts) | ((a->ts == b->ts) & (a->meta < b->meta));
#endif
}

/* The heaps are 4-ary: half the levels of a binary heap, and a level's
 * smallest child found by three branch-free comparisons (a pop walks the
 * whole depth, so the depth is what it costs: the out queue holds a burst or
 * two, the sync network a few dozen messages). The order entries leave in is
 * the order of (ts, meta), whatever the heap's shape. */
#define HEAP_D 4

static void heap_up(struct gw_hent *h, unsigned i)
{
    struct gw_hent x = h[i];

    while (i > 0) {
        unsigned p = (i - 1) / HEAP_D;
        if (!ent_before(&x, &h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

/* The smallest of the children c.. of a node in a heap of n entries. */
static inline unsigned heap_min_child(const struct gw_hent *h, unsigned c, unsigned n)
{
    if (c + 3 < n) {
        unsigned a = c + ent_before(&h[c + 1], &h[c]);
        unsigned b = c + 2 + ent_before(&h[c + 3], &h[c + 2]);
        return ent_before(&h[b], &h[a]) ? b : a;
    }
    unsigned m = c;
    for (unsigned k = c + 1; k < n; k++)
        if (ent_before(&h[k], &h[m]))
            m = k;
    return m;
}

static void heap_down(struct gw_hent *h, unsigned n, unsigned i)
{
    struct gw_hent x = h[i];

    for (;;) {
        unsigned c = HEAP_D * i + 1, m;
        if (c >= n)
            break;
        m = heap_min_child(h, c, n);
        if (!ent_before(&h[m], &x))
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

/* Removes the top of the heap h[0..n], n + 1 entries before the call:
 * Floyd's way, the hole walks down to a leaf by the smallest child (no
 * comparison with the entry that will fill it), then the last entry climbs
 * from there (usually not at all: it left last). */
static void heap_pop(struct gw_hent *h, unsigned n)
{
    struct gw_hent x = h[n];
    unsigned i = 0, c;

    while ((c = HEAP_D * i + 1) < n) {
        unsigned m = heap_min_child(h, c, n);
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
    heap_up(h, i);
}

/* The out queue and the sync network: a heap holding each source's
 * earliest entry (its representative, tagged in bit 0 of p) and the entries
 * that came out of their source's order; the rest wait in their source's
 * FIFO (struct gw_rq). A member's packets leave when its queue has done
 * their work, and its messages leave when their records are ready, so
 * nearly all come in their source's order: a push is an append, a pop
 * replaces the top by the source's next entry, and the heap holds about one
 * entry per busy source instead of every entry. The order entries leave in
 * is (ts, meta) as with one heap of all of them: the heap holds the least of
 * each FIFO and everything else. The out queue's sources are the members
 * (a deferred SYN whose timeout fired or a corrected packet may come out of
 * order), the sync network's the senders (a bulk sync after a failover). */
static inline void *hq_ptr(const struct gw_hent *e)
{
    return (void *)((uintptr_t)e->p & ~(uintptr_t)1);
}

static inline bool hq_tagged(const struct gw_hent *e)
{
    return (uintptr_t)e->p & 1;
}

/* Room for one more entry in the heap *h of *cap entries, *n used. */
static bool heap_room(struct gw_hent **h, unsigned n, unsigned *cap)
{
    if (n == *cap) {
        unsigned nc = *cap ? *cap * 2 : 256;
        struct gw_hent *nh = realloc(*h, nc * sizeof(*nh));
        if (!nh)
            return false;
        *h = nh;
        *cap = nc;
    }
    return true;
}

/* Queues e of source q (NULL: none) in the heap *h. False on ENOMEM (e is
 * not queued). */
static inline __attribute__((always_inline)) bool hq_push(struct gw_hent **h, unsigned *n, unsigned *cap, struct gw_rq *q,
                    struct gw_hent e)
{
    if (q && q->rep && e.ts >= q->last) {
        if (q->n == q->cap &&
            bt_ring_grow((void **)&q->e, sizeof(*q->e), &q->head, q->n, &q->cap, 64) < 0)
            goto heap;   /* out of its order then, but not lost */
        gw_rq_put(q, e);
        return true;
    }
heap:
    if (!heap_room(h, *n, cap))
        return false;
    if (q && !q->rep) {
        e.p = (void *)((uintptr_t)e.p | 1);
        q->rep = true;
        q->last = e.ts;
    }
    (*h)[*n] = e;
    heap_up(*h, (*n)++);
    return true;
}

/* Takes the top of the heap h[0..*n), whose source is q when it is tagged
 * (its source's next entry takes its place). */
static inline __attribute__((always_inline)) void *hq_pop(struct gw_hent *h, unsigned *n, struct gw_rq *q)
{
    void *p = hq_ptr(&h[0]);

    if (hq_tagged(&h[0])) {
        if (q->n) {
            /* its next entry takes the top's place and sinks (sifting
             * down from the top cost less here than Floyd's walk to a
             * leaf and back: callgrind, bench-gw mix and setup) */
            h[0] = q->e[q->head];
            h[0].p = (void *)((uintptr_t)h[0].p | 1);
            q->head = (q->head + 1) & (q->cap - 1);
            q->n--;
            heap_down(h, *n, 0);
            return p;
        }
        q->rep = false;
    }
    heap_pop(h, --*n);
    return p;
}

void gw_out_queue(struct gw_cluster *g, struct bt_pkt *p, struct gw_rq *q)
{
    if (!hq_push(&g->heap, &g->heap_n, &g->heap_cap, q, (struct gw_hent){p->ts_ns, p->meta, p})) {
        g->st.drops_queue++;
        bt_pkt_free(p);
    }
}

/* Takes the next packet of the out queue. */
static inline __attribute__((always_inline)) struct bt_pkt *oq_pop(struct gw_cluster *g)
{
    return hq_pop(g->heap, &g->heap_n, &g->m[g->heap[0].meta & 0xff].oq);
}

/* The sync network: the same, keyed on (arrival, sequence), a FIFO per sender. */
static void net_push(struct gw_cluster *g, struct gw_msg *m)
{
    if (!hq_push(&g->net, &g->net_n, &g->net_cap, &g->m[m->from].nq,
                 (struct gw_hent){m->at, m->seq, m})) {
        m->next = g->msg_free;
        g->msg_free = m;
        g->st.sync_lost++;
    }
}

static struct gw_msg *net_pop(struct gw_cluster *g)
{
    const struct gw_msg *top = hq_ptr(&g->net[0]);

    return hq_pop(g->net, &g->net_n, &g->m[top->from].nq);
}

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_next(struct gw_cluster *g)
{
    /* xorshift64*: deterministic per seed */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545f4914f6cdd1dULL;
}

void gw_event(struct gw_cluster *g, uint64_t t, int kind, int sgm, int weight, int version,
              const char *detail)
{
    struct bt_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.t_ns = t;
    ev.kind = (enum bt_event_kind)kind;
    ev.sgm = sgm;
    ev.weight = weight;
    ev.version = version;
    if (detail)
        snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
    if (g->ev_fn)
        g->ev_fn(g->ev_arg, &ev);
    if (g->evq_n == GW_STATS_MAX_EVENTS) {
        memmove(g->evq, g->evq + 1, (GW_STATS_MAX_EVENTS - 1) * sizeof(g->evq[0]));
        g->evq_n--;
        g->evq_dropped++;
    }
    g->evq[g->evq_n++] = ev;
}

uint64_t gw_charge(struct gw_cluster *g, struct gw_member *m, uint64_t t, uint64_t work_ns)
{
    uint64_t cores = g->cfg.cost.cores ? g->cfg.cost.cores : 1;
    uint64_t start = m->busy_until > t ? m->busy_until : t, w = work_ns + cores - 1;

    /* a shift for a power of two (the default 8): this runs per packet */
    m->busy_until = start + (g->cores_shift < 64 ? w >> g->cores_shift : w / cores);
    m->st.busy_ns += work_ns;
    return m->busy_until;
}

/* The configuration does not change: computed once (gw_cluster_new), not
 * with a divide per burst. */
static uint64_t queue_limit_calc(const struct gw_config *c)
{
    uint64_t cores = c->cost.cores ? c->cost.cores : 1;
    return (uint64_t)c->cost.queue_pkts * c->cost.ns_per_pkt / cores;
}

static uint64_t dead_after(const struct gw_cluster *g, const struct gw_member *m)
{
    /* "more than" the threshold, as the vendor states it (CPU > 80 %) */
    uint64_t d = m->load > (double)g->cfg.load_pct ? g->cfg.dead_loaded_ns : g->cfg.dead_ns;

    if (g->cfg.faults & GW_FAULT_SLOW_DETECTION)
        d += g->cfg.detect_delay_ns;
    return d;
}

/* Node i of the tournament tree from its children: the earlier deadline,
 * the left child (lower ids) on a tie, as a scan in id order finds it.
 * False when the node did not change (nor then its ancestors). */
static inline bool mt_play(struct gw_cluster *g, unsigned i)
{
    unsigned w = 2 * i + (g->mt_ns[2 * i + 1] < g->mt_ns[2 * i]);
    uint64_t ns = g->mt_ns[w];
    uint8_t id = g->mt_id[w];

    if (ns == g->mt_ns[i] && id == g->mt_id[i])
        return false;
    g->mt_ns[i] = ns;
    g->mt_id[i] = id;
    return true;
}

static inline void mt_root(struct gw_cluster *g)
{
    g->mmin_ns = g->mt_ns[1];
    g->mmin_id = g->mt_ns[1] == UINT64_MAX ? 0 : g->mt_id[1];
}

/* m's deadline becomes t: its leaf, then the matches up to the root while
 * they change. */
static void set_next(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    unsigned i;

    m->next_ns = t;
    if (!g->mmin_ok)
        return;
    if ((unsigned)m->id > g->mt_leaves) {
        g->mmin_ok = false;   /* a joining member past the tree: rebuilt */
        return;
    }
    i = g->mt_leaves + (unsigned)m->id - 1;
    g->mt_ns[i] = t;
    for (i >>= 1; i >= 1 && mt_play(g, i); i >>= 1)
        ;
    mt_root(g);
}

/* The tree from every member's next_ns. */
static void mmin_scan(struct gw_cluster *g)
{
    unsigned l = 1;

    while (l < g->nmembers)
        l *= 2;
    g->mt_leaves = l;
    for (unsigned k = 0; k < l; k++) {
        g->mt_ns[l + k] = k < g->nmembers ? g->m[k + 1].next_ns : UINT64_MAX;
        g->mt_id[l + k] = (uint8_t)(k + 1);
    }
    for (unsigned i = l - 1; i >= 1; i--) {
        unsigned w = 2 * i + (g->mt_ns[2 * i + 1] < g->mt_ns[2 * i]);
        g->mt_ns[i] = g->mt_ns[w];
        g->mt_id[i] = g->mt_id[w];
    }
    mt_root(g);   /* one member: its leaf is node 1, the root */
    g->mmin_ok = true;
}

static void member_next(struct gw_member *m, struct gw_cluster *g)
{
    uint64_t t = UINT64_MAX;

    if (m->present) {
        if (m->hb_n)
            t = m->hb_at[m->hb_head];
        if (!m->detected_dead) {
            uint64_t d = m->last_ans + dead_after(g, m);
            if ((!m->alive || m->hb_n == 0 || m->hb_at[m->hb_head] > d) && d < t)
                t = d;
        }
        if (m->alive) {
            if (m->batch_due < t)
                t = m->batch_due;
            for (int q = 0; q < TQ_N; q++)
                if (m->tq[q].n && m->tq[q].e[m->tq[q].head].deadline < t)
                    t = m->tq[q].e[m->tq[q].head].deadline;
            if (gw_defer_next(m) < t)
                t = gw_defer_next(m);
        }
    }
    set_next(g, m, t);
}

void gw_member_touch_next(struct gw_member *m, uint64_t t)
{
    if (t < m->next_ns)
        set_next(m->cl, m, t);
}

void gw_tq_push(struct gw_member *m, int q, uint64_t deadline, uint32_t gen,
                const struct bt_flow_key *k)
{
    struct gw_tq *tq = &m->tq[q];
    struct gw_tent *e;

    if (tq->n == tq->cap &&
        bt_ring_grow((void **)&tq->e, sizeof(*tq->e), &tq->head, tq->n, &tq->cap, 256) < 0)
        return; /* the connection then waits for the LRU */
    e = &tq->e[(tq->head + tq->n++) & (tq->cap - 1)];
    e->deadline = deadline;
    e->gen = gen;
    e->key = *k;
    gw_member_touch_next(m, deadline);
}

/* gw_desired_backup when neither the bucket's primary nor its backup will do. */
int gw_desired_backup_slow(const struct gw_cluster *g, int owner, uint32_t hash)
{
    int b = bt_dist_choice(g->dist, hash, owner, 0);

    return b > 0 && b != owner ? b : 0;
}

/* ---------------------------------------------------------------- sync net */

/* Copies an encoded record of one of the three lengths: fixed-size moves
 * (a length the compiler cannot see is a call into libc's memcpy). */
static inline void rec_copy(uint8_t *d, const uint8_t *r, unsigned rl)
{
    if (rl == GW_SYNC_REC_LEN)
        memcpy(d, r, GW_SYNC_REC_LEN);
    else if (rl == GW_SYNC_ACK_LEN)
        memcpy(d, r, GW_SYNC_ACK_LEN);
    else
        memcpy(d, r, GW_SYNC_REC_NAT_LEN);
}

/* A message buffer: from the free list, else malloc. NULL on ENOMEM. */
static struct gw_msg *msg_get(struct gw_cluster *g)
{
    struct gw_msg *msg = g->msg_free;

    if (msg)
        g->msg_free = msg->next;
    else
        msg = malloc(sizeof(*msg));
    return msg;
}

static void msg_put(struct gw_cluster *g, struct gw_msg *msg)
{
    msg->next = g->msg_free;
    g->msg_free = msg;
}

/* Sends msg (its records encoded from GW_SYNC_HDR_LEN to len; the header is
 * written here, with the sender's next sequence number) from `from` to `to`
 * at t; takes msg. */
static void net_send(struct gw_cluster *g, struct gw_member *from, int to, uint64_t t,
                     struct gw_msg *msg, size_t len, unsigned nrec, bool bulk)
{
    gw_sync_put_hdr(msg->data, (uint8_t)from->id, (uint8_t)to, from->sync_seq++, len, nrec);
    from->st.sync_tx += nrec;
    from->st.sync_tx_msgs++;
    from->st.sync_tx_bytes += len + GW_SYNC_WIRE_OVERHEAD;
    g->st.sync_records += nrec;
    g->st.sync_msgs++;
    g->st.sync_bytes += len + GW_SYNC_WIRE_OVERHEAD;
    if ((g->cfg.faults & GW_FAULT_SYNC_LOSS) &&
        (double)(rng_next(g) >> 11) * (1.0 / 9007199254740992.0) * 100.0 < g->cfg.sync_loss_pct) {
        g->st.sync_lost++;
        msg_put(g, msg);
        return;
    }
    msg->at = t + g->cfg.sync_delay_ns;
    msg->seq = g->msg_seq++;
    msg->from = (uint8_t)from->id;
    msg->to = (uint8_t)to;
    msg->len = (uint16_t)len;
    if (bulk && msg->at > g->m[to].syncing_until)
        g->m[to].syncing_until = msg->at;
    net_push(g, msg);
}

/* The outbox: records to send as soon as the current burst (gw_rx) or the
 * current message's application (deliver) is done, CREATEs and ACKs. Each is
 * encoded at once into the message of its (from, to) pair, found through
 * g->pair (pair -> message + 1, cleared again by outbox_flush); a full
 * message leaves its pair's next records to a new one, opened where the
 * first of them stands. A burst of SYNs costs a message per backup, not one
 * per SYN. The defer slots of a message's CREATEs are chained as they are
 * added, so that its ACK releases them without a lookup. */
static struct gw_obuild *ob_room(struct gw_cluster *g, struct gw_member *from, int to, unsigned rl)
{
    uint32_t *slot = &g->pair[from->id * (GW_MAX_MEMBERS + 1) + to];
    struct gw_obuild *b = *slot ? &g->ob[*slot - 1] : NULL;

    if (b && !b->msg) {
        g->st.sync_lost++;   /* its pair has no buffer this round */
        return NULL;
    }
    if (b && b->len + rl <= GW_SYNC_MTU)
        return b;
    if (g->nob == g->ob_cap) {
        unsigned cap = g->ob_cap ? g->ob_cap * 2 : 256;
        struct gw_obuild *ob = realloc(g->ob, cap * sizeof(*ob));
        if (!ob) {
            g->st.sync_lost++;
            return NULL;
        }
        g->ob = ob;
        g->ob_cap = cap;
    }
    b = &g->ob[g->nob++];
    *slot = g->nob;
    b->msg = msg_get(g);
    b->len = GW_SYNC_HDR_LEN;
    b->t = 0;
    b->nrec = 0;
    b->from = (uint8_t)from->id;
    b->to = (uint8_t)to;
    b->bulk = false;
    b->nreq = 0;
    b->dfirst = b->dlast = GW_DSLOT_NONE;
    b->ddeadline = 0;
    if (!b->msg) {
        g->st.sync_lost++;
        return NULL;
    }
    return b;
}

void gw_sync_now(struct gw_cluster *g, struct gw_member *from, int to, uint64_t t,
                 const struct bt_flow_key *k, const struct gw_conn *c, uint8_t type,
                 uint8_t xflags, uint32_t dslot)
{
    struct gw_obuild *b;

    if (to < 1 || to > GW_MAX_MEMBERS ||
        !(b = ob_room(g, from, to, (c->flags & CONN_NAT) ? GW_SYNC_REC_NAT_LEN : GW_SYNC_REC_LEN)))
        return;
    /* encoded where it is sent from */
    b->len += gw_member_put_rec(from, k, c, type, xflags, b->msg->data + b->len);
    b->nrec++;
    if (t > b->t)
        b->t = t;
    b->bulk |= type == GW_SYNC_BULK;
    if (xflags & GW_SYNC_F_ACK_REQ) {
        unsigned ord = b->nreq++;
        if (dslot != GW_DSLOT_NONE) {
            struct gw_defer *d = &from->defer;
            struct gw_dslot *ds = &d->e[dslot & (d->cap - 1)];
            ds->ord = (uint8_t)ord;
            if (b->dlast == GW_DSLOT_NONE)
                b->dfirst = dslot;
            else
                d->e[b->dlast & (d->cap - 1)].next = dslot;
            b->dlast = dslot;
            if (ds->deadline > b->ddeadline)
                b->ddeadline = ds->deadline;
        }
    }
}

/* The ACK of message seq of `to`, into the outbox's message from m to `to`. */
static void sync_now_ack(struct gw_cluster *g, struct gw_member *m, int to, uint64_t t,
                         uint32_t seq, uint32_t bits)
{
    struct gw_obuild *b = ob_room(g, m, to, GW_SYNC_ACK_LEN);

    if (!b)
        return;
    b->len += gw_sync_put_ack(b->msg->data + b->len, seq, bits);
    b->nrec++;
    if (t > b->t)
        b->t = t;
}

void gw_sync_queue(struct gw_cluster *g, struct gw_member *from, int to, uint64_t t,
                   const uint8_t *rec, unsigned rl)
{
    struct gw_pend *pe;

    if (to < 1 || to > GW_MAX_MEMBERS)
        return;
    if (from->npend == from->pend_cap) {
        /* the batch and flush's scratch grow together: a flush (every
         * sync_batch of a busy member) allocates nothing */
        unsigned cap = from->pend_cap ? from->pend_cap * 2 : 256;
        struct gw_pend *p = realloc(from->pend, cap * sizeof(*p));
        uint32_t *o;
        if (p)
            from->pend = p;
        o = p ? realloc(from->pend_order, cap * sizeof(*o)) : NULL;
        if (!o) {
            g->st.sync_lost++;
            return;
        }
        from->pend_order = o;
        from->pend_cap = cap;
    }
    pe = &from->pend[from->npend++];
    pe->to = (uint8_t)to;
    pe->len = (uint8_t)rl;
    memcpy(pe->rec, rec, GW_SYNC_REC_NAT_LEN);   /* a fixed size: a few moves */
    if (from->batch_due == UINT64_MAX) {
        from->batch_due = t + g->cfg.sync_batch_ns;
        gw_member_touch_next(from, from->batch_due);
    }
}

/* Sends the outbox's messages in the order they were opened, each leaving
 * when its last record is ready. */
static void outbox_flush(struct gw_cluster *g)
{
    for (unsigned i = 0; i < g->nob; i++) {
        struct gw_obuild *b = &g->ob[i];
        struct gw_member *from = &g->m[b->from];
        g->pair[b->from * (GW_MAX_MEMBERS + 1) + b->to] = 0;
        if (!b->msg)
            continue;
        if (b->dfirst != GW_DSLOT_NONE)
            gw_defer_sent(from, from->sync_seq, b->to, b->dfirst, b->dlast, b->ddeadline);
        net_send(g, from, b->to, b->t, b->msg, b->len, b->nrec, b->bulk);
    }
    g->nob = 0;
}

/* Sends a member's batch: one message per destination (split at the MTU). */
static void flush(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    unsigned count[GW_MAX_MEMBERS + 2] = {0};
    uint32_t *sorted;
    uint64_t f;

    m->batch_due = UINT64_MAX;
    if (!m->npend)
        return;
    f = gw_charge(g, m, t, (uint64_t)m->npend * g->cfg.cost.ns_per_sync);
    sorted = m->pend_order;
    /* counting sort of the records' indices by destination, stable */
    for (unsigned i = 0; i < m->npend; i++)
        count[m->pend[i].to + 1]++;
    for (unsigned i = 1; i <= GW_MAX_MEMBERS + 1; i++)
        count[i] += count[i - 1];
    for (unsigned i = 0; i < m->npend; i++)
        sorted[count[m->pend[i].to]++] = i;
    for (unsigned i = 0; i < m->npend;) {
        struct gw_msg *msg = msg_get(g);
        int to = m->pend[sorted[i]].to;
        size_t len = GW_SYNC_HDR_LEN;
        unsigned nrec = 0;
        bool bulk = false;
        if (!msg) {
            for (; i < m->npend && m->pend[sorted[i]].to == to; i++)
                g->st.sync_lost++;
            continue;
        }
        for (; i < m->npend; i++) {
            const struct gw_pend *pe = &m->pend[sorted[i]];
            if (pe->to != to || len + pe->len > GW_SYNC_MTU)
                break;
            rec_copy(msg->data + len, pe->rec, pe->len);
            len += pe->len;
            bulk |= pe->rec[0] == GW_SYNC_BULK;
            nrec++;
        }
        net_send(g, m, to, f, msg, len, nrec, bulk);
    }
    m->npend = 0;
}

/* Bits set in v, inline (without -mpopcnt __builtin_popcount is a call into
 * libgcc, once per ACK). */
static inline unsigned popcount32(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555U);
    v = (v & 0x33333333U) + ((v >> 2) & 0x33333333U);
    v = (v + (v >> 4)) & 0x0f0f0f0fU;
    return (v * 0x01010101U) >> 24;
}

/* A sync message lands: its records are checked together (word-wide, in
 * the bytes: nothing is decoded into a struct), their keys made and hashed
 * and the receiver's table slots and entries prefetched, then applied in
 * order straight from the bytes (the CREATEs of a burst insert backup
 * entries, the ACKs find their defer slots: a message's misses overlap
 * instead of queueing). A damaged record rejects the whole message before
 * anything is applied. */
static void deliver(struct gw_cluster *g)
{
    struct gw_msg *msg = net_pop(g);
    struct gw_member *m = &g->m[msg->to];
    const uint8_t *buf = msg->data;
    size_t len = msg->len;
    unsigned nrec;

    if (m->present && m->alive && gw_sync_hdr_check(buf, len, &nrec) == 0) {
        struct bt_flow_key k[GW_SYNC_MAXCONN];
        uint64_t fh[GW_SYNC_MAXCONN], t, work = 0;
        uint16_t off[GW_SYNC_MAXREC];
        uint32_t bits = 0;
        unsigned n = 0, nc = 0, nreq = 0;
        size_t o = GW_SYNC_HDR_LEN;
        uint8_t from = buf[8];
        bool acks = false;
        m->st.sync_rx += nrec;
        m->st.sync_rx_msgs++;
        m->st.sync_rx_bytes += len + GW_SYNC_WIRE_OVERHEAD;
        /* n <= nrec <= GW_SYNC_MAXREC (the header check), nc <=
         * GW_SYNC_MAXCONN (a connection record is 56 bytes at least) */
        while (o < len && n < nrec) {
            const uint8_t *p = buf + o;
            unsigned rl = gw_sync_rec_check(p, len - o);
            if (!rl)
                break;
            off[n++] = (uint16_t)o;
            o += rl;
            if (p[0] == GW_SYNC_ACK) {
                /* the cost model's work is per connection: an ACK
                 * costs what it releases */
                work += popcount32(gw_sync_get32(p + 8));
                continue;
            }
            work++;
            gw_sync_get_key(p, &k[nc]);
            fh[nc] = bt_flowtab_hash(&k[nc]);
            bt_flowtab_prefetch(m->conns, fh[nc], 0);
            nc++;
        }
        if (o != len || n != nrec) {
            g->st.sync_lost++;
            gw_charge(g, m, msg->at, (uint64_t)nrec * g->cfg.cost.ns_per_sync);
        } else {
            /* applying costs the receiver; its answer (the ACK) leaves when done */
            t = gw_charge(g, m, msg->at, work * g->cfg.cost.ns_per_sync);
            for (unsigned j = 0; j < nc; j++)
                bt_flowtab_prefetch(m->conns, fh[j], 1);
            for (unsigned i = 0, j = 0; i < n; i++) {
                const uint8_t *p = buf + off[i];
                if (p[0] == GW_SYNC_ACK) {
                    gw_defer_ack(g, m, t, from, gw_sync_get32(p + 4), gw_sync_get32(p + 8));
                    acks = true;
                    continue;
                }
                bits |= (uint32_t)gw_member_apply(g, m, t, from, p, &k[j], fh[j]) << nreq;
                nreq += (p[5] & GW_SYNC_F_ACK_REQ) != 0;
                j++;
            }
            /* one record answers the message: its sequence number and
             * which of its CREATEs are stored */
            if (bits)
                sync_now_ack(g, m, from, t, gw_sync_get32(buf + 12), bits);
        }
        outbox_flush(g);   /* the ACK of this message, in one message back */
        /* only an ACK moves a deadline of m later (its defer timers go);
         * whatever else applying queued made next_ns earlier already */
        if (acks)
            member_next(m, g);
    }
    msg_put(g, msg);
}

/* ---------------------------------------------------------------- members */

static void build_dist(struct gw_cluster *g)
{
    uint32_t nb = bt_dist_nbuckets(g->dist);
    uint8_t *old = malloc(nb);

    if (old)
        for (uint32_t b = 0; b < nb; b++)
            old[b] = (uint8_t)bt_dist_primary(g->dist, b);
    for (unsigned id = 1; id <= g->nmembers; id++) {
        struct gw_member *m = &g->m[id];
        unsigned w = (g->cfg.faults & GW_FAULT_IGNORE_WEIGHTS) ? 100 : g->cfg.weight[id];
        if (m->present)
            bt_dist_set(g->dist, (int)id, w, !m->detected_dead);
    }
    bt_dist_build(g->dist);
    /* for each bucket that changed hands, who had it: the correction layer
     * looks there first for connections of a moved bucket */
    if (old)
        for (uint32_t b = 0; b < nb; b++)
            if (old[b] && old[b] != bt_dist_primary(g->dist, b))
                g->prev_owner[b] = old[b];
    free(old);
}

/* The bucket table changed: every live member re-checks its connections,
 * and what that queued (the BULK filling a promoted connection's new
 * backup, DELETEs to backups no longer wanted) leaves now, not a sync batch
 * later: until it lands a second failure would lose those connections. */
static void rebuild(struct gw_cluster *g, uint64_t t)
{
    build_dist(g);
    for (unsigned id = 1; id <= g->nmembers; id++) {
        struct gw_member *m = &g->m[id];
        if (m->present && m->alive) {
            gw_member_resync(g, m, t);
            if (m->npend)
                flush(g, m, t);
            member_next(m, g);
        }
    }
}

static void member_kill(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    unsigned k = 0;

    m->alive = false;
    m->died_ns = t;
    gw_member_wipe(g, m);
    m->hb_n = 0;
    m->npend = 0;
    m->batch_due = UINT64_MAX;
    /* the packets still in its queue die with it: those of its FIFO join
     * the heap untagged (they are after its representative), then the
     * heap keeps what is not its or is due already */
    for (; m->oq.n; m->oq.n--, m->oq.head = (m->oq.head + 1) & (m->oq.cap - 1)) {
        struct gw_hent *e = &m->oq.e[m->oq.head];
        if (e->ts > t) {
            m->st.drops++;
            g->st.drops_dead++;
            bt_pkt_free(e->p);
        } else if (heap_room(&g->heap, g->heap_n, &g->heap_cap)) {
            g->heap[g->heap_n++] = *e;
        } else {
            g->st.drops_queue++;
            bt_pkt_free(e->p);
        }
    }
    m->oq.rep = false;
    for (unsigned i = 0; i < g->heap_n; i++) {
        struct gw_hent *e = &g->heap[i];
        if ((int)(e->meta & 0xff) == m->id && e->ts > t) {
            m->st.drops++;
            g->st.drops_dead++;
            bt_pkt_free(hq_ptr(e));
        } else {
            g->heap[k] = *e;
            if ((int)(e->meta & 0xff) == m->id)
                g->heap[k].p = hq_ptr(e);
            k++;
        }
    }
    g->heap_n = k;
    for (unsigned i = k / 2; i-- > 0;)
        heap_down(g->heap, g->heap_n, i);
    member_next(m, g);
}

static void declare_dead(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    if (m->alive) {
        /* its heartbeat answers came too late (overload): the distributor
         * fences it, as a cluster must, so it is as good as dead */
        g->st.false_deaths++;
        member_kill(g, m, t);
        gw_event(g, t, BT_EV_SGM_DOWN, m->id, -1, -1, "declared dead: heartbeats late");
    }
    m->detected_dead = true;
    rebuild(g, t);
    member_next(m, g);
}

static void hb_round(struct gw_cluster *g, uint64_t t)
{
    uint64_t qlim = g->qlim_ns;

    for (unsigned id = 1; id <= g->nmembers; id++) {
        struct gw_member *m = &g->m[id];
        uint64_t cores = g->cfg.cost.cores ? g->cfg.cost.cores : 1, f;
        double load;
        if (!m->present || !m->alive)
            continue;
        g->st.heartbeats++;
        /* a heartbeat waits in the member's queue like any packet */
        if (m->busy_until > t && m->busy_until - t > qlim)
            continue;
        load = (double)(m->st.busy_ns - m->busy_at_hb) * 100.0 /
               ((double)g->cfg.heartbeat_ns * (double)cores);
        m->busy_at_hb = m->st.busy_ns;
        f = gw_charge(g, m, t, g->cfg.cost.ns_per_pkt);
        if (m->hb_n < HB_RING) {
            unsigned i = (m->hb_head + m->hb_n++) % HB_RING;
            m->hb_at[i] = f;
            m->hb_load[i] = load > 100 ? 100 : load;
        }
        member_next(m, g);
    }
    g->hb_next = t + g->cfg.heartbeat_ns;
}

static void member_due(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    while (m->hb_n && m->hb_at[m->hb_head] <= t) {
        m->last_ans = m->hb_at[m->hb_head];
        m->load = m->hb_load[m->hb_head];
        m->hb_head = (m->hb_head + 1) % HB_RING;
        m->hb_n--;
    }
    if (!m->detected_dead && m->last_ans + dead_after(g, m) <= t) {
        declare_dead(g, m, t);
        return;
    }
    if (m->alive && m->batch_due <= t)
        flush(g, m, t);
    for (int q = 0; m->alive && q < TQ_N; q++)
        while (m->tq[q].n && m->tq[q].e[m->tq[q].head].deadline <= t)
            gw_member_timer(g, m, q, t);
    if (m->alive)
        gw_defer_expire(g, m, t);
    member_next(m, g);
}

static __attribute__((noinline)) void run_timers_slow(struct gw_cluster *g, uint64_t now)
{
    if (!g->started) {
        /* the first call sets the clock: captures may start at any epoch */
        g->started = true;
        g->now = g->hb_next = g->sample_t = now;
        for (unsigned id = 1; id <= g->nmembers; id++) {
            struct gw_member *m = &g->m[id];
            m->last_ans = m->busy_until = now;
            member_next(m, g);
        }
    }
    if (now < g->now)
        now = g->now;
    if (g->nob)
        outbox_flush(g);
    for (;;) {
        uint64_t tn = g->net_n ? g->net[0].ts : UINT64_MAX, tm, t;
        struct gw_member *mm;
        if (!g->mmin_ok)
            mmin_scan(g);
        tm = g->mmin_ns;
        mm = g->mmin_id ? &g->m[g->mmin_id] : NULL;
        t = g->hb_next;
        if (tn < t)
            t = tn;
        if (tm < t)
            t = tm;
        if (t > now)
            break;
        if (t == g->hb_next)
            hb_round(g, t);
        else if (t == tn)
            deliver(g);
        else
            member_due(g, mm, t);
    }
    g->now = now;
}

/* Runs what is due by now. Most calls (every rx and tx of a simulation
 * step) find nothing due: that case is decided inline, as the loop above
 * would decide it, without the call (its ~53 instructions a call were mostly
 * the call, its prologue and epilogue and the loop's setup). */
static inline void run_timers(struct gw_cluster *g, uint64_t now)
{
    if (g->started && !g->nob && g->mmin_ok) {
        uint64_t t = g->hb_next;
        if (now < g->now)
            now = g->now;
        if (g->net_n && g->net[0].ts < t)
            t = g->net[0].ts;
        if (g->mmin_ns < t)
            t = g->mmin_ns;
        if (t > now) {
            g->now = now;
            return;
        }
    }
    run_timers_slow(g, now);
}

/* ---------------------------------------------------------------- API */

void gw_advance(struct gw_cluster *g, uint64_t now)
{
    run_timers(g, now);
}

static int member_init(struct gw_cluster *g, struct gw_member *m, int id, uint64_t now)
{
    m->id = id;
    m->cl = g;
    m->present = true;
    m->alive = true;
    m->detected_dead = false;
    m->last_ans = now;
    m->busy_until = now;
    m->batch_due = UINT64_MAX;
    m->policy_version = g->pol_version;
    m->hb_n = 0;
    if (gw_member_tables(g, m) < 0)
        return -ENOMEM;
    member_next(m, g);
    return 0;
}

struct gw_cluster *gw_cluster_new(const struct gw_config *c, uint32_t seed)
{
    struct gw_cluster *g;

    if (c->nmembers < 1 || c->nmembers > GW_MAX_MEMBERS || c->max_conns == 0 ||
        c->heartbeat_ns == 0 || c->cost.cores == 0)
        return NULL;
    for (unsigned id = 1; id <= c->nmembers; id++)
        if (c->weight[id] > BT_DIST_MAX_WEIGHT)
            return NULL;
    if (c->nat) {
        uint16_t lo, hi;
        if (c->nat_pool.family != 4 || gw_nat_slice(c, 1, &lo, &hi) < 0)
            return NULL;
    }
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->cfg = *c;
    g->qlim_ns = queue_limit_calc(c);
    g->cores_shift = UINT32_MAX;
    for (uint32_t sh = 0; sh < 64; sh++)
        if ((uint64_t)c->cost.cores == 1ULL << sh)
            g->cores_shift = sh;
    g->rng = bt_mix64((uint64_t)seed + 0x9e3779b97f4a7c15ULL) | 1;
    g->dseed = bt_dist_seed(c->seed);
    g->dist = bt_dist_new(BT_DIST_DEFAULT_BUCKETS, c->seed);
    if (g->dist)
        bt_dist_tab(g->dist, &g->dt);
    g->prev_owner = calloc(BT_DIST_DEFAULT_BUCKETS, 1);
    g->pool = bt_pktpool_new(RST_POOL, 256);
    g->pol = gw_cpolicy_new(&c->policy, NULL);
    g->pol_version = 1;
    if (!g->dist || !g->prev_owner || !g->pool || !g->pol)
        return gw_cluster_free(g);
    g->nmembers = c->nmembers;
    for (unsigned id = 1; id <= c->nmembers; id++)
        if (member_init(g, &g->m[id], (int)id, 0) < 0)
            return gw_cluster_free(g);
    build_dist(g);
    return g;
}

struct gw_cluster *gw_cluster_free(struct gw_cluster *g)
{
    if (!g)
        return NULL;
    for (unsigned id = 0; id <= GW_MAX_MEMBERS; id++) {
        struct gw_member *m = &g->m[id];
        gw_member_wipe(g, m);
        for (int q = 0; q < TQ_N; q++)
            free(m->tq[q].e);
        free(m->defer.e);
        free(m->defer.msg);
        free(m->pend);
        free(m->pend_order);
        for (uint32_t i = 0; i < m->oq.n; i++)
            bt_pkt_free(m->oq.e[(m->oq.head + i) & (m->oq.cap - 1)].p);
        free(m->oq.e);
        for (uint32_t i = 0; i < m->nq.n; i++)
            free(m->nq.e[(m->nq.head + i) & (m->nq.cap - 1)].p);
        free(m->nq.e);
    }
    for (unsigned i = 0; i < g->heap_n; i++)
        bt_pkt_free(hq_ptr(&g->heap[i]));
    free(g->heap);
    for (unsigned i = 0; i < g->net_n; i++)
        free(hq_ptr(&g->net[i]));
    free(g->net);
    free(g->ob);
    while (g->msg_free) {
        struct gw_msg *n = g->msg_free->next;
        free(g->msg_free);
        g->msg_free = n;
    }
    free(g->prev_owner);
    bt_dist_free(g->dist);
    gw_cpolicy_free(g->pol);
    bt_pktpool_free(g->pool);
    free(g);
    return NULL;
}

void gw_set_tap(struct gw_cluster *g, gw_tap_fn fn, void *arg)
{
    g->tap = fn;
    g->tap_arg = arg;
}

void gw_set_event_cb(struct gw_cluster *g, gw_event_fn fn, void *arg)
{
    g->ev_fn = fn;
    g->ev_arg = arg;
}

void gw_set_correction_cb(struct gw_cluster *g, gw_correction_fn fn, void *arg)
{
    g->corr = fn;
    g->corr_arg = arg;
}

void gw_set_nat_cb(struct gw_cluster *g, gw_nat_fn fn, void *arg)
{
    g->nat_fn = fn;
    g->nat_arg = arg;
}

/* A packet of a burst after the distributor's first pass. */
struct rx_slot {
    struct bt_parsed p;
    struct gw_pkey pk;
    uint32_t h;
    int id;                      /* its member; 0: none up; -1: not a packet we can key */
};

#define RX_CHUNK 32              /* packets keyed and prefetched together */
#define RX_AHEAD 4               /* the LRU neighbours prefetched this many packets ahead */
#define RX_PREFETCH_MIN 4        /* smaller chunks are not prefetched: the lookup follows at once */

static struct bt_flowtab *rx_table(const struct gw_cluster *g, const struct rx_slot *x)
{
    const struct gw_member *m = x->id > 0 ? &g->m[x->id] : NULL;

    return m && m->alive ? m->conns : NULL;
}

/* DPDK l3fwd style: first every packet of a chunk is parsed, keyed, hashed
 * and given its member, with the member's table slot prefetched; then the
 * entries those slots point at are prefetched; then the packets are handled
 * in order as before (the bucket table and the members' liveness do not
 * change while a burst is handled, so what the first pass found holds), the
 * entries' LRU neighbours prefetched a few packets ahead. The connection
 * lookups of a chunk wait for memory once, not once per packet. A chunk of
 * fewer than RX_PREFETCH_MIN packets (a co-simulation's bursts are 1.6
 * packets on average) skips the prefetches: its lookups would follow them at
 * once, and they cost ~50 instructions a packet. */
void gw_rx(struct gw_cluster *g, uint64_t now_ns, uint16_t port, struct bt_pkt **pkts,
           unsigned n)
{
    struct rx_slot s[RX_CHUNK];
    enum bt_dist_mode mode = (enum bt_dist_mode)g->cfg.mode;
    enum bt_side side = port == 0 ? BT_SIDE_INTERNAL : BT_SIDE_EXTERNAL;
    uint64_t qlim;

    run_timers(g, now_ns);
    now_ns = g->now;
    qlim = g->qlim_ns;
    if ((g->cfg.faults & GW_FAULT_ASYMMETRIC) && mode == BT_DIST_GENERAL)
        mode = BT_DIST_NETWORK; /* keys on the source: the reply lands elsewhere */
    for (unsigned b = 0; b < n; b += RX_CHUNK) {
        unsigned k = n - b < RX_CHUNK ? n - b : RX_CHUNK;
        bool pf = k >= RX_PREFETCH_MIN;
        for (unsigned i = 0; i < k; i++) {
            struct rx_slot *x = &s[i];
            struct bt_pkt *pkt = pkts[b + i];
            if (bt_parse(pkt->data, pkt->len, BT_LINK_ETHERNET, &x->p) != BT_PARSE_OK ||
                bt_flow_key_from_parsed(&x->p, &x->pk.k) < 0) {
                x->id = -1;
                continue;
            }
            x->h = bt_dist_hash_seeded(&x->pk.k, mode, g->cfg.l4, side, g->dseed);
            x->id = g->dt.primary[bt_dist_tab_bucket(&g->dt, x->h)];
            x->pk.swapped = bt_flow_key_canon(&x->pk.k, &x->pk.ck);
            x->pk.fh = bt_flowtab_hash(&x->pk.ck);
            if (pf)
                __builtin_prefetch(&g->m[x->id]);
        }
        /* with many members their hot lines are out of L1: the member's
         * line above, its table's index slot here, a pass later */
        for (unsigned i = 0; pf && i < k; i++) {
            struct bt_flowtab *t = rx_table(g, &s[i]);
            if (t)
                bt_flowtab_prefetch(t, s[i].pk.fh, 0);
        }
        for (unsigned i = 0; pf && i < k; i++) {
            struct bt_flowtab *t = rx_table(g, &s[i]);
            if (t)
                bt_flowtab_prefetch(t, s[i].pk.fh, 1);
        }
        for (unsigned i = 0; i < k; i++) {
            struct rx_slot *x = &s[i];
            struct bt_pkt *pkt = pkts[b + i];
            struct gw_member *m;
            struct bt_flowtab *t;
            if (i + RX_AHEAD < k && (t = rx_table(g, &s[i + RX_AHEAD])))
                bt_flowtab_prefetch(t, s[i + RX_AHEAD].pk.fh, 2);
            g->st.rx++;
            if (x->id < 0) {
                g->st.drops_bad++;
                g->st.drops_state++;
                bt_pkt_free(pkt);
                continue;
            }
            if (x->id == 0) {
                g->st.drops_dead++;
                bt_pkt_free(pkt);
                continue;
            }
            m = &g->m[x->id];
            pkt->ts_ns = now_ns;
            if (g->tap)
                g->tap(g->tap_arg, x->id, pkt);
            m->st.pkts++;
            m->st.bytes += pkt->wire_len;
            if (!m->alive) {
                m->st.drops++;
                g->st.drops_dead++;
                bt_pkt_free(pkt);
                continue;
            }
            if (m->busy_until > now_ns && m->busy_until - now_ns > qlim) {
                m->st.drops++;
                m->st.drops_queue++;
                g->st.drops_queue++;
                bt_pkt_free(pkt);
                continue;
            }
            gw_member_rx(g, m, now_ns, port, x->h, &x->p, &x->pk, pkt);
        }
    }
    if (g->nob)
        outbox_flush(g);   /* the CREATEs of this burst, one message per backup */
}

/* gw_tx's pops, out of line: most calls (every simulation step) find
 * nothing due, and their path then pays no prologue saving the registers
 * of this loop. */
static __attribute__((noinline)) unsigned tx_pop(struct gw_cluster *g, struct bt_pkt **out,
                                                  unsigned max)
{
    unsigned n = 0;

    while (n < max && g->heap_n && g->heap[0].ts <= g->now) {
        struct bt_pkt *p = oq_pop(g);
        p->meta = 0;
        out[n++] = p;
        g->st.tx++;
    }
    return n;
}

unsigned gw_tx(struct gw_cluster *g, uint64_t now_ns, struct bt_pkt **out, unsigned max)
{
    run_timers(g, now_ns);
    if (!max || !g->heap_n || g->heap[0].ts > g->now)
        return 0;
    return tx_pop(g, out, max);
}

uint64_t gw_next_ns(const struct gw_cluster *g)
{
    uint64_t t = UINT64_MAX;

    if (!g->started)
        return t;   /* its clock starts with the driver's first call */

    if (g->heap_n)
        t = g->heap[0].ts;
    if (g->net_n && g->net[0].ts < t)
        t = g->net[0].ts;
    if (g->mmin_ok) {
        if (g->mmin_ns < t)
            t = g->mmin_ns;
        return t;
    }
    for (unsigned id = 1; id <= g->nmembers; id++)
        if (g->m[id].next_ns < t)
            t = g->m[id].next_ns;
    return t;
}

bool gw_idle(const struct gw_cluster *g)
{
    if (g->heap_n || g->net_n)
        return false;
    for (unsigned id = 1; id <= g->nmembers; id++) {
        const struct gw_member *m = &g->m[id];
        if (!m->present)
            continue;
        if (!m->alive && !m->detected_dead)
            return false;
        if (m->alive && (m->npend || m->defer.n))
            return false;
    }
    return true;
}

static int check_id(const struct gw_cluster *g, int sgm)
{
    if (sgm < 1 || sgm > GW_MAX_MEMBERS)
        return -EINVAL;
    if ((unsigned)sgm > g->nmembers || !g->m[sgm].present)
        return -ENOENT;
    return 0;
}

int gw_fail(struct gw_cluster *g, uint64_t now_ns, int sgm)
{
    int r;

    if ((r = check_id(g, sgm)) < 0)
        return r;
    run_timers(g, now_ns);
    if (!g->m[sgm].alive)
        return -EALREADY;
    member_kill(g, &g->m[sgm], g->now);
    gw_event(g, g->now, BT_EV_SGM_DOWN, sgm, -1, -1, NULL);
    return 0;
}

int gw_restore(struct gw_cluster *g, uint64_t now_ns, int sgm)
{
    struct gw_member *m;
    uint32_t had;
    int r;

    if ((r = check_id(g, sgm)) < 0)
        return r;
    run_timers(g, now_ns);
    m = &g->m[sgm];
    if (m->alive)
        return -EALREADY;
    /* back before the distributor noticed: it notices now (the reboot
     * lost the member's state, which its backups hold) */
    if (!m->detected_dead)
        declare_dead(g, m, g->now);
    had = m->policy_version;
    if (member_init(g, m, sgm, g->now) < 0)
        return -ENOMEM;
    /* SMO hands the rebooted member the current policy, unless the
     * stale-policy fault: it comes back with the version it had */
    if (g->cfg.faults & GW_FAULT_STALE_POLICY)
        m->policy_version = had;
    m->syncing_until = g->now + g->cfg.sync_batch_ns + g->cfg.sync_delay_ns;
    rebuild(g, g->now);
    gw_event(g, g->now, BT_EV_SGM_UP, sgm, -1, -1, NULL);
    return 0;
}

int gw_add(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight)
{
    struct gw_member *m;

    if (sgm < 1 || sgm > GW_MAX_MEMBERS || weight > BT_DIST_MAX_WEIGHT)
        return -EINVAL;
    if ((unsigned)sgm <= g->nmembers && g->m[sgm].present)
        return -EEXIST;
    /* members are numbered 1..n: the next one joins */
    if ((unsigned)sgm != g->nmembers + 1)
        return -EINVAL;
    run_timers(g, now_ns);
    m = &g->m[sgm];
    g->cfg.weight[sgm] = weight;
    g->nmembers = (unsigned)sgm;
    g->cfg.nmembers = g->nmembers;
    if (member_init(g, m, sgm, g->now) < 0) {
        m->present = false;
        g->nmembers--;
        g->cfg.nmembers--;
        g->mmin_ok = false;
        return -ENOMEM;
    }
    /* SMO hands a joining member the current policy, unless the
     * stale-policy fault: it has none (version 0) */
    if (g->cfg.faults & GW_FAULT_STALE_POLICY)
        m->policy_version = 0;
    m->syncing_until = g->now + g->cfg.sync_batch_ns + g->cfg.sync_delay_ns;
    rebuild(g, g->now);
    gw_event(g, g->now, BT_EV_SGM_JOIN, sgm, (int)weight, -1, NULL);
    return 0;
}

int gw_weight(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight)
{
    int r;

    if ((r = check_id(g, sgm)) < 0)
        return r;
    if (weight > BT_DIST_MAX_WEIGHT)
        return -EINVAL;
    run_timers(g, now_ns);
    g->cfg.weight[sgm] = weight;
    rebuild(g, g->now);
    gw_event(g, g->now, BT_EV_WEIGHT, sgm, (int)weight, -1, NULL);
    return 0;
}

int gw_set_weight(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight)
{
    return gw_weight(g, now_ns, sgm, weight);
}

int gw_policy_install(struct gw_cluster *g, uint64_t now_ns, const struct gw_policy *p,
                      struct bt_err *e)
{
    struct gw_cpolicy *c;

    run_timers(g, now_ns);
    if (!(c = gw_cpolicy_new(p, e)))
        return -EINVAL;
    gw_cpolicy_free(g->pol);
    g->pol = c;
    g->cfg.policy = *p;
    g->pol_version++;
    for (unsigned id = 1; id <= g->nmembers; id++)
        if (g->m[id].present && g->m[id].alive)
            g->m[id].policy_version = g->pol_version;
    gw_event(g, g->now, BT_EV_POLICY, 0, -1, (int)g->pol_version, NULL);
    return (int)g->pol_version;
}

uint32_t gw_policy_version(const struct gw_cluster *g)
{
    return g->pol_version;
}

void gw_get_stats(const struct gw_cluster *g, struct gw_stats *s)
{
    *s = g->st;
}

const char *gw_member_state_name(enum gw_member_state s)
{
    switch (s) {
    case GW_SGM_UP: return "up";
    case GW_SGM_DOWN: return "down";
    case GW_SGM_JOINING: return "joining";
    case GW_SGM_SYNCING: return "syncing";
    }
    return "?";
}

int gw_member_stats(const struct gw_cluster *g, int sgm, struct gw_member_stats *s)
{
    const struct gw_member *m;

    if (sgm < 1 || (unsigned)sgm > g->nmembers || !g->m[sgm].present)
        return -EINVAL;
    m = &g->m[sgm];
    *s = m->st;
    s->alive = m->alive;
    s->detected_dead = m->detected_dead;
    s->weight = g->cfg.weight[sgm];
    s->state = !m->alive ? GW_SGM_DOWN : g->now < m->syncing_until ? GW_SGM_SYNCING : GW_SGM_UP;
    s->queue_ns = m->alive && m->busy_until > g->now ? m->busy_until - g->now : 0;
    s->policy_version = m->policy_version;
    return 0;
}

unsigned gw_member_count(const struct gw_cluster *g)
{
    return g->nmembers;
}

int gw_flow_where(const struct gw_cluster *g, const struct bt_flow_key *k, int *owner, int *backup,
                  const char **state)
{
    struct bt_flow_key ck;

    bt_flow_key_canon(k, &ck);
    *owner = *backup = 0;
    if (state)
        *state = "none";
    for (unsigned id = 1; id <= g->nmembers; id++) {
        const struct gw_member *m = &g->m[id];
        const struct gw_conn *c;
        if (!m->present || !m->alive || !m->conns)
            continue;
        c = bt_flowtab_lookup(m->conns, &ck);
        if (c && c->role == ROLE_OWNER) {
            *owner = (int)id;
            *backup = c->peer;
            if (state)
                *state = gw_conn_state_name((enum gw_conn_state)c->state);
            return 0;
        }
    }
    return -ENOENT;
}
