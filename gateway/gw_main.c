/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-gateway: the reference cluster (docs/gateway.md).
 *   baton-gateway sim --out DIR [--config CLUSTER.yaml] ...   closed-loop TCP endpoints
 *   baton-gateway sim --out DIR --client-pcap C --server-pcap S | --pcap-in DIR
 *                     [--events EVENTS.yaml|jsonl] ...        open-loop replay
 *   baton-gateway live --client-if IF --server-if IF --out DIR ...   the wall clock,
 *                     a bump in the wire between two interfaces
 *   baton-gateway check-config CLUSTER.yaml                   load and validate only
 * Exit 0 on success, 2 on bad usage or input (file:line:col).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "gw_api.h"
#include "gw_live.h"
#include "gw_opts.h"
#include "gw_serve.h"

static void usage(FILE *f)
{
    gw_opts_usage(f);
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
           "\"defer_timeouts\": %llu, \"false_deaths\": %llu, \"backups_full\": %llu",
           (unsigned long long)g->rx, (unsigned long long)g->tx, (unsigned long long)g->conns,
           (unsigned long long)g->backups, (unsigned long long)g->promoted,
           (unsigned long long)g->drops_dead, (unsigned long long)g->drops_state,
           (unsigned long long)g->drops_policy, (unsigned long long)g->drops_queue,
           (unsigned long long)g->drops_full, (unsigned long long)g->rejects,
           (unsigned long long)g->corrections, (unsigned long long)g->nat_conns,
           (unsigned long long)g->sync_records, (unsigned long long)g->sync_msgs,
           (unsigned long long)g->sync_bytes, (unsigned long long)g->sync_lost,
           (unsigned long long)g->defer_timeouts, (unsigned long long)g->false_deaths,
           (unsigned long long)g->backups_full);
}

static int replay(const struct gw_opts *go)
{
    const struct gw_sim_opts *so = &go->sim;
    struct gw_replay_opts o;
    struct gw_replay_result res;
    struct bt_err e = {""};
    FILE *f = go->json ? stderr : stdout;

    gw_replay_opts_default(&o);
    o.cluster = so->cluster;
    o.seed = so->seed;
    o.client_pcap = go->client_pcap;
    o.server_pcap = go->server_pcap;
    o.events = go->events;
    o.out = so->out;
    o.stats = go->stats;
    o.stats_interval_ns = so->stats_interval_ns;
    o.duration_ns = so->duration_ns;
    o.serve = so->serve;
    o.speed = so->speed;
    o.max_gap_ns = go->max_gap_ns;
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
    if (go->json) {
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

/* The command line of sim or live into *go: -1 to run, else the exit
 * code (0 after --help, 2 after a refusal, printed). */
static int parse(int argc, char **argv, struct gw_opts *go)
{
    struct bt_err e = {""};
    int r = gw_opts_parse(argc, argv, go, &e);

    if (r == 1) {
        usage(stdout);
        return 0;
    }
    if (r < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        if (go->usage)
            usage(stderr);
        return 2;
    }
    return -1;
}

static int cmd_sim(int argc, char **argv)
{
    static struct gw_opts go;   /* two 4 KiB paths */
    struct gw_sim_result res;
    struct bt_err e = {""};
    int r = parse(argc, argv, &go);

    if (r >= 0)
        return r;
    if (go.replay)
        return replay(&go);
    const struct gw_sim_opts *o = &go.sim;
    if (o->serve)
        serve_signals();
    if (gw_sim_run(o, &res, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
    FILE *f = go.json ? stderr : stdout;
    fprintf(f,
            "baton-gateway sim: %u members%s, %llu flows: %llu completed, %llu failed, %llu retransmits; "
            "virtual time %.3f s\n  cluster: %llu packets in, %llu out, %llu connections, %llu backups synced, "
            "%llu promoted, %llu corrected, %llu dropped (dead member), %llu dropped (out of state)\n  capture set: %s\n",
            go.members, go.members > o->cluster.nmembers ? " (after joins)" : "", (unsigned long long)res.flows,
            (unsigned long long)res.flows_completed, (unsigned long long)res.flows_failed,
            (unsigned long long)res.retransmits, (double)res.end_ns / 1e9,
            (unsigned long long)res.gw.rx, (unsigned long long)res.gw.tx,
            (unsigned long long)res.gw.conns, (unsigned long long)res.gw.backups,
            (unsigned long long)res.gw.promoted, (unsigned long long)res.gw.corrections,
            (unsigned long long)res.gw.drops_dead, (unsigned long long)res.gw.drops_state, o->out);
    if (go.json) {
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

static int cmd_live(int argc, char **argv)
{
    static struct gw_opts go;   /* two 4 KiB paths */
    struct gw_live_result res;
    struct gw_stats st;
    struct bt_err e = {""};
    int r = parse(argc, argv, &go);

    if (r >= 0)
        return r;
    serve_signals();   /* SIGINT/SIGTERM end a live run: the capture set is closed */
    memset(&st, 0, sizeof(st));
    if (gw_live_run(&go.sim, go.client_if, go.server_if, &res, &st, &e) < 0) {
        fprintf(stderr, "baton-gateway: %s\n", e.msg);
        return 2;
    }
    FILE *f = go.json ? stderr : stdout;
    double secs = (double)(res.end_ns - res.start_ns) / 1e9;
    fprintf(f,
            "baton-gateway live: %u members, %.3f s between %s and %s\n"
            "  frames: %llu in / %llu out on the client side, %llu in / %llu out on the server side; "
            "%llu ARP bridged, %llu oversize, %llu without a buffer, %llu not sent, "
            "%llu / %llu dropped by the kernel before they were read\n"
            "  cluster: %llu connections, %llu backups synced, %llu promoted, %llu corrected, "
            "%llu dropped (dead member), %llu dropped (out of state)\n  capture set: %s\n",
            go.members, secs, go.client_if, go.server_if, (unsigned long long)res.in_pkts[0],
            (unsigned long long)res.out_pkts[0], (unsigned long long)res.in_pkts[1],
            (unsigned long long)res.out_pkts[1], (unsigned long long)res.arp,
            (unsigned long long)res.oversize, (unsigned long long)res.pool_empty,
            (unsigned long long)res.send_errors, (unsigned long long)res.kernel_drops[0],
            (unsigned long long)res.kernel_drops[1], (unsigned long long)st.conns,
            (unsigned long long)st.backups, (unsigned long long)st.promoted,
            (unsigned long long)st.corrections, (unsigned long long)st.drops_dead,
            (unsigned long long)st.drops_state, go.sim.out);
    if (go.json) {
        printf("{\"schema\": 1, \"mode\": \"live\", \"wall_s\": %.6f, \"client_in\": %llu, \"client_out\": %llu, "
               "\"server_in\": %llu, \"server_out\": %llu, \"arp\": %llu, \"oversize\": %llu, "
               "\"pool_empty\": %llu, \"send_errors\": %llu, \"kernel_drops_client\": %llu, "
               "\"kernel_drops_server\": %llu, ",
               secs, (unsigned long long)res.in_pkts[0], (unsigned long long)res.out_pkts[0],
               (unsigned long long)res.in_pkts[1], (unsigned long long)res.out_pkts[1],
               (unsigned long long)res.arp, (unsigned long long)res.oversize,
               (unsigned long long)res.pool_empty, (unsigned long long)res.send_errors,
               (unsigned long long)res.kernel_drops[0], (unsigned long long)res.kernel_drops[1]);
        print_json_stats(&st);
        printf("}\n");
    }
    if (res.kernel_drops[0] || res.kernel_drops[1]) {
        /* in no capture and no counter of the cluster: verify cannot see them */
        fprintf(stderr, "baton-gateway: the capture set in %s is incomplete: the kernel dropped %llu frames on "
                        "%s and %llu on %s before they were read (the capture ring overflowed: a stall, or "
                        "more than this host keeps up with)\n",
                go.sim.out, (unsigned long long)res.kernel_drops[0], go.client_if,
                (unsigned long long)res.kernel_drops[1], go.server_if);
        return 1;
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
    {"live", cmd_live},
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
