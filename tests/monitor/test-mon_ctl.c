/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <jansson.h>
#include "bt_test.h"
#include "mon_api.h"

#define NS 1000000000ULL

TEST(encode_is_json_of_contract_3)
{
    struct mon_ctl c;
    char buf[256];
    uint64_t id;
    json_error_t je;

    mon_ctl_init(&c);
    int n = mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 7, 0}, 0, buf, sizeof(buf), &id);
    REQUIRE(n > 0);
    CHECK_EQ_STR(buf, "{\"id\":1,\"cmd\":\"fail\",\"sgm\":7}\n");
    CHECK_EQ_INT(id, 1);
    n = mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_WEIGHT, 3, 250}, 0, buf, sizeof(buf), &id);
    REQUIRE(n > 0);
    json_t *o = json_loads(buf, 0, &je);
    REQUIRE(o);
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "id")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(o, "cmd")), "weight");
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "sgm")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "weight")), 250);
    json_decref(o);
    CHECK(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_RESTORE, 7, 0}, 0, buf, sizeof(buf), NULL) > 0);
    CHECK_EQ_STR(buf, "{\"id\":3,\"cmd\":\"restore\",\"sgm\":7}\n");
    CHECK(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_ADD, 53, -1}, 0, buf, sizeof(buf), NULL) > 0);
    CHECK_EQ_STR(buf, "{\"id\":4,\"cmd\":\"add\",\"sgm\":53}\n");
    CHECK(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_ADD, 54, 100}, 0, buf, sizeof(buf), NULL) > 0);
    CHECK_EQ_STR(buf, "{\"id\":5,\"cmd\":\"add\",\"sgm\":54,\"weight\":100}\n");
}

TEST(encode_rejects)
{
    struct mon_ctl c;
    char buf[256];

    mon_ctl_init(&c);
    CHECK_EQ_INT(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 0, 0}, 0, buf, sizeof(buf), NULL), -EINVAL);
    CHECK_EQ_INT(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 65, 0}, 0, buf, sizeof(buf), NULL), -EINVAL);
    CHECK_EQ_INT(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_WEIGHT, 1, 513}, 0, buf, sizeof(buf), NULL), -EINVAL);
    CHECK_EQ_INT(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_WEIGHT, 1, -1}, 0, buf, sizeof(buf), NULL), -EINVAL);
    CHECK_EQ_INT(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 1, 0}, 0, buf, 10, NULL), -ENOSPC);
    for (int i = 0; i < MON_CTL_PENDING; i++)
        CHECK(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 1, 0}, 0, buf, sizeof(buf), NULL) > 0);
    CHECK_EQ_INT(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 1, 0}, 0, buf, sizeof(buf), NULL), -EBUSY);
    CHECK_EQ_INT(mon_ctl_drop_all(&c), MON_CTL_PENDING);
    CHECK(mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 1, 0}, 0, buf, sizeof(buf), NULL) > 0);
}

TEST(replies_matched)
{
    struct mon_ctl c;
    char buf[256], msg[160];
    uint64_t a, b, d;

    mon_ctl_init(&c);
    mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_FAIL, 7, 0}, 0, buf, sizeof(buf), &a);
    mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_WEIGHT, 3, 200}, 0, buf, sizeof(buf), &b);
    mon_ctl_encode(&c, &(struct mon_cmd){MON_CMD_RESTORE, 9, 0}, NS, buf, sizeof(buf), &d);
    struct mon_reply r = {b, false, "no such member"};
    CHECK_EQ_INT(mon_ctl_reply(&c, &r, msg, sizeof(msg)), 0);
    CHECK_EQ_STR(msg, "weight SGM 3 200: refused: no such member");
    CHECK_EQ_INT(mon_ctl_reply(&c, &r, msg, sizeof(msg)), -ENOENT);   /* answered already */
    r = (struct mon_reply){a, true, ""};
    CHECK_EQ_INT(mon_ctl_reply(&c, &r, msg, sizeof(msg)), 0);
    CHECK_EQ_STR(msg, "fail SGM 7: ok");
    /* the restore gets no reply */
    CHECK_EQ_INT(mon_ctl_expire(&c, 5 * NS, 5 * NS, msg, sizeof(msg)), 0);
    CHECK_EQ_INT(mon_ctl_expire(&c, 6 * NS + 1, 5 * NS, msg, sizeof(msg)), 1);
    CHECK_EQ_STR(msg, "restore SGM 9: no reply");
    CHECK_EQ_INT(mon_ctl_expire(&c, 100 * NS, 5 * NS, msg, sizeof(msg)), 0);
    mon_ctl_forget(&c, d);
}
