/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HyperSync message encoding and decoding. Big-endian fields; every length
 * is checked before it is used (OpenBGPD imsg style), and what version 2
 * does not define is rejected rather than skipped, so a later version with
 * authentication cannot be misread as this one (nor version 1, whose ACK
 * was a connection record).
 */
#include "gw_sync.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

size_t gw_sync_begin(uint8_t *buf, uint8_t from, uint8_t to, uint32_t seq)
{
    memset(buf, 0, GW_SYNC_HDR_LEN);
    put32(buf, GW_SYNC_MAGIC);
    buf[4] = GW_SYNC_VERSION;
    buf[8] = from;
    buf[9] = to;
    put32(buf + 12, seq);
    return GW_SYNC_HDR_LEN;
}

/* A record through the inline encoders gw_member.c and gw_cluster.c use. */
size_t gw_sync_add(uint8_t *buf, size_t len, const struct gw_sync_rec *r)
{
    size_t rl = r->type == GW_SYNC_ACK ? GW_SYNC_ACK_LEN
              : (r->flags & GW_SYNC_F_NAT) ? GW_SYNC_REC_NAT_LEN : GW_SYNC_REC_LEN;

    if (len + rl > GW_SYNC_MTU)
        return 0;
    if (r->type == GW_SYNC_ACK)
        return len + gw_sync_put_ack(buf + len, r->ack_seq, r->ack_bits);
    return len + gw_sync_put_conn(buf + len, r->type, r->flags, r->state, r->fin, r->owner,
                                  r->backup, r->hash, r->gen, &r->key, r->nat_addr, r->nat_port);
}

void gw_sync_end(uint8_t *buf, size_t len, uint16_t nrec)
{
    put16(buf + 6, (uint16_t)len);
    put16(buf + 16, nrec);
}

/* The reserved words, checked as one OR. */
static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

/* Every message a member receives passes here: straight loads, and the
 * reserved fields (key id, bytes 18-19, the MAC) checked as one OR. */
int gw_sync_decode_hdr(const uint8_t *buf, size_t len, struct gw_sync_hdr *h)
{
    size_t body;

    if (len < GW_SYNC_HDR_LEN || len > GW_SYNC_MTU)
        return -EBADMSG;
    if (get32(buf) != GW_SYNC_MAGIC || buf[4] != GW_SYNC_VERSION || buf[5] != 0)
        return -EBADMSG;
    if (get16(buf + 6) != len ||
        ((uint64_t)get16(buf + 10) | get16(buf + 18) | load64(buf + 20) | load64(buf + 28)) != 0)
        return -EBADMSG;
    h->version = GW_SYNC_VERSION;
    h->flags = 0;
    h->len = (uint16_t)len;
    h->from = buf[8];
    h->to = buf[9];
    h->key_id = 0;
    h->seq = get32(buf + 12);
    h->nrec = get16(buf + 16);
    memset(h->mac, 0, GW_SYNC_MAC_LEN);
    if ((unsigned)(h->from - 1) >= 64 || (unsigned)(h->to - 1) >= 64 || h->from == h->to)
        return -EBADMSG;
    /* the count must be possible for the length */
    body = len - GW_SYNC_HDR_LEN;
    if ((size_t)h->nrec * GW_SYNC_ACK_LEN > body || (size_t)h->nrec * GW_SYNC_REC_NAT_LEN < body)
        return -EBADMSG;
    return 0;
}

/* The record decoder, inlined into the loop of gw_sync_decode_recs: it
 * runs once per record a backup applies and once per ACK. */
static inline int decode_rec(const uint8_t *buf, size_t len, size_t *off, struct gw_sync_rec *r)
{
    size_t o = *off;
    const uint8_t *p;
    unsigned rl;

    if (o == len)
        return 0;
    if (o > len || len - o < 2)
        return -EBADMSG;
    p = buf + o;
    rl = p[1];
    if (p[0] == GW_SYNC_ACK) {
        uint32_t bits;
        if (rl != GW_SYNC_ACK_LEN || len - o < rl || (p[2] | p[3]) || get32(p + 12))
            return -EBADMSG;
        bits = get32(p + 8);
        /* names at least one record, none past what a message holds */
        if (bits == 0 || (bits >> GW_SYNC_MAXCONN))
            return -EBADMSG;
        memset(r, 0, sizeof(*r));
        r->type = GW_SYNC_ACK;
        r->ack_seq = get32(p + 4);
        r->ack_bits = bits;
        *off = o + rl;
        return 1;
    }
    if ((rl != GW_SYNC_REC_LEN && rl != GW_SYNC_REC_NAT_LEN) || len - o < rl)
        return -EBADMSG;
    if (p[0] < GW_SYNC_CREATE || p[0] > GW_SYNC_BULK || (p[5] & ~GW_SYNC_F_ALL))
        return -EBADMSG;
    if (!!(p[5] & GW_SYNC_F_NAT) != (rl == GW_SYNC_REC_NAT_LEN))
        return -EBADMSG;
    if ((p[48] != 4 && p[48] != 6) || (p[49] | p[50] | p[51]))
        return -EBADMSG;
    if (p[6] > 64 || p[7] > 64)
        return -EBADMSG;
    r->type = p[0];
    r->state = p[3];
    r->fin = p[4];
    r->flags = p[5];
    r->owner = p[6];
    r->backup = p[7];
    r->hash = get32(p + 8);
    memcpy(r->key.src, p + 12, 16);
    memcpy(r->key.dst, p + 28, 16);
    r->key.sport = get16(p + 44);
    r->key.dport = get16(p + 46);
    r->key.proto = p[2];
    r->key.family = p[48];
    r->key.zero = 0;
    r->gen = get32(p + 52);
    r->nat_addr = 0;
    r->nat_port = 0;
    r->ack_seq = r->ack_bits = 0;
    if (rl == GW_SYNC_REC_NAT_LEN) {
        if (get16(p + 62))
            return -EBADMSG;
        r->nat_addr = get32(p + 56);
        r->nat_port = get16(p + 60);
    }
    *off = o + rl;
    return 1;
}

int gw_sync_decode_rec(const uint8_t *buf, size_t len, size_t *off, struct gw_sync_rec *r)
{
    return decode_rec(buf, len, off, r);
}

int gw_sync_decode_recs(const uint8_t *buf, size_t len, const struct gw_sync_hdr *h,
                        struct gw_sync_rec *r, unsigned max)
{
    size_t off = GW_SYNC_HDR_LEN;
    unsigned n = 0;
    int rc;

    if (max == 0)
        return -EINVAL;
    /* decode everything first (one pass, into r[]): a damaged message
     * applies nothing */
    while ((rc = decode_rec(buf, len, &off, &r[n < max ? n : max - 1])) == 1)
        n++;
    if (rc < 0 || n != h->nrec || n > max)
        return -EBADMSG;
    return (int)n;
}

int gw_sync_decode(const uint8_t *buf, size_t len, gw_sync_rec_fn fn, void *arg)
{
    struct gw_sync_hdr h;
    struct gw_sync_rec r[GW_SYNC_MAXREC];
    int n;

    if (gw_sync_decode_hdr(buf, len, &h) < 0 ||
        (n = gw_sync_decode_recs(buf, len, &h, r, GW_SYNC_MAXREC)) < 0)
        return -EBADMSG;
    for (int i = 0; fn && i < n; i++)
        fn(arg, &h, &r[i]);
    return n;
}

const char *gw_sync_type_name(enum gw_sync_type t)
{
    switch (t) {
    case GW_SYNC_CREATE: return "create";
    case GW_SYNC_UPDATE: return "update";
    case GW_SYNC_DELETE: return "delete";
    case GW_SYNC_ACK: return "ack";
    case GW_SYNC_BULK: return "bulk";
    }
    return "?";
}
