/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-gateway sim's command line (docs/gateway.md): parsed into struct
 * gw_opts without printing, so that the binary only reports and runs, and
 * the parser is tested and fuzzed on its own (as mon_opts.c, tg_cli.c).
 */
#ifndef GW_OPTS_H
#define GW_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bt_err.h"
#include "gw_api.h"

/* the bound on the sim's event times, --interval, --dead, --detect-delay
 * and the flows' opening: a cluster file's (gw_config.c) */
#define GW_OPTS_DUR_MAX (3600ULL * 1000000000ULL)
/* a live run's --duration and --stats-interval at most (added to the
 * epoch clock; the timeline's times are bounded by GW_OPTS_DUR_MAX) */
#define GW_OPTS_LIVE_MAX (366ULL * 86400ULL * 1000000000ULL)

struct gw_opts {
    struct gw_sim_opts sim;    /* the cluster (--config, then the flags), closed loop, timeline */
    bool json;
    bool replay;               /* --client-pcap/--server-pcap or --pcap-in: gw_replay_run */
    const char *client_pcap, *server_pcap, *events, *stats;
    uint64_t max_gap_ns;       /* --max-gap (replay; 60 s) */
    unsigned members;          /* closed loop: members after the joins */
    bool live;                 /* argv[0] "live": gw_live_run between two interfaces */
    const char *client_if, *server_if;   /* live: --client-if, --server-if */
    bool usage;                /* on a refusal: the usage belongs after the message */
    char cpath[4096], spath[4096];   /* --pcap-in DIR's two captures */
};

/* argv ("sim" or "live" first) into *o over gw_sim_opts_default; loads --config.
 * argv is left as it was (getopt may reorder it). 0; 1 for --help (the
 * caller prints gw_opts_usage to stdout, exit 0); -EINVAL (or -ENOMEM)
 * with e saying what to change, the message the binary prints after
 * "baton-gateway: " (exit 2). */
int gw_opts_parse(int argc, char **argv, struct gw_opts *o, struct bt_err *e);
void gw_opts_usage(FILE *f);

#endif
