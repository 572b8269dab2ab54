/* SPDX-License-Identifier: BSD-3-Clause */
/* Control commands on strings (contract 3): answers, errors, and effects. */
#include <errno.h>

#include "bt_test.h"
#include "gw_api.h"

static char reply[1024];

static int cmd(struct gw_cluster *g, uint64_t t, const char *line)
{
    return gw_control(g, t, line, reply, sizeof(reply));
}

TEST(commands_and_answers)
{
    struct gw_config c;
    struct gw_member_stats ms;
    gw_config_default(&c);
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    REQUIRE(g);
    CHECK_EQ_INT(cmd(g, 1000, "{\"id\": 1, \"cmd\": \"fail\", \"sgm\": 2}"), 0);
    CHECK_EQ_STR(reply, "{\"id\":1,\"ok\":true}");
    gw_member_stats(g, 2, &ms);
    CHECK(!ms.alive);
    CHECK_EQ_INT(cmd(g, 2000, "{\"id\": 2, \"cmd\": \"fail\", \"sgm\": 2}"), -EALREADY);
    CHECK_EQ_STR(reply, "{\"id\":2,\"ok\":false,\"error\":\"fail: sgm 2 is already down\"}");
    CHECK_EQ_INT(cmd(g, 3000, "{\"id\": 3, \"cmd\": \"restore\", \"sgm\": 2}"), 0);
    CHECK_EQ_INT(cmd(g, 4000, "{\"id\": 4, \"cmd\": \"add\", \"weight\": 300}"), 0);
    CHECK_EQ_INT(gw_member_count(g), 5);
    gw_member_stats(g, 5, &ms);
    CHECK_EQ_INT(ms.weight, 300);
    CHECK_EQ_INT(cmd(g, 5000, "{\"id\": 5, \"cmd\": \"weight\", \"sgm\": 1, \"weight\": 0}"), 0);
    gw_member_stats(g, 1, &ms);
    CHECK_EQ_INT(ms.weight, 0);
    CHECK_EQ_INT(cmd(g, 6000, "{\"id\": 6, \"cmd\": \"policy\", \"policy\": {\"default\": \"drop\"}}"), 0);
    CHECK_EQ_STR(reply, "{\"id\":6,\"ok\":true,\"version\":2}");
    CHECK_EQ_INT(gw_policy_version(g), 2);
    /* unknown keys are ignored */
    CHECK_EQ_INT(cmd(g, 7000, "{\"id\": 7, \"cmd\": \"fail\", \"sgm\": 1, \"why\": \"test\"}"), 0);
    gw_cluster_free(g);
}

TEST(errors_are_answers)
{
    struct gw_config c;
    gw_config_default(&c);
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    static const struct {
        const char *line, *want;
    } bad[] = {
        {"not json", "{\"id\":null,\"ok\":false,\"error\":\"bad JSON at column"},
        {"[1]", "expected an object"},
        {"{\"cmd\": \"fail\", \"sgm\": 1}", "{\"id\":null,\"ok\":false,\"error\":\"\\\"id\\\" must be an integer"},
        {"{\"id\": \"x\", \"cmd\": \"fail\"}", "{\"id\":\"x\",\"ok\":false,\"error\":\"\\\"id\\\" must be an integer"},
        {"{\"id\": 9}", "{\"id\":9,\"ok\":false,\"error\":\"\\\"cmd\\\" must be one of"},
        {"{\"id\": 9, \"cmd\": \"explode\"}", "unknown cmd 'explode'"},
        {"{\"id\": 9, \"cmd\": \"fail\"}", "fail: needs \\\"sgm\\\""},
        {"{\"id\": 9, \"cmd\": \"fail\", \"sgm\": 0}", "\\\"sgm\\\" must be an integer 1..64"},
        {"{\"id\": 9, \"cmd\": \"fail\", \"sgm\": 9}", "fail: sgm 9 is not a member (1..4)"},
        {"{\"id\": 9, \"cmd\": \"restore\", \"sgm\": 1}", "restore: sgm 1 is already up"},
        {"{\"id\": 9, \"cmd\": \"add\", \"sgm\": 7}", "add: the next member is 5"},
        {"{\"id\": 9, \"cmd\": \"add\", \"sgm\": 2}", "add: sgm 2 is already a member"},
        {"{\"id\": 9, \"cmd\": \"weight\", \"sgm\": 1}", "weight: needs \\\"weight\\\" (0..512)"},
        {"{\"id\": 9, \"cmd\": \"weight\", \"sgm\": 1, \"weight\": 513}", "\\\"weight\\\" must be an integer 0..512"},
        {"{\"id\": 9, \"cmd\": \"policy\"}", "policy: needs \\\"policy\\\""},
        {"{\"id\": 9, \"cmd\": \"policy\", \"policy\": {\"rules\": [{\"action\": \"drop\", \"payload\": \"(\"}]}}",
         "policy.rules[0].payload: PCRE2"},
        {"{\"id\": 9, \"id\": 10, \"cmd\": \"fail\", \"sgm\": 1}", "bad JSON"},
        /* found by fuzz-gw_control: jansson's message on an escape of a
         * multibyte character quotes its first byte alone, json_string()
         * refused that, and the answer went out without its "error" */
        {"{\"id\": 5, \"cm\\\xcb\x94\xaf\xd6\x7f", "{\"id\":null,\"ok\":false,\"error\":\"bad JSON at column"},
            };
    REQUIRE(g);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(cmd(g, 1000 + i, bad[i].line) < 0);
        if (!strstr(reply, bad[i].want))
            BT_FAIL_AT("case %u: '%s' lacks '%s'", i, reply, bad[i].want);
    }
    CHECK_EQ_INT(gw_policy_version(g), 1);
    CHECK_EQ_INT(gw_member_count(g), 4);
    /* a tiny reply buffer truncates, never overflows */
    char small[8];
    CHECK(gw_control(g, 5000, "{\"id\": 1, \"cmd\": \"fail\", \"sgm\": 1}", small, sizeof(small)) == 0);
    CHECK_EQ_INT(strlen(small), 7);
    gw_cluster_free(g);
}
