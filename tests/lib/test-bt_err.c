/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "bt_err.h"

TEST(set_formats_and_returns_einval)
{
    struct bt_err e = {{0}};
    CHECK_EQ_INT(bt_err_set(&e, "x.yaml:%d:%d: bad", 3, 7), -EINVAL);
    CHECK_EQ_STR(e.msg, "x.yaml:3:7: bad");
    CHECK_EQ_INT(bt_err_setr(&e, -ENOENT, "gone"), -ENOENT);
    CHECK_EQ_STR(e.msg, "gone");
    bt_err_prefix(&e, "file.pcap");
    CHECK_EQ_STR(e.msg, "file.pcap: gone");
    CHECK_EQ_INT(bt_err_set(NULL, "ignored"), -EINVAL);
}

TEST(long_message_is_truncated_not_overflowed)
{
    struct bt_err e;
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    bt_err_set(&e, "%s", big);
    CHECK_EQ_INT(strlen(e.msg), BT_ERR_MAX - 1);
    bt_err_prefix(&e, "p");
    CHECK_EQ_INT(strlen(e.msg), BT_ERR_MAX - 1);
}
