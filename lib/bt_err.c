/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(struct bt_err *e, const char *fmt, va_list ap)
{
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int bt_err_set(struct bt_err *e, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return -EINVAL;
    va_start(ap, fmt);
    vset(e, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int bt_err_setr(struct bt_err *e, int r, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return r;
    va_start(ap, fmt);
    vset(e, fmt, ap);
    va_end(ap);
    return r;
}

void bt_err_prefix(struct bt_err *e, const char *prefix)
{
    char tmp[BT_ERR_MAX];

    if (!e || !prefix)
        return;
    snprintf(tmp, sizeof(tmp), "%s: %s", prefix, e->msg);
    memcpy(e->msg, tmp, sizeof(tmp));
}
