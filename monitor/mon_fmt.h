/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Numbers for a narrow screen: K/M/G (powers of 1000) squeezed into a fixed
 * width, "-" for a figure the stream did not give (absent is never zero),
 * and a growable text buffer the batch frames are written into (the core
 * writes no files; the driver prints the buffer).
 */
#ifndef MON_FMT_H
#define MON_FMT_H

#include <stdbool.h>
#include <stddef.h>

/* A figure that may be missing from the stream. */
struct mon_val {
    double v;
    bool present;
};

#define MON_ABSENT ((struct mon_val){0, false})
#define MON_VAL(x) ((struct mon_val){(x), true})

/* v in at most `width` characters (2..15) with a K/M/G/T suffix when needed,
 * the most decimals that fit: 999 -> "999", 1500 -> "1.5K" (width 4),
 * 41936 -> "42K" (width 4) or "41.9K" (width 5); "-" when absent; a value
 * too big for the width gives "+" repeated. Writes into buf (>= width + 1
 * bytes, caller's) and returns it. */
char *mon_fmt_num(struct mon_val v, unsigned width, char *buf);
/* The same with the widest natural form ("1.50K", "41.9K", "185M", "2.50G",
 * "0.2"): three significant digits. buf >= 16 bytes. */
char *mon_fmt_si(struct mon_val v, char *buf, unsigned len);
/* Seconds on the stream's clock: "12.500s" below 1e9, else the UTC time of
 * day "HH:MM:SS.mmm" (a live gateway stamps wall-clock seconds); "-" absent. */
char *mon_fmt_time(struct mon_val t, char *buf, unsigned len);

/* Growable text; the owner frees p with mon_buf_fini. On allocation failure
 * the buffer keeps what it had and `oom` is set (output is truncated, never
 * corrupt). */
struct mon_buf {
    char *p;
    size_t len, cap;
    bool oom;
};

void mon_buf_printf(struct mon_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mon_buf_reset(struct mon_buf *b);
void mon_buf_fini(struct mon_buf *b);

#endif
