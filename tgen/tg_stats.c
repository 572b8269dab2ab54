/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Figures: the latency histogram (log-linear, 32 sub-buckets per power of
 * two: ~3 % resolution, exact below 64 ns), summary merging and the JSON
 * rendering of a summary (docs/formats.md, tgen).
 */
#include "tg_priv.h"

#include <jansson.h>
#include <string.h>

static unsigned bucket(uint64_t v)
{
    if (v < 64)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    if (msb > 53)
        return TG_HIST_N - 1;
    return 64 + (msb - 6) * 32 + (unsigned)((v >> (msb - 5)) & 31);
}

/* The lowest value of bucket b. */
static uint64_t bucket_lo(unsigned b)
{
    if (b < 64)
        return b;
    unsigned msb = (b - 64) / 32 + 6, sub = (b - 64) % 32;
    return ((uint64_t)(32 + sub)) << (msb - 5);
}

void tg_hist_add(struct tg_hist *h, uint64_t v)
{
    h->c[bucket(v)]++;
    if (!h->n || v < h->min)
        h->min = v;
    h->n++;
    if (v > h->max)
        h->max = v;
}

uint64_t tg_hist_pct(const struct tg_hist *h, double pct)
{
    uint64_t want, seen = 0;

    if (!h->n)
        return 0;
    want = (uint64_t)((double)h->n * pct / 100.0 + 0.999999);
    if (want < 1)
        want = 1;
    if (want >= h->n)
        return h->max;   /* known exactly */
    for (unsigned b = 0; b < TG_HIST_N; b++) {
        seen += h->c[b];
        if (seen >= want) {
            /* the bucket's middle, within what was seen */
            uint64_t lo = bucket_lo(b), hi = b + 1 < TG_HIST_N ? bucket_lo(b + 1) : lo;
            uint64_t mid = lo + (hi - lo) / 2;
            return mid > h->max ? h->max : mid < h->min ? h->min : mid;
        }
    }
    return h->max;
}

void tg_summary_merge(struct tg_summary *d, const struct tg_summary *s)
{
    d->tx_packets += s->tx_packets;
    d->tx_bytes += s->tx_bytes;
    d->tx_client_packets += s->tx_client_packets;
    d->tx_server_packets += s->tx_server_packets;
    d->rx_packets += s->rx_packets;
    d->rx_bytes += s->rx_bytes;
    d->rx_matched += s->rx_matched;
    d->rx_unmatched += s->rx_unmatched;
    d->flows_started += s->flows_started;
    d->flows_completed += s->flows_completed;
    d->flows_failed += s->flows_failed;
    d->flows_active += s->flows_active;
    d->flows_aborted += s->flows_aborted;
    d->rsts_seen += s->rsts_seen;
    d->retransmits += s->retransmits;
    d->nat_learned += s->nat_learned;
    d->tx_pool_empty += s->tx_pool_empty;
    if (s->duration_s > d->duration_s)
        d->duration_s = s->duration_s;
    d->tx_pps += s->tx_pps;
    d->tx_bps += s->tx_bps;
    d->rx_pps += s->rx_pps;
    d->cps += s->cps;
    d->completed_cps += s->completed_cps;
    d->lat_samples += s->lat_samples;
    if (s->lat_p50_ns > d->lat_p50_ns)
        d->lat_p50_ns = s->lat_p50_ns;
    if (s->lat_p99_ns > d->lat_p99_ns)
        d->lat_p99_ns = s->lat_p99_ns;
    if (s->lat_max_ns > d->lat_max_ns)
        d->lat_max_ns = s->lat_max_ns;
    if (s->state_bytes_per_flow > d->state_bytes_per_flow)
        d->state_bytes_per_flow = s->state_bytes_per_flow;
}

struct json_t *tg_summary_json(const struct tg_summary *s)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
#define U(k) json_object_set_new(o, #k, json_integer((json_int_t)s->k))
#define D(k) json_object_set_new(o, #k, json_real(s->k))
    json_object_set_new(o, "schema", json_integer(1));
    U(tx_packets);
    U(tx_bytes);
    D(tx_pps);
    D(tx_bps);
    U(tx_client_packets);
    U(tx_server_packets);
    U(rx_packets);
    U(rx_bytes);
    D(rx_pps);
    U(rx_matched);
    U(rx_unmatched);
    U(flows_started);
    U(flows_completed);
    U(flows_failed);
    U(flows_active);
    U(flows_aborted);
    D(cps);
    D(completed_cps);
    U(rsts_seen);
    U(retransmits);
    U(nat_learned);
    U(tx_pool_empty);
    D(duration_s);
    U(lat_samples);
    U(lat_p50_ns);
    U(lat_p99_ns);
    U(lat_max_ns);
    U(state_bytes_per_flow);
#undef U
#undef D
    return o;
}
