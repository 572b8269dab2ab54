/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic templates built with libnet, without any pcap: a LIBNET_NONE
 * context (construct only, never inject) builds each frame (Ethernet, IPv4
 * or IPv6, TCP or UDP, checksums by libnet) into a buffer.
 *
 * TCP: handshake, `rounds` times (a request of req bytes in MSS segments,
 * a response of nresp segments of resp bytes, each answered by an ACK from
 * the client every two segments and at the end), then FIN both ways and the
 * last ACK. UDP: `rounds` times (a request datagram, nresp response
 * datagrams).
 */
#include "tg_priv.h"

#include <errno.h>
#include <libnet.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_yaml.h"

/* Template addresses (flows rewrite them) */
#define T_CLIENT4 "10.0.0.1"
#define T_SERVER4 "192.0.2.1"
#define T_CLIENT6 "fd00::1"
#define T_SERVER6 "fd00::2"
#define T_CPORT 40000
#define MAX_ITEMS 100000

/* A decimal number at s: digits only (no sign, no blank), ending at *end. */
static int digits(const char *s, unsigned long *v, char **end)
{
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *v = strtoul(s, end, 10);
    return errno ? -EINVAL : 0;
}

int tg_synth_parse(const char *spec, struct tg_synth *out, struct bt_err *e)
{
    char buf[TG_SYNTH_MAX], *save = NULL, *tok;
    struct tg_synth s = {.req = 100, .resp = 1000, .nresp = 1, .rounds = 1,
                         .rtt_ns = 1000000, .port = 0};

    if (!spec || strlen(spec) >= sizeof(buf))
        return bt_err_set(e, "--synth: spec missing or longer than %d characters", TG_SYNTH_MAX - 1);
    strcpy(buf, spec);
    if (buf[0] == ',' || strstr(buf, ",,") || (buf[0] && buf[strlen(buf) - 1] == ','))
        return bt_err_set(e, "--synth '%s': an empty item (items are separated by one comma)",
                          spec);
    tok = strtok_r(buf, ",", &save);
    if (!tok || (strcmp(tok, "tcp") && strcmp(tok, "udp")))
        return bt_err_set(e, "--synth '%s': must start with tcp or udp", spec);
    s.tcp = strcmp(tok, "tcp") == 0;
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *end;
        unsigned long v;
        if (strncmp(tok, "req=", 4) == 0) {
            if (digits(tok + 4, &v, &end) < 0 || *end || v > 1000000)
                return bt_err_set(e, "--synth '%s': bad '%s' (req=BYTES, 0..1000000)", spec, tok);
            s.req = (unsigned)v;
        } else if (strncmp(tok, "resp=", 5) == 0) {
            if (digits(tok + 5, &v, &end) < 0 || v > 1472)
                return bt_err_set(e, "--synth '%s': bad '%s' (resp=BYTES or BYTESxCOUNT, BYTES "
                                  "one segment: at most 1460 for TCP, 1472 for UDP)", spec, tok);
            s.resp = (unsigned)v;
            s.nresp = 1;
            if (*end == 'x') {
                char *c = end + 1;
                if (digits(c, &v, &end) < 0 || v == 0 || v > 100000)
                    return bt_err_set(e, "--synth '%s': bad '%s' (COUNT 1..100000)", spec, tok);
                s.nresp = (unsigned)v;
            }
            if (*end)
                return bt_err_set(e, "--synth '%s': bad '%s' (resp=BYTES or BYTESxCOUNT)", spec, tok);
        } else if (strncmp(tok, "rounds=", 7) == 0) {
            if (digits(tok + 7, &v, &end) < 0 || *end || v == 0 || v > 10000)
                return bt_err_set(e, "--synth '%s': bad '%s' (rounds=N, 1..10000)", spec, tok);
            s.rounds = (unsigned)v;
        } else if (strncmp(tok, "rtt=", 4) == 0) {
            if (bt_parse_duration_ns(tok + 4, &s.rtt_ns) < 0 || s.rtt_ns > 60000000000ull)
                return bt_err_set(e, "--synth '%s': bad '%s' (rtt=DURATION such as 1ms, up to 60s)",
                                  spec, tok);
        } else if (strncmp(tok, "port=", 5) == 0) {
            if (digits(tok + 5, &v, &end) < 0 || *end || v == 0 || v > 65535)
                return bt_err_set(e, "--synth '%s': bad '%s' (port=1..65535)", spec, tok);
            s.port = (uint16_t)v;
        } else if (strcmp(tok, "v6") == 0) {
            s.v6 = true;
        } else if (strcmp(tok, "v4") == 0) {
            s.v6 = false;
        } else {
            return bt_err_set(e, "--synth '%s': unknown item '%s' (req=, resp=, rounds=, rtt=, "
                              "port=, v6)", spec, tok);
        }
    }
    /* every frame fits a 1500-byte MTU: one segment or datagram carries at
     * most 1460 (TCP/IPv4), 1440 (TCP/IPv6), 1472 (UDP/IPv4), 1452 (UDP/IPv6) */
    unsigned maxpay = s.tcp ? (s.v6 ? 1440 : 1460) : (s.v6 ? 1452 : 1472);
    if (s.resp > maxpay)
        return bt_err_set(e, "--synth '%s': resp=%u is over one %s/IPv%d %s at MTU 1500: give "
                          "resp at most %u (and a COUNT: resp=%uxN)", spec, s.resp,
                          s.tcp ? "TCP" : "UDP", s.v6 ? 6 : 4, s.tcp ? "segment" : "datagram",
                          maxpay, maxpay);
    if (!s.tcp && s.req > maxpay)
        return bt_err_set(e, "--synth '%s': a UDP request is one datagram: give req at most %u",
                          spec, maxpay);
    /* UDP: the discard port, so that no dissector reads the filler as a
     * protocol (tshark calls letters on port 53 malformed DNS) */
    if (!s.port)
        s.port = s.tcp ? 80 : 9;
    /* bound the template: rounds x (request segments + responses + acks) */
    uint64_t items = (uint64_t)s.rounds * (s.req / 1400 + 2 + s.nresp * 2);
    if (items > MAX_ITEMS)
        return bt_err_set(e, "--synth '%s': %llu packets in one conversation; at most %d "
                          "(fewer rounds or segments)", spec, (unsigned long long)items, MAX_ITEMS);
    *out = s;
    return 0;
}

int tg_synth_check(const char *spec, struct bt_err *e)
{
    struct tg_synth s;
    return tg_synth_parse(spec, &s, e);
}

struct sb {
    libnet_t *l;
    const struct tg_synth *s;
    uint8_t *blob;
    size_t blen, bcap;
    uint32_t n, cap;
    uint32_t *off, *len;
    uint64_t *ts;
    uint8_t *side;
    struct libnet_in6_addr c6, s6;
    uint32_t c4, s4;
};

static int sb_frame(struct sb *b, bool from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                    unsigned payload, uint64_t t, struct bt_err *e)
{
    static uint8_t fill[1500];
    static const uint8_t cmac[6] = {2, 0, 0, 0, 0, 1}, smac[6] = {2, 0, 0, 0, 0, 2};
    uint16_t sp = from_server ? b->s->port : T_CPORT, dp = from_server ? T_CPORT : b->s->port;
    libnet_t *l = b->l;
    uint8_t *pkt;
    uint32_t size;
    unsigned l4 = b->s->tcp ? LIBNET_TCP_H : LIBNET_UDP_H;

    if (!fill[0])
        for (unsigned i = 0; i < sizeof(fill); i++)
            fill[i] = (uint8_t)('a' + i % 26);
    libnet_clear_packet(l);
    if (b->s->tcp) {
        if (libnet_build_tcp(sp, dp, seq, ack, flags, 64240, 0, 0, (uint16_t)(LIBNET_TCP_H + payload),
                             payload ? fill : NULL, payload, l, 0) < 0)
            goto lerr;
    } else if (libnet_build_udp(sp, dp, (uint16_t)(LIBNET_UDP_H + payload), 0,
                                payload ? fill : NULL, payload, l, 0) < 0) {
        goto lerr;
    }
    if (b->s->v6) {
        if (libnet_build_ipv6(0, 0, (uint16_t)(l4 + payload), b->s->tcp ? IPPROTO_TCP : IPPROTO_UDP,
                              64, from_server ? b->s6 : b->c6, from_server ? b->c6 : b->s6, NULL, 0,
                              l, 0) < 0)
            goto lerr;
    } else if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + l4 + payload), 0, (uint16_t)(b->n + 1),
                                 0x4000, 64, b->s->tcp ? IPPROTO_TCP : IPPROTO_UDP, 0,
                                 from_server ? b->s4 : b->c4, from_server ? b->c4 : b->s4, NULL, 0,
                                 l, 0) < 0) {
        goto lerr;
    }
    if (libnet_build_ethernet(from_server ? cmac : smac, from_server ? smac : cmac,
                              b->s->v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP, NULL, 0, l, 0) < 0)
        goto lerr;
    /* construct-only context: coalesce the pblocks ourselves (checksums are
     * computed there; libnet_adv_cull_packet wants an injection device) */
    if (libnet_pblock_coalesce(l, &pkt, &size) < 0)
        goto lerr;
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *o = realloc(b->off, cap * sizeof(*o)), *ln;
        if (o)
            b->off = o;
        ln = o ? realloc(b->len, cap * sizeof(*ln)) : NULL;
        if (ln)
            b->len = ln;
        uint64_t *ts = ln ? realloc(b->ts, cap * sizeof(*ts)) : NULL;
        if (ts)
            b->ts = ts;
        uint8_t *sd = ts ? realloc(b->side, cap) : NULL;
        if (!sd) {
            libnet_adv_free_packet(l, pkt);
            return bt_err_setr(e, -ENOMEM, "out of memory");
        }
        b->side = sd;
        b->cap = cap;
    }
    if (b->blen + size > b->bcap) {
        size_t bc = b->bcap ? b->bcap * 2 : 16384;
        while (bc < b->blen + size)
            bc *= 2;
        uint8_t *nb = realloc(b->blob, bc);
        if (!nb) {
            libnet_adv_free_packet(l, pkt);
            return bt_err_setr(e, -ENOMEM, "out of memory");
        }
        b->blob = nb;
        b->bcap = bc;
    }
    memcpy(b->blob + b->blen, pkt, size);
    libnet_adv_free_packet(l, pkt);
    b->off[b->n] = (uint32_t)b->blen;
    b->len[b->n] = size;
    b->ts[b->n] = t;
    b->side[b->n] = from_server;
    b->blen += size;
    b->n++;
    return 0;
lerr:
    return bt_err_set(e, "libnet: %s", libnet_geterror(l));
}

int tg_tset_add_synth(struct tg_tset *set, const struct tg_tmpl_cfg *cfg, unsigned entry,
                      struct bt_err *e)
{
    char errbuf[LIBNET_ERRBUF_SIZE], name[TG_SYNTH_MAX + 16];
    struct tg_synth s;
    struct sb b;
    int r;

    r = tg_synth_parse(cfg->synth, &s, e);
    if (r < 0)
        return r;
    memset(&b, 0, sizeof(b));
    b.s = &s;
    b.l = libnet_init(LIBNET_NONE, NULL, errbuf);
    if (!b.l)
        return bt_err_set(e, "libnet: %s", errbuf);
    inet_pton(AF_INET, T_CLIENT4, &b.c4);
    inet_pton(AF_INET, T_SERVER4, &b.s4);
    inet_pton(AF_INET6, T_CLIENT6, &b.c6);
    inet_pton(AF_INET6, T_SERVER6, &b.s6);

    uint64_t t = 0, half = s.rtt_ns / 2, gap = 10000;  /* 10 us between back-to-back segments */
    uint32_t cs = 1000, ss = 500000;
    unsigned mss = s.v6 ? 1440 : 1460;
    if (s.tcp) {
        r = sb_frame(&b, false, TH_SYN, cs, 0, 0, t, e);
        t += half;
        if (!r)
            r = sb_frame(&b, true, TH_SYN | TH_ACK, ss, cs + 1, 0, t, e);
        t += half;
        cs++;
        ss++;
        if (!r)
            r = sb_frame(&b, false, TH_ACK, cs, ss, 0, t, e);
    }
    for (unsigned round = 0; round < s.rounds && !r; round++) {
        /* the request (one datagram for UDP; MSS segments for TCP) */
        unsigned left = s.req;
        do {
            unsigned seg = s.tcp && left > mss ? mss : left;  /* UDP: one datagram */
            r = sb_frame(&b, false, TH_PUSH | TH_ACK, cs, ss, seg, t, e);
            cs += seg;
            left -= seg;
            t += gap;
        } while (!r && left && s.tcp);
        t += half - gap;
        for (unsigned i = 0; i < s.nresp && !r; i++) {
            r = sb_frame(&b, true, (uint8_t)(i + 1 == s.nresp ? TH_PUSH | TH_ACK : TH_ACK), ss, cs,
                         s.resp, t, e);
            ss += s.resp;
            /* the client acknowledges every second segment, and the last */
            if (!r && s.tcp && (i % 2 == 1 || i + 1 == s.nresp)) {
                r = sb_frame(&b, false, TH_ACK, cs, ss, 0, t + half, e);
                /* keep the template in time order: the ack is later */
                t += half;
            }
            t += gap;
        }
        t += half;
    }
    if (s.tcp && !r) {
        r = sb_frame(&b, false, TH_FIN | TH_ACK, cs, ss, 0, t, e);
        t += half;
        if (!r)
            r = sb_frame(&b, true, TH_FIN | TH_ACK, ss, cs + 1, 0, t, e);
        t += half;
        if (!r)
            r = sb_frame(&b, false, TH_ACK, cs + 1, ss + 1, 0, t, e);
    }
    libnet_destroy(b.l);
    if (!r) {
        snprintf(name, sizeof(name), "synth:%s", cfg->synth);
        r = tg_tset_keep_blob(set, b.blob);
        b.blob = NULL;
        if (r < 0)
            bt_err_set(e, "out of memory");
        else
            r = tg_tset_add_frames(set, name, entry, set->blobs[set->nblobs - 1], b.off, b.len,
                                   b.ts, b.side, b.n, e);
    }
    free(b.blob);
    free(b.off);
    free(b.len);
    free(b.ts);
    free(b.side);
    return r;
}
