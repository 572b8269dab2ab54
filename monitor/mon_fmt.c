/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_fmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const suffix[] = {"", "K", "M", "G", "T"};

char *mon_fmt_num(struct mon_val v, unsigned width, char *buf)
{
    char tmp[64];
    double x;

    if (width < 2)
        width = 2;
    if (width > 15)
        width = 15;
    if (!v.present || isnan(v.v)) {
        snprintf(buf, width + 1, "-");
        return buf;
    }
    for (unsigned k = 0; k < sizeof(suffix) / sizeof(suffix[0]); k++) {
        x = v.v / pow(1000, k);
        /* the next suffix when this one would print 1000 or more */
        if (fabs(x) >= 999.5 && k + 1 < sizeof(suffix) / sizeof(suffix[0]))
            continue;
        bool integer = k == 0 && x == floor(x);
        /* three significant digits at most: 1.23K, 12.3K, 123K */
        int dmax = integer ? 0 : fabs(x) < 9.995 ? 2 : fabs(x) < 99.95 ? 1 : 0;
        for (int d = dmax; d >= 0; d--) {
            int n = snprintf(tmp, sizeof(tmp), "%.*f%s", d, x, suffix[k]);
            if (n > 0 && (unsigned)n <= width) {
                memcpy(buf, tmp, (size_t)n + 1);
                return buf;
            }
        }
        break;
    }
    memset(buf, '+', width);
    buf[width] = '\0';
    return buf;
}

char *mon_fmt_si(struct mon_val v, char *buf, unsigned len)
{
    double x = v.v;
    int k = 0;

    if (!v.present || isnan(v.v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    while (fabs(x) >= 999.5 && k < 4) {
        x /= 1000;
        k++;
    }
    int n = k == 0 ? snprintf(buf, len, x == floor(x) ? "%.0f" : "%.1f", x)
                   : snprintf(buf, len, "%.*f%s", fabs(x) < 9.995 ? 2 : fabs(x) < 99.95 ? 1 : 0, x,
                              suffix[k]);
    /* past the largest suffix the digits would be cut off into a number
     * orders of magnitude off (found in review): an exponent, else '+' */
    if (n < 0 || (unsigned)n >= len) {
        n = snprintf(buf, len, "%.3g", v.v);
        if ((n < 0 || (unsigned)n >= len) && len > 1) {
            memset(buf, '+', len - 1);
            buf[len - 1] = '\0';
        }
    }
    return buf;
}

char *mon_fmt_time(struct mon_val t, char *buf, unsigned len)
{
    if (!t.present || isnan(t.v)) {
        snprintf(buf, len, "-");
    } else if (t.v < 1e9) {
        snprintf(buf, len, "%.3fs", t.v);
    } else {
        double day = fmod(t.v, 86400.0);
        unsigned ms = (unsigned)(day * 1000 + 0.5) % 86400000u;
        snprintf(buf, len, "%02u:%02u:%02u.%03u", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                 ms % 1000);
    }
    return buf;
}

void mon_buf_printf(struct mon_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            if (b->p)
                b->p[b->len] = '\0';
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

void mon_buf_reset(struct mon_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->p)
        b->p[0] = '\0';
}

void mon_buf_fini(struct mon_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
