/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_pkt.h"

/* (the hot path of a module allocates nothing after its constructor:
 * bt_allocs before and after) */
#include "bt_alloc_count.h"

TEST(pool_hands_out_every_buffer_once_then_runs_dry)
{
    struct bt_pktpool *p = bt_pktpool_new(8, 64);
    struct bt_pkt *k[8];
    REQUIRE(p);
    CHECK_EQ_INT(bt_pktpool_size(p), 8);
    for (int i = 0; i < 8; i++) {
        k[i] = bt_pkt_alloc(p);
        REQUIRE(k[i]);
        CHECK_EQ_INT(k[i]->cap, 64);
        for (int j = 0; j < i; j++)
            CHECK(k[i]->data != k[j]->data);
    }
    CHECK(bt_pkt_alloc(p) == NULL);
    CHECK_EQ_INT(bt_pktpool_avail(p), 0);
    for (int i = 0; i < 8; i++)
        bt_pkt_free(k[i]);
    CHECK_EQ_INT(bt_pktpool_avail(p), 8);
    bt_pkt_free(NULL);
    CHECK(bt_pktpool_free(p) == NULL);
    CHECK(bt_pktpool_free(NULL) == NULL);
}

TEST(copy_truncates_to_buffer_and_clone_keeps_metadata)
{
    struct bt_pktpool *p = bt_pktpool_new(4, 16);
    uint8_t src[32];
    REQUIRE(p);
    for (int i = 0; i < 32; i++)
        src[i] = (uint8_t)i;
    struct bt_pkt *a = bt_pkt_copy(p, src, 32, 32, 123);
    REQUIRE(a);
    CHECK_EQ_INT(a->len, 16);
    CHECK_EQ_INT(a->wire_len, 32);
    CHECK_EQ_INT(a->ts_ns, 123);
    CHECK(memcmp(a->data, src, 16) == 0);
    a->port = 1;
    a->flags = BT_PKT_F_SERVER;
    a->meta = 99;
    struct bt_pkt *b = bt_pkt_clone(p, a);
    REQUIRE(b);
    CHECK(b->data != a->data);
    CHECK(memcmp(b->data, a->data, 16) == 0);
    CHECK_EQ_INT(b->port, 1);
    CHECK_EQ_INT(b->flags, BT_PKT_F_SERVER);
    CHECK_EQ_INT(b->meta, 99);
    /* a fresh allocation is reset, even when it reuses a freed descriptor */
    bt_pkt_free(a);
    struct bt_pkt *c = bt_pkt_alloc(p);
    REQUIRE(c);
    CHECK_EQ_INT(c->port, 0);
    CHECK_EQ_INT(c->meta, 0);
    CHECK_EQ_INT(c->len, 0);
    bt_pkt_free(b);
    bt_pkt_free(c);
    CHECK_EQ_INT(bt_pktpool_avail(p), 4);
    bt_pktpool_free(p);
}

TEST(bad_sizes_give_null)
{
    CHECK(bt_pktpool_new(0, 64) == NULL);
    CHECK(bt_pktpool_new(4, 0) == NULL);
}

/* Random allocs and frees against a model of who holds what: every held
 * packet's buffer keeps the bytes written into it (no two held packets
 * share memory), avail matches, the pool never hands out more than it has,
 * and nothing is allocated after bt_pktpool_new. */
TEST(random_alloc_free_no_overlap_no_malloc)
{
    enum { N = 64, SZ = 96 };
    unsigned long at_new = bt_allocs;
    struct bt_pktpool *p = bt_pktpool_new(N, SZ);
    struct bt_pkt *held[N];
    CHECK(bt_allocs > at_new); /* the counter sees libbaton's allocations */
    unsigned nheld = 0, dry = 0;
    uint64_t x = 0x1234567887654321ULL;
    REQUIRE(p);
    unsigned long before = bt_allocs;
    for (int step = 0; step < 100000 && !bt_test_failed; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        if ((x & 1) && nheld > 0) {
            unsigned i = (unsigned)((x >> 8) % nheld);
            struct bt_pkt *k = held[i];
            uint8_t tag = (uint8_t)k->meta;
            for (unsigned b = 0; b < SZ; b++)
                if (k->data[b] != tag) {
                    BT_FAIL_AT("step %d: buffer of held packet changed at byte %u", step, b);
                    break;
                }
            bt_pkt_free(k);
            held[i] = held[--nheld];
        } else {
            struct bt_pkt *k = (x >> 9) % 2 ? bt_pkt_alloc(p)
                                             : bt_pkt_copy(p, (const uint8_t *)"abc", 3, 60, 5);
            if (nheld == N) {
                CHECK(k == NULL);
                dry++;
                continue;
            }
            REQUIRE(k);
            CHECK(k->pool == p && k->cap == SZ);
            k->meta = (uint8_t)(x >> 16);
            memset(k->data, (uint8_t)k->meta, SZ);
            held[nheld++] = k;
        }
        CHECK_EQ_INT(bt_pktpool_avail(p), N - nheld);
    }
    CHECK_EQ_INT(bt_allocs - before, 0);
    CHECK(dry > 10); /* the pool ran dry and recovered */
    while (nheld)
        bt_pkt_free(held[--nheld]);
    CHECK_EQ_INT(bt_pktpool_avail(p), N);
    bt_pktpool_free(p);
}
