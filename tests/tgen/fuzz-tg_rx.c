/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for tgen's closed loop on what a broken device under test
 * hands back: the engine (TCP and UDP synthetic templates, IPv4 and IPv6,
 * closed loop, retransmissions) sends into a wire the input drives, which
 * forwards its packets to the other side, drops them, mangles them (a byte
 * changed, the frame cut short) or delivers frames of the input's own.
 * Checked: nothing read past a frame (the mangled and foreign frames reach
 * tg_rx_frame in buffers of their exact size; ASan), the summary consistent
 * (flows completed, failed, aborted and active add up to those started; no
 * more matched than received, every packet counted sent handed out) and
 * the run deterministic (the same input twice, the same packets out at the
 * same times).
 *
 * Input: byte 0 the profile (bit 0 IPv6, bit 1 UDP instead of TCP, bit 2
 * the responses in 3 packets, bits 3-7 flows - 1); then operations, a byte
 * each and what it needs: 0 advance time by the next byte x 100 us and take
 * what tgen sends into the wire; 1 forward the wire's oldest packet; 2 drop
 * it; 3 forward it with the byte at (next byte) xor (the byte after); 4
 * forward its first (next byte) bytes only; 5 a frame of the input's (a
 * byte: the port in bit 0, the length in the rest, then that many bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_pkt.h"
#include "tg_api.h"
#include "../fuzz_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WIRE 256
#define POOL 512   /* small: the pool running empty too */

struct run {
    uint64_t hash, sent;
    struct tg_summary s;
};

struct wire {
    struct bt_pkt *p[WIRE];
    unsigned head, n;
};

static struct bt_pkt *wire_pop(struct wire *w)
{
    struct bt_pkt *p;

    if (!w->n)
        return NULL;
    p = w->p[w->head];
    w->head = (w->head + 1) % WIRE;
    w->n--;
    return p;
}

/* What tgen sends by t goes on the wire (beyond its room: dropped). */
static void take(struct tg_engine *g, uint64_t t, struct wire *w, struct run *r)
{
    struct bt_pkt *out[32];
    unsigned n;

    while ((n = tg_tx(g, t, out, 32)) > 0)
        for (unsigned i = 0; i < n; i++) {
            struct bt_pkt *p = out[i];
            fuzz_hash_pkt(&r->hash, p);
            r->sent++;
            if (w->n == WIRE) {
                bt_pkt_free(p);
                continue;
            }
            w->p[(w->head + w->n++) % WIRE] = p;
        }
}

/* Delivers len bytes of frame f on port, from a buffer of exactly that size. */
static void deliver_copy(struct tg_engine *g, uint64_t t, uint16_t port, const uint8_t *f,
                         uint32_t len)
{
    uint8_t *b = malloc(len ? len : 1);

    if (!b)
        return;
    memcpy(b, f, len);
    tg_rx_frame(g, t, port, b, len);
    free(b);
}

static int run(const uint8_t *data, size_t size, struct run *r)
{
    char spec[96];
    struct tg_profile prof;
    struct tg_engine *g = NULL;
    struct wire w = {.head = 0, .n = 0};
    struct bt_err e;
    uint64_t t = 1000000;
    size_t o = 1;

    memset(r, 0, sizeof(*r));
    r->hash = FUZZ_HASH_INIT;
    tg_profile_default(&prof);
    snprintf(spec, sizeof(spec), "%s,req=200,resp=%s,rounds=2,rtt=2ms%s",
             data[0] & 2 ? "udp" : "tcp", data[0] & 4 ? "1400x3" : "300",
             data[0] & 1 ? ",v6" : "");
    if (tg_profile_add_synth(&prof, spec, &e) < 0)
        return -1;
    prof.mode = TG_MODE_CLOSED;
    prof.flows = 1 + (data[0] >> 3);
    prof.cps = 2000;
    prof.rto_ns = 5000000;        /* 5 ms: retransmissions within a short input */
    prof.retries = 2;
    prof.pool_pkts = POOL;
    if (!(g = tg_engine_new(&prof, 1, &e)))
        return -1;
    while (o < size) {
        uint8_t op = data[o++] % 6;
        struct bt_pkt *p;
        switch (op) {
        case 0:
            t += (uint64_t)(o < size ? data[o++] : 0) * 100000;
            take(g, t, &w, r);
            break;
        case 1:
            if ((p = wire_pop(&w))) {
                uint16_t to = p->port ? TG_PORT_CLIENT : TG_PORT_SERVER;
                tg_rx(g, t, to, &p, 1);
            }
            break;
        case 2:
            bt_pkt_free(wire_pop(&w));
            break;
        case 3:
        case 4:
            if ((p = wire_pop(&w))) {
                uint32_t at = o < size ? data[o++] : 0, len = p->len;
                if (op == 3 && len) {
                    p->data[at % len] ^= o < size ? data[o++] : 0xff;
                } else if (op == 4 && at < len) {
                    len = at;
                }
                deliver_copy(g, t, p->port ? TG_PORT_CLIENT : TG_PORT_SERVER, p->data, len);
                bt_pkt_free(p);
            }
            break;
        default: {
            uint32_t hdr = o < size ? data[o++] : 0, len = hdr >> 1;
            if (len > size - o)
                len = (uint32_t)(size - o);
            deliver_copy(g, t, (uint16_t)(hdr & 1), data + o, len);
            o += len;
            break;
        }
        }
    }
    while (w.n)
        bt_pkt_free(wire_pop(&w));
    tg_summary_get(g, t, &r->s);
    tg_engine_free(g);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run a, b;
    const struct tg_summary *s = &a.s;

    if (size < 1 || size > 1 << 16)
        return 0;
    if (run(data, size, &a) < 0)
        return 0;
    if (s->flows_completed + s->flows_failed + s->flows_aborted + s->flows_active != s->flows_started ||
        s->rx_matched > s->rx_packets || s->tx_packets != a.sent) {
        fprintf(stderr,
                "fuzz-tg_rx: summary: started %llu completed %llu failed %llu aborted %llu active %llu; "
                "rx %llu matched %llu; tx %llu, %llu taken\n",
                (unsigned long long)s->flows_started, (unsigned long long)s->flows_completed,
                (unsigned long long)s->flows_failed, (unsigned long long)s->flows_aborted,
                (unsigned long long)s->flows_active, (unsigned long long)s->rx_packets,
                (unsigned long long)s->rx_matched, (unsigned long long)s->tx_packets,
                (unsigned long long)a.sent);
        abort();
    }
    if (run(data, size, &b) < 0 || a.hash != b.hash || a.sent != b.sent) {
        fprintf(stderr, "fuzz-tg_rx: two runs of one input differ\n");
        abort();
    }
    return 0;
}
