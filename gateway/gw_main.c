/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-gateway: the reference cluster (docs/gateway.md).
 *   baton-gateway sim --out DIR [--config CLUSTER.yaml] ...   closed-loop TCP endpoints
 *   baton-gateway sim --out DIR --client-pcap C --server-pcap S | --pcap-in DIR
 *                     [--events EVENTS.yaml|jsonl] ...        open-loop replay
 *   baton-gateway check-config CLUSTER.yaml                   load and validate only
 * Exit 0 on success, 2 on bad usage or input (file:line:col).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_yaml.h"
#include "gw_api.h"
#include "gw_serve.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: baton-gateway sim --out DIR [--config CLUSTER.yaml] [--members N] [--weights W1,W2,...]\n"
            "           [--mode general|user|network|auto] [--no-l4] [--seed N] [--dead DUR]\n"
            "           [--fault no-sync|asymmetric|ignore-weights|no-correction|sync-loss|slow-detection|\n"
            "                    stale-policy]...\n"
            "           [--sync-loss PCT] [--detect-delay DUR] [--stats-interval DUR]\n"
            "           [--serve PATH [--speed X] [--duration DUR]] [--json]\n"
            "         closed loop (default): [--flows N] [--cps N] [--exchanges K] [--interval DUR]\n"
            "           [--fail ID@TIME]... [--join ID@TIME[:W]]... [--weight ID=W@TIME]... [--restore ID@TIME]...\n"
            "         replay: --client-pcap FILE --server-pcap FILE | --pcap-in DIR (client.pcap, server.pcap)\n"
            "           [--events EVENTS.yaml|EVENTS.jsonl] [--max-gap DUR] [--stats FILE]\n"
            "       baton-gateway check-config CLUSTER.yaml\n"
            "Simulates the cluster on a virtual clock and writes a capture set to DIR\n"
            "(docs/formats.md) and DIR/stats.jsonl. See docs/gateway.md.\n");
}

/* the same bound as a cluster file's dead_timer and detect_delay
 * (gw_config.c): the simulation runs heartbeats through all of it, so
 * event times, the exchanges' interval and the flows' opening are bounded
 * by it too (--fail 2@1e9s ran for hours) */
#define DUR_MAX (3600ULL * 1000000000ULL)

static int bad(const char *opt, const char *val, const char *what)
{
    fprintf(stderr, "baton-gateway: %s '%s': %s\n", opt, val, what);
    return 2;
}

static int ulong_arg(const char *s, unsigned long long max, unsigned long long *out)
{
    uint64_t v;

    if (bt_parse_uint(s, max, &v) < 0)
        return -EINVAL;
    *out = v;
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    gw_serve_stop = 1;
}

/* With --serve, SIGINT/SIGTERM end the run cleanly (the capture set is
 * closed, the socket removed); otherwise they keep their default. */
static void serve_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void print_json_stats(const struct gw_stats *g)
{
    printf("\"rx\": %llu, \"tx\": %llu, \"conns\": %llu, \"backups\": %llu, \"promoted\": %llu, "
           "\"drops_dead\": %llu, \"drops_state\": %llu, \"drops_policy\": %llu, \"drops_queue\": %llu, "
           "\"drops_full\": %llu, \"rejects\": %llu, \"corrections\": %llu, \"nat_conns\": %llu, "
           "\"sync_records\": %llu, \"sync_msgs\": %llu, \"sync_bytes\": %llu, \"sync_lost\": %llu, "
           "\"defer_timeouts\": %llu, \"false_deaths\": %llu",
           (unsigned long long)g->rx, (unsigned long long)g->tx, (unsigned long long)g->conns,
           (unsigned long long)g->backups, (unsigned long long)g->promoted,
           (unsigned long long)g->drops_dead, (unsigned long long)g->drops_state,
           (unsigned long long)g->drops_policy, (unsigned long long)g->drops_queue,
           (unsigned long long)g->drops_full, (unsigned long long)g->rejects,
           (unsigned long long)g->corrections, (unsigned long long)g->nat_conns,
           (unsigned long long)g->sync_records, (unsigned long long)g->sync_msgs,
           (unsigned long long)g->sync_bytes, (unsigned long long)g->sync_lost,
           (unsigned long long)g->defer_timeouts, (unsigned long long)g->false_deaths);
}

static int replay(const struct gw_sim_opts *so, const char *client, const char *server,
                  const char *events, const char *stats, uint64_t max_gap_ns, bool closed_opts,
                  bool json)
{
    struct gw_replay_opts o;
    struct gw_replay_result res;
    struct bt_err e = {""};
    FILE *f = json ? stderr : stdout;

    if (closed_opts || so->nfails) {
        fprintf(stderr, "baton-gateway: a replay takes its traffic from the captures and its timeline from "
                        "--events (not --flows/--cps/--exchanges/--interval/--fail/--join/--weight/--restore)\n");
        return 2;
    }
    gw_replay_opts_default(&o);
    o.cluster = so->cluster;
    o.seed = so->seed;
    o.client_pcap = client;
    o.server_pcap = server;
    o.events = events;
    o.out = so->out;
    o.stats = stats;
    o.stats_interval_ns = so->stats_interval_ns;
    o.duration_ns = so->duration_ns;
    o.serve = so->serve;
    o.speed = so->speed;
    o.max_gap_ns = max_gap_ns;
    if (o.serve)
        serve_signals();
    if (gw_replay_run(&o, &res, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
    fprintf(f,
            "baton-gateway sim (replay): %u members, %llu packets in, %llu out; virtual end %.6f s\n"
            "  cluster: %llu connections, %llu backups synced, %llu promoted, %llu corrected, %llu NAT, "
            "%llu dropped (dead %llu, out of state %llu, policy %llu, queue %llu)\n  capture set: %s\n",
            o.cluster.nmembers, (unsigned long long)res.in_pkts, (unsigned long long)res.out_pkts,
            (double)res.end_ns / 1e9, (unsigned long long)res.gw.conns,
            (unsigned long long)res.gw.backups, (unsigned long long)res.gw.promoted,
            (unsigned long long)res.gw.corrections, (unsigned long long)res.gw.nat_conns,
            (unsigned long long)(res.gw.drops_dead + res.gw.drops_state + res.gw.drops_policy +
                                 res.gw.drops_queue + res.gw.drops_full),
            (unsigned long long)res.gw.drops_dead, (unsigned long long)res.gw.drops_state,
            (unsigned long long)res.gw.drops_policy, (unsigned long long)res.gw.drops_queue, o.out);
    if (json) {
        printf("{\"schema\": 1, \"mode\": \"replay\", \"in_pkts\": %llu, \"out_pkts\": %llu, \"bad_events\": %llu, "
               "\"pool_empty\": %llu, \"sim_s\": %.9f, ",
               (unsigned long long)res.in_pkts, (unsigned long long)res.out_pkts,
               (unsigned long long)res.bad_events, (unsigned long long)res.pool_empty,
               (double)res.end_ns / 1e9);
        print_json_stats(&res.gw);
        printf("}\n");
    }
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
        {"client-pcap", required_argument, NULL, 1000},
        {"server-pcap", required_argument, NULL, 1001},
        {"pcap-in", required_argument, NULL, 1002},
        {"events", required_argument, NULL, 1003},
        {"stats", required_argument, NULL, 1004},
        {"stats-interval", required_argument, NULL, 1005},
        {"serve", required_argument, NULL, 1006},
        {"speed", required_argument, NULL, 1007},
        {"duration", required_argument, NULL, 1008},
        {"sync-loss", required_argument, NULL, 1009},
        {"detect-delay", required_argument, NULL, 1010},
        {"max-gap", required_argument, NULL, 1011},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct gw_sim_opts o;
    struct gw_sim_result res;
    struct bt_err e = {""};
    unsigned long long v = 0;
    uint64_t ns, max_gap_ns = 60000000000ULL;
    bool json = false, closed_opts = false, speed_given = false, max_gap_given = false;
    char *weights = NULL, cpath[4096], spath[4096];
    const char *client_pcap = NULL, *server_pcap = NULL, *events = NULL, *stats = NULL;
    int c;

    gw_sim_opts_default(&o);
    /* the cluster file first, wherever it stands: it is the base the flags
     * change (loading it sets every cluster field, so read in order it would
     * drop the flags before it); bad options are reported by the pass below */
    const char *config = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c != 'C')
            continue;
        if (config) {
            fprintf(stderr, "baton-gateway: --config given twice ('%s', '%s')\n", config, optarg);
            return 2;
        }
        config = optarg;
    }
    opterr = 1;
    if (config && gw_config_load_file(config, &o.cluster, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
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
            closed_opts = true;
            if (ulong_arg(optarg, 10000000, &v) < 0 || v == 0)
                return bad("--flows", optarg, "must be 1..10000000");
            o.flows = v;
            break;
        case 'c': {
            closed_opts = true;
            double q;
            /* flow i opens at i / cps in ns: 1e-300 or "1e308k" (inf) would not fit */
            if (bt_parse_quantity(optarg, &q) < 0 || !(q >= 0.001 && q <= 1e9))
                return bad("--cps", optarg, "must be a rate 0.001..1e9 (e.g. 5000, 10k)");
            o.cps = q;
            break;
        }
        case 'x':
            closed_opts = true;
            if (ulong_arg(optarg, 100000, &v) < 0)
                return bad("--exchanges", optarg, "must be 0..100000");
            o.exchanges = (unsigned)v;
            break;
        case 'i':
            closed_opts = true;
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns > DUR_MAX)
                return bad("--interval", optarg, "must be a duration of at most 1h (e.g. 50ms)");
            o.interval_ns = ns;
            break;
        case 'F':
            closed_opts = true;
            /* fall through */
        case 'R': {
            char *at = strchr(optarg, '@');
            const char *fopt = c == 'R' ? "--restore" : "--fail";
            if (o.nfails >= GW_SIM_MAX_FAILS)
                return bad(fopt, optarg, "too many events (at most 16)");
            if (!at)
                return bad(fopt, optarg, "expected ID@TIME, e.g. 2@1.5s");
            *at = 0;
            if (ulong_arg(optarg, GW_MAX_MEMBERS, &v) < 0 || v == 0 ||
                bt_parse_duration_ns(at + 1, &ns) < 0 || ns > DUR_MAX) {
                *at = '@';
                return bad(fopt, optarg, "expected ID@TIME with ID 1..64 and TIME at most 1h, e.g. 2@1.5s");
            }
            o.fail_sgm[o.nfails] = (int)v;
            o.fail_kind[o.nfails] = c == 'R' ? BT_EV_SGM_UP : BT_EV_SGM_DOWN;
            o.fail_ns[o.nfails++] = ns;
            break;
        }
        case 'J':
            closed_opts = true;
            /* fall through */
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
            int okt = bt_parse_duration_ns(at + 1, &ns) == 0 && ns <= DUR_MAX;
            if (!okid || !okw || !okt) {
                /* the argument whole again, for the message */
                *at = '@';
                if (colon)
                    *colon = ':';
                if (eq)
                    *eq = '=';
                return bad(opt, optarg, "bad member (1..64), weight (0..512) or time (at most 1h)");
            }
            o.fail_sgm[o.nfails] = (int)v;
            o.fail_kind[o.nfails] = c == 'J' ? BT_EV_SGM_JOIN : BT_EV_WEIGHT;
            o.fail_weight[o.nfails] = (unsigned)w;
            o.fail_ns[o.nfails++] = ns;
            break;
        }
        case 'X': {
            uint32_t bit;
            if (gw_fault_parse(optarg, &bit) < 0)
                return bad("--fault", optarg, "must be no-sync, asymmetric, ignore-weights, no-correction, "
                                              "sync-loss, slow-detection or stale-policy");
            o.cluster.faults |= bit;
            break;
        }
        case 1000: client_pcap = optarg; break;
        case 1001: server_pcap = optarg; break;
        case 1002:
            snprintf(cpath, sizeof(cpath), "%s/client.pcap", optarg);
            snprintf(spath, sizeof(spath), "%s/server.pcap", optarg);
            client_pcap = cpath;
            server_pcap = spath;
            break;
        case 1003: events = optarg; break;
        case 1004: stats = optarg; break;
        case 1005:
            /* below 1 ms the stream is mostly itself (a line per member each time) */
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns < 1000000)
                return bad("--stats-interval", optarg, "must be a duration of at least 1ms (e.g. 1s, 100ms)");
            o.stats_interval_ns = ns;
            break;
        case 1006: o.serve = optarg; break;
        case 1007: {
            double q;
            speed_given = true;
            /* the pacing divides by it: 1e-300 made the wait past any clock */
            if (bt_parse_quantity(optarg, &q) < 0 || !(q >= 0.001 && q <= 1e6))
                return bad("--speed", optarg, "must be 0.001..1e6 (virtual seconds per wall second, e.g. 1, 10, 0.5)");
            o.speed = q;
            break;
        }
        case 1008:
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                return bad("--duration", optarg, "must be a duration (e.g. 60s)");
            o.duration_ns = ns;
            break;
        case 1009: {
            double q;
            if (bt_parse_quantity(optarg, &q) < 0 || q < 0 || q > 100)
                return bad("--sync-loss", optarg, "must be a percentage 0..100");
            o.cluster.sync_loss_pct = q;
            o.cluster.faults |= GW_FAULT_SYNC_LOSS;
            break;
        }
        case 1010:
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns > DUR_MAX)
                return bad("--detect-delay", optarg, "must be a duration of at most 1h (e.g. 2s)");
            o.cluster.detect_delay_ns = ns;
            o.cluster.faults |= GW_FAULT_SLOW_DETECTION;
            break;
        case 1011:
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                return bad("--max-gap", optarg, "must be a duration (e.g. 60s; 0 keeps every gap)");
            max_gap_ns = ns;
            max_gap_given = true;
            break;
        case 'd':
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns > DUR_MAX)
                return bad("--dead", optarg, "must be a duration of at most 1h (e.g. 300ms)");
            o.cluster.dead_ns = ns;
            break;
        case 's':
            if (ulong_arg(optarg, UINT32_MAX, &v) < 0)
                return bad("--seed", optarg, "must be 0..4294967295");
            o.cluster.seed = (uint32_t)v;
            o.seed = (uint32_t)v;
            break;
        case 'j': json = true; break;
        case 'C': break;   /* loaded above */
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "baton-gateway: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (speed_given && !o.serve) {
        fprintf(stderr, "baton-gateway: --speed paces a served run: it goes with --serve PATH\n");
        return 2;
    }
    /* the same bound as a cluster file's dead_timer (gw_config.c) */
    if (o.cluster.dead_ns < 2 * o.cluster.heartbeat_ns) {
        fprintf(stderr, "baton-gateway: --dead: at least two heartbeats (%.3f ms)\n",
                2e-6 * (double)o.cluster.heartbeat_ns);
        return 2;
    }
    if (!o.out) {
        fprintf(stderr, "baton-gateway: --out DIR is required\n");
        usage(stderr);
        return 2;
    }
    if (weights) {
        /* digits, one field per member: strtoul took "+5", " 5", "-0", and
         * a trailing comma ("1,2," for two members) passed */
        const char *p = weights;
        for (unsigned i = 1; i <= o.cluster.nmembers; i++) {
            size_t n = strspn(p, "0123456789");
            unsigned long w = strtoul(p, NULL, 10);
            if (n == 0 || w > 512 || (p[n] && p[n] != ','))
                return bad("--weights", weights, "expected one weight 0..512 per member, comma-separated");
            o.cluster.weight[i] = (unsigned)w;
            if (!p[n] && i < o.cluster.nmembers)
                return bad("--weights", weights, "fewer weights than --members");
            p += n;
            if (*p && i == o.cluster.nmembers)
                return bad("--weights", weights, "more weights than --members");
            p += *p == ',';
        }
    }
    if (!!client_pcap != !!server_pcap) {
        fprintf(stderr, "baton-gateway: replay needs both --client-pcap and --server-pcap (or --pcap-in DIR)\n");
        return 2;
    }
    /* the last flow opens at (flows - 1) / cps of virtual time: --flows 1e7
     * at --cps 0.001 would run heartbeats for 1e10 s */
    if (!client_pcap && (double)(o.flows - 1) / o.cps > (double)DUR_MAX / 1e9) {
        fprintf(stderr, "baton-gateway: --flows %llu at --cps %g open over %.0f s: at most 1h "
                        "(more --cps or fewer --flows)\n",
                (unsigned long long)o.flows, o.cps, (double)(o.flows - 1) / o.cps);
        return 2;
    }
    if (client_pcap)
        return replay(&o, client_pcap, server_pcap, events, stats, max_gap_ns, closed_opts, json);
    if (events) {
        fprintf(stderr, "baton-gateway: --events goes with a replay (--client-pcap/--server-pcap or --pcap-in); "
                        "the closed loop takes --fail/--join/--weight/--restore\n");
        return 2;
    }
    if (stats) {
        fprintf(stderr, "baton-gateway: --stats goes with a replay; the closed loop writes DIR/stats.jsonl\n");
        return 2;
    }
    if (max_gap_given) {
        fprintf(stderr, "baton-gateway: --max-gap goes with a replay (the closed loop has no capture gaps)\n");
        return 2;
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
    if (o.serve)
        serve_signals();
    if (gw_sim_run(&o, &res, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
    FILE *f = json ? stderr : stdout;
    fprintf(f,
            "baton-gateway sim: %u members%s, %llu flows: %llu completed, %llu failed, %llu retransmits; "
            "virtual time %.3f s\n  cluster: %llu packets in, %llu out, %llu connections, %llu backups synced, "
            "%llu promoted, %llu corrected, %llu dropped (dead member), %llu dropped (out of state)\n  capture set: %s\n",
            members, members > o.cluster.nmembers ? " (after joins)" : "", (unsigned long long)res.flows,
            (unsigned long long)res.flows_completed, (unsigned long long)res.flows_failed,
            (unsigned long long)res.retransmits, (double)res.end_ns / 1e9,
            (unsigned long long)res.gw.rx, (unsigned long long)res.gw.tx,
            (unsigned long long)res.gw.conns, (unsigned long long)res.gw.backups,
            (unsigned long long)res.gw.promoted, (unsigned long long)res.gw.corrections,
            (unsigned long long)res.gw.drops_dead, (unsigned long long)res.gw.drops_state, o.out);
    if (json) {
        printf("{\"schema\": 1, \"mode\": \"closed-loop\", \"flows\": %llu, \"flows_completed\": %llu, \"flows_failed\": %llu, "
               "\"retransmits\": %llu, \"bad_events\": %llu, \"sim_s\": %.9f, ",
               (unsigned long long)res.flows, (unsigned long long)res.flows_completed,
               (unsigned long long)res.flows_failed, (unsigned long long)res.retransmits,
               (unsigned long long)res.bad_events, (double)res.end_ns / 1e9);
        print_json_stats(&res.gw);
        printf("}\n");
    }
    return 0;
}

static int cmd_check_config(int argc, char **argv)
{
    struct gw_config c;
    struct bt_err e = {""};

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: baton-gateway check-config CLUSTER.yaml\n"
               "Loads and validates a cluster config (docs/formats.md); exit 0 valid, 2 not.\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: baton-gateway check-config CLUSTER.yaml\n");
        return 2;
    }
    gw_config_default(&c);
    if (gw_config_load_file(argv[1], &c, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
    printf("%s: %u members, mode %s%s, %u rules (default %s)%s\n", argv[1], c.nmembers,
           bt_dist_mode_name((enum bt_dist_mode)c.mode), c.l4 ? " with L4" : "", c.policy.nrules,
           gw_action_name(c.policy.default_action), c.nat ? ", hide-NAT" : "");
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"sim", cmd_sim},
    {"check-config", cmd_check_config},
};

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    for (unsigned i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2)
        fprintf(stderr, "baton-gateway: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
