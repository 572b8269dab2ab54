/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_stats.c: the latency histogram against a sorted reference (exact
 * below 64 ns, within its ~3 % bucket width above), summary merging, and
 * the JSON summary's keys and values (docs/formats.md, tgen).
 */
#include "bt_test.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>

#include "tg_priv.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t ref_pct(const uint64_t *sorted, uint64_t n, double pct)
{
    uint64_t want = (uint64_t)ceil((double)n * pct / 100.0);
    if (want < 1)
        want = 1;
    return sorted[want - 1];
}

TEST(histogram_against_reference)
{
    static struct tg_hist h;
    static uint64_t v[20000];
    uint64_t x = 88172645463325252ull;
    const double pcts[] = {0, 1, 10, 50, 90, 99, 99.9, 100};

    CHECK_EQ_INT(tg_hist_pct(&h, 50), 0);  /* empty */
    for (unsigned i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* log-uniform from 1 ns to ~1 s */
        v[i] = (uint64_t)exp((double)(x % 20000) / 20000.0 * log(1e9));
        tg_hist_add(&h, v[i]);
    }
    qsort(v, 20000, sizeof(v[0]), cmp_u64);
    CHECK_EQ_INT(h.n, 20000);
    CHECK_EQ_INT(h.min, v[0]);
    CHECK_EQ_INT(h.max, v[19999]);
    for (unsigned i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        uint64_t got = tg_hist_pct(&h, pcts[i]), want = ref_pct(v, 20000, pcts[i]);
        double rel = want ? fabs((double)got - (double)want) / (double)want : (double)got;
        if (want < 64 ? got != want : rel > 1.0 / 32)
            BT_FAIL_AT("p%g: %" PRIu64 " vs %" PRIu64 " (%.2f %%)", pcts[i], got, want, rel * 100);
    }
    CHECK_EQ_INT(tg_hist_pct(&h, 100), v[19999]);
    /* small exact values */
    static struct tg_hist s;
    for (uint64_t i = 1; i <= 50; i++)
        tg_hist_add(&s, i);
    CHECK_EQ_INT(tg_hist_pct(&s, 50), 25);
    CHECK_EQ_INT(tg_hist_pct(&s, 99), 50);
    /* one value, huge */
    static struct tg_hist one;
    tg_hist_add(&one, UINT64_MAX / 3);
    CHECK_EQ_INT(tg_hist_pct(&one, 50), UINT64_MAX / 3);
}

/* The reference check above can fail: a histogram that lost a bucket's
 * counts reports a different percentile. */
TEST(histogram_check_can_fail)
{
    static struct tg_hist h;
    for (uint64_t i = 0; i < 1000; i++)
        tg_hist_add(&h, 1000 + i * 10);
    uint64_t p50 = tg_hist_pct(&h, 50);
    CHECK(fabs((double)p50 - 5990) / 5990 <= 1.0 / 32);
    /* drop the lowest 200 values' buckets */
    uint64_t dropped = 0;
    for (unsigned b = 0; b < TG_HIST_N && dropped < 200; b++) {
        dropped += h.c[b];
        h.c[b] = 0;
    }
    uint64_t bad = tg_hist_pct(&h, 50);
    CHECK(fabs((double)bad - 5990) / 5990 > 1.0 / 32);
}

TEST(merge)
{
    struct tg_summary a, b;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.tx_packets = 10; b.tx_packets = 5;
    a.tx_bytes = 1000; b.tx_bytes = 600;
    a.flows_completed = 3; b.flows_completed = 4;
    a.flows_failed = 1;
    a.nat_learned = 2; b.nat_learned = 2;
    a.tx_pps = 100; b.tx_pps = 50;
    a.cps = 10; b.cps = 20;
    a.duration_s = 1.0; b.duration_s = 2.5;
    a.lat_samples = 7; b.lat_samples = 3;
    a.lat_p50_ns = 100; b.lat_p50_ns = 90;
    a.lat_p99_ns = 500; b.lat_p99_ns = 900;
    a.lat_max_ns = 1000; b.lat_max_ns = 2000;
    a.state_bytes_per_flow = 64; b.state_bytes_per_flow = 64;
    tg_summary_merge(&a, &b);
    CHECK_EQ_INT(a.tx_packets, 15);
    CHECK_EQ_INT(a.tx_bytes, 1600);
    CHECK_EQ_INT(a.flows_completed, 7);
    CHECK_EQ_INT(a.flows_failed, 1);
    CHECK_EQ_INT(a.nat_learned, 4);
    CHECK_NEAR(a.tx_pps, 150, 0);
    CHECK_NEAR(a.cps, 30, 0);
    CHECK_NEAR(a.duration_s, 2.5, 0);
    CHECK_EQ_INT(a.lat_samples, 10);
    CHECK_EQ_INT(a.lat_p50_ns, 100);
    CHECK_EQ_INT(a.lat_p99_ns, 900);
    CHECK_EQ_INT(a.lat_max_ns, 2000);
    CHECK_EQ_INT(a.state_bytes_per_flow, 64);
}

TEST(json_keys_and_values)
{
    static const char *const keys[] = {
        "schema", "tx_packets", "tx_bytes", "tx_pps", "tx_bps", "tx_client_packets",
        "tx_server_packets", "rx_packets", "rx_bytes", "rx_pps", "rx_matched", "rx_unmatched",
        "flows_started", "flows_completed", "flows_failed", "flows_active", "flows_aborted",
        "cps", "completed_cps", "rsts_seen", "retransmits", "nat_learned", "tx_pool_empty",
        "duration_s", "lat_samples", "lat_p50_ns", "lat_p99_ns", "lat_max_ns",
        "state_bytes_per_flow", NULL};
    struct tg_summary s;
    uint64_t *u = (uint64_t *)&s;

    memset(&s, 0, sizeof(s));
    /* distinct values in every integer field */
    for (unsigned i = 0; i < offsetof(struct tg_summary, duration_s) / sizeof(uint64_t); i++)
        u[i] = 1000 + i;
    s.duration_s = 2.5;
    s.tx_pps = 12.25;
    s.lat_p99_ns = 777;
    json_t *j = tg_summary_json(&s);
    REQUIRE(j);
    CHECK_EQ_INT(json_object_size(j), sizeof(keys) / sizeof(keys[0]) - 1);
    for (unsigned i = 0; keys[i]; i++)
        if (!json_object_get(j, keys[i]))
            BT_FAIL_AT("key %s missing", keys[i]);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "schema")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "tx_packets")), s.tx_packets);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "flows_failed")), s.flows_failed);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "nat_learned")), s.nat_learned);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "lat_p99_ns")), 777);
    CHECK_NEAR(json_real_value(json_object_get(j, "duration_s")), 2.5, 0);
    CHECK_NEAR(json_real_value(json_object_get(j, "tx_pps")), 12.25, 0);
    CHECK(json_is_real(json_object_get(j, "cps")));
    json_decref(j);
}
