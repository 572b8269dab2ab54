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

/* Every check is gw_sync_hdr_check's (gw_sync.h), which a member receiving
 * a message uses alone. */
int gw_sync_decode_hdr(const uint8_t *buf, size_t len, struct gw_sync_hdr *h)
{
    unsigned nrec;

    if (gw_sync_hdr_check(buf, len, &nrec) < 0)
        return -EBADMSG;
    memset(h, 0, sizeof(*h));
    h->version = GW_SYNC_VERSION;
    h->len = (uint16_t)len;
    h->from = buf[8];
    h->to = buf[9];
    h->seq = get32(buf + 12);
    h->nrec = (uint16_t)nrec;
    return 0;
}

/* The record decoder, inlined into the loop of gw_sync_decode_recs; its
 * checks are gw_sync_rec_check's (gw_sync.h), which a member applying a
 * message uses alone, reading the fields from the bytes. */
static inline int decode_rec(const uint8_t *buf, size_t len, size_t *off, struct gw_sync_rec *r)
{
    size_t o = *off;
    const uint8_t *p;
    unsigned rl;

    if (o == len)
        return 0;
    if (o > len || !(rl = gw_sync_rec_check(buf + o, len - o)))
        return -EBADMSG;
    p = buf + o;
    memset(r, 0, sizeof(*r));
    r->type = p[0];
    if (p[0] == GW_SYNC_ACK) {
        r->ack_seq = get32(p + 4);
        r->ack_bits = get32(p + 8);
    } else {
        r->state = p[3];
        r->fin = p[4];
        r->flags = p[5];
        r->owner = p[6];
        r->backup = p[7];
        r->hash = get32(p + 8);
        gw_sync_get_key(p, &r->key);
        r->gen = get32(p + 52);
        if (rl == GW_SYNC_REC_NAT_LEN) {
            r->nat_addr = get32(p + 56);
            r->nat_port = get16(p + 60);
        }
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
