/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen's DPDK backend: port 0 is the client side, port 1 the server
 * side, any PMD (a NIC, net_null, net_pcap, net_memif, net_af_packet,
 * net_tap, net_ring).
 *
 * Layout (after DPDK examples/l3fwd and app/test-pmd):
 *  - the main lcore sets up the ports and the mempool, resolves next hops,
 *    then runs the control loop: signals, --stats lines, the live status,
 *    the --capture writers (off the hot path), the final summary;
 *  - each worker lcore owns one engine (flows i with i % workers == its
 *    number), one rx and one tx queue on each port, and its state on its own
 *    cache lines. Its loop makes no lock, malloc, syscall or log (the
 *    engine is sized before launch, tg_engine_reserve, from the concurrent
 *    flows the mbuf budget assumes: tg_conc_estimate): it reads
 *    the TSC, receives bursts of 32 on both ports (ARP / neighbour
 *    solicitations answered, the rest fed to tg_rx_frame: closed loop),
 *    asks the engine for up to 64 packets due by now built straight into
 *    mbuf data (tg_tx_frames), and sends them. What rte_eth_tx_burst did not
 *    take is retried on the next turns; after 1 ms without progress it is
 *    freed and counted (tx_dropped). With one lcore in all, the main lcore
 *    runs the worker loop itself between control turns.
 *  - closed loop with several workers: every packet of a flow carries its
 *    tag, tag mod workers is the flow's worker (tg_frame_part); a worker
 *    hands what its queues got for another's flow to that worker's ring
 *    (MP/SC), and serves its queues until every worker is done;
 *  - next hops: worker 0 asks them again every --neigh-refresh; any worker
 *    hearing one from a new MAC publishes it (hop), each engine follows;
 *  - the control loop talks to workers through two counters: `req` (a
 *    summary is wanted: the worker publishes tg_summary_get and stores
 *    `served`) and `stop` (1: tg_stop, drain, end; 2: tg_abort).
 *  - --capture: a worker bumps the refcount of every mbuf it sends (only
 *    those the port took: a frame freed after a stall is not captured as
 *    sent; and hands over every mbuf it received), stamps the time in the mbuf's
 *    private area and enqueues it on a single-producer single-consumer ring
 *    per port and direction; the main lcore writes the pcaps and frees the
 *    mbufs. When a ring is full the copy is dropped and counted
 *    (capture_dropped), never the traffic.
 */
#include "tg_dpdk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "bt_csum.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "bt_pkt.h"
#include "tg_api.h"
#include "tg_cli.h"

#define BURST 32
#define TX_PEND (2 * BURST)         /* per port: sent-but-not-taken, retried */
#define TX_BUILD (2 * BURST)        /* frames built a turn at most (the turn's costs over more) */
#define TX_STALL_NS 1000000ull      /* a port that takes nothing for 1 ms drops */
#define NB_RXD 1024
#define NB_TXD 1024
#define MP_CACHE 256
#define CAP_RING 8192               /* capture ring entries per port and direction */
#define STEER_RING 2048             /* closed loop, several workers: frames handed to their owner */
#define MAX_WORKERS 64

/* ================================================================ neighbours */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet header (with the VLAN tag, if any): the L3 offset and type. */
static unsigned eth_l3(const uint8_t *f, uint32_t len, uint16_t *type, uint16_t *tci)
{
    if (len < 14)
        return 0;
    *type = rd16(f + 12);
    *tci = 0;
    if (*type == 0x8100) {
        if (len < 18)
            return 0;
        *tci = rd16(f + 14);
        *type = rd16(f + 16);
        return 18;
    }
    return 14;
}

static unsigned eth_build(uint8_t *out, const uint8_t *dst, const uint8_t *src, uint16_t tci,
                          bool tagged, uint16_t type)
{
    memcpy(out, dst, 6);
    memcpy(out + 6, src, 6);
    if (tagged) {
        wr16(out + 12, 0x8100);
        wr16(out + 14, tci);
        wr16(out + 16, type);
        return 18;
    }
    wr16(out + 12, type);
    return 14;
}

/* An ARP packet for IPv4 over Ethernet at r; returns the frame length
 * (o: where r sits in the frame), padded to the 60-byte minimum. */
static uint32_t arp_build(uint8_t *frame, unsigned o, uint16_t oper, const uint8_t *sha,
                          const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
    uint8_t *r = frame + o;

    wr16(r, 1);
    wr16(r + 2, 0x0800);
    r[4] = 6;
    r[5] = 4;
    wr16(r + 6, oper);
    memcpy(r + 8, sha, 6);
    memcpy(r + 14, spa, 4);
    memcpy(r + 18, tha, 6);
    memcpy(r + 24, tpa, 4);
    if (o + 28 < 60) {
        memset(frame + o + 28, 0, 60 - (o + 28));
        return 60;
    }
    return o + 28;
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* An ICMPv6 neighbour message (NS 135 / NA 136) with a link-layer address
 * option (1 source, 2 target), checksummed. Returns the frame length. */
static uint32_t nd_build(uint8_t *out, uint32_t cap, const uint8_t *edst, const uint8_t *mac,
                         uint16_t tci, bool tagged, const uint8_t *src6, const uint8_t *dst6,
                         uint8_t type, uint32_t flags, const uint8_t *target)
{
    unsigned l3 = eth_build(out, edst, mac, tci, tagged, 0x86dd);
    uint8_t *ip = out + l3, *ic = ip + 40;
    uint32_t len = l3 + 40 + 32;
    struct bt_parsed p;

    if (cap < len)
        return 0;
    memset(ip, 0, 40 + 32);
    ip[0] = 0x60;
    wr16(ip + 4, 32);
    ip[6] = 58;
    ip[7] = 255;
    memcpy(ip + 8, src6, 16);
    memcpy(ip + 24, dst6, 16);
    ic[0] = type;
    ic[4] = (uint8_t)(flags >> 24);
    memcpy(ic + 8, target, 16);
    ic[24] = type == 135 ? 1 : 2;
    ic[25] = 1;
    memcpy(ic + 26, mac, 6);
    if (bt_parse(out, len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK || bt_csum_fix(out, len, &p) < 0)
        return 0;
    return len;
}

uint32_t tg_neigh_answer(const struct tg_neigh *n, const uint8_t *f, uint32_t len, uint8_t *out,
                         uint32_t cap)
{
    uint16_t type, tci;
    unsigned l3 = eth_l3(f, len, &type, &tci);
    bool tagged = l3 == 18;

    if (!l3 || cap < TG_NEIGH_FRAME)
        return 0;
    if (type == 0x0806 && n->has4) {
        const uint8_t *a = f + l3;
        if (len < l3 + 28 || rd16(a) != 1 || rd16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
            rd16(a + 6) != 1 || memcmp(a + 24, n->ip4, 4))
            return 0;
        uint8_t sha[6], spa[4];
        memcpy(sha, a + 8, 6);  /* out may be f itself */
        memcpy(spa, a + 14, 4);
        unsigned o = eth_build(out, sha, n->mac, tci, tagged, 0x0806);
        return arp_build(out, o, 2, n->mac, n->ip4, sha, spa);
    }
    if (type == 0x86dd && n->has6) {
        const uint8_t *ip = f + l3, *ic = ip + 40;
        static const uint8_t unspec[16];
        static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
        if (len < l3 + 40 + 24 || (ip[0] >> 4) != 6 || ip[6] != 58 || ip[7] != 255 ||
            ic[0] != 135 || ic[1] != 0 || memcmp(ic + 8, n->ip6, 16))
            return 0;
        bool dad = !memcmp(ip + 8, unspec, 16);
        /* answer to the soliciting address (DAD: all nodes, not solicited) */
        const uint8_t *dst6 = dad ? all_nodes : ip + 8;
        uint8_t edst[6];
        if (dad) {
            static const uint8_t mc[6] = {0x33, 0x33, 0, 0, 0, 1};
            memcpy(edst, mc, 6);
        } else {
            memcpy(edst, f + 6, 6);
        }
        return nd_build(out, cap, edst, n->mac, tci, tagged, n->ip6, dst6, 136,
                        dad ? 0x20000000u : 0x60000000u, n->ip6);
    }
    return 0;
}

uint32_t tg_neigh_request(const struct tg_neigh *n, int family, const uint8_t *target,
                          uint16_t vlan, uint8_t *out, uint32_t cap)
{
    if (cap < TG_NEIGH_FRAME)
        return 0;
    if (family == 4) {
        if (!n->has4)
            return 0;
        static const uint8_t zero[6];
        unsigned o = eth_build(out, bcast, n->mac, vlan, vlan != 0, 0x0806);
        return arp_build(out, o, 1, n->mac, n->ip4, zero, target);
    }
    if (family == 6) {
        if (!n->has6)
            return 0;
        uint8_t sn[16] = {0xff, 0x02, [11] = 1, [12] = 0xff};
        memcpy(sn + 13, target + 13, 3);
        uint8_t edst[6] = {0x33, 0x33, 0xff, target[13], target[14], target[15]};
        return nd_build(out, cap, edst, n->mac, vlan, vlan != 0, n->ip6, sn, 135, 0, target);
    }
    return 0;
}

bool tg_neigh_learn(const uint8_t *f, uint32_t len, int family, const uint8_t *target,
                    uint8_t mac[6])
{
    uint16_t type, tci;
    unsigned l3 = eth_l3(f, len, &type, &tci);

    if (!l3)
        return false;
    if (family == 4 && type == 0x0806) {
        const uint8_t *a = f + l3;
        if (len < l3 + 28 || rd16(a) != 1 || rd16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
            memcmp(a + 14, target, 4))
            return false;
        memcpy(mac, a + 8, 6);
        return true;
    }
    if (family == 6 && type == 0x86dd) {
        const uint8_t *ip = f + l3, *ic = ip + 40;
        if (len < l3 + 40 + 24 || ip[6] != 58 || ic[0] != 136 || memcmp(ic + 8, target, 16))
            return false;
        memcpy(mac, f + 6, 6);
        /* the target link-layer address option, when there is one */
        uint32_t end = l3 + 40 + rd16(ip + 4);
        if (end > len)
            end = len;
        for (uint32_t o = l3 + 40 + 24; o + 8 <= end && f[o + 1]; o += 8u * f[o + 1])
            if (f[o] == 2 && f[o + 1] == 1) {
                memcpy(mac, f + o + 2, 6);
                break;
            }
        return true;
    }
    return false;
}

/* ================================================================ mbufs */

void tg_mbuf_plan(unsigned workers, unsigned lcores, unsigned nrxd, unsigned ntxd,
                  unsigned cache_size, unsigned cap_ring, bool closed, uint64_t conc,
                  struct tg_mbuf_plan *out)
{
    memset(out, 0, sizeof(*out));
    out->desc = 2ull * workers * ((uint64_t)nrxd + ntxd);
    out->cache = (uint64_t)lcores * cache_size * 3 / 2;
    out->burst = (uint64_t)workers * (TX_BUILD + 2 * TX_PEND + BURST + 2 * BURST);
    out->capture = cap_ring ? (uint64_t)workers * 4 * cap_ring + 256 : 0;
    out->conc = conc;
    out->inflight = closed ? 2 * conc : 0;
    out->total = out->desc + out->cache + out->burst + out->capture + out->inflight;
}

uint64_t tg_conc_estimate(const struct tg_profile *p, uint64_t max_tmpl_ns)
{
    uint64_t flows = p->flows ? p->flows : 0, est;

    if (p->concurrency)
        est = p->concurrency;
    else if (p->rate_max)
        est = flows ? flows : UINT64_MAX;
    else {
        double life = (double)max_tmpl_ns / 1e9 / (p->speed > 0 ? p->speed : 1);
        if (p->mode == TG_MODE_CLOSED)
            life += 0.002;  /* a few round trips through a device, beyond the template */
        double e = p->cps * (p->cps_mult > 0 ? p->cps_mult : 1) * life * 1.25 + 64;
        est = e > 1e15 ? UINT64_MAX : (uint64_t)e;
    }
    if (flows && est > flows)
        est = flows;
    if (!flows && !p->duration_ns && est > 1000)
        est = 1000;  /* the engine's default of 1000 flows */
    return est;
}

/* The mbuf pool: rte_pktmbuf_pool_create's steps, with one flag. Without
 * hugepages (--no-huge: 4 KiB pages) the mempool keeps an object within
 * one page unless told the objects need not be IOVA-contiguous, so every
 * mbuf (2,432 bytes) takes a page of its own: 4 KiB apart, the header
 * lines of all the mbufs in circulation (64 here) fall in the same set of
 * an L1 data cache whose ways are 4 KiB (8 of them), and every access to
 * them misses. With IOVA as VA (what EAL picks without hugepages) a
 * virtually contiguous object is contiguous for a device too, so the flag
 * is safe there and the objects lie back to back (2,496 bytes apart). */
static struct rte_mempool *mbuf_pool(const char *name, unsigned n, unsigned cache, uint16_t priv,
                                     uint16_t room, int socket)
{
    struct rte_pktmbuf_pool_private pp = {.mbuf_data_room_size = room, .mbuf_priv_size = priv};
    unsigned flags = !rte_eal_has_hugepages() && rte_eal_iova_mode() == RTE_IOVA_VA
                         ? RTE_MEMPOOL_F_NO_IOVA_CONTIG
                         : 0;
    struct rte_mempool *mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + priv + room,
                                                      cache, sizeof(pp), socket, flags);
    int ret;

    if (!mp)
        return NULL;
    ret = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
    if (ret == 0) {
        rte_pktmbuf_pool_init(mp, &pp);
        ret = rte_mempool_populate_default(mp);
    }
    if (ret < 0) {
        rte_mempool_free(mp);
        rte_errno = -ret;
        return NULL;
    }
    rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
    return mp;
}

/* The bytes from the pool's first mbuf to its second (--json's
 * mbuf_stride: 4096 when every mbuf takes a page of its own). */
static void stride_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned i)
{
    uintptr_t *a = arg;

    (void)mp;
    if (i < 2)
        a[i] = (uintptr_t)obj;
}

static uint64_t mbuf_stride(struct rte_mempool *mp)
{
    uintptr_t a[2] = {0, 0};

    rte_mempool_obj_iter(mp, stride_obj, a);
    return a[1] > a[0] ? a[1] - a[0] : a[0] - a[1];
}

/* ================================================================ run state */

struct ctl {
    uint32_t req;          /* bumped by main: publish a summary */
    uint32_t stop;         /* 1: stop (drain), 2: abort */
    uint64_t tsc0, mult;   /* the shared clock */
} __rte_cache_aligned;

static struct ctl ctl;

/* The next hops' MACs (48 bits in a word, stored atomically): a worker
 * that hears the next hop from a new MAC stores it and bumps the count;
 * every worker compares it with its own copy each turn and tells its
 * engine (tg_set_macs). */
static struct {
    uint64_t mac[2];
    uint64_t changes[2];
} hop __rte_cache_aligned;

static uint64_t mac_word(const uint8_t *m)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 6; i++)
        v = v << 8 | m[i];
    return v;
}

static void mac_bytes(uint64_t v, uint8_t *m)
{
    for (unsigned i = 0; i < 6; i++)
        m[i] = (uint8_t)(v >> (8 * (5 - i)));
}

static inline uint64_t now_ns(void)
{
    return tg_tsc_ns(rte_rdtsc() - ctl.tsc0, ctl.mult);
}

struct port {
    uint16_t id;
    uint16_t idx;          /* 0 client side, 1 server side */
    uint16_t nrxd, ntxd;
    bool neigh_on;
    struct tg_neigh nb;
    uint8_t dst_mac[6];
    bool resolved;
    int gw_fam;            /* 4 or 6: the next hop to keep refreshed (0: none) */
    uint8_t gw[16];
    uint16_t vlan;
    char name[RTE_ETH_NAME_MAX_LEN];
    const char *driver;
};

struct worker {
    /* hot: the worker's own */
    struct tg_engine *g;
    struct rte_mempool *mp;
    const struct port *ports;
    uint16_t q;
    bool rx_on, closed, capture;
    /* rate max, open loop, no pps/bps cap: a port's frames wait for a full
     * burst (testpmd's streams send 32 at a time), not one tx_burst per
     * port per turn of ~16 each; none waits past a turn that builds none */
    bool full_bursts;
    uint32_t stop_seen;
    uint32_t nstash;
    bool cache_known;                /* cache looked up (NULL: the pool has none) */
    struct rte_mempool_cache *cache; /* this lcore's cache of mp */
    uint32_t room;                   /* data room of a fresh mbuf */
    uint32_t data_at;                /* its data from the mbuf's address (buf_addr + headroom) */
    uint64_t rearm;                  /* a fresh mbuf's data_off, refcnt, nb_segs, port */
    uint32_t npend[2];
    uint64_t stall_since[2];
    struct rte_mbuf *stash[TX_BUILD];
    struct rte_mbuf *pend[2][TX_PEND];
    uint32_t lp[TX_BUILD];           /* what tg_tx_frames built: length | port << 16 */
    struct rte_ring *cap[2][2];      /* [port][0 tx, 1 rx] */
    unsigned idx, nw;                /* this worker, of nw */
    bool finished;                   /* its engine is done, its summary published */
    struct rte_ring *steer;          /* closed loop, nw > 1: frames of our flows others got */
    uint64_t mac_seen[2];            /* the next hops' MACs the engine builds with */
    uint64_t refresh_ns, next_refresh;   /* worker 0: re-ARP / NS period (0: never) */
    uint64_t tx_dropped, alloc_failed, capture_dropped, arp_replies, nd_replies;
    uint64_t steered, steer_dropped, neigh_requests;
    uint64_t end_ns;
    uint64_t cpu_ns;                 /* the worker thread's CPU time (remote lcores) */
    unsigned lcore;
    /* shared with main: published state on its own lines */
    uint32_t served __rte_cache_aligned;
    bool done;
    struct tg_summary pub;
    uint64_t pub_tx_dropped, pub_alloc_failed;
} __rte_cache_aligned;

static struct worker *workers;
static unsigned nworkers;
static unsigned nfinished;           /* workers whose engines are done */
static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
    (void)sig;
    signals++;
}

/* ================================================================ worker loop */

static void publish(struct worker *w, uint64_t now, uint32_t req)
{
    tg_summary_get(w->g, now, &w->pub);
    w->pub_tx_dropped = w->tx_dropped;
    w->pub_alloc_failed = w->alloc_failed;
    __atomic_store_n(&w->served, req, __ATOMIC_RELEASE);
}

static void cap_put(struct worker *w, unsigned port, unsigned dir, struct rte_mbuf **m,
                    unsigned n, uint64_t now, bool take_ref)
{
    for (unsigned i = 0; i < n; i++) {
        *(uint64_t *)rte_mbuf_to_priv(m[i]) = now;
        if (take_ref)
            rte_mbuf_refcnt_update(m[i], 1);
    }
    unsigned k = rte_ring_sp_enqueue_burst(w->cap[port][dir], (void **)m, n, NULL);
    if (k < n) {
        w->capture_dropped += n - k;
        /* not captured: give the reference back (tx) or free (rx) */
        for (unsigned i = k; i < n; i++)
            rte_pktmbuf_free(m[i]);
    }
}

static void flush(struct worker *w, unsigned p, uint64_t now)
{
    uint32_t n = w->npend[p];
    uint16_t sent;

    if (!n)
        return;
    /* --capture: a reference taken before the PMD owns the frames; the
     * capture gets only those the port took, so a frame freed below after
     * a stall (tx_dropped) is not in port<p>-tx.pcap as sent */
    if (w->capture)
        for (uint32_t i = 0; i < n; i++)
            rte_mbuf_refcnt_update(w->pend[p][i], 1);
    sent = rte_eth_tx_burst(w->ports[p].id, w->q, w->pend[p], (uint16_t)n);
    if (w->capture) {
        if (sent)
            cap_put(w, p, 0, w->pend[p], sent, now, false);
        for (uint32_t i = sent; i < n; i++)
            rte_mbuf_refcnt_update(w->pend[p][i], -1);
    }
    if (sent) {
        if (sent < n)
            memmove(w->pend[p], w->pend[p] + sent, (n - sent) * sizeof(w->pend[p][0]));
        w->npend[p] = n - sent;
        w->stall_since[p] = 0;
        return;
    }
    if (!w->stall_since[p]) {
        w->stall_since[p] = now | 1;
    } else if (now - w->stall_since[p] > TX_STALL_NS) {
        /* the port takes nothing (link down, full ring): free, count */
        rte_pktmbuf_free_bulk(w->pend[p], n);
        w->tx_dropped += n;
        w->npend[p] = 0;
        w->stall_since[p] = 0;
    }
}

/* Queues a frame of our own (an ARP reply, a neighbour request) on port p:
 * 1 queued, 0 no mbuf or no room (counted). */
static int tx_own(struct worker *w, unsigned p, const uint8_t *buf, uint32_t l)
{
    struct rte_mbuf *r = rte_pktmbuf_alloc(w->mp);

    if (!r || w->npend[p] >= TX_PEND) {
        if (r)
            rte_pktmbuf_free(r);
        w->alloc_failed++;
        return 0;
    }
    memcpy(rte_pktmbuf_mtod(r, uint8_t *), buf, l);
    r->data_len = (uint16_t)l;
    r->pkt_len = l;
    w->pend[p][w->npend[p]++] = r;
    return 1;
}

/* An ARP or neighbour frame on port p: answered when it asks for our
 * address (true: consumed); the next hop's MAC learned when it is from the
 * next hop, published when it moved. */
static bool rx_neigh(struct worker *w, unsigned p, const uint8_t *d, uint32_t len, uint64_t now)
{
    const struct port *pt = &w->ports[p];
    uint8_t buf[TG_NEIGH_FRAME], mac[6];

    if (pt->gw_fam && tg_neigh_learn(d, len, pt->gw_fam, pt->gw, mac)) {
        uint64_t v = mac_word(mac), cur = __atomic_load_n(&hop.mac[p], __ATOMIC_ACQUIRE);
        if (v != cur && __atomic_compare_exchange_n(&hop.mac[p], &cur, v, false,
                                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            __atomic_add_fetch(&hop.changes[p], 1, __ATOMIC_RELAXED);
    }
    uint32_t l = tg_neigh_answer(&pt->nb, d, len, buf, sizeof(buf));
    if (!l)
        return false;
    if (tx_own(w, p, buf, l)) {
        if (buf[12] == 0x08 || (buf[12] == 0x81 && buf[16] == 0x08))
            w->arp_replies++;
        else
            w->nd_replies++;
    }
    return true;
}

/* Frames received for flows of other workers go to their owners' rings
 * (the port in the pointer's low bit: mbufs are cache-line aligned). */
static void steer_out(struct worker *w, unsigned p, struct rte_mbuf **m, const uint8_t *own,
                      unsigned n)
{
    void *objs[BURST];

    for (unsigned o = 0; o < w->nw; o++) {
        unsigned k = 0;
        if (o == w->idx)
            continue;
        for (unsigned i = 0; i < n; i++)
            if (own[i] == o)
                objs[k++] = (void *)((uintptr_t)m[i] | p);
        if (!k)
            continue;
        unsigned q = rte_ring_mp_enqueue_burst(workers[o].steer, objs, k, NULL);
        w->steered += q;
        for (unsigned i = q; i < k; i++) {
            rte_pktmbuf_free((struct rte_mbuf *)((uintptr_t)objs[i] & ~(uintptr_t)1));
            w->steer_dropped++;
        }
    }
}

static unsigned rx_port(struct worker *w, unsigned p, uint64_t now)
{
    struct rte_mbuf *rx[BURST], *mine[BURST], *other[BURST];
    uint8_t own[BURST];
    unsigned nmine = 0, nother = 0;
    uint16_t n = rte_eth_rx_burst(w->ports[p].id, w->q, rx, BURST);
    bool steer = w->steer != NULL;

    if (!n)
        return 0;
    for (uint16_t i = 0; i < n; i++) {
        if (i + 3 < n)
            rte_prefetch0(rte_pktmbuf_mtod(rx[i + 3], void *));
        struct rte_mbuf *m = rx[i];
        const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
        uint32_t len = m->data_len;
        if (unlikely(w->ports[p].neigh_on) && len >= 18 &&
            ((d[12] == 0x08 && d[13] == 0x06) || (d[12] == 0x86 && d[13] == 0xdd) ||
             (d[12] == 0x81 && d[13] == 0x00)) && rx_neigh(w, p, d, len, now)) {
            mine[nmine++] = m;
            continue;
        }
        if (steer) {
            unsigned o = tg_frame_part(d, len, w->nw);
            if (o < w->nw && o != w->idx) {
                own[nother] = (uint8_t)o;
                other[nother++] = m;
                continue;
            }
        }
        tg_rx_frame(w->g, now, (uint16_t)p, d, len);
        mine[nmine++] = m;
    }
    if (w->capture && !steer) {
        cap_put(w, p, 1, rx, n, now, false);  /* handed over: the writer frees them */
        return n;
    }
    if (w->capture)
        cap_put(w, p, 1, rx, n, now, true);   /* a reference of its own: others read them */
    if (nmine)
        rte_pktmbuf_free_bulk(mine, nmine);
    if (nother)
        steer_out(w, p, other, own, nother);
    return n;
}

/* Frames of our flows that other workers received. */
static unsigned rx_steered(struct worker *w, uint64_t now)
{
    void *objs[BURST];
    struct rte_mbuf *m[BURST];
    unsigned n = rte_ring_sc_dequeue_burst(w->steer, objs, BURST, NULL);

    for (unsigned i = 0; i < n; i++) {
        uintptr_t v = (uintptr_t)objs[i];
        m[i] = (struct rte_mbuf *)(v & ~(uintptr_t)1);
        tg_rx_frame(w->g, now, (uint16_t)(v & 1), rte_pktmbuf_mtod(m[i], const uint8_t *),
                    m[i]->data_len);
    }
    if (n)
        rte_pktmbuf_free_bulk(m, n);
    return n;
}

/* Worker 0, every refresh period: asks each next hop again (ARP request or
 * neighbour solicitation); the answer is learned in rx_neigh. Other
 * workers follow the published MAC. */
static void neigh_turn(struct worker *w, uint64_t now)
{
    if (w->refresh_ns && now >= w->next_refresh) {
        w->next_refresh = now + w->refresh_ns;
        for (unsigned p = 0; p < 2; p++) {
            const struct port *pt = &w->ports[p];
            uint8_t buf[TG_NEIGH_FRAME];
            uint32_t l;
            if (!pt->gw_fam)
                continue;
            l = tg_neigh_request(&pt->nb, pt->gw_fam, pt->gw, pt->vlan, buf, sizeof(buf));
            if (l && tx_own(w, p, buf, l))
                w->neigh_requests++;
        }
    }
    for (unsigned p = 0; p < 2; p++) {
        uint64_t v;
        if (!w->ports[p].gw_fam)
            continue;
        v = __atomic_load_n(&hop.mac[p], __ATOMIC_ACQUIRE);
        if (v != w->mac_seen[p]) {
            uint8_t mac[6];
            mac_bytes(v, mac);
            tg_set_macs(w->g, (uint16_t)p, NULL, mac);
            w->mac_seen[p] = v;
        }
    }
}

/* Builds up to a burst into mbufs, onto the ports' pending arrays: the
 * count built. */
/* (tx_fill sets an mbuf's fields in three stores: the layout it relies on) */
_Static_assert(offsetof(struct rte_mbuf, ol_flags) == offsetof(struct rte_mbuf, rearm_data) + 8,
               "ol_flags after rearm_data");
_Static_assert(offsetof(struct rte_mbuf, pkt_len) == offsetof(struct rte_mbuf, packet_type) + 4 &&
               offsetof(struct rte_mbuf, vlan_tci) == offsetof(struct rte_mbuf, data_len) + 2 &&
               RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN,
               "packet_type, pkt_len, data_len, vlan_tci in a row (little endian)");

static unsigned tx_fill(struct worker *w, uint64_t now)
{
    uint32_t room = TX_PEND - (w->npend[0] > w->npend[1] ? w->npend[0] : w->npend[1]);

    if (room > TX_BUILD)
        room = TX_BUILD;
    if (!room)
        return 0;
    if (unlikely(!w->cache_known)) {
        /* (on the worker's own thread: its lcore's cache) */
        w->cache = rte_mempool_default_cache(w->mp, rte_lcore_id());
        w->cache_known = true;
    }
    struct rte_mempool_cache *c = w->cache;
    struct rte_mbuf **mb;
    bool cached = !w->nstash && c && c->len >= room;
    if (cached) {
        /* straight from the top of this lcore's mempool cache, where the
         * PMD's frees just put them back (rte_mempool_get_bulk's source),
         * without copying the pointers out: the mbufs built are taken off
         * it below, the rest stay */
        mb = (struct rte_mbuf **)&c->objs[c->len - room];
    } else if (w->nstash < room) {
        /* top the stash up (all or nothing, like the PMDs' own refills);
         * raw: the fields are set below, once, with the lengths */
        if (rte_mempool_get_bulk(w->mp, (void **)(w->stash + w->nstash), TX_BUILD - w->nstash) == 0) {
            w->nstash = TX_BUILD;
        } else {
            w->alloc_failed++;
            if (!w->nstash)
                return 0;
            room = w->nstash;
        }
    }
    if (!cached)
        mb = w->stash;
    /* the frames built where the mbufs' data lies, at data_at from the
     * mbuf's address, not loaded from it: the header is first touched
     * after the build (prefetching it here, for reading or writing, made
     * no difference outside the noise) */
    unsigned n = tg_tx_frames(w->g, now, (void *const *)mb, w->data_at, w->room, w->lp, room);
    /* (the pending counts and the rest in registers: the mbufs' stores
     * alias anything) */
    struct rte_mbuf **q0 = w->pend[0] + w->npend[0], **q1 = w->pend[1] + w->npend[1];
    const uint32_t *lps = w->lp;
    uint64_t rearm = w->rearm;
    for (unsigned i = 0; i < n; i++) {
        struct rte_mbuf *m = mb[i];
        uint32_t lp = lps[i], len = (uint16_t)lp;
        /* rte_pktmbuf_reset's work, in whole words as the PMDs' rearm
         * does: a pool's mbufs already have next NULL, one segment and a
         * reference (rte_mbuf_raw_alloc) */
        uint64_t ra[2] = {rearm, 0};                     /* rearm_data, ol_flags */
        uint64_t pt = (uint64_t)len << 32;               /* packet_type 0, pkt_len */
        uint32_t dl = len;                               /* data_len, vlan_tci 0 */
        memcpy((char *)m + offsetof(struct rte_mbuf, rearm_data), ra, sizeof(ra));
        memcpy((char *)m + offsetof(struct rte_mbuf, packet_type), &pt, sizeof(pt));
        memcpy((char *)m + offsetof(struct rte_mbuf, data_len), &dl, sizeof(dl));
        /* (the port: 0 or 1, the word's high half) */
        if (lp >> 16)
            *q1++ = m;
        else
            *q0++ = m;
    }
    w->npend[0] = (uint32_t)(q0 - w->pend[0]);
    w->npend[1] = (uint32_t)(q1 - w->pend[1]);
    if (cached) {
        /* the n built off the cache: the rest (above them) moves down */
        if (n < room)
            memmove(mb, mb + n, (room - n) * sizeof(mb[0]));
        c->len -= n;
    } else if (n) {
        w->nstash -= n;
        if (w->nstash)
            memmove(w->stash, w->stash + n, w->nstash * sizeof(w->stash[0]));
    }
    return n;
}

/* The end of a worker: what is pending leaves or is freed, the stash goes
 * back, the last summary is published. */
static void worker_finish(struct worker *w, uint64_t now)
{
    uint64_t until = now + 10 * TX_STALL_NS;

    while ((w->npend[0] || w->npend[1]) && now < until) {
        flush(w, 0, now);
        flush(w, 1, now);
        now = now_ns();
    }
    for (unsigned p = 0; p < 2; p++) {
        if (w->npend[p]) {
            rte_pktmbuf_free_bulk(w->pend[p], w->npend[p]);
            w->tx_dropped += w->npend[p];
            w->npend[p] = 0;
        }
    }
    if (w->nstash) {
        rte_pktmbuf_free_bulk(w->stash, w->nstash);
        w->nstash = 0;
    }
    w->end_ns = now;
    publish(w, now, __atomic_load_n(&ctl.req, __ATOMIC_ACQUIRE));
    __atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
}

/* Runs up to iters turns of the loop; true when the worker is done. */
static bool worker_poll(struct worker *w, unsigned iters)
{
    for (unsigned it = 0; it < iters; it++) {
        uint64_t now = now_ns();
        uint32_t stop = __atomic_load_n(&ctl.stop, __ATOMIC_RELAXED);
        uint32_t req = __atomic_load_n(&ctl.req, __ATOMIC_RELAXED);

        if (unlikely(stop != w->stop_seen)) {
            w->stop_seen = stop;
            if (stop == 1)
                tg_stop(w->g, now);
            else
                tg_abort(w->g, now);
        }
        /* (a finished worker published its last summary and is marked
         * done: the control loop reads it without waiting, so it is not
         * written again while the worker serves its queues for others) */
        if (unlikely(req != w->served) && !w->finished)
            publish(w, now, req);
        if (w->rx_on) {
            /* full bursts: a backlog (the thread was preempted); take up
             * to 8 before sending, or the engine times out packets whose
             * answers wait in the rx ring */
            for (unsigned k = 0; k < 8 && rx_port(w, 0, now) == BURST; k++)
                ;
            for (unsigned k = 0; k < 8 && rx_port(w, 1, now) == BURST; k++)
                ;
            if (w->steer)
                for (unsigned k = 0; k < 8 && rx_steered(w, now) == BURST; k++)
                    ;
        }
        if (unlikely(w->ports[0].gw_fam || w->ports[1].gw_fam))
            neigh_turn(w, now);
        /* (full_bursts: a short burst waits for the build below) */
        if (w->npend[0] && (!w->full_bursts || w->npend[0] >= BURST))
            flush(w, 0, now);
        if (w->npend[1] && (!w->full_bursts || w->npend[1] >= BURST))
            flush(w, 1, now);
        if (unlikely(tg_done(w->g))) {
            if (!w->finished) {
                worker_finish(w, now);
                w->finished = true;
                __atomic_add_fetch(&nfinished, 1, __ATOMIC_ACQ_REL);
            }
            /* steering: the frames of the others' flows may land on our
             * queues (the PMD spreads them): serve them until all end;
             * worker 0 keeps the next hops fresh until then too */
            if ((!w->steer && !w->refresh_ns) ||
                __atomic_load_n(&nfinished, __ATOMIC_ACQUIRE) == w->nw) {
                /* frames of our own queued since worker_finish (ARP
                 * replies, neighbour requests) that the port has not
                 * taken yet: freed and counted, not leaked */
                for (unsigned p = 0; p < 2; p++)
                    if (w->npend[p]) {
                        rte_pktmbuf_free_bulk(w->pend[p], w->npend[p]);
                        w->tx_dropped += w->npend[p];
                        w->npend[p] = 0;
                    }
                return true;
            }
            continue;
        }
        if (tg_next_ns(w->g) <= now) {
            unsigned built = tx_fill(w, now);
            if (w->npend[0] && (!w->full_bursts || !built || w->npend[0] >= BURST))
                flush(w, 0, now);
            if (w->npend[1] && (!w->full_bursts || !built || w->npend[1] >= BURST))
                flush(w, 1, now);
        }
    }
    return false;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t cpu0 = thread_cpu_ns();  /* (outside the loop: the CPU it really got) */

    while (!worker_poll(w, 1u << 20))
        ;
    w->cpu_ns = thread_cpu_ns() - cpu0;
    return 0;
}

/* ================================================================ setup */

static uint64_t wall_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fmt_mac(const uint8_t *m, char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Configures a port (queues, descriptors adjusted) without starting it. */
static int port_configure(struct port *pt, unsigned nq, struct bt_err *e)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    int r;

    r = rte_eth_dev_info_get(pt->id, &info);
    if (r < 0)
        return bt_err_setr(e, r, "port %u: no device info (%s)", pt->id, rte_strerror(-r));
    rte_eth_dev_get_name_by_port(pt->id, pt->name);
    pt->driver = info.driver_name;
    if (info.max_rx_queues < nq || info.max_tx_queues < nq)
        return bt_err_setr(e, -EINVAL, "port %u (%s): %u rx / %u tx queues, --workers %u needs %u "
                           "of each (net_af_packet: qpairs=N; net_pcap: one queue)",
                           pt->id, pt->name, info.max_rx_queues, info.max_tx_queues, nq, nq);
    memset(&conf, 0, sizeof(conf));
    /* no offloads: the engine computes every checksum in software */
    if (nq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
    }
    r = rte_eth_dev_configure(pt->id, (uint16_t)nq, (uint16_t)nq, &conf);
    if (r < 0)
        return bt_err_setr(e, r, "port %u (%s): configure: %s", pt->id, pt->name,
                           rte_strerror(-r));
    pt->nrxd = NB_RXD;
    pt->ntxd = NB_TXD;
    r = rte_eth_dev_adjust_nb_rx_tx_desc(pt->id, &pt->nrxd, &pt->ntxd);
    if (r < 0)
        return bt_err_setr(e, r, "port %u (%s): descriptors: %s", pt->id, pt->name,
                           rte_strerror(-r));
    return 0;
}

static int port_start(struct port *pt, unsigned nq, struct rte_mempool *mp, struct bt_err *e)
{
    int sock = rte_eth_dev_socket_id(pt->id), r;
    struct rte_ether_addr a;

    if (sock < 0)
        sock = (int)rte_socket_id();
    for (unsigned q = 0; q < nq; q++) {
        r = rte_eth_rx_queue_setup(pt->id, (uint16_t)q, pt->nrxd, (unsigned)sock, NULL, mp);
        if (r < 0)
            return bt_err_setr(e, r, "port %u (%s): rx queue %u: %s", pt->id, pt->name, q,
                               rte_strerror(-r));
        r = rte_eth_tx_queue_setup(pt->id, (uint16_t)q, pt->ntxd, (unsigned)sock, NULL);
        if (r < 0)
            return bt_err_setr(e, r, "port %u (%s): tx queue %u: %s", pt->id, pt->name, q,
                               rte_strerror(-r));
    }
    r = rte_eth_dev_start(pt->id);
    if (r < 0)
        return bt_err_setr(e, r, "port %u (%s): start: %s", pt->id, pt->name, rte_strerror(-r));
    /* the engine's MACs are not the port's: receive everything */
    (void)rte_eth_promiscuous_enable(pt->id);
    if (rte_eth_macaddr_get(pt->id, &a) == 0)
        memcpy(pt->nb.mac, a.addr_bytes, 6);
    return 0;
}

/* Waits up to 5 s for both links (as testpmd does: a NIC or memif sends
 * nothing before); starts anyway, said on stderr, when one stays down. */
static void wait_links(const struct port *ports, bool quiet)
{
    uint64_t until = wall_mono_ns() + 5000000000ull;
    bool up[2] = {false, false};

    for (;;) {
        for (unsigned p = 0; p < 2; p++) {
            struct rte_eth_link l;
            memset(&l, 0, sizeof(l));
            if (!up[p] && rte_eth_link_get_nowait(ports[p].id, &l) == 0 &&
                l.link_status == RTE_ETH_LINK_UP)
                up[p] = true;
        }
        if ((up[0] && up[1]) || wall_mono_ns() >= until)
            break;
        rte_delay_us_sleep(10000);
    }
    for (unsigned p = 0; p < 2; p++)
        if (!up[p] && !quiet)
            fprintf(stderr, "tgen: port %u (%s): link down after 5 s; starting anyway\n",
                    ports[p].id, ports[p].name);
}

/* Resolves port p's next hop (ARP or neighbour solicitation, 3 tries a
 * second apart) on queue 0, answering requests meanwhile. */
static int resolve(struct port *pt, const struct tg_port_ip *pi, struct rte_mempool *mp,
                   uint16_t vlan, bool quiet, struct bt_err *e)
{
    int fam = pi->gw4_set ? 4 : 6;
    const uint8_t *target = fam == 4 ? pi->gw4 : pi->gw6;
    char ip[64], mac[32];

    if (fam == 4)
        snprintf(ip, sizeof(ip), "%u.%u.%u.%u", target[0], target[1], target[2], target[3]);
    else
        inet_ntop(AF_INET6, target, ip, sizeof(ip));
    if ((fam == 4 && !pt->nb.has4) || (fam == 6 && !pt->nb.has6))
        return bt_err_setr(e, -EINVAL, "port %u: next hop %s needs an IPv%d address of the port "
                           "(--%s-ip)", pt->id, ip, fam, pt->id ? "server" : "client");
    for (int tries = 0; tries < 3 && !pt->resolved; tries++) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
        if (!m)
            return bt_err_setr(e, -ENOMEM, "port %u: no mbuf for the neighbour request",
                               pt->id);
        uint32_t l = tg_neigh_request(&pt->nb, fam, target, vlan,
                                      rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m));
        m->data_len = (uint16_t)l;
        m->pkt_len = l;
        if (rte_eth_tx_burst(pt->id, 0, &m, 1) != 1)
            rte_pktmbuf_free(m);
        uint64_t until = wall_mono_ns() + 1000000000ull;
        while (!pt->resolved && wall_mono_ns() < until) {
            struct rte_mbuf *rx[BURST];
            uint16_t n = rte_eth_rx_burst(pt->id, 0, rx, BURST);
            for (uint16_t i = 0; i < n; i++) {
                const uint8_t *d = rte_pktmbuf_mtod(rx[i], const uint8_t *);
                uint8_t buf[TG_NEIGH_FRAME];
                uint32_t al = tg_neigh_answer(&pt->nb, d, rx[i]->data_len, buf, sizeof(buf));
                if (al) {
                    struct rte_mbuf *r = rte_pktmbuf_alloc(mp);
                    if (r) {
                        memcpy(rte_pktmbuf_mtod(r, uint8_t *), buf, al);
                        r->data_len = (uint16_t)al;
                        r->pkt_len = al;
                        if (rte_eth_tx_burst(pt->id, 0, &r, 1) != 1)
                            rte_pktmbuf_free(r);
                    }
                }
                if (tg_neigh_learn(d, rx[i]->data_len, fam, target, pt->dst_mac))
                    pt->resolved = true;
            }
            if (n)
                rte_pktmbuf_free_bulk(rx, n);
            else
                rte_delay_us_sleep(100);
        }
    }
    if (!pt->resolved)
        return bt_err_setr(e, -EHOSTUNREACH, "port %u (%s): next hop %s did not answer %s (3 "
                           "tries, 1 s apart): check the link, the address and --%s-ip",
                           pt->id, pt->name, ip, fam == 4 ? "ARP" : "neighbour solicitation",
                           pt->id ? "server" : "client");
    fmt_mac(pt->dst_mac, mac, sizeof(mac));
    if (!quiet)
        fprintf(stderr, "tgen: port %u: next hop %s is at %s\n", pt->id, ip, mac);
    return 0;
}

/* ================================================================ control */

/* --capture's files. With one worker w[0] are the port files themselves;
 * with several, each worker writes files of its own (each in time order: a
 * drain empties one worker's ring after another, so one shared file would
 * step back in time at every turn) and capture_merge joins them by time
 * stamp at the end, as bt_pcap_merge and verify's loss check want. */
struct capture {
    struct bt_pcap_writer *w[MAX_WORKERS][2][2];
    unsigned nw;
    uint64_t wall0_ns;     /* CLOCK_REALTIME at tsc0 */
    int err;
};

static void capture_path(char *buf, size_t n, const char *dir, unsigned p, unsigned d,
                         unsigned worker, unsigned nw)
{
    if (nw == 1)
        snprintf(buf, n, "%s/port%u-%s.pcap", dir, p, d ? "rx" : "tx");
    else
        snprintf(buf, n, "%s/.port%u-%s.w%u.pcap", dir, p, d ? "rx" : "tx", worker);
}

/* Closes the workers' files and, with several, merges them into the port
 * files and removes them. 0, or -errno with e filled. */
static int capture_merge(struct capture *c, const char *dir, struct bt_err *e)
{
    int rc = 0;

    for (unsigned p = 0; p < 2; p++)
        for (unsigned d = 0; d < 2; d++) {
            struct bt_pcap_reader *rd[MAX_WORKERS] = {0};
            struct bt_pcap_writer *out = NULL;
            struct bt_pcap_merge *m = NULL;
            char path[4096];
            int r = 0;

            for (unsigned i = 0; i < c->nw; i++) {
                int k = bt_pcap_writer_close(c->w[i][p][d]);
                c->w[i][p][d] = NULL;
                if (k < 0 && !r) {
                    capture_path(path, sizeof(path), dir, p, d, i, c->nw);
                    r = bt_err_setr(e, k, "--capture %s: %s", path, strerror(-k));
                }
            }
            if (c->nw == 1 || r)
                goto next;
            for (unsigned i = 0; i < c->nw; i++) {
                capture_path(path, sizeof(path), dir, p, d, i, c->nw);
                if (!(rd[i] = bt_pcap_open(path, e))) {
                    r = -EIO;
                    goto next;
                }
            }
            capture_path(path, sizeof(path), dir, p, d, 0, 1);
            if (!(out = bt_pcap_writer_open(path, 1, 65535, e))) {
                r = -EIO;
                goto next;
            }
            if (!(m = bt_pcap_merge_new(rd, c->nw))) {
                r = bt_err_setr(e, -ENOMEM, "--capture: out of memory");
                goto next;
            }
            for (;;) {
                struct bt_pcap_rec rec;
                unsigned which;
                int k = bt_pcap_merge_next(m, &rec, &which, e);
                if (k == 0)
                    break;
                if (k < 0 ||
                    (k = bt_pcap_write(out, rec.ts_ns, rec.data, rec.caplen, rec.wire_len)) < 0) {
                    if (k != -EBADMSG)
                        bt_err_setr(e, k, "--capture %s: %s", path, strerror(-k));
                    r = k;
                    break;
                }
            }
        next:
            bt_pcap_merge_free(m);
            for (unsigned i = 0; i < c->nw; i++) {
                bt_pcap_close(rd[i]);
                if (c->nw > 1) {
                    capture_path(path, sizeof(path), dir, p, d, i, c->nw);
                    unlink(path);
                }
            }
            if (out) {
                int k = bt_pcap_writer_close(out);
                if (k < 0 && !r) {
                    capture_path(path, sizeof(path), dir, p, d, 0, 1);
                    r = bt_err_setr(e, k, "--capture %s: %s", path, strerror(-k));
                }
            }
            if (r && !rc)
                rc = r;
        }
    return rc;
}

static void capture_drain(struct capture *c)
{
    void *objs[64];

    for (unsigned i = 0; i < nworkers; i++)
        for (unsigned p = 0; p < 2; p++)
            for (unsigned d = 0; d < 2; d++) {
                struct rte_ring *r = workers[i].cap[p][d];
                unsigned n;
                if (!r)
                    continue;
                while ((n = rte_ring_sc_dequeue_burst(r, objs, 64, NULL)) > 0) {
                    for (unsigned k = 0; k < n; k++) {
                        struct rte_mbuf *m = objs[k];
                        uint64_t ts = *(uint64_t *)rte_mbuf_to_priv(m);
                        int r2 = bt_pcap_write(c->w[i][p][d], c->wall0_ns + ts,
                                               rte_pktmbuf_mtod(m, const uint8_t *),
                                               m->data_len, m->pkt_len);
                        if (r2 < 0 && !c->err)
                            c->err = r2;
                        rte_pktmbuf_free(m);
                    }
                }
            }
}

/* Every worker's published summary merged (asks for a fresh one first). */
static void collect(struct tg_summary *s, uint64_t *tx_dropped, uint64_t *nomem,
                    bool inline_worker)
{
    uint32_t req = __atomic_add_fetch(&ctl.req, 1, __ATOMIC_ACQ_REL);
    uint64_t until = wall_mono_ns() + 200000000ull;

    memset(s, 0, sizeof(*s));
    *tx_dropped = *nomem = 0;
    for (unsigned i = 0; i < nworkers; i++) {
        struct worker *w = &workers[i];
        if (inline_worker && !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
            publish(w, now_ns(), req);
        while (__atomic_load_n(&w->served, __ATOMIC_ACQUIRE) != req &&
               !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) && wall_mono_ns() < until)
            rte_pause();
        tg_summary_merge(s, &w->pub);
        *tx_dropped += w->pub_tx_dropped;
        *nomem += w->pub_alloc_failed;
    }
}

static json_t *port_json(const struct port *pt)
{
    struct rte_eth_stats st;
    json_t *o = json_object();
    char mac[32];

    if (!o)
        return NULL;
    memset(&st, 0, sizeof(st));
    rte_eth_stats_get(pt->id, &st);
    json_object_set_new(o, "port", json_integer(pt->id));
    json_object_set_new(o, "name", json_string(pt->name));
    json_object_set_new(o, "driver", json_string(pt->driver ? pt->driver : ""));
    fmt_mac(pt->nb.mac, mac, sizeof(mac));
    json_object_set_new(o, "mac", json_string(mac));
    if (pt->resolved) {
        uint8_t m[6];
        mac_bytes(__atomic_load_n(&hop.mac[pt->idx], __ATOMIC_ACQUIRE), m);
        fmt_mac(m, mac, sizeof(mac));
        json_object_set_new(o, "next_hop_mac", json_string(mac));
        json_object_set_new(o, "next_hop_changes",
                            json_integer((json_int_t)__atomic_load_n(&hop.changes[pt->idx],
                                                                     __ATOMIC_RELAXED)));
    }
    json_object_set_new(o, "opackets", json_integer((json_int_t)st.opackets));
    json_object_set_new(o, "obytes", json_integer((json_int_t)st.obytes));
    json_object_set_new(o, "oerrors", json_integer((json_int_t)st.oerrors));
    json_object_set_new(o, "ipackets", json_integer((json_int_t)st.ipackets));
    json_object_set_new(o, "ibytes", json_integer((json_int_t)st.ibytes));
    json_object_set_new(o, "imissed", json_integer((json_int_t)st.imissed));
    json_object_set_new(o, "ierrors", json_integer((json_int_t)st.ierrors));
    json_object_set_new(o, "rx_nombuf", json_integer((json_int_t)st.rx_nombuf));
    return o;
}

/* ================================================================ main */

static int fail(struct bt_err *e)
{
    fprintf(stderr, "baton-tgen: %s\n", e->msg);
    return 2;
}

int tg_dpdk_main(int argc, char **argv, int dashdash)
{
    static struct tg_opts o;
    struct bt_err err = {{0}};
    struct port ports[2];
    struct rte_mempool *mp = NULL;
    struct capture cap;
    struct tg_cli_out out;
    struct tg_summary sum;
    uint64_t max_tmpl = 0, tx_dropped = 0;
    bool eal = false, started[2] = {false, false}, inline_worker = false;
    int rc = 2, r;

    memset(ports, 0, sizeof(ports));
    memset(&cap, 0, sizeof(cap));
    memset(&out, 0, sizeof(out));
    memset(&sum, 0, sizeof(sum));

    /* options first: bad usage exits 2 before the EAL says anything */
    char *prog = argv[dashdash];
    argv[dashdash] = argv[0];
    r = tg_cli_parse(argc - dashdash, argv + dashdash, &o, &err);
    argv[dashdash] = prog;
    if (r == 1)
        return 0;
    if (r < 0)
        return fail(&err);
    if (o.pcap_out || o.wire) {
        fprintf(stderr, "baton-tgen: --pcap-out and --wire are offline options: leave out the "
                "EAL arguments and '--' (DPDK: --capture DIR)\n");
        return 2;
    }
    if (o.prof.mode == TG_MODE_CLOSED && o.no_rx) {
        fprintf(stderr, "baton-tgen: --no-rx: closed loop lives on what it receives\n");
        return 2;
    }
    /* the templates, once, to check them and size the mempool */
    {
        struct tg_engine *probe = tg_engine_new(&o.prof, o.seed, &err);
        if (!probe)
            return fail(&err);
        for (unsigned i = 0; i < tg_template_count(probe); i++) {
            struct tg_tmpl_info ti;
            if (tg_template_info(probe, i, &ti) == 0 && ti.duration_ns > max_tmpl)
                max_tmpl = ti.duration_ns;
        }
        tg_engine_free(probe);
    }

    r = rte_eal_init(dashdash, argv);
    if (r < 0) {
        fprintf(stderr, "baton-tgen: EAL arguments (before '--'): %s (try --no-huge -m 512 "
                "--no-pci --file-prefix NAME --vdev ...)\n", rte_strerror(rte_errno));
        return 2;
    }
    eal = true;

    /* ports: the first two */
    {
        uint16_t pid, n = 0;
        RTE_ETH_FOREACH_DEV(pid) {
            if (n < 2) {
                ports[n].id = pid;
                ports[n].idx = n;
            }
            n++;
        }
        if (n < 2) {
            bt_err_set(&err, "%u DPDK port%s: give two, port 0 the client side and port 1 the "
                       "server side (e.g. --vdev net_null0 --vdev net_null1, or two NICs)", n,
                       n == 1 ? "" : "s");
            rc = fail(&err);
            goto out;
        }
        if (n > 2 && !o.quiet)
            fprintf(stderr, "tgen: %u ports; only the first two are used\n", n);
    }
    /* lcores */
    {
        unsigned nwl = rte_lcore_count() - 1;
        nworkers = o.workers;
        nfinished = 0;
        if (nwl == 0 && nworkers == 1) {
            inline_worker = true;
        } else if (nwl < nworkers) {
            bt_err_set(&err, "--workers %u needs %u worker lcores besides the main one; the EAL "
                       "has %u (give -l 0-%u)", nworkers, nworkers, nwl, nworkers);
            rc = fail(&err);
            goto out;
        }
    }
    for (unsigned p = 0; p < 2; p++) {
        if (port_configure(&ports[p], nworkers, &err) < 0) {
            rc = fail(&err);
            goto out;
        }
    }
    /* the mempool */
    struct tg_mbuf_plan plan;
    uint64_t conc = o.prof.mode == TG_MODE_CLOSED ? tg_conc_estimate(&o.prof, max_tmpl) : 0;
    unsigned nrxd = RTE_MAX(ports[0].nrxd, ports[1].nrxd), ntxd = RTE_MAX(ports[0].ntxd, ports[1].ntxd);
    for (unsigned p = 0; p < 2; p++)
        if (ports[p].driver && !strcmp(ports[p].driver, "net_af_xdp")) {
            /* its umem takes our mbufs: a fill and a tx ring of 4096 per queue */
            nrxd = RTE_MAX(nrxd, 4096u);
            ntxd = RTE_MAX(ntxd, 4096u);
        }
    tg_mbuf_plan(nworkers, rte_lcore_count(), nrxd, ntxd,
                 MP_CACHE, o.capture_dir ? CAP_RING : 0, o.prof.mode == TG_MODE_CLOSED, conc,
                 &plan);
    bool steering = o.prof.mode == TG_MODE_CLOSED && nworkers > 1;
    if (steering) {
        /* frames waiting in the owners' rings */
        plan.steer = (uint64_t)nworkers * STEER_RING;
        plan.total += plan.steer;
    }
    uint64_t nmbufs = o.mbufs ? o.mbufs : plan.total;
    if (nmbufs < plan.total) {
        bt_err_set(&err, "not enough mbufs for the requested flows: --mbufs %" PRIu64 " < %"
                   PRIu64 " needed (descriptors %" PRIu64 ", caches %" PRIu64 ", bursts %" PRIu64
                   ", capture %" PRIu64 ", steering %" PRIu64 ", in flight %" PRIu64 " for ~%"
                   PRIu64 " concurrent flows): raise --mbufs (and -m), or lower --concurrency / "
                   "--cps", nmbufs, plan.total, plan.desc, plan.cache, plan.burst, plan.capture,
                   plan.steer, plan.inflight, plan.conc);
        rc = fail(&err);
        goto out;
    }
    if (nmbufs > UINT32_MAX / 2) {
        bt_err_set(&err, "not enough mbufs for the requested flows: %" PRIu64 " needed (in "
                   "flight %" PRIu64 " for ~%" PRIu64 " concurrent flows): lower --concurrency "
                   "or --cps", nmbufs, plan.inflight, plan.conc);
        rc = fail(&err);
        goto out;
    }
    /* the private area (a capture time stamp) a whole cache line: the
     * frame then starts on one (header 128 + 64 + headroom 128), so a
     * frame of up to 64 bytes is one line to write, not two (8 bytes
     * there put every frame at 8 past a line); the same element size once
     * the pool pads objects to cache lines */
    mp = mbuf_pool("tg_mbufs", (unsigned)nmbufs, MP_CACHE,
                   RTE_ALIGN(sizeof(uint64_t), RTE_CACHE_LINE_SIZE), RTE_MBUF_DEFAULT_BUF_SIZE,
                   (int)rte_socket_id());
    if (!mp) {
        uint64_t mb = nmbufs * (RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(struct rte_mbuf) + 64) >> 20;
        bt_err_set(&err, "not enough mbufs for the requested flows: a pool of %" PRIu64
                   " mbufs (~%" PRIu64 " MiB; in flight %" PRIu64 " for ~%" PRIu64 " concurrent "
                   "flows) failed (%s): raise -m (EAL), or lower --mbufs / --concurrency / --cps",
                   nmbufs, mb, plan.inflight, plan.conc, rte_strerror(rte_errno));
        rc = fail(&err);
        goto out;
    }
    for (unsigned p = 0; p < 2; p++) {
        const struct tg_port_ip *pi = &o.port_ip[p];
        if (port_start(&ports[p], nworkers, mp, &err) < 0) {
            rc = fail(&err);
            goto out;
        }
        started[p] = true;
        ports[p].nb.has4 = pi->has4;
        ports[p].nb.has6 = pi->has6;
        memcpy(ports[p].nb.ip4, pi->ip4, 4);
        memcpy(ports[p].nb.ip6, pi->ip6, 16);
        ports[p].neigh_on = pi->has4 || pi->has6;
        if ((pi->gw4_set || pi->gw6_set) && o.no_rx) {
            fprintf(stderr, "baton-tgen: --no-rx: a next hop is resolved from what arrives\n");
            goto out;
        }
    }
    wait_links(ports, o.quiet);
    /* next hops, then the MACs of the profile */
    for (unsigned p = 0; p < 2; p++) {
        const struct tg_port_ip *pi = &o.port_ip[p];
        if ((pi->gw4_set || pi->gw6_set) &&
            resolve(&ports[p], pi, mp, o.prof.vlan, o.quiet, &err) < 0) {
            rc = fail(&err);
            goto out;
        }
        if (ports[p].neigh_on)
            memcpy(p ? o.prof.server_mac : o.prof.client_mac, ports[p].nb.mac, 6);
        if (ports[p].resolved) {
            memcpy(p ? o.prof.server_dst_mac : o.prof.client_dst_mac, ports[p].dst_mac, 6);
            /* kept fresh from now on (neigh_turn) */
            ports[p].gw_fam = pi->gw4_set ? 4 : 6;
            memcpy(ports[p].gw, pi->gw4_set ? pi->gw4 : pi->gw6, pi->gw4_set ? 4 : 16);
            ports[p].vlan = o.prof.vlan;
            hop.mac[p] = mac_word(ports[p].dst_mac);
            hop.changes[p] = 0;
        }
    }

    /* workers */
    workers = rte_zmalloc("tg_workers", nworkers * sizeof(*workers), RTE_CACHE_LINE_SIZE);
    if (!workers) {
        fprintf(stderr, "baton-tgen: out of memory (workers): raise -m\n");
        goto out;
    }
    for (unsigned i = 0; i < nworkers; i++) {
        struct worker *w = &workers[i];
        struct tg_profile pw = o.prof;
        pw.part = i;
        pw.nparts = nworkers;
        w->g = tg_engine_new(&pw, o.seed, &err);
        if (!w->g) {
            rc = fail(&err);
            goto out;
        }
        /* this worker's share of the concurrent flows, sized now: the
         * loop allocates nothing */
        uint64_t est = tg_conc_estimate(&o.prof, max_tmpl);
        if (est != UINT64_MAX)
            est = est / nworkers + (est % nworkers != 0) + 64;
        r = tg_engine_reserve(w->g, est);
        if (r < 0) {
            bt_err_setr(&err, r, "worker %u: no room for ~%" PRIu64 " concurrent flows (%s): "
                        "give --concurrency N (or lower --cps)", i, est, strerror(-r));
            rc = fail(&err);
            goto out;
        }
        w->mp = mp;
        w->room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
        /* a pool mbuf's buffer lies at a fixed place from its header, after
         * the private area (rte_pktmbuf_init; a detached clone gets it back) */
        w->data_at = (uint32_t)(sizeof(struct rte_mbuf) + rte_pktmbuf_priv_size(mp) +
                                RTE_PKTMBUF_HEADROOM);
        {
            struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
            if (m && (char *)m->buf_addr + RTE_PKTMBUF_HEADROOM != (char *)m + w->data_at) {
                rte_pktmbuf_free(m);
                fprintf(stderr, "baton-tgen: mbufs of an unexpected layout (buf_addr)\n");
                rc = 2;
                goto out;
            }
            rte_pktmbuf_free(m);
        }
        {
            struct rte_mbuf mb;
            memset(&mb, 0, sizeof(mb));
            mb.data_off = RTE_PKTMBUF_HEADROOM;
            mb.nb_segs = 1;
            mb.port = RTE_MBUF_PORT_INVALID;
            rte_mbuf_refcnt_set(&mb, 1);
            memcpy(&w->rearm, (char *)&mb + offsetof(struct rte_mbuf, rearm_data),
                   sizeof(w->rearm));
        }
        w->ports = ports;
        w->q = (uint16_t)i;
        w->closed = o.prof.mode == TG_MODE_CLOSED;
        w->full_bursts = o.prof.rate_max && !w->closed && !(o.prof.pps > 0) && !(o.prof.bps > 0);
        /* (a turn still builds 32: building both ports' bursts, 64, made
         * no difference outside the noise, 32.9 against 33.5 Mpps per CPU
         * second, medians of 7, with more mbufs in flight) */
        w->rx_on = !o.no_rx;
        w->idx = i;
        w->nw = nworkers;
        for (unsigned p = 0; p < 2; p++)
            w->mac_seen[p] = hop.mac[p];
        w->refresh_ns = i == 0 ? o.neigh_refresh_ns : 0;
        w->next_refresh = o.neigh_refresh_ns;
        if (steering) {
            char name[RTE_RING_NAMESIZE];
            snprintf(name, sizeof(name), "tg_steer%u", i);
            w->steer = rte_ring_create(name, STEER_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
            if (!w->steer) {
                fprintf(stderr, "baton-tgen: no steering ring (%s): raise -m\n",
                        rte_strerror(rte_errno));
                goto out;
            }
        }
        w->capture = o.capture_dir != NULL;
        if (w->capture) {
            for (unsigned p = 0; p < 2; p++)
                for (unsigned d = 0; d < 2; d++) {
                    char name[RTE_RING_NAMESIZE];
                    snprintf(name, sizeof(name), "tg_cap%u_%u%u", i, p, d);
                    w->cap[p][d] = rte_ring_create(name, CAP_RING, (int)rte_socket_id(),
                                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
                    if (!w->cap[p][d]) {
                        fprintf(stderr, "baton-tgen: --capture: no ring (%s): raise -m\n",
                                rte_strerror(rte_errno));
                        goto out;
                    }
                }
        }
    }
    if (o.capture_dir) {
        if (mkdir(o.capture_dir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "baton-tgen: --capture %s: %s\n", o.capture_dir, strerror(errno));
            goto out;
        }
        cap.nw = nworkers;
        for (unsigned i = 0; i < nworkers; i++)
            for (unsigned p = 0; p < 2; p++)
                for (unsigned d = 0; d < 2; d++) {
                    char path[4096];
                    capture_path(path, sizeof(path), o.capture_dir, p, d, i, nworkers);
                    cap.w[i][p][d] = bt_pcap_writer_open(path, 1, 65535, &err);
                    if (!cap.w[i][p][d]) {
                        rc = fail(&err);
                        goto out;
                    }
                }
    }
    if (tg_cli_out_open(&out, &o, &err) < 0) {
        rc = fail(&err);
        goto out;
    }

    /* go */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    {
        struct timespec rt;
        ctl.mult = tg_tsc_mult(rte_get_tsc_hz());
        clock_gettime(CLOCK_REALTIME, &rt);
        ctl.tsc0 = rte_rdtsc();
        cap.wall0_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
    }
    if (!inline_worker) {
        unsigned i = 0, lc;
        RTE_LCORE_FOREACH_WORKER(lc) {
            if (i == nworkers)
                break;
            workers[i].lcore = lc;
            rte_eal_remote_launch(worker_main, &workers[i], lc);
            i++;
        }
    }
    tg_cli_out_live(&out, &sum, wall_mono_ns());
    /* the watchdog: a signal's drain is bounded (then the flows are
     * aborted), and a run whose mbuf allocations keep failing with no
     * packet moving (a PMD holding the pool) ends with exit 2 */
    uint64_t next_stat = 1000000000ull, next_watch = 1000000000ull, stop_at = 0, last_prog = 0;
    uint64_t prog_pkts = 0, prog_nomem = 0, nomem = 0;
    uint64_t drain_ns = 2 * (uint64_t)((double)max_tmpl / o.prof.speed) + 2000000000ull +
                        (o.prof.mode == TG_MODE_CLOSED ? (o.prof.retries + 1ull) * o.prof.rto_max_ns : 0);
    bool stuck = false;
    for (;;) {
        bool all_done = true;
        if (inline_worker)
            worker_poll(&workers[0], 4096);
        for (unsigned i = 0; i < nworkers; i++)
            all_done &= __atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE);
        if (signals && ctl.stop == 0)
            __atomic_store_n(&ctl.stop, 1, __ATOMIC_RELEASE);
        if (signals > 1 && ctl.stop == 1)
            __atomic_store_n(&ctl.stop, 2, __ATOMIC_RELEASE);
        if (o.capture_dir)
            capture_drain(&cap);
        if (all_done)
            break;
        uint64_t now = now_ns();
        if (ctl.stop == 1 && !stop_at)
            stop_at = now;
        if (stop_at && ctl.stop == 1 && now - stop_at > drain_ns) {
            fprintf(stderr, "tgen: the active flows still run %.1f s after the signal: aborting "
                    "them\n", (double)drain_ns / 1e9);
            __atomic_store_n(&ctl.stop, 2, __ATOMIC_RELEASE);
        }
        if (now >= next_watch) {
            struct tg_summary ws;
            uint64_t d;
            collect(&ws, &d, &nomem, inline_worker);
            uint64_t pk = ws.tx_packets + ws.rx_packets;
            if (pk != prog_pkts || nomem == prog_nomem) {
                prog_pkts = pk;
                prog_nomem = nomem;
                last_prog = now;
            } else if (now - last_prog > 5000000000ull && ctl.stop != 2) {
                fprintf(stderr, "baton-tgen: no packet moved for 5 s and every mbuf allocation "
                        "failed (%" PRIu64 " times): the PMDs hold the pool of %" PRIu64 " mbufs; "
                        "raise --mbufs (and -m)\n", nomem, nmbufs);
                stuck = true;
                __atomic_store_n(&ctl.stop, 2, __ATOMIC_RELEASE);
            }
            next_watch = now + 1000000000ull;
        }
        if (out.stats && now >= next_stat) {
            collect(&sum, &tx_dropped, &nomem, inline_worker);
            tg_cli_out_stats(&out, &sum, (double)next_stat / 1e9);
            next_stat += 1000000000ull;
        }
        uint64_t wall = wall_mono_ns();
        if (tg_cli_out_live_due(&out, wall)) {
            collect(&sum, &tx_dropped, &nomem, inline_worker);
            tg_cli_out_live(&out, &sum, wall);
        }
        if (!inline_worker)
            rte_delay_us_sleep(o.capture_dir ? 100 : 1000);
    }
    if (!inline_worker)
        rte_eal_mp_wait_lcore();
    if (o.capture_dir) {
        capture_drain(&cap);
        if (capture_merge(&cap, o.capture_dir, &err) < 0) {
            rc = fail(&err);
            goto out;
        }
    }

    /* the summary, from the engines themselves now that they rest */
    memset(&sum, 0, sizeof(sum));
    tx_dropped = 0;
    uint64_t end = 0, cap_dropped = 0, arp = 0, nd = 0, cpu = 0, steered = 0, steer_drop = 0;
    uint64_t nreq = 0;
    nomem = 0;
    for (unsigned i = 0; i < nworkers; i++) {
        struct tg_summary s;
        tg_summary_get(workers[i].g, workers[i].end_ns, &s);
        tg_summary_merge(&sum, &s);
        tx_dropped += workers[i].tx_dropped;
        cap_dropped += workers[i].capture_dropped;
        arp += workers[i].arp_replies;
        nd += workers[i].nd_replies;
        nomem += workers[i].alloc_failed;
        cpu += workers[i].cpu_ns;
        steered += workers[i].steered;
        steer_drop += workers[i].steer_dropped;
        nreq += workers[i].neigh_requests;
        if (workers[i].end_ns > end)
            end = workers[i].end_ns;
    }
    json_t *extra = json_object(), *jp = json_array();
    if (extra && jp) {
        for (unsigned p = 0; p < 2; p++)
            json_array_append_new(jp, port_json(&ports[p]));
        json_object_set_new(extra, "ports", jp);
        json_object_set_new(extra, "workers", json_integer(nworkers));
        json_object_set_new(extra, "mbufs", json_integer((json_int_t)nmbufs));
        json_object_set_new(extra, "mbuf_stride", json_integer((json_int_t)mbuf_stride(mp)));
        json_object_set_new(extra, "tx_dropped", json_integer((json_int_t)tx_dropped));
        json_object_set_new(extra, "mbuf_alloc_failed", json_integer((json_int_t)nomem));
        json_object_set_new(extra, "arp_replies", json_integer((json_int_t)arp));
        json_object_set_new(extra, "nd_replies", json_integer((json_int_t)nd));
        json_object_set_new(extra, "neigh_requests", json_integer((json_int_t)nreq));
        if (steering) {
            json_object_set_new(extra, "rx_steered", json_integer((json_int_t)steered));
            json_object_set_new(extra, "steer_dropped", json_integer((json_int_t)steer_drop));
        }
        if (o.capture_dir)
            json_object_set_new(extra, "capture_dropped", json_integer((json_int_t)cap_dropped));
        json_object_set_new(extra, "interrupted", json_boolean(signals != 0));
        if (!inline_worker)
            json_object_set_new(extra, "worker_cpu_s", json_real((double)cpu / 1e9));
    } else {
        json_decref(jp);
    }
    rc = tg_cli_out_close(&out, &sum, (double)end / 1e9, "dpdk", extra);
    if (!o.quiet) {
        fprintf(stderr, "tgen: dpdk, %u worker%s, %" PRIu64 " mbufs; tx dropped %" PRIu64,
                nworkers, nworkers == 1 ? "" : "s", nmbufs, tx_dropped);
        if (o.capture_dir)
            fprintf(stderr, ", capture dropped %" PRIu64, cap_dropped);
        if (arp || nd)
            fprintf(stderr, ", ARP replies %" PRIu64 ", NA sent %" PRIu64, arp, nd);
        fputc('\n', stderr);
    }
    if (!rc)
        rc = stuck ? 2 : sum.flows_failed ? 1 : 0;
out:
    for (unsigned i = 0; i < cap.nw; i++)
        for (unsigned p = 0; p < 2; p++)
            for (unsigned d = 0; d < 2; d++)
                if (cap.w[i][p][d] && bt_pcap_writer_close(cap.w[i][p][d]) < 0) {
                    fprintf(stderr, "baton-tgen: --capture %s: write failed\n", o.capture_dir);
                    rc = 2;
                }
    if (cap.err && rc != 2) {
        fprintf(stderr, "baton-tgen: --capture %s: %s\n", o.capture_dir, strerror(-cap.err));
        rc = 2;
    }
    if (out.stats)
        fclose(out.stats);
    if (workers) {
        for (unsigned i = 0; i < nworkers; i++) {
            tg_engine_free(workers[i].g);
            for (unsigned p = 0; p < 2; p++)
                for (unsigned d = 0; d < 2; d++)
                    rte_ring_free(workers[i].cap[p][d]);
            if (workers[i].steer) {
                /* what a worker that had ended was still handed */
                void *obj;
                while (rte_ring_sc_dequeue(workers[i].steer, &obj) == 0)
                    rte_pktmbuf_free((struct rte_mbuf *)((uintptr_t)obj & ~(uintptr_t)1));
                rte_ring_free(workers[i].steer);
            }
        }
        rte_free(workers);
        workers = NULL;
    }
    for (unsigned p = 0; p < 2; p++)
        if (started[p]) {
            rte_eth_dev_stop(ports[p].id);
            rte_eth_dev_close(ports[p].id);
        }
    rte_mempool_free(mp);
    if (eal)
        rte_eal_cleanup();
    return rc;
}
