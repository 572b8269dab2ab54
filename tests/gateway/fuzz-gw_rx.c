/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the cluster on arbitrary frames (what `baton-gateway
 * sim --pcap-in` gives it from any capture): the distributor, the members'
 * state machines, policy with a content rule, hide-NAT rewriting the frame
 * in place, HyperSync, a member failing, restored or joining. Checked:
 * nothing read or written past a frame (ASan), every packet handed back to
 * its pool when the cluster is freed (none leaked, none freed twice), what
 * leaves is at most what came in plus the RSTs of reject rules, and the run
 * is deterministic (the same input twice, the same packets out, byte for
 * byte, at the same times on the same ports).
 *
 * Input: byte 0 the cluster (bits 0-1 the distribution mode, 2 L4, 3
 * hide-NAT, 4 sync off, 5 a policy with a reject and a content rule, 6-7
 * 2/3/4/8 members); byte 1 a member to fail (low 3 bits; 0: none) at the
 * record 4 times its high 5 bits count; byte 2 likewise when the member is
 * restored (or, when none failed, one added: low 3 bits not 0); then records: a 16-bit big-endian length,
 * a byte (bit 0 the port, bits 1-7 tens of microseconds after the previous
 * record) and that many bytes of frame (fewer at the input's end).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_cidr.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "../fuzz_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL 4096
#define BUF 2048

struct run {
    uint64_t hash, out, rx;
    struct gw_stats st;
};

static void drain(struct gw_cluster *g, uint64_t t, struct run *r)
{
    struct bt_pkt *out[32];
    unsigned n;

    while ((n = gw_tx(g, t, out, 32)) > 0)
        for (unsigned i = 0; i < n; i++) {
            struct bt_pkt *p = out[i];
            fuzz_hash_pkt(&r->hash, p);
            r->out++;
            bt_pkt_free(p);
        }
}

static void policy(struct gw_policy *p)
{
    gw_policy_default(p);
    p->nrules = 2;
    for (unsigned i = 0; i < 2; i++) {
        struct gw_rule *r = &p->rule[i];
        memset(r, 0, sizeof(*r));
        r->proto = 6;
        r->sport_lo = 0;
        r->sport_hi = 65535;
        r->dport_lo = 0;
        r->dport_hi = 65535;
    }
    snprintf(p->rule[0].name, sizeof(p->rule[0].name), "no-telnet");
    p->rule[0].action = GW_REJECT;
    p->rule[0].dport_lo = p->rule[0].dport_hi = 23;
    snprintf(p->rule[1].name, sizeof(p->rule[1].name), "no-evil");
    p->rule[1].action = GW_DROP;
    snprintf(p->rule[1].pattern, sizeof(p->rule[1].pattern), "ev[i1]l|\\x00\\xff");
}

static int run(const uint8_t *data, size_t size, struct run *r)
{
    static const unsigned members[4] = {2, 3, 4, 8};
    struct bt_pktpool *pool = bt_pktpool_new(POOL, BUF);
    struct gw_cluster *g = NULL;
    struct gw_config c;
    unsigned fail_id = data[1] & 7, fail_at = (data[1] >> 3) * 4u;
    unsigned back_id = data[2] & 7, back_at = (data[2] >> 3) * 4u;
    uint64_t t = 1000000;
    size_t o = 3;
    unsigned k = 0;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    r->hash = FUZZ_HASH_INIT;
    if (!pool)
        return -1;
    gw_config_default(&c);
    c.nmembers = members[data[0] >> 6];
    c.mode = data[0] & 3;
    c.l4 = data[0] & 4;
    if (data[0] & 8) {
        c.nat = true;
        if (bt_cidr_parse("198.51.100.0/30", &c.nat_pool) < 0)
            goto out;
    }
    if (data[0] & 16)
        c.faults |= GW_FAULT_NO_SYNC;
    if (data[0] & 32)
        policy(&c.policy);
    c.max_conns = 256;   /* small: the table-full path too */
    if (!(g = gw_cluster_new(&c, 7)))
        goto out;
    while (o + 3 <= size) {
        uint32_t len = (uint32_t)(data[o] << 8 | data[o + 1]);
        uint16_t port = data[o + 2] & 1;
        struct bt_pkt *p;
        t += (uint64_t)(data[o + 2] >> 1) * 10000;
        o += 3;
        if (len > size - o)
            len = (uint32_t)(size - o);
        if (len > BUF)
            len = BUF;
        drain(g, t, r);
        if (fail_id && k == fail_at)
            gw_fail(g, t, (int)(fail_id % c.nmembers) + 1);
        if (back_id && k == back_at) {
            if (fail_id)
                gw_restore(g, t, (int)(fail_id % c.nmembers) + 1);
            else
                gw_add(g, t, (int)c.nmembers + 1, 100);
        }
        k++;
        if (!(p = bt_pkt_alloc(pool)))
            goto out;   /* the cluster holds the pool: the input's fault, not a defect */
        memcpy(p->data, data + o, len);
        p->len = p->wire_len = len;
        o += len;
        r->rx++;
        gw_rx(g, t, port, &p, 1);
    }
    /* let everything in flight land: timers, batches, detection */
    for (int i = 0; i < 100000 && !gw_idle(g); i++) {
        uint64_t n = gw_next_ns(g);
        if (n == UINT64_MAX || n > t + 60000000000ULL)
            break;
        t = n > t ? n : t + 1;
        drain(g, t, r);
    }
    drain(g, t, r);
    gw_get_stats(g, &r->st);
    rc = 0;
out:
    gw_cluster_free(g);
    if (pool && bt_pktpool_avail(pool) != bt_pktpool_size(pool)) {
        fprintf(stderr, "fuzz-gw_rx: %u of %u packets not back in the pool\n",
                bt_pktpool_size(pool) - bt_pktpool_avail(pool), bt_pktpool_size(pool));
        abort();
    }
    bt_pktpool_free(pool);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run a, b;

    if (size < 3 || size > 1 << 20)
        return 0;
    if (run(data, size, &a) < 0)
        return 0;
    if (a.out > a.rx + a.st.rejects) {
        fprintf(stderr, "fuzz-gw_rx: %llu packets out of %llu in (%llu RSTs)\n",
                (unsigned long long)a.out, (unsigned long long)a.rx,
                (unsigned long long)a.st.rejects);
        abort();
    }
    if (run(data, size, &b) < 0 || a.hash != b.hash || a.out != b.out) {
        fprintf(stderr, "fuzz-gw_rx: two runs of one input differ\n");
        abort();
    }
    return 0;
}
