/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-plan run [--sim | --live [--client-port SPEC] [--server-port SPEC]
 *                [--eal ARGS]] [--junit FILE] [--json] [--out DIR] PLAN...
 * Exit 0 every plan passed, 1 a plan failed, 2 bad plan or bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bt_err.h"
#include "bt_json.h"
#include "bt_junit.h"
#include "pl_api.h"
#include "pl_live.h"

/* Whether a file can be written at path (before the plans run, rather than
 * a report lost after them): an existing file writable, or a new one in a
 * writable directory. 0 or -errno. */
static int writable(const char *path)
{
    struct stat st;
    char dir[4096];
    const char *slash = strrchr(path, '/');

    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return -EISDIR;
        return access(path, W_OK) == 0 ? 0 : -errno;
    }
    if (errno != ENOENT)
        return -errno;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
    return access(dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

/* to stdout and 0 when asked for (--help), to stderr and 2 on bad usage */
static int usage_to(FILE *f, int rc)
{
    fprintf(f, "usage: baton-plan run [--sim | --live] [--junit FILE] [--json] [--out DIR] PLAN...\n"
               "         --live: [--client-port SPEC] [--server-port SPEC] [--eal ARGS]\n"
               "                 (SPEC: an interface, a DPDK vdev net_..., a PCI address)\n"
               "       baton-plan check [--live ...] PLAN...   (load and validate only)\n");
    return rc;
}

static int usage(void)
{
    return usage_to(stderr, 2);
}

/* mkdir -p: 0 or -errno. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -errno;
        buf[i] = c;
    }
    return 0;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* baton-tgen for --live: $BATON_TGEN, else next to this binary (installed),
 * else ../tgen/ from it (the build tree). */
static const char *find_tgen(char *buf, size_t n)
{
    const char *env = getenv("BATON_TGEN");
    char self[4096];
    ssize_t l;

    if (env && *env)
        return env;
    if ((l = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
        return "baton-tgen";
    self[l] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return "baton-tgen";
    *slash = '\0';
    snprintf(buf, n, "%s/baton-tgen", self);
    if (access(buf, X_OK) == 0)
        return buf;
    snprintf(buf, n, "%s/../tgen/baton-tgen", self);
    if (access(buf, X_OK) == 0)
        return buf;
    return NULL;
}

static void print_live(const struct pl_plan *p, const struct pl_result *r, const struct pl_live_opts *o)
{
    const struct tg_summary *t = &r->co.tg;
    const char *cs = o->client ? o->client : p->live.client;
    const char *ss = o->server ? o->server : p->live.server;

    printf("plan %s (%s): live, client port %s, server port %s; %llu flows (tgen, %s loop) in %.2f s "
           "(%.2f s to start), %.2f s in all\n", p->name, p->file, cs, ss,
           (unsigned long long)t->flows_started, p->prof->mode == TG_MODE_CLOSED ? "closed" : "open",
           t->duration_s, r->start_s, r->wall_s);
    printf("  traffic: %llu completed, %llu failed, %llu unfinished, %llu retransmits, %llu RSTs, "
           "%.0f conn/s, %.0f pkt/s, p99 latency %.3f ms (baton-tgen exit %d)\n",
           (unsigned long long)t->flows_completed, (unsigned long long)t->flows_failed,
           (unsigned long long)t->flows_aborted, (unsigned long long)t->retransmits,
           (unsigned long long)t->rsts_seen, t->completed_cps, t->tx_pps, t->lat_p99_ns / 1e6,
           r->tgen_exit);
    const json_t *tj = r->tgen_json;
    if (r->interrupted)
        printf("  INTERRUPTED by a signal: the traffic was stopped, what ran is judged, the plan "
               "fails\n");
    else if (json_is_true(json_object_get(tj, "stopped_by_bound")))
        printf("  STOPPED BY THE RUN'S BOUND (live.timeout, or the traffic's length plus a grace): "
               "only part of the traffic ran (see complete), the plan fails\n");
    json_int_t txd = json_integer_value(json_object_get(tj, "tx_dropped"));
    json_int_t capd = json_integer_value(json_object_get(tj, "capture_dropped"));
    if (txd > 0 || capd > 0)
        printf("  tester: %lld frames baton-tgen freed after its port refused them (tx_dropped: never "
               "sent, not in its captures), %lld frames it could not capture (capture_dropped%s)\n",
               (long long)txd, (long long)capd, capd > 0 ? ": the loss check is not judged" : "");
    printf("  links: %llu client-side and %llu server-side frames of the device's own left out "
           "(not TCP/UDP); members: %s\n", (unsigned long long)r->foreign[0],
           (unsigned long long)r->foreign[1],
           r->member_captures ? "from the lab's captures" : "no captures, their checks not applicable");
}


/* A live capacity search: the ports, then one line a step. */
static void print_live_ramp(const struct pl_plan *p, const struct pl_result *r,
                            const struct pl_live_opts *o)
{
    const json_t *steps = r->ramp_json;
    const char *unit = p->ramp.kind == PL_RAMP_CPS ? "conn/s" : "connections";

    printf("plan %s (%s): live, client port %s, server port %s; capacity search (%s) in %u steps "
           "of baton-tgen, %.2f s in all (%.2f s of it to start them)\n", p->name, p->file,
           o->client ? o->client : p->live.client, o->server ? o->server : p->live.server,
           p->ramp.kind == PL_RAMP_CPS ? "RFC 9411 7.2, connections per second"
                                       : "RFC 9411 7.5, concurrent connections",
           r->ramp_trials, r->wall_s, r->start_s);
    for (size_t k = 0; k < json_array_size(steps); k++) {
        const json_t *s = json_array_get(steps, k);
#define SI(f) (unsigned long long)json_integer_value(json_object_get(s, f))
#define SD(f) json_number_value(json_object_get(s, f))
        printf("  step %llu: %.0f %s: %-5s %llu/%llu completed, %llu retransmits, %llu+%llu lost, "
               "%.0f conn/s, p99 %.3f ms%s%s\n", SI("step"), SD("load"), unit,
               json_is_true(json_object_get(s, "clean")) ? "clean" : "NOT",
               SI("flows_completed"), SI("flows_started"), SI("retransmits"), SI("lost_c2s"),
               SI("lost_s2c"), SD("completed_cps"), SD("lat_p99_ms"),
               json_is_true(json_object_get(s, "clean")) ? "" : ": ",
               json_is_true(json_object_get(s, "clean")) ? ""
                   : json_string_value(json_object_get(s, "why")));
        const char *nj = json_string_value(json_object_get(s, "loss_not_judged"));
        if (nj)
            printf("          %s\n", nj);
#undef SI
#undef SD
    }
    if (r->interrupted)
        printf("  INTERRUPTED by a signal: the search was stopped, the plan fails\n");
}

static void print_result(const struct pl_plan *p, const struct pl_result *r, const char *out,
                         const struct pl_live_opts *o)
{
    if (r->live && p->ramp.kind != PL_RAMP_NONE) {
        print_live_ramp(p, r, o);
    } else if (r->live) {
        print_live(p, r, o);
    } else if (p->ramp.kind != PL_RAMP_NONE) {
        printf("plan %s (%s): %u members, capacity search (%s) in %u trials, %.2f s\n", p->name,
               p->file, p->sim.cluster.nmembers,
               p->ramp.kind == PL_RAMP_CPS ? "RFC 9411 7.2, connections per second"
                                           : "RFC 9411 7.5, concurrent connections",
               r->ramp_trials, r->wall_s);
    } else if (p->tgen) {
        const struct tg_summary *t = &r->co.tg;
        printf("plan %s (%s): %u members, %llu flows (tgen, %s loop), %.2f s simulated in %.2f s\n",
               p->name, p->file, p->sim.cluster.nmembers, (unsigned long long)t->flows_started,
               p->prof->mode == TG_MODE_CLOSED ? "closed" : "open",
               r->co.end_ns / 1e9, r->wall_s);
        printf("  traffic: %llu completed, %llu failed, %llu retransmits, %llu RSTs, %.0f conn/s, "
               "%.0f pkt/s, p99 latency %.3f ms\n",
               (unsigned long long)t->flows_completed, (unsigned long long)t->flows_failed,
               (unsigned long long)t->retransmits, (unsigned long long)t->rsts_seen, t->completed_cps,
               t->tx_pps, t->lat_p99_ns / 1e6);
        const struct gw_stats *g = &r->co.gw;
        printf("  cluster: %u members at the end, %llu connections, %llu sync records (%.2f a "
               "connection, %llu bytes), %llu corrections, drops: %llu queue, %llu table full, "
               "%llu out of state, %llu policy\n", r->co.members, (unsigned long long)g->conns,
               (unsigned long long)g->sync_records, g->conns ? (double)g->sync_records / g->conns : 0,
               (unsigned long long)g->sync_bytes, (unsigned long long)g->corrections,
               (unsigned long long)g->drops_queue, (unsigned long long)g->drops_full,
               (unsigned long long)g->drops_state, (unsigned long long)g->drops_policy);
    } else {
        printf("plan %s (%s): %u members, %llu conversations, %.2f s simulated in %.2f s\n", p->name,
               p->file, p->sim.cluster.nmembers, (unsigned long long)r->sim.flows, r->sim.end_ns / 1e9,
               r->wall_s);
        printf("  traffic: %llu completed, %llu failed, %llu retransmits\n",
               (unsigned long long)r->sim.flows_completed, (unsigned long long)r->sim.flows_failed,
               (unsigned long long)r->sim.retransmits);
    }
    for (unsigned k = 0; k < r->nchecks; k++) {
        const char *v = r->check[k].not_applicable ? "n/a" : !r->check[k].judged ? "not judged"
                        : r->check[k].pass ? "pass" : "FAIL";
        const char *want = r->check[k].expected_fail ? " (this plan expects it to fail)" : "";
        printf("  %-12s %-10s %s%s\n", r->check[k].name, v, r->check[k].message, want);
    }
    if (p->ramp.kind == PL_RAMP_NONE)
        printf("  capture set: %s\n", out);
    else if (r->live)
        printf("  steps: %s/step-<k>/ (each a capture set of its links)\n", out);
    printf("  => %s\n\n", r->pass ? "PASS" : "FAIL");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sim", no_argument, NULL, 's'},   {"live", no_argument, NULL, 'l'},
        {"junit", required_argument, NULL, 'j'}, {"json", no_argument, NULL, 'J'},
        {"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {"client-port", required_argument, NULL, 'C'}, {"server-port", required_argument, NULL, 'S'},
        {"eal", required_argument, NULL, 'E'},
        {NULL, 0, NULL, 0}};
    struct pl_live_opts lo = {0};
    char tgenbuf[4096];
    const char *junit_path = NULL, *outdir = "out/plans";
    bool json = false, live = false, check_only;
    struct bt_junit *ju = NULL;
    json_t *jplans = NULL;
    int c, rc = 0;

    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage_to(stdout, 0);
    if (!strcmp(argv[1], "check"))
        check_only = true;
    else if (!strcmp(argv[1], "run"))
        check_only = false;
    else
        return usage();
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': live = false; break;
        case 'l': live = true; break;
        case 'j': junit_path = optarg; break;
        case 'J': json = true; break;
        case 'o': outdir = optarg; break;
        case 'C': lo.client = optarg; break;
        case 'S': lo.server = optarg; break;
        case 'E': lo.eal = optarg; break;
        case 'h': return usage_to(stdout, 0);
        default: return usage();
        }
    }
    if (optind >= argc)
        return usage();
    if (!live && (lo.client || lo.server || lo.eal)) {
        fprintf(stderr, "baton-plan: --client-port, --server-port and --eal go with --live\n");
        return 2;
    }
    /* Load every plan first: a bad plan is exit 2 before anything runs. */
    int nplans = argc - optind;
    struct pl_plan **plans = calloc((size_t)nplans, sizeof(*plans));
    if (!plans)
        return 2;
    for (int i = 0; i < nplans; i++) {
        struct bt_err e = {{0}};
        if (!(plans[i] = pl_plan_load(argv[optind + i], &e)) || pl_plan_check_inputs(plans[i], &e) < 0) {
            fprintf(stderr, "baton-plan: %s\n", e.msg);
            rc = 2;
            goto out;
        }
        /* the name is the capture set's directory: two plans of one name
         * would write over each other's */
        for (int k = 0; k < i; k++)
            if (!strcmp(plans[k]->name, plans[i]->name)) {
                fprintf(stderr, "baton-plan: %s: name '%s' is also the name of %s (each plan's "
                                "capture set is --out/<name>: give each plan its own name)\n",
                        plans[i]->file, plans[i]->name, plans[k]->file);
                rc = 2;
                goto out;
            }
    }
    if (junit_path && !check_only && (c = writable(junit_path)) < 0) {
        fprintf(stderr, "baton-plan: --junit %s: %s\n", junit_path, strerror(-c));
        rc = 2;
        goto out;
    }
    if (live) {
        if (!check_only && !(lo.tgen = find_tgen(tgenbuf, sizeof(tgenbuf)))) {
            fprintf(stderr, "baton-plan: --live: baton-tgen not found next to baton-plan nor in "
                            "../tgen/; set BATON_TGEN\n");
            rc = 2;
            goto out;
        }
        for (int i = 0; i < nplans; i++) {
            struct bt_err e = {{0}};
            if (pl_live_check(plans[i], &lo, &e) < 0) {
                fprintf(stderr, "baton-plan: %s\n", e.msg);
                rc = 2;
                goto out;
            }
        }
    }
    if (check_only) {
        for (int i = 0; i < nplans; i++)
            if (!json)
                printf("%s: ok (plan '%s')\n", plans[i]->file, plans[i]->name);
        goto out;
    }
    if ((c = make_dirs(outdir)) < 0) {
        fprintf(stderr, "baton-plan: --out %s: %s\n", outdir, strerror(-c));
        rc = 2;
        goto out;
    }
    ju = bt_junit_new();
    jplans = json_array();
    if (!ju || !jplans) {
        rc = 2;
        goto out;
    }
    for (int i = 0; i < nplans; i++) {
        const struct pl_plan *p = plans[i];
        struct pl_result res;
        struct bt_err e = {{0}};
        char dir[4096];
        double t0 = wall_now();

        snprintf(dir, sizeof(dir), "%s/%s", outdir, p->name);
        if ((live ? pl_run_live(p, &lo, dir, &res, &e) : pl_run_sim(p, dir, &res, &e)) < 0) {
            /* a message that names a place in the plan names the file already */
            char msg[sizeof(e.msg) + 4096];
            size_t fl = strlen(p->file);
            if (!strncmp(e.msg, p->file, fl) && e.msg[fl] == ':')
                snprintf(msg, sizeof(msg), "%s", e.msg);
            else
                snprintf(msg, sizeof(msg), "%s: %s", p->file, e.msg);
            fprintf(stderr, "baton-plan: %s\n", msg);
            pl_result_clear(&res);
            rc = 2;
            /* a bad plan found only while it ran (an event the cluster
             * refused): the other plans still run and every report says
             * what became of each, this one as an error */
            bt_junit_suite(ju, p->name, p->file);
            bt_junit_suite_time(ju, wall_now() - t0);
            bt_junit_case(ju, p->name, "plan", 0, msg);
            if (json) {
                json_t *jp = json_object();
                json_object_set_new(jp, "name", json_string(p->name));
                json_object_set_new(jp, "file", bt_json_string(p->file));   /* any bytes of a path */
                json_object_set_new(jp, "mode", json_string(live ? "live" : "sim"));
                json_object_set_new(jp, "pass", json_false());
                json_object_set_new(jp, "error", bt_json_string(msg));
                json_object_set_new(jp, "wall_s", json_real(wall_now() - t0));
                json_array_append_new(jplans, jp);
            } else {
                printf("plan %s (%s): ERROR, not judged: %s\n", p->name, p->file, msg);
            }
            continue;
        }
        res.wall_s = wall_now() - t0;
        if (!res.pass && rc == 0)
            rc = 1;
        bt_junit_suite(ju, p->name, p->file);
        bt_junit_suite_time(ju, res.wall_s);
        for (unsigned k = 0; k < res.nchecks; k++) {
            char msg[700];
            const char *fail = NULL;
            bool failed = res.check[k].judged && !res.check[k].pass;
            if (res.check[k].expected_fail != failed) {
                snprintf(msg, sizeof(msg), "%s: expected to %s, %s: %s", res.check[k].name,
                         res.check[k].expected_fail ? "fail (expect_fail)" : "pass",
                         failed ? "it failed" : "it passed", res.check[k].message);
                fail = msg;
            }
            if (res.check[k].not_applicable && !res.check[k].expected_fail)
                bt_junit_skip(ju, p->name, res.check[k].name, res.check[k].message);
            else if (!res.check[k].judged && !res.check[k].expected_fail)
                bt_junit_skip(ju, p->name, res.check[k].name, res.check[k].message);
            else
                bt_junit_case(ju, p->name, res.check[k].name, 0, fail);
        }
        if (json) {
            json_t *jp = json_object();
            json_object_set_new(jp, "name", json_string(p->name));
            json_object_set_new(jp, "file", bt_json_string(p->file));   /* any bytes of a path */
            json_object_set_new(jp, "mode", json_string(live ? "live" : "sim"));
            json_object_set_new(jp, "pass", json_boolean(res.pass));
            if (!live)
                json_object_set_new(jp, "sgms", json_integer(p->sim.cluster.nmembers));
            else   /* the lab's members: by hand, or in its capture set (verify's report) */
                json_object_set_new(jp, "sgms", p->live.capset ? json_null() : json_integer(p->live.nsgm));
            json_object_set_new(jp, "checks", res.verify_json ? json_incref((json_t *)res.verify_json) : json_null());
            json_object_set_new(jp, "tgen", res.tgen_json ? json_incref((json_t *)res.tgen_json) : json_null());
            if (live)
                json_object_set_new(jp, "sim_s", json_null());
            else
                json_object_set_new(jp, "sim_s", json_real((p->ramp.kind != PL_RAMP_NONE ? res.ramp_sim_ns
                                                            : p->tgen ? res.co.end_ns : res.sim.end_ns) / 1e9));
            if (live) {
                json_t *jl = json_object();
                json_object_set_new(jl, "client_port", json_string(lo.client ? lo.client : p->live.client));
                json_object_set_new(jl, "server_port", json_string(lo.server ? lo.server : p->live.server));
                json_object_set_new(jl, "tgen_exit", json_integer(res.tgen_exit));
                json_object_set_new(jl, "start_s", json_real(res.start_s));
                json_object_set_new(jl, "foreign_client", json_integer((json_int_t)res.foreign[0]));
                json_object_set_new(jl, "foreign_server", json_integer((json_int_t)res.foreign[1]));
                json_object_set_new(jl, "member_captures", json_integer(res.member_captures));
                json_object_set_new(jl, "interrupted", json_boolean(res.interrupted));
                json_object_set_new(jp, "live", jl);
            } else if (p->tgen) {
                const struct gw_stats *g = &res.co.gw;
                json_t *jg = json_object();
                json_object_set_new(jg, "members", json_integer(res.co.members));
                json_object_set_new(jg, "conns", json_integer((json_int_t)g->conns));
                json_object_set_new(jg, "sync_records", json_integer((json_int_t)g->sync_records));
                json_object_set_new(jg, "sync_msgs", json_integer((json_int_t)g->sync_msgs));
                json_object_set_new(jg, "sync_bytes", json_integer((json_int_t)g->sync_bytes));
                json_object_set_new(jg, "corrections", json_integer((json_int_t)g->corrections));
                json_object_set_new(jg, "drops_queue", json_integer((json_int_t)g->drops_queue));
                json_object_set_new(jg, "drops_full", json_integer((json_int_t)g->drops_full));
                json_object_set_new(jg, "backups_full", json_integer((json_int_t)g->backups_full));
                json_object_set_new(jg, "drops_state", json_integer((json_int_t)g->drops_state));
                json_object_set_new(jg, "drops_policy", json_integer((json_int_t)g->drops_policy));
                json_object_set_new(jg, "work_ns_per_conn", json_real(res.co.work_ns_per_conn));
                json_object_set_new(jp, "cluster", jg);
            }
            if (p->ramp.kind != PL_RAMP_NONE) {
                json_t *jr = json_object();
                json_object_set_new(jr, "find", json_string(p->ramp.kind == PL_RAMP_CPS ? "cps" : "concurrent"));
                json_object_set_new(jr, "found", json_real(res.ramp_found));
                json_object_set_new(jr, "model", live ? json_null() : json_real(res.ramp_model));
                json_object_set_new(jr, "trials", json_integer(res.ramp_trials));
                json_object_set_new(jr, "from", json_real(p->ramp.from));
                json_object_set_new(jr, "to", json_real(p->ramp.to));
                json_object_set_new(jr, "tolerance_pct", json_real(p->ramp.tolerance_pct));
                if (live) {
                    /* the device's rated capacity, and each step's figures */
                    json_object_set_new(jr, "capacity", p->live.capacity > 0
                                        ? json_real(p->live.capacity) : json_null());
                    json_object_set_new(jr, "steps", res.ramp_json
                                        ? json_incref((json_t *)res.ramp_json) : json_array());
                }
                json_object_set_new(jp, "ramp", jr);
            }
            {
                json_t *jc = json_object();
                for (unsigned k = 0; k < res.nchecks; k++) {
                    json_t *one = json_object();
                    json_object_set_new(one, "judged", json_boolean(res.check[k].judged));
                    json_object_set_new(one, "applicable", json_boolean(!res.check[k].not_applicable));
                    json_object_set_new(one, "pass", json_boolean(res.check[k].pass));
                    json_object_set_new(one, "expected_fail", json_boolean(res.check[k].expected_fail));
                    json_object_set_new(one, "message", json_string(res.check[k].message));
                    json_object_set_new(jc, res.check[k].name, one);
                }
                json_object_set_new(jp, "verdicts", jc);
            }
            json_object_set_new(jp, "wall_s", json_real(res.wall_s));
            json_object_set_new(jp, "sim_wall_s", json_real(res.sim_wall_s));
            json_object_set_new(jp, "verify_wall_s", json_real(res.verify_wall_s));
            json_array_append_new(jplans, jp);
        } else {
            print_result(p, &res, dir, &lo);
        }
        bool stop = res.interrupted;
        pl_result_clear(&res);
        if (stop) {
            /* the user wants out: the report so far, no further plan */
            if (i + 1 < nplans)
                fprintf(stderr, "baton-plan: interrupted: %d plan%s not run\n", nplans - i - 1,
                        nplans - i - 1 == 1 ? "" : "s");
            break;
        }
    }
    if (junit_path) {
        struct bt_err e = {{0}};
        if (bt_junit_write(ju, junit_path, &e) < 0) {
            fprintf(stderr, "baton-plan: %s\n", e.msg);
            rc = 2;
            goto out;
        }
    }
    if (json) {
        json_t *top = json_object();
        json_object_set_new(top, "schema", json_integer(1));
        json_object_set(top, "plans", jplans);
        json_dumpf(top, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(top);
    } else {
        printf("baton-plan: %d plan%s, %s\n", nplans, nplans == 1 ? "" : "s",
               rc == 0 ? "all passed" : rc == 2 ? "a plan could NOT RUN" : "a plan FAILED");
    }
out:
    for (int i = 0; i < nplans; i++)
        pl_plan_free(plans[i]);
    free(plans);
    bt_junit_free(ju);
    json_decref(jplans);
    return rc;
}
