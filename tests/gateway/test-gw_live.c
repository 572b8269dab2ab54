/* SPDX-License-Identifier: BSD-3-Clause */
/* The live driver (gateway/gw_live.c) without a network: what it refuses,
 * and how it says so. Traffic through it, in network namespaces it builds,
 * is test-live.sh's (root). */
#include <errno.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "gw_api.h"
#include "gw_live.h"

static struct gw_sim_opts O;

TEST(refusals_name_what_to_change)
{
    struct gw_live_result res;
    struct bt_err e = {""};

    gw_sim_opts_default(&O);
    O.out = "/tmp/bt-gwlive-never";
    CHECK(gw_live_run(&O, NULL, "vs", &res, NULL, &e) < 0);
    CHECK(strstr(e.msg, "needs --client-if, --server-if and --out") != NULL);
    CHECK(gw_live_run(&O, "veth7", "veth7", &res, NULL, &e) < 0);
    CHECK(strstr(e.msg, "--client-if and --server-if are both veth7") != NULL);
    /* an interface that is not there (or, without root, not ours to open):
     * named, with the option that gave it, before anything is written */
    CHECK(gw_live_run(&O, "bt-no-such-if0", "bt-no-such-if1", &res, NULL, &e) < 0);
    CHECK(strstr(e.msg, "--client-if bt-no-such-if0: cannot open") != NULL);
    CHECK(access(O.out, F_OK) < 0);
    O.out = NULL;
    CHECK(gw_live_run(&O, "a", "b", &res, NULL, &e) < 0);
    CHECK(strstr(e.msg, "needs --client-if, --server-if and --out") != NULL);
}
