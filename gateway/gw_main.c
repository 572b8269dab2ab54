/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-gateway: the reference cluster.
 *   baton-gateway sim --out DIR [--members N] [--weights W1,W2,...] [--mode M]
 *       [--no-l4] [--flows N] [--cps N] [--exchanges K] [--interval DUR]
 *       [--fail ID@TIME]... [--fault no-sync|asymmetric|ignore-weights]...
 *       [--dead DUR] [--seed N] [--json]
 * Exit 0 on success, 2 on bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_yaml.h"
#include "gw_api.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: baton-gateway sim --out DIR [--config CLUSTER.yaml] [--members N] [--weights W1,W2,...]\n"
            "           [--mode general|user|network|auto] [--no-l4] [--flows N] [--cps N]\n"
            "           [--exchanges K] [--interval DUR] [--fail ID@TIME]... [--join ID@TIME[:W]]...\n"
            "           [--weight ID=W@TIME]... [--restore ID@TIME]...\n"
            "           [--fault no-sync|asymmetric|ignore-weights|no-correction]... [--dead DUR]\n"
            "           [--seed N] [--json]\n"
            "Simulates the cluster on a virtual clock with closed-loop TCP clients and\n"
            "servers and writes a capture set to DIR (docs/formats.md). See docs/gateway.md.\n");
}

static int bad(const char *opt, const char *val, const char *what)
{
    fprintf(stderr, "baton-gateway: %s '%s': %s\n", opt, val, what);
    return 2;
}

static int ulong_arg(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int cmd_sim(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"members", required_argument, NULL, 'm'},
        {"weights", required_argument, NULL, 'w'},
        {"mode", required_argument, NULL, 'M'},
        {"no-l4", no_argument, NULL, 'L'},
        {"flows", required_argument, NULL, 'f'},
        {"cps", required_argument, NULL, 'c'},
        {"exchanges", required_argument, NULL, 'x'},
        {"interval", required_argument, NULL, 'i'},
        {"fail", required_argument, NULL, 'F'},
        {"fault", required_argument, NULL, 'X'},
        {"dead", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"config", required_argument, NULL, 'C'},
        {"join", required_argument, NULL, 'J'},
        {"restore", required_argument, NULL, 'R'},
        {"weight", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct gw_sim_opts o;
    struct gw_sim_result res;
    struct bt_err e = {""};
    unsigned long long v;
    uint64_t ns;
    bool json = false;
    char *weights = NULL;
    int c;

    gw_sim_opts_default(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'm':
            if (ulong_arg(optarg, GW_MAX_MEMBERS, &v) < 0 || v == 0)
                return bad("--members", optarg, "must be 1..64");
            o.cluster.nmembers = (unsigned)v;
            break;
        case 'w': weights = optarg; break;
        case 'M': {
            enum bt_dist_mode m;
            if (bt_dist_mode_parse(optarg, &m) < 0)
                return bad("--mode", optarg, "must be general, user, network or auto");
            o.cluster.mode = m;
            break;
        }
        case 'L': o.cluster.l4 = false; break;
        case 'f':
            if (ulong_arg(optarg, 10000000, &v) < 0 || v == 0)
                return bad("--flows", optarg, "must be 1..10000000");
            o.flows = v;
            break;
        case 'c': {
            double q;
            if (bt_parse_quantity(optarg, &q) < 0 || q <= 0)
                return bad("--cps", optarg, "must be a positive rate (e.g. 5000, 10k)");
            o.cps = q;
            break;
        }
        case 'x':
            if (ulong_arg(optarg, 100000, &v) < 0)
                return bad("--exchanges", optarg, "must be 0..100000");
            o.exchanges = (unsigned)v;
            break;
        case 'i':
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                return bad("--interval", optarg, "must be a duration (e.g. 50ms)");
            o.interval_ns = ns;
            break;
        case 'F':
        case 'R': {
            char *at = strchr(optarg, '@');
            const char *fopt = c == 'R' ? "--restore" : "--fail";
            if (o.nfails >= GW_SIM_MAX_FAILS)
                return bad(fopt, optarg, "too many events (at most 16)");
            if (!at)
                return bad(fopt, optarg, "expected ID@TIME, e.g. 2@1.5s");
            *at = 0;
            if (ulong_arg(optarg, GW_MAX_MEMBERS, &v) < 0 || v == 0 ||
                bt_parse_duration_ns(at + 1, &ns) < 0) {
                *at = '@';
                return bad(fopt, optarg, "expected ID@TIME with ID 1..64, e.g. 2@1.5s");
            }
            o.fail_sgm[o.nfails] = (int)v;
            o.fail_kind[o.nfails] = c == 'R' ? BT_EV_SGM_UP : BT_EV_SGM_DOWN;
            o.fail_ns[o.nfails++] = ns;
            break;
        }
        case 'J':
        case 'W': {
            /* --join ID@TIME[:WEIGHT], --weight ID=WEIGHT@TIME */
            const char *opt = c == 'J' ? "--join" : "--weight";
            char *at = strchr(optarg, '@'), *colon, *eq = strchr(optarg, '=');
            unsigned long long w = 100;
            if (o.nfails >= GW_SIM_MAX_FAILS)
                return bad(opt, optarg, "too many events (at most 16)");
            if (!at || (c == 'W' && (!eq || eq > at)))
                return bad(opt, optarg, c == 'J' ? "expected ID@TIME[:WEIGHT], e.g. 5@2s:100"
                                                 : "expected ID=WEIGHT@TIME, e.g. 1=300@2s");
            *at = 0;
            colon = c == 'J' ? strchr(at + 1, ':') : NULL;
            if (colon)
                *colon = 0;
            if (eq)
                *eq = 0;
            int okid = ulong_arg(optarg, GW_MAX_MEMBERS, &v) == 0 && v > 0;
            int okw = c == 'J' ? (!colon || ulong_arg(colon + 1, 512, &w) == 0)
                               : ulong_arg(eq + 1, 512, &w) == 0;
            int okt = bt_parse_duration_ns(at + 1, &ns) == 0;
            if (!okid || !okw || !okt)
                return bad(opt, at + 1, "bad member (1..64), weight (0..512) or time");
            o.fail_sgm[o.nfails] = (int)v;
            o.fail_kind[o.nfails] = c == 'J' ? BT_EV_SGM_JOIN : BT_EV_WEIGHT;
            o.fail_weight[o.nfails] = (unsigned)w;
            o.fail_ns[o.nfails++] = ns;
            break;
        }
        case 'X': {
            uint32_t bit;
            if (gw_fault_parse(optarg, &bit) < 0)
                return bad("--fault", optarg, "must be no-sync, asymmetric, ignore-weights or no-correction");
            o.cluster.faults |= bit;
            break;
        }
        case 'd':
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                return bad("--dead", optarg, "must be a duration (e.g. 300ms)");
            o.cluster.dead_ns = ns;
            break;
        case 's':
            if (ulong_arg(optarg, UINT32_MAX, &v) < 0)
                return bad("--seed", optarg, "must be 0..4294967295");
            o.cluster.seed = (uint32_t)v;
            break;
        case 'j': json = true; break;
        case 'C': {
            /* a cluster file: the `cluster:` mapping, at the top or under
             * `cluster:`; options after it on the command line override it */
            struct bt_ydoc *d = bt_yaml_load(optarg, &e);
            const struct bt_ynode *n = d ? bt_y_get(d->root, "cluster") : NULL;
            if (d && !n)
                n = d->root;
            if (!d || gw_config_load(d, n, &o.cluster, &e) < 0) {
                fprintf(stderr, "baton-gateway: %s\n", e.msg);
                bt_yaml_free(d);
                return 2;
            }
            bt_yaml_free(d);
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "baton-gateway: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o.out) {
        fprintf(stderr, "baton-gateway: --out DIR is required\n");
        usage(stderr);
        return 2;
    }
    if (weights) {
        char *p = weights, *end;
        for (unsigned i = 1; i <= o.cluster.nmembers; i++) {
            unsigned long w = strtoul(p, &end, 10);
            if (end == p || w > 512 || (*end && *end != ','))
                return bad("--weights", weights, "expected one weight 0..512 per member, comma-separated");
            o.cluster.weight[i] = (unsigned)w;
            p = *end ? end + 1 : end;
            if (!*end && i < o.cluster.nmembers)
                return bad("--weights", weights, "fewer weights than --members");
        }
        if (*p)
            return bad("--weights", weights, "more weights than --members");
    }
    unsigned members = o.cluster.nmembers;
    for (unsigned k = 0; k < o.nfails; k++)
        if (o.fail_kind[k] == BT_EV_SGM_JOIN && (unsigned)o.fail_sgm[k] == members + 1)
            members++;
    for (unsigned k = 0; k < o.nfails; k++)
        if (o.fail_kind[k] == BT_EV_SGM_JOIN && (unsigned)o.fail_sgm[k] > members) {
            fprintf(stderr, "baton-gateway: --join %d@...: members join in order (next is %u)\n",
                    o.fail_sgm[k], o.cluster.nmembers + 1);
            return 2;
        }
    for (unsigned k = 0; k < o.nfails; k++)
        if ((unsigned)o.fail_sgm[k] > members) {
            fprintf(stderr, "baton-gateway: --fail %d@...: no such member (--members %u)\n",
                    o.fail_sgm[k], o.cluster.nmembers);
            return 2;
        }
    if (gw_sim_run(&o, &res, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
    FILE *f = json ? stderr : stdout;
    fprintf(f,
            "baton-gateway sim: %u members, %llu flows: %llu completed, %llu failed, %llu retransmits; "
            "virtual time %.3f s\n  cluster: %llu packets in, %llu out, %llu connections, %llu backups synced, "
            "%llu promoted, %llu corrected, %llu dropped (dead member), %llu dropped (out of state)\n  capture set: %s\n",
            o.cluster.nmembers, (unsigned long long)res.flows,
            (unsigned long long)res.flows_completed, (unsigned long long)res.flows_failed,
            (unsigned long long)res.retransmits, (double)res.end_ns / 1e9,
            (unsigned long long)res.gw.rx, (unsigned long long)res.gw.tx,
            (unsigned long long)res.gw.conns, (unsigned long long)res.gw.backups,
            (unsigned long long)res.gw.promoted, (unsigned long long)res.gw.corrections,
            (unsigned long long)res.gw.drops_dead, (unsigned long long)res.gw.drops_state, o.out);
    if (json)
        printf("{\"flows\": %llu, \"flows_completed\": %llu, \"flows_failed\": %llu, "
               "\"retransmits\": %llu, \"sim_s\": %.9f, \"rx\": %llu, \"tx\": %llu, "
               "\"conns\": %llu, \"backups\": %llu, \"promoted\": %llu, \"drops_dead\": %llu, "
               "\"drops_state\": %llu, \"corrections\": %llu}\n",
               (unsigned long long)res.flows, (unsigned long long)res.flows_completed,
               (unsigned long long)res.flows_failed, (unsigned long long)res.retransmits,
               (double)res.end_ns / 1e9, (unsigned long long)res.gw.rx,
               (unsigned long long)res.gw.tx, (unsigned long long)res.gw.conns,
               (unsigned long long)res.gw.backups, (unsigned long long)res.gw.promoted,
               (unsigned long long)res.gw.drops_dead, (unsigned long long)res.gw.drops_state,
               (unsigned long long)res.gw.corrections);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sim") == 0)
        return cmd_sim(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2)
        fprintf(stderr, "baton-gateway: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
