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
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
    if (p->ramp.kind != PL_RAMP_NONE && (p->live.capset || p->live.nsgm))
        return bt_err_setr(e, -EINVAL, "%s:%u:%u: live: a ramp's steps are judged on the links "
                           "alone: member captures (live.capset, live.sgm) of one run cannot "
                           "follow its steps", p->file, p->live.line, p->live.col);
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

/* A count of baton-tgen's --json summary outside struct tg_summary
 * (capture_dropped, tx_dropped: its DPDK backend's), 0 when absent. */
static uint64_t tj_count(const json_t *tj, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(tj, key));
    return v > 0 ? (uint64_t)v : 0;
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
    struct pl_result *res;
    double anchor;                 /* wall time of the traffic's start (<0: not known yet) */
};

static void note(struct pl_cosim_result *co, double t, const char *cmd, const char *what)
{
    size_t n = strlen(co->run_report);

    snprintf(co->run_report + n, sizeof(co->run_report) - n, "%st=%.3fs '%.60s': %s",
             n ? "; " : "", t, cmd, what);
}

/* In a child after fork: killed when the runner dies (kill -9 included),
 * which the process groups of their own would otherwise outlive. false:
 * the runner died before the request was made (the child must go). */
static bool die_with(pid_t parent)
{
    return prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent;
}

static void hook_start(struct live *L, struct hook *h, double now)
{
    const struct pl_event *ev = h->ev;
    pid_t parent = getpid();
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
        if (!die_with(parent))
            _exit(127);
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
static uint64_t bound_ns(const struct pl_plan *p, const struct tg_profile *t)
{
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

/* SIGINT / SIGTERM to baton-plan during a live run: counted here (the
 * handler is in place for the whole of pl_run_live: before the first fork,
 * while judging, between a ramp's steps), handed to baton-tgen one by one
 * by the run's loop (tgen runs in its own process group, so a terminal's
 * Ctrl-C reaches it only that way, once). */
static volatile sig_atomic_t user_signals;

static void on_user_signal(int sig)
{
    (void)sig;
    user_signals++;
}

/* Runs baton-tgen and the timeline until bound (wall_now's clock); fills
 * L->co's run figures, *status with tgen's wait status, *interrupted when
 * the bound stopped it, *user when a signal to this process did. */
static int run_tgen(struct live *L, const char **argv, const char *json_path, const char *stats,
                    double bound, int *status, bool *interrupted, bool *user, double *start_s,
                    struct bt_err *e)
{
    const struct pl_plan *p = L->p;
    struct hook hooks[PL_MAX_EVENTS];
    unsigned next = 0, nhooks = 0;
    double t0 = wall_now(), stop_at = 0;
    int stage = 0, forwarded = 0, r = 0;
    bool done = false, no_start = false;
    pid_t pid, parent = getpid();

    memset(hooks, 0, sizeof(hooks));
    *interrupted = *user = false;
    *start_s = -1;
    if (user_signals) {
        *user = true;              /* a signal before baton-tgen started: none starts */
        return bt_err_setr(e, -EINTR, "interrupted by a signal before baton-tgen started");
    }
    fflush(NULL);
    if ((pid = fork()) < 0)
        return bt_err_setr(e, -errno, "cannot fork baton-tgen: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        if (!die_with(parent))
            _exit(127);
        int fd = open(json_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(126);
        close(fd);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "baton-plan: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
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

/* ---------------------------------------------------------------- one baton-tgen run */

/* What one baton-tgen run left (its files are under its directory). */
struct once {
    int tgen_exit;
    bool interrupted;              /* the bound stopped it (SIGINT) */
    bool user;                     /* a signal to baton-plan did */
    double start_s;
    bool retried;                  /* its first process refused before the traffic started */
    json_t *tj;                    /* its --json summary (owned), with stopped_by_* added */
};

/* Runs baton-tgen once on profile prof, its files under dir (created):
 * tgen/ (the port captures), tgen.json, tgen-stats.jsonl. bound: when to
 * stop it (wall_now's clock). Fills L->co->tg and the run figures. 0, or
 * -errno with e (baton-tgen refused the run, was killed, I/O). */
static int tgen_once(struct live *L, const char *prof, const char *dir, double bound, struct once *w,
                     struct bt_err *e)
{
    const struct pl_plan *p = L->p;
    const struct pl_live_opts *o = L->o;
    const char *argv[MAX_ARGS];
    char eal[4096] = "", extra[4096] = "", portbuf[2][128], capdir[4096], jpath[4096],
         stats[4096], prefix[64], seed[16];
    const char *pa[2][2];
    int argc = 0, r, status = 0, pci = 0;
    bool own_prefix = false;

    memset(w, 0, sizeof(*w));
    if ((r = make_dir(dir, e)) < 0)
        return r;
    snprintf(capdir, sizeof(capdir), "%s/tgen", dir);
    snprintf(jpath, sizeof(jpath), "%s/tgen.json", dir);
    snprintf(stats, sizeof(stats), "%s/tgen-stats.jsonl", dir);
    if ((r = make_dir(capdir, e)) < 0)
        return r;
    unlink(stats);
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
    for (unsigned attempt = 0;; attempt++) {
        r = run_tgen(L, argv, jpath, stats, bound, &status, &w->interrupted, &w->user, &w->start_s, e);
        if (own_prefix)
            remove_runtime(prefix + strlen("--file-prefix="));
        if (r < 0)
            return r;
        /* baton-tgen refused before its traffic started: once more, in a
         * new process. DPDK's af_packet PMD names its fanout group after
         * the pid and the interface index (22.11), and a group of that id
         * held by another process on another interface makes the port's
         * set-up fail (EINVAL, "1 DPDK port"); nothing reached the device */
        if (attempt > 0 || WEXITSTATUS(status) != 2 || w->start_s >= 0 || w->user ||
            wall_now() >= bound)
            break;
        w->retried = true;
        unlink(stats);
        /* the hooks the first one never reached are the second's */
        L->co->runs = L->co->runs_failed = L->co->runs_timeout = 0;
        L->co->run_report[0] = '\0';
    }
    w->tgen_exit = WEXITSTATUS(status);
    if (w->tgen_exit != 0 && w->tgen_exit != 1)
        return bt_err_setr(e, -EINVAL, "%s: --live: baton-tgen refused the run (exit %d; its message "
                           "is above): %s ... -- --profile %s", p->file, w->tgen_exit, o->tgen, prof);
    if (!(w->tj = json_load_file(jpath, 0, NULL)) || !json_is_object(w->tj)) {
        json_decref(w->tj);
        w->tj = NULL;
        return bt_err_setr(e, -EINVAL, "%s: baton-tgen's --json summary is not a JSON object", jpath);
    }
    summary_from_json(w->tj, &L->co->tg);
    if (w->interrupted)
        json_object_set_new(w->tj, "stopped_by_bound", json_true());
    if (w->user)
        json_object_set_new(w->tj, "stopped_by_signal", json_true());
    if (w->retried)
        json_object_set_new(w->tj, "setup_retried", json_true());
    return 0;
}

/* Merges dir's link captures into dir/client.pcap and dir/server.pcap and
 * runs verify on them with th (the members from the lab's captures when
 * members, else one empty capture stands in: the caller reports their
 * checks not applicable). 0 with *rep (the caller's), or -errno with e. */
static int judge_links(const struct pl_plan *p, const char *dir, const struct vf_thresholds *th,
                       bool members, uint64_t foreign[2], struct vf_report **rep, struct bt_err *e)
{
    char capdir[4096], client[4096], server[4096], tmpdir[64] = "";
    struct vf_input in;
    int r;

    snprintf(capdir, sizeof(capdir), "%s/tgen", dir);
    snprintf(client, sizeof(client), "%s/client.pcap", dir);
    snprintf(server, sizeof(server), "%s/server.pcap", dir);
    if ((r = pl_live_merge_link(capdir, 0, client, &foreign[0], e)) < 0 ||
        (r = pl_live_merge_link(capdir, 1, server, &foreign[1], e)) < 0)
        return r;
    memset(&in, 0, sizeof(in));
    in.client = client;
    in.server = server;
    if (members) {
        in.capset = p->live.capset;
        for (unsigned k = 0; k < p->live.nsgm; k++) {
            in.sgm_id[in.nsgm] = p->live.sgm_id[k];
            in.sgm_path[in.nsgm++] = p->live.sgm_path[k];
        }
        return vf_check(&in, th, rep, e);
    }
    /* verify judges members; with none, one empty capture stands in */
    static const uint8_t empty[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0};
    char ph[128];
    int fd;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/baton-plan-live-XXXXXX");
    if (!mkdtemp(tmpdir))
        return bt_err_setr(e, -errno, "mkdtemp: %s", strerror(errno));
    snprintf(ph, sizeof(ph), "%s/none.pcap", tmpdir);
    if ((fd = open(ph, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 ||
        write(fd, empty, sizeof(empty)) != (ssize_t)sizeof(empty)) {
        r = bt_err_setr(e, -EIO, "%s: cannot write", ph);
    } else {
        in.sgm_id[0] = 1;
        in.sgm_path[0] = ph;
        in.nsgm = 1;
        r = vf_check(&in, th, rep, e);
    }
    if (fd >= 0)
        close(fd);
    unlink(ph);
    rmdir(tmpdir);
    return r;
}

/* ---------------------------------------------------------------- ramps */

/* The step's traffic, as the sim's trials have it (pl_run.c): find: cps
 * offers `load` new connections a second for ramp.trial; find: concurrent
 * opens `load` connections at the profile's own rate; every template
 * shares the rate by weight. */
static void step_profile(const struct pl_plan *p, double load, struct tg_profile *t)
{
    *t = *p->prof;
    if (p->ramp.kind == PL_RAMP_CPS) {
        t->cps = load;
        t->cps_mult = 1;
        t->flows = 0;
        t->duration_ns = p->ramp.trial_ns;
    } else {
        t->flows = (uint64_t)load;
        t->duration_ns = 0;
    }
}

int pl_live_write_step_profile(const struct pl_plan *p, double load, const char *path,
                               struct bt_err *e)
{
    struct bt_ydoc *doc = NULL;
    char dir[PATH_MAX], buf[64];
    json_t *j = NULL, *tm;
    int r = 0;

    if (p->ramp.kind == PL_RAMP_NONE)
        return bt_err_setr(e, -EINVAL, "%s: no ramp: to take a step of", p->file);
    if (p->live.profile_path) {
        /* a profile file: its mapping at the top level or under traffic:,
         * its pcaps relative to its own directory */
        const struct bt_ynode *root, *n;
        const char *slash = strrchr(p->live.profile_path, '/');
        if (!(doc = bt_yaml_load(p->live.profile_path, e)))
            return -EINVAL;
        root = doc->root;
        if ((n = bt_y_get(root, "traffic")) && n->kind == BT_Y_MAP)
            root = n;
        if (!root || root->kind != BT_Y_MAP) {
            r = bt_err_setr(e, -EINVAL, "%s: no profile mapping", p->live.profile_path);
            goto out;
        }
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - p->live.profile_path) : 1,
                 slash ? p->live.profile_path : ".");
        j = node_json(root, dir, false);
    } else {
        if (!p->live.traffic || p->live.traffic->kind != BT_Y_MAP)
            return bt_err_setr(e, -EINVAL, "%s: no traffic: mapping to run", p->file);
        plan_dir(p, dir, sizeof(dir));
        j = node_json(p->live.traffic, dir, false);
    }
    if (!j) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    json_object_del(j, "flows");
    json_object_del(j, "duration");
    if (p->ramp.kind == PL_RAMP_CPS) {
        json_object_del(j, "cps_multiplier");
        snprintf(buf, sizeof(buf), "%.10g", load);
        json_object_set_new(j, "cps", json_string(buf));
        snprintf(buf, sizeof(buf), "%lluns", (unsigned long long)p->ramp.trial_ns);
        json_object_set_new(j, "duration", json_string(buf));
    } else {
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)load);
        json_object_set_new(j, "flows", json_string(buf));
    }
    if ((tm = json_object_get(j, "templates")) && json_is_array(tm))
        for (size_t i = 0; i < json_array_size(tm); i++)
            json_object_del(json_array_get(tm, i), "cps");
    if (json_dump_file(j, path, JSON_INDENT(2)) < 0)
        r = bt_err_setr(e, -EIO, "%s: cannot write the traffic profile", path);
out:
    json_decref(j);
    bt_yaml_free(doc);
    return r;
}

/* One step's loss figures from verify's report (JSON): lost packets and %
 * per direction. */
static void step_loss(const json_t *vj, uint64_t lost[2], double pct[2])
{
    const json_t *l = json_object_get(vj, "loss");
    for (unsigned d = 0; d < 2; d++) {
        const json_t *x = json_object_get(l, d ? "s2c" : "c2s");
        lost[d] = (uint64_t)json_integer_value(json_object_get(x, "lost"));
        pct[d] = json_number_value(json_object_get(x, "loss_pct"));
    }
}

/* A step of the search at load: one baton-tgen run of the step's traffic
 * through the device, judged from its summary and the link captures.
 * Appends its figures to steps; *clean; *stop when the search must end
 * here (the bound, a signal). */
static int ramp_step(struct live *L, unsigned k, double load, double search_bound, double tail0,
                     json_t *steps, bool *clean, bool *stop, char *why, size_t nwhy,
                     struct bt_err *e)
{
    const struct pl_plan *p = L->p;
    char dir[4096], prof[4096 + 16];
    struct tg_profile t;
    struct vf_thresholds th = p->th;
    struct vf_report *rep = NULL;
    struct once w;
    uint64_t foreign[2] = {0, 0}, lost[2] = {0, 0};
    double pct[2] = {0, 0}, t0 = wall_now();
    int r;

    *clean = *stop = false;
    if (user_signals) {
        /* a signal while the last step was judged, or between steps */
        *stop = true;
        L->res->interrupted = true;
        snprintf(why, nwhy, "interrupted by a signal before step %u", k);
        return 0;
    }
    snprintf(dir, sizeof(dir), "%s/step-%u", L->out, k);
    if ((r = make_dir(dir, e)) < 0)
        return r;
    snprintf(prof, sizeof(prof), "%s/profile.json", dir);
    if ((r = pl_live_write_step_profile(p, load, prof, e)) < 0)
        return r;
    step_profile(p, load, &t);
    double bound = t0 + bound_ns(p, &t) / 1e9;
    if (bound > search_bound)
        bound = search_bound;
    memset(&L->co->tg, 0, sizeof(L->co->tg));
    if ((r = tgen_once(L, prof, dir, bound, &w, e)) < 0)
        goto out;
    th.max_loss_pct = 0;                 /* the device drops nothing */
    if ((r = judge_links(p, dir, &th, false, foreign, &rep, e)) < 0)
        goto out;
    json_t *vj = vf_report_json(rep);
    step_loss(vj, lost, pct);
    json_decref(vj);
    /* frames tgen's capture ring had no room for are missing from the
     * captures as a device's drop would be: the loss is not judged */
    uint64_t cap_drop = tj_count(w.tj, "capture_dropped"), tx_drop = tj_count(w.tj, "tx_dropped");
    char loss_nj[200] = "";
    if (cap_drop && (lost[0] || lost[1]))
        snprintf(loss_nj, sizeof(loss_nj), "captures incomplete: %llu frames not captured by "
                 "baton-tgen (its capture ring was full), so the %llu+%llu packets missing from "
                 "them are not judged as the device's loss", (unsigned long long)cap_drop,
                 (unsigned long long)lost[0], (unsigned long long)lost[1]);
    const struct tg_summary *s = &L->co->tg;
    double rst_pct = s->flows_started ? (double)s->rsts_seen * 100 / (double)s->flows_started : 0;
    double max_rst = pl_step_rst_pct(p);
    uint64_t bad = s->flows_failed + s->flows_aborted;
    /* find: cps: the rate held (RFC 9411: within 5 %): the flows done by
     * the last one's start plus what a flow took at ramp.from plus 5 % of
     * the trial; a closed loop offered more than the device carries is
     * slowed down by it rather than dropped */
    bool rate = p->ramp.kind == PL_RAMP_CPS && tail0 >= 0 && s->flows_started > 0;
    double late = rate ? s->duration_s - ((double)s->flows_started - 1) / load - tail0 : 0;
    double allow = 0.05 * p->ramp.trial_ns / 1e9;
    char reason[200];
    if (s->flows_started == 0)
        snprintf(reason, sizeof(reason), "no flow started");
    else if (bad)
        snprintf(reason, sizeof(reason), "%llu of %llu flows did not complete (%llu failed, %llu "
                 "unfinished)", (unsigned long long)bad, (unsigned long long)s->flows_started,
                 (unsigned long long)s->flows_failed, (unsigned long long)s->flows_aborted);
    else if (rst_pct > max_rst)
        snprintf(reason, sizeof(reason), "%llu unexpected RSTs (%.4f%% of flows, more than %g%%)",
                 (unsigned long long)s->rsts_seen, rst_pct, max_rst);
    else if ((lost[0] || lost[1]) && !cap_drop)
        snprintf(reason, sizeof(reason), "the device dropped packets: %llu client-to-server "
                 "(%.3f%%), %llu server-to-client (%.3f%%)", (unsigned long long)lost[0], pct[0],
                 (unsigned long long)lost[1], pct[1]);
    else if (rate && late > allow)
        snprintf(reason, sizeof(reason), "the rate was not held: the flows took %.3f s, %.3f s "
                 "longer than at ramp.from (more than 5%% of the trial): %.0f of %.0f conn/s "
                 "completed", s->duration_s, late, s->completed_cps, load);
    else
        snprintf(reason, sizeof(reason), "clean");
    *stop = w.user || w.interrupted;
    *clean = !*stop && !strcmp(reason, "clean");
    /* a step cut short is judged on what ran all the same: a dead device shows it */
    snprintf(why, nwhy, "%s%s", !*stop ? "" : w.user ? "stopped by a signal; what ran: "
             : "stopped by its bound (live.timeout, or the step's own); what ran: ", reason);
    json_t *js = json_object();
    json_object_set_new(js, "step", json_integer(k));
    json_object_set_new(js, "load", json_real(load));
    json_object_set_new(js, "clean", json_boolean(*clean));
    json_object_set_new(js, "why", json_string(why));
    json_object_set_new(js, "flows_started", json_integer((json_int_t)s->flows_started));
    json_object_set_new(js, "flows_completed", json_integer((json_int_t)s->flows_completed));
    json_object_set_new(js, "flows_failed", json_integer((json_int_t)s->flows_failed));
    json_object_set_new(js, "flows_aborted", json_integer((json_int_t)s->flows_aborted));
    json_object_set_new(js, "rsts_seen", json_integer((json_int_t)s->rsts_seen));
    json_object_set_new(js, "retransmits", json_integer((json_int_t)s->retransmits));
    json_object_set_new(js, "cps", json_real(s->cps));
    json_object_set_new(js, "completed_cps", json_real(s->completed_cps));
    json_object_set_new(js, "lat_p99_ms", json_real(s->lat_p99_ns / 1e6));
    json_object_set_new(js, "duration_s", json_real(s->duration_s));
    json_object_set_new(js, "late_s", rate ? json_real(late) : json_null());
    json_object_set_new(js, "lost_c2s", json_integer((json_int_t)lost[0]));
    json_object_set_new(js, "lost_s2c", json_integer((json_int_t)lost[1]));
    json_object_set_new(js, "loss_c2s_pct", json_real(pct[0]));
    json_object_set_new(js, "loss_s2c_pct", json_real(pct[1]));
    json_object_set_new(js, "capture_dropped", json_integer((json_int_t)cap_drop));
    json_object_set_new(js, "tx_dropped", json_integer((json_int_t)tx_drop));
    json_object_set_new(js, "loss_not_judged", loss_nj[0] ? json_string(loss_nj) : json_null());
    json_object_set_new(js, "foreign_client", json_integer((json_int_t)foreign[0]));
    json_object_set_new(js, "foreign_server", json_integer((json_int_t)foreign[1]));
    json_object_set_new(js, "tgen_exit", json_integer(w.tgen_exit));
    json_object_set_new(js, "start_s", json_real(w.start_s));
    json_object_set_new(js, "wall_s", json_real(wall_now() - t0));
    json_object_set_new(js, "dir", json_string(dir));
    json_array_append_new(steps, js);
    L->res->interrupted |= w.user;
    if (w.start_s > 0)
        L->res->start_s += w.start_s;
    L->res->foreign[0] += foreign[0];
    L->res->foreign[1] += foreign[1];
    L->res->tgen_exit = w.tgen_exit;
    r = 0;
out:
    if (w.tj) {
        /* the last step's summary is the plan's tgen object */
        if (L->res->tgen_json)
            json_decref((json_t *)L->res->tgen_json);
        L->res->tgen_json = w.tj;
    }
    vf_report_free(rep);
    return r;
}

static struct pl_check *live_check(struct pl_result *res, const char *name, bool pass)
{
    struct pl_check *c = &res->check[res->nchecks++];

    memset(c, 0, sizeof(*c));
    c->name = name;
    c->judged = true;
    c->pass = pass;
    return c;
}

/* The capacity search through the device: the sim's search (pl_run.c),
 * each trial a step of baton-tgen; the capacity check compares the
 * highest load carried cleanly with live.capacity. */
static int live_ramp(struct live *L, struct pl_result *res, struct bt_err *e)
{
    const struct pl_plan *p = L->p;
    const char *what = p->ramp.kind == PL_RAMP_CPS ? "connections/s" : "concurrent connections";
    double lo = p->ramp.from, hi = p->ramp.to, cap = p->live.capacity;
    double search_bound = p->live.timeout_ns ? wall_now() + p->live.timeout_ns / 1e9 : 1e300;
    char why[256], ends[200];
    bool clean, stop;
    unsigned k = 0;
    struct pl_check *c;
    json_t *steps = json_array();
    int r;

    /* find: concurrent runs whole connection counts: integer midpoints,
     * down to a bracket of one, the count found one that ran */
    bool whole = p->ramp.kind == PL_RAMP_CONCURRENT;

    if (!steps)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    res->ramp_json = steps;
    if (whole) {
        lo = floor(lo);
        hi = floor(hi);
    }
    if ((r = ramp_step(L, k++, lo, search_bound, -1, steps, &clean, &stop, why, sizeof(why), e)) < 0)
        return r;
    res->ramp_trials = k;
    /* what the flows took beyond the last one's start on the device at
     * ramp.from: the others' allowance (their own length, the round trips) */
    const struct tg_summary *s0 = &L->co->tg;
    double tail0 = s0->flows_started ? s0->duration_s - ((double)s0->flows_started - 1) / lo : 0;
    if (tail0 < 0)
        tail0 = 0;
    if (stop)
        goto unfinished;
    if (!clean) {
        c = live_check(res, "capacity", false);
        snprintf(c->message, sizeof(c->message), "the search's lower end %.0f %s is not carried "
                 "cleanly through the device (%s): lower ramp.from, or mend the device", lo, what,
                 why);
        return 0;
    }
    if ((r = ramp_step(L, k++, hi, search_bound, tail0, steps, &clean, &stop, why, sizeof(why), e)) < 0)
        return r;
    res->ramp_trials = k;
    if (stop)
        goto unfinished;
    if (clean) {
        c = live_check(res, "capacity", false);
        snprintf(c->message, sizeof(c->message), "the search's upper end %.0f %s is still carried "
                 "cleanly through the device: raise ramp.to", hi, what);
        return 0;
    }
    snprintf(ends, sizeof(ends), "%s", why);
    for (unsigned i = 0; i < p->ramp.trials && !stop; i++) {
        if (whole && hi - lo <= 1)
            break;
        double mid = whole ? floor((lo + hi) / 2) : (lo + hi) / 2;
        if (wall_now() >= search_bound) {
            stop = true;
            snprintf(why, sizeof(why), "the search's bound (live.timeout) came before step %u", k);
            break;
        }
        if ((r = ramp_step(L, k++, mid, search_bound, tail0, steps, &clean, &stop, why, sizeof(why), e)) < 0)
            return r;
        res->ramp_trials = k;
        if (stop)
            break;
        if (clean) {
            lo = mid;
        } else {
            hi = mid;
            snprintf(ends, sizeof(ends), "%s", why);
        }
    }
    res->ramp_found = lo;
    res->ramp_model = cap;
    if (stop) {
unfinished:
        k = (unsigned)json_array_size(steps);      /* the steps that ran */
        res->ramp_trials = k;
        c = live_check(res, "capacity", false);
        snprintf(c->message, sizeof(c->message), "the search did not finish: %s, after %u steps "
                 "(bracket %.0f..%.0f %s)", why, k, lo, hi, what);
        return 0;
    }
    if (cap > 0) {
        double dev = fabs(lo - cap) * 100 / cap;
        c = live_check(res, "capacity", dev <= p->ramp.tolerance_pct);
        snprintf(c->message, sizeof(c->message), "expected the device's capacity %.0f %s "
                 "(live.capacity) within %.1f%%; found %.0f (%.2f%% off, %u steps, bracket "
                 "%.0f..%.0f; at %.0f: %s)", cap, what, p->ramp.tolerance_pct, lo, dev, k, lo, hi,
                 hi, ends);
    } else {
        c = live_check(res, "capacity", true);
        snprintf(c->message, sizeof(c->message), "found %.0f %s through the device (%u steps, "
                 "bracket %.0f..%.0f; at %.0f: %s); no live.capacity to compare it with", lo,
                 what, k, lo, hi, hi, ends);
    }
    return 0;
}

/* The flows the traffic would start run to its end: flows:, else its
 * rate for its duration (0: not known). */
static uint64_t flows_planned(const struct tg_profile *t)
{
    double rate = t->cps * (t->cps_mult > 0 ? t->cps_mult : 1);

    if (t->flows)
        return t->flows;
    return t->duration_ns && rate > 0 ? (uint64_t)(rate * t->duration_ns / 1e9 + 0.5) : 0;
}

/* complete: the traffic ran to its end; a run the bound (or a signal)
 * stopped ran part of it, however clean that part was */
static void complete_check(const struct pl_plan *p, const struct once *w, struct pl_result *res)
{
    uint64_t n = res->co.tg.flows_started, m = flows_planned(p->prof);
    char of[64] = "";
    struct pl_check *c;

    if (res->nchecks >= PL_MAX_CHECKS)
        return;
    if (m)
        snprintf(of, sizeof(of), " of %llu", (unsigned long long)m);
    c = live_check(res, "complete", !w->interrupted && !w->user);
    if (w->user)
        snprintf(c->message, sizeof(c->message), "a signal to baton-plan stopped the traffic: "
                 "%llu%s flows started", (unsigned long long)n, of);
    else if (w->interrupted && p->live.timeout_ns)
        snprintf(c->message, sizeof(c->message), "expected the traffic to run to its end; the "
                 "run's bound (live.timeout %.3f s) stopped it: %llu%s flows started, the rest "
                 "never ran: raise live.timeout", p->live.timeout_ns / 1e9, (unsigned long long)n, of);
    else if (w->interrupted)
        snprintf(c->message, sizeof(c->message), "expected the traffic to run to its end; the "
                 "run's bound (its length, retransmissions and hooks plus %.0f s) stopped it: "
                 "%llu%s flows started, the rest never ran: give a longer live.timeout",
                 GRACE_NS / 1e9, (unsigned long long)n, of);
    else
        snprintf(c->message, sizeof(c->message), "the traffic ran to its end: %llu%s flows started",
                 (unsigned long long)n, of);
}

/* capture_dropped > 0: frames baton-tgen's capture ring had no room for
 * are missing from the link captures as the device's drops would be, so
 * the loss check is not judged (verify's report says so too) */
static void captures_incomplete(const struct once *w, struct pl_result *res)
{
    uint64_t n = tj_count(w->tj, "capture_dropped");
    json_t *vl = json_object_get((json_t *)res->verify_json, "loss");

    if (!n)
        return;
    for (unsigned k = 0; k < res->nchecks; k++) {
        struct pl_check *c = &res->check[k];
        if (strcmp(c->name, VF_CHECK_LOSS) || !c->judged)
            continue;
        c->judged = false;
        c->pass = true;
        snprintf(c->message, sizeof(c->message), "captures incomplete: %llu frames not captured "
                 "by baton-tgen (its capture ring was full; tgen.json capture_dropped), so a frame "
                 "missing from them is not the device's loss: not judged", (unsigned long long)n);
        if (vl) {
            json_object_set_new(vl, "judged", json_false());
            json_object_set_new(vl, "pass", json_null());
            json_object_set_new(vl, "message", json_string(c->message));
        }
    }
}

static int run_live(const struct pl_plan *p, const struct pl_live_opts *o, const char *out,
                    struct pl_result *res, struct bt_err *e);

int pl_run_live(const struct pl_plan *p, const struct pl_live_opts *o, const char *out,
                struct pl_result *res, struct bt_err *e)
{
    struct sigaction sa, old_int, old_term;
    int r;

    /* SIGINT / SIGTERM counted for the whole run, from before the first
     * fork to the end of the judging */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_user_signal;
    sigemptyset(&sa.sa_mask);
    user_signals = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    r = run_live(p, o, out, res, e);
    if (r == 0 && user_signals) {
        res->interrupted = true;   /* (while judging): a run cut short proves nothing */
        res->pass = false;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return r;
}

static int run_live(const struct pl_plan *p, const struct pl_live_opts *o, const char *out,
                    struct pl_result *res, struct bt_err *e)
{
    char prof[4096];
    struct vf_report *rep = NULL;
    struct live L = {p, o, out, &res->co, res, -1};
    struct once w = {0};
    double t0 = wall_now();
    int r;

    memset(res, 0, sizeof(*res));
    res->live = true;
    if ((r = pl_live_check(p, o, e)) < 0)
        return r;
    if ((r = make_dir(out, e)) < 0)
        return r;
    if (p->ramp.kind != PL_RAMP_NONE) {
        /* the search's steps, one baton-tgen run each under out/step-<k>/;
         * the verdict is the capacity */
        if ((r = live_ramp(&L, res, e)) < 0)
            return r;
        res->sim_wall_s = wall_now() - t0;
        pl_verdict(p, res);
        if (res->interrupted)
            res->pass = false;
        return 0;
    }
    if (p->live.profile_path) {
        snprintf(prof, sizeof(prof), "%s", p->live.profile_path);
    } else {
        snprintf(prof, sizeof(prof), "%s/profile.json", out);
        if ((r = pl_live_write_profile(p, prof, e)) < 0)
            return r;
    }
    double bound = t0 + (p->live.timeout_ns ? p->live.timeout_ns : bound_ns(p, p->prof)) / 1e9;
    r = tgen_once(&L, prof, out, bound, &w, e);
    res->interrupted = w.user;
    res->tgen_exit = w.tgen_exit;
    res->start_s = w.start_s;
    res->tgen_json = w.tj;
    if (r < 0)
        goto out;
    res->sim_wall_s = wall_now() - t0;
    /* verify: the links always; the members when a lab tap gave them */
    double tv = wall_now();
    bool members = p->live.capset || p->live.nsgm;
    res->member_captures = p->live.capset ? 1 : p->live.nsgm;
    if ((r = judge_links(p, out, &p->th, members, res->foreign, &rep, e)) < 0)
        goto out;
    res->verify_wall_s = wall_now() - tv;
    res->verify_json = vf_report_json(rep);
    pl_verify_checks(rep, res);
    captures_incomplete(&w, res);
    if (!members)
        not_applicable(res, (json_t *)res->verify_json);
    pl_tgen_checks(p, res);
    complete_check(p, &w, res);
    pl_verdict(p, res);
    if (w.user)
        res->pass = false;         /* a run cut short proves nothing */
    r = 0;
out:
    vf_report_free(rep);
    return r;
}
