/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "mon_api.h"

static struct mon_model m;

static void feed(const char *l)
{
    mon_model_feed(&m, 1, l, strlen(l), NULL);
}

TEST(frame_text)
{
    struct mon_buf b = {0};
    uint64_t seen = 0;

    mon_model_init(&m, MON_LINK_REPLAY, 0);
    feed("{\"schema\":1,\"t\":2,\"seq\":1,\"cluster\":{\"pps\":30000,\"members_up\":1,\"members_total\":2},"
         "\"sgms\":[{\"id\":2,\"state\":\"down\",\"weight\":60,\"pps\":0,\"drops\":12},"
         "{\"id\":1,\"state\":\"up\",\"weight\":280,\"pps\":24000,\"conns\":1400,\"backup_conns\":0,\"cpu\":71.5}],"
         "\"events\":[{\"t\":1.5,\"event\":\"sgm_down\",\"sgm\":2}]}");
    feed("junk");
    mon_batch_frame(&m, MON_SORT_ID, &seen, &b);
    CHECK_EQ_STR(b.p,
        "baton-monitor  t 2.000s  seq 1  members 1/2 up  policy v-  replay  1 bad line (last: line 2: not JSON: col 4: invalid token near 'junk')\n"
        "cluster: 30.0K pps  - Gbps  - conns  - cps  sync - Mbps\n"
        "  SGM STATE       W  EXP%  ACT%      PPS   Mbps  CONNS/BACKUP     CPS  SYNC-TX pps/Mbps  SYNC-RX pps/Mbps CORR/s DROPS/s  CPU%\n"
        "    1 up        280 100.0 100.0    24.0K      -  1.40K/0            -        -/-               -/-             -       -  71.5\n"
        "!   2 down       60   0.0   0.0        0      -      -/-            -        -/-               -/-             -      12     -\n"
        "event 1.500s sgm_down SGM 2\n");
    CHECK_EQ_INT(seen, 1);
    /* the next frame does not repeat the event; down members first by state */
    mon_buf_reset(&b);
    mon_batch_frame(&m, MON_SORT_STATE, &seen, &b);
    CHECK(strstr(b.p, "event") == NULL);
    CHECK(strstr(b.p, "!   2 down") < strstr(b.p, "    1 up"));
    mon_buf_fini(&b);
}

TEST(no_data)
{
    struct mon_buf b = {0};
    uint64_t seen = 0;

    mon_model_init(&m, MON_LINK_CONNECTING, 0);
    mon_batch_frame(&m, MON_SORT_ID, &seen, &b);
    CHECK_EQ_STR(b.p, "baton-monitor  t -  seq -  members -/- up  policy v-  connecting\nno stats line yet\n");
    mon_buf_fini(&b);
}

TEST(link_names)
{
    CHECK_EQ_STR(mon_link_name(MON_LINK_DOWN), "disconnected");
    CHECK_EQ_STR(mon_link_name(MON_LINK_STALE), "stale");
    CHECK_EQ_STR(mon_link_name(MON_LINK_ENDED), "replay ended");
}
