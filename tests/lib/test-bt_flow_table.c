/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_flow.h"
#include "bt_flow_table.h"

static struct bt_flow_key mk(uint32_t i)
{
    struct bt_flow_key k;
    memset(&k, 0, sizeof(k));
    k.src[10] = k.src[11] = 0xff;
    k.dst[10] = k.dst[11] = 0xff;
    k.src[12] = 10;
    k.src[13] = (uint8_t)(i >> 16);
    k.src[14] = (uint8_t)(i >> 8);
    k.src[15] = (uint8_t)i;
    k.dst[12] = 192;
    k.sport = (uint16_t)(1024 + i % 50000);
    k.dport = 80;
    k.proto = 6;
    k.family = 4;
    return k;
}

TEST(insert_lookup_remove)
{
    struct bt_flowtab *t = bt_flowtab_new(100, sizeof(uint64_t), 0);
    bool created;
    REQUIRE(t);
    for (uint32_t i = 0; i < 100; i++) {
        struct bt_flow_key k = mk(i);
        uint64_t *v = bt_flowtab_insert(t, &k, i, &created);
        REQUIRE(v);
        CHECK(created);
        CHECK_EQ_INT(*v, 0);
        *v = i * 7;
    }
    struct bt_flow_key extra = mk(1000);
    CHECK(bt_flowtab_insert(t, &extra, 0, &created) == NULL); /* full */
    CHECK_EQ_INT(bt_flowtab_count(t), 100);
    for (uint32_t i = 0; i < 100; i++) {
        struct bt_flow_key k = mk(i);
        uint64_t *v = bt_flowtab_lookup(t, &k);
        REQUIRE(v);
        CHECK_EQ_INT(*v, i * 7);
        CHECK(memcmp(bt_flowtab_key(t, v), &k, sizeof(k)) == 0);
        v = bt_flowtab_insert(t, &k, 0, &created);
        CHECK(!created);
    }
    for (uint32_t i = 0; i < 100; i += 2) {
        struct bt_flow_key k = mk(i);
        bt_flowtab_remove(t, bt_flowtab_lookup(t, &k));
    }
    for (uint32_t i = 0; i < 100; i++) {
        struct bt_flow_key k = mk(i);
        uint64_t *v = bt_flowtab_lookup(t, &k);
        if (i % 2)
            CHECK(v && *v == i * 7);
        else
            CHECK(v == NULL);
    }
    CHECK_EQ_INT(bt_flowtab_count(t), 50);
    CHECK(bt_flowtab_entry_bytes(t) > sizeof(struct bt_flow_key));
    bt_flowtab_free(t);
}

static unsigned g_expired;
static uint32_t g_last;
static void on_expire(const struct bt_flow_key *k, void *v, void *arg)
{
    (void)k; (void)arg;
    g_last = (uint32_t)*(uint64_t *)v;
    g_expired++;
}

TEST(idle_expiry_oldest_first_and_touch_keeps_alive)
{
    struct bt_flowtab *t = bt_flowtab_new(16, sizeof(uint64_t), 1000);
    for (uint32_t i = 0; i < 10; i++) {
        struct bt_flow_key k = mk(i);
        *(uint64_t *)bt_flowtab_insert(t, &k, i * 100, NULL) = i;
    }
    struct bt_flow_key k3 = mk(3);
    bt_flowtab_touch(t, bt_flowtab_lookup(t, &k3), 5000);
    g_expired = 0;
    /* at 1450: entries used before 450 expire: 0..4 but 3 was touched */
    CHECK_EQ_INT(bt_flowtab_expire(t, 1450, on_expire, NULL, 0), 4);
    CHECK_EQ_INT(g_expired, 4);
    CHECK(bt_flowtab_lookup(t, &k3) != NULL);
    CHECK_EQ_INT(bt_flowtab_expire(t, 3000, on_expire, NULL, 2), 2); /* max */
    CHECK_EQ_INT(bt_flowtab_expire(t, 3000, on_expire, NULL, 0), 3);
    CHECK_EQ_INT(g_last, 9);
    CHECK_EQ_INT(bt_flowtab_count(t), 1);
    CHECK_EQ_INT(bt_flowtab_expire(t, 6001, on_expire, NULL, 0), 1);
    CHECK_EQ_INT(bt_flowtab_count(t), 0);
    bt_flowtab_free(t);
}

/* Random operations against a naive array model: exercises probe chains and
 * backward-shift deletion in a table kept near its maximum load. */
TEST(random_against_naive_model)
{
    enum { N = 4000, CAP = 1000 };
    static int present[N];
    static uint64_t val[N];
    struct bt_flowtab *t = bt_flowtab_new(CAP, sizeof(uint64_t), 0);
    uint64_t x = 1234567;
    unsigned count = 0;
    memset(present, 0, sizeof(present));
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint32_t i = (uint32_t)(x % N);
        struct bt_flow_key k = mk(i);
        uint64_t *v = bt_flowtab_lookup(t, &k);
        CHECK_EQ_INT(v != NULL, present[i]);
        if (v)
            CHECK_EQ_INT(*v, val[i]);
        if (present[i] && (x >> 33) % 2) {
            bt_flowtab_remove(t, v);
            present[i] = 0;
            count--;
        } else if (!present[i]) {
            bool c;
            v = bt_flowtab_insert(t, &k, 0, &c);
            if (count == CAP) {
                CHECK(v == NULL);
            } else {
                REQUIRE(v && c);
                val[i] = x;
                *v = x;
                present[i] = 1;
                count++;
            }
        }
        if (bt_test_failed)
            break;
    }
    CHECK_EQ_INT(bt_flowtab_count(t), count);
    bt_flowtab_free(t);
}

TEST(bad_parameters)
{
    CHECK(bt_flowtab_new(0, 8, 0) == NULL);
}

TEST(growable_table_keeps_every_entry_across_growth)
{
    struct bt_flowtab *t = bt_flowtab_new_growable(4, 5000, sizeof(uint64_t), 1000000);
    REQUIRE(t);
    for (uint32_t i = 0; i < 5000; i++) {
        struct bt_flow_key k = mk(i);
        uint64_t *v = bt_flowtab_insert(t, &k, i, NULL);
        REQUIRE(v);
        *v = i * 3;
    }
    CHECK_EQ_INT(bt_flowtab_capacity(t), 5000);
    struct bt_flow_key k = mk(99999);
    CHECK(bt_flowtab_insert(t, &k, 0, NULL) == NULL); /* at its maximum */
    for (uint32_t i = 0; i < 5000; i++) {
        struct bt_flow_key kk = mk(i);
        uint64_t *v = bt_flowtab_lookup(t, &kk);
        REQUIRE(v);
        CHECK_EQ_INT(*v, i * 3);
    }
    /* LRU order survived the moves: the oldest expire first */
    g_expired = 0;
    CHECK_EQ_INT(bt_flowtab_expire(t, 1000000 + 100, on_expire, NULL, 0), 100);
    CHECK_EQ_INT(g_last, 99 * 3);
    CHECK(bt_flowtab_new_growable(0, 10, 8, 0) == NULL);
    CHECK(bt_flowtab_new_growable(10, 5, 8, 0) == NULL);
    bt_flowtab_free(t);
}
