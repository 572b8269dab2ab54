/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live screen computed into a text grid (characters and an attribute
 * per cell), independent of ncurses so that the layout is unit-tested; the
 * front end only copies the grid to the terminal.
 *
 * Layout at 80x24 (more rows give more member rows, more columns a wider
 * state column and share bar):
 *   0  title: source, stream time, link state (LIVE, STALE, DISCONNECTED...)
 *   1  cluster totals
 *   2  sparkline of the cluster's packets per second
 *   3  column heads
 *   4  member rows (scrolling) ... rows-7
 *   rows-6  event pane title, rows-5 .. rows-2 the latest events
 *   rows-1  status line (prompt, replies, bad lines, key hints)
 */
#ifndef MON_SCREEN_H
#define MON_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mon_keys.h"
#include "mon_model.h"

#define MON_MIN_ROWS 24
#define MON_MIN_COLS 80
#define MON_EVENT_ROWS 4

enum mon_attr {
    MON_A_NORMAL,
    MON_A_TITLE,     /* title and column heads */
    MON_A_DOWN,      /* a member down, a lost connection */
    MON_A_OFF,       /* a member off its share; stale data; bad lines */
    MON_A_DIM,       /* figures of a stale or lost link */
    MON_A_GOOD,      /* link live */
    MON_A_BAR,       /* share bar: actual share */
    MON_A_BAR_EXP,   /* share bar: the expected share's cell */
    MON_A_N,
    MON_A_CURSOR = 0x80,   /* flag: the selected row (reverse video) */
};

struct mon_grid {
    int rows, cols;
    uint32_t *ch;    /* Unicode code points, rows * cols */
    uint8_t *attr;
};

/* rows x cols, blank. NULL on allocation failure. */
struct mon_grid *mon_grid_new(int rows, int cols);
/* Accepts NULL; returns NULL. */
struct mon_grid *mon_grid_free(struct mon_grid *g);
void mon_grid_clear(struct mon_grid *g);
/* Writes UTF-8 text at (row, col) with attr, clipped at the right edge; control
 * characters and code points that may be double-width become '?'. Returns
 * the cells written. */
int mon_grid_put(struct mon_grid *g, int row, int col, int attr, const char *utf8);
/* Row as UTF-8, trailing blanks removed, into buf (len bytes, caller's). */
char *mon_grid_line(const struct mon_grid *g, int row, char *buf, size_t len);

struct mon_screen_opts {
    bool unicode;          /* block characters for bars and the sparkline */
    const char *source;    /* "live /run/baton.sock", "replay stats.jsonl x4" */
    uint64_t retry_at_ns;  /* live, disconnected: when the next attempt is due (0: unknown) */
};

/* Member rows that fit on a screen of `rows` lines. */
int mon_screen_page(int rows);
/* Draws the whole screen into g (its size is the terminal's). Sets v->page
 * and keeps v's cursor and scroll inside the rows; otherwise reads m and v. */
void mon_screen_render(struct mon_grid *g, const struct mon_model *m, struct mon_view *v,
                       uint64_t now_ns, const struct mon_screen_opts *o);

#endif
