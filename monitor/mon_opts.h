/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-monitor's command line (docs/monitor.md): parsed into struct
 * mon_opts without printing, so that the binary only reports and the
 * parser is tested and fuzzed on its own.
 */
#ifndef MON_OPTS_H
#define MON_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "bt_err.h"
#include "mon_model.h"

struct mon_opts {
    const char *connect, *replay, *record;
    bool batch, ascii;
    bool interval_set, speed_set;
    double interval, speed;   /* 0.001..86400 s, 0.001..1e6 */
    long count;               /* frames; -1: no limit */
    enum mon_sort sort;
    bool usage;               /* on a refusal: the usage belongs after the message */
};

/* argv (program name first) into *o over defaults. 0; 1 for --help (the
 * caller prints mon_opts_usage to stdout, exit 0); -EINVAL with e saying
 * what to change (exit 2). */
int mon_opts_parse(int argc, char **argv, struct mon_opts *o, struct bt_err *e);
void mon_opts_usage(FILE *f);

#endif
