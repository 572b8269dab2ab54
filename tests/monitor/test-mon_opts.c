/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mon_opts.c: baton-monitor's command line: defaults, every option, each
 * refusal with what to change, and no state left between parses.
 */
#include "bt_test.h"

#include <errno.h>
#include <stdarg.h>

#include "mon_opts.h"

static struct mon_opts O;

static int parse(struct bt_err *e, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = (char *)"baton-monitor";
    va_start(ap, e);
    for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    memset(e, 0, sizeof(*e));
    return mon_opts_parse(argc, argv, &O, e);
}

TEST(defaults_and_every_option)
{
    struct bt_err e;
    REQUIRE(parse(&e, "--replay", "s.jsonl", NULL) == 0);
    CHECK(!O.batch && !O.ascii && !O.speed_set && !O.interval_set);
    CHECK_EQ_INT(O.count, -1);
    CHECK_NEAR(O.speed, 1, 0);
    CHECK_NEAR(O.interval, 1, 0);
    CHECK_EQ_INT(O.sort, MON_SORT_ID);
    REQUIRE(parse(&e, "--replay", "s.jsonl", "--speed", "2.5", "--batch", "--interval", "0.5",
                  "--count", "3", "--sort", "pps", "--ascii", NULL) == 0);
    CHECK_EQ_STR(O.replay, "s.jsonl");
    CHECK(O.batch && O.ascii && O.speed_set && O.interval_set);
    CHECK_NEAR(O.speed, 2.5, 0);
    CHECK_NEAR(O.interval, 0.5, 0);
    CHECK_EQ_INT(O.count, 3);
    CHECK_EQ_STR(mon_sort_name(O.sort), "pps");
    REQUIRE(parse(&e, "--connect", "/tmp/gw.sock", "--record", "r.jsonl", NULL) == 0);
    CHECK_EQ_STR(O.connect, "/tmp/gw.sock");
    CHECK_EQ_STR(O.record, "r.jsonl");
    CHECK_EQ_INT(parse(&e, "--help", NULL), 1);
}

TEST(refusals_say_what_to_change)
{
    static const struct {
        const char *a, *b, *want;
        bool usage;
    } bad[] = {
        {"--speed", "0", "--speed '0': expected a number 0.001..1e+06", false},
        {"--speed", "1e-300", "--speed '1e-300'", false},
        {"--speed", "nan", "--speed 'nan'", false},
        {"--speed", "2x", "--speed '2x'", false},
        {"--count", "0", "--count '0': expected a number >= 1", false},
        {"--count", "+2", "--count '+2'", false},
        {"--count", " 2", "--count ' 2'", false},
        {"--count", "99999999999999999999", "--count '9999", false},
        {"--sort", "size", "--sort 'size': expected id, pps", false},
        {"--bogus", NULL, "unknown option or missing value: '--bogus'", true},
        {"-x", NULL, "unknown option or missing value: '-x'", true},
        {"extra", NULL, "unexpected argument 'extra'", false},
        {"--connect", "/tmp/s", "give one of --connect PATH or --replay FILE", true},
        {"--record", "r", "--record needs --connect", false},
        {"--interval", "2", "--interval and --count are for --batch", false},
    };
    struct bt_err e;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = bad[i].b ? parse(&e, "--replay", "f", bad[i].a, bad[i].b, NULL)
                         : parse(&e, "--replay", "f", bad[i].a, NULL);
        if (r != -EINVAL)
            BT_FAIL_AT("%s %s: %d", bad[i].a, bad[i].b ? bad[i].b : "", r);
        else if (!strstr(e.msg, bad[i].want) || O.usage != bad[i].usage)
            BT_FAIL_AT("%s %s: \"%s\" (usage %d) lacks \"%s\"", bad[i].a, bad[i].b ? bad[i].b : "",
                       e.msg, O.usage, bad[i].want);
    }
    CHECK_EQ_INT(parse(&e, "--connect", "/tmp/s", "--speed", "2", NULL), -EINVAL);
    CHECK(strstr(e.msg, "--speed is for --replay") != NULL);
    CHECK_EQ_INT(parse(&e, NULL), -EINVAL);
    CHECK(O.usage);
}

/* the getopt state tg_cli_parse kept (fuzz-tg_cli): none here either */
TEST(a_refused_parse_leaves_no_state)
{
    struct bt_err e;
    char a[] = "-xy";
    CHECK_EQ_INT(parse(&e, a, "--replay", "f", NULL), -EINVAL);
    memcpy(a, "-zq", 4);
    CHECK_EQ_INT(parse(&e, "--replay", "f", NULL), 0);
}
