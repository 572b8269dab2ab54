/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loss, transit latency and injected RSTs from the client-side and
 * server-side captures: a packet that entered the cluster on one link should
 * leave on the other. Packets are identified by a hash of what a forwarding
 * gateway does not change (addresses, protocol, IPv4 id, the L4 header and
 * payload; not TTL or checksums); both links are merged by time, each
 * entering packet waits in a table until it leaves, and what never leaves is
 * lost. With hide-NAT (nat.jsonl) a packet is identified by its original
 * tuple and by the L4 bytes NAT leaves alone (not the ports, the checksum or
 * the ICMP echo id), so the translated copy matches the one that entered.
 *
 * One pass, each record decoded once (the common Ethernet IPv4/IPv6 TCP/UDP
 * frame without the generic parser), straight from the readers' buffers:
 * the two links are merged here (ties: the client link first, as
 * bt_pcap_merge), the exits of one time stamp held back as a few words each
 * until its entries are in.
 * Two small tables of our own: flows (which side is the client) and the
 * packets in flight, whose index holds the packet id itself, so that a
 * probe reads one cache line and the entries, reused last-freed first,
 * stay in cache. A packet alone in flight in its flow (nearly all) waits in
 * the flow instead (struct finl), so that its exit finds it in the flow it
 * has just looked up; the table holds the rest (identical copies, exits
 * seen before their entry, packets that never left).
 */
#include "vf_loss.h"
#include "vf_nat.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pcap.h"

/* Entries of either table (flows, packets in flight) at most: beyond it the
 * pass fails with ENOMEM, as the generic flow tables it replaces did. */
#define MAX_ENTRIES (1u << 24)
/* What left but never entered: packets the cluster made (RSTs it injected). */
#define MAX_OFFENDERS 20
#define READ_BATCH 64

/* What the packet id and the direction need of a record. */
struct fpkt {
    struct bt_flow_key k;      /* directional, as bt_flow_key_from_parsed */
    uint32_t l3_off, l4_off, ip_len;
    uint8_t ip_version, proto, ports, tcp_flags;
};

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether a whole TCP or UDP header is at l4 (o->tcp_flags set from it). */
static inline bool l4_whole(const uint8_t *d, uint32_t caplen, uint32_t l4, uint8_t proto,
                            struct fpkt *o)
{
    if (proto == 6) {
        if (caplen < l4 + 20)
            return false;
        uint32_t hl = (uint32_t)(d[l4 + 12] >> 4) * 4;
        if (hl < 20 || caplen < l4 + hl)
            return false;
        o->tcp_flags = d[l4 + 13] & 0x3f;
        return true;
    }
    if (proto == 17) {
        if (caplen < l4 + 8)
            return false;
        o->tcp_flags = 0;
        return true;
    }
    return false;
}

/* The common frame (Ethernet without a tag; IPv4 without options or
 * fragmentation, or IPv6 without extension headers; a whole TCP or UDP
 * header) decoded as bt_parse and bt_flow_key_from_parsed would: 1, or 0
 * when the frame is another shape and needs the generic parser. */
static int fast_decode(const uint8_t *d, uint32_t caplen, struct fpkt *o)
{
    uint32_t l4;
    uint8_t proto;

    if (caplen < 14)
        return 0;
    memset(&o->k, 0, sizeof(o->k));
    uint16_t et = rd16(d + 12);
    if (et == 0x0800) {
        if (caplen < 34 || d[14] != 0x45)
            return 0;
        o->ip_len = rd16(d + 16);
        if (o->ip_len < 20 || (rd16(d + 20) & 0x3fff))
            return 0;
        proto = d[23];
        o->k.src[10] = o->k.src[11] = 0xff;
        o->k.dst[10] = o->k.dst[11] = 0xff;
        memcpy(o->k.src + 12, d + 26, 4);
        memcpy(o->k.dst + 12, d + 30, 4);
        o->ip_version = 4;
        l4 = 34;
    } else if (et == 0x86dd) {
        if (caplen < 54 || d[14] >> 4 != 6)
            return 0;
        o->ip_len = 40u + rd16(d + 18);
        proto = d[20];
        memcpy(o->k.src, d + 22, 16);
        memcpy(o->k.dst, d + 38, 16);
        o->ip_version = 6;
        l4 = 54;
    } else {
        return 0;
    }
    if (!l4_whole(d, caplen, l4, proto, o))
        return 0;
    o->k.sport = rd16(d + l4);
    o->k.dport = rd16(d + l4 + 2);
    o->k.proto = proto;
    o->k.family = o->ip_version;
    o->l3_off = 14;
    o->l4_off = l4;
    o->proto = proto;
    o->ports = 1;
    return 1;
}

/* The 128-bit product of a and b folded to 64 bits. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The flows' own hash of a canonical key, given as its five words (only
 * where its entry goes in this pass's table, which nothing outside sees):
 * three multiplications (xxh3's 16-byte mix), not bt_flowtab_hash's seven. */
static inline uint64_t flow_hash_words(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                                       uint64_t w4)
{
    return mum(w0 ^ 0x9e3779b97f4a7c15ULL, w1 ^ 0xc2b2ae3d27d4eb4fULL) +
           mum(w2 ^ 0x165667b19e3779f9ULL, w3 ^ 0xd6e8feb86659fd93ULL) +
           mum(w4 ^ 0xff51afd7ed558ccdULL, 0x27d4eb2f165667c5ULL);
}

static inline uint64_t flow_hash(const struct bt_flow_key *k)
{
    uint64_t w[5];

    memcpy(w, k, sizeof(w));
    return flow_hash_words(w[0], w[1], w[2], w[3], w[4]);
}

/* The common IPv4 frame (fast_decode's checks) straight into its canonical
 * key, *swapped as bt_flow_key_canon returns it (the addresses in memcmp
 * order, which for v4-mapped ones is the order of the big-endian words,
 * then the ports): without the directional key and its copy. Only without
 * NAT, which rewrites the directional key first. 1 with *h = flow_hash(ck),
 * or 0 for fast_decode or the generic parser to try. */
static inline __attribute__((always_inline)) int
fast_decode4(const uint8_t *d, uint32_t caplen, struct fpkt *o, struct bt_flow_key *ck,
             uint8_t *swapped, uint64_t *h)
{
    const uint32_t l4 = 34;
    uint32_t a, b, pw;
    uint8_t proto;

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return 0; /* the key's words below are those of a little-endian host */
#endif
    if (caplen < 34 || rd16(d + 12) != 0x0800 || d[14] != 0x45)
        return 0;
    o->ip_len = rd16(d + 16);
    if (o->ip_len < 20 || (rd16(d + 20) & 0x3fff))
        return 0;
    proto = d[23];
    if (!l4_whole(d, caplen, l4, proto, o))
        return 0;
    memcpy(&a, d + 26, 4);
    memcpy(&b, d + 30, 4);
    memcpy(&pw, d + l4, 4);
    /* the ports as the key's word holds them (sport | dport << 16), and
     * reversed; swapped: the address then the ports compare higher, as one
     * 64-bit comparison */
    uint32_t pb = __builtin_bswap32(pw), pr = pb >> 16 | pb << 16;
    bool sw = ((uint64_t)__builtin_bswap32(a) << 32 | pb) >
              ((uint64_t)__builtin_bswap32(b) << 32 | pr);
    uint32_t lo = sw ? b : a, hi = a ^ b ^ lo;
    /* the key as five words (its layout: 16 + 16 address bytes, ports,
     * proto, family, zero): two of them zero, the v4-mapped prefix a
     * constant; no memset and byte stores, and its hash from the words */
    uint64_t w1 = 0xffff0000ULL | (uint64_t)lo << 32;
    uint64_t w3 = 0xffff0000ULL | (uint64_t)hi << 32;
    uint64_t w4 = (uint64_t)(sw ? pb : pr) | (uint64_t)proto << 32 | 4ULL << 40;
    uint8_t *kb = (uint8_t *)ck;
    const uint64_t zero = 0;
    _Static_assert(sizeof(*ck) == 40, "the key is five words");
    memcpy(kb, &zero, 8);
    memcpy(kb + 8, &w1, 8);
    memcpy(kb + 16, &zero, 8);
    memcpy(kb + 24, &w3, 8);
    memcpy(kb + 32, &w4, 8);
    *h = flow_hash_words(0, w1, 0, w3, w4);
    *swapped = sw;
    o->l3_off = 14;
    o->l4_off = l4;
    o->ip_version = 4;
    o->proto = proto;
    o->ports = 1;
    return 1;
}

/* Any frame: 1 decoded, 0 not a packet loss is judged on (bt_parse not OK,
 * or no IP). */
static int decode(const uint8_t *d, uint32_t caplen, int link, struct fpkt *o)
{
    struct bt_parsed p;

    if (link == BT_LINK_ETHERNET && fast_decode(d, caplen, o))
        return 1;
    if (bt_parse(d, caplen, link, &p) != BT_PARSE_OK || bt_flow_key_from_parsed(&p, &o->k) < 0)
        return 0;
    o->l3_off = p.l3_off;
    o->l4_off = p.l4_off;
    o->ip_len = p.ip_len;
    o->ip_version = p.ip_version;
    o->proto = p.proto;
    o->ports = (p.flags & BT_PF_PORTS) != 0;
    o->tcp_flags = p.tcp_flags;
    return 1;
}

/* The first part of a packet id: its directional key (p->k, original
 * tuple), the same for every packet of a flow and direction (kept per flow). */
static uint64_t key_id(const struct bt_flow_key *k)
{
    uint64_t h = 0x243f6a8885a308d3ULL;

    for (int i = 0; i < 16; i += 8) {
        uint64_t a, b;
        memcpy(&a, k->src + i, 8);
        memcpy(&b, k->dst + i, 8);
        h = bt_mix64(h ^ a);
        h = bt_mix64(h ^ b);
    }
    return bt_mix64(h ^ k->proto ^ (uint64_t)k->sport << 16 ^ (uint64_t)k->dport << 32);
}

/* n bytes (8 at most) as a little-endian word, zero-padded. */
static inline uint64_t load_le(const uint8_t *d, uint32_t n)
{
    uint64_t w = 0;

    if (n >= 8) {
        memcpy(&w, d, 8);
        return w;
    }
    for (uint32_t b = 0; b < n; b++)
        w |= (uint64_t)d[b] << (8 * b);
    return w;
}

/* The packet id from h = key_id(&p->k): then the IPv4 id and the L4 bytes
 * that NAT and a forwarder leave alone as 8-byte words (the last one
 * zero-padded), with the bytes they change zeroed: TCP without ports and
 * checksum, UDP without its header, ICMP echo without checksum and id (the
 * key has ports and id). Two packets of a flow and direction get one id
 * when their IPv4 ids and word sequences are the same, as with the chained
 * bt_mix64 of each word this replaces (whose serial chain, 1,000 bytes a
 * packet, was ~40 % of the pass): words two at a time, each pair
 * multiplied with secrets of its position (xxh3's 16-byte mix), the
 * products summed, independent of each other; the word count and the IPv4
 * id in a last product. */
static inline uint64_t le64_at(const uint8_t *d)
{
    uint64_t w;

    memcpy(&w, d, 8);
    return w;
}

/* The last n (1..8) bytes before e as a little-endian word, zero-padded
 * (load_le(e - n, n)): one load ending at e, shifted, when 8 bytes of the
 * record lie before e (always: e is past an IP header). */
static inline uint64_t load_tail(const uint8_t *d, uint32_t e, uint32_t n)
{
    if (__builtin_expect(e < 8, 0))
        return load_le(d + e - n, n);
    return le64_at(d + e - 8) >> (8 * (8 - n));
}

static uint64_t pkt_id(uint64_t h, const uint8_t *d, uint32_t caplen, const struct fpkt *p)
{
    uint32_t end = p->l3_off + p->ip_len, o = p->l4_off;
    uint64_t m0 = ~0ULL, m1 = ~0ULL;   /* masks of the first two words */
    uint64_t acc = 0, nw = 0, ipid = 0;
    uint64_t s0 = 0x9e3779b97f4a7c15ULL, s1 = 0xc2b2ae3d27d4eb4fULL;

    if (end > caplen)
        end = caplen;
    if (p->ip_version == 4)
        ipid = (uint64_t)(d[p->l3_off + 4] << 8 | d[p->l3_off + 5]) + 1;
    if (p->proto == 6 && p->ports) {
        o += 4;
        m1 = ~(0xffffULL << 32);         /* the checksum: L4 bytes 16-17 */
    } else if (p->proto == 17 && p->ports) {
        o += 8;
    } else if (p->proto == 1 || p->proto == 58) {
        m0 = ~(0xffffffffULL << 16);     /* checksum and id: L4 bytes 2-5 */
    }
    /* whole 16-byte blocks without a branch each (the masks apply to the
     * first block only), then the last part block from loads that end at
     * end: the same words as a byte-wise zero-padded load (~185 -> ~70
     * instructions a record of 128 bytes) */
    /* the word count from the length (the 8-byte words, the last one part
     * of one), the first block's masks outside the loop */
    if (end > o)
        nw = (end - o + 7) / 8;
    if (end >= o + 16) {
        acc += mum((le64_at(d + o) & m0) ^ s0, (le64_at(d + o + 8) & m1) ^ s1);
        m0 = m1 = ~0ULL;
        s0 += 0x165667b19e3779f9ULL;
        s1 += 0xd6e8feb86659fd93ULL;
        for (o += 16; end >= o + 16; o += 16) {
            acc += mum(le64_at(d + o) ^ s0, le64_at(d + o + 8) ^ s1);
            s0 += 0x165667b19e3779f9ULL;
            s1 += 0xd6e8feb86659fd93ULL;
        }
    }
    if (end > o) {
        uint32_t r = end - o;
        uint64_t a, b = 0;
        if (r > 8) {
            a = le64_at(d + o);
            b = load_tail(d, end, r - 8);
        } else {
            a = load_tail(d, end, r);
        }
        acc += mum((a & m0) ^ s0, (b & m1) ^ s1);
    }
    return bt_mix64(h ^ acc ^ mum(ipid ^ 0xff51afd7ed558ccdULL, nw ^ 0x27d4eb2f165667c5ULL));
}

/* ---- flows: canonical original tuple -> which side is the client ---- */

struct flow {
    struct bt_flow_key ck;
    uint64_t key_id[2];     /* key_id of ck, and of ck reversed */
    uint8_t client_is_canon_src;
};

/* A flow's one packet in flight that nothing else is known about yet: an
 * entry of the packets-in-flight table with n = 1, kept with the flow
 * instead (nearly every packet is alone in flight in its flow, and its exit
 * then finds it in the flow it has just looked up, without the table). */
struct finl {
    uint64_t id, ts, seq;
    uint32_t nglob;     /* entries of this flow in the table */
    uint8_t dir1;       /* its direction + 1; 0: none */
    uint8_t rst;
    /* when a packet of each direction last left on the far link (what
     * the failover check asks of a flow that seems to go on) */
    uint64_t out_ns[2];
};

struct fslot {
    uint32_t tag;      /* the hash's high half */
    uint32_t flow1;    /* flow number + 1; 0: empty */
};

struct flows {
    struct fslot *slot;
    uint32_t mask;
    struct flow *f;
    struct finl *inl;   /* per flow */
    /* per flow, per failover event e < nev and direction: 1 + the earliest
     * entry time of a packet that left after the event's T (0: none), so
     * that the failover check can ask for packets of one connection, not
     * of a later one on the same 5-tuple (vf_delivered_after) */
    uint64_t *evin;
    unsigned nev;
    uint32_t n, cap;
};

static int flows_grow(struct flows *t)
{
    uint32_t nslots = t->mask ? (t->mask + 1) * 2 : 1u << 12;
    struct fslot *s = calloc(nslots, sizeof(*s));
    struct flow *f;

    if (!s)
        return -ENOMEM;
    f = realloc(t->f, (size_t)nslots / 2 * sizeof(*f));
    if (!f) {
        free(s);
        return -ENOMEM;
    }
    t->f = f;
    struct finl *in = realloc(t->inl, (size_t)nslots / 2 * sizeof(*in));
    if (!in) {
        free(s);
        return -ENOMEM;
    }
    t->inl = in;
    if (t->nev) {
        uint64_t *ev = realloc(t->evin, (size_t)nslots / 2 * t->nev * 2 * sizeof(*ev));
        if (!ev) {
            free(s);
            return -ENOMEM;
        }
        t->evin = ev;
    }
    t->cap = nslots / 2;
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t h = flow_hash(&f[i].ck);
        uint32_t j = (uint32_t)h & (nslots - 1);
        while (s[j].flow1)
            j = (j + 1) & (nslots - 1);
        s[j].tag = (uint32_t)(h >> 32);
        s[j].flow1 = i + 1;
    }
    free(t->slot);
    t->slot = s;
    t->mask = nslots - 1;
    return 0;
}

static inline bool key_eq(const struct bt_flow_key *a, const struct bt_flow_key *b)
{
    uint64_t x[5], y[5];

    memcpy(x, a, sizeof(x));
    memcpy(y, b, sizeof(y));
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* The flow of ck, h = flow_hash(ck) (*created when new: its key ids
 * set, the rest zero), or NULL when full. */
static struct flow *flows_get(struct flows *t, const struct bt_flow_key *ck, uint64_t h,
                              bool *created)
{
    uint32_t tag = (uint32_t)(h >> 32), j;

    for (j = (uint32_t)h & t->mask;; j = (j + 1) & t->mask) {
        const struct fslot *s = &t->slot[j];
        if (!s->flow1)
            break;
        if (s->tag == tag && key_eq(&t->f[s->flow1 - 1].ck, ck)) {
            *created = false;
            return &t->f[s->flow1 - 1];
        }
    }
    if (t->n == t->cap) {
        if (t->n >= MAX_ENTRIES || flows_grow(t) < 0)
            return NULL;
        for (j = (uint32_t)h & t->mask; t->slot[j].flow1; j = (j + 1) & t->mask)
            ;
    }
    struct flow *f = &t->f[t->n];
    f->ck = *ck;
    f->key_id[0] = key_id(ck);
    struct bt_flow_key rk;
    bt_flow_key_reverse(ck, &rk);
    f->key_id[1] = key_id(&rk);
    f->client_is_canon_src = 0;
    t->inl[t->n] = (struct finl){0};
    if (t->nev)
        memset(t->evin + (size_t)t->n * t->nev * 2, 0, t->nev * 2 * sizeof(*t->evin));
    t->slot[j].tag = tag;
    t->slot[j].flow1 = ++t->n;
    *created = true;
    return f;
}

/* ---- packets in flight ---- */

/* Identical packets (same id, same direction) not yet matched: n > 0 entered
 * and not yet left; n < 0 left without having entered. */
struct inflight {
    uint64_t seq;       /* last touched (the order offenders are listed in);
                         * on the free list: the next free entry */
    uint64_t ts[8];
    uint32_t flow;      /* the packet's flow (of the last packet with this id) */
    uint32_t owner;     /* the flow whose nglob counts it (its first packet's) */
    int8_t n;
    uint8_t rst;
};

struct wslot {
    uint64_t id;
    uint32_t ent1;      /* entry + 1; 0: empty */
    uint32_t dir;
};

struct waits {
    struct wslot *slot;
    uint32_t mask, count;
    struct inflight *e;
    uint32_t nused, cap;    /* entries ever used; allocated */
    uint64_t free_head;     /* entry + 1; 0: none */
};

static int waits_grow_index(struct waits *t)
{
    uint32_t nslots = t->mask ? (t->mask + 1) * 2 : 1u << 10;
    struct wslot *s = calloc(nslots, sizeof(*s));

    if (!s)
        return -ENOMEM;
    for (uint32_t i = 0; t->slot && i <= t->mask; i++) {
        if (!t->slot[i].ent1)
            continue;
        uint32_t j = (uint32_t)t->slot[i].id & (nslots - 1);
        while (s[j].ent1)
            j = (j + 1) & (nslots - 1);
        s[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = s;
    t->mask = nslots - 1;
    return 0;
}

/* The entry of (id, dir), or NULL. */
static struct inflight *waits_find(const struct waits *t, uint64_t id, uint32_t dir)
{
    for (uint32_t j = (uint32_t)id & t->mask;; j = (j + 1) & t->mask) {
        const struct wslot *s = &t->slot[j];
        if (!s->ent1)
            return NULL;
        if (s->id == id && s->dir == dir)
            return &t->e[s->ent1 - 1];
    }
}

/* The entry of (id, dir), a new zeroed one, or NULL when full. *slot_out:
 * its index slot (valid until the next call). */
static struct inflight *waits_get(struct waits *t, uint64_t id, uint32_t dir, uint32_t *slot_out)
{
    uint32_t j;

    for (j = (uint32_t)id & t->mask;; j = (j + 1) & t->mask) {
        const struct wslot *s = &t->slot[j];
        if (!s->ent1)
            break;
        if (s->id == id && s->dir == dir) {
            *slot_out = j;
            return &t->e[s->ent1 - 1];
        }
    }
    uint32_t i;
    if (t->free_head) {
        i = (uint32_t)t->free_head - 1;
        t->free_head = t->e[i].seq;
    } else {
        if (t->nused == t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 1u << 9;
            if (t->nused >= MAX_ENTRIES)
                return NULL;
            struct inflight *e = realloc(t->e, (size_t)cap * sizeof(*e));
            if (!e)
                return NULL;
            t->e = e;
            t->cap = cap;
        }
        i = t->nused++;
    }
    if ((t->count + 1) * 2 > t->mask + 1) {
        if (waits_grow_index(t) < 0) {
            t->e[i].seq = t->free_head;
            t->free_head = i + 1;
            return NULL;
        }
        for (j = (uint32_t)id & t->mask; t->slot[j].ent1; j = (j + 1) & t->mask)
            ;
    }
    t->e[i].n = 0;    /* the rest is set by the caller before it is read */
    t->slot[j] = (struct wslot){.id = id, .ent1 = i + 1, .dir = dir};
    t->count++;
    *slot_out = j;
    return &t->e[i];
}

/* Removes the entry of index slot j (backward-shift deletion: later members
 * of the probe chain move into the hole unless their home lies between). */
static void waits_remove(struct waits *t, uint32_t j)
{
    uint32_t i = t->slot[j].ent1 - 1, hole = j;

    t->slot[hole].ent1 = 0;
    for (uint32_t s = (hole + 1) & t->mask; t->slot[s].ent1; s = (s + 1) & t->mask) {
        uint32_t home = (uint32_t)t->slot[s].id & t->mask;
        if (((s - home) & t->mask) >= ((s - hole) & t->mask)) {
            t->slot[hole] = t->slot[s];
            t->slot[s].ent1 = 0;
            hole = s;
        }
    }
    t->e[i].seq = t->free_head;
    t->free_head = i + 1;
    t->count--;
}

/* ---- the pass ---- */

/* A record of the current time stamp, decoded. */
struct brec {
    uint64_t id;
    uint32_t flow;
    uint8_t dir;        /* 0: c2s */
    uint8_t entering;
    uint8_t rst;
};

struct lctx {
    struct flows flows;
    struct waits wait;
    const struct vf_nat *nat;
    size_t nat_n;       /* its mappings (0: nothing to untranslate) */
    int links[2];
    uint64_t in[2], out[2], seq;
    /* packets seen leaving before they entered (the two captures' clocks
     * apart by more than the transit time), and by how much at most */
    uint64_t early, early_max_ns;
    uint64_t *lat;      /* transit times, ns */
    size_t nlat, caplat;
    struct brec *b;     /* exits of time stamp bts, not yet matched */
    size_t nb, capb;
    uint64_t bts;
    const uint64_t *ev_t;   /* the failover events' times, ascending (flows.nev) */
};

/* A packet of flow `flow`, direction dir, that entered at in_ns left at
 * out_ns: the earliest entry after each event it left after. One compare
 * for a packet that left before the first event (or without events). */
static inline void note_exit(struct lctx *c, uint32_t flow, unsigned dir, uint64_t in_ns, uint64_t out_ns)
{
    unsigned n = c->flows.nev;
    uint64_t *v;

    if (!n || out_ns <= c->ev_t[0])
        return;
    v = c->flows.evin + (size_t)flow * n * 2 + dir;
    for (unsigned k = 0; k < n && c->ev_t[k] < out_ns; k++, v += 2)
        if (!*v || in_ns + 1 < *v)
            *v = in_ns + 1;
}

static int flush(struct lctx *c);
static int match(struct lctx *c, const struct brec *r);

/* A record decoded ahead of its turn, its flow's index slot prefetched. */
struct pre {
    struct fpkt p;
    struct bt_flow_key ck;
    const uint8_t *d;       /* valid until its reader's next batch */
    uint64_t ts, h;
    uint32_t caplen;
    uint8_t link, swapped, ok;
};

/* Decodes r (link l) into q and prefetches its flow's slot. Inlined in
 * both of the merge's steps (the call was ~15 instructions a record). */
static inline __attribute__((always_inline)) void
pre_decode(struct lctx *c, struct pre *q, unsigned l, const struct bt_pcap_rec *r)
{
    q->ts = r->ts_ns;
    q->d = r->data;
    q->caplen = r->caplen;
    q->link = (uint8_t)l;
    if (c->links[l] == BT_LINK_ETHERNET && !c->nat_n &&
        fast_decode4(r->data, r->caplen, &q->p, &q->ck, &q->swapped, &q->h)) {
        q->ok = 1;
    } else {
        q->ok = (uint8_t)decode(r->data, r->caplen, c->links[l], &q->p);
        if (!q->ok)
            return;
        vf_nat_untranslate(c->nat, &q->p.k, q->ts);
        q->swapped = (uint8_t)bt_flow_key_canon(&q->p.k, &q->ck);
        q->h = flow_hash(&q->ck);
    }
    __builtin_prefetch(&c->flows.slot[(uint32_t)q->h & c->flows.mask]);
}

/* Halfway: the slot is likely cached; prefetch the flow it points at. */
static void pre_flow(const struct lctx *c, const struct pre *q)
{
    if (!q->ok)
        return;
    const struct fslot *sl = &c->flows.slot[(uint32_t)q->h & c->flows.mask];
    if (sl->flow1 && sl->tag == (uint32_t)(q->h >> 32)) {
        __builtin_prefetch(&c->flows.f[sl->flow1 - 1]);
        __builtin_prefetch(&c->flows.inl[sl->flow1 - 1]);
    }
}

/* One record into the batch of its time stamp (the batch before it first
 * judged when the time stamp moved). -ENOMEM or 0. */
static int add_rec(struct lctx *c, const struct pre *q)
{
    const struct fpkt *p = &q->p;
    bool created;

    if (c->nb && q->ts != c->bts && flush(c) < 0)
        return -ENOMEM;
    c->bts = q->ts;
    if (!q->ok)
        return 0;
    struct flow *f = flows_get(&c->flows, &q->ck, q->h, &created);
    if (!f)
        return -ENOMEM;
    if (created) {
        /* the client rule of lib/bt_cidr.h (no client ranges: a SYN's
         * sender), else the first sender */
        bool src_client = !(p->proto == 6 && p->ports && (p->tcp_flags & BT_TCP_SYN) &&
                            (p->tcp_flags & BT_TCP_ACK));
        f->client_is_canon_src = (uint8_t)(src_client == !q->swapped);
    }
    unsigned dir = (!q->swapped) == (bool)f->client_is_canon_src ? 0 : 1;
    struct brec r = {
        .id = pkt_id(f->key_id[q->swapped], q->d, q->caplen, p),
        .flow = (uint32_t)(f - c->flows.f),
        .dir = (uint8_t)dir,
        /* c2s enters on the client link (0), s2c on the server link (1) */
        .entering = (dir == 0) == (q->link == 0),
        .rst = p->proto == 6 && (p->tcp_flags & BT_TCP_RST),
    };
    /* entries at once, exits when the time stamp moves on: every entry of
     * a time stamp is matched before its exits, in the order they came */
    if (r.entering)
        return match(c, &r);
    if (c->nb == c->capb) {
        size_t cap = c->capb ? c->capb * 2 : 64;
        struct brec *nb = realloc(c->b, cap * sizeof(*nb));
        if (!nb)
            return -ENOMEM;
        c->b = nb;
        c->capb = cap;
    }
    c->b[c->nb++] = r;
    return 0;
}

/* A transit time, ns, to the list. -ENOMEM or 0. */
static inline int lat_add(struct lctx *c, uint64_t ns)
{
    if (c->nlat == c->caplat) {
        size_t cap = c->caplat ? c->caplat * 2 : 4096;
        uint64_t *nl = realloc(c->lat, cap * sizeof(*nl));
        if (!nl)
            return -ENOMEM;
        c->lat = nl;
        c->caplat = cap;
    }
    c->lat[c->nlat++] = ns;
    return 0;
}

/* Moves flow fl's packet in flight into the table, as the entry it stands
 * for (n = 1). -ENOMEM or 0. */
static __attribute__((noinline)) int spill(struct lctx *c, uint32_t fl)
{
    struct finl *fi = &c->flows.inl[fl];
    uint32_t j;
    struct inflight *f = waits_get(&c->wait, fi->id, fi->dir1 - 1u, &j);

    if (!f)
        return -ENOMEM;
    f->seq = fi->seq;
    f->rst = fi->rst;
    f->flow = f->owner = fl;
    f->ts[0] = fi->ts;
    f->n = 1;
    fi->nglob++;
    fi->dir1 = 0;
    return 0;
}

/* One packet entering or leaving, against what is in flight. Each (id,
 * dir) is in one place: its flow's finl (n = 1) or the table. */
static int match(struct lctx *c, const struct brec *r)
{
    struct finl *fi = &c->flows.inl[r->flow];
    uint32_t j;
    struct inflight *f;

    c->seq++;
    if (fi->dir1 == r->dir + 1u && fi->id == r->id) {
        if (!r->entering) {
            /* the common case: the flow's one packet in flight left */
            if (lat_add(c, c->bts - fi->ts) < 0)
                return -ENOMEM;
            c->out[r->dir]++;
            fi->out_ns[r->dir] = c->bts;
            note_exit(c, r->flow, r->dir, fi->ts, c->bts);
            fi->dir1 = 0;
            return 0;
        }
        /* a second copy in flight: the pair goes to the table */
        if (spill(c, r->flow) < 0)
            return -ENOMEM;
    } else if (r->entering && (!fi->nglob || !waits_find(&c->wait, r->id, r->dir))) {
        /* nothing known of it: it waits in its flow, the one there
         * before it (lost, most likely) moving to the table */
        if (fi->dir1 && spill(c, r->flow) < 0)
            return -ENOMEM;
        *fi = (struct finl){.id = r->id, .ts = c->bts, .seq = c->seq, .nglob = fi->nglob,
                            .dir1 = (uint8_t)(r->dir + 1), .rst = r->rst,
                            .out_ns = {fi->out_ns[0], fi->out_ns[1]}};
        c->in[r->dir]++;
        return 0;
    }
    if (!(f = waits_get(&c->wait, r->id, r->dir, &j)))
        return -ENOMEM;
    if (f->n == 0) {
        f->owner = r->flow;
        fi->nglob++;
    }
    f->seq = c->seq;
    f->rst = r->rst;
    f->flow = r->flow;
    if (r->entering) {
        c->in[r->dir]++;
        /* after copies that left without entering (n < 0) an entering one
         * is one of them: it went through, seen first on the far link (the
         * pass before this one stored its time at ts[n], in front of the
         * array: with n -2 or less over the flow table's links) */
        if (f->n < 0) {
            uint64_t x = f->ts[-f->n - 1], d = c->bts - x;
            f->n++;
            c->out[r->dir]++;
            if (c->bts > c->flows.inl[r->flow].out_ns[r->dir])
                c->flows.inl[r->flow].out_ns[r->dir] = c->bts;
            note_exit(c, r->flow, r->dir, c->bts, x);
            c->early++;
            c->early_max_ns = d > c->early_max_ns ? d : c->early_max_ns;
        } else if (f->n < 8) {
            f->ts[f->n++] = c->bts;
        }
    } else if (f->n > 0) {
        /* the newest entry: a retransmission that got through is matched
         * with itself, and the dropped original stays lost */
        if (lat_add(c, c->bts - f->ts[f->n - 1]) < 0)
            return -ENOMEM;
        note_exit(c, r->flow, r->dir, f->ts[f->n - 1], c->bts);
        f->n--;
        c->out[r->dir]++;
        fi->out_ns[r->dir] = c->bts;
    } else if (f->n > -8) {
        /* left without entering: made by the cluster, or entering later on
         * a clock behind this link's */
        f->ts[-f->n] = c->bts;
        f->n--;
    }
    if (f->n == 0) {
        c->flows.inl[f->owner].nglob--;
        waits_remove(&c->wait, j);
    }
    return 0;
}

/* The exits of one time stamp, after its entries (add_rec matched those as
 * they came): a zero-latency forwarder stamps both alike, and the merge
 * alone would put the client link first in both directions. */
static int flush(struct lctx *c)
{
    for (size_t i = 0; i < c->nb; i++)
        if (match(c, &c->b[i]) < 0)
            return -ENOMEM;
    c->nb = 0;
    return 0;
}

/* The k-th smallest of a[0..n) (k < n), a reordered: quickselect with a
 * three-way partition (latencies repeat a lot). */
static uint64_t select_kth(uint64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;

    while (hi - lo > 1) {
        uint64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        uint64_t pv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (a[i] < pv) {
                uint64_t t = a[i];
                a[i++] = a[lt];
                a[lt++] = t;
            } else if (a[i] > pv) {
                uint64_t t = a[i];
                a[i] = a[--gt];
                a[gt] = t;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return pv;
    }
    return a[lo];
}

/* A packet that never left: when it was last touched, its flow, when it entered. */
struct pend {
    uint64_t seq, ts;
    uint32_t flow;
};

static int pend_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct pend *)a)->seq, y = ((const struct pend *)b)->seq;
    return x < y ? -1 : x > y;
}

static int report(struct lctx *c, void **json_out)
{
    struct waits *w = &c->wait;
    uint64_t unmatched_out = 0, rsts = 0;
    struct pend *pd = NULL;
    size_t npd = 0;

    size_t ninl = 0;
    for (uint32_t i = 0; i < c->flows.n; i++)
        ninl += c->flows.inl[i].dir1 != 0;
    if ((w->count || ninl) && !(pd = malloc((w->count + ninl) * sizeof(*pd))))
        return -ENOMEM;
    for (uint32_t i = 0; i < c->flows.n; i++)
        if (c->flows.inl[i].dir1)
            pd[npd++] = (struct pend){c->flows.inl[i].seq, c->flows.inl[i].ts, i};
    for (uint32_t j = 0; w->slot && j <= w->mask; j++) {
        if (!w->slot[j].ent1)
            continue;
        const struct inflight *f = &w->e[w->slot[j].ent1 - 1];
        if (f->n < 0) {
            unmatched_out += (uint64_t)-f->n;
            if (f->rst)
                rsts += (uint64_t)-f->n;
        } else {
            pd[npd++] = (struct pend){f->seq, f->ts[0], f->flow};
        }
    }
    /* flows with a packet that never left, the least recently touched first */
    if (npd)
        qsort(pd, npd, sizeof(*pd), pend_cmp);
    json_t *off = json_array();
    uint32_t seen[MAX_OFFENDERS];
    unsigned nseen = 0;
    for (size_t i = 0; i < npd && nseen < MAX_OFFENDERS; i++) {
        const struct pend *f = &pd[i];
        unsigned s = 0;
        while (s < nseen && seen[s] != f->flow)
            s++;
        if (s < nseen)
            continue;
        seen[nseen++] = f->flow;
        const struct bt_flow_key *fk = &c->flows.f[f->flow].ck;
        char cid[40], tuple[128];
        bt_community_id(fk, 0, cid, sizeof(cid));
        bt_flow_key_fmt(fk, tuple, sizeof(tuple));
        json_array_append_new(off, json_pack("{s:s, s:s, s:[], s:f}", "community_id", cid,
                                             "tuple", tuple, "members", "t",
                                             (double)f->ts / 1e9));
    }
    free(pd);
    uint64_t lost[2];
    for (int d = 0; d < 2; d++)
        lost[d] = c->in[d] > c->out[d] ? c->in[d] - c->out[d] : 0;
    size_t n = c->nlat;
    double p50 = 0, p99 = 0, mx = 0;
    if (n) {
        /* the order statistics of the transit times in us: ns -> us keeps
         * the order, so they are those of the times in ns */
        uint64_t m = c->lat[0];
        for (size_t i = 1; i < n; i++)
            m = c->lat[i] > m ? c->lat[i] : m;
        mx = (double)m / 1e3;
        size_t k50 = (n - 1) / 2, k99 = (size_t)((double)(n - 1) * 0.99);
        p50 = (double)select_kth(c->lat, n, k50) / 1e3;
        /* the select leaves a[k50..n) the times from the k50-th smallest
         * on: the k99-th (floor(0.99 m) >= floor(m / 2)) is among them */
        p99 = (double)select_kth(c->lat + k50, n - k50, k99 - k50) / 1e3;
    }
    *json_out = json_pack(
        "{s:{s:I, s:I, s:I, s:f}, s:{s:I, s:I, s:I, s:f}, s:{s:f, s:f, s:f}, s:I, s:I, s:o, s:I, s:f}",
        "c2s", "in", (json_int_t)c->in[0], "out", (json_int_t)c->out[0], "lost",
        (json_int_t)lost[0], "loss_pct",
        c->in[0] ? 100.0 * (double)lost[0] / (double)c->in[0] : 0.0, "s2c", "in",
        (json_int_t)c->in[1], "out", (json_int_t)c->out[1], "lost", (json_int_t)lost[1],
        "loss_pct", c->in[1] ? 100.0 * (double)lost[1] / (double)c->in[1] : 0.0, "latency_us",
        "p50", p50, "p99", p99, "max", mx, "injected_rsts", (json_int_t)rsts, "unmatched_out",
        (json_int_t)unmatched_out, "offenders", off, "left_before_entering", (json_int_t)c->early,
        "clock_skew_max_us", (double)c->early_max_ns / 1e3);
    return 0;
}

/* One link's records, read a batch at a time (valid until that reader's
 * next batch). */
struct src {
    struct bt_pcap_reader *rd;
    struct bt_pcap_rec r[READ_BATCH];
    int n, i;
};

/* Whether s needs its next batch, which ends the life of its records'
 * bytes. */
static bool src_empty(const struct src *s)
{
    return s->i >= s->n && s->rd;
}

/* 1 with s->r[s->i] the link's next record, 0 at its end, -errno. */
static int src_head(struct src *s, struct bt_err *e)
{
    if (s->i < s->n)
        return 1;
    if (!s->rd)
        return 0;
    int got = bt_pcap_next_batch(s->rd, s->r, READ_BATCH, e);
    if (got <= 0) {
        s->n = s->i = 0;
        if (got == 0)
            s->rd = NULL;   /* done (the caller closes it) */
        return got;
    }
    s->n = got;
    s->i = 0;
    return 1;
}

#define AHEAD 8   /* records decoded ahead (a power of two) */

/* The flows table, kept past the pass: the keys and when their packets
 * last left (struct finl's out_ns). */
struct vf_delivered {
    struct flows flows;
};

/* The flow number + 1 of ck in the kept table; 0: the links never saw it. */
static uint32_t delivered_find(const struct vf_delivered *d, const struct bt_flow_key *ck)
{
    const struct flows *t = &d->flows;
    uint64_t h = flow_hash(ck);
    uint32_t tag = (uint32_t)(h >> 32);

    for (uint32_t j = (uint32_t)h & t->mask; t->slot[j].flow1; j = (j + 1) & t->mask)
        if (t->slot[j].tag == tag && key_eq(&t->f[t->slot[j].flow1 - 1].ck, ck))
            return t->slot[j].flow1;
    return 0;
}

bool vf_delivered_last(const struct vf_delivered *d, const struct bt_flow_key *ck, uint64_t out[2])
{
    uint32_t f1 = delivered_find(d, ck);

    out[0] = f1 ? d->flows.inl[f1 - 1].out_ns[0] : 0;
    out[1] = f1 ? d->flows.inl[f1 - 1].out_ns[1] : 0;
    return f1 != 0;
}

int vf_delivered_after(const struct vf_delivered *d, const struct bt_flow_key *ck, unsigned ev, uint64_t in[2])
{
    uint32_t f1;

    in[0] = in[1] = 0;
    if (ev >= d->flows.nev)
        return -1;
    if (!(f1 = delivered_find(d, ck)))
        return 0;
    in[0] = d->flows.evin[((size_t)(f1 - 1) * d->flows.nev + ev) * 2];
    in[1] = d->flows.evin[((size_t)(f1 - 1) * d->flows.nev + ev) * 2 + 1];
    return 1;
}

struct vf_delivered *vf_delivered_free(struct vf_delivered *d)
{
    if (d) {
        free(d->flows.slot);
        free(d->flows.f);
        free(d->flows.inl);
        free(d->flows.evin);
        free(d);
    }
    return NULL;
}

int vf_loss(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
            struct bt_err *e)
{
    return vf_loss_delivered(client, server, nat, json_out, NULL, NULL, 0, e);
}

int vf_loss_delivered(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
                      struct vf_delivered **dl, const uint64_t *ev_t, unsigned nev, struct bt_err *e)
{
    struct bt_pcap_reader *rd[2] = {NULL, NULL};
    struct src *s = NULL;
    struct lctx c;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    c.nat = nat;
    c.nat_n = nat ? vf_nat_count(nat) : 0;
    if (dl && ev_t && nev) {
        c.ev_t = ev_t;
        c.flows.nev = nev < VF_DELIVERED_MAX_EV ? nev : VF_DELIVERED_MAX_EV;
    }
    rd[0] = bt_pcap_open(client, e);
    if (!rd[0])
        return -EINVAL;
    rd[1] = bt_pcap_open(server, e);
    if (!rd[1]) {
        rc = -EINVAL;
        goto out;
    }
    c.links[0] = bt_pcap_linktype(rd[0]);
    c.links[1] = bt_pcap_linktype(rd[1]);
    s = calloc(2, sizeof(*s));
    if (!s || flows_grow(&c.flows) < 0 || waits_grow_index(&c.wait) < 0) {
        rc = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    s[0].rd = rd[0];
    s[1].rd = rd[1];
    struct pre q[AHEAD];
    unsigned qh = 0, qn = 0;    /* oldest, count */
    for (;;) {
        /* a reader's next batch replaces the bytes of its records still
         * waiting here: those are judged first */
        if (src_empty(&s[0]) || src_empty(&s[1]) || qn == AHEAD) {
            unsigned k = qn == AHEAD && !src_empty(&s[0]) && !src_empty(&s[1]) ? 1 : qn;
            for (; k; k--, qn--, qh = (qh + 1) % AHEAD)
                if (add_rec(&c, &q[qh]) < 0) {
                    rc = bt_err_setr(e, -ENOMEM, "out of memory");
                    goto out;
                }
        }
        /* the merge: the earlier head, the client link's on a tie */
        int h0 = src_head(&s[0], e), h1 = h0 < 0 ? 0 : src_head(&s[1], e);
        if (h0 < 0 || h1 < 0) {
            rc = h0 < 0 ? h0 : h1;
            goto out;
        }
        if (!h0 && !h1)
            break;
        unsigned l = !h0 || (h1 && s[1].r[s[1].i].ts_ns < s[0].r[s[0].i].ts_ns);
        pre_decode(&c, &q[(qh + qn) % AHEAD], l, &s[l].r[s[l].i++]);
        qn++;
        if (qn > AHEAD / 2)
            pre_flow(&c, &q[(qh + qn - 1 - AHEAD / 2) % AHEAD]);
        /* the steady state, while both links have records of their batches
         * left (neither reads, neither is at its end): the steps above
         * without their checks (~25 instructions a record) */
        while (qn == AHEAD && s[0].i < s[0].n && s[1].i < s[1].n) {
            if (add_rec(&c, &q[qh]) < 0) {
                rc = bt_err_setr(e, -ENOMEM, "out of memory");
                goto out;
            }
            unsigned at = qh;   /* the slot just judged: the newest now */
            qh = (qh + 1) % AHEAD;
            l = s[1].r[s[1].i].ts_ns < s[0].r[s[0].i].ts_ns;
            pre_decode(&c, &q[at], l, &s[l].r[s[l].i++]);
            pre_flow(&c, &q[(at + AHEAD - AHEAD / 2) % AHEAD]);
        }
    }
    for (; qn; qn--, qh = (qh + 1) % AHEAD)
        if (add_rec(&c, &q[qh]) < 0) {
            rc = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
    if (flush(&c) < 0 || report(&c, json_out) < 0) {
        rc = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    if (dl) {
        if (!(*dl = malloc(sizeof(**dl)))) {
            json_decref(*json_out);
            *json_out = NULL;
            rc = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
        (*dl)->flows = c.flows;   /* the table moves to *dl */
        memset(&c.flows, 0, sizeof(c.flows));
    }
out:
    free(s);
    free(c.b);
    free(c.lat);
    free(c.flows.slot);
    free(c.flows.f);
    free(c.flows.inl);
    free(c.flows.evin);
    free(c.wait.slot);
    free(c.wait.e);
    bt_pcap_close(rd[0]);
    bt_pcap_close(rd[1]);
    return rc;
}
