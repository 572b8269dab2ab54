/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "mon_api.h"

static struct mon_frame f;
static struct mon_reply r;
static char why[120];

static int parse(const char *l)
{
    return mon_line_parse(l, strlen(l), &f, &r, why, sizeof(why));
}

TEST(absent_is_not_zero)
{
    REQUIRE(parse("{\"schema\":1,\"t\":2,\"cluster\":{\"pps\":0},\"sgms\":[{\"id\":3,\"state\":\"up\",\"drops\":0,\"x\":1}]}") == MON_LINE_STATS);
    CHECK(f.pps.present);
    CHECK_EQ_INT(f.pps.v, 0);
    CHECK(!f.bps.present);
    CHECK(!f.seq.present);
    CHECK_EQ_INT(f.nmembers, 1);
    CHECK_EQ_INT(f.m[0].id, 3);
    CHECK(f.m[0].state == MON_ST_UP);
    CHECK(f.m[0].drops.present);
    CHECK(!f.m[0].cpu.present);
    CHECK(!f.m[0].weight.present);
}

TEST(null_is_absent)
{
    REQUIRE(parse("{\"schema\":1,\"t\":null,\"cluster\":{\"pps\":null},\"sgms\":[{\"id\":1,\"cpu\":null,\"state\":null}]}") == MON_LINE_STATS);
    CHECK(!f.t.present);
    CHECK(!f.pps.present);
    CHECK(!f.m[0].cpu.present);
    CHECK(f.m[0].state == MON_ST_ABSENT);
    CHECK_EQ_STR(mon_state_name(&f.m[0]), "-");
}

TEST(full_line)
{
    REQUIRE(parse("{\"schema\":1,\"t\":2.5,\"seq\":7,\"cluster\":{\"pps\":47253.0,\"bps\":2e8,\"conns\":1781,"
                  "\"cps\":3,\"sync_bps\":142336,\"members_up\":3,\"members_total\":4,\"policy_version\":2},"
                  "\"sgms\":[{\"id\":1,\"state\":\"up\",\"weight\":100,\"pps\":15590,\"bps\":67102720,\"conns\":589,"
                  "\"backup_conns\":490,\"cps\":1,\"sync_tx_pps\":92,\"sync_tx_bps\":47104,\"sync_rx_pps\":90,"
                  "\"sync_rx_bps\":46080,\"corrections_pps\":4,\"drops\":5,\"cpu\":37.5},"
                  "{\"id\":2,\"state\":\"down\"},{\"id\":64,\"state\":\"joining\"},{\"id\":9,\"state\":\"frozen\"}],"
                  "\"events\":[{\"t\":1.5,\"event\":\"sgm_down\",\"sgm\":2},{\"t\":2,\"event\":\"policy\",\"sgm\":0,\"version\":2}]}") == MON_LINE_STATS);
    CHECK_NEAR(f.t.v, 2.5, 1e-9);
    CHECK_EQ_INT(f.seq.v, 7);
    CHECK_EQ_INT(f.members_total.v, 4);
    CHECK_EQ_INT(f.policy_version.v, 2);
    CHECK_EQ_INT(f.nmembers, 4);
    CHECK_EQ_INT(f.m[0].sync_rx_bps.v, 46080);
    CHECK_EQ_INT(f.m[0].corrections_pps.v, 4);
    CHECK_NEAR(f.m[0].cpu.v, 37.5, 1e-9);
    CHECK(f.m[1].state == MON_ST_DOWN);
    CHECK(f.m[2].state == MON_ST_JOINING);
    CHECK(f.m[3].state == MON_ST_OTHER);
    CHECK_EQ_STR(mon_state_name(&f.m[3]), "frozen");
    CHECK_EQ_INT(f.nevents, 2);
    CHECK_EQ_STR(f.ev[0].name, "sgm_down");
    CHECK_EQ_INT(f.ev[0].sgm.v, 2);
    CHECK_EQ_INT(f.ev[1].version.v, 2);
    CHECK(!f.ev[0].weight.present);
}

TEST(bad_lines_rejected_with_reason)
{
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"", "not JSON"},
        {"not json", "not JSON: col "},
        {"{\"schema\":1", "not JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"t\":1}", "no schema"},
        {"{\"schema\":2}", "schema 2, this monitor reads 1"},
        {"{\"schema\":\"1\"}", "schema: not an integer"},
        {"{\"schema\":1,\"t\":\"2\"}", "t: not a number"},
        {"{\"schema\":1,\"t\":1e300}", "t: 1e+300 is not a time in 0..1e10 s"},
        {"{\"schema\":1,\"t\":-1}", "t: -1 is not a time in 0..1e10 s"},
        {"{\"schema\":1,\"events\":[{\"event\":\"x\",\"t\":2e10}]}", "events[0].t: 2e+10 is not a time"},
        {"{\"schema\":1,\"cluster\":[]}", "cluster: not an object"},
        {"{\"schema\":1,\"cluster\":{\"pps\":\"many\"}}", "cluster.pps: not a number"},
        {"{\"schema\":1,\"sgms\":{}}", "sgms: not an array"},
        {"{\"schema\":1,\"sgms\":[3]}", "sgms[0]: not an object"},
        {"{\"schema\":1,\"sgms\":[{\"state\":\"up\"}]}", "sgms[0].id: not an integer 1..64"},
        {"{\"schema\":1,\"sgms\":[{\"id\":65}]}", "sgms[0].id: not an integer 1..64"},
        {"{\"schema\":1,\"sgms\":[{\"id\":0}]}", "sgms[0].id: not an integer 1..64"},
        {"{\"schema\":1,\"sgms\":[{\"id\":1},{\"id\":1}]}", "sgms[1].id: member 1 listed twice"},
        {"{\"schema\":1,\"sgms\":[{\"id\":1,\"pps\":true}]}", "sgms[0].pps: not a number"},
        {"{\"schema\":1,\"sgms\":[{\"id\":1,\"state\":5}]}", "sgms[0].state: not a string"},
        {"{\"schema\":1,\"events\":{}}", "events: not an array"},
        {"{\"schema\":1,\"events\":[{\"t\":1}]}", "events[0].event: not a string"},
        {"{\"schema\":1,\"events\":[{\"event\":\"weight\",\"weight\":\"x\"}]}", "events[0].weight: not a number"},
        {"{\"id\":1,\"ok\":\"yes\"}", "reply: ok: not true or false"},
        {"{\"id\":-1,\"ok\":true}", "reply: id: not an integer >= 0"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int k = parse(bad[i].line);
        if (k != -EINVAL || strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
            BT_FAIL_AT("line %u '%s': got %d '%s', want -EINVAL '%s'", i, bad[i].line, k, why,
                       bad[i].why);
    }
}

TEST(partial_line_rejected)
{
    const char *l = "{\"schema\":1,\"t\":1,\"sgms\":[{\"id\":1,\"pps\":5}]}";
    for (size_t n = 0; n < strlen(l); n++)
        CHECK(mon_line_parse(l, n, &f, &r, why, sizeof(why)) == -EINVAL);
    CHECK(mon_line_parse(l, strlen(l), &f, &r, why, sizeof(why)) == MON_LINE_STATS);
}

TEST(replies)
{
    REQUIRE(parse("{\"id\":7,\"ok\":true}\n") == MON_LINE_REPLY);
    CHECK_EQ_INT(r.id, 7);
    CHECK(r.ok);
    REQUIRE(parse("{\"id\":8,\"ok\":false,\"error\":\"no such member\"}") == MON_LINE_REPLY);
    CHECK(!r.ok);
    CHECK_EQ_STR(r.error, "no such member");
    REQUIRE(parse("{\"id\":9,\"ok\":false}") == MON_LINE_REPLY);
    CHECK_EQ_STR(r.error, "(no reason given)");
}

TEST(many_events_counted)
{
    char line[8192];
    int n = snprintf(line, sizeof(line), "{\"schema\":1,\"events\":[");
    for (int i = 0; i < 40; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s{\"t\":%d,\"event\":\"weight\",\"sgm\":1,\"weight\":%d}",
                      i ? "," : "", i, i);
    snprintf(line + n, sizeof(line) - (size_t)n, "]}");
    REQUIRE(parse(line) == MON_LINE_STATS);
    CHECK_EQ_INT(f.nevents, MON_MAX_FRAME_EVENTS);
    CHECK_EQ_INT(f.events_dropped, 40 - MON_MAX_FRAME_EVENTS);
}

TEST(all_64_members)
{
    char line[16384];
    int n = snprintf(line, sizeof(line), "{\"schema\":1,\"sgms\":[");
    for (int i = 1; i <= 64; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s{\"id\":%d,\"pps\":%d}", i > 1 ? "," : "", i, i);
    snprintf(line + n, sizeof(line) - (size_t)n, "]}");
    REQUIRE(parse(line) == MON_LINE_STATS);
    CHECK_EQ_INT(f.nmembers, 64);
    CHECK_EQ_INT(f.m[63].pps.v, 64);
}
