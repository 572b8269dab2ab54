/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command line and output formatting of baton-tgen (docs/tgen.md).
 */
#include "tg_cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bt_err.h"
#include "bt_yaml.h"
#include "tg_priv.h"

void tg_cli_usage(FILE *f)
{
    fputs(
"usage: baton-tgen [OPTIONS]                       offline (virtual time)\n"
"       baton-tgen EAL-ARGS -- [OPTIONS]            DPDK: port 0 client side, port 1 server side\n"
"\n"
"templates and profile:\n"
"  --profile FILE       YAML traffic profile (docs/tgen.md); flags below override it\n"
"  --template FILE      a pcap; each conversation in it is a template (repeatable)\n"
"  --synth SPEC         a synthetic template, e.g. tcp,req=200,resp=1400x10 or\n"
"                       udp,req=100,resp=500x2 (items: req= resp=BxN rounds= rtt= port= v6)\n"
"  --flows N            flows in all (default 1000 unless --duration)\n"
"  --cps N              new flows per second (default 100)\n"
"  --rate max|PPS       max: as fast as possible; PPS: cap packets per second\n"
"  --bps N              cap bits per second\n"
"  --duration S         start no flow after S (e.g. 10s, 500ms)\n"
"  --concurrency N      at most N flows active\n"
"  --mode open|closed   closed: wait for the other side's packets (default open)\n"
"  --speed X            template time runs X times faster\n"
"  --clients CIDR       client pool (repeatable; replaces the default)\n"
"  --servers CIDR       server pool (repeatable; replaces the default)\n"
"  --client-ports LO-HI client ports (default 1024-65535)\n"
"  --vlan ID            add an 802.1Q tag\n"
"  --no-isn-offset      keep the templates' sequence numbers\n"
"  --rto DUR            closed loop: first retransmission timeout (default 200ms)\n"
"  --retries N          closed loop: retransmissions before a flow fails (0..30, default 5)\n"
"  --seed N             every random choice from N (default 1)\n"
"output:\n"
"  --json               one JSON summary object on stdout\n"
"  --stats FILE         JSON lines every second\n"
"  --quiet              no live status and no human summary\n"
"offline backend:\n"
"  --pcap-out DIR       write DIR/client.pcap and DIR/server.pcap (what each port sends)\n"
"  --wire DELAY         loop each port's packets to the other after DELAY (a perfect\n"
"                       device; default 50us when --mode closed)\n"
"  --line-rate BPS      virtual line of --rate max (default 10G)\n"
"DPDK backend:\n"
"  --workers N          worker lcores, flows partitioned among them (default 1)\n"
"  --mbufs N            mbufs in the pool (default derived)\n"
"  --capture DIR        write what each port sent and received (port0-tx.pcap ...)\n"
"  --no-rx              open loop: do not poll the rx queues (net_null makes rx up)\n"
"  --client-ip ADDR     port 0's own IPv4 or IPv6 address (repeat for both): answers\n"
"                       ARP / neighbour solicitations, sources with the port's MAC\n"
"  --client-gw ADDR     port 0's next hop: its MAC (ARP / NS) is the destination MAC\n"
"  --server-ip ADDR     the same for port 1\n"
"  --server-gw ADDR\n"
"  --neigh-refresh DUR  ask the next hops again every DUR (default 1s; 0: never)\n"
"exit: 0 done, 1 some flows failed, 2 bad usage or input\n", f);
}

static int want_u64(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out,
                    struct bt_err *e)
{
    double q;
    if (bt_parse_quantity(v, &q) < 0 || !(q >= (double)lo) || !(q <= (double)hi) ||
        q != floor(q))
        return bt_err_set(e, "%s '%s': give a whole number %" PRIu64 "..%" PRIu64
                          " (k/M/G suffixes allowed)", opt, v, lo, hi);
    *out = (uint64_t)q;
    return 0;
}

static int want_double(const char *opt, const char *v, double lo, double hi, double *out,
                       struct bt_err *e)
{
    double q;
    if (bt_parse_quantity(v, &q) < 0 || !(q >= lo) || !(q <= hi))
        return bt_err_set(e, "%s '%s': give a number %g..%g (k/M/G suffixes allowed)", opt, v,
                          lo, hi);
    *out = q;
    return 0;
}

enum {
    O_PROFILE = 256, O_TEMPLATE, O_SYNTH, O_FLOWS, O_CPS, O_RATE, O_BPS, O_DURATION, O_CONC,
    O_MODE, O_SPEED, O_CLIENTS, O_SERVERS, O_CPORTS, O_VLAN, O_NOISN, O_SEED, O_JSON, O_STATS,
    O_QUIET, O_PCAPOUT, O_WIRE, O_LINE, O_WORKERS, O_MBUFS, O_CAPTURE, O_HELP, O_RTO,
    O_RETRIES, O_NORX, O_CIP, O_SIP, O_CGW, O_SGW, O_REFRESH,
};

/* --client-ip / --server-ip / --client-gw / --server-gw */
static int port_addr(struct tg_port_ip *pi, bool gw, const char *opt, const char *v,
                     struct bt_err *e)
{
    uint8_t a[16];

    if (inet_pton(AF_INET, v, a) == 1) {
        memcpy(gw ? pi->gw4 : pi->ip4, a, 4);
        *(gw ? &pi->gw4_set : &pi->has4) = true;
        return 0;
    }
    if (inet_pton(AF_INET6, v, a) == 1) {
        memcpy(gw ? pi->gw6 : pi->ip6, a, 16);
        *(gw ? &pi->gw6_set : &pi->has6) = true;
        return 0;
    }
    return bt_err_set(e, "%s '%s': give an IPv4 or IPv6 address (no prefix length)", opt, v);
}

int tg_cli_parse(int argc, char **argv, struct tg_opts *o, struct bt_err *e)
{
    static const struct option lo[] = {
        {"profile", required_argument, NULL, O_PROFILE},
        {"template", required_argument, NULL, O_TEMPLATE},
        {"synth", required_argument, NULL, O_SYNTH},
        {"flows", required_argument, NULL, O_FLOWS},
        {"cps", required_argument, NULL, O_CPS},
        {"rate", required_argument, NULL, O_RATE},
        {"bps", required_argument, NULL, O_BPS},
        {"duration", required_argument, NULL, O_DURATION},
        {"concurrency", required_argument, NULL, O_CONC},
        {"mode", required_argument, NULL, O_MODE},
        {"speed", required_argument, NULL, O_SPEED},
        {"clients", required_argument, NULL, O_CLIENTS},
        {"servers", required_argument, NULL, O_SERVERS},
        {"client-ports", required_argument, NULL, O_CPORTS},
        {"vlan", required_argument, NULL, O_VLAN},
        {"no-isn-offset", no_argument, NULL, O_NOISN},
        {"seed", required_argument, NULL, O_SEED},
        {"json", no_argument, NULL, O_JSON},
        {"stats", required_argument, NULL, O_STATS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"pcap-out", required_argument, NULL, O_PCAPOUT},
        {"wire", required_argument, NULL, O_WIRE},
        {"line-rate", required_argument, NULL, O_LINE},
        {"workers", required_argument, NULL, O_WORKERS},
        {"mbufs", required_argument, NULL, O_MBUFS},
        {"capture", required_argument, NULL, O_CAPTURE},
        {"help", no_argument, NULL, O_HELP},
        {"rto", required_argument, NULL, O_RTO},
        {"retries", required_argument, NULL, O_RETRIES},
        {"no-rx", no_argument, NULL, O_NORX},
        {"client-ip", required_argument, NULL, O_CIP},
        {"server-ip", required_argument, NULL, O_SIP},
        {"client-gw", required_argument, NULL, O_CGW},
        {"server-gw", required_argument, NULL, O_SGW},
        {"neigh-refresh", required_argument, NULL, O_REFRESH},
        {NULL, 0, NULL, 0},
    };
    struct tg_profile *p = &o->prof;
    bool clients_set = false, servers_set = false, profile_seen = false;
    uint64_t u = 0;  /* (-O3 cannot see want_u64 set it on success) */
    double d = 0;
    int c, r;

    memset(o, 0, sizeof(*o));
    tg_profile_default(p);
    o->seed = 1;
    o->workers = 1;
    o->neigh_refresh_ns = 1000000000ull;
    o->line_bps = 10000000000ull;
    /* 0, not 1: glibc then starts afresh, where 1 would go on inside a
     * cluster of short options an earlier refused parse stopped in ("-xy") */
    optind = 0;
    opterr = 0;
    /* a profile first, so that flags override it wherever they sit */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *file = NULL;
        if (!strcmp(a, "--profile") && i + 1 < argc)
            file = argv[i + 1];
        else if (!strncmp(a, "--profile=", 10))
            file = a + 10;
        if (file) {
            if (profile_seen)
                return bt_err_set(e, "--profile: give one profile");
            profile_seen = true;
            r = tg_profile_load_file(file, p, e);
            if (r < 0)
                return r;
        }
    }
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        r = 0;
        switch (c) {
        case O_PROFILE:
            break;
        case O_TEMPLATE:
            r = tg_profile_add_pcap(p, optarg, e);
            break;
        case O_SYNTH:
            r = tg_profile_add_synth(p, optarg, e);
            break;
        case O_FLOWS:
            r = want_u64("--flows", optarg, 1, 1000000000000ull, &p->flows, e);
            break;
        case O_CPS:
            r = want_double("--cps", optarg, 0.001, 1e9, &p->cps, e);
            break;
        case O_RATE:
            if (!strcmp(optarg, "max")) {
                p->rate_max = true;
            } else {
                r = want_double("--rate", optarg, 1, 1e10, &p->pps, e);
                if (r < 0)
                    bt_err_set(e, "--rate '%s': give max or packets per second (e.g. 1M)", optarg);
            }
            break;
        case O_BPS:
            r = want_double("--bps", optarg, 12800, 1e13, &p->bps, e);
            break;
        case O_DURATION:
            if (bt_parse_duration_ns(optarg, &p->duration_ns) < 0 || p->duration_ns == 0)
                r = bt_err_set(e, "--duration '%s': give a duration > 0 (10s, 500ms, 2m)", optarg);
            break;
        case O_CONC:
            r = want_u64("--concurrency", optarg, 1, 1000000000, &u, e);
            p->concurrency = (uint32_t)u;
            break;
        case O_MODE:
            if (!strcmp(optarg, "open"))
                p->mode = TG_MODE_OPEN;
            else if (!strcmp(optarg, "closed"))
                p->mode = TG_MODE_CLOSED;
            else
                r = bt_err_set(e, "--mode '%s': give open or closed", optarg);
            break;
        case O_SPEED:
            r = want_double("--speed", optarg, 1e-6, 1e6, &p->speed, e);
            break;
        case O_CLIENTS:
        case O_SERVERS: {
            bool *set = c == O_CLIENTS ? &clients_set : &servers_set;
            unsigned *n = c == O_CLIENTS ? &p->nclients : &p->nservers;
            struct bt_cidr *arr = c == O_CLIENTS ? p->clients : p->servers;
            if (!*set) {
                *set = true;
                *n = 0;
                snprintf(c == O_CLIENTS ? p->clients_at : p->servers_at, sizeof(p->clients_at),
                         "%s", c == O_CLIENTS ? "--clients" : "--servers");
            }
            if (*n >= TG_MAX_POOLS)
                r = bt_err_set(e, "--%s: at most %d CIDRs", c == O_CLIENTS ? "clients" : "servers",
                               TG_MAX_POOLS);
            else if (bt_cidr_parse(optarg, &arr[*n]) < 0)
                r = bt_err_set(e, "--%s '%s': not a CIDR (like 16.0.0.0/8 or 2001:db8::/64)",
                               c == O_CLIENTS ? "clients" : "servers", optarg);
            else
                (*n)++;
            break;
        }
        case O_CPORTS: {
            /* 1..5 digits each side: sscanf's %u took signs and spaces
             * (" 10-+20") and overflowed on long numbers */
            size_t na = strspn(optarg, "0123456789"), nb;
            unsigned a = (unsigned)atoi(optarg), b = 0;
            if (na >= 1 && na <= 5 && optarg[na] == '-' &&
                (nb = strspn(optarg + na + 1, "0123456789")) >= 1 && nb <= 5 &&
                !optarg[na + 1 + nb])
                b = (unsigned)atoi(optarg + na + 1);
            if (!b || a == 0 || b > 65535 || a > b)
                r = bt_err_set(e, "--client-ports '%s': give LO-HI with 1 <= LO <= HI <= 65535",
                               optarg);
            else {
                p->cport_lo = (uint16_t)a;
                p->cport_hi = (uint16_t)b;
            }
            break;
        }
        case O_VLAN:
            r = want_u64("--vlan", optarg, 1, 4094, &u, e);
            p->vlan = (uint16_t)u;
            break;
        case O_NOISN:
            p->isn_offset = false;
            break;
        case O_SEED:
            r = want_u64("--seed", optarg, 0, UINT32_MAX, &u, e);
            o->seed = (uint32_t)u;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_STATS:
            o->stats_path = optarg;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_PCAPOUT:
            o->pcap_out = optarg;
            break;
        case O_WIRE:
            if (bt_parse_duration_ns(optarg, &o->wire_ns) < 0)
                r = bt_err_set(e, "--wire '%s': give a delay (50us, 1ms, 0)", optarg);
            o->wire = true;
            break;
        case O_LINE:
            r = want_double("--line-rate", optarg, 1e6, 1e13, &d, e);
            o->line_bps = (uint64_t)d;
            break;
        case O_WORKERS:
            r = want_u64("--workers", optarg, 1, 64, &u, e);
            o->workers = (unsigned)u;
            break;
        case O_MBUFS:
            r = want_u64("--mbufs", optarg, 1024, 1u << 26, &u, e);
            o->mbufs = (uint32_t)u;
            break;
        case O_CAPTURE:
            o->capture_dir = optarg;
            break;
        case O_HELP:
            tg_cli_usage(stdout);
            return 1;
        case O_RTO:
            if (bt_parse_duration_ns(optarg, &p->rto_ns) < 0 || p->rto_ns < 1000)
                r = bt_err_set(e, "--rto '%s': give a timeout >= 1us (200ms, 50ms)", optarg);
            else if (p->rto_ns > p->rto_max_ns)
                p->rto_max_ns = p->rto_ns;
            break;
        case O_RETRIES:
            r = want_u64("--retries", optarg, 0, 30, &u, e);
            p->retries = (unsigned)u;
            break;
        case O_NORX:
            o->no_rx = true;
            break;
        case O_REFRESH:
            if (bt_parse_duration_ns(optarg, &o->neigh_refresh_ns) < 0 ||
                (o->neigh_refresh_ns && o->neigh_refresh_ns < 1000000))
                r = bt_err_set(e, "--neigh-refresh '%s': give a period >= 1ms (1s, 500ms), "
                               "or 0 for never", optarg);
            break;
        case O_CIP:
        case O_SIP:
        case O_CGW:
        case O_SGW:
            r = port_addr(&o->port_ip[c == O_SIP || c == O_SGW], c == O_CGW || c == O_SGW,
                          (const char *[]){"--client-ip", "--server-ip", "--client-gw",
                                           "--server-gw"}[c - O_CIP],
                          optarg, e);
            break;
        default:
            if (optopt && optopt < 256)
                return bt_err_set(e, "unknown or incomplete option '%s' (see --help)",
                                  argv[optind - 1]);
            return bt_err_set(e, "unknown option or missing value: '%s' (see --help)",
                              argv[optind - 1]);
        }
        if (r < 0)
            return r;
    }
    if (optind < argc)
        return bt_err_set(e, "unexpected argument '%s' (see --help)", argv[optind]);
    if (p->mode == TG_MODE_CLOSED && !o->wire) {
        o->wire_ns = 50000;
    }
    return tg_profile_check(p, e);
}

/* 0 when the template of entry i loads (into a set freed at once). */
int tg_cli_stats_line(const struct tg_summary *cur, const struct tg_summary *prev, double t_s,
                      double interval_s, char *buf, size_t len)
{
    struct tg_summary z;
    double iv = interval_s > 0 ? interval_s : 1;

    if (!prev) {
        memset(&z, 0, sizeof(z));
        prev = &z;
    }
    return snprintf(buf, len,
        "{\"schema\":1,\"t\":%.6f,\"interval_s\":%.6f,"
        "\"tx_pps\":%.1f,\"tx_bps\":%.1f,\"rx_pps\":%.1f,\"rx_bps\":%.1f,\"cps\":%.1f,"
        "\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ","
        "\"flows_started\":%" PRIu64 ",\"flows_completed\":%" PRIu64 ",\"flows_failed\":%" PRIu64
        ",\"flows_active\":%" PRIu64 ",\"rsts_seen\":%" PRIu64 ",\"retransmits\":%" PRIu64 "}",
        t_s, iv,
        (double)(cur->tx_packets - prev->tx_packets) / iv,
        (double)(cur->tx_bytes - prev->tx_bytes) * 8 / iv,
        (double)(cur->rx_packets - prev->rx_packets) / iv,
        (double)(cur->rx_bytes - prev->rx_bytes) * 8 / iv,
        (double)(cur->flows_started - prev->flows_started) / iv,
        cur->tx_packets, cur->tx_bytes, cur->rx_packets, cur->flows_started,
        cur->flows_completed, cur->flows_failed, cur->flows_active, cur->rsts_seen,
        cur->retransmits);
}

static const char *si(double v, char *buf, size_t len)
{
    const char *u = "";
    if (v >= 1e9) {
        v /= 1e9;
        u = "G";
    } else if (v >= 1e6) {
        v /= 1e6;
        u = "M";
    } else if (v >= 1e3) {
        v /= 1e3;
        u = "k";
    }
    snprintf(buf, len, "%.2f%s", v, u);
    return buf;
}

void tg_cli_status(const struct tg_summary *cur, const struct tg_summary *prev, double interval_s,
                   char *buf, size_t len)
{
    char a[32], b[32], c[32], d[32];
    double iv = interval_s > 0 ? interval_s : 1;

    snprintf(buf, len, "tx %spps %sbps | rx %spps | active %" PRIu64 " | cps %s | done %" PRIu64
             " failed %" PRIu64,
             si((double)(cur->tx_packets - prev->tx_packets) / iv, a, sizeof(a)),
             si((double)(cur->tx_bytes - prev->tx_bytes) * 8 / iv, b, sizeof(b)),
             si((double)(cur->rx_packets - prev->rx_packets) / iv, c, sizeof(c)),
             cur->flows_active,
             si((double)(cur->flows_started - prev->flows_started) / iv, d, sizeof(d)),
             cur->flows_completed, cur->flows_failed);
}

void tg_cli_summary(FILE *f, const struct tg_summary *s)
{
    char a[32], b[32], c[32];

    fprintf(f, "tgen: %" PRIu64 " packets %" PRIu64 " bytes in %.3f s (%spps, %sbps); rx %" PRIu64
            " packets (%spps)\n",
            s->tx_packets, s->tx_bytes, s->duration_s, si(s->tx_pps, a, sizeof(a)),
            si(s->tx_bps, b, sizeof(b)), s->rx_packets, si(s->rx_pps, c, sizeof(c)));
    fprintf(f, "tgen: flows started %" PRIu64 ", completed %" PRIu64 ", failed %" PRIu64
            ", active %" PRIu64 "; %.1f cps; RSTs seen %" PRIu64 ", retransmits %" PRIu64 "\n",
            s->flows_started, s->flows_completed, s->flows_failed, s->flows_active, s->cps,
            s->rsts_seen, s->retransmits);
    if (s->lat_samples)
        fprintf(f, "tgen: latency through the device p50 %.3f us, p99 %.3f us, max %.3f us "
                "(%" PRIu64 " samples)\n",
                (double)s->lat_p50_ns / 1e3, (double)s->lat_p99_ns / 1e3,
                (double)s->lat_max_ns / 1e3, s->lat_samples);
}

int tg_cli_out_open(struct tg_cli_out *out, const struct tg_opts *o, struct bt_err *e)
{
    memset(out, 0, sizeof(*out));
    out->o = o;
    out->live = !o->quiet && isatty(2);
    if (o->stats_path) {
        out->stats = fopen(o->stats_path, "w");
        if (!out->stats)
            return bt_err_setr(e, -errno, "--stats %s: %s", o->stats_path, strerror(errno));
    }
    return 0;
}

void tg_cli_out_stats(struct tg_cli_out *out, const struct tg_summary *s, double t_s)
{
    char line[1024];

    if (!out->stats)
        return;
    tg_cli_stats_line(s, &out->prev_stat, t_s, t_s - out->t_stat, line, sizeof(line));
    fprintf(out->stats, "%s\n", line);
    fflush(out->stats);
    out->prev_stat = *s;
    out->t_stat = t_s;
}

bool tg_cli_out_live_due(const struct tg_cli_out *out, uint64_t wall_ns)
{
    return out->live && wall_ns - out->last_live_ns >= 500000000ull;
}

void tg_cli_out_live(struct tg_cli_out *out, const struct tg_summary *s, uint64_t wall_ns)
{
    char line[256];

    if (!out->live)
        return;
    if (out->last_live_ns) {
        tg_cli_status(s, &out->prev_live, (double)(wall_ns - out->last_live_ns) / 1e9, line,
                      sizeof(line));
        fprintf(stderr, "\r\033[K%s", line);
    }
    out->prev_live = *s;
    out->last_live_ns = wall_ns;
}

int tg_cli_out_close(struct tg_cli_out *out, const struct tg_summary *s, double t_s,
                     const char *backend, struct json_t *extra)
{
    const struct tg_opts *o = out->o;
    int rc = 0;

    if (out->stats) {
        tg_cli_out_stats(out, s, t_s);
        if (fclose(out->stats) != 0) {
            fprintf(stderr, "baton-tgen: --stats %s: write failed\n", o->stats_path);
            rc = 2;
        }
        out->stats = NULL;
    }
    if (out->live && out->last_live_ns)
        fprintf(stderr, "\r\033[K");
    if (!o->quiet)
        tg_cli_summary(stderr, s);
    if (o->json) {
        json_t *j = tg_summary_json(s);
        char *txt = NULL;
        if (j) {
            json_object_set_new(j, "backend", json_string(backend));
            json_object_set_new(j, "seed", json_integer(o->seed));
            if (extra)
                json_object_update(j, extra);
            txt = json_dumps(j, JSON_COMPACT);
        }
        if (!txt || printf("%s\n", txt) < 0 || fflush(stdout) != 0) {
            fprintf(stderr, "baton-tgen: --json: out of memory or stdout not writable\n");
            rc = 2;
        }
        free(txt);
        json_decref(j);
    }
    json_decref(extra);
    return rc;
}
