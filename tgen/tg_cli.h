/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen's driver side (not the core): command-line options, the
 * --stats lines, the live status line and the final summary, shared by the
 * offline backend (tg_main.c) and the DPDK backend (tg_dpdk.c).
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tg_api.h"

struct bt_err;
struct json_t;

/* A port's own addresses and next hop (DPDK, real labs): the backend
 * answers ARP and neighbour solicitations for ip4/ip6 and resolves the
 * gateway's MAC, which becomes the port's destination MAC. */
struct tg_port_ip {
    bool has4, has6, gw4_set, gw6_set;
    uint8_t ip4[4], ip6[16], gw4[4], gw6[16];
};

struct tg_opts {
    struct tg_profile prof;
    uint32_t seed;
    bool json;
    bool quiet;
    const char *stats_path;
    const char *pcap_out;      /* offline: directory for client.pcap / server.pcap */
    const char *capture_dir;   /* DPDK: what each port sent and received */
    uint64_t wire_ns;          /* offline closed loop: a perfect wire's delay */
    bool wire;                 /* offline: loop each port's packets to the other */
    unsigned workers;          /* DPDK worker lcores (default 1) */
    uint32_t mbufs;            /* DPDK mbufs per port (0: derived) */
    uint64_t line_bps;         /* offline rate max: the virtual line (default 10G) */
    bool no_rx;                /* DPDK open loop: do not poll the rx queues */
    struct tg_port_ip port_ip[2]; /* DPDK: --client-ip/-gw (port 0), --server-ip/-gw (port 1) */
    uint64_t neigh_refresh_ns; /* DPDK: next hops asked again this often (0: never; default 1 s) */
};

/* Parses argv (the part after EAL arguments, program name first) into *o
 * over defaults. 0; 1 when --help was printed; -EINVAL with e saying what to
 * change (exit 2). Profile files named by --profile are loaded here. */
int tg_cli_parse(int argc, char **argv, struct tg_opts *o, struct bt_err *e);
void tg_cli_usage(FILE *f);

/* One --stats line for the interval since prev (NULL: since the start):
 * {"schema":1,"t":..,...} without a newline, into buf. */
int tg_cli_stats_line(const struct tg_summary *cur, const struct tg_summary *prev, double t_s,
                      double interval_s, char *buf, size_t len);
/* The one-line live status (no newline). */
void tg_cli_status(const struct tg_summary *cur, const struct tg_summary *prev, double interval_s,
                   char *buf, size_t len);
/* The final human summary (several lines) to f. */
void tg_cli_summary(FILE *f, const struct tg_summary *s);

/* What a run prints, shared by the backends: --stats lines (one per call of
 * tg_cli_out_stats, the interval since the previous one), the live status
 * on a terminal (at most every 500 ms) and, at the end, the last stats
 * line, the human summary and the --json object. */
struct tg_cli_out {
    const struct tg_opts *o;
    FILE *stats;
    bool live;
    double t_stat;             /* time of the last stats line (s) */
    uint64_t last_live_ns;     /* wall clock of the last status line */
    struct tg_summary prev_stat, prev_live;
};
/* Opens --stats FILE. 0, or -errno with e naming the file. */
int tg_cli_out_open(struct tg_cli_out *out, const struct tg_opts *o, struct bt_err *e);
/* One stats line as of t_s (a no-op without --stats). */
void tg_cli_out_stats(struct tg_cli_out *out, const struct tg_summary *s, double t_s);
/* Whether the live status is due at wall_ns (a monotonic clock). */
bool tg_cli_out_live_due(const struct tg_cli_out *out, uint64_t wall_ns);
/* Prints the live status for s at wall_ns. */
void tg_cli_out_live(struct tg_cli_out *out, const struct tg_summary *s, uint64_t wall_ns);
/* Ends the run: the last stats line as of t_s, the summary (unless --quiet)
 * and with --json one object on stdout: tg_summary_json(s) with "backend"
 * and "seed" and every key of extra (taken over; may be NULL). Closes the
 * stats file. 0, or 2 when a write failed (said on stderr). */
int tg_cli_out_close(struct tg_cli_out *out, const struct tg_summary *s, double t_s,
                     const char *backend, struct json_t *extra);

#endif
