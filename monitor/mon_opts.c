/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

void mon_opts_usage(FILE *f)
{
    fprintf(f,
            "usage: baton-monitor --connect PATH [--record FILE] [--batch [--interval S] [--count N]]\n"
            "       baton-monitor --replay FILE [--speed X] [--batch [--interval S] [--count N]]\n"
            "options: --sort id|pps|off-share|conns|cpu|state   --ascii (no block characters)\n"
            "Shows a baton cluster's stats stream (docs/formats.md, section 2): per member\n"
            "state, weight, expected and actual share, rates, connections, HyperSync traffic,\n"
            "corrections, drops, CPU, and the cluster's events. Keys: h in the live screen.\n"
            "See docs/monitor.md.\n");
}

/* A number in lo..hi: the pacing multiplies and divides by these and
 * keeps nanoseconds in a uint64_t, so a value past the range would wait
 * for ages or overflow. */
static int parse_double(const char *name, const char *s, double lo, double hi, double *out,
                        struct bt_err *e)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    if (errno || end == s || *end || !(*out >= lo && *out <= hi))
        return bt_err_set(e, "%s '%s': expected a number %g..%g", name, s, lo, hi);
    return 0;
}

int mon_opts_parse(int argc, char **argv, struct mon_opts *o, struct bt_err *e)
{
    static const struct option lopts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"replay", required_argument, NULL, 'r'},
        {"record", required_argument, NULL, 'R'},
        {"speed", required_argument, NULL, 'x'},
        {"batch", no_argument, NULL, 'b'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'n'},
        {"sort", required_argument, NULL, 's'},
        {"ascii", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    memset(o, 0, sizeof(*o));
    /* 0: glibc starts afresh (1 would go on inside an earlier cluster of
     * short options); no getopt message: the caller prints e */
    optind = 0;
    opterr = 0;
    o->count = -1;
    o->interval = 1;
    o->speed = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->connect = optarg; break;
        case 'r': o->replay = optarg; break;
        case 'R': o->record = optarg; break;
        case 'b': o->batch = true; break;
        case 'a': o->ascii = true; break;
        case 'x':
            if (parse_double("--speed", optarg, 0.001, 1e6, &o->speed, e) < 0)
                return -EINVAL;
            o->speed_set = true;
            break;
        case 'i':
            if (parse_double("--interval", optarg, 0.001, 86400, &o->interval, e) < 0)
                return -EINVAL;
            o->interval_set = true;
            break;
        case 'n':
            /* digits only: strtol also takes " 2" and "+2" */
            errno = 0;
            o->count = strtol(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || errno || *end || o->count < 1)
                return bt_err_set(e, "--count '%s': expected a number >= 1", optarg);
            break;
        case 's': {
            int k;
            for (k = 0; k < MON_SORT_N; k++)
                if (strcmp(optarg, mon_sort_name((enum mon_sort)k)) == 0)
                    break;
            if (k == MON_SORT_N)
                return bt_err_set(e, "--sort '%s': expected id, pps, off-share, conns, cpu or state", optarg);
            o->sort = (enum mon_sort)k;
            break;
        }
        case 'h':
            return 1;
        default: {
            /* optind is past the option, or still on a cluster ("-xy") */
            int i = optind > 1 && optind - 1 < argc ? optind - 1 : 1;
            o->usage = true;
            return bt_err_set(e, "unknown option or missing value: '%s'", i < argc ? argv[i] : "");
        }
        }
    }
    if (optind < argc)
        return bt_err_set(e, "unexpected argument '%s'", argv[optind]);
    if (!o->connect == !o->replay) {
        o->usage = true;
        return bt_err_set(e, "give one of --connect PATH or --replay FILE");
    }
    if (o->record && !o->connect)
        return bt_err_set(e, "--record needs --connect");
    if (o->connect && o->speed_set)
        return bt_err_set(e, "--speed is for --replay");
    if (!o->batch && (o->interval_set || o->count > 0))
        return bt_err_set(e, "--interval and --count are for --batch");
    if (o->connect && strlen(o->connect) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return bt_err_set(e, "--connect %s: path too long for a UNIX socket", o->connect);
    return 0;
}
