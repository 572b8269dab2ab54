/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for baton-gateway sim's command line (gateway/gw_opts.c).
 * The input is the arguments after "sim", each ended by a NUL byte;
 * --config is left to fuzz-gw_config (an argument starting "--co" drops
 * the input: the parser would open the file it names). A refusal says
 * why, and a plain "--out d" is still taken after it; a command line
 * taken keeps every figure in --help's ranges, its timeline names members
 * that exist, its arguments are as they were, and it parses again to the
 * same options. The same arguments are then parsed after "live".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"

#include "gw_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 48

static struct gw_opts o, o2;

static bool in_ranges(const struct gw_opts *g)
{
    const struct gw_sim_opts *s = &g->sim;
    const struct gw_config *c = &s->cluster;

    if (!s->out || c->nmembers < 1 || c->nmembers > GW_MAX_MEMBERS || s->nfails > GW_SIM_MAX_FAILS)
        return false;
    for (unsigned i = 1; i <= c->nmembers; i++)
        if (c->weight[i] > 512)
            return false;
    if (s->flows < 1 || s->flows > 10000000 || !(s->cps >= 0.001 && s->cps <= 1e9) || s->exchanges > 100000 ||
        s->interval_ns > GW_OPTS_DUR_MAX || c->dead_ns > GW_OPTS_DUR_MAX || c->dead_ns < 2 * c->heartbeat_ns ||
        c->detect_delay_ns > GW_OPTS_DUR_MAX || !(c->sync_loss_pct >= 0 && c->sync_loss_pct <= 100) ||
        !(s->speed >= 0.001 && s->speed <= 1e6) || (s->stats_interval_ns && s->stats_interval_ns < 1000000) ||
        (!s->serve && s->duration_ns > GW_OPTS_DUR_MAX))
        return false;
    if (g->replay)
        return g->client_pcap && g->server_pcap && s->nfails == 0;
    if (g->client_pcap || g->server_pcap || g->events || g->stats || g->members < c->nmembers ||
        g->members > GW_MAX_MEMBERS || (double)(s->flows - 1) / s->cps > (double)GW_OPTS_DUR_MAX / 1e9)
        return false;
    for (unsigned k = 0; k < s->nfails; k++)
        if (s->fail_sgm[k] < 1 || (unsigned)s->fail_sgm[k] > g->members || s->fail_ns[k] > GW_OPTS_DUR_MAX ||
            s->fail_weight[k] > 512)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
    char *ok[] = {"sim", "--out", "d", NULL};
    struct bt_err e;
    int argc, rc;

    if (!buf || size > 4096)
        goto out;
    memcpy(buf, data, size);
    buf[size] = '\0';
    if ((argc = fuzz_argv(buf, size, "sim", argv, MAX_ARGS)) < 0)
        goto out;
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--co", 4))
            goto out;
    memset(&e, 0, sizeof(e));
    rc = gw_opts_parse(argc, argv, &o, &e);
    /* getopt moves the pointers, never the bytes */
    if (memcmp(buf, data, size) != 0)
        abort();
    if (rc < 0) {
        if (!e.msg[0] || !memchr(e.msg, 0, sizeof(e.msg)))
            abort();
        memset(&e, 0, sizeof(e));
        if (gw_opts_parse(3, ok, &o2, &e) != 0)
            abort();
    } else if (rc == 0) {
        if (!in_ranges(&o))
            abort();
        if (gw_opts_parse(argc, argv, &o2, &e) != 0 || memcmp(&o.sim, &o2.sim, sizeof(o.sim)) != 0 ||
            o.members != o2.members || o.replay != o2.replay || o.json != o2.json || o.max_gap_ns != o2.max_gap_ns)
            abort();
    } else if (rc != 1) {
        abort();
    }
    /* the same arguments after "live": a refusal says why; a command line
     * taken names both interfaces and the capture set, reads no captures,
     * and its timeline names members that exist */
    argv[0] = "live";
    memset(&e, 0, sizeof(e));
    rc = gw_opts_parse(argc, argv, &o, &e);
    if (rc < 0 && (!e.msg[0] || !memchr(e.msg, 0, sizeof(e.msg))))
        abort();
    if (rc == 0) {
        if (!o.live || !o.client_if || !o.server_if || !o.sim.out || o.replay || o.client_pcap || o.events ||
            o.stats || o.members < o.sim.cluster.nmembers || o.members > GW_MAX_MEMBERS)
            abort();
        for (unsigned k = 0; k < o.sim.nfails; k++)
            if (o.sim.fail_sgm[k] < 1 || (unsigned)o.sim.fail_sgm[k] > o.members)
                abort();
    } else if (rc != 1 && rc >= 0) {
        abort();
    }
out:
    free(buf);
    return 0;
}
