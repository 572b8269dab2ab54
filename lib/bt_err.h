/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Error reports for bad input. Library code never logs: a loader that rejects
 * its input fills a struct bt_err with "file:line:col: problem" (or
 * "file: offset N: problem") and returns -EINVAL (or another -errno). The
 * program prints err.msg once and exits 2.
 */
#ifndef BT_ERR_H
#define BT_ERR_H

#include <stddef.h>

#define BT_ERR_MAX 512

struct bt_err {
    char msg[BT_ERR_MAX];
};

/* printf-style; overwrites any previous message. Accepts NULL (then does nothing).
 * Returns -EINVAL so callers can write: return bt_err_set(e, "..."); */
int bt_err_set(struct bt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with an explicit -errno to return. */
int bt_err_setr(struct bt_err *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the current message with "prefix: " (e.g. a file name). */
void bt_err_prefix(struct bt_err *e, const char *prefix);

#endif
