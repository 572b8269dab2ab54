/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen's core (library tgen_core), public API: a stateful traffic
 * generator with explicit time. It plays both sides of many conversations
 * built from templates (pcap conversations or libnet synthetic flows):
 * client packets leave on port 0 (client side), server packets on port 1
 * (server side). Each flow instance rewrites the client address and port and
 * the server address (the server port is kept), offsets the TCP sequence
 * numbers and updates checksums incrementally.
 *
 * Open loop: packets leave at the template's times (or the profile's
 * overrides), flows start at the profile's connection rate.
 * Closed loop: a packet leaves only after every earlier packet of the other
 * direction has been received back on the other port (through the device
 * under test); unanswered packets are retransmitted on a timeout with
 * exponential backoff, and the flow fails after the last try. Received
 * packets are matched to flows even through hide-NAT (the translation is
 * learned from the first packet, identified by a per-flow tag carried in
 * the IPv4 identification or the IPv6 flow label, fields a hide-NAT leaves
 * alone); server packets then go to the translated client address and port.
 *
 * The engine never reads a clock, a socket or a file while it runs; the only
 * file access is tg_engine_new loading pcap templates named by the profile
 * (and the profile loaders reading YAML). Drivers own time and I/O:
 * tgen/tg_main.c (offline pcaps, DPDK), the plan runner (co-simulation with
 * the gateway core on one virtual clock). Every call takes now_ns, which
 * must not go backwards between calls. The engine's time origin is the
 * now_ns of the first tg_tx/tg_tx_fill call.
 *
 * Packet ownership:
 *  - tg_tx hands the returned packets to the caller, who frees them with
 *    bt_pkt_free (they come from a pool the engine owns, of
 *    profile.pool_pkts packets; when it is empty tg_tx returns fewer and
 *    counts tx_pool_empty). Free every packet before tg_engine_free.
 *  - tg_tx_fill writes into buffers the caller owns (pkt->data, pkt->cap);
 *    nothing changes hands (the DPDK backend points them at mbuf data).
 *  - tg_rx takes ownership of every packet given to it and frees it with
 *    bt_pkt_free; tg_rx_frame only reads the bytes and keeps nothing.
 *
 * Stability: the plan runner codes against this header. Functions and
 * struct fields are only added, never changed.
 */
#ifndef TG_API_H
#define TG_API_H

#include <stdbool.h>
#include <stdint.h>

#include "bt_cidr.h"   /* struct bt_cidr */

struct bt_err;
struct bt_pkt;
struct bt_ydoc;
struct bt_ynode;
struct json_t;         /* jansson's json_t */
struct tg_engine;

#define TG_PORT_CLIENT 0
#define TG_PORT_SERVER 1

#define TG_MAX_TEMPLATES 64    /* template entries in a profile */
#define TG_MAX_POOLS 8         /* client / server CIDRs in a profile */
#define TG_PATH_MAX 512
#define TG_SYNTH_MAX 256

enum tg_mode {
    TG_MODE_OPEN = 0,
    TG_MODE_CLOSED = 1,
};

/* One template entry of a profile: a pcap (each conversation in it becomes a
 * template, unless `flow` picks one) or a synthetic spec. */
struct tg_tmpl_cfg {
    char pcap[TG_PATH_MAX];    /* a capture file ("" if synth) */
    char synth[TG_SYNTH_MAX];  /* a --synth spec ("" if pcap), tg_synth_check syntax */
    double cps;                /* own connection rate; 0: a share of profile.cps by weight */
    double weight;             /* share of profile.cps (default 1) */
    uint64_t ipg_ns;           /* 0: template gaps; else every same-direction gap */
    uint64_t rtt_ns;           /* 0: template gaps; else every direction-change gap is rtt/2 */
    uint64_t flows;            /* at most this many flows of this entry (0: no own limit) */
    int flow;                  /* -1: every conversation of the pcap; k >= 0: only the k-th */
    unsigned nclient_cidrs;    /* client-side override for the pcap (bt_client_side) */
    struct bt_cidr client_cidrs[4];
    /* where it was given (messages): "file:line:col" or "--template" */
    char origin[TG_PATH_MAX + 32];
};

struct tg_profile {
    unsigned ntemplates;
    struct tg_tmpl_cfg tmpl[TG_MAX_TEMPLATES];
    /* address pools: a v4 template takes the v4 CIDRs, a v6 one the v6 CIDRs */
    unsigned nclients, nservers;
    struct bt_cidr clients[TG_MAX_POOLS];  /* default 16.0.0.0/8, 2001:db8:16::/64 */
    struct bt_cidr servers[TG_MAX_POOLS];  /* default 48.0.0.0/16, 2001:db8:48::/64 */
    /* where each pool was set, for messages: "file:line:col" of the profile's
     * key, "--clients" / "--servers", or "" for the default */
    char clients_at[TG_PATH_MAX + 32], servers_at[TG_PATH_MAX + 32];
    uint16_t cport_lo, cport_hi;           /* client ports (default 1024..65535) */
    double cps;                /* new flows per second in all (default 100) */
    double cps_mult;           /* multiplies every cps (default 1) */
    double speed;              /* template time runs this much faster (default 1) */
    uint64_t flows;            /* flows in all (0: until duration; default 1000 if no duration) */
    uint64_t duration_ns;      /* no new flow after this (0: until flows) */
    uint32_t concurrency;      /* at most this many flows active (0: no cap) */
    double pps, bps;           /* caps on what leaves, both ports together (0: none) */
    bool rate_max;             /* ignore timing: packets leave as fast as tg_tx is called */
    enum tg_mode mode;
    uint16_t vlan;             /* 802.1Q id added to every packet (0: none) */
    uint8_t client_mac[6];     /* source MAC on port 0 (default 02:00:00:00:00:01) */
    uint8_t client_dst_mac[6]; /* destination MAC on port 0 (default: server_mac) */
    uint8_t server_mac[6];     /* source MAC on port 1 (default 02:00:00:00:00:02) */
    uint8_t server_dst_mac[6]; /* destination MAC on port 1 (default: client_mac) */
    bool isn_offset;           /* per-flow TCP ISN offsets (default on) */
    /* closed loop */
    uint64_t rto_ns;           /* first retransmission timeout (default 200 ms) */
    unsigned retries;          /* retransmissions before a flow fails (default 5) */
    uint64_t rto_max_ns;       /* backoff ceiling (default 4 s) */
    /* engine */
    uint32_t pool_pkts;        /* tg_tx's packet pool (default 4096) */
    unsigned part, nparts;     /* this engine plays flows i with i % nparts == part
                                * (per-lcore partitions; rates are divided); default 0, 1 */
};

/* Defaults as commented above, no template. */
void tg_profile_default(struct tg_profile *p);
/* Reads a traffic profile mapping (a plan's `traffic:` section, or a
 * profile file's top level; docs/tgen.md) into *p, over the defaults
 * already in *p. Relative pcap paths are taken from the YAML file's
 * directory. -EINVAL with e = "file:line:col: field: problem"; unknown
 * fields are errors. *p is untouched on failure. */
int tg_profile_load(const struct bt_ydoc *d, const struct bt_ynode *n, struct tg_profile *p,
                    struct bt_err *e);
/* Loads a profile file: the mapping at the top level or under `traffic:`. */
int tg_profile_load_file(const char *path, struct tg_profile *p, struct bt_err *e);
/* Adds a template entry (flags --template / --synth). origin names it in
 * messages. -EINVAL (bad synth spec, too many templates) with e. */
int tg_profile_add_pcap(struct tg_profile *p, const char *path, struct bt_err *e);
int tg_profile_add_synth(struct tg_profile *p, const char *spec, struct bt_err *e);
/* Checks a --synth spec: "tcp|udp[,req=BYTES][,resp=BYTES[xCOUNT]][,rounds=N]
 * [,rtt=DUR][,port=N][,v6]" (docs/tgen.md). 0, or -EINVAL with e naming
 * the item and what to change. */
int tg_synth_check(const char *spec, struct bt_err *e);
/* Checks the profile without loading templates (rates, pools, ports,
 * sizes). 0 or -EINVAL with e saying what to change. */
int tg_profile_check(const struct tg_profile *p, struct bt_err *e);
/* After tg_engine_new(p) failed with e: when the template it could not load
 * is one a profile gave (origin "file:line:col"), prefixes e with that
 * position and the field ("pcap", or "flow" for a conversation the capture
 * does not hold), docs/tgen.md's promise for every profile error. It loads
 * the profile's pcaps again one by one: call it on the failure path only. */
void tg_profile_template_at(const struct tg_profile *p, struct bt_err *e);

/* Loads the templates (reads the pcaps: one template per conversation,
 * checksums recomputed; synthetic ones built with libnet) and prepares the
 * flows. seed drives every random choice (server addresses, template
 * choice, ISN offsets): same profile, seed and inputs, same packets. The
 * profile is copied. NULL with e ("file: packet N: problem", "no IP flows
 * in file", "unsupported link type", "impossible rate", ENOMEM...). */
struct tg_engine *tg_engine_new(const struct tg_profile *p, uint32_t seed, struct bt_err *e);
/* Sizes everything a run grows into for concurrent_flows flows at once (at
 * most the profile's concurrency cap): the flow slots, the closed loop's
 * hash, the queue of packets due. Call it before the first tg_tx /
 * tg_tx_fill / tg_rx_frame; from then on tg_tx_fill, tg_rx_frame, tg_next_ns,
 * tg_stop, tg_abort and tg_summary_get allocate nothing (a real-time loop:
 * the DPDK workers). The reservation becomes the concurrency cap (starts
 * wait for a free slot), and a packet due while the queue is full waits for
 * the next call (it leaves late, never lost). Without it the engine grows
 * as it goes (the offline backend, the plan runner). 0, -EINVAL (already
 * running or reserved), -E2BIG (too many flows), -ENOMEM. */
int tg_engine_reserve(struct tg_engine *g, uint64_t concurrent_flows);
/* Frees the engine (every packet from tg_tx must have been freed). Accepts
 * NULL; returns NULL. */
struct tg_engine *tg_engine_free(struct tg_engine *g);

/* Up to max packets due by now_ns, in time order; pkt->port is
 * TG_PORT_CLIENT or TG_PORT_SERVER, pkt->ts_ns when it was due, pkt->flags
 * BT_PKT_F_CLIENT/SERVER (+ BT_PKT_F_RETX), pkt->meta the flow number.
 * Ownership passes to the caller. */
unsigned tg_tx(struct tg_engine *g, uint64_t now_ns, struct bt_pkt **out, unsigned max);
/* Same into the caller's buffers: pkts[i].data must hold pkts[i].cap bytes
 * (>= 1522 for Ethernet templates with a VLAN tag); fills len, wire_len,
 * port, flags, ts_ns and meta. Returns how many were filled. */
unsigned tg_tx_fill(struct tg_engine *g, uint64_t now_ns, struct bt_pkt *pkts, unsigned max);
/* tg_tx_fill for a driver that needs only each frame's bytes, length and
 * port (the DPDK workers: no struct bt_pkt per packet): packet i is built
 * at (uint8_t *)bufs[i] + off, which must hold room bytes (as pkts[i].cap
 * above), and lp[i] = its length | its port << 16. The same packets in the
 * same order as tg_tx_fill. Returns how many were built; nothing changes
 * hands. */
unsigned tg_tx_frames(struct tg_engine *g, uint64_t now_ns, void *const *bufs, uint32_t off,
                      uint32_t room, uint32_t *lp, unsigned max);
/* Packets received on port (what the device under test delivered) at
 * now_ns. Takes ownership of all n (frees them). */
void tg_rx(struct tg_engine *g, uint64_t now_ns, uint16_t port, struct bt_pkt **pkts, unsigned n);
/* One received Ethernet frame; keeps nothing. */
void tg_rx_frame(struct tg_engine *g, uint64_t now_ns, uint16_t port, const uint8_t *frame,
                 uint32_t len);
/* When the engine next has something to do (a packet due, a flow to start,
 * a retransmission timeout); now or earlier means "call tg_tx now".
 * UINT64_MAX when it waits for nothing (done, or only on packets to receive
 * with no timer, which cannot happen in closed loop). */
uint64_t tg_next_ns(const struct tg_engine *g);
/* True when no flow is left to start and every started flow has completed
 * or failed. */
bool tg_done(const struct tg_engine *g);
/* Starts no new flow from now on (an interrupted run); active flows go on. */
void tg_stop(struct tg_engine *g, uint64_t now_ns);
/* Ends every active flow now, counting it neither completed nor failed
 * (aborted); tg_done is then true. */
void tg_abort(struct tg_engine *g, uint64_t now_ns);

/* Per-flow outcome callback (optional; fn NULL turns it off): called when a
 * flow completes (ok true) or fails (ok false: last retransmission
 * unanswered, or an unexpected RST). */
struct tg_flow_info {
    uint64_t flow;            /* flow number (pkt->meta) */
    unsigned tmpl;            /* template index */
    bool ok;
    bool reset;               /* ended by an unexpected RST */
    uint8_t proto, family;
    uint8_t client[16], server[16];   /* v4-mapped for IPv4 */
    uint16_t cport, sport;
    uint64_t start_ns, end_ns;
};
typedef void (*tg_flow_fn)(void *arg, const struct tg_flow_info *fi);
void tg_set_flow_cb(struct tg_engine *g, tg_flow_fn fn, void *arg);

/* Changes a port's source (src) and destination (dst) MACs for every
 * packet built from now on (a next hop that moved); NULL leaves one as it
 * is. Allocates nothing. */
void tg_set_macs(struct tg_engine *g, uint16_t port, const uint8_t *src, const uint8_t *dst);

/* Closed loop with several engines (profile part / nparts): the part that
 * owns a received Ethernet frame. Each flow's packets, both directions,
 * carry its tag (v4 IP identification, v6 flow label) and tag % nparts is
 * the flow's part, so a receiver can hand the frame to the engine whose
 * flow it is. 0 when nparts <= 1; nparts when the frame is no IP (ARP...),
 * for the receiver to keep. */
unsigned tg_frame_part(const uint8_t *frame, uint32_t len, unsigned nparts);

/* What the engine loaded. */
struct tg_tmpl_info {
    char name[TG_PATH_MAX + 32];  /* "file#k" or "synth:SPEC" */
    uint8_t proto, family;
    uint16_t server_port;
    uint32_t packets;             /* packets in the conversation */
    uint32_t client_packets;
    uint64_t bytes;
    uint64_t duration_ns;         /* template time of the last packet */
    double cps;                   /* its connection rate after weights and multipliers */
};
unsigned tg_template_count(const struct tg_engine *g);
int tg_template_info(const struct tg_engine *g, unsigned i, struct tg_tmpl_info *out);

/* Totals since the start (rates over duration_s). */
struct tg_summary {
    uint64_t tx_packets, tx_bytes;         /* both ports */
    uint64_t tx_client_packets, tx_server_packets;
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_matched;                   /* matched to a live flow */
    uint64_t rx_unmatched;                 /* no flow (late, foreign, malformed) */
    uint64_t flows_started, flows_completed, flows_failed, flows_active, flows_aborted;
    uint64_t rsts_seen;                    /* RSTs received that the template did not hold */
    uint64_t retransmits;                  /* closed loop: packets sent again */
    uint64_t nat_learned;                  /* flows whose translation was learned */
    uint64_t tx_pool_empty;                /* tg_tx found the pool empty */
    double duration_s;                     /* first tx to the last event */
    double tx_pps, tx_bps, rx_pps;         /* over duration_s */
    double cps;                            /* flows started per second */
    double completed_cps;                  /* flows completed per second */
    /* latency through the device (closed loop: send to receive of each
     * packet answered on the first transmission, Karn's rule) */
    uint64_t lat_samples;
    uint64_t lat_p50_ns, lat_p99_ns, lat_max_ns;
    uint64_t state_bytes_per_flow;         /* engine state per concurrent flow */
};
/* Fills *s as of now_ns (duration up to now_ns when later than the last event). */
void tg_summary_get(const struct tg_engine *g, uint64_t now_ns, struct tg_summary *s);
/* Adds src into dst (several engines, per-lcore): counts and rates add,
 * latency percentiles take the worst, duration the longest. */
void tg_summary_merge(struct tg_summary *dst, const struct tg_summary *src);
/* A new JSON object (jansson) with every field (docs/formats.md, tgen), or
 * NULL on ENOMEM. The caller owns it (json_decref). */
struct json_t *tg_summary_json(const struct tg_summary *s);

#endif
