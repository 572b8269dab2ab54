/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-verify: judges a cluster from its member captures.
 *   baton-verify check [--capset DIR] [--sgm ID=FILE]... [--events FILE]
 *                      [--corrections FILE] [--weights ID=W,...] [--json]
 *                      [--junit FILE] [thresholds]
 * Exit 0: every check passed; 1: a check failed; 2: bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_junit.h"
#include "bt_yaml.h"
#include "vf_api.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: baton-verify check [--capset DIR] [--sgm ID=FILE]... [--events FILE]\n"
            "                          [--corrections FILE] [--weights ID=W,...] [--json]\n"
            "                          [--junit FILE] [--idle DUR] [--max-affinity N]\n"
            "                          [--max-symmetry N] [--max-lost N] [--max-gap DUR]\n"
            "                          [--max-balance-pct X] [--min-flows-per-sgm N]\n"
            "Exit 0 all checks pass, 1 a check failed, 2 bad usage or input.\n"
            "See docs/verify.md.\n");
}

static int num(const char *opt, const char *s, uint64_t *out, struct bt_err *e)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-')
        return bt_err_set(e, "%s: '%s' is not a non-negative integer", opt, s);
    *out = v;
    return 0;
}

static int write_junit(const struct vf_report *r, const char *path, struct bt_err *e)
{
    struct bt_junit *j = bt_junit_new();
    int rc;

    if (!j)
        return -ENOMEM;
    bt_junit_suite(j, "baton-verify", NULL);
    for (unsigned i = 0; i < VF_NCHECKS; i++) {
        bool pass;
        const char *msg;
        int judged = vf_report_check(r, vf_check_names[i], &pass, &msg);
        if (judged == 0)
            bt_junit_skip(j, "verify", vf_check_names[i], msg);
        else
            bt_junit_case(j, "verify", vf_check_names[i], 0, pass ? NULL : msg);
    }
    rc = bt_junit_write(j, path, e);
    bt_junit_free(j);
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"capset", required_argument, NULL, 'c'},
        {"sgm", required_argument, NULL, 's'},
        {"events", required_argument, NULL, 'e'},
        {"corrections", required_argument, NULL, 'C'},
        {"weights", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},
        {"junit", required_argument, NULL, 'J'},
        {"idle", required_argument, NULL, 'i'},
        {"max-affinity", required_argument, NULL, 1},
        {"max-symmetry", required_argument, NULL, 2},
        {"max-lost", required_argument, NULL, 3},
        {"max-gap", required_argument, NULL, 4},
        {"max-balance-pct", required_argument, NULL, 5},
        {"min-flows-per-sgm", required_argument, NULL, 6},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct vf_input in;
    struct vf_thresholds t;
    struct vf_report *r = NULL;
    struct bt_err e = {""};
    const char *junit = NULL;
    bool json = false;
    int c, rc;
    uint64_t ns;

    memset(&in, 0, sizeof(in));
    vf_thresholds_default(&t);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        rc = 0;
        switch (c) {
        case 'c': in.capset = optarg; break;
        case 's': rc = vf_parse_sgm(optarg, &in, &e); break;
        case 'e': in.events = optarg; break;
        case 'C': in.corrections = optarg; break;
        case 'w': rc = vf_parse_weights(optarg, &in, &e); break;
        case 'j': json = true; break;
        case 'J': junit = optarg; break;
        case 'i':
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns == 0)
                rc = bt_err_set(&e, "--idle: '%s' is not a duration (e.g. 2s, 500ms)", optarg);
            else
                t.idle_ns = ns;
            break;
        case 1: rc = num("--max-affinity", optarg, &t.max_affinity, &e); break;
        case 2: rc = num("--max-symmetry", optarg, &t.max_symmetry, &e); break;
        case 3: rc = num("--max-lost", optarg, &t.max_lost, &e); break;
        case 4:
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                rc = bt_err_set(&e, "--max-gap: '%s' is not a duration (e.g. 300ms)", optarg);
            else
                t.max_gap_ms = (double)ns / 1e6;
            break;
        case 5: {
            double x;
            if (bt_parse_quantity(optarg, &x) < 0 || x < 0)
                rc = bt_err_set(&e, "--max-balance-pct: '%s' is not a number", optarg);
            else
                t.max_balance_pct = x;
            break;
        }
        case 6: rc = num("--min-flows-per-sgm", optarg, &t.min_flows_per_sgm, &e); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (rc < 0) {
            fprintf(stderr, "baton-verify: %s\n", e.msg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "baton-verify: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    rc = vf_check(&in, &t, &r, &e);
    if (rc < 0) {
        fprintf(stderr, "baton-verify: %s\n", e.msg);
        return 2;
    }
    vf_report_print(r, json ? stderr : stdout);
    if (json) {
        json_t *o = vf_report_json(r);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    }
    if (junit && write_junit(r, junit, &e) < 0) {
        fprintf(stderr, "baton-verify: %s\n", e.msg);
        vf_report_free(r);
        return 2;
    }
    rc = vf_report_pass(r) ? 0 : 1;
    vf_report_free(r);
    return rc;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cmds[] = {
    {"check", cmd_check, "judge a capture set: affinity, symmetry, failover, balance"},
};

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            fprintf(argc < 2 ? stderr : stdout, "  %-6s %s\n", cmds[i].name, cmds[i].help);
        return argc < 2 ? 2 : 0;
    }
    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "baton-verify: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
