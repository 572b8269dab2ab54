/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HyperSync messages (internal to gateway_core; wire format in
 * docs/formats.md section 4): a versioned, length-checked header with fields
 * reserved for a key id, a sequence number and a MAC (authentication comes
 * later), followed by records of fixed sizes: 56 or 64 bytes about a
 * connection, 16 for an ACK (version 2: the backup acknowledges a whole
 * message by its sequence number, with a bitmap of the connections it
 * stored, instead of one record per connection). The decoder checks every
 * length before use and rejects what version 2 does not define.
 */
#ifndef GW_SYNC_H
#define GW_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt_flow.h"

#define GW_SYNC_MAGIC 0x4253594eU      /* "BSYN" */
#define GW_SYNC_VERSION 2
#define GW_SYNC_MTU 1400               /* bytes of message (UDP payload) at most */
#define GW_SYNC_HDR_LEN 36
#define GW_SYNC_REC_LEN 56             /* a record without NAT */
#define GW_SYNC_REC_NAT_LEN 64         /* with the NAT extension */
#define GW_SYNC_ACK_LEN 16             /* an ACK record */
#define GW_SYNC_MAC_LEN 16
/* connection records (CREATE, UPDATE, DELETE, BULK) in one message at most */
#define GW_SYNC_MAXCONN ((GW_SYNC_MTU - GW_SYNC_HDR_LEN) / GW_SYNC_REC_LEN)
/* records of any type in one message at most (all ACKs) */
#define GW_SYNC_MAXREC ((GW_SYNC_MTU - GW_SYNC_HDR_LEN) / GW_SYNC_ACK_LEN)

enum gw_sync_type {
    GW_SYNC_CREATE = 1,  /* a new connection (the owner waits for the ACK when deferring) */
    GW_SYNC_UPDATE = 2,  /* a state change, or a refresh of a long-lived connection */
    GW_SYNC_DELETE = 3,  /* the connection ended, or this member is no longer its backup */
    GW_SYNC_ACK = 4,     /* backup -> owner: the CREATEs of message ack_seq that ack_bits names are applied */
    GW_SYNC_BULK = 5,    /* a CREATE without ACK: new backup after failover, join, restore */
};

/* Record flags. */
enum {
    GW_SYNC_F_NAT = 1U << 0,        /* the NAT extension follows (len 64) */
    GW_SYNC_F_CLIENT_SRC = 1U << 1, /* the client is the canonical key's source */
    GW_SYNC_F_ACK_REQ = 1U << 2,    /* the owner defers: answer with an ACK */
    GW_SYNC_F_LOOSE = 1U << 3,      /* picked up mid-stream */
    GW_SYNC_F_BLOCKED = 1U << 4,    /* a content rule dropped it: every later packet too, on
                                     * the backup once promoted as on its owner */
    GW_SYNC_F_ALL = 0x1f,
};

struct gw_sync_hdr {
    uint8_t version;
    uint8_t flags;       /* 0 in version 2 (bit 0 will say "MAC present") */
    uint16_t len;        /* header + records */
    uint8_t from, to;    /* member ids */
    uint16_t key_id;     /* reserved: 0 */
    uint32_t seq;        /* per sender, +1 per message */
    uint16_t nrec;
    uint8_t mac[GW_SYNC_MAC_LEN]; /* reserved: zeros */
};

struct gw_sync_rec {
    uint8_t type;        /* enum gw_sync_type */
    uint8_t state, fin, flags;
    uint8_t owner, backup;
    uint16_t nat_port;   /* GW_SYNC_F_NAT: translated source port */
    uint32_t hash;       /* distribution hash of the connection's bucket */
    uint32_t nat_addr;   /* GW_SYNC_F_NAT: translated IPv4 source (host order) */
    /* the canonical key (v4-mapped for IPv4; family 4 or 6; zero 0): the
     * decoder fills it as the receiver's table wants it (no padding here) */
    struct bt_flow_key key;
    /* the owner's incarnation of the connection (its entry's gen, +1 per
     * entry a member makes, serial arithmetic): a backup ignores a record
     * older than the entry it holds from the same owner, such as the
     * batched DELETE of a connection whose 5-tuple was reused, landing
     * after the new one's CREATE */
    uint32_t gen;
    /* GW_SYNC_ACK only (its other fields are 0): the sequence number of the
     * acknowledged message, and bit i set when the i-th record of that
     * message with GW_SYNC_F_ACK_REQ was applied (at most GW_SYNC_MAXCONN
     * such records in a message; never 0) */
    uint32_t ack_seq, ack_bits;
};

/* Big-endian stores of the fixed-layout records (a byte swap and one move). */
static inline void gw_sync_put16(uint8_t *p, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    memcpy(p, &v, 2);
}

static inline void gw_sync_put32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

/* Big-endian loads: gw_sync_get16, gw_sync_get32, gw_sync_get64. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define GW_SYNC_BE(bits, v) __builtin_bswap##bits(v)
#else
#define GW_SYNC_BE(bits, v) (v)
#endif
#define GW_SYNC_GET(bits)                                              \
    static inline uint##bits##_t gw_sync_get##bits(const uint8_t *p)   \
    {                                                                  \
        uint##bits##_t v;                                              \
        memcpy(&v, p, sizeof(v));                                      \
        return GW_SYNC_BE(bits, v);                                    \
    }
GW_SYNC_GET(16)
GW_SYNC_GET(32)
GW_SYNC_GET(64)
#undef GW_SYNC_GET

/* The check of one record, the only copy of the rules (gw_sync_decode_rec
 * and a member applying a message straight from its bytes both use it):
 * the length of the record at p, with `left` bytes of message from p on,
 * when it is one version 2 defines; 0 when it is damaged (beyond the
 * message, an unknown type or flag, NAT flag and length disagreeing, a bad
 * family or member id, a non-zero reserved field, a length not its type's,
 * an ACK naming no record or more than a message holds). A few word-wide
 * tests: it runs once per record a member receives. */
static inline unsigned gw_sync_rec_check(const uint8_t *p, size_t left)
{
    uint64_t w;
    unsigned type, rl, fl;

    if (left < GW_SYNC_ACK_LEN)
        return 0;   /* no record is shorter */
    w = gw_sync_get64(p);
    type = (unsigned)(w >> 56);
    if (type == GW_SYNC_ACK) {
        uint32_t bits = gw_sync_get32(p + 8);
        /* type, length 16, two reserved zeros; names at least one record,
         * none past what a message holds */
        if ((w >> 32) != ((uint32_t)GW_SYNC_ACK << 24 | (uint32_t)GW_SYNC_ACK_LEN << 16) ||
            bits == 0 || (bits >> GW_SYNC_MAXCONN) || gw_sync_get32(p + 12))
            return 0;
        return GW_SYNC_ACK_LEN;
    }
    rl = (unsigned)(w >> 48) & 0xff;
    fl = (unsigned)(w >> 16) & 0xff;
    /* types 1, 2, 3, 5; length 56 without the NAT flag, 64 with it */
    if (type > 7 || !((1U << type) & 0x2eU) || rl != (fl & GW_SYNC_F_NAT ? GW_SYNC_REC_NAT_LEN : GW_SYNC_REC_LEN) ||
        left < rl || (fl & ~(unsigned)GW_SYNC_F_ALL))
        return 0;
    /* owner and backup ids at most 64; family 4 or 6 and 3 reserved zeros */
    if (((w >> 8) & 0xff) > 64 || (w & 0xff) > 64 ||
        (gw_sync_get32(p + 48) & ~0x02000000U) != 0x04000000U)
        return 0;
    if (rl == GW_SYNC_REC_NAT_LEN && gw_sync_get16(p + 62))
        return 0;
    return rl;
}

/* The canonical key of the connection record at p (checked), as a member's
 * table wants it. */
static inline void gw_sync_get_key(const uint8_t *p, struct bt_flow_key *k)
{
    memcpy(k->src, p + 12, 32);   /* the source and destination, adjacent in both */
    k->sport = gw_sync_get16(p + 44);
    k->dport = gw_sync_get16(p + 46);
    k->proto = p[2];
    k->family = p[48];
    k->zero = 0;
}

/* The header of a message, checked (gw_sync_decode_hdr without the struct):
 * 0 with *nrec, or -1 (bad magic, version, flags, length, reserved field,
 * member ids, a record count the length cannot hold). */
static inline int gw_sync_hdr_check(const uint8_t *buf, size_t len, unsigned *nrec)
{
    uint64_t w0, w1;
    unsigned from, to, n;
    size_t body;

    if (len < GW_SYNC_HDR_LEN || len > GW_SYNC_MTU)
        return -1;
    w0 = gw_sync_get64(buf);       /* magic, version, flags, length */
    w1 = gw_sync_get64(buf + 8);   /* from, to, key id, sequence number */
    if (w0 != ((uint64_t)GW_SYNC_MAGIC << 32 | (uint64_t)GW_SYNC_VERSION << 24 | len))
        return -1;
    {
        uint64_t z1, z2;
        memcpy(&z1, buf + 20, 8);
        memcpy(&z2, buf + 28, 8);
        if ((((w1 >> 32) & 0xffff) | gw_sync_get16(buf + 18) | z1 | z2) != 0)
            return -1;
    }
    from = (unsigned)(w1 >> 56);
    to = (unsigned)(w1 >> 48) & 0xff;
    if (from - 1 >= 64 || to - 1 >= 64 || from == to)
        return -1;
    n = gw_sync_get16(buf + 16);
    body = len - GW_SYNC_HDR_LEN;
    if ((size_t)n * GW_SYNC_ACK_LEN > body || (size_t)n * GW_SYNC_REC_NAT_LEN < body)
        return -1;
    *nrec = n;
    return 0;
}

/* Writes the header of a message of nrec records, len bytes in all, from
 * `from` to `to`, sequence number seq (gw_sync_begin and gw_sync_end at
 * once). */
static inline void gw_sync_put_hdr(uint8_t *buf, uint8_t from, uint8_t to, uint32_t seq,
                                   size_t len, unsigned nrec)
{
    gw_sync_put32(buf, GW_SYNC_MAGIC);
    gw_sync_put32(buf + 4, (uint32_t)GW_SYNC_VERSION << 24 | (uint32_t)len);
    gw_sync_put32(buf + 8, (uint32_t)from << 24 | (uint32_t)to << 16);
    gw_sync_put32(buf + 12, seq);
    gw_sync_put32(buf + 16, (uint32_t)nrec << 16);
    memset(buf + 20, 0, GW_SYNC_MAC_LEN);
}

/* Encodes a connection record (CREATE, UPDATE, DELETE, BULK) at p (room for
 * GW_SYNC_REC_NAT_LEN bytes) straight from what a member holds: the layout
 * of docs/formats.md section 4, the only copy of it (gw_sync_add encodes a
 * struct gw_sync_rec through it). flags: GW_SYNC_F_*; with GW_SYNC_F_NAT
 * the extension (nat_addr, nat_port) follows. Returns the record's length. */
static inline unsigned gw_sync_put_conn(uint8_t *p, uint8_t type, uint8_t flags, uint8_t state,
                                        uint8_t fin, uint8_t owner, uint8_t backup, uint32_t hash,
                                        uint32_t gen, const struct bt_flow_key *k,
                                        uint32_t nat_addr, uint16_t nat_port)
{
    unsigned rl = (flags & GW_SYNC_F_NAT) ? GW_SYNC_REC_NAT_LEN : GW_SYNC_REC_LEN;

    p[0] = type;
    p[1] = (uint8_t)rl;
    p[2] = k->proto;
    p[3] = state;
    p[4] = fin;
    p[5] = flags;
    p[6] = owner;
    p[7] = backup;
    gw_sync_put32(p + 8, hash);
    memcpy(p + 12, k->src, 16);
    memcpy(p + 28, k->dst, 16);
    gw_sync_put16(p + 44, k->sport);
    gw_sync_put16(p + 46, k->dport);
    gw_sync_put32(p + 48, (uint32_t)k->family << 24);   /* family, 3 reserved zeros */
    gw_sync_put32(p + 52, gen);
    if (flags & GW_SYNC_F_NAT) {
        gw_sync_put32(p + 56, nat_addr);
        gw_sync_put32(p + 60, (uint32_t)nat_port << 16);  /* port, 2 reserved zeros */
    }
    return rl;
}

/* Encodes an ACK record at p (GW_SYNC_ACK_LEN bytes). */
static inline unsigned gw_sync_put_ack(uint8_t *p, uint32_t seq, uint32_t bits)
{
    gw_sync_put32(p, (uint32_t)GW_SYNC_ACK << 24 | (uint32_t)GW_SYNC_ACK_LEN << 16);
    gw_sync_put32(p + 4, seq);
    gw_sync_put32(p + 8, bits);
    gw_sync_put32(p + 12, 0);
    return GW_SYNC_ACK_LEN;
}

/* Starts a message in buf (at least GW_SYNC_MTU bytes). Returns the length so far. */
size_t gw_sync_begin(uint8_t *buf, uint8_t from, uint8_t to, uint32_t seq);
/* Appends r (an ACK: its type, ack_seq and ack_bits only); returns the new
 * length, or 0 when it does not fit in GW_SYNC_MTU. */
size_t gw_sync_add(uint8_t *buf, size_t len, const struct gw_sync_rec *r);
/* Writes the final length and record count. */
void gw_sync_end(uint8_t *buf, size_t len, uint16_t nrec);

/* Decodes the header of the message buf[0..len). 0 with *h filled, or
 * -EBADMSG (bad magic, version, length, reserved bits, record count). */
int gw_sync_decode_hdr(const uint8_t *buf, size_t len, struct gw_sync_hdr *h);
/* Decodes the record at *off (starting at GW_SYNC_HDR_LEN) and advances
 * *off. 1 with *r filled, 0 at the end, -EBADMSG on a damaged record (length
 * beyond the message, unknown type or flags, NAT flag and length disagree,
 * bad family, a length not its type's, an ACK naming no record or more than
 * a message holds). */
int gw_sync_decode_rec(const uint8_t *buf, size_t len, size_t *off, struct gw_sync_rec *r);
/* Decodes every record of the message whose header *h decode_hdr gave,
 * into r[0..max). The count, or -EBADMSG (a damaged record, or a count other
 * than h->nrec: what r holds then is not to be used), -EINVAL when max is 0. */
int gw_sync_decode_recs(const uint8_t *buf, size_t len, const struct gw_sync_hdr *h,
                        struct gw_sync_rec *r, unsigned max);
/* Decodes a whole message: header, then every record through fn. Returns the
 * number of records, or -EBADMSG (no record is passed to fn then). */
typedef void (*gw_sync_rec_fn)(void *arg, const struct gw_sync_hdr *h, const struct gw_sync_rec *r);
int gw_sync_decode(const uint8_t *buf, size_t len, gw_sync_rec_fn fn, void *arg);
const char *gw_sync_type_name(enum gw_sync_type t);

#endif
