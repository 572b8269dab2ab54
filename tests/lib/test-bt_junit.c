/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_junit.h"

TEST(report_is_well_formed_and_counts_right)
{
    char path[] = "/tmp/bt-test-junit-XXXXXX";
    int fd = mkstemp(path);
    struct bt_err e;
    REQUIRE(fd >= 0);
    close(fd);
    struct bt_junit *j = bt_junit_new();
    REQUIRE(j);
    CHECK(bt_junit_case(j, NULL, "implicit suite", 0.1, NULL) == 0);
    CHECK(bt_junit_suite(j, "plan <quick> & \"dirty\"", "plans/q.yaml") == 0);
    CHECK(bt_junit_case(j, "plan.q", "affinity", 0.5, NULL) == 0);
    CHECK(bt_junit_case(j, "plan.q", "failover", 1.25,
                        "expected survived == affected (12)\nsaw survived 11: 1 flow reset\x01") == 0);
    CHECK(bt_junit_skip(j, "plan.q", "balance", "fewer than 1000 flows per member") == 0);
    /* the second suite's time given (a plan's run), the first's summed */
    CHECK(bt_junit_suite_time(j, 7.5) == 0);
    CHECK(bt_junit_suite_time(j, -1) == -EINVAL);
    CHECK_EQ_INT(bt_junit_failures(j), 1);
    REQUIRE(bt_junit_write(j, path, &e) == 0);
    bt_junit_free(j);

    /* an independent XML parser agrees on structure and counts */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c \"import xml.etree.ElementTree as E,sys;r=E.parse(sys.argv[1]).getroot();"
             "s=r.findall('testsuite');"
             "assert r.get('tests')=='4' and r.get('failures')=='1' and r.get('skipped')=='1';"
             "assert len(s)==2 and s[1].get('name')=='plan <quick> & \\\"dirty\\\"';"
             "assert s[0].get('time')=='0.100' and s[1].get('time')=='7.500';"
             "f=s[1].find('testcase/failure');"
             "assert f.get('message')=='expected survived == affected (12)';"
             "assert 'saw survived 11' in f.text\" %s",
             path);
    if (access("/usr/bin/python3", X_OK) != 0)
        SKIP("no /usr/bin/python3");
    CHECK_EQ_INT(system(cmd), 0);
    unlink(path);
    CHECK(bt_junit_free(NULL) == NULL);
}

TEST(unwritable_path_is_an_error)
{
    struct bt_err e;
    struct bt_junit *j = bt_junit_new();
    CHECK(bt_junit_write(j, "/nonexistent-dir/x.xml", &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent-dir/x.xml") != NULL);
    bt_junit_free(j);
}
