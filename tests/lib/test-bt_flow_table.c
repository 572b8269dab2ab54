/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_flow.h"
#include "bt_flow_table.h"

/* (the hot path of a module allocates nothing after its constructor:
 * bt_allocs before and after) */
#include "bt_alloc_count.h"

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

/* The hashed calls equal the plain ones, prefetch hints change nothing
 * (any hash, any stage, on full and empty slots), and a table whose entry
 * numbers leave a single tag bit (max capacity 2^30) still finds every key. */
TEST(hashed_calls_prefetch_and_narrow_tags)
{
    for (int narrow = 0; narrow < 2; narrow++) {
        struct bt_flowtab *t = bt_flowtab_new_growable(16, narrow ? (1u << 30) : 4096, 8, 0);
        REQUIRE(t);
        for (uint32_t i = 0; i < 3000; i++) {
            struct bt_flow_key k = mk(i);
            uint64_t h = bt_flowtab_hash(&k);
            for (int st = 0; st < 3; st++) {
                bt_flowtab_prefetch(t, h, st);
                bt_flowtab_prefetch(t, h ^ 0x5555, st);
            }
            CHECK(bt_flowtab_lookup_hashed(t, &k, h) == NULL);
            bool created;
            uint64_t *v = bt_flowtab_insert_hashed(t, &k, h, i, &created);
            REQUIRE(v);
            CHECK(created);
            *v = i;
        }
        CHECK_EQ_INT(bt_flowtab_count(t), 3000);
        for (uint32_t i = 0; i < 3000; i++) {
            struct bt_flow_key k = mk(i);
            uint64_t *a = bt_flowtab_lookup(t, &k), *b = bt_flowtab_lookup_hashed(t, &k, bt_flowtab_hash(&k));
            REQUIRE(a && a == b);
            CHECK(*a == i);
            if (i % 3 == 0)
                bt_flowtab_remove(t, a);
        }
        for (uint32_t i = 0; i < 3000; i++) {
            struct bt_flow_key k = mk(i);
            uint64_t *a = bt_flowtab_lookup(t, &k);
            CHECK((a == NULL) == (i % 3 == 0));
            if (a)
                CHECK(*a == i);
        }
        bt_flowtab_free(t);
    }
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

/* Random inserts, touches, removes and expiries on a clock that moves
 * forward, against a model that keeps each key's value, last use and touch
 * order: lookups, the expiry callbacks (which keys, in which order), counts
 * and foreach must agree at every step. */
enum { RN = 2000, RCAP = 600 };
static int r_present[RN];
static uint64_t r_val[RN], r_last[RN], r_seq[RN];
static int r_expired[RN];
static unsigned r_nexpired, r_seen;

static uint32_t key_index(const struct bt_flow_key *k)
{
    return (uint32_t)k->src[13] << 16 | (uint32_t)k->src[14] << 8 | k->src[15];
}

static void r_on_expire(const struct bt_flow_key *k, void *v, void *arg)
{
    (void)arg;
    uint32_t i = key_index(k);
    CHECK_EQ_INT(*(uint64_t *)v, r_val[i]);
    r_expired[r_nexpired++] = (int)i;
}

static void r_on_each(const struct bt_flow_key *k, void *v, void *arg)
{
    (void)arg;
    uint32_t i = key_index(k);
    CHECK(r_present[i]);
    CHECK_EQ_INT(*(uint64_t *)v, r_val[i]);
    r_seen++;
}

TEST(random_with_expiry_against_model)
{
    const uint64_t idle = 5000;
    for (int growable = 0; growable <= 1; growable++) {
        struct bt_flowtab *t = growable ? bt_flowtab_new_growable(8, RCAP, sizeof(uint64_t), idle)
                                        : bt_flowtab_new(RCAP, sizeof(uint64_t), idle);
        uint64_t x = 0xdeadbeef12345ULL + (uint64_t)growable, now = 0, seq = 0;
        unsigned count = 0, total_expired = 0;
        REQUIRE(t);
        memset(r_present, 0, sizeof(r_present));
        for (int step = 0; step < 100000 && !bt_test_failed; step++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            uint32_t i = (uint32_t)(x % RN);
            struct bt_flow_key k = mk(i);
            now += (x >> 40) % 8;
            switch ((x >> 20) % 8) {
            case 0: case 1: case 2: { /* insert (or touch an existing one) */
                bool c;
                uint64_t *v = bt_flowtab_insert(t, &k, now, &c);
                if (!r_present[i] && count == RCAP) {
                    CHECK(v == NULL);
                    break;
                }
                REQUIRE(v);
                CHECK_EQ_INT(c, !r_present[i]);
                if (c) {
                    r_present[i] = 1;
                    r_val[i] = x;
                    *v = x;
                    count++;
                }
                CHECK_EQ_INT(*v, r_val[i]);
                r_last[i] = now;
                r_seq[i] = seq++;
                break;
            }
            case 3: { /* touch */
                uint64_t *v = bt_flowtab_lookup(t, &k);
                CHECK_EQ_INT(v != NULL, r_present[i]);
                if (v) {
                    bt_flowtab_touch(t, v, now);
                    r_last[i] = now;
                    r_seq[i] = seq++;
                }
                break;
            }
            case 4: { /* remove */
                uint64_t *v = bt_flowtab_lookup(t, &k);
                CHECK_EQ_INT(v != NULL, r_present[i]);
                if (v) {
                    bt_flowtab_remove(t, v);
                    r_present[i] = 0;
                    count--;
                }
                break;
            }
            case 5: { /* expire, sometimes bounded */
                unsigned max = (x >> 50) % 2 ? (unsigned)(x >> 56) % 5 : 0;
                r_nexpired = 0;
                unsigned n = bt_flowtab_expire(t, now, r_on_expire, NULL, max);
                CHECK_EQ_INT(n, r_nexpired);
                /* model: least recently touched first, while idle too long */
                unsigned k2;
                for (k2 = 0; max == 0 || k2 < max; k2++) {
                    int oldest = -1;
                    for (int j = 0; j < RN; j++)
                        if (r_present[j] && (oldest < 0 || r_seq[j] < r_seq[oldest]))
                            oldest = j;
                    if (oldest < 0 || now < idle || r_last[oldest] >= now - idle)
                        break;
                    if (k2 >= n || r_expired[k2] != oldest) {
                        BT_FAIL_AT("step %d: expiry #%u: expected key %d", step, k2, oldest);
                        break;
                    }
                    r_present[oldest] = 0;
                    count--;
                }
                CHECK_EQ_INT(k2, n);
                total_expired += n;
                break;
            }
            default: { /* lookup */
                uint64_t *v = bt_flowtab_lookup(t, &k);
                CHECK_EQ_INT(v != NULL, r_present[i]);
                if (v)
                    CHECK_EQ_INT(*v, r_val[i]);
            }
            }
            CHECK_EQ_INT(bt_flowtab_count(t), count);
            if (step % 10000 == 0) {
                r_seen = 0;
                bt_flowtab_foreach(t, r_on_each, NULL);
                CHECK_EQ_INT(r_seen, count);
            }
        }
        CHECK(total_expired > 1000); /* expiry was exercised */
        bt_flowtab_free(t);
    }
}

TEST(entry_bytes_are_small)
{
    /* the per-flow state figures quote this: header (key, LRU links, last
     * use) plus the value, plus the index share (<= 4 slots of 4 bytes) */
    struct bt_flowtab *t = bt_flowtab_new(1u << 16, 16, 0);
    REQUIRE(t);
    uint32_t b = bt_flowtab_entry_bytes(t);
    fprintf(stderr, "entry bytes with a 16-byte value: %u\n", b);
    CHECK(b >= 40 + 16 + 8);
    CHECK(b <= 96);
    bt_flowtab_free(t);
}

TEST(fixed_table_allocates_nothing_after_new)
{
    unsigned long at_new = bt_allocs;
    struct bt_flowtab *t = bt_flowtab_new(512, 24, 100);
    REQUIRE(t);
    CHECK(bt_allocs > at_new); /* the counter sees libbaton's allocations */
    unsigned long before = bt_allocs;
    for (uint32_t round = 0; round < 20; round++) {
        for (uint32_t i = 0; i < 600; i++) { /* past capacity: inserts fail */
            struct bt_flow_key k = mk(round * 1000 + i);
            void *v = bt_flowtab_insert(t, &k, round * 1000 + i, NULL);
            if (v && i % 3 == 0)
                bt_flowtab_remove(t, v);
        }
        bt_flowtab_expire(t, round * 1000 + 2000, NULL, NULL, 0);
    }
    CHECK_EQ_INT(bt_allocs - before, 0);
    bt_flowtab_free(t);
}
