/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live driver: one poll loop over the two interfaces (libpcap, inbound
 * only, non-blocking), the stats/control socket and the cluster's own next
 * deadline. Each turn reads what the interfaces hold (a burst of at most
 * BURST a side into gw_rx), sends what the cluster lets out by now, writes
 * a stats line when due and applies the timeline's events at their times.
 */
#include "gw_live.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "gw_serve.h"
#include "gw_sink.h"

#define POOL_PKTS 65536
#define POOL_BUF 2048
#define BURST 32

struct side {
    pcap_t *h;
    int fd;
    const char *name;
};

struct live {
    const struct gw_sim_opts *o;
    struct gw_live_result *res;
    struct gw_cluster *g;
    struct gw_sink k;          /* the capture set (k.w) and its first write error */
    struct bt_pktpool *pool;
    struct gw_serve *serve;
    struct gw_stats_line *line;
    FILE *stats;
    struct side sd[2];
    uint64_t real0, mono0;
    /* the burst being read from one side */
    struct bt_pkt *burst[BURST];
    unsigned nburst, port;
    uint64_t now;
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The wall clock as the cluster sees it: epoch nanoseconds that never go
 * back (monotonic from the start), so that the capture set's time stamps
 * line up with other captures of the lab. */
static uint64_t now_ns(const struct live *L)
{
    return L->real0 + (clock_ns(CLOCK_MONOTONIC) - L->mono0);
}

static void werr(struct live *L, int r)
{
    if (r < 0 && !L->k.err)
        L->k.err = r;
}

static int link_write(struct live *L, unsigned port, uint64_t t, const uint8_t *d, uint32_t caplen,
                      uint32_t wire_len)
{
    return port == 0 ? bt_capset_writer_client(L->k.w, t, d, caplen, wire_len)
                     : bt_capset_writer_server(L->k.w, t, d, caplen, wire_len);
}

/* Writes frame d out of side port and, once the interface took it, into
 * that side's link capture: a frame it refused never reached the wire, and
 * the capture must not show it leaving (verify would count it delivered). */
static void send_frame(struct live *L, unsigned port, uint64_t t, const uint8_t *d, uint32_t len)
{
    if (pcap_inject(L->sd[port].h, d, len) != (int)len) {
        L->res->send_errors++;
        return;
    }
    L->res->out_pkts[port]++;
    werr(L, link_write(L, port, t, d, len, len));
}

static void drain(struct live *L, uint64_t now)
{
    struct bt_pkt *out[BURST];
    unsigned n;

    while ((n = gw_tx(L->g, now, out, BURST)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            struct bt_pkt *p = out[i];
            send_frame(L, p->port == 1 ? 1 : 0, p->ts_ns > now ? p->ts_ns : now, p->data, p->len);
            bt_pkt_free(p);
        }
    }
}

static void flush_burst(struct live *L)
{
    if (L->nburst)
        gw_rx(L->g, L->now, (uint16_t)L->port, L->burst, L->nburst);
    L->nburst = 0;
}

static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *d)
{
    struct live *L = (struct live *)arg;
    unsigned port = L->port;
    struct bt_pkt *p;

    L->res->in_pkts[port]++;
    werr(L, link_write(L, port, L->now, d, h->caplen, h->len));
    if (h->caplen >= 14 && d[12] == 0x08 && d[13] == 0x06) {
        /* ARP crosses as it would a transparent firewall: the core judges IP */
        L->res->arp++;
        send_frame(L, port ^ 1, L->now, d, h->caplen);
        return;
    }
    if (h->caplen > POOL_BUF || h->caplen < h->len) {
        L->res->oversize++;   /* jumbo, or a GSO frame: offloads should be off */
        return;
    }
    if (!(p = bt_pkt_copy(L->pool, d, h->caplen, h->len, L->now))) {
        L->res->pool_empty++;
        return;
    }
    L->burst[L->nburst++] = p;
    if (L->nburst == BURST)
        flush_burst(L);
}

/* Reads what side port holds now, at most a few bursts (the other side and
 * the cluster's deadlines get their turn). */
static int read_side(struct live *L, unsigned port, struct bt_err *e)
{
    int n;

    L->port = port;
    L->now = now_ns(L);
    n = pcap_dispatch(L->sd[port].h, 4 * BURST, on_frame, (u_char *)L);
    flush_burst(L);
    if (n == PCAP_ERROR)
        return bt_err_setr(e, -EIO, "%s: read failed: %s", L->sd[port].name, pcap_geterr(L->sd[port].h));
    return n;
}

static int open_side(struct side *s, const char *ifname, const char *opt, struct bt_err *e)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    int r;

    s->name = ifname;
    if (!(s->h = pcap_create(ifname, eb)))
        return bt_err_set(e, "%s %s: %s", opt, ifname, eb);
    pcap_set_snaplen(s->h, 65535);
    pcap_set_promisc(s->h, 1);
    pcap_set_immediate_mode(s->h, 1);
    pcap_set_buffer_size(s->h, 8 << 20);
    if ((r = pcap_activate(s->h)) < 0)
        return bt_err_set(e, "%s %s: cannot open: %s%s%s", opt, ifname, pcap_statustostr(r),
                          r == PCAP_ERROR ? ": " : "", r == PCAP_ERROR ? pcap_geterr(s->h) : "");
    if (pcap_datalink(s->h) != DLT_EN10MB)
        return bt_err_set(e, "%s %s: link type %d: the cluster sits between Ethernet interfaces", opt,
                          ifname, pcap_datalink(s->h));
    /* what the cluster writes out of an interface must not be read back in */
    if (pcap_setdirection(s->h, PCAP_D_IN) < 0)
        return bt_err_set(e, "%s %s: cannot read inbound frames only: %s", opt, ifname, pcap_geterr(s->h));
    if (pcap_setnonblock(s->h, 1, eb) < 0 || (s->fd = pcap_get_selectable_fd(s->h)) < 0)
        return bt_err_set(e, "%s %s: cannot poll: %s", opt, ifname, eb[0] ? eb : "no selectable descriptor");
    return 0;
}

static void stats_line(struct live *L, uint64_t now)
{
    char *txt;

    gw_stats_sample(L->g, now, L->line);
    txt = gw_stats_line_json(L->line);
    if (!txt || fprintf(L->stats, "%s\n", txt) < 0 || fflush(L->stats) != 0)
        werr(L, -EIO);
    if (txt && L->serve)
        gw_serve_stats(L->serve, txt);
    free(txt);
}

/* Event k of the timeline, at now. -EINVAL with e saying why the cluster refused it. */
static int do_event(struct live *L, unsigned k, uint64_t now, struct bt_err *e)
{
    const struct gw_sim_opts *o = L->o;
    const char *cmd;
    char why[160];
    int r, id = o->fail_sgm[k];

    switch (o->fail_kind[k]) {
    case BT_EV_SGM_JOIN: cmd = "add"; r = gw_add(L->g, now, id, o->fail_weight[k]); break;
    case BT_EV_WEIGHT: cmd = "weight"; r = gw_weight(L->g, now, id, o->fail_weight[k]); break;
    case BT_EV_SGM_UP: cmd = "restore"; r = gw_restore(L->g, now, id); break;
    default: cmd = "fail"; r = gw_fail(L->g, now, id); break;
    }
    if (r >= 0)
        return 0;
    return bt_err_setr(e, -EINVAL, "event %u of the timeline (%s sgm %d at %.6f s): the cluster refused it: %s",
                       k + 1, cmd, id, (double)(now - L->res->start_ns) / 1e9,
                       gw_refusal(L->g, cmd, id, r, why, sizeof(why)));
}

/* The timeline's events in time order (the options keep them as given). */
static void event_order(const struct gw_sim_opts *o, unsigned *ord)
{
    for (unsigned i = 0; i < o->nfails; i++) {
        unsigned j = i;
        for (; j > 0 && o->fail_ns[ord[j - 1]] > o->fail_ns[i]; j--)
            ord[j] = ord[j - 1];
        ord[j] = i;
    }
}

static int close_capset(struct live *L, int r, struct bt_err *e)
{
    struct bt_capset_meta m;
    struct bt_err later;
    int cr;

    gw_sink_meta(&L->o->cluster, L->g ? gw_member_count(L->g) : L->o->cluster.nmembers, L->o,
                 "baton-gateway live", &m);
    /* a first error already in e is the one to report */
    cr = bt_capset_writer_close(L->k.w, &m, r == 0 ? e : &later);
    return r == 0 ? cr : r;
}

int gw_live_run(const struct gw_sim_opts *o, const char *client_if, const char *server_if,
                struct gw_live_result *res, struct gw_stats *st, struct bt_err *e)
{
    struct live L;
    unsigned ord[GW_SIM_MAX_FAILS], next_ev = 0;
    uint64_t next_stats = UINT64_MAX, end = UINT64_MAX, last_now = 0, last_line = UINT64_MAX;
    char path[4096];
    struct bt_err refused = {""};   /* the first event the cluster refused */
    int r = 0;

    memset(&L, 0, sizeof(L));
    memset(res, 0, sizeof(*res));
    L.o = o;
    L.res = res;
    L.sd[0].fd = L.sd[1].fd = -1;
    if (!client_if || !server_if || !o->out)
        return bt_err_set(e, "live: needs --client-if, --server-if and --out");
    if (strcmp(client_if, server_if) == 0)
        return bt_err_set(e, "--client-if and --server-if are both %s: the cluster sits between two interfaces",
                          client_if);
    if ((r = open_side(&L.sd[0], client_if, "--client-if", e)) < 0 ||
        (r = open_side(&L.sd[1], server_if, "--server-if", e)) < 0)
        goto out;
    if (!(L.g = gw_cluster_new(&o->cluster, o->seed))) {
        r = bt_err_set(e, "bad cluster configuration (members 1..64, weights 0..512, an IPv4 NAT pool)");
        goto out;
    }
    L.pool = bt_pktpool_new(POOL_PKTS, POOL_BUF);
    L.line = malloc(sizeof(*L.line));
    if (!L.pool || !L.line) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    if ((r = gw_sink_open(&L.k, o->out, e)) < 0)
        goto out;
    bt_capset_path(o->out, "stats.jsonl", path, sizeof(path));
    if (!(L.stats = fopen(path, "w"))) {
        r = bt_err_setr(e, -errno, "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    if (o->serve && !(L.serve = gw_serve_open(o->serve, 1, e))) {
        r = -EINVAL;
        goto out;
    }
    gw_sink_attach(L.g, &L.k);
    event_order(o, ord);
    L.real0 = clock_ns(CLOCK_REALTIME);
    L.mono0 = clock_ns(CLOCK_MONOTONIC);
    res->start_ns = L.real0;
    if (L.serve)
        gw_serve_start(L.serve, L.real0);
    if (o->stats_interval_ns)
        next_stats = L.real0 + o->stats_interval_ns;
    if (o->duration_ns)
        end = L.real0 + o->duration_ns;
    for (;;) {
        uint64_t now = now_ns(&L), t;
        int fds[2] = {L.sd[0].fd, L.sd[1].fd};
        /* as in the sim, a refused event (a member failed twice; with a
         * socket, an operator's command that got there first) stops
         * nothing: the run goes on to its end, its capture set is whole,
         * and the refusal is the run's error then (exit 2) */
        while (next_ev < o->nfails && L.real0 + o->fail_ns[ord[next_ev]] <= now) {
            struct bt_err ee = {""};
            if (do_event(&L, ord[next_ev++], now, &ee) < 0 && !refused.msg[0])
                refused = ee;
        }
        if ((r = read_side(&L, 0, e)) < 0 || (r = read_side(&L, 1, e)) < 0)
            goto out;
        r = 0;
        now = now_ns(&L);
        drain(&L, now);
        last_now = now;
        if (now >= next_stats) {
            stats_line(&L, now);
            last_line = now;
            next_stats += o->stats_interval_ns;
            if (next_stats <= now)   /* a stall longer than an interval: no burst of lines */
                next_stats = now + o->stats_interval_ns;
        }
        if (L.k.err || now >= end || gw_serve_stop)
            break;
        /* sleep until the next thing due, or a frame, or a command */
        t = gw_next_ns(L.g);
        if (next_stats < t)
            t = next_stats;
        if (next_ev < o->nfails && L.real0 + o->fail_ns[ord[next_ev]] < t)
            t = L.real0 + o->fail_ns[ord[next_ev]];
        if (end < t)
            t = end;
        if (t == UINT64_MAX)
            t = now + 1000000000ULL;   /* idle: look at the clock once a second anyway */
        if (t <= now)
            continue;
        if (L.serve) {
            int pr = gw_serve_pace_fds(L.serve, L.g, t, fds, 2);
            if (pr == -EINTR)
                break;
            if (pr < 0) {
                r = bt_err_setr(e, pr, "%s: %s", o->serve, strerror(-pr));
                goto out;
            }
        } else {
            struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
            uint64_t left = t - now;
            struct timespec ts = {(time_t)(left / 1000000000ULL), (long)(left % 1000000000ULL)};
            if (ppoll(pfd, 2, &ts, NULL) < 0 && errno != EINTR) {
                r = bt_err_setr(e, -errno, "poll: %s", strerror(errno));
                goto out;
            }
        }
    }
    /* the last, partial interval; none when the loop's last round wrote a
     * line (--duration a multiple of --stats-interval): a line of a few
     * microseconds would read as the traffic dropping to nothing */
    if (last_line == last_now) {
        res->end_ns = last_now;
    } else {
        res->end_ns = now_ns(&L);
        stats_line(&L, res->end_ns);
    }
    for (unsigned i = 0; i < 2; i++) {
        struct pcap_stat ps;
        if (pcap_stats(L.sd[i].h, &ps) == 0)
            res->kernel_drops[i] = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    }
    if (st)
        gw_get_stats(L.g, st);
out:
    if (L.stats && fclose(L.stats) != 0 && r == 0)
        r = bt_err_setr(e, -EIO, "%s: write failed", path);
    if (L.k.w)
        r = close_capset(&L, r, e);
    if (r == 0 && L.k.err)
        r = bt_err_setr(e, L.k.err, "%s: write failed: %s", o->out, strerror(-L.k.err));
    if (r == 0 && refused.msg[0])
        r = bt_err_setr(e, -EINVAL, "%s (the run went on to its end: %s is whole)", refused.msg, o->out);
    gw_serve_close(L.serve);
    gw_cluster_free(L.g);
    bt_pktpool_free(L.pool);
    free(L.line);
    for (unsigned i = 0; i < 2; i++)
        if (L.sd[i].h)
            pcap_close(L.sd[i].h);
    return r;
}
