/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_tui.h"

#include <curses.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

struct mon_tui {
    SCREEN *scr;
    bool unicode, colour;
    attr_t attrs[MON_A_N];
};

enum { PAIR_RED = 1, PAIR_YELLOW, PAIR_CYAN, PAIR_GREEN, PAIR_MAGENTA };

struct mon_tui *mon_tui_open(bool ascii)
{
    struct mon_tui *t;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return NULL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->scr = newterm(NULL, stdout, stdin);
    if (!t->scr) {
        free(t);
        return NULL;
    }
    set_term(t->scr);
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    leaveok(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);   /* a lone Esc (cancel) must not wait a second */
    t->unicode = !ascii && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    t->colour = has_colors();
    t->attrs[MON_A_NORMAL] = A_NORMAL;
    t->attrs[MON_A_TITLE] = A_BOLD;
    t->attrs[MON_A_DOWN] = A_BOLD;
    t->attrs[MON_A_OFF] = A_UNDERLINE;
    t->attrs[MON_A_DIM] = A_DIM;
    t->attrs[MON_A_GOOD] = A_NORMAL;
    t->attrs[MON_A_BAR] = A_NORMAL;
    t->attrs[MON_A_BAR_EXP] = A_BOLD;
    if (t->colour) {
        start_color();
        use_default_colors();
        init_pair(PAIR_RED, COLOR_RED, -1);
        init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
        init_pair(PAIR_CYAN, COLOR_CYAN, -1);
        init_pair(PAIR_GREEN, COLOR_GREEN, -1);
        init_pair(PAIR_MAGENTA, COLOR_MAGENTA, -1);
        t->attrs[MON_A_TITLE] = A_BOLD | COLOR_PAIR(PAIR_CYAN);
        t->attrs[MON_A_DOWN] = A_BOLD | COLOR_PAIR(PAIR_RED);
        t->attrs[MON_A_OFF] = A_BOLD | COLOR_PAIR(PAIR_YELLOW);
        t->attrs[MON_A_GOOD] = COLOR_PAIR(PAIR_GREEN);
        t->attrs[MON_A_BAR] = COLOR_PAIR(PAIR_CYAN);
        t->attrs[MON_A_BAR_EXP] = A_BOLD | COLOR_PAIR(PAIR_MAGENTA);
    }
    return t;
}

struct mon_tui *mon_tui_close(struct mon_tui *t)
{
    if (!t)
        return NULL;
    if (t->scr) {
        set_term(t->scr);
        curs_set(1);
        endwin();
        delscreen(t->scr);
    }
    free(t);
    return NULL;
}

bool mon_tui_unicode(const struct mon_tui *t)
{
    return t->unicode;
}

void mon_tui_size(const struct mon_tui *t, int *rows, int *cols)
{
    (void)t;
    getmaxyx(stdscr, *rows, *cols);
}

void mon_tui_resize(struct mon_tui *t)
{
    struct winsize ws;

    (void)t;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resize_term(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);   /* the terminal's contents are unknown after a resize */
}

int mon_tui_key(struct mon_tui *t)
{
    int c = getch();

    (void)t;
    switch (c) {
    case ERR: return -1;
    case KEY_UP: return MON_KEY_UP;
    case KEY_DOWN: return MON_KEY_DOWN;
    case KEY_LEFT: return MON_KEY_LEFT;
    case KEY_RIGHT: return MON_KEY_RIGHT;
    case KEY_PPAGE: return MON_KEY_PGUP;
    case KEY_NPAGE: return MON_KEY_PGDN;
    case KEY_HOME: return MON_KEY_HOME;
    case KEY_END: return MON_KEY_END;
    case KEY_BACKSPACE: return MON_KEY_BACKSPACE;
    case KEY_ENTER: return MON_KEY_ENTER;
    case '\r': return MON_KEY_ENTER;
    case KEY_RESIZE: return -1;   /* handled through SIGWINCH by the driver */
    default: return c >= 0 && c < 256 ? c : -1;
    }
}

void mon_tui_draw(struct mon_tui *t, const struct mon_grid *g)
{
    int rows, cols;
    wchar_t run[512];

    getmaxyx(stdscr, rows, cols);
    erase();
    for (int r = 0; r < rows && r < g->rows; r++) {
        int c = 0, w = cols < g->cols ? cols : g->cols;
        /* the bottom-right cell would scroll some terminals: leave it */
        if (r == rows - 1)
            w--;
        while (c < w) {
            size_t i = (size_t)r * (size_t)g->cols + (size_t)c;
            uint8_t a = g->attr[i];
            int n = 0, start = c;
            while (c < w && g->attr[(size_t)r * (size_t)g->cols + (size_t)c] == a && n < 511) {
                uint32_t ch = g->ch[(size_t)r * (size_t)g->cols + (size_t)c];
                run[n++] = (wchar_t)(t->unicode || ch < 0x80 ? ch : '?');
                c++;
            }
            run[n] = L'\0';
            attr_t at = t->attrs[(a & 0x7f) < MON_A_N ? (a & 0x7f) : 0];
            if (a & MON_A_CURSOR)
                at |= A_REVERSE;
            attrset(at);
            mvaddnwstr(r, start, run, n);
        }
    }
    attrset(A_NORMAL);
    refresh();
}
