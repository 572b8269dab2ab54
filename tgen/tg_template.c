/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic templates: each packet built with libnet (LIBNET_NONE context:
 * construct only, never inject), checksums computed by libnet.
 */
#include "tg_api.h"

#include <errno.h>
#include <libnet.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_yaml.h"

/* Template addresses; flows rewrite them. */
#define T_CLIENT 0x0a000001u
#define T_SERVER 0xc0000201u

void tg_template_clear(struct tg_template *t)
{
    for (unsigned i = 0; i < t->n; i++)
        free(t->p[i].data);
    t->n = 0;
}

static int add(struct tg_template *t, libnet_t *l, uint64_t rel, bool from_server,
               struct bt_err *e)
{
    uint8_t *pkt;
    uint32_t size;

    if (t->n >= TG_MAX_TEMPLATE_PKTS)
        return bt_err_set(e, "--synth: more than %d packets", TG_MAX_TEMPLATE_PKTS);
    /* construct-only context: coalesce the pblocks ourselves (libnet_adv_cull_packet
     * wants an injection device) */
    if (libnet_pblock_coalesce(l, &pkt, &size) < 0)
        return bt_err_set(e, "libnet: %s", libnet_geterror(l));
    t->p[t->n].data = malloc(size);
    if (!t->p[t->n].data) {
        libnet_adv_free_packet(l, pkt);
        return -ENOMEM;
    }
    memcpy(t->p[t->n].data, pkt, size);
    libnet_adv_free_packet(l, pkt);
    t->p[t->n].len = (uint16_t)size;
    t->p[t->n].rel_ns = rel;
    t->p[t->n].from_server = from_server;
    t->n++;
    libnet_clear_packet(l);
    return 0;
}

static int build(libnet_t *l, struct tg_template *t, bool tcp, bool from_server, uint8_t flags,
                 uint32_t seq, uint32_t ack, unsigned payload, uint64_t rel, struct bt_err *e)
{
    static uint8_t fill[1600];
    uint8_t cmac[6] = {2, 0, 0, 0, 0, 1}, smac[6] = {2, 0, 0, 0, 0, 2};
    uint16_t sp = from_server ? 80 : 40000, dp = from_server ? 40000 : 80;
    uint32_t src = htonl(from_server ? T_SERVER : T_CLIENT), dst = htonl(from_server ? T_CLIENT : T_SERVER);
    unsigned l4 = tcp ? LIBNET_TCP_H : LIBNET_UDP_H;

    if (!fill[0])
        for (unsigned i = 0; i < sizeof(fill); i++)
            fill[i] = (uint8_t)('A' + i % 26);
    if (payload > 1460)
        return bt_err_set(e, "--synth: a segment of %u bytes is over 1460", payload);
    if (tcp) {
        if (libnet_build_tcp(sp, dp, seq, ack, flags, 65535, 0, 0, (uint16_t)(LIBNET_TCP_H + payload),
                             payload ? fill : NULL, payload, l, 0) < 0)
            return bt_err_set(e, "libnet: %s", libnet_geterror(l));
    } else if (libnet_build_udp(sp, dp, (uint16_t)(LIBNET_UDP_H + payload), 0, payload ? fill : NULL,
                                payload, l, 0) < 0) {
        return bt_err_set(e, "libnet: %s", libnet_geterror(l));
    }
    if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + l4 + payload), 0, 1, 0x4000, 64,
                          tcp ? IPPROTO_TCP : IPPROTO_UDP, 0, src, dst, NULL, 0, l, 0) < 0 ||
        libnet_build_ethernet(from_server ? cmac : smac, from_server ? smac : cmac, ETHERTYPE_IP,
                              NULL, 0, l, 0) < 0)
        return bt_err_set(e, "libnet: %s", libnet_geterror(l));
    return add(t, l, rel, from_server, e);
}

int tg_synth_parse(const char *spec, struct tg_template *t, struct bt_err *e)
{
    char buf[256], *save = NULL, *tok;
    unsigned req = 100, resp = 1000, nresp = 1;
    uint64_t rtt = 1000000;
    bool tcp;
    char errbuf[LIBNET_ERRBUF_SIZE];
    libnet_t *l;
    int r = 0;

    memset(t, 0, sizeof(*t));
    if (strlen(spec) >= sizeof(buf))
        return bt_err_set(e, "--synth '%s': too long", spec);
    strcpy(buf, spec);
    tok = strtok_r(buf, ",", &save);
    if (!tok || (strcmp(tok, "tcp") && strcmp(tok, "udp")))
        return bt_err_set(e, "--synth '%s': must start with tcp or udp", spec);
    tcp = strcmp(tok, "tcp") == 0;
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *end;
        if (strncmp(tok, "req=", 4) == 0) {
            req = (unsigned)strtoul(tok + 4, &end, 10);
            if (*end || end == tok + 4)
                return bt_err_set(e, "--synth '%s': bad '%s' (req=BYTES)", spec, tok);
        } else if (strncmp(tok, "resp=", 5) == 0) {
            resp = (unsigned)strtoul(tok + 5, &end, 10);
            nresp = 1;
            if (*end == 'x')
                nresp = (unsigned)strtoul(end + 1, &end, 10);
            if (*end || end == tok + 5 || nresp == 0 || nresp > 1000)
                return bt_err_set(e, "--synth '%s': bad '%s' (resp=BYTES or BYTESxCOUNT, count 1..1000)", spec, tok);
        } else if (strncmp(tok, "rtt=", 4) == 0) {
            if (bt_parse_duration_ns(tok + 4, &rtt) < 0)
                return bt_err_set(e, "--synth '%s': bad '%s' (rtt=DURATION)", spec, tok);
        } else {
            return bt_err_set(e, "--synth '%s': unknown item '%s' (req=, resp=, rtt=)", spec, tok);
        }
    }
    l = libnet_init(LIBNET_NONE, NULL, errbuf);
    if (!l)
        return bt_err_set(e, "libnet: %s", errbuf);
    uint64_t t_ns = 0;
    uint32_t cs = 1000, ss = 5000;
    t->proto = tcp ? 6 : 17;
    if (tcp) {
        r = build(l, t, true, false, TH_SYN, cs, 0, 0, t_ns, e);
        t_ns += rtt / 2;
        if (!r) r = build(l, t, true, true, TH_SYN | TH_ACK, ss, cs + 1, 0, t_ns, e);
        t_ns += rtt / 2;
        cs++; ss++;
        if (!r) r = build(l, t, true, false, TH_ACK, cs, ss, 0, t_ns, e);
    }
    if (!r) r = build(l, t, tcp, false, TH_PUSH | TH_ACK, cs, ss, req, t_ns, e);
    cs += req;
    t_ns += rtt / 2;
    for (unsigned i = 0; i < nresp && !r; i++) {
        r = build(l, t, tcp, true, TH_PUSH | TH_ACK, ss, cs, resp, t_ns, e);
        ss += resp;
        t_ns += 10000;
    }
    if (tcp && !r) {
        t_ns += rtt / 2;
        r = build(l, t, true, false, TH_FIN | TH_ACK, cs, ss, 0, t_ns, e);
        t_ns += rtt / 2;
        if (!r) r = build(l, t, true, true, TH_FIN | TH_ACK, ss, cs + 1, 0, t_ns, e);
        t_ns += rtt / 2;
        if (!r) r = build(l, t, true, false, TH_ACK, cs + 1, ss + 1, 0, t_ns, e);
    }
    libnet_destroy(l);
    if (r < 0)
        tg_template_clear(t);
    return r;
}
