/* SPDX-License-Identifier: BSD-3-Clause */
/* HyperSync messages (version 2): round trip, the ACK of a whole message,
 * and every damaged field rejected. */
#include <errno.h>

#include "bt_test.h"
#include "gw_sync.h"

static void rec(struct gw_sync_rec *r, uint8_t type, int nat, int i)
{
    memset(r, 0, sizeof(*r));
    r->type = type;
    r->key.proto = 6;
    r->state = 3;
    r->fin = 1;
    r->flags = GW_SYNC_F_CLIENT_SRC | (nat ? GW_SYNC_F_NAT : 0);
    r->owner = 2;
    r->backup = 3;
    r->key.family = 4;
    r->hash = 0xdeadbeef + (uint32_t)i;
    r->key.src[10] = r->key.src[11] = 0xff;
    r->key.src[15] = (uint8_t)i;
    r->key.dst[15] = 9;
    r->key.sport = (uint16_t)(1000 + i);
    r->key.dport = 80;
    r->gen = 0xfedcba00U + (uint32_t)i;
    if (nat) {
        r->nat_addr = 0xc6336401;
        r->nat_port = 4242;
    }
}

static unsigned seen;
static struct gw_sync_rec last;
static void count(void *arg, const struct gw_sync_hdr *h, const struct gw_sync_rec *r)
{
    (void)arg;
    (void)h;
    seen++;
    last = *r;
}

static size_t build(uint8_t *buf, unsigned n)
{
    size_t len = gw_sync_begin(buf, 2, 3, 77);
    struct gw_sync_rec r;
    for (unsigned i = 0; i < n; i++) {
        rec(&r, GW_SYNC_CREATE, i & 1, (int)i);
        len = gw_sync_add(buf, len, &r);
    }
    gw_sync_end(buf, len, (uint16_t)n);
    return len;
}

TEST(round_trip)
{
    uint8_t buf[GW_SYNC_MTU];
    struct gw_sync_hdr h;
    struct gw_sync_rec r, want;
    size_t len = build(buf, 3), off = GW_SYNC_HDR_LEN;

    CHECK_EQ_INT(len, GW_SYNC_HDR_LEN + GW_SYNC_REC_LEN * 2 + GW_SYNC_REC_NAT_LEN);
    REQUIRE(gw_sync_decode_hdr(buf, len, &h) == 0);
    CHECK_EQ_INT(h.version, 2);
    CHECK_EQ_INT(h.from, 2);
    CHECK_EQ_INT(h.to, 3);
    CHECK_EQ_INT(h.seq, 77);
    CHECK_EQ_INT(h.nrec, 3);
    CHECK_EQ_INT(h.key_id, 0);
    for (int i = 0; i < 3; i++) {
        REQUIRE(gw_sync_decode_rec(buf, len, &off, &r) == 1);
        rec(&want, GW_SYNC_CREATE, i & 1, i);
        CHECK(memcmp(&r, &want, sizeof(r)) == 0);
    }
    CHECK_EQ_INT(gw_sync_decode_rec(buf, len, &off, &r), 0);
    /* the generation: big-endian at record offset 52 */
    CHECK_EQ_INT(buf[GW_SYNC_HDR_LEN + 52], 0xfe);
    CHECK_EQ_INT(buf[GW_SYNC_HDR_LEN + 55], 0x00);
    CHECK_EQ_INT(buf[GW_SYNC_HDR_LEN + GW_SYNC_REC_LEN + 55], 0x01);
    seen = 0;
    CHECK_EQ_INT(gw_sync_decode(buf, len, count, NULL), 3);
    CHECK_EQ_INT(seen, 3);
    CHECK_EQ_INT(last.nat_port, 0);
    CHECK_EQ_STR(gw_sync_type_name(GW_SYNC_BULK), "bulk");
}

TEST(fills_to_the_mtu)
{
    uint8_t buf[GW_SYNC_MTU];
    struct gw_sync_rec r;
    size_t len = gw_sync_begin(buf, 1, 2, 0), nl;
    unsigned n = 0;
    rec(&r, GW_SYNC_UPDATE, 1, 0);
    while ((nl = gw_sync_add(buf, len, &r)))
        len = nl, n++;
    CHECK_EQ_INT(n, (GW_SYNC_MTU - GW_SYNC_HDR_LEN) / GW_SYNC_REC_NAT_LEN);
    gw_sync_end(buf, len, (uint16_t)n);
    CHECK_EQ_INT(gw_sync_decode(buf, len, NULL, NULL), (int)n);
}

/* Each damage on its own is rejected, and nothing reaches the callback. */
TEST(damaged_messages_rejected)
{
    uint8_t good[GW_SYNC_MTU], buf[GW_SYNC_MTU];
    size_t len = build(good, 2);
    struct {
        const char *what;
        size_t off;
        uint8_t val;
        size_t len;  /* 0: unchanged */
    } cases[] = {
        {"magic", 0, 'X', 0},
        {"version 1 (its ACK was a connection record)", 4, 1, 0},
        {"version 3", 4, 3, 0},
        {"flags (MAC present) unknown to v1", 5, 1, 0},
        {"length field", 7, 0x10, 0},
        {"from 0", 8, 0, 0},
        {"to 65", 9, 65, 0},
        {"from == to", 9, 2, 0},
        {"key id", 11, 1, 0},
        {"record count", 17, 3, 0},
        {"reserved", 19, 1, 0},
        {"mac", 25, 1, 0},
        {"record type 0", 36, 0, 0},
        {"type ACK with a connection record's length", 36, GW_SYNC_ACK, 0},
        {"record type 6", 36, 6, 0},
        {"record length", 37, 60, 0},
        {"record flag unknown", 41, 0x80, 0},
        {"NAT flag without NAT length", 41, GW_SYNC_F_CLIENT_SRC | GW_SYNC_F_NAT, 0},
        {"family 5", 36 + 48, 5, 0},
        {"record reserved (first byte)", 36 + 49, 1, 0},
        {"record reserved", 36 + 50, 1, 0},
        {"record reserved (last byte)", 36 + 51, 1, 0},
        {"NAT extension reserved", 36 + 56 + 62, 1, 0},
        {"owner 65", 42, 65, 0},
        {"truncated", 0, 0, 1},
        {"short header", 0, 0, 20},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t l = len;
        memcpy(buf, good, len);
        if (cases[i].len == 1)
            l = len - 5;
        else if (cases[i].len)
            l = cases[i].len;
        else
            buf[cases[i].off] = cases[i].val;
        seen = 0;
        if (gw_sync_decode(buf, l, count, NULL) != -EBADMSG || seen != 0)
            fprintf(stderr, "accepted: %s\n", cases[i].what), bt_test_failed = 1;
    }
    /* and the untouched message still decodes (the cases damage it, not the test) */
    CHECK_EQ_INT(gw_sync_decode(good, len, NULL, NULL), 2);
}

/* The records of a message into the caller's array, the header decoded once. */
TEST(decode_recs_into_an_array)
{
    uint8_t buf[GW_SYNC_MTU];
    struct gw_sync_hdr h;
    struct gw_sync_rec r[GW_SYNC_MAXREC], want;
    size_t len = build(buf, 3);

    memset(r, 0, sizeof(r));   /* the padding, which the decoder leaves */
    REQUIRE(gw_sync_decode_hdr(buf, len, &h) == 0);
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, GW_SYNC_MAXREC), 3);
    for (int i = 0; i < 3; i++) {
        rec(&want, GW_SYNC_CREATE, i & 1, i);
        CHECK(memcmp(&r[i], &want, sizeof(want)) == 0);
    }
    /* fewer places than records, no place, a count the header does not say */
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, 2), -EBADMSG);
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, 0), -EINVAL);
    h.nrec = 2;
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, GW_SYNC_MAXREC), -EBADMSG);
    /* a full message of the smallest connection records fits GW_SYNC_MAXCONN */
    len = gw_sync_begin(buf, 1, 2, 0);
    unsigned n = 0;
    size_t nl;
    rec(&want, GW_SYNC_UPDATE, 0, 0);
    while ((nl = gw_sync_add(buf, len, &want)))
        len = nl, n++;
    gw_sync_end(buf, len, (uint16_t)n);
    CHECK_EQ_INT(n, GW_SYNC_MAXCONN);
    REQUIRE(gw_sync_decode_hdr(buf, len, &h) == 0);
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, GW_SYNC_MAXREC), (int)n);
    /* and one of ACKs, the smallest records of all, fits GW_SYNC_MAXREC */
    len = gw_sync_begin(buf, 1, 2, 0);
    n = 0;
    memset(&want, 0, sizeof(want));
    want.type = GW_SYNC_ACK;
    want.ack_bits = 1;
    while ((nl = gw_sync_add(buf, len, &want)))
        len = nl, n++, want.ack_seq++;
    gw_sync_end(buf, len, (uint16_t)n);
    CHECK_EQ_INT(n, GW_SYNC_MAXREC);
    CHECK(GW_SYNC_MAXREC > GW_SYNC_MAXCONN);
    REQUIRE(gw_sync_decode_hdr(buf, len, &h) == 0);
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, GW_SYNC_MAXREC), (int)n);
    CHECK_EQ_INT(r[n - 1].ack_seq, n - 1);
}

/* An ACK record acknowledges a whole message: its 16 bytes, on the wire as
 * docs/formats.md section 4 says, among connection records. */
TEST(ack_record_round_trip_and_wire_layout)
{
    uint8_t buf[GW_SYNC_MTU];
    struct gw_sync_hdr h;
    struct gw_sync_rec r[GW_SYNC_MAXREC], ack, c;
    size_t len = gw_sync_begin(buf, 3, 1, 5);

    memset(&ack, 0, sizeof(ack));
    ack.type = GW_SYNC_ACK;
    ack.ack_seq = 0x01020304;
    ack.ack_bits = 0x00800005;   /* records 0, 2 and 23 */
    rec(&c, GW_SYNC_UPDATE, 0, 1);
    len = gw_sync_add(buf, len, &ack);
    CHECK_EQ_INT(len, GW_SYNC_HDR_LEN + GW_SYNC_ACK_LEN);
    len = gw_sync_add(buf, len, &c);
    gw_sync_end(buf, len, 2);
    static const uint8_t wire[16] = {4, 16, 0, 0, 1, 2, 3, 4, 0, 0x80, 0, 5, 0, 0, 0, 0};
    CHECK(memcmp(buf + GW_SYNC_HDR_LEN, wire, 16) == 0);
    REQUIRE(gw_sync_decode_hdr(buf, len, &h) == 0);
    CHECK_EQ_INT(h.version, GW_SYNC_VERSION);
    CHECK_EQ_INT(gw_sync_decode_recs(buf, len, &h, r, GW_SYNC_MAXREC), 2);
    CHECK_EQ_INT(r[0].type, GW_SYNC_ACK);
    CHECK_EQ_INT(r[0].ack_seq, 0x01020304);
    CHECK_EQ_INT(r[0].ack_bits, 0x00800005);
    CHECK_EQ_INT(r[1].type, GW_SYNC_UPDATE);
    CHECK_EQ_INT(r[1].key.sport, c.key.sport);
    CHECK_EQ_INT(r[1].ack_bits, 0);
    CHECK_EQ_STR(gw_sync_type_name(GW_SYNC_ACK), "ack");
}

/* Each damage of an ACK record on its own is rejected whole. */
TEST(damaged_ack_records_rejected)
{
    uint8_t good[GW_SYNC_MTU], buf[GW_SYNC_MTU];
    struct gw_sync_rec ack;
    size_t len = gw_sync_begin(good, 3, 1, 5);

    memset(&ack, 0, sizeof(ack));
    ack.type = GW_SYNC_ACK;
    ack.ack_seq = 9;
    ack.ack_bits = 3;
    len = gw_sync_add(good, len, &ack);
    gw_sync_end(good, len, 1);
    REQUIRE(gw_sync_decode(good, len, NULL, NULL) == 1);
    const size_t a = GW_SYNC_HDR_LEN;
    struct {
        const char *what;
        size_t off;
        uint8_t val;
    } cases[] = {
        {"length 56 (version 1's ACK)", a + 1, 56},
        {"length 15", a + 1, 15},
        {"reserved byte 2", a + 2, 1},
        {"reserved byte 3", a + 3, 1},
        {"no record named (bits 0)", a + 11, 0},
        {"a record past what a message holds (bit 24)", a + 8, 1},
        {"a record past what a message holds (bit 31)", a + 8, 0x80},
        {"reserved byte 12", a + 12, 1},
        {"reserved byte 15", a + 15, 1},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(buf, good, len);
        buf[cases[i].off] = cases[i].val;
        seen = 0;
        if (gw_sync_decode(buf, len, count, NULL) != -EBADMSG || seen != 0)
            fprintf(stderr, "accepted: %s\n", cases[i].what), bt_test_failed = 1;
    }
    /* an ACK cut short, and a count the length cannot hold */
    CHECK_EQ_INT(gw_sync_decode(good, len - 1, NULL, NULL), -EBADMSG);
    memcpy(buf, good, len);
    buf[17] = 2;
    CHECK_EQ_INT(gw_sync_decode(buf, len, NULL, NULL), -EBADMSG);
}

/* The header decoder against the layout of docs/formats.md section 4, bit
 * by bit: every single-bit flip of the magic, version, flags, length, key
 * id, bytes 18-19 and the MAC is rejected; flips of from/to are rejected
 * exactly when the id leaves 1..64 or equals the other; the sequence number
 * reads back whatever was written; a record count the length cannot hold is
 * rejected. */
TEST(header_fields_bit_by_bit)
{
    uint8_t good[GW_SYNC_MTU], buf[GW_SYNC_MTU];
    struct gw_sync_hdr h;
    size_t len = build(good, 2);

    REQUIRE(gw_sync_decode_hdr(good, len, &h) == 0);
    CHECK_EQ_INT(h.version, GW_SYNC_VERSION);
    CHECK_EQ_INT(h.len, len);
    CHECK_EQ_INT(h.from, 2);
    CHECK_EQ_INT(h.to, 3);
    CHECK_EQ_INT(h.seq, 77);
    CHECK_EQ_INT(h.nrec, 2);
    for (unsigned byte = 0; byte < GW_SYNC_HDR_LEN; byte++)
        for (unsigned bit = 0; bit < 8; bit++) {
            int rc, want;
            memcpy(buf, good, len);
            buf[byte] ^= (uint8_t)(1U << bit);
            rc = gw_sync_decode_hdr(buf, len, &h);
            if (byte == 8 || byte == 9) {
                unsigned id = buf[byte], other = buf[byte == 8 ? 9 : 8];
                want = id >= 1 && id <= 64 && id != other ? 0 : -EBADMSG;
                if (rc == 0)
                    CHECK_EQ_INT(byte == 8 ? h.from : h.to, id);
            } else if (byte >= 12 && byte < 16) {
                want = 0;
                if (rc == 0)
                    CHECK_EQ_INT(h.seq, 77U ^ (1U << (bit + 8 * (15 - byte))));
            } else if (byte == 16 || byte == 17) {
                unsigned n = (unsigned)buf[16] << 8 | buf[17];
                want = n * GW_SYNC_ACK_LEN <= len - GW_SYNC_HDR_LEN &&
                       n * GW_SYNC_REC_NAT_LEN >= len - GW_SYNC_HDR_LEN ? 0 : -EBADMSG;
            } else {
                want = -EBADMSG;
            }
            if (rc != want) {
                fprintf(stderr, "byte %u bit %u: %d, want %d\n", byte, bit, rc, want);
                bt_test_failed = 1;
            }
        }
    /* a length beyond what the buffer holds, or below a header */
    CHECK_EQ_INT(gw_sync_decode_hdr(good, len - 1, &h), -EBADMSG);
    CHECK_EQ_INT(gw_sync_decode_hdr(good, GW_SYNC_HDR_LEN - 1, &h), -EBADMSG);
}
