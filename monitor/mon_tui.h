/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ncursesw front end: copies a mon_grid to the terminal (ncurses sends
 * only what changed), reads keys, follows the terminal's size. Part of the
 * binary, not of monitor_core: it owns the terminal.
 */
#ifndef MON_TUI_H
#define MON_TUI_H

#include <stdbool.h>

#include "mon_screen.h"

struct mon_tui;

/* Takes the terminal (stdin/stdout must be one): alternate screen, no echo,
 * keys one at a time, no cursor. ascii: never use block characters. NULL
 * when the terminal cannot be set up. */
struct mon_tui *mon_tui_open(bool ascii);
/* Gives the terminal back as it was. Accepts NULL; returns NULL. Safe to
 * call twice (the atexit path). */
struct mon_tui *mon_tui_close(struct mon_tui *t);
/* Whether the screen shows Unicode block characters (UTF-8 locale). */
bool mon_tui_unicode(const struct mon_tui *t);
/* The terminal's size now (after a SIGWINCH, call mon_tui_resize first). */
void mon_tui_size(const struct mon_tui *t, int *rows, int *cols);
/* Re-reads the window size from the terminal and resizes ncurses' screen. */
void mon_tui_resize(struct mon_tui *t);
/* The next key (ASCII or enum mon_key), or -1 when none is waiting. */
int mon_tui_key(struct mon_tui *t);
void mon_tui_draw(struct mon_tui *t, const struct mon_grid *g);

#endif
