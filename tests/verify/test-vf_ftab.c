/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vf_ftab against a plain model (an array in insertion order): random
 * inserts, lookups and removals across growth, keys that collide in the
 * index, the full table, and the iteration order, which must be insertion
 * order as lib/bt_flow_table's is for a table that is never touched.
 */
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "vf_ftab.h"

static struct bt_flow_key key_of(uint32_t n)
{
    struct bt_flow_key k;

    memset(&k, 0, sizeof(k));
    k.src[10] = k.src[11] = 0xff;
    memcpy(k.src + 12, &n, 4);
    k.dst[10] = k.dst[11] = 0xff;
    k.dst[15] = 1;
    k.sport = (uint16_t)(n * 7);
    k.dport = 80;
    k.proto = 6;
    k.family = 4;
    return k;
}

struct order {
    uint32_t seen[4096];
    unsigned n;
};

static void collect(const struct bt_flow_key *k, void *v, void *arg)
{
    struct order *o = arg;
    uint32_t id;

    memcpy(&id, k->src + 12, 4);
    if (o->n < 4096)
        o->seen[o->n++] = id;
    CHECK(*(uint32_t *)v == id);
}

TEST(random_operations_match_a_model)
{
    struct vf_ftab *t = vf_ftab_new(4, 1u << 16, 16, 12);
    static uint32_t live[4096];   /* the model: ids in insertion order */
    static uint8_t in[20000];
    /* hints taken at random earlier steps, across removals, reuse of
     * entries by other keys and growth: a lookup with any of them (its own
     * key's or another's) finds what a plain lookup finds */
    static const void *hint[20000];
    unsigned nlive = 0, hinted = 0;
    uint32_t seed = 7;
    REQUIRE(t);
    for (int step = 0; step < 60000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t id = (seed >> 8) % 20000;
        struct bt_flow_key k = key_of(id);
        uint64_t h = vf_ftab_hash(&k);
        vf_ftab_prefetch(t, h, 0);
        vf_ftab_prefetch(t, h, 1);
        uint32_t *v = vf_ftab_lookup(t, &k, h);
        CHECK((v != NULL) == (in[id] != 0));
        CHECK(vf_ftab_lookup_hinted(t, &k, h, hint[id]) == (void *)v);
        CHECK(vf_ftab_lookup_hinted(t, &k, h, hint[(id * 7 + 1) % 20000]) == (void *)v);
        if (v && hint[id] && vf_ftab_lookup_hinted(t, &k, h, hint[id]) ==
                                  (uint8_t *)(uintptr_t)hint[id] + sizeof(struct bt_flow_key))
            hinted++;
        if (seed & 0x40000)
            hint[id] = vf_ftab_prefetch_entry(t, h);
        if (!v && nlive < 4096 && (seed & 0x10000)) {
            v = vf_ftab_insert(t, &k, h);
            REQUIRE(v);
            CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0);  /* zeroed */
            uint32_t *c = vf_ftab_cold(t, v);
            CHECK(c[0] == 0 && c[1] == 0 && c[2] == 0);
            v[0] = id;
            c[0] = ~id;
            c[2] = id;
            in[id] = 1;
            live[nlive++] = id;
        } else if (v) {
            CHECK(*v == id);
            uint32_t *c = vf_ftab_cold(t, v);
            CHECK(c[0] == ~id && c[2] == id);
            if (seed & 0x20000) {
                vf_ftab_remove(t, v);
                in[id] = 0;
                unsigned j = 0;
                while (live[j] != id)
                    j++;
                memmove(live + j, live + j + 1, (nlive - j - 1) * sizeof(*live));
                nlive--;
                CHECK(vf_ftab_lookup(t, &k, h) == NULL);
                /* a hint to the entry just removed, whose bytes are still there */
                CHECK(vf_ftab_lookup_hinted(t, &k, h, (uint8_t *)v - sizeof(k)) == NULL);
            }
        }
    }
    CHECK_EQ_INT(vf_ftab_count(t), nlive);
    CHECK(nlive > 1000);
    CHECK(hinted > 1000);  /* the hints were taken, not all NULL */
    struct order o = {.n = 0};
    vf_ftab_foreach(t, collect, &o);
    REQUIRE(o.n == nlive);
    CHECK(memcmp(o.seen, live, nlive * sizeof(*live)) == 0);
    /* every id the model holds is found, none other */
    for (uint32_t id = 0; id < 20000; id++) {
        struct bt_flow_key k = key_of(id);
        CHECK((vf_ftab_lookup(t, &k, vf_ftab_hash(&k)) != NULL) == (in[id] != 0));
    }
    vf_ftab_free(t);
}

/* The same operations on lib/bt_flow_table (never touched, no expiry)
 * iterate in the same order: verify's results do not depend on the table. */
TEST(iterates_as_bt_flow_table_does)
{
    struct vf_ftab *t = vf_ftab_new(8, 1024, 8, 0);
    struct bt_flowtab *b = bt_flowtab_new_growable(8, 1024, 8, 0);
    struct order ot = {.n = 0}, ob = {.n = 0};
    REQUIRE(t && b);
    for (uint32_t i = 0; i < 900; i++) {
        struct bt_flow_key k = key_of(i * 13 % 1000);
        bool created;
        uint32_t *v = vf_ftab_insert(t, &k, vf_ftab_hash(&k));
        uint32_t *w = bt_flowtab_insert(b, &k, i, &created);
        REQUIRE(v && w);
        *v = *w = i * 13 % 1000;
        if (i % 3 == 1) {
            struct bt_flow_key r = key_of((i - 1) * 13 % 1000);
            vf_ftab_remove(t, vf_ftab_lookup(t, &r, vf_ftab_hash(&r)));
            bt_flowtab_remove(b, bt_flowtab_lookup(b, &r));
        }
    }
    vf_ftab_foreach(t, collect, &ot);
    bt_flowtab_foreach(b, collect, &ob);
    CHECK_EQ_INT(ot.n, 600);
    CHECK_EQ_INT(ot.n, ob.n);
    CHECK(memcmp(ot.seen, ob.seen, ot.n * sizeof(uint32_t)) == 0);
    vf_ftab_free(t);
    bt_flowtab_free(b);
}

/* Keys that all land in one index neighbourhood (same low hash bits are
 * not needed: a tiny table makes long probe chains): removal in any order
 * keeps every other key findable. */
TEST(removal_keeps_probe_chains_whole)
{
    for (int order = 0; order < 3; order++) {
        struct vf_ftab *t = vf_ftab_new(64, 64, 4, 8);
        void *v[64];
        REQUIRE(t);
        for (uint32_t i = 0; i < 64; i++) {
            struct bt_flow_key k = key_of(i);
            REQUIRE((v[i] = vf_ftab_insert(t, &k, vf_ftab_hash(&k))));
        }
        struct bt_flow_key extra = key_of(999);
        CHECK(vf_ftab_insert(t, &extra, vf_ftab_hash(&extra)) == NULL);  /* full */
        for (uint32_t n = 0; n < 64; n++) {
            uint32_t i = order == 0 ? n : order == 1 ? 63 - n : (n * 37) % 64;
            vf_ftab_remove(t, v[i]);
            v[i] = NULL;
            for (uint32_t j = 0; j < 64; j++) {
                struct bt_flow_key k = key_of(j);
                void *got = vf_ftab_lookup(t, &k, vf_ftab_hash(&k));
                if ((got != NULL) != (v[j] != NULL) || (got && got != v[j]))
                    BT_FAIL_AT("order %d: after removing %u, key %u %s", order, i, j,
                               got ? "found wrongly" : "lost");
            }
        }
        CHECK_EQ_INT(vf_ftab_count(t), 0);
        /* freed entries are reused */
        REQUIRE(vf_ftab_insert(t, &extra, vf_ftab_hash(&extra)) != NULL);
        CHECK_EQ_INT(vf_ftab_count(t), 1);
        vf_ftab_free(t);
    }
}

TEST(values_stay_put_across_growth)
{
    struct vf_ftab *t = vf_ftab_new(2, 1u << 14, 24, 100);
    uint8_t *first;
    struct bt_flow_key k0 = key_of(0);
    REQUIRE(t);
    REQUIRE((first = vf_ftab_insert(t, &k0, vf_ftab_hash(&k0))));
    memset(first, 0x5a, 24);
    memset(vf_ftab_cold(t, first), 0xa5, 100);
    for (uint32_t i = 1; i < (1u << 14); i++) {
        struct bt_flow_key k = key_of(i);
        REQUIRE(vf_ftab_insert(t, &k, vf_ftab_hash(&k)));
    }
    CHECK(vf_ftab_lookup(t, &k0, vf_ftab_hash(&k0)) == first);
    CHECK(first[0] == 0x5a && first[23] == 0x5a);
    uint8_t *cold = vf_ftab_cold(t, first);
    CHECK(cold[0] == 0xa5 && cold[99] == 0xa5);
    CHECK(((uintptr_t)first & 63) == 40);  /* the value: the last 24 bytes of a 64-byte entry */
    vf_ftab_free(t);
}

TEST(bad_arguments)
{
    CHECK(vf_ftab_new(0, 8, 8, 0) == NULL);
    CHECK(vf_ftab_new(16, 8, 8, 0) == NULL);
    CHECK(vf_ftab_new(8, 8, 25, 0) == NULL);
    CHECK(vf_ftab_new(8, 8, 24, 1025) == NULL);
    CHECK(vf_ftab_free(NULL) == NULL);
}

/* With little address space (ulimit -v) the table maps fewer entries
 * instead of failing: 4M entries would need 672 MB of it. */
TEST(limited_address_space_gives_a_smaller_table)
{
#ifdef __SANITIZE_ADDRESS__
    SKIP("ASan reserves terabytes of shadow address space: RLIMIT_AS cannot be tested under it");
#endif
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {256u << 20, 256u << 20};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(3);
        struct vf_ftab *t = vf_ftab_new(16, 1u << 22, 24, 24);
        if (!t)
            _exit(1);
        for (uint32_t i = 0; i < 5000; i++) {
            struct bt_flow_key k = key_of(i);
            if (!vf_ftab_insert(t, &k, vf_ftab_hash(&k)))
                _exit(2);
        }
        vf_ftab_free(t);
        _exit(0);
    }
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
}
