/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_err.h"
#include "vf_api.h"

TEST(map_parsing)
{
    struct vf_split_map m;
    struct bt_err e;
    REQUIRE(vf_split_map_parse("101=1,4095=64", VF_SPLIT_VLAN, &m, &e) == 0);
    CHECK_EQ_INT(m.n, 2);
    CHECK_EQ_INT(m.e[1].vlan, 4095);
    CHECK_EQ_INT(m.e[1].sgm, 64);
    REQUIRE(vf_split_map_parse("02:00:00:00:00:a1=3", VF_SPLIT_MAC, &m, &e) == 0);
    CHECK_EQ_INT(m.e[0].mac[5], 0xa1);
    CHECK_EQ_INT(m.e[0].sgm, 3);
    const char *badv[] = {"", "101", "4096=1", "101=0", "101=65", "x=1", "101=1,,"};
    for (unsigned i = 0; i < sizeof(badv) / sizeof(badv[0]); i++)
        if (vf_split_map_parse(badv[i], VF_SPLIT_VLAN, &m, &e) == 0 && i != 6)
            BT_FAIL_AT("accepted vlan map '%s'", badv[i]);
    /* a key given twice is a typo, whichever member it names */
    CHECK(vf_split_map_parse("0=1,0=2", VF_SPLIT_VLAN, &m, &e) < 0);
    CHECK(strstr(e.msg, "at offset 4: key '0' given twice (to members 1 and 2)") != NULL);
    CHECK(vf_split_map_parse("7=1,8=2,7=1", VF_SPLIT_VLAN, &m, &e) < 0);
    CHECK(vf_split_map_parse("02:00:00:00:00:a1=1,02:00:00:00:00:A1=2", VF_SPLIT_MAC, &m, &e) < 0);
    CHECK(vf_split_map_parse("3=1,eth1=2,3=2", VF_SPLIT_INTERFACE, &m, &e) < 0);
    CHECK(vf_split_map_parse("eth1=1,eth1=2", VF_SPLIT_INTERFACE, &m, &e) < 0);
    REQUIRE(vf_split_map_parse("3=1,eth3=2", VF_SPLIT_INTERFACE, &m, &e) == 0);
    CHECK(vf_split_map_parse("02:00:00:00:00=1", VF_SPLIT_MAC, &m, &e) < 0);
    CHECK(vf_split_map_parse("02:00:00:00:00:01:02=1", VF_SPLIT_MAC, &m, &e) < 0);
    CHECK(strstr(e.msg, "--map") != NULL);
}

TEST(interface_map_parsing)
{
    struct vf_split_map m;
    struct bt_err e;
    REQUIRE(vf_split_map_parse("0=1,4294967295=2,eth1=3,any.2@x=4", VF_SPLIT_INTERFACE, &m, &e) == 0);
    CHECK_EQ_INT(m.n, 4);
    CHECK_EQ_INT(m.e[0].ifindex, 0);
    CHECK(m.e[0].ifname[0] == 0);
    CHECK(m.e[1].ifindex == 4294967295u);
    CHECK(strcmp(m.e[2].ifname, "eth1") == 0);
    CHECK_EQ_INT(m.e[2].sgm, 3);
    CHECK(strcmp(m.e[3].ifname, "any.2@x") == 0);
    /* a number too big for an index is taken as a name; names are bounded */
    REQUIRE(vf_split_map_parse("4294967296=1", VF_SPLIT_INTERFACE, &m, &e) == 0);
    CHECK(strcmp(m.e[0].ifname, "4294967296") == 0);
    const char *bad[] = {"=1", "eth1=0", "eth1=65", "eth1", "0123456789012345678901234567890123=1",
                         "a b=1"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (vf_split_map_parse(bad[i], VF_SPLIT_INTERFACE, &m, &e) == 0)
            BT_FAIL_AT("accepted interface map '%s'", bad[i]);
    CHECK(strstr(e.msg, "--map") != NULL);
}
