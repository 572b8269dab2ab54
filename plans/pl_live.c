/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live runner against an external device. baton-tgen runs as its own
 * process (its DPDK backend: EAL, ports, lcores are its business) with the
 * plan's traffic as a profile file, --capture for the link captures,
 * --stats to learn when its traffic starts and --json for the summary.
 * Meanwhile this process walks the plan's timeline on the wall clock and
 * runs the run: hooks at their times, each in its own process group with
 * its timeout; the run is bounded (live.timeout, or the traffic's length
 * plus its retransmissions plus a grace). Then the link captures are
 * merged per link into client.pcap / server.pcap and judged with the same
 * checks as --sim; verify's member checks only when member captures were
 * given (live.capset / live.sgm), otherwise they are "not applicable".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "bt_yaml.h"
#include "pl_live.h"

#define MAX_ARGS 128
#define GRACE_NS 30000000000ULL        /* EAL start-up and the drain, on top of the traffic */
#define STOP_STEP_S 10.0               /* past the bound: SIGINT, SIGINT again, SIGKILL */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *ev_name(enum pl_event_kind k)
{
    switch (k) {
    case PL_EV_FAIL: return "fail";
    case PL_EV_RESTORE: return "restore";
    case PL_EV_ADD: return "add";
    case PL_EV_WEIGHT: return "set_weight";
    case PL_EV_POLICY: return "policy";
    default: return "run";
    }
}

/* ---------------------------------------------------------------- ports */

static bool is_pci(const char *s)
{
    /* [DDDD:]BB:DD.F */
    unsigned dom, bus, dev, fn;
    char tail;
    if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4)
        return strlen(s) == 12;
    return sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3 && strlen(s) == 7;
}

int pl_live_port_args(const char *spec, unsigned port, char *buf, size_t n, const char *a[2])
{
    int w;

    if (!spec || !*spec || strpbrk(spec, " \t"))
        return -EINVAL;
    if (is_pci(spec)) {
        a[0] = "-a";
        a[1] = spec;
        return 1;
    }
    a[0] = "--vdev";
    if (!strncmp(spec, "net_", 4)) {
        a[1] = spec;
        return 0;
    }
    /* an interface name (what the kernel accepts: up to 15 bytes, no '/' or ',') */
    if (strlen(spec) > 15 || strpbrk(spec, "/,=:"))
        return -EINVAL;
    w = snprintf(buf, n, "net_af_packet%u,iface=%s", port, spec);
    if (w < 0 || (size_t)w >= n)
        return -ENAMETOOLONG;
    a[1] = buf;
    return 0;
}

static const char *spec_of(const struct pl_plan *p, const struct pl_live_opts *o, unsigned port)
{
    if (port == 0)
        return o && o->client ? o->client : p->live.client;
    return o && o->server ? o->server : p->live.server;
}

/* "0000:3b:00.0" for "3b:00.0": EAL probes PCI ports in address order. */
static void pci_full(const char *s, char out[16])
{
    snprintf(out, 16, "%s%s", strlen(s) == 7 ? "0000:" : "", s);
}

int pl_live_check(const struct pl_plan *p, const struct pl_live_opts *o, struct bt_err *e)
{
    const char *spec[2];
    char buf[2][128];
    const char *a[2][2];
    int pci[2];

    if (!p->tgen && p->live.traffic)
        return bt_err_setr(e, -EINVAL, "%s:%u:%u: traffic: --live needs tgen traffic (traffic: with "
                           "templates: or profile:); the gateway's built-in endpoints exist only in "
                           "--sim", p->file, p->live.traffic->line, p->live.traffic->col);
    if (!p->tgen)
        return bt_err_setr(e, -EINVAL, "%s: --live needs tgen traffic (traffic: with templates: or "
                           "profile:); the gateway's built-in endpoints exist only in --sim", p->file);
    if (p->ramp.kind != PL_RAMP_NONE)
        return bt_err_setr(e, -EINVAL, "%s: ramp: a capacity search runs in --sim only (not yet "
                           "live)", p->file);
    for (unsigned k = 0; k < p->nevents; k++)
        if (p->ev[k].kind != PL_EV_RUN)
            return bt_err_setr(e, -EINVAL, "%s:%u:%u: events: '%s' at %.3f s: member events need a "
                               "live cluster; use run: hooks to act on an external device",
                               p->file, p->ev[k].line, p->ev[k].col, ev_name(p->ev[k].kind),
                               p->ev[k].at_ns / 1e9);
    for (unsigned port = 0; port < 2; port++) {
        const char *side = port ? "server" : "client";
        spec[port] = spec_of(p, o, port);
        if (!spec[port])
            return bt_err_setr(e, -EINVAL, "%s: --live: no %s port: give --%s-port SPEC or live.%s "
                               "(an interface, a DPDK vdev net_..., or a PCI address)", p->file,
                               side, side, side);
        pci[port] = pl_live_port_args(spec[port], port, buf[port], sizeof(buf[port]), a[port]);
        if (pci[port] < 0)
            return bt_err_setr(e, -EINVAL, "%s: --live: %s port '%s': give an interface name (at "
                               "most 15 characters), a DPDK vdev (net_...) or a PCI address",
                               p->file, side, spec[port]);
        if (pci[port] == 0 && strncmp(spec[port], "net_", 4)) {
            char path[300];
            snprintf(path, sizeof(path), "/sys/class/net/%s", spec[port]);
            if (access(path, F_OK) < 0)
                return bt_err_setr(e, -EINVAL, "%s: --live: %s port '%s': no such network "
                                   "interface (ip link)", p->file, side, spec[port]);
        }
    }
    if (!strcmp(spec[0], spec[1]))
        return bt_err_setr(e, -EINVAL, "%s: --live: the client and server ports are both '%s'",
                           p->file, spec[0]);
    /* tgen takes the first two DPDK ports: PCI ports are probed before
     * vdevs, and in address order */
    if (!pci[0] && pci[1])
        return bt_err_setr(e, -EINVAL, "%s: --live: the server port is PCI and the client port a "
                           "vdev: DPDK would number the server port 0; give both of one kind, or "
                           "the PCI one as the client", p->file);
    if (pci[0] && pci[1]) {
        char f0[16], f1[16];
        pci_full(spec[0], f0);
        pci_full(spec[1], f1);
        if (strcasecmp(f0, f1) > 0)
            return bt_err_setr(e, -EINVAL, "%s: --live: the client port %s sorts after the server "
                               "port %s: DPDK numbers PCI ports in address order, so the client "
                               "would be port 1; swap the cables or the roles", p->file, f0, f1);
    }
    return 0;
}

/* ---------------------------------------------------------------- profile */

/* The plan's directory, absolute (relative pcap paths are taken from it). */
static void plan_dir(const struct pl_plan *p, char *out, size_t n)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(p->file, '/');

    if (slash)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - p->file), p->file);
    else
        snprintf(dir, sizeof(dir), ".");
    if (!realpath(dir[0] ? dir : "/", out))
        snprintf(out, n, "%s", dir);
}

/* A YAML node as JSON, every scalar a string (the profile's readers parse
 * the text, whatever its style). pcap: paths of templates made absolute. */
static json_t *node_json(const struct bt_ynode *n, const char *dir, bool in_templates)
{
    json_t *j;

    if (n->kind == BT_Y_SCALAR)
        return json_string(n->str ? n->str : "");
    if (n->kind == BT_Y_SEQ) {
        j = json_array();
        for (unsigned i = 0; j && i < n->n; i++)
            json_array_append_new(j, node_json(n->items[i], dir, in_templates));
        return j;
    }
    j = json_object();
    for (unsigned i = 0; j && i < n->n; i++) {
        const struct bt_ynode *v = n->items[i];
        if (in_templates && !strcmp(n->keys[i], "pcap") && v->kind == BT_Y_SCALAR && v->str &&
            v->str[0] != '/') {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof(path), "%s/%s", dir, v->str);
            json_object_set_new(j, n->keys[i], json_string(path));
        } else {
            json_object_set_new(j, n->keys[i],
                                node_json(v, dir, !in_templates && !strcmp(n->keys[i], "templates")));
        }
    }
    return j;
}

int pl_live_write_profile(const struct pl_plan *p, const char *path, struct bt_err *e)
{
    char dir[PATH_MAX];
    json_t *j;
    int r = 0;

    if (!p->live.traffic || p->live.traffic->kind != BT_Y_MAP)
        return bt_err_setr(e, -EINVAL, "%s: no traffic: mapping to run", p->file);
    plan_dir(p, dir, sizeof(dir));
    if (!(j = node_json(p->live.traffic, dir, false)))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    if (json_dump_file(j, path, JSON_INDENT(2)) < 0)
        r = bt_err_setr(e, -EIO, "%s: cannot write the traffic profile", path);
    json_decref(j);
    return r;
}

/* ---------------------------------------------------------------- captures */

int pl_live_merge_link(const char *dir, unsigned port, const char *out, uint64_t *foreign,
                       struct bt_err *e)
{
    struct bt_pcap_reader *rd[2] = {NULL, NULL};
    struct bt_pcap_merge *m = NULL;
    struct bt_pcap_writer *w = NULL;
    struct bt_pcap_rec rec;
    unsigned which;
    char path[4096];
    int r = 0, got;

    *foreign = 0;
    for (unsigned k = 0; k < 2; k++) {
        snprintf(path, sizeof(path), "%s/port%u-%s.pcap", dir, port, k ? "rx" : "tx");
        if (!(rd[k] = bt_pcap_open(path, e))) {
            r = -EINVAL;
            goto out;
        }
    }
    if (!(m = bt_pcap_merge_new(rd, 2))) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    if (!(w = bt_pcap_writer_open(out, BT_LINK_ETHERNET, 65535, e))) {
        r = -EIO;
        goto out;
    }
    while ((got = bt_pcap_merge_next(m, &rec, &which, e)) > 0) {
        struct bt_parsed ps;
        bt_parse(rec.data, rec.caplen, bt_pcap_linktype(rd[which]), &ps);
        if (!ps.ip_version || (ps.proto != 6 && ps.proto != 17)) {
            (*foreign)++;
            continue;
        }
        if ((r = bt_pcap_write(w, rec.ts_ns, rec.data, rec.caplen, rec.wire_len)) < 0) {
            bt_err_set(e, "%s: %s", out, strerror(-r));
            goto out;
        }
    }
    if (got < 0)
        r = got;
out:
    if (w) {
        int c = bt_pcap_writer_close(w);
        if (r == 0 && c < 0)
            r = bt_err_setr(e, c, "%s: %s", out, strerror(-c));
    }
    bt_pcap_merge_free(m);
    bt_pcap_close(rd[0]);
    bt_pcap_close(rd[1]);
    return r;
}

/* ---------------------------------------------------------------- tgen's summary */

static void summary_from_json(const json_t *j, struct tg_summary *s)
{
#define U(f) s->f = (uint64_t)json_integer_value(json_object_get(j, #f))
#define D(f) s->f = json_number_value(json_object_get(j, #f))
    memset(s, 0, sizeof(*s));
    U(tx_packets); U(tx_bytes); U(tx_client_packets); U(tx_server_packets);
    U(rx_packets); U(rx_bytes); U(rx_matched); U(rx_unmatched);
    U(flows_started); U(flows_completed); U(flows_failed); U(flows_active); U(flows_aborted);
    U(rsts_seen); U(retransmits); U(nat_learned); U(tx_pool_empty);
    D(duration_s); D(tx_pps); D(tx_bps); D(rx_pps); D(cps); D(completed_cps);
    U(lat_samples); U(lat_p50_ns); U(lat_p99_ns); U(lat_max_ns); U(state_bytes_per_flow);
#undef U
#undef D
}

/* ---------------------------------------------------------------- the run */

struct hook {
    const struct pl_event *ev;
    pid_t pid;
    double started, deadline;      /* wall clock */
    double late_s;                 /* how late it started (the traffic's start known late) */
};

struct live {
    const struct pl_plan *p;
    const struct pl_live_opts *o;
    const char *out;
    struct pl_cosim_result *co;
    double anchor;                 /* wall time of the traffic's start (<0: not known yet) */
};

static void note(struct pl_cosim_result *co, double t, const char *cmd, const char *what)
{
    size_t n = strlen(co->run_report);

    snprintf(co->run_report + n, sizeof(co->run_report) - n, "%st=%.3fs '%.60s': %s",
             n ? "; " : "", t, cmd, what);
}

static void hook_start(struct live *L, struct hook *h, double now)
{
    const struct pl_event *ev = h->ev;
    char tbuf[32];

    L->co->runs++;
    h->started = now;
    h->late_s = now - (L->anchor + ev->at_ns / 1e9);
    h->deadline = now + ev->timeout_ns / 1e9;
    fflush(NULL);
    h->pid = fork();
    if (h->pid < 0) {
        L->co->runs_failed++;
        note(L->co, now - L->anchor, ev->cmd, "cannot fork");
        return;
    }
    if (h->pid == 0) {
        setpgid(0, 0);
        dup2(2, 1);                /* stdout may be --json */
        snprintf(tbuf, sizeof(tbuf), "%.6f", now - L->anchor);
        setenv("BATON_T", tbuf, 1);
        setenv("BATON_MODE", "live", 1);
        setenv("BATON_PLAN", L->p->name, 1);
        setenv("BATON_OUT", L->out, 1);
        setenv("BATON_CLIENT_PORT", spec_of(L->p, L->o, 0), 1);
        setenv("BATON_SERVER_PORT", spec_of(L->p, L->o, 1), 1);
        unsetenv("BATON_MEMBERS");
        execl("/bin/sh", "sh", "-c", ev->cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(h->pid, h->pid);
}

/* true when the hook is over (reported) */
static bool hook_poll(struct live *L, struct hook *h, double now)
{
    const struct pl_event *ev = h->ev;
    char what[128], late[48] = "";
    int status;
    pid_t w;

    if (h->pid <= 0)
        return true;
    if (h->late_s > 0.05)
        snprintf(late, sizeof(late), " (due at %.3f s, ran %.3f s late)", ev->at_ns / 1e9, h->late_s);
    w = waitpid(h->pid, &status, WNOHANG);
    if (w == 0 && now <= h->deadline)
        return false;
    if (w == 0) {
        kill(-h->pid, SIGKILL);
        waitpid(h->pid, &status, 0);
        L->co->runs_timeout++;
        snprintf(what, sizeof(what), "timed out after %.3f s (killed)%s", ev->timeout_ns / 1e9, late);
    } else {
        int code = w == h->pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (code < 0 || (ev->want_status >= 0 && code != ev->want_status)) {
            L->co->runs_failed++;
            if (code < 0)
                snprintf(what, sizeof(what), "killed by a signal%s", late);
            else
                snprintf(what, sizeof(what), "exit %d (expected %d)%s", code, ev->want_status, late);
        } else {
            snprintf(what, sizeof(what), "exit %d%s", code, late);
        }
    }
    note(L->co, h->started - L->anchor, ev->cmd, what);
    h->pid = 0;
    return true;
}

/* The traffic's start: baton-tgen creates its --stats file right before
 * its loop starts (after the EAL, the ports and their links), and writes
 * its first line t s later (t: 1.0, on its own clock). An empty file: its
 * time of creation; a line already there: now - t. */
static void find_anchor(struct live *L, const char *stats, double now)
{
    char line[1024];
    struct stat st;
    FILE *f = fopen(stats, "r");

    if (!f)
        return;
    if (fstat(fileno(f), &st) == 0 && st.st_size == 0) {
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        double ago = (double)(rt.tv_sec - st.st_mtim.tv_sec) + (rt.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
        L->anchor = now - (ago > 0 && ago < 1 ? ago : 0);
    } else if (fgets(line, sizeof(line), f) && strchr(line, '\n')) {
        json_t *j = json_loads(line, 0, NULL);
        double t = json_number_value(json_object_get(j, "t"));
        L->anchor = now - t;
        json_decref(j);
    }
    fclose(f);
}

static int split_args(char *s, const char **argv, int argc, int max)
{
    for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (argc >= max - 1)
            return -E2BIG;
        argv[argc++] = tok;
    }
    return argc;
}

/* The default bound: the traffic's length, every retransmission of its
 * last flows, the last hook's end, and a grace for EAL and the drain. */
static uint64_t bound_ns(const struct pl_plan *p)
{
    const struct tg_profile *t = p->prof;
    double rate = t->cps * (t->cps_mult > 0 ? t->cps_mult : 1);
    uint64_t traffic = t->duration_ns;
    uint64_t flows = t->flows ? t->flows : (t->duration_ns ? 0 : 1000);

    if (!traffic && rate > 0)
        traffic = (uint64_t)((double)flows / rate * 1e9);
    if (t->mode == TG_MODE_CLOSED)
        traffic += (t->retries + 1ULL) * (t->rto_max_ns > t->rto_ns ? t->rto_max_ns : t->rto_ns);
    for (unsigned k = 0; k < p->nevents; k++)
        if (p->ev[k].at_ns + p->ev[k].timeout_ns > traffic)
            traffic = p->ev[k].at_ns + p->ev[k].timeout_ns;
    return traffic + GRACE_NS;
}

/* The EAL's runtime directory of a file prefix we made up (DPDK leaves it,
 * several MB without hugepages): removed after the run. */
static void remove_runtime(const char *prefix)
{
    char path[512];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    DIR *d;
    struct dirent *de;

    if (getuid() == 0)
        snprintf(path, sizeof(path), "/var/run/dpdk/%s", prefix);
    else
        snprintf(path, sizeof(path), "%s/dpdk/%s", xdg && *xdg ? xdg : "/tmp", prefix);
    if (!(d = opendir(path)))
        return;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    rmdir(path);
}

static int make_dir(const char *path, struct bt_err *e)
{
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        return bt_err_setr(e, -errno, "%s: %s", path, strerror(errno));
    return 0;
}

/* SIGINT / SIGTERM to baton-plan during a live run: counted here, handed to
 * baton-tgen one by one by the run's loop (tgen runs in its own process
 * group, so a terminal's Ctrl-C reaches it only that way, once). */
static volatile sig_atomic_t user_signals;

static void on_user_signal(int sig)
{
    (void)sig;
    user_signals++;
}

/* Runs baton-tgen and the timeline; fills L->co's run figures, *status with
 * tgen's wait status, *interrupted when the bound stopped it, *user when a
 * signal to this process did. */
static int run_tgen(struct live *L, const char **argv, const char *json_path, const char *stats,
                    int *status, bool *interrupted, bool *user, double *start_s, struct bt_err *e)
{
    const struct pl_plan *p = L->p;
    struct hook hooks[PL_MAX_EVENTS];
    unsigned next = 0, nhooks = 0;
    double t0 = wall_now(), bound = t0 + bound_ns(p) / 1e9, stop_at = 0;
    int stage = 0, forwarded = 0, r = 0;
    bool done = false, no_start = false;
    struct sigaction sa, old_int, old_term;
    pid_t pid;

    if (p->live.timeout_ns)
        bound = t0 + p->live.timeout_ns / 1e9;
    memset(hooks, 0, sizeof(hooks));
    fflush(NULL);
    if ((pid = fork()) < 0)
        return bt_err_setr(e, -errno, "cannot fork baton-tgen: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(json_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(126);
        close(fd);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "baton-plan: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_user_signal;
    sigemptyset(&sa.sa_mask);
    user_signals = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    *interrupted = *user = false;
    *start_s = -1;
    L->anchor = -1;
    for (;;) {
        double now = wall_now();
        if (!done) {
            pid_t w = waitpid(pid, status, WNOHANG);
            if (w == pid) {
                done = true;
            } else if (w < 0 && errno != EINTR) {
                r = bt_err_setr(e, -errno, "waitpid: %s", strerror(errno));
                kill(pid, SIGKILL);
                waitpid(pid, status, 0);
                break;
            }
        }
        /* a signal to us: the first one drains the traffic (no new flow, no
         * further hook), a second aborts the flows and kills the hooks, a
         * third kills baton-tgen */
        while (forwarded < user_signals) {
            forwarded++;
            *user = true;
            if (!done)
                kill(pid, forwarded <= 2 ? SIGINT : SIGKILL);
            if (forwarded >= 2)
                for (unsigned k = 0; k < nhooks; k++)
                    if (hooks[k].pid > 0)
                        kill(-hooks[k].pid, SIGKILL);
        }
        if (L->anchor < 0) {
            find_anchor(L, stats, now);
            if (L->anchor >= 0)
                *start_s = L->anchor - t0;
            else if (done)
                break;             /* ended before its loop ran (EAL, ports): no timeline */
        }
        /* hooks due by now (none after the bound) */
        while (L->anchor >= 0 && next < p->nevents && now < bound && !*user &&
               now >= L->anchor + p->ev[next].at_ns / 1e9) {
            hooks[nhooks].ev = &p->ev[next++];
            hook_start(L, &hooks[nhooks++], now);
        }
        bool running = false;
        for (unsigned k = 0; k < nhooks; k++)
            if (hooks[k].pid > 0 && !hook_poll(L, &hooks[k], now))
                running = true;
        if (done && !running && (next == p->nevents || now >= bound || *user))
            break;
        if (!done && now >= bound && now >= stop_at && stage < 3) {
            /* SIGINT: no new flow, the active ones drain; again: they are
             * aborted (counted); then SIGKILL: no summary. Not before the
             * traffic started: a SIGINT during EAL set-up kills baton-tgen
             * (its handlers are not in place yet), so wait for the start as
             * long as the two steps would have taken. */
            bool started = L->anchor >= 0;
            if (stage < 2 && started) {
                kill(pid, SIGINT);
                *interrupted = true;
                stage++;
                stop_at = now + STOP_STEP_S;
            } else if (stage == 2 || now >= bound + 2 * STOP_STEP_S) {
                kill(pid, SIGKILL);
                stage = 3;
                no_start = !started;
            }
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (r < 0)
        return r;
    for (; next < p->nevents; next++) {
        L->co->runs++;
        L->co->runs_failed++;
        note(L->co, p->ev[next].at_ns / 1e9, p->ev[next].cmd,
             *user ? "not run: interrupted"
             : L->anchor < 0 ? "not run: the traffic never started"
                             : "not run: the run's bound (live.timeout) came first");
    }
    if (WIFSIGNALED(*status))
        return bt_err_setr(e, -EINTR, "baton-tgen was killed by signal %d %s", WTERMSIG(*status),
                           no_start ? "(its traffic had not started 20 s after the run's bound: "
                                      "EAL or port set-up stuck?)"
                           : stage > 2 ? "(it did not end within 20 s of the run's bound: raise "
                                         "live.timeout?)" : "");
    return 0;
}

static void not_applicable(struct pl_result *res, json_t *vj)
{
    static const char *const member_checks[] = {VF_CHECK_AFFINITY, VF_CHECK_SYMMETRY,
                                                VF_CHECK_FAILOVER, VF_CHECK_BALANCE};
    const char *why = "not applicable: no member captures (give live.capset or live.sgm, taken "
                      "by a lab tap on each member's downlink)";

    for (unsigned k = 0; k < res->nchecks; k++)
        for (unsigned i = 0; i < 4; i++)
            if (!strcmp(res->check[k].name, member_checks[i])) {
                res->check[k].judged = false;
                res->check[k].pass = true;
                res->check[k].not_applicable = true;
                snprintf(res->check[k].message, sizeof(res->check[k].message), "%s", why);
                if (vj) {
                    json_t *one = json_object();
                    json_object_set_new(one, "applicable", json_false());
                    json_object_set_new(one, "judged", json_false());
                    json_object_set_new(one, "pass", json_null());
                    json_object_set_new(one, "message", json_string(why));
                    json_object_set_new(vj, member_checks[i], one);
                }
            }
    if (vj) {
        bool pass = true;          /* verify's verdict: the loss check alone */
        for (unsigned k = 0; k < res->nchecks; k++)
            if (!strcmp(res->check[k].name, VF_CHECK_LOSS) && res->check[k].judged)
                pass = res->check[k].pass;
        json_object_set_new(vj, "pass", json_boolean(pass));
        json_object_del(vj, "flows");
        json_object_del(vj, "packets");
    }
}

int pl_run_live(const struct pl_plan *p, const struct pl_live_opts *o, const char *out,
                struct pl_result *res, struct bt_err *e)
{
    const char *argv[MAX_ARGS];
    char eal[4096] = "", extra[4096] = "", portbuf[2][128], prof[4096], capdir[4096], jpath[4096],
         stats[4096], client[4096], server[4096], prefix[64], seed[16], tmpdir[64] = "";
    const char *pa[2][2];
    struct vf_input in;
    struct vf_report *rep = NULL;
    struct live L = {p, o, out, &res->co, -1};
    double t0 = wall_now();
    int argc = 0, r, status = 0, pci = 0;
    bool interrupted = false, user = false, own_prefix = false;
    json_t *tj = NULL;

    memset(res, 0, sizeof(*res));
    res->live = true;
    if ((r = pl_live_check(p, o, e)) < 0)
        return r;
    if ((r = make_dir(out, e)) < 0)
        return r;
    snprintf(capdir, sizeof(capdir), "%s/tgen", out);
    snprintf(jpath, sizeof(jpath), "%s/tgen.json", out);
    snprintf(stats, sizeof(stats), "%s/tgen-stats.jsonl", out);
    snprintf(client, sizeof(client), "%s/client.pcap", out);
    snprintf(server, sizeof(server), "%s/server.pcap", out);
    if ((r = make_dir(capdir, e)) < 0)
        return r;
    unlink(stats);
    if (p->live.profile_path) {
        snprintf(prof, sizeof(prof), "%s", p->live.profile_path);
    } else {
        snprintf(prof, sizeof(prof), "%s/profile.json", out);
        if ((r = pl_live_write_profile(p, prof, e)) < 0)
            return r;
    }
    /* baton-tgen EAL-ARGS -- OPTIONS */
    argv[argc++] = o->tgen;
    for (unsigned port = 0; port < 2; port++)
        pci |= pl_live_port_args(spec_of(p, o, port), port, portbuf[port], sizeof(portbuf[port]),
                                 pa[port]) == 1;
    const char *ealsrc = o->eal ? o->eal : p->live.eal;
    snprintf(eal, sizeof(eal), "%s",
             ealsrc ? ealsrc
             : pci  ? "-l 0,1 --log-level=lib.eal:error"
                    : "-l 0,1 --log-level=lib.eal:error --no-huge -m 512 --no-pci");
    if ((argc = split_args(eal, argv, argc, MAX_ARGS - 32)) < 0)   /* room for the rest */
        return bt_err_setr(e, -E2BIG, "%s: --live: too many EAL arguments", p->file);
    bool has_prefix = false;
    for (int k = 1; k < argc; k++)
        has_prefix |= !strncmp(argv[k], "--file-prefix", 13);
    if (!has_prefix) {
        /* runs in parallel (meson, several CI jobs) must not share EAL files */
        snprintf(prefix, sizeof(prefix), "--file-prefix=baton-plan-%d", (int)getpid());
        argv[argc++] = prefix;
        own_prefix = true;
    }
    for (unsigned port = 0; port < 2; port++) {
        argv[argc++] = pa[port][0];
        argv[argc++] = pa[port][1];
    }
    argv[argc++] = "--";
    argv[argc++] = "--profile";
    argv[argc++] = prof;
    argv[argc++] = "--mode";
    argv[argc++] = p->prof->mode == TG_MODE_CLOSED ? "closed" : "open";
    snprintf(seed, sizeof(seed), "%u", p->seed);
    argv[argc++] = "--seed";
    argv[argc++] = seed;
    argv[argc++] = "--capture";
    argv[argc++] = capdir;
    argv[argc++] = "--stats";
    argv[argc++] = stats;
    argv[argc++] = "--json";
    argv[argc++] = "--quiet";
    if (p->live.tgen_args) {
        snprintf(extra, sizeof(extra), "%s", p->live.tgen_args);
        if ((argc = split_args(extra, argv, argc, MAX_ARGS)) < 0)
            return bt_err_setr(e, -E2BIG, "%s: --live: too many live.tgen_args", p->file);
    }
    argv[argc] = NULL;
    r = run_tgen(&L, argv, jpath, stats, &status, &interrupted, &user, &res->start_s, e);
    res->interrupted = user;
    if (own_prefix)
        remove_runtime(prefix + strlen("--file-prefix="));
    if (r < 0)
        goto out;
    res->tgen_exit = WEXITSTATUS(status);
    if (res->tgen_exit != 0 && res->tgen_exit != 1) {
        r = bt_err_setr(e, -EINVAL, "%s: --live: baton-tgen refused the run (exit %d; its message "
                        "is above): %s ... -- --profile %s", p->file, res->tgen_exit, o->tgen, prof);
        goto out;
    }
    if (!(tj = json_load_file(jpath, 0, NULL)) || !json_is_object(tj)) {
        r = bt_err_setr(e, -EINVAL, "%s: baton-tgen's --json summary is not a JSON object", jpath);
        goto out;
    }
    summary_from_json(tj, &res->co.tg);
    if (interrupted)
        json_object_set_new(tj, "stopped_by_bound", json_true());
    if (user)
        json_object_set_new(tj, "stopped_by_signal", json_true());
    res->tgen_json = tj;
    tj = NULL;
    res->sim_wall_s = wall_now() - t0;
    if ((r = pl_live_merge_link(capdir, 0, client, &res->foreign[0], e)) < 0 ||
        (r = pl_live_merge_link(capdir, 1, server, &res->foreign[1], e)) < 0)
        goto out;
    /* verify: the links always; the members when a lab tap gave them */
    double tv = wall_now();
    memset(&in, 0, sizeof(in));
    in.client = client;
    in.server = server;
    in.capset = p->live.capset;
    for (unsigned k = 0; k < p->live.nsgm; k++) {
        in.sgm_id[in.nsgm] = p->live.sgm_id[k];
        in.sgm_path[in.nsgm++] = p->live.sgm_path[k];
    }
    res->member_captures = p->live.capset ? 1 : p->live.nsgm;
    bool members = p->live.capset || p->live.nsgm;
    if (!members) {
        /* verify judges members; with none, one empty capture stands in
         * and its checks are reported not applicable below */
        static const uint8_t empty[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                          0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0};
        char ph[128];
        int fd;
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/baton-plan-live-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            tmpdir[0] = '\0';
            r = bt_err_setr(e, -errno, "mkdtemp: %s", strerror(errno));
            goto out;
        }
        snprintf(ph, sizeof(ph), "%s/none.pcap", tmpdir);
        if ((fd = open(ph, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 ||
            write(fd, empty, sizeof(empty)) != (ssize_t)sizeof(empty)) {
            r = bt_err_setr(e, -EIO, "%s: cannot write", ph);
            if (fd >= 0)
                close(fd);
            goto out;
        }
        close(fd);
        in.sgm_id[0] = 1;
        in.sgm_path[0] = ph;
        in.nsgm = 1;
        r = vf_check(&in, &p->th, &rep, e);
        unlink(ph);
    } else {
        r = vf_check(&in, &p->th, &rep, e);
    }
    if (r < 0)
        goto out;
    res->verify_wall_s = wall_now() - tv;
    res->verify_json = vf_report_json(rep);
    pl_verify_checks(rep, res);
    if (!members)
        not_applicable(res, (json_t *)res->verify_json);
    pl_tgen_checks(p, res);
    pl_verdict(p, res);
    if (user)
        res->pass = false;         /* a run cut short proves nothing */
    r = 0;
out:
    if (tmpdir[0])
        rmdir(tmpdir);
    json_decref(tj);
    vf_report_free(rep);
    return r;
}
