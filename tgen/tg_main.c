/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen (first slice): synthetic conversations, open loop, offline.
 *   baton-tgen --synth SPEC --pcap-out DIR [--flows N] [--cps N]
 *              [--clients CIDR] [--servers CIDR] [--seed N] [--json]
 * Writes DIR/client.pcap (what the client-side port sends) and
 * DIR/server.pcap (what the server-side port sends), with virtual time stamps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bt_err.h"
#include "bt_pcap.h"
#include "bt_yaml.h"
#include "tg_api.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: baton-tgen --synth SPEC --pcap-out DIR [--flows N] [--cps N]\n"
               "                  [--clients CIDR] [--servers CIDR] [--seed N] [--json]\n"
               "SPEC: tcp|udp[,req=BYTES][,resp=BYTES[xCOUNT]][,rtt=DUR]\n"
               "The DPDK backend, pcap templates, profiles and closed loop are not available yet.\n");
}

static int bad(const char *opt, const char *v, const char *why)
{
    fprintf(stderr, "baton-tgen: %s '%s': %s\n", opt, v, why);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"synth", required_argument, NULL, 's'},
        {"pcap-out", required_argument, NULL, 'o'},
        {"flows", required_argument, NULL, 'f'},
        {"cps", required_argument, NULL, 'c'},
        {"clients", required_argument, NULL, 'C'},
        {"servers", required_argument, NULL, 'S'},
        {"seed", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct tg_profile p;
    const char *synth = NULL, *out = NULL;
    bool json = false;
    struct bt_err e = {""};
    double q;
    char *end;
    int c, rc = 0;

    tg_profile_default(&p);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': synth = optarg; break;
        case 'o': out = optarg; break;
        case 'f':
            if (bt_parse_quantity(optarg, &q) < 0 || q < 1 || q > 1e9)
                return bad("--flows", optarg, "must be 1..1G");
            p.flows = (uint64_t)q;
            break;
        case 'c':
            if (bt_parse_quantity(optarg, &q) < 0 || !(q > 0))
                return bad("--cps", optarg, "must be a positive rate");
            p.cps = q;
            break;
        case 'C':
            if (bt_cidr_parse(optarg, &p.clients) < 0 || p.clients.family != 4)
                return bad("--clients", optarg, "must be an IPv4 CIDR (IPv6 comes later)");
            break;
        case 'S':
            if (bt_cidr_parse(optarg, &p.servers) < 0 || p.servers.family != 4)
                return bad("--servers", optarg, "must be an IPv4 CIDR (IPv6 comes later)");
            break;
        case 'r':
            p.seed = (uint32_t)strtoul(optarg, &end, 10);
            if (*end || !*optarg)
                return bad("--seed", optarg, "must be a number");
            break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!synth || !out || optind < argc) {
        usage(stderr);
        return 2;
    }
    if (tg_synth_parse(synth, &p.tmpl, &e) < 0) {
        fprintf(stderr, "baton-tgen: %s\n", e.msg);
        return 2;
    }
    struct tg_engine *g = tg_engine_new(&p, &e);
    struct bt_pcap_writer *w[2] = {NULL, NULL};
    char path[4096];
    if (!g) {
        fprintf(stderr, "baton-tgen: %s\n", e.msg);
        rc = 2;
        goto out;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "baton-tgen: %s: %s\n", out, strerror(errno));
        rc = 2;
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", out, i ? "server.pcap" : "client.pcap");
        if (!(w[i] = bt_pcap_writer_open(path, 1, 0, &e))) {
            fprintf(stderr, "baton-tgen: %s\n", e.msg);
            rc = 2;
            goto out;
        }
    }
    uint8_t buf[2048];
    uint64_t ts;
    uint16_t port;
    uint32_t len;
    int got;
    while ((got = tg_next(g, &ts, &port, buf, &len)) == 1)
        if (bt_pcap_write(w[port], ts, buf, len, len) < 0) {
            fprintf(stderr, "baton-tgen: %s: write failed\n", out);
            rc = 2;
            goto out;
        }
    if (got < 0) {
        fprintf(stderr, "baton-tgen: out of memory\n");
        rc = 2;
        goto out;
    }
    struct tg_summary s;
    tg_summary_get(g, &s);
    double dur = (double)s.last_ns / 1e9;
    fprintf(json ? stderr : stdout,
            "baton-tgen: %llu flows, %llu packets, %llu bytes over %.3f s (virtual) -> %s\n",
            (unsigned long long)s.flows_completed, (unsigned long long)s.tx_packets,
            (unsigned long long)s.tx_bytes, dur, out);
    if (json)
        printf("{\"tx_packets\": %llu, \"tx_bytes\": %llu, \"tx_pps\": %.1f, \"rx_packets\": 0, "
               "\"flows_started\": %llu, \"flows_completed\": %llu, \"flows_failed\": 0, "
               "\"duration_s\": %.9f}\n",
               (unsigned long long)s.tx_packets, (unsigned long long)s.tx_bytes,
               dur > 0 ? (double)s.tx_packets / dur : 0.0, (unsigned long long)s.flows_started,
               (unsigned long long)s.flows_completed, dur);
out:
    for (int i = 0; i < 2; i++)
        if (w[i] && bt_pcap_writer_close(w[i]) < 0 && rc == 0) {
            fprintf(stderr, "baton-tgen: %s: write failed\n", out);
            rc = 2;
        }
    tg_engine_free(g);
    tg_template_clear(&p.tmpl);
    return rc;
}
