/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tgen internals shared by the modules of tgen_core (not part of the API).
 */
#ifndef TG_PRIV_H
#define TG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_api.h"

struct bt_err;

/* One packet of a template: an untagged Ethernet frame in the template's
 * blob, with what the engine rewrites located once at load time. */
struct tg_tpkt {
    uint64_t rel_ns;      /* after ipg/rtt overrides, before speed */
    uint32_t off;         /* into the blob */
    uint16_t len;         /* frame bytes */
    uint8_t side;         /* 0 client, 1 server */
    uint8_t tcp_flags;    /* BT_TCP_* (0 for UDP) */
    uint16_t l4;          /* offset of the L4 header (the IP header is at 14) */
    uint16_t paylen;      /* L4 payload bytes */
    uint16_t sack_off;    /* offset of a TCP SACK option (0: none) */
    uint8_t sack_len;     /* its length */
    uint8_t ph_src_only;  /* IPv6: the pseudo-header's destination is not the header's (a
                           * routing header's final address, kept): only the source's
                           * rewrite enters the L4 checksum (tg_engine.c plan_templates) */
    uint32_t seq, ack;    /* TCP, host order, as in the template */
    /* the engine's rewrite plan (tg_engine_new): sums of the one's
     * complements of the words it overwrites (RFC 1624 eqn. 3, ~m), as
     * 16-bit words loaded from the frame's bytes: the addresses, the
     * client port, the TCP sequence and acknowledgment numbers */
    uint32_t cs_addr, cs_port, cs_seq, cs_ack;
};

struct tg_tmpl {
    char name[TG_PATH_MAX + 32];
    uint8_t family;       /* 4 or 6 */
    uint8_t proto;        /* 6 or 17 */
    uint16_t cport, sport;/* template ports (host order) */
    uint8_t caddr[16], saddr[16]; /* template addresses (v4-mapped) */
    uint32_t n, nclient;
    struct tg_tpkt *p;
    const uint8_t *blob;  /* shared by the templates of one pcap */
    uint64_t bytes;
    unsigned entry;       /* profile template entry it came from */
    uint32_t fbase;       /* the engine's: index of packet 0 in its rate max plans */
};

/* A set of templates and the blobs they point into. */
struct tg_tset {
    unsigned n, cap;
    struct tg_tmpl *t;
    unsigned nblobs, blobcap;
    uint8_t **blobs;
    uint64_t skipped;     /* packets that were no TCP/UDP over IP (ARP...) */
};

/* Adds the conversations of a pcap as templates (one per flow, or only the
 * k-th if cfg->flow >= 0). -EINVAL with e ("file: packet N: problem"). */
int tg_tset_add_pcap(struct tg_tset *s, const struct tg_tmpl_cfg *cfg, unsigned entry,
                     struct bt_err *e);
/* Adds a synthetic template built with libnet. */
int tg_tset_add_synth(struct tg_tset *s, const struct tg_tmpl_cfg *cfg, unsigned entry,
                      struct bt_err *e);
/* The set takes ownership of blob (frees it at once on ENOMEM). */
int tg_tset_keep_blob(struct tg_tset *s, uint8_t *blob);
/* Adds a template from frames in a blob the set keeps (untagged Ethernet,
 * checksums right): used by both loaders. */
int tg_tset_add_frames(struct tg_tset *s, const char *name, unsigned entry, const uint8_t *blob,
                       const uint32_t *offs, const uint32_t *lens, const uint64_t *ts,
                       const uint8_t *side, uint32_t n, struct bt_err *e);
void tg_tset_clear(struct tg_tset *s);
/* Applies ipg/rtt overrides of cfg to template t. */
void tg_tmpl_retime(struct tg_tmpl *t, uint64_t ipg_ns, uint64_t rtt_ns);

/* Synth spec parsed (tg_synth.c). */
struct tg_synth {
    bool tcp, v6;
    unsigned req, resp, nresp, rounds;
    uint64_t rtt_ns;
    uint16_t port;
};
int tg_synth_parse(const char *spec, struct tg_synth *out, struct bt_err *e);

/* Latency histogram: 32 sub-buckets per power of two (~3 %). */
#define TG_HIST_N (64 + 48 * 32)
struct tg_hist {
    uint64_t n, min, max;
    uint32_t c[TG_HIST_N];
};
void tg_hist_add(struct tg_hist *h, uint64_t v);
uint64_t tg_hist_pct(const struct tg_hist *h, double pct);

#endif
