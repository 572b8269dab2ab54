/* SPDX-License-Identifier: BSD-3-Clause */
#include "gw_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bt_hash.h"
#include "bt_yaml.h"

void gw_opts_usage(FILE *f)
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
            "       baton-gateway live --client-if IF --server-if IF --out DIR [the cluster options above]\n"
            "           [--fail ID@TIME]... [--join ID@TIME[:W]]... [--weight ID=W@TIME]... [--restore ID@TIME]...\n"
            "           [--serve PATH] [--duration DUR] [--stats-interval DUR] [--json]\n"
            "       baton-gateway check-config CLUSTER.yaml\n"
            "sim simulates the cluster on a virtual clock; live runs it on the wall clock as a\n"
            "bump in the wire between two Ethernet interfaces (root). Both write a capture set\n"
            "to DIR (docs/formats.md) and DIR/stats.jsonl. See docs/gateway.md.\n");
}

void gw_sim_opts_default(struct gw_sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    gw_config_default(&o->cluster);
    o->flows = 2000;
    o->cps = 2000;
    o->exchanges = 20;
    o->interval_ns = 50000000ULL;
    o->rto_ns = 200000000ULL;
    o->server_delay_ns = 100000ULL;
    o->req_bytes = 100;
    o->resp_bytes = 1000;
    o->stats_interval_ns = 1000000000ULL;
    o->speed = 1;
}

static int bad(struct bt_err *e, const char *opt, const char *val, const char *what)
{
    return bt_err_set(e, "%s '%s': %s", opt, val, what);
}

static bool uint_ok(const char *s, uint64_t max, uint64_t *out)
{
    return bt_parse_uint(s, max, out) == 0;
}

static bool dur_ok(const char *s, uint64_t max, uint64_t *ns)
{
    return bt_parse_duration_ns(s, ns) == 0 && *ns <= max;
}

static const struct option lopts[] = {
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
    {"client-if", required_argument, NULL, 1012},
    {"server-if", required_argument, NULL, 1013},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --fail/--restore ID@TIME, --join ID@TIME[:WEIGHT], --weight
 * ID=WEIGHT@TIME: one timeline event, parsed on a copy (argv stays whole:
 * the in-place cuts were left in it after a good value) */
static int timeline_event(struct gw_sim_opts *so, int c, const char *arg, struct bt_err *e)
{
    const char *opt = c == 'F' ? "--fail" : c == 'R' ? "--restore" : c == 'J' ? "--join" : "--weight";
    bool join = c == 'J', weight = c == 'W';
    uint64_t id = 0, w = 100, ns = 0;
    char *a, *at, *colon = NULL, *eq = NULL;
    bool ok;

    if (so->nfails >= GW_SIM_MAX_FAILS)
        return bad(e, opt, arg, "too many events (at most 16)");
    if (!(a = strdup(arg)))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    at = strchr(a, '@');
    if (weight)
        eq = strchr(a, '=');
    if (!at || (weight && (!eq || eq > at))) {
        free(a);
        return bad(e, opt, arg, join     ? "expected ID@TIME[:WEIGHT], e.g. 5@2s:100"
                                : weight ? "expected ID=WEIGHT@TIME, e.g. 1=300@2s"
                                         : "expected ID@TIME, e.g. 2@1.5s");
    }
    *at = 0;
    if (join && (colon = strchr(at + 1, ':')))
        *colon = 0;
    if (eq)
        *eq = 0;
    ok = uint_ok(a, GW_MAX_MEMBERS, &id) && id > 0 && dur_ok(at + 1, GW_OPTS_DUR_MAX, &ns) &&
         (!colon || uint_ok(colon + 1, 512, &w)) && (!eq || uint_ok(eq + 1, 512, &w));
    free(a);
    if (!ok)
        return bad(e, opt, arg, join || weight ? "bad member (1..64), weight (0..512) or time (at most 1h)"
                                               : "expected ID@TIME with ID 1..64 and TIME at most 1h, e.g. 2@1.5s");
    so->fail_sgm[so->nfails] = (int)id;
    so->fail_kind[so->nfails] = c == 'F' ? BT_EV_SGM_DOWN : c == 'R' ? BT_EV_SGM_UP
                              : join     ? BT_EV_SGM_JOIN : BT_EV_WEIGHT;
    so->fail_weight[so->nfails] = join || weight ? (unsigned)w : 0;
    so->fail_ns[so->nfails++] = ns;
    return 0;
}

/* digits, one field per member: strtoul took "+5", " 5", "-0", and a
 * trailing comma ("1,2," for two members) passed */
static int weights_arg(struct gw_config *c, const char *weights, struct bt_err *e)
{
    const char *p = weights;

    for (unsigned i = 1; i <= c->nmembers; i++) {
        size_t n = strspn(p, "0123456789");
        unsigned long w = strtoul(p, NULL, 10);
        if (n == 0 || w > 512 || (p[n] && p[n] != ','))
            return bad(e, "--weights", weights, "expected one weight 0..512 per member, comma-separated");
        c->weight[i] = (unsigned)w;
        if (!p[n] && i < c->nmembers)
            return bad(e, "--weights", weights, "fewer weights than --members");
        p += n;
        if (*p && i == c->nmembers)
            return bad(e, "--weights", weights, "more weights than --members");
        p += *p == ',';
    }
    return 0;
}

/* the argument getopt refused: optind is past it, or still on a cluster
 * of short options ("-xy") */
static const char *refused_arg(int argc, char **argv)
{
    int i = optind > 1 && optind - 1 < argc ? optind - 1 : 1;
    return i < argc ? argv[i] : "";
}

/* The timeline's members: joins in order, every other event on a member
 * there by then (o->members: the count after the joins). */
static int check_timeline(struct gw_opts *o, struct bt_err *e)
{
    struct gw_sim_opts *so = &o->sim;
    unsigned members = so->cluster.nmembers;

    for (unsigned k = 0; k < so->nfails; k++)
        if (so->fail_kind[k] == BT_EV_SGM_JOIN && (unsigned)so->fail_sgm[k] == members + 1)
            members++;
    for (unsigned k = 0; k < so->nfails; k++)
        if (so->fail_kind[k] == BT_EV_SGM_JOIN && (unsigned)so->fail_sgm[k] > members)
            return bt_err_set(e, "--join %d@...: members join in order (next is %u)", so->fail_sgm[k],
                              so->cluster.nmembers + 1);
    for (unsigned k = 0; k < so->nfails; k++)
        if ((unsigned)so->fail_sgm[k] > members)
            return bt_err_set(e, "--fail %d@...: no such member (--members %u)", so->fail_sgm[k],
                              so->cluster.nmembers);
    o->members = members;
    return 0;
}

/* live: the interfaces, the cluster and a timeline; no traffic of its own,
 * no captures to read, the wall clock (no --speed) */
static int check_live(struct gw_opts *o, bool traffic_opts, bool speed_given, bool max_gap_given,
                      const char *weights, struct bt_err *e)
{
    struct gw_sim_opts *so = &o->sim;

    if (!o->client_if || !o->server_if) {
        o->usage = true;
        return bt_err_set(e, "live needs --client-if IF and --server-if IF");
    }
    if (!so->out) {
        o->usage = true;
        return bt_err_set(e, "--out DIR is required");
    }
    if (o->client_pcap || o->server_pcap || o->events || o->stats || max_gap_given)
        return bt_err_set(e, "a live run reads its interfaces and writes DIR/stats.jsonl "
                             "(not --client-pcap/--server-pcap/--pcap-in/--events/--stats/--max-gap)");
    if (traffic_opts)
        return bt_err_set(e, "a live run's traffic is what crosses its interfaces "
                             "(not --flows/--cps/--exchanges/--interval)");
    if (speed_given)
        return bt_err_set(e, "--speed: a live run is on the wall clock");
    if (so->cluster.dead_ns < 2 * so->cluster.heartbeat_ns)
        return bt_err_set(e, "--dead: at least two heartbeats (%.3f ms)", 2e-6 * (double)so->cluster.heartbeat_ns);
    if (weights && weights_arg(&so->cluster, weights, e) < 0)
        return -EINVAL;
    /* the run adds these to the epoch clock (~1.8e18 ns): a bound keeps the
     * sum from wrapping into a run that ends at once (the timeline's times
     * are at most 1 h already) */
    if (so->duration_ns > GW_OPTS_LIVE_MAX)
        return bt_err_set(e, "--duration %.0f s: a live run lasts at most 366 days (or none: until SIGINT)",
                          (double)so->duration_ns / 1e9);
    if (so->stats_interval_ns > GW_OPTS_LIVE_MAX)
        return bt_err_set(e, "--stats-interval %.0f s: at most 366 days", (double)so->stats_interval_ns / 1e9);
    return check_timeline(o, e);
}

/* after every option: what the options say together */
static int check_whole(struct gw_opts *o, bool closed_opts, bool traffic_opts, bool speed_given,
                       bool max_gap_given, const char *weights, struct bt_err *e)
{
    struct gw_sim_opts *so = &o->sim;

    if (o->live)
        return check_live(o, traffic_opts, speed_given, max_gap_given, weights, e);
    if (o->client_if || o->server_if)
        return bt_err_set(e, "--client-if and --server-if go with baton-gateway live");

    if (speed_given && !so->serve)
        return bt_err_set(e, "--speed paces a served run: it goes with --serve PATH");
    /* the same bound as a cluster file's dead_timer (gw_config.c) */
    if (so->cluster.dead_ns < 2 * so->cluster.heartbeat_ns)
        return bt_err_set(e, "--dead: at least two heartbeats (%.3f ms)", 2e-6 * (double)so->cluster.heartbeat_ns);
    /* the run goes on to it, a stats line each --stats-interval: 1e5 s
     * took 7 s and wrote 115 MB; served, the wall clock paces it */
    if (!so->serve && so->duration_ns > GW_OPTS_DUR_MAX)
        return bt_err_set(e, "--duration %.0f s: at most 1h without --serve", (double)so->duration_ns / 1e9);
    if (!so->out) {
        o->usage = true;
        return bt_err_set(e, "--out DIR is required");
    }
    if (weights && weights_arg(&so->cluster, weights, e) < 0)
        return -EINVAL;
    if (!!o->client_pcap != !!o->server_pcap)
        return bt_err_set(e, "replay needs both --client-pcap and --server-pcap (or --pcap-in DIR)");
    /* the last flow opens at (flows - 1) / cps of virtual time: --flows 1e7
     * at --cps 0.001 would run heartbeats for 1e10 s */
    if (!o->client_pcap && (double)(so->flows - 1) / so->cps > (double)GW_OPTS_DUR_MAX / 1e9)
        return bt_err_set(e, "--flows %llu at --cps %g open over %.0f s: at most 1h (more --cps or fewer --flows)",
                          (unsigned long long)so->flows, so->cps, (double)(so->flows - 1) / so->cps);
    if (o->client_pcap) {
        o->replay = true;
        if (closed_opts || so->nfails)
            return bt_err_set(e, "a replay takes its traffic from the captures and its timeline from "
                                 "--events (not --flows/--cps/--exchanges/--interval/--fail/--join/--weight/--restore)");
        return 0;
    }
    if (o->events)
        return bt_err_set(e, "--events goes with a replay (--client-pcap/--server-pcap or --pcap-in); "
                             "the closed loop takes --fail/--join/--weight/--restore");
    if (o->stats)
        return bt_err_set(e, "--stats goes with a replay; the closed loop writes DIR/stats.jsonl");
    if (max_gap_given)
        return bt_err_set(e, "--max-gap goes with a replay (the closed loop has no capture gaps)");
    return check_timeline(o, e);
}

int gw_opts_parse(int argc, char **argv, struct gw_opts *o, struct bt_err *e)
{
    struct gw_sim_opts *so = &o->sim;
    uint64_t v, ns;
    bool closed_opts = false, traffic_opts = false, speed_given = false, max_gap_given = false;
    const char *weights = NULL, *config = NULL;
    int c, r;

    memset(o, 0, sizeof(*o));
    gw_sim_opts_default(so);
    o->live = argc > 0 && strcmp(argv[0], "live") == 0;
    o->max_gap_ns = 60000000000ULL;
    /* the cluster file first, wherever it stands: it is the base the flags
     * change (loading it sets every cluster field, so read in order it would
     * drop the flags before it); bad options are reported by the pass below.
     * optind 0: glibc starts afresh (1 would go on inside an earlier cluster
     * of short options); opterr 0: the caller prints e */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        if (c != 'C')
            continue;
        if (config)
            return bt_err_set(e, "--config given twice ('%s', '%s')", config, optarg);
        config = optarg;
    }
    if (config && (r = gw_config_load_file(config, &so->cluster, e)) < 0)
        return r;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        switch (c) {
        case 'o': so->out = optarg; break;
        case 'm':
            if (!uint_ok(optarg, GW_MAX_MEMBERS, &v) || v == 0)
                return bad(e, "--members", optarg, "must be 1..64");
            so->cluster.nmembers = (unsigned)v;
            break;
        case 'w': weights = optarg; break;
        case 'M': {
            enum bt_dist_mode m;
            if (bt_dist_mode_parse(optarg, &m) < 0)
                return bad(e, "--mode", optarg, "must be general, user, network or auto");
            so->cluster.mode = m;
            break;
        }
        case 'L': so->cluster.l4 = false; break;
        case 'f':
            closed_opts = true;
            traffic_opts = true;
            if (!uint_ok(optarg, 10000000, &v) || v == 0)
                return bad(e, "--flows", optarg, "must be 1..10000000");
            so->flows = v;
            break;
        case 'c': {
            closed_opts = true;
            traffic_opts = true;
            double q;
            /* flow i opens at i / cps in ns: 1e-300 or "1e308k" (inf) would not fit */
            if (bt_parse_quantity(optarg, &q) < 0 || !(q >= 0.001 && q <= 1e9))
                return bad(e, "--cps", optarg, "must be a rate 0.001..1e9 (e.g. 5000, 10k)");
            so->cps = q;
            break;
        }
        case 'x':
            closed_opts = true;
            traffic_opts = true;
            if (!uint_ok(optarg, 100000, &v))
                return bad(e, "--exchanges", optarg, "must be 0..100000");
            so->exchanges = (unsigned)v;
            break;
        case 'i':
            closed_opts = true;
            traffic_opts = true;
            if (!dur_ok(optarg, GW_OPTS_DUR_MAX, &ns))
                return bad(e, "--interval", optarg, "must be a duration of at most 1h (e.g. 50ms)");
            so->interval_ns = ns;
            break;
        case 'F':
        case 'J':
            closed_opts = true;
            /* fall through */
        case 'R':
        case 'W':
            if ((r = timeline_event(so, c, optarg, e)) < 0)
                return r;
            break;
        case 'X': {
            uint32_t bit;
            if (gw_fault_parse(optarg, &bit) < 0)
                return bad(e, "--fault", optarg, "must be no-sync, asymmetric, ignore-weights, no-correction, "
                                                 "sync-loss, slow-detection or stale-policy");
            so->cluster.faults |= bit;
            break;
        }
        case 1000: o->client_pcap = optarg; break;
        case 1001: o->server_pcap = optarg; break;
        case 1002:
            /* a longer path was cut to 4095 bytes and another file opened */
            if ((size_t)snprintf(o->cpath, sizeof(o->cpath), "%s/client.pcap", optarg) >= sizeof(o->cpath) ||
                (size_t)snprintf(o->spath, sizeof(o->spath), "%s/server.pcap", optarg) >= sizeof(o->spath))
                return bt_err_set(e, "--pcap-in: a directory path of %zu bytes is too long (at most %zu)",
                                  strlen(optarg), sizeof(o->cpath) - sizeof("/client.pcap"));
            o->client_pcap = o->cpath;
            o->server_pcap = o->spath;
            break;
        case 1003: o->events = optarg; break;
        case 1004: o->stats = optarg; break;
        case 1005:
            /* below 1 ms the stream is mostly itself (a line per member each time) */
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns < 1000000)
                return bad(e, "--stats-interval", optarg, "must be a duration of at least 1ms (e.g. 1s, 100ms)");
            so->stats_interval_ns = ns;
            break;
        case 1006: so->serve = optarg; break;
        case 1007: {
            double q;
            speed_given = true;
            /* the pacing divides by it: 1e-300 made the wait past any clock */
            if (bt_parse_quantity(optarg, &q) < 0 || !(q >= 0.001 && q <= 1e6))
                return bad(e, "--speed", optarg,
                           "must be 0.001..1e6 (virtual seconds per wall second, e.g. 1, 10, 0.5)");
            so->speed = q;
            break;
        }
        case 1008:
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                return bad(e, "--duration", optarg, "must be a duration (e.g. 60s)");
            so->duration_ns = ns;
            break;
        case 1009: {
            double q;
            if (bt_parse_quantity(optarg, &q) < 0 || q < 0 || q > 100)
                return bad(e, "--sync-loss", optarg, "must be a percentage 0..100");
            so->cluster.sync_loss_pct = q;
            so->cluster.faults |= GW_FAULT_SYNC_LOSS;
            break;
        }
        case 1010:
            if (!dur_ok(optarg, GW_OPTS_DUR_MAX, &ns))
                return bad(e, "--detect-delay", optarg, "must be a duration of at most 1h (e.g. 2s)");
            so->cluster.detect_delay_ns = ns;
            so->cluster.faults |= GW_FAULT_SLOW_DETECTION;
            break;
        case 1012: o->client_if = optarg; break;
        case 1013: o->server_if = optarg; break;
        case 1011:
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                return bad(e, "--max-gap", optarg, "must be a duration (e.g. 60s; 0 keeps every gap)");
            o->max_gap_ns = ns;
            max_gap_given = true;
            break;
        case 'd':
            if (!dur_ok(optarg, GW_OPTS_DUR_MAX, &ns))
                return bad(e, "--dead", optarg, "must be a duration of at most 1h (e.g. 300ms)");
            so->cluster.dead_ns = ns;
            break;
        case 's':
            if (!uint_ok(optarg, UINT32_MAX, &v))
                return bad(e, "--seed", optarg, "must be 0..4294967295");
            so->cluster.seed = (uint32_t)v;
            so->seed = (uint32_t)v;
            break;
        case 'j': o->json = true; break;
        case 'C': break;   /* loaded above */
        case 'h': return 1;
        case ':':
            o->usage = true;
            return bt_err_set(e, "option '%s' needs a value", refused_arg(argc, argv));
        default:
            o->usage = true;
            /* glibc's optopt: the flag's value for a flag given a value it does not take */
            if (optopt == 'L' || optopt == 'j' || optopt == 'h')
                return bt_err_set(e, "option '%s' takes no value", refused_arg(argc, argv));
            return bt_err_set(e, "unknown or ambiguous option '%s'", refused_arg(argc, argv));
        }
    }
    if (optind < argc)
        return bt_err_set(e, "unexpected argument '%s'", argv[optind]);
    return check_whole(o, closed_opts, traffic_opts, speed_given, max_gap_given, weights, e);
}
