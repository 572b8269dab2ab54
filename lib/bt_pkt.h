/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet buffer of the Core API (DESIGN.md). Cores take and return struct
 * bt_pkt; drivers own where the bytes come from (a pcap, a DPDK mbuf copy, a
 * pool). A pool hands out fixed-size buffers without malloc on the hot path.
 *
 * Ownership: a core's rx() takes ownership of every packet it accepts (it
 * frees or forwards it); tx() hands ownership of the returned packets to the
 * driver. bt_pkt_free() returns a packet to the pool it came from.
 */
#ifndef BT_PKT_H
#define BT_PKT_H

#include <stdint.h>

struct bt_pktpool;

enum {
    BT_PKT_F_CLIENT = 1U << 0,  /* sent by the client side of its flow */
    BT_PKT_F_SERVER = 1U << 1,  /* sent by the server side */
    BT_PKT_F_RETX   = 1U << 2,  /* a retransmission by a generator */
    BT_PKT_F_SYNC   = 1U << 3,  /* travels on a sync network, not data */
};

struct bt_pkt {
    uint64_t ts_ns;       /* time stamp: when it arrived or when it is due */
    uint8_t *data;        /* frame bytes (Ethernet unless the link says otherwise) */
    uint32_t len;         /* bytes valid in data (captured length) */
    uint32_t wire_len;    /* original length on the wire (>= len) */
    uint32_t cap;         /* bytes available in data */
    uint16_t port;        /* driver-defined port index */
    uint16_t flags;       /* BT_PKT_F_* */
    uint64_t meta;        /* owner's scratch: a flow id, a member id... */
    struct bt_pktpool *pool; /* where it returns on free; NULL: not pooled */
    struct bt_pkt *next;  /* free list / queue link, owner's use */
};

/* A pool of n packets of bufsize bytes each, allocated once. NULL on ENOMEM. */
struct bt_pktpool *bt_pktpool_new(uint32_t n, uint32_t bufsize);
/* Frees the pool; every packet must have been returned. Accepts NULL; returns NULL. */
struct bt_pktpool *bt_pktpool_free(struct bt_pktpool *p);
/* A packet with len = 0, ts_ns = 0, flags = 0, meta = 0, or NULL when empty. */
struct bt_pkt *bt_pkt_alloc(struct bt_pktpool *p);
/* Allocates and copies len bytes (truncated to the buffer size). NULL when empty. */
struct bt_pkt *bt_pkt_copy(struct bt_pktpool *p, const uint8_t *data, uint32_t len,
                           uint32_t wire_len, uint64_t ts_ns);
/* A copy of pkt (data and metadata) from pool p. NULL when empty. */
struct bt_pkt *bt_pkt_clone(struct bt_pktpool *p, const struct bt_pkt *pkt);
/* Returns pkt to its pool. Accepts NULL. */
void bt_pkt_free(struct bt_pkt *pkt);
uint32_t bt_pktpool_avail(const struct bt_pktpool *p);
uint32_t bt_pktpool_size(const struct bt_pktpool *p);

#endif
