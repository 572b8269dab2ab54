/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mon_lines_init(struct mon_lines *lb, size_t max)
{
    memset(lb, 0, sizeof(*lb));
    lb->max = max;
    lb->cap = 4096;
    lb->buf = malloc(lb->cap);
    return lb->buf ? 0 : -ENOMEM;
}

void mon_lines_fini(struct mon_lines *lb)
{
    free(lb->buf);
    memset(lb, 0, sizeof(*lb));
}

int mon_lines_push(struct mon_lines *lb, const char *data, size_t n)
{
    if (lb->start && lb->start + lb->len + n > lb->cap) {
        memmove(lb->buf, lb->buf + lb->start, lb->len);
        lb->start = 0;
    }
    if (lb->len + n > lb->cap) {
        size_t cap = lb->cap;
        while (cap < lb->len + n)
            cap *= 2;
        char *p = realloc(lb->buf, cap);
        if (!p)
            return -ENOMEM;
        lb->buf = p;
        lb->cap = cap;
    }
    memcpy(lb->buf + lb->start + lb->len, data, n);
    lb->len += n;
    return 0;
}

int mon_lines_next(struct mon_lines *lb, const char **line, size_t *len)
{
    for (;;) {
        char *p = lb->buf + lb->start;
        char *nl = lb->len ? memchr(p, '\n', lb->len) : NULL;
        size_t n = nl ? (size_t)(nl - p) : lb->len;

        if (lb->skipping) {
            /* drop the rest of an over-long line; report it once */
            bool report = !lb->skip_reported;
            lb->skip_reported = true;
            if (nl) {
                lb->start += n + 1;
                lb->len -= n + 1;
                lb->skipping = false;
            } else {
                lb->start = lb->len = 0;
            }
            if (report)
                return -E2BIG;
            if (!nl)
                return 0;
            continue;
        }
        if (n > lb->max) {
            lb->skipping = true;
            lb->skip_reported = false;
            continue;
        }
        if (!nl)
            return 0;
        *line = p;
        *len = n;
        lb->start += n + 1;
        lb->len -= n + 1;
        if (!lb->len)
            lb->start = 0;
        return 1;
    }
}

bool mon_lines_reset(struct mon_lines *lb)
{
    bool partial = lb->len > 0 && !lb->skipping;

    lb->start = lb->len = 0;
    lb->skipping = lb->skip_reported = false;
    return partial;
}
