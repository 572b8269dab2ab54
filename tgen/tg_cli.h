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

#endif
