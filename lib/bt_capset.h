/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture set (DESIGN.md contract 1; docs/formats.md): a directory with
 * sgm-<id>.pcap per member, client.pcap, server.pcap, events.jsonl,
 * optional corrections.jsonl and nat.jsonl, and capset.json describing them.
 * This module reads and writes the JSON parts; pcaps go through bt_pcap.
 */
#ifndef BT_CAPSET_H
#define BT_CAPSET_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

struct bt_err;
struct bt_pkt;
struct json_t;

#define BT_CAPSET_SCHEMA 1
#define BT_CAPSET_MAX_MEMBERS 64
#define BT_CAPSET_MAX_POOLS 8

enum bt_event_kind {
    BT_EV_SGM_DOWN = 0,
    BT_EV_SGM_UP,
    BT_EV_SGM_JOIN,
    BT_EV_WEIGHT,
    BT_EV_POLICY,
};

/* One line of events.jsonl: {"t": s, "event": name, "sgm": id, ...}.
 * weight: for BT_EV_WEIGHT (and join); version: for BT_EV_POLICY.
 * Unknown extra keys are ignored on read. */
struct bt_event {
    uint64_t t_ns;
    enum bt_event_kind kind;
    int sgm;          /* 0 when the event concerns no single member (policy) */
    int weight;       /* -1 when absent */
    int version;      /* -1 when absent */
    char detail[64];  /* free text, e.g. "detected_after_ms=300"; may be empty */
    unsigned line;    /* line in the events file it was read from (0: not read from one) */
};

/* One line of corrections.jsonl: a packet forwarded from a non-owner to the owner. */
struct bt_correction {
    uint64_t t_ns;
    uint8_t src[16], dst[16];  /* directional tuple of the packet, v4-mapped */
    uint16_t sport, dport;
    uint8_t proto;
    int from, to;
    unsigned line;             /* line in the file it was read from (0: not read from one) */
};

/* One line of nat.jsonl: original (client-side) and translated (server-side)
 * tuple, both as seen in the client-to-server direction. */
struct bt_nat_map {
    uint64_t t_ns;
    uint8_t proto;
    uint8_t osrc[16], odst[16]; uint16_t osport, odport;
    uint8_t tsrc[16], tdst[16]; uint16_t tsport, tdport;
};

enum {
    BT_CAPSET_HAS_CLIENT      = 1U << 0,
    BT_CAPSET_HAS_SERVER      = 1U << 1,
    BT_CAPSET_HAS_EVENTS      = 1U << 2,
    BT_CAPSET_HAS_CORRECTIONS = 1U << 3,
    BT_CAPSET_HAS_NAT         = 1U << 4,
};

struct bt_capset_meta {
    int schema;                 /* BT_CAPSET_SCHEMA */
    unsigned nmembers;
    int ids[BT_CAPSET_MAX_MEMBERS];       /* 1..64 */
    unsigned weights[BT_CAPSET_MAX_MEMBERS];
    char mode[16];              /* "general", "user", "network", "auto" */
    bool l4;
    unsigned npools;
    char nat_pools[BT_CAPSET_MAX_POOLS][48];   /* CIDR strings */
    uint32_t files;             /* BT_CAPSET_HAS_* */
    char generator[64];         /* who wrote it, e.g. "baton-gateway sim 0.1.0" */
};

/* Reads dir/capset.json. -errno with e filled ("dir/capset.json:line:col: ..."). */
int bt_capset_read_meta(const char *dir, struct bt_capset_meta *m, struct bt_err *e);
int bt_capset_write_meta(const char *dir, const struct bt_capset_meta *m, struct bt_err *e);
/* "dir/sgm-<id>.pcap" etc. into buf; returns buf. */
char *bt_capset_path(const char *dir, const char *name, char *buf, unsigned len);
char *bt_capset_sgm_path(const char *dir, int id, char *buf, unsigned len);

const char *bt_event_name(enum bt_event_kind k);
int bt_event_kind_parse(const char *s, enum bt_event_kind *out);
/* Writes one JSON line (with '\n'). 0 or -errno. */
int bt_event_write(FILE *f, const struct bt_event *ev);
int bt_correction_write(FILE *f, const struct bt_correction *c);
int bt_nat_write(FILE *f, const struct bt_nat_map *n);

/* Reads a whole JSON-lines file into a malloc'd array (*out, *n; caller frees).
 * Blank lines are skipped; anything else that is not a valid record is an
 * error "path:line: problem". Events come back sorted by time (stable). */
int bt_events_read(const char *path, struct bt_event **out, size_t *n, struct bt_err *e);
int bt_corrections_read(const char *path, struct bt_correction **out, size_t *n, struct bt_err *e);
int bt_nat_read(const char *path, struct bt_nat_map **out, size_t *n, struct bt_err *e);

/* Calls fn once per object line of a JSON-lines file (blank lines skipped)
 * with the line's text (for exact numbers: bt_jsonl_time_ns), its parsed
 * object (borrowed) and its number. A line that is not a JSON object, a NUL
 * byte, a duplicate key or a read error (a directory) stops it: -errno with
 * e = "path:line[:col]: problem". fn returns 0, or -errno with e filled,
 * which stops it too. The readers above and the gateway's events use it. */
typedef int (*bt_jsonl_fn)(void *ctx, const char *line, size_t len, struct json_t *o,
                           unsigned lineno, struct bt_err *e);
int bt_jsonl_each(const char *path, bt_jsonl_fn fn, void *ctx, struct bt_err *e);

/* The "t" of one parsed JSON line (o, parsed from line[0..len)) in integer
 * nanoseconds, exact from its decimal text (the rule of docs/formats.md §2).
 * 0, -ENOENT (no "t"), -EINVAL (not a number) or -ERANGE (not 0..1e10 s). */
int bt_jsonl_time_ns(const char *line, size_t len, struct json_t *o, uint64_t *t_ns);


/* Writer for drivers (the gateway sim, the plan runner, tgen --capture): opens
 * dir (created if missing, like mkdir -p), then the member pcaps on first use.
 * All pcaps are Ethernet, nanosecond. Takes no ownership of packet data. */
struct bt_capset_writer;
struct bt_capset_writer *bt_capset_writer_open(const char *dir, struct bt_err *e);
/* Appends a packet the distributor delivered to member id (1..64). */
int bt_capset_writer_sgm(struct bt_capset_writer *w, int id, uint64_t ts_ns,
                         const uint8_t *data, uint32_t caplen, uint32_t wire_len);
/* Appends a packet seen on the client-side / server-side link. */
int bt_capset_writer_client(struct bt_capset_writer *w, uint64_t ts_ns,
                            const uint8_t *data, uint32_t caplen, uint32_t wire_len);
int bt_capset_writer_server(struct bt_capset_writer *w, uint64_t ts_ns,
                            const uint8_t *data, uint32_t caplen, uint32_t wire_len);
/* n packets seen on a link at ts_ns, each its first snaplen bytes (0: all):
 * what as many calls of the functions above write (stopping at the first
 * error). */
int bt_capset_writer_client_pkts(struct bt_capset_writer *w, uint64_t ts_ns,
                                 struct bt_pkt *const *pkts, unsigned n, uint32_t snaplen);
int bt_capset_writer_server_pkts(struct bt_capset_writer *w, uint64_t ts_ns,
                                 struct bt_pkt *const *pkts, unsigned n, uint32_t snaplen);
int bt_capset_writer_event(struct bt_capset_writer *w, const struct bt_event *ev);
int bt_capset_writer_correction(struct bt_capset_writer *w, const struct bt_correction *c);
int bt_capset_writer_nat(struct bt_capset_writer *w, const struct bt_nat_map *n);
/* Declares that both links are captured: client.pcap and server.pcap are
 * created now (empty while no packet reaches them) and capset.json lists
 * both. A driver that captures the links calls it right after open, so that
 * a side the cluster delivered nothing to is an empty capture (100 % loss),
 * not a missing one. 0 or -errno (the writer's error). */
int bt_capset_writer_links(struct bt_capset_writer *w);
/* Flushes and closes every file, then writes capset.json from m (its files
 * field is filled in from what was written; every member in m gets an
 * sgm-<id>.pcap, empty if it saw nothing; the link captures come in pairs:
 * if one of client.pcap / server.pcap was written, the other is created,
 * empty if nothing reached it). 0 or the first -errno seen, e filled.
 * Accepts NULL w. */
int bt_capset_writer_close(struct bt_capset_writer *w, const struct bt_capset_meta *m,
                           struct bt_err *e);

#endif
