/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cuts a byte stream (a socket read in pieces of any size) into lines.
 * A line longer than the limit is dropped, not truncated, and reported so
 * the caller counts it as malformed; what is left when the stream ends is a
 * partial line (also reported). No I/O: the driver pushes what it read.
 */
#ifndef MON_LINES_H
#define MON_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mon_lines {
    char *buf;
    size_t start, len, cap;  /* unconsumed bytes are buf[start .. start+len) */
    size_t max;              /* longest accepted line, without '\n' */
    bool skipping;           /* inside an over-long line: drop up to its '\n' */
    bool skip_reported;
};

/* max: longest line accepted (bytes). 0 or -ENOMEM. */
int mon_lines_init(struct mon_lines *lb, size_t max);
void mon_lines_fini(struct mon_lines *lb);
/* Appends n bytes (copied). 0 or -ENOMEM (then nothing was appended). */
int mon_lines_push(struct mon_lines *lb, const char *data, size_t n);
/* The next complete line: 1 with *line (inside lb, valid until the next
 * push/reset) and *len (without the '\n'); 0 when none is complete yet;
 * -E2BIG once for each line longer than max (dropped). */
int mon_lines_next(struct mon_lines *lb, const char **line, size_t *len);
/* Forgets everything (the stream ended or was replaced). Returns true when a
 * partial line (bytes without their '\n') was thrown away. */
bool mon_lines_reset(struct mon_lines *lb);

#endif
