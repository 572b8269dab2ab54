/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_yaml.h"

static struct bt_ydoc *load(const char *text, struct bt_err *e)
{
    return bt_yaml_load_mem("plan.yaml", text, strlen(text), e);
}

TEST(tree_with_positions)
{
    struct bt_err e;
    struct bt_ydoc *d = load("name: quick\ncluster:\n  members: 4\n  weights: [70, 15, 15]\n"
                             "events:\n  - at: 2s\n    fail: 3\n  - at: 250ms\n    restore: 3\n"
                             "label: \"042\"\n", &e);
    REQUIRE(d);
    const struct bt_ynode *r = d->root;
    REQUIRE(r && r->kind == BT_Y_MAP);
    CHECK_EQ_INT(r->n, 4);
    const struct bt_ynode *c = bt_y_get(r, "cluster");
    REQUIRE(c && c->kind == BT_Y_MAP);
    CHECK_EQ_INT(c->line, 3);
    CHECK_EQ_INT(c->col, 3);
    int64_t members;
    CHECK(bt_y_int(d, bt_y_get(c, "members"), "members", 1, 64, &members, &e) == 0);
    CHECK_EQ_INT(members, 4);
    const struct bt_ynode *w = bt_y_get(c, "weights");
    REQUIRE(w && w->kind == BT_Y_SEQ && w->n == 3);
    CHECK_EQ_STR(w->items[1]->str, "15");
    CHECK_EQ_INT(w->items[2]->col, 21);
    const struct bt_ynode *ev = bt_y_get(r, "events");
    REQUIRE(ev && ev->n == 2);
    uint64_t at;
    CHECK(bt_y_duration_ns(d, bt_y_get(ev->items[1], "at"), "at", &at, &e) == 0);
    CHECK_EQ_INT(at, 250000000);
    const struct bt_ynode *l = bt_y_get(r, "label");
    CHECK(l->quoted);
    CHECK(!bt_y_get(r, "missing"));
    bt_yaml_free(d);
}

TEST(errors_carry_file_line_column)
{
    struct bt_err e;
    struct bt_ydoc *d = load("cluster:\n  members: many\n  mode: sideways\n  extra: 1\n", &e);
    REQUIRE(d);
    const struct bt_ynode *c = bt_y_get(d->root, "cluster");
    int64_t v;
    CHECK(bt_y_int(d, bt_y_get(c, "members"), "cluster.members", 1, 64, &v, &e) < 0);
    CHECK_EQ_STR(e.msg, "plan.yaml:2:12: cluster.members: 'many' is not an integer");
    static const char *const allowed[] = {"members", "mode", NULL};
    CHECK(bt_y_check_keys(d, c, "cluster", allowed, &e) < 0);
    CHECK_EQ_STR(e.msg, "plan.yaml:4:3: unknown field 'extra' in cluster (expected one of: members, mode)");
    CHECK(bt_y_check_keys(d, bt_y_get(c, "members"), "cluster.members", allowed, &e) < 0);
    CHECK(strstr(e.msg, "expected a mapping") != NULL);
    double q;
    CHECK(bt_y_quantity(d, bt_y_get(c, "mode"), "mode", 0, 1, &q, &e) < 0);
    CHECK(strstr(e.msg, "plan.yaml:3:9:") != NULL);
    int64_t big;
    d = bt_yaml_free(d);
    d = load("n: 70000\n", &e);
    CHECK(bt_y_int(d, bt_y_get(d->root, "n"), "n", 0, 65535, &big, &e) < 0);
    CHECK(strstr(e.msg, "out of range") != NULL);
    bt_yaml_free(d);
}

TEST(whole_counts_refuse_fractions)
{
    struct bt_err e = {{0}};
    struct bt_ydoc *d = load("a: 2.7\nb: 1.5k\nc: 3\nd: 2e7\n", &e);
    uint64_t v = 7;

    REQUIRE(d != NULL);
    CHECK(bt_y_whole(d, bt_y_get(d->root, "a"), "a", 1, 1e7, &v, &e) < 0);
    CHECK_EQ_STR(e.msg, "plan.yaml:1:4: a: '2.7' is not a whole number (give 1..10000000, k/M/G "
                        "suffixes allowed)");
    CHECK_EQ_INT(v, 7);   /* untouched on an error */
    CHECK(bt_y_whole(d, bt_y_get(d->root, "b"), "b", 1, 1e7, &v, &e) == 0);
    CHECK_EQ_INT(v, 1500);
    CHECK(bt_y_whole(d, bt_y_get(d->root, "c"), "c", 1, 1e7, &v, &e) == 0);
    CHECK_EQ_INT(v, 3);
    CHECK(bt_y_whole(d, bt_y_get(d->root, "d"), "d", 1, 1e7, &v, &e) < 0);
    CHECK_EQ_STR(e.msg, "plan.yaml:4:4: d: 20000000 is out of range 1..10000000");
    bt_yaml_free(d);
}

TEST(rejected_documents)
{
    struct bt_err e;
    const struct {
        const char *text, *want;
    } bad[] = {
        {"a: 1\na: 2\n", "plan.yaml:2:1: duplicate key 'a' (first at line 1)"},
        {"a: &x 1\nb: *x\n", "plan.yaml:1:4: anchors"},
        {"a: [1, 2\n", "plan.yaml:"},
        {"a: 1\n---\nb: 2\n", "more than one YAML document"},
        {"? [1, 2]\n: 3\n", "mapping key must be a plain value"},
        {"a:\n\tb: 1\n", "plan.yaml:2:"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bt_ydoc *d = load(bad[i].text, &e);
        if (d) {
            BT_FAIL_AT("case %u accepted", i);
            bt_yaml_free(d);
        } else if (!strstr(e.msg, bad[i].want)) {
            BT_FAIL_AT("case %u: '%s' lacks '%s'", i, e.msg, bad[i].want);
        }
    }
    CHECK(bt_yaml_load("/nonexistent/plan.yaml", &e) == NULL);
    CHECK(strstr(e.msg, "/nonexistent/plan.yaml") != NULL);
}

TEST(scalars_durations_quantities)
{
    uint64_t ns;
    double q;
    CHECK(bt_parse_duration_ns("100ns", &ns) == 0 && ns == 100);
    CHECK(bt_parse_duration_ns("10us", &ns) == 0 && ns == 10000);
    CHECK(bt_parse_duration_ns("1.5s", &ns) == 0 && ns == 1500000000);
    CHECK(bt_parse_duration_ns("2", &ns) == 0 && ns == 2000000000);
    CHECK(bt_parse_duration_ns("1m", &ns) == 0 && ns == 60000000000ULL);
    CHECK(bt_parse_duration_ns("-1s", &ns) < 0);
    CHECK(bt_parse_duration_ns("5 parsecs", &ns) < 0);
    CHECK(bt_parse_duration_ns("", &ns) < 0);
    CHECK(bt_parse_quantity("10k", &q) == 0 && q == 10000);
    CHECK(bt_parse_quantity("1.5M", &q) == 0 && q == 1500000);
    CHECK(bt_parse_quantity("2G", &q) == 0 && q == 2e9);
    CHECK(bt_parse_quantity("7", &q) == 0 && q == 7);
    CHECK(bt_parse_quantity("7x", &q) < 0);
    CHECK(bt_parse_quantity("7kk", &q) < 0);
    /* past int64's range (llround's), and what strtod takes beyond the docs */
    CHECK(bt_parse_duration_ns("1e10s", &ns) == 0 && ns == 10000000000000000000ULL);
    CHECK(bt_parse_duration_ns("1.9e10s", &ns) == -ERANGE);
    CHECK(bt_parse_duration_ns(" 5s", &ns) < 0);
    CHECK(bt_parse_duration_ns("+5s", &ns) < 0);
    CHECK(bt_parse_duration_ns("0x10s", &ns) < 0);
    CHECK(bt_parse_duration_ns("infs", &ns) < 0);
    CHECK(bt_parse_duration_ns(".5s", &ns) == 0 && ns == 500000000);
    CHECK(bt_parse_quantity("1e308k", &q) == -ERANGE);
    CHECK(bt_parse_quantity(" 5", &q) < 0);
    CHECK(bt_parse_quantity("0x10", &q) < 0);
    CHECK(bt_parse_quantity("1e3", &q) == 0 && q == 1000);
    uint64_t u;
    CHECK(bt_parse_uint("42", 100, &u) == 0 && u == 42);
    CHECK(bt_parse_uint("18446744073709551615", UINT64_MAX, &u) == 0 && u == UINT64_MAX);
    CHECK(bt_parse_uint("101", 100, &u) < 0);
    CHECK(bt_parse_uint("18446744073709551616", UINT64_MAX, &u) < 0);
    CHECK(bt_parse_uint(" 5", 100, &u) < 0);
    CHECK(bt_parse_uint("+5", 100, &u) < 0);
    CHECK(bt_parse_uint("-1", UINT64_MAX, &u) < 0);
    CHECK(bt_parse_uint("5x", 100, &u) < 0);
    CHECK(bt_parse_uint("", 100, &u) < 0);
    struct bt_err e;
    struct bt_ydoc *d = load("a: yes\nb: off\nc: maybe\n", &e);
    bool b;
    CHECK(bt_y_bool(d, bt_y_get(d->root, "a"), "a", &b, &e) == 0 && b);
    CHECK(bt_y_bool(d, bt_y_get(d->root, "b"), "b", &b, &e) == 0 && !b);
    CHECK(bt_y_bool(d, bt_y_get(d->root, "c"), "c", &b, &e) < 0);
    CHECK(bt_y_bool(d, bt_y_get(d->root, "zz"), "zz", &b, &e) < 0);
    CHECK(strstr(e.msg, "zz: missing") != NULL);
    bt_yaml_free(d);
    d = load("", &e);
    REQUIRE(d);
    CHECK(d->root == NULL);
    bt_yaml_free(d);
}

/* libyaml's reader gives a byte offset only: the loader turns it into
 * line:column; the scanner's errors name where the construct began; a tab
 * in the indentation is named as such. */
TEST(syntax_errors_positions)
{
    struct bt_err e;
    struct bt_ydoc *d = load("a: 1\nb: \"x\x01y\"\n", &e);
    CHECK(d == NULL);
    CHECK(strstr(e.msg, "plan.yaml:2:") != NULL);
    CHECK(strstr(e.msg, "byte 0x01") != NULL);
    d = load("a: 1\nb: \xff\xfe\n", &e);
    CHECK(d == NULL);
    CHECK(strstr(e.msg, "plan.yaml:2:4:") != NULL);
    d = load("a: \"never closed\nb: 2\n", &e);
    CHECK(d == NULL);
    CHECK(strstr(e.msg, "that starts at 1:4") != NULL);
    d = load("a:\n\tb: 1\n", &e);
    CHECK(d == NULL);
    CHECK(strstr(e.msg, "a tab: YAML indents with spaces") != NULL);
    /* the same text from a file gives the same message, with the path */
    char path[] = "/tmp/bt-yaml-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("a: 1\nb: \xff\xfe\n", f);
    fclose(f);
    d = bt_yaml_load(path, &e);
    CHECK(d == NULL);
    CHECK(strstr(e.msg, ":2:4:") != NULL && strstr(e.msg, path) == e.msg);
    unlink(path);
}

/* Integers are decimal (a leading zero is not octal) or 0x hex. */
TEST(integers_decimal_or_hex)
{
    struct bt_err e;
    struct bt_ydoc *d = load("a: 010\nb: 0x1f\nc: 0x\nd: +7\ne: 1e3\nf: ' 5'\n", &e);
    REQUIRE(d);
    int64_t v;
    CHECK(bt_y_int(d, bt_y_get(d->root, "a"), "a", 0, 100, &v, &e) == 0 && v == 10);
    CHECK(bt_y_int(d, bt_y_get(d->root, "b"), "b", 0, 100, &v, &e) == 0 && v == 31);
    CHECK(bt_y_int(d, bt_y_get(d->root, "c"), "c", 0, 100, &v, &e) < 0);
    CHECK(strstr(e.msg, "'0x' is not an integer") != NULL);
    CHECK(bt_y_int(d, bt_y_get(d->root, "d"), "d", 0, 100, &v, &e) == 0 && v == 7);
    CHECK(bt_y_int(d, bt_y_get(d->root, "e"), "e", 0, 10000, &v, &e) < 0);
    CHECK(bt_y_int(d, bt_y_get(d->root, "f"), "f", 0, 100, &v, &e) < 0);
    bt_yaml_free(d);
}
