/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-verify: judges a cluster from its member captures.
 *   baton-verify check [--capset DIR] [--sgm ID=FILE]... [--events FILE]
 *                      [--corrections FILE] [--weights ID=W,...] [--json]
 *                      [--junit FILE] [--client FILE --server FILE] [--nat FILE]
 *                      [thresholds]
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
            "                          [--client FILE --server FILE] [--max-loss-pct X]\n"
            "                          [--nat FILE] [--threads 1|2]\n"
            "Exit 0 all checks pass, 1 a check failed, 2 bad usage or input.\n"
            "See docs/verify.md.\n");
}

static int num(const char *opt, const char *s, uint64_t *out, struct bt_err *e)
{
    if (bt_parse_uint(s, UINT64_MAX, out) < 0)
        return bt_err_set(e, "%s: '%s' is not a non-negative integer", opt, s);
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
        {"client", required_argument, NULL, 7},
        {"server", required_argument, NULL, 8},
        {"max-loss-pct", required_argument, NULL, 9},
        {"nat", required_argument, NULL, 10},
        {"threads", required_argument, NULL, 11},
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
            /* "1e308k" comes out inf: a threshold that never fails */
            if (bt_parse_quantity(optarg, &x) < 0 || !(x >= 0 && x <= 1e6))
                rc = bt_err_set(&e, "--max-balance-pct: '%s' is not a number 0..1e6", optarg);
            else
                t.max_balance_pct = x;
            break;
        }
        case 6: rc = num("--min-flows-per-sgm", optarg, &t.min_flows_per_sgm, &e); break;
        case 7: in.client = optarg; break;
        case 10: in.nat = optarg; break;
        case 11:
            if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0)
                rc = bt_err_set(&e, "--threads: '%s' is not 1 or 2", optarg);
            else
                in.threads = (unsigned)(optarg[0] - '0');
            break;
        case 8: in.server = optarg; break;
        case 9: {
            double x;
            if (bt_parse_quantity(optarg, &x) < 0 || x < 0 || x > 100)
                rc = bt_err_set(&e, "--max-loss-pct: '%s' is not a percentage 0..100", optarg);
            else
                t.max_loss_pct = x;
            break;
        }
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

static void print_flow_line(char mark, json_t *f, const char *extra)
{
    printf("%c %s  %s  fwd %lld pkts %lld B, rev %lld pkts %lld B, retrans %lld, holes %lld, rst %lld%s\n",
           mark, json_string_value(json_object_get(f, "tuple")),
           json_string_value(json_object_get(f, "community_id")),
           (long long)json_integer_value(json_object_get(f, "packets_fwd")),
           (long long)json_integer_value(json_object_get(f, "bytes_fwd")),
           (long long)json_integer_value(json_object_get(f, "packets_rev")),
           (long long)json_integer_value(json_object_get(f, "bytes_rev")),
           (long long)json_integer_value(json_object_get(f, "retransmissions")),
           (long long)json_integer_value(json_object_get(f, "seq_holes")),
           (long long)json_integer_value(json_object_get(f, "rsts")), extra);
}

static int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"idle", required_argument, NULL, 'i'},
        {"tolerance-packets", required_argument, NULL, 'p'},
        {"tolerance-bytes", required_argument, NULL, 'b'},
        {"tolerance-time", required_argument, NULL, 't'},
        {"ignore-members", no_argument, NULL, 'm'},
        {"max-list", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct vf_diff_opts o;
    struct bt_err e = {""};
    bool json = false;
    uint64_t v = 0, ns;
    int c, rc;
    void *out = NULL;

    vf_diff_opts_default(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        rc = 0;
        switch (c) {
        case 'j': json = true; break;
        case 'i':
            if (bt_parse_duration_ns(optarg, &ns) < 0 || ns == 0)
                rc = bt_err_set(&e, "--idle: '%s' is not a duration (e.g. 2s)", optarg);
            else
                o.idle_ns = ns;
            break;
        case 'p': rc = num("--tolerance-packets", optarg, &o.tol_packets, &e); break;
        case 'b': rc = num("--tolerance-bytes", optarg, &o.tol_bytes, &e); break;
        case 't':
            if (bt_parse_duration_ns(optarg, &ns) < 0)
                rc = bt_err_set(&e, "--tolerance-time: '%s' is not a duration (e.g. 300ms)", optarg);
            else
                o.tol_time_ns = ns;
            break;
        case 'm': o.ignore_members = true; break;
        case 'l':
            rc = num("--max-list", optarg, &v, &e);
            o.max_list = (unsigned)(v > 100000 ? 100000 : v);
            break;
        case 'h':
            printf("usage: baton-verify diff A B [--json] [--idle DUR] [--tolerance-packets N]\n"
                   "                        [--tolerance-bytes N] [--tolerance-time DUR]\n"
                   "                        [--ignore-members] [--max-list N]\n"
                   "A and B: capture files or capture set directories. Exit 0 same, 1 different, 2 bad input.\n");
            return 0;
        default:
            fprintf(stderr, "usage: baton-verify diff A B [--json] [options] (see --help)\n");
            return 2;
        }
        if (rc < 0) {
            fprintf(stderr, "baton-verify: %s\n", e.msg);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "baton-verify: diff needs two inputs, A and B (see diff --help)\n");
        return 2;
    }
    rc = vf_diff(argv[optind], argv[optind + 1], &o, &out, &e);
    if (rc < 0) {
        fprintf(stderr, "baton-verify: %s\n", e.msg);
        return 2;
    }
    json_t *r = out;
    if (json) {
        char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        size_t i;
        json_t *f;
        printf("--- %s\n+++ %s\n", argv[optind], argv[optind + 1]);
        json_array_foreach(json_object_get(r, "only_in_a_flows"), i, f)
            print_flow_line('-', f, "");
        json_array_foreach(json_object_get(r, "only_in_b_flows"), i, f)
            print_flow_line('+', f, "");
        json_array_foreach(json_object_get(r, "moved_flows"), i, f) {
            char extra[300], ma[128] = "", mb[128] = "";
            size_t k;
            json_t *m;
            json_array_foreach(json_object_get(json_object_get(f, "flow"), "members"), k, m)
                snprintf(ma + strlen(ma), sizeof(ma) - strlen(ma), "%s%lld", k ? "," : "",
                         (long long)json_integer_value(m));
            json_array_foreach(json_object_get(json_object_get(f, "b"), "members"), k, m)
                snprintf(mb + strlen(mb), sizeof(mb) - strlen(mb), "%s%lld", k ? "," : "",
                         (long long)json_integer_value(m));
            snprintf(extra, sizeof(extra), "  members %s -> %s", ma, mb);
            print_flow_line('~', json_object_get(f, "flow"), extra);
        }
        json_array_foreach(json_object_get(r, "changed_flows"), i, f) {
            json_t *d = json_object_get(f, "delta");
            print_flow_line('<', json_object_get(f, "a"), "");
            print_flow_line('>', json_object_get(f, "b"), "");
            printf("  delta fwd %+lld pkts %+lld B, rev %+lld pkts %+lld B, retrans %+lld, holes %+lld, "
                   "rst %+lld, duration %+.3f ms, longest gap %+.3f ms\n",
                   (long long)json_integer_value(json_object_get(d, "packets_fwd")),
                   (long long)json_integer_value(json_object_get(d, "bytes_fwd")),
                   (long long)json_integer_value(json_object_get(d, "packets_rev")),
                   (long long)json_integer_value(json_object_get(d, "bytes_rev")),
                   (long long)json_integer_value(json_object_get(d, "retransmissions")),
                   (long long)json_integer_value(json_object_get(d, "seq_holes")),
                   (long long)json_integer_value(json_object_get(d, "rsts")),
                   json_real_value(json_object_get(d, "duration_ms")),
                   json_real_value(json_object_get(d, "max_gap_ms")));
        }
        printf("%lld flows in A, %lld in B: %lld identical, %lld only in A, %lld only in B, "
               "%lld moved member, %lld changed\n",
               (long long)json_integer_value(json_object_get(r, "flows_a")),
               (long long)json_integer_value(json_object_get(r, "flows_b")),
               (long long)json_integer_value(json_object_get(r, "identical")),
               (long long)json_integer_value(json_object_get(r, "only_in_a")),
               (long long)json_integer_value(json_object_get(r, "only_in_b")),
               (long long)json_integer_value(json_object_get(r, "moved")),
               (long long)json_integer_value(json_object_get(r, "changed")));
    }
    json_decref(r);
    return rc;
}

static int cmd_split(int argc, char **argv)
{
    static const struct option opts[] = {
        {"by", required_argument, NULL, 'b'},
        {"map", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *by = NULL, *map = NULL, *out = NULL;
    struct vf_split_map m;
    struct vf_split_result res;
    struct bt_err e = {""};
    enum vf_split_by b;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': by = optarg; break;
        case 'm': map = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: baton-verify split --by vlan|mac|interface TAP.pcap --map KEY=SGM,... --out DIR\n"
                   "  vlan: outer VLAN id; mac: member MAC (source or destination); interface:\n"
                   "  pcapng interface id or name, or the interface index of an SLL2 capture\n");
            return 0;
        default:
            fprintf(stderr, "usage: baton-verify split --by vlan|mac|interface TAP.pcap --map KEY=SGM,... --out DIR\n");
            return 2;
        }
    }
    if (!by || !map || !out || argc - optind != 1) {
        fprintf(stderr, "baton-verify: split needs --by, --map, --out and one TAP capture\n");
        return 2;
    }
    if (strcmp(by, "vlan") == 0) {
        b = VF_SPLIT_VLAN;
    } else if (strcmp(by, "mac") == 0) {
        b = VF_SPLIT_MAC;
    } else if (strcmp(by, "interface") == 0) {
        b = VF_SPLIT_INTERFACE;
    } else {
        fprintf(stderr, "baton-verify: --by '%s': must be vlan, mac or interface\n", by);
        return 2;
    }
    if (vf_split_map_parse(map, b, &m, &e) < 0 || vf_split(argv[optind], b, &m, out, &res, &e) < 0) {
        fprintf(stderr, "baton-verify: %s\n", e.msg);
        return 2;
    }
    printf("baton-verify split: %llu packets, %llu unmapped%s\n", (unsigned long long)res.packets,
           (unsigned long long)res.unmapped, res.unmapped ? " (in unmapped.pcap)" : "");
    for (int id = 1; id <= VF_MAX_MEMBERS; id++)
        if (res.per_sgm[id])
            printf("  sgm-%d.pcap: %llu packets\n", id, (unsigned long long)res.per_sgm[id]);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cmds[] = {
    {"check", cmd_check, "judge a capture set: affinity, symmetry, failover, balance, loss"},
    {"diff", cmd_diff, "compare two captures or capture sets flow by flow"},
    {"split", cmd_split, "turn one aggregated tap into a capture set (by VLAN, MAC or interface)"},
};

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        /* every command, then each one's options (check's here; diff and
         * split are longer: their own --help) */
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: baton-verify COMMAND [options]   (baton-verify COMMAND --help)\n");
        for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            fprintf(f, "  %-6s %s\n", cmds[i].name, cmds[i].help);
        fputc('\n', f);
        usage(f);
        return argc < 2 ? 2 : 0;
    }
    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "baton-verify: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
