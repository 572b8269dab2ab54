/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen's core (a first slice of issue 4): synthetic conversation
 * templates built with libnet, instantiated per flow with rewritten client
 * address and port and server address, scheduled open-loop at a connection
 * rate, and handed out packet by packet in time order, each tagged with the
 * side it leaves from (port 0 client side, port 1 server side).
 */
#ifndef TG_API_H
#define TG_API_H

#include <stdbool.h>
#include <stdint.h>

#include "bt_cidr.h"

struct bt_err;
struct tg_engine;

#define TG_MAX_TEMPLATE_PKTS 4096

/* One packet of a template: relative time, direction, frame bytes. */
struct tg_tpkt {
    uint64_t rel_ns;
    uint8_t from_server;
    uint16_t len;
    uint8_t *data;
};

struct tg_template {
    unsigned n;
    struct tg_tpkt p[TG_MAX_TEMPLATE_PKTS];
    uint8_t proto;
};

/* "tcp,req=200,resp=1400x10" (a handshake, a request of req bytes, resp
 * segments of that size, FIN both ways), "udp,req=100,resp=500x2". rtt=DUR
 * (default 1ms) spaces the packets. 0 or -EINVAL with e naming the item. */
int tg_synth_parse(const char *spec, struct tg_template *t, struct bt_err *e);
void tg_template_clear(struct tg_template *t);

struct tg_profile {
    struct tg_template tmpl;
    uint64_t flows;
    double cps;
    struct bt_cidr clients;    /* client addresses (default 16.0.0.0/8) */
    struct bt_cidr servers;    /* server addresses (default 48.0.0.0/16) */
    uint16_t cport_lo, cport_hi; /* client ports (default 1024..65535) */
    uint32_t seed;
};

void tg_profile_default(struct tg_profile *p);

/* Takes nothing from p (copies it). NULL on ENOMEM or a bad profile (e). */
struct tg_engine *tg_engine_new(const struct tg_profile *p, struct bt_err *e);
struct tg_engine *tg_engine_free(struct tg_engine *g);
/* The next packet in time order: 1 with *ts, *port and the frame in buf
 * (len bytes, buf >= 2048), 0 when every flow is done. */
int tg_next(struct tg_engine *g, uint64_t *ts_ns, uint16_t *port, uint8_t *buf, uint32_t *len);

struct tg_summary {
    uint64_t tx_packets, tx_bytes, flows_started, flows_completed;
    uint64_t last_ns;
};
void tg_summary_get(const struct tg_engine *g, struct tg_summary *s);

#endif
