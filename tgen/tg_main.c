/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen: the offline backend (virtual time, client.pcap and
 * server.pcap, no DPDK, no root) and the dispatch to the DPDK backend when
 * EAL arguments come before `--`.
 *
 * Offline, the clock is virtual: it jumps to the engine's next event. With
 * --wire (or --mode closed) every packet a port sends arrives on the other
 * port after the wire's delay, a perfect device under test.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bt_err.h"
#include "bt_pcap.h"
#include "bt_pkt.h"
#include "tg_api.h"
#include "tg_cli.h"

#ifdef TG_HAVE_DPDK
#include "tg_dpdk.h"
#endif

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted++;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A FIFO of packets on the wire (constant delay keeps it in time order). */
struct wire {
    struct bt_pkt *head, *tail;
    unsigned n;
};

static void wire_push(struct wire *w, struct bt_pkt *p)
{
    p->next = NULL;
    if (w->tail)
        w->tail->next = p;
    else
        w->head = p;
    w->tail = p;
    w->n++;
}

static struct bt_pkt *wire_pop(struct wire *w)
{
    struct bt_pkt *p = w->head;
    if (p) {
        w->head = p->next;
        if (!w->head)
            w->tail = NULL;
        w->n--;
    }
    return p;
}

static int run_offline(struct tg_opts *o)
{
    struct bt_err err = {{0}};
    struct tg_engine *g = NULL;
    struct bt_pcap_writer *pw[2] = {NULL, NULL};
    struct tg_cli_out out;
    struct wire wire = {0};
    struct tg_summary sum;
    uint64_t now = 0, next_stat = 1000000000ull, start_wall = wall_ns();
    struct bt_pkt *pk[32];
    int rc = 2;

    memset(&out, 0, sizeof(out));
    memset(&sum, 0, sizeof(sum));
    g = tg_engine_new(&o->prof, o->seed, &err);
    if (!g) {
        tg_profile_template_at(&o->prof, &err);
        fprintf(stderr, "baton-tgen: %s\n", err.msg);
        goto out;
    }
    if (o->pcap_out) {
        if (mkdir(o->pcap_out, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "baton-tgen: --pcap-out %s: %s\n", o->pcap_out, strerror(errno));
            goto out;
        }
        for (int i = 0; i < 2; i++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", o->pcap_out, i ? "server.pcap" : "client.pcap");
            pw[i] = bt_pcap_writer_open(path, 1, 65535, &err);
            if (!pw[i]) {
                fprintf(stderr, "baton-tgen: %s\n", err.msg);
                goto out;
            }
        }
    }
    if (tg_cli_out_open(&out, o, &err) < 0) {
        fprintf(stderr, "baton-tgen: %s\n", err.msg);
        goto out;
    }
    tg_cli_out_live(&out, &sum, start_wall);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    bool loop = o->wire || o->prof.mode == TG_MODE_CLOSED;
    bool stopping = false;
    for (;;) {
        if (interrupted && !stopping) {
            tg_stop(g, now);
            stopping = true;
        }
        if (interrupted > 1) {
            tg_abort(g, now);
            break;
        }
        uint64_t t = tg_next_ns(g);
        uint64_t tw = wire.head ? wire.head->ts_ns + o->wire_ns : UINT64_MAX;
        if (tg_done(g) && !wire.head)
            break;
        if (t == UINT64_MAX && tw == UINT64_MAX)
            break;  /* nothing left that can happen */
        uint64_t tn = t < tw ? t : tw;
        if (tn > now)
            now = tn;
        while (out.stats && now >= next_stat) {
            tg_summary_get(g, next_stat, &sum);
            tg_cli_out_stats(&out, &sum, (double)next_stat / 1e9);
            next_stat += 1000000000ull;
        }
        /* deliver what the wire holds by now */
        while (wire.head && wire.head->ts_ns + o->wire_ns <= now) {
            struct bt_pkt *p = wire_pop(&wire);
            uint16_t to = p->port ? 0 : 1;
            tg_rx(g, now, to, &p, 1);
        }
        unsigned n = tg_tx(g, now, pk, 32);
        for (unsigned i = 0; i < n; i++) {
            struct bt_pkt *p = pk[i];
            int wr = pw[p->port] ? bt_pcap_write(pw[p->port], p->ts_ns, p->data, p->len,
                                                 p->wire_len) : 0;
            if (wr < 0) {
                /* the writer's own error, not errno: errno is whatever ran last */
                if (wr == -EINVAL && p->ts_ns / 1000000000ull > UINT32_MAX)
                    fprintf(stderr, "baton-tgen: writing %s: a packet at %.0f s is past the "
                            "%u s a pcap timestamp holds: raise cps or lower flows or "
                            "duration\n", o->pcap_out, (double)p->ts_ns / 1e9, UINT32_MAX);
                else
                    fprintf(stderr, "baton-tgen: writing %s: %s\n", o->pcap_out, strerror(-wr));
                rc = 2;
                bt_pkt_free(p);
                for (unsigned j = i + 1; j < n; j++)
                    bt_pkt_free(pk[j]);
                goto out;
            }
            if (o->prof.rate_max)
                now += ((uint64_t)p->len + 24) * 8 * 1000000000ull / o->line_bps;
            if (loop)
                wire_push(&wire, p);
            else
                bt_pkt_free(p);
        }
        if (n == 0 && t <= now && tw > now && !tg_done(g)) {
            /* the pool is empty with everything on the wire: let it drain */
            if (wire.head)
                now = tw;
            else if (o->prof.rate_max)
                now++;
            else if (tg_next_ns(g) <= now)
                now++;
        }
        if (out.live) {
            uint64_t w = wall_ns();
            if (tg_cli_out_live_due(&out, w)) {
                tg_summary_get(g, now, &sum);
                tg_cli_out_live(&out, &sum, w);
            }
        }
    }
    while (wire.head) {
        struct bt_pkt *p = wire_pop(&wire);
        bt_pkt_free(p);
    }
    tg_summary_get(g, now, &sum);
    /* as the DPDK backend: whether a signal cut the run short */
    /* (extra is taken over by tg_cli_out_close) */
    json_t *extra = json_pack("{s:b}", "interrupted", interrupted != 0);
    rc = tg_cli_out_close(&out, &sum, (double)now / 1e9, "offline", extra);
    if (!o->quiet)
        fprintf(stderr, "tgen: (offline, virtual time; %.3f s of wall time)\n",
                (double)(wall_ns() - start_wall) / 1e9);
    if (!rc)
        rc = sum.flows_failed ? 1 : 0;
out:
    for (int i = 0; i < 2; i++) {
        int cr = bt_pcap_writer_close(pw[i]);
        if (cr < 0) {
            fprintf(stderr, "baton-tgen: writing %s: %s\n", o->pcap_out, strerror(-cr));
            rc = 2;
        }
    }
    if (out.stats)
        fclose(out.stats);
    tg_engine_free(g);
    return rc;
}

int main(int argc, char **argv)
{
    static struct tg_opts o;
    struct bt_err err = {{0}};
    int dashdash = 0, r;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            dashdash = i;
            break;
        }
    if (dashdash) {
#ifdef TG_HAVE_DPDK
        return tg_dpdk_main(argc, argv, dashdash);
#else
        fprintf(stderr, "baton-tgen: EAL arguments before '--' need the DPDK backend; this "
                "build has none (meson -Ddpdk=enabled), use --pcap-out DIR offline\n");
        return 2;
#endif
    }
    r = tg_cli_parse(argc, argv, &o, &err);
    if (r == 1)
        return 0;
    if (r < 0) {
        fprintf(stderr, "baton-tgen: %s\n", err.msg);
        return 2;
    }
    bool ips = false;
    for (int i = 0; i < 2; i++)
        ips |= o.port_ip[i].has4 || o.port_ip[i].has6 || o.port_ip[i].gw4_set ||
               o.port_ip[i].gw6_set;
    if (o.capture_dir || o.workers != 1 || o.mbufs || o.no_rx || ips) {
        fprintf(stderr, "baton-tgen: --capture, --workers, --mbufs, --no-rx and the port "
                "addresses are DPDK options: give EAL arguments before '--' (offline: "
                "--pcap-out DIR)\n");
        return 2;
    }
    return run_offline(&o);
}
