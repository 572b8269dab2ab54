/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_screen.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ULL

struct mon_grid *mon_grid_new(int rows, int cols)
{
    struct mon_grid *g;

    if (rows < 1 || cols < 1 || rows > 2000 || cols > 2000)
        return NULL;
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->rows = rows;
    g->cols = cols;
    g->ch = malloc(sizeof(*g->ch) * (size_t)rows * (size_t)cols);
    g->attr = malloc((size_t)rows * (size_t)cols);
    if (!g->ch || !g->attr)
        return mon_grid_free(g);
    mon_grid_clear(g);
    return g;
}

struct mon_grid *mon_grid_free(struct mon_grid *g)
{
    if (g) {
        free(g->ch);
        free(g->attr);
        free(g);
    }
    return NULL;
}

void mon_grid_clear(struct mon_grid *g)
{
    for (int i = 0; i < g->rows * g->cols; i++)
        g->ch[i] = ' ';
    memset(g->attr, MON_A_NORMAL, (size_t)g->rows * (size_t)g->cols);
}

/* One code point from UTF-8; a malformed sequence yields '?' and skips a byte. */
static uint32_t decode(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c;
    int n;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        c = s[0] & 0x1f;
        n = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        c = s[0] & 0x0f;
        n = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        c = s[0] & 0x07;
        n = 3;
    } else {
        *p = s + 1;
        return '?';
    }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + 1;
            return '?';
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    return c;
}

/* Single-width characters this screen may show: printable Latin, arrows,
 * box drawing and block elements. Anything else (control characters from
 * the stream, wide CJK, combining marks) would break the columns. */
static bool single_width(uint32_t c)
{
    return (c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c < 0x300) ||
           (c >= 0x2190 && c < 0x2200) || (c >= 0x2500 && c < 0x25a0);
}

int mon_grid_put(struct mon_grid *g, int row, int col, int attr, const char *utf8)
{
    const unsigned char *p = (const unsigned char *)utf8;
    int n = 0;

    if (row < 0 || row >= g->rows || col < 0)
        return 0;
    while (*p && col < g->cols) {
        uint32_t c = decode(&p);
        size_t i = (size_t)row * (size_t)g->cols + (size_t)col;
        g->ch[i] = single_width(c) ? c : '?';
        g->attr[i] = (uint8_t)attr;
        col++;
        n++;
    }
    return n;
}

static size_t encode(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    o[0] = (char)(0xe0 | c >> 12);
    o[1] = (char)(0x80 | (c >> 6 & 0x3f));
    o[2] = (char)(0x80 | (c & 0x3f));
    return 3;
}

char *mon_grid_line(const struct mon_grid *g, int row, char *buf, size_t len)
{
    size_t n = 0, keep = 0;

    buf[0] = '\0';
    if (row < 0 || row >= g->rows || len < 4)
        return buf;
    for (int c = 0; c < g->cols && n + 4 < len; c++) {
        uint32_t ch = g->ch[(size_t)row * (size_t)g->cols + (size_t)c];
        n += encode(ch, buf + n);
        if (ch != ' ')
            keep = n;
    }
    buf[keep] = '\0';
    return buf;
}

static int __attribute__((format(printf, 5, 6)))
putf(struct mon_grid *g, int row, int col, int attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return mon_grid_put(g, row, col, attr, buf);
}

static void row_attr(struct mon_grid *g, int row, int attr)
{
    memset(g->attr + (size_t)row * (size_t)g->cols, attr, (size_t)g->cols);
}

/* A cell of width w (padded, clipped); returns the next column. */
static int cell(struct mon_grid *g, int row, int col, int attr, int w, bool right, const char *s)
{
    char buf[64];

    snprintf(buf, sizeof(buf), right ? "%*.*s" : "%-*.*s", w, w, s);
    mon_grid_put(g, row, col, attr, buf);
    return col + w + 1;
}

/* "1.4K/300 ": a pair of 4-wide figures in 9 cells. */
static int pair(struct mon_grid *g, int row, int col, int attr, struct mon_val a, struct mon_val b)
{
    char x[16], y[16], buf[32];

    snprintf(buf, sizeof(buf), "%4s/%-4s", mon_fmt_num(a, 4, x), mon_fmt_num(b, 4, y));
    mon_grid_put(g, row, col, attr, buf);
    return col + 10;
}

static struct mon_val scaled(struct mon_val v, double div)
{
    return v.present ? MON_VAL(v.v / div) : v;
}

static void title(struct mon_grid *g, const struct mon_model *m, const struct mon_view *v,
                  uint64_t now_ns, const struct mon_screen_opts *o)
{
    char right[160], t[32], seq[16], link[64];
    int attr = MON_A_GOOD;
    double ago = m->last_stats_ns && now_ns > m->last_stats_ns
                     ? (double)(now_ns - m->last_stats_ns) / NS : 0;
    double retry = o->retry_at_ns > now_ns ? (double)(o->retry_at_ns - now_ns) / NS : 0;

    switch (m->link) {
    case MON_LINK_CONNECTING:
        snprintf(link, sizeof(link), retry > 0 ? "CONNECTING (retry in %.1fs)" : "CONNECTING",
                 retry);
        attr = MON_A_OFF;
        break;
    case MON_LINK_LIVE:
        snprintf(link, sizeof(link), "LIVE");
        break;
    case MON_LINK_STALE:
        snprintf(link, sizeof(link), "STALE %.0fs", ago);
        attr = MON_A_OFF;
        break;
    case MON_LINK_DOWN:
        snprintf(link, sizeof(link), retry > 0 ? "DISCONNECTED (retry in %.1fs)" : "DISCONNECTED",
                 retry);
        attr = MON_A_DOWN;
        break;
    case MON_LINK_REPLAY:
        snprintf(link, sizeof(link), "REPLAY");
        break;
    case MON_LINK_ENDED:
        snprintf(link, sizeof(link), "REPLAY ENDED");
        attr = MON_A_OFF;
        break;
    }
    /* the right part first (state, then time); the source gets what is left */
    row_attr(g, 0, MON_A_TITLE);
    snprintf(right, sizeof(right), "t %s  seq %s  %s%s", mon_fmt_time(m->cur.t, t, sizeof(t)),
             mon_fmt_num(m->cur.seq, 8, seq), v->paused ? "PAUSED " : "", link);
    if ((int)strlen(right) > g->cols - 30)
        snprintf(right, sizeof(right), "%s%s", v->paused ? "PAUSED " : "", link);
    int col = g->cols - (int)strlen(right);
    char left[400];
    snprintf(left, sizeof(left), "baton-monitor  %s", o->source ? o->source : "");
    if ((int)strlen(left) > col - 1 && col > 4) {
        left[col - 4] = '\0';
        strcat(left, "...");
    }
    mon_grid_put(g, 0, 0, MON_A_TITLE, left);
    mon_grid_put(g, 0, col, MON_A_TITLE, right);
    mon_grid_put(g, 0, g->cols - (int)strlen(link), attr, link);
}

/* The cluster's totals; items are two spaces apart, or one when that is
 * what it takes to fit. */
static void totals(struct mon_grid *g, const struct mon_model *m, int attr)
{
    const struct mon_frame *f = &m->cur;
    char it[7][40], a[16], b[16], line[300];
    int len = 0, n = 0;

    snprintf(it[0], sizeof(it[0]), "pps %s", mon_fmt_num(f->pps, 5, a));
    snprintf(it[1], sizeof(it[1]), "Gbps %s", mon_fmt_num(scaled(f->bps, 1e9), 5, a));
    snprintf(it[2], sizeof(it[2]), "conns %s", mon_fmt_num(f->conns, 5, a));
    snprintf(it[3], sizeof(it[3]), "cps %s", mon_fmt_num(f->cps, 5, a));
    snprintf(it[4], sizeof(it[4]), "sync %s Mbps", mon_fmt_num(scaled(f->sync_bps, 1e6), 5, a));
    snprintf(it[5], sizeof(it[5]), "up %s/%s", mon_fmt_num(f->members_up, 3, a),
             mon_fmt_num(f->members_total, 3, b));
    snprintf(it[6], sizeof(it[6]), "policy v%s", mon_fmt_num(f->policy_version, 6, a));
    for (int i = 0; i < 7; i++)
        len += (int)strlen(it[i]) + 2;
    const char *sep = len - 2 <= g->cols ? "  " : " ";
    for (int i = 0; i < 7; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s", i ? sep : "", it[i]);
    mon_grid_put(g, 1, 0, attr, line);
}

static void sparkline(struct mon_grid *g, const struct mon_model *m, const struct mon_screen_opts *o,
                      int attr)
{
    static const char *const ascii = "_.-:=+*#";
    int w = g->cols - 4 - 12;
    unsigned n = m->hist_len < (unsigned)w ? m->hist_len : (unsigned)w;
    double max = 0;
    char buf[16];

    for (unsigned i = m->hist_len - n; i < m->hist_len; i++) {
        struct mon_val v = mon_model_hist(m, i);
        if (v.present && v.v > max)
            max = v.v;
    }
    mon_grid_put(g, 2, 0, MON_A_TITLE, "pps");
    for (unsigned i = 0; i < n; i++) {
        struct mon_val v = mon_model_hist(m, m->hist_len - n + i);
        int col = 4 + w - (int)n + (int)i;
        uint32_t ch;
        if (!v.present) {
            ch = o->unicode ? 0xb7 : '.';
        } else if (v.v <= 0 || max <= 0) {
            ch = ' ';
        } else {
            int lvl = (int)ceil(v.v / max * 8);
            lvl = lvl < 1 ? 1 : lvl > 8 ? 8 : lvl;
            ch = o->unicode ? 0x2580 + (uint32_t)lvl : (uint32_t)ascii[lvl - 1];
        }
        g->ch[(size_t)2 * (size_t)g->cols + (size_t)col] = ch;
        g->attr[(size_t)2 * (size_t)g->cols + (size_t)col] = (uint8_t)attr;
    }
    putf(g, 2, g->cols - 11, MON_A_TITLE, "max %6s", n ? mon_fmt_num(MON_VAL(max), 6, buf) : "-");
}

struct layout {
    int state_w, bar_w;
};

static struct layout layout_for(int cols)
{
    struct layout l = {1, 3};
    int extra = cols - MON_MIN_COLS;

    if (extra >= 6) {
        l.state_w = 7;
        extra -= 6;
    }
    l.bar_w += extra < 17 ? extra : 17;
    return l;
}

static void heads(struct mon_grid *g, int row, const struct layout *l)
{
    int c = 0;

    row_attr(g, row, MON_A_TITLE);
    c = cell(g, row, c, MON_A_TITLE, 3, true, "ID");
    c = cell(g, row, c, MON_A_TITLE, l->state_w, false, l->state_w > 1 ? "STATE" : "S");
    c = cell(g, row, c, MON_A_TITLE, 3, true, "W");
    c = cell(g, row, c, MON_A_TITLE, 3, true, "EXP");
    c = cell(g, row, c, MON_A_TITLE, 3, true, "ACT");
    c = cell(g, row, c, MON_A_TITLE, l->bar_w, false, l->bar_w >= 5 ? "SHARE" : "SHR");
    c = cell(g, row, c, MON_A_TITLE, 4, true, "PPS");
    c = cell(g, row, c, MON_A_TITLE, 4, true, "Mbps");
    c = cell(g, row, c, MON_A_TITLE, 9, true, "CONN/BKUP");
    c = cell(g, row, c, MON_A_TITLE, 4, true, "CPS");
    c = cell(g, row, c, MON_A_TITLE, 9, true, "TX pps/Mb");
    c = cell(g, row, c, MON_A_TITLE, 9, true, "RX pps/Mb");
    c = cell(g, row, c, MON_A_TITLE, 4, true, "CORR");
    c = cell(g, row, c, MON_A_TITLE, 4, true, "DROP");
    cell(g, row, c, MON_A_TITLE, 3, true, "CPU");
}

/* The share bar: the actual share as a bar (eighths of a cell with Unicode),
 * the cell where the expected share falls marked ('|' when empty, its own
 * attribute always). scale: the share that fills the bar. */
static void bar(struct mon_grid *g, int row, int col, int w, const struct mon_derived *d,
                double scale, bool unicode, int flag)
{
    size_t base = (size_t)row * (size_t)g->cols + (size_t)col;
    int eighths, ecell = -1;

    if (col + w > g->cols)
        return;
    if (!d->act_pct.present) {
        mon_grid_put(g, row, col, MON_A_NORMAL | flag, "-");
        return;
    }
    eighths = (int)lround(d->act_pct.v / scale * w * 8);
    eighths = eighths < 0 ? 0 : eighths > w * 8 ? w * 8 : eighths;
    if (!unicode)
        eighths = (eighths + 4) / 8 * 8;
    if (d->exp_pct.present && d->exp_pct.v > 0) {
        ecell = (int)(d->exp_pct.v / scale * w);
        ecell = ecell >= w ? w - 1 : ecell;
    }
    for (int i = 0; i < w; i++) {
        int k = eighths - i * 8;
        uint32_t ch = ' ';
        if (k >= 8)
            ch = unicode ? 0x2588 : '#';
        else if (k > 0)
            ch = 0x2590 - (uint32_t)k;   /* U+258F one eighth .. U+2589 seven eighths */
        if (i == ecell && ch == ' ')
            ch = unicode ? 0x2502 : '|';
        g->ch[base + (size_t)i] = ch;
        g->attr[base + (size_t)i] = (uint8_t)((i == ecell ? MON_A_BAR_EXP : MON_A_BAR) | flag);
    }
}

static void member_row(struct mon_grid *g, int row, const struct mon_model *m, unsigned i,
                       const struct layout *l, double scale, bool unicode, int base, int flag)
{
    const struct mon_member *x = &m->cur.m[i];
    const struct mon_derived *d = &m->d[i];
    char a[16], st[16];
    int attr = (d->down ? MON_A_DOWN : d->off ? MON_A_OFF : base) | flag;
    int c = 0;

    /* a plain-text marker besides the colour: '!' down, '*' off its share */
    snprintf(st, sizeof(st), "%c%2d", d->down ? '!' : d->off ? '*' : ' ', x->id);
    row_attr(g, row, attr);
    c = cell(g, row, c, attr, 3, false, st);
    snprintf(st, sizeof(st), "%s", mon_state_name(x));
    for (char *p = st; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            *p = '?';
    if (l->state_w == 1 && x->state != MON_ST_ABSENT)
        st[0] = x->state == MON_ST_UP ? 'U' : (char)(st[0] >= 'a' && st[0] <= 'z' ? st[0] - 32 : st[0]);
    if (l->state_w > 1 && x->state == MON_ST_DOWN)
        snprintf(st, sizeof(st), "DOWN");
    c = cell(g, row, c, attr, l->state_w, false, st);
    c = cell(g, row, c, attr, 3, true, mon_fmt_num(x->weight, 3, a));
    c = cell(g, row, c, attr, 3, true, mon_fmt_num(d->exp_pct, 3, a));
    c = cell(g, row, c, attr, 3, true, mon_fmt_num(d->act_pct, 3, a));
    bar(g, row, c, l->bar_w, d, scale, unicode, flag);
    c += l->bar_w + 1;
    c = cell(g, row, c, attr, 4, true, mon_fmt_num(x->pps, 4, a));
    c = cell(g, row, c, attr, 4, true, mon_fmt_num(scaled(x->bps, 1e6), 4, a));
    c = pair(g, row, c, attr, x->conns, x->backup_conns);
    c = cell(g, row, c, attr, 4, true, mon_fmt_num(x->cps, 4, a));
    c = pair(g, row, c, attr, x->sync_tx_pps, scaled(x->sync_tx_bps, 1e6));
    c = pair(g, row, c, attr, x->sync_rx_pps, scaled(x->sync_rx_bps, 1e6));
    c = cell(g, row, c, attr, 4, true, mon_fmt_num(x->corrections_pps, 4, a));
    c = cell(g, row, c, attr, 4, true, mon_fmt_num(d->drops_ps, 4, a));
    cell(g, row, c, attr, 3, true, mon_fmt_num(x->cpu, 3, a));
}

static const char *const help[] = {
    "Keys (any key closes this help)",
    " q quit   p pause   s sort: id, pps, off-share, conns, cpu, state",
    " Up/Down j/k move   PgUp/PgDn page   Home/End first/last",
    " live only, each asks y/n first: f fail  r restore  a add  w set weight",
    "Marks: ! member down (red)   * actual share off its expected share (yellow):",
    "       more than 20 % of the expected share plus 0.2 points away",
    "Columns (per member; rates per second; K M G = 10^3 10^6 10^9)",
    " ID S       member id; state U up, D down, J joining, S syncing",
    " W          weight 0..512",
    " EXP ACT    expected share % (weight / sum of the weights of members up),",
    "            actual share % of the members' packets per second",
    " SHR        bar of the actual share; | or a colour marks the expected one",
    " PPS Mbps   packets and megabits per second delivered to the member",
    " CONN/BKUP  connections it owns / backups it holds for others (HyperSync)",
    " CPS        new connections per second",
    " TX RX      HyperSync records per second / Mbps, sent and received",
    " CORR DROP  packets corrected to their owner, packets dropped, per second",
    " CPU        CPU load %       -  figure missing from the stream (never 0)",
};

int mon_screen_page(int rows)
{
    int page = rows - 4 - 1 - (1 + MON_EVENT_ROWS);
    return page > 1 ? page : 1;
}

static void events(struct mon_grid *g, const struct mon_model *m, bool unicode, int row0)
{
    unsigned n = mon_model_nevents(m);
    unsigned first = n > MON_EVENT_ROWS ? n - MON_EVENT_ROWS : 0;
    char t[32], e[96];
    int c;

    c = putf(g, row0, 0, MON_A_TITLE, "%s events (%llu) ", unicode ? "\u2500" : "-",
             (unsigned long long)m->events);
    for (; c < g->cols; c++)
        mon_grid_put(g, row0, c, MON_A_TITLE, unicode ? "\u2500" : "-");
    for (unsigned i = first; i < n; i++) {
        const struct mon_logged_event *le = mon_model_event(m, i);
        int attr = strcmp(le->ev.name, "sgm_down") == 0 ? MON_A_DOWN : MON_A_NORMAL;
        putf(g, row0 + 1 + (int)(i - first), 0, attr, "  %12s  %s",
             mon_fmt_time(le->ev.t, t, sizeof(t)), mon_event_text(&le->ev, e, sizeof(e)));
    }
}

static void status(struct mon_grid *g, const struct mon_model *m, const struct mon_view *v,
                   int row)
{
    char prompt[160], bad[220];
    int c = 0;

    bad[0] = '\0';
    if (m->lines_bad)
        snprintf(bad, sizeof(bad), "%llu bad line%s (%s)", (unsigned long long)m->lines_bad,
                 m->lines_bad == 1 ? "" : "s", m->last_bad);
    mon_view_prompt(v, prompt, sizeof(prompt));
    if (prompt[0]) {
        row_attr(g, row, MON_A_OFF | MON_A_CURSOR);
        c = mon_grid_put(g, row, 0, MON_A_OFF | MON_A_CURSOR, prompt);
        if (v->msg[0])
            putf(g, row, c + 2, MON_A_OFF | MON_A_CURSOR, "(%s)", v->msg);
        return;
    }
    c = putf(g, row, 0, MON_A_NORMAL, "sort %s", mon_sort_name(v->sort));
    if (v->msg[0])
        c += putf(g, row, c, MON_A_GOOD, " | %s", v->msg);
    if (bad[0])
        c += putf(g, row, c, MON_A_OFF, " | %s", bad);
    if (!v->msg[0] && !bad[0])
        putf(g, row, c, MON_A_NORMAL, " | h help  q quit");
}

void mon_screen_render(struct mon_grid *g, const struct mon_model *m, struct mon_view *v,
                       uint64_t now_ns, const struct mon_screen_opts *o)
{
    unsigned idx[MON_MAX_MEMBERS], n;
    struct layout l = layout_for(g->cols);
    bool stale = m->link == MON_LINK_STALE || m->link == MON_LINK_DOWN ||
                 (m->link == MON_LINK_CONNECTING && m->have);
    int base = stale ? MON_A_DIM : MON_A_NORMAL;
    int ev_row = g->rows - 2 - MON_EVENT_ROWS;
    double scale = 0;

    mon_grid_clear(g);
    v->page = mon_screen_page(g->rows);
    n = mon_model_order(m, v->sort, idx);
    mon_view_clamp(v, m, idx, n);
    if (g->rows < MON_MIN_ROWS || g->cols < MON_MIN_COLS) {
        putf(g, 0, 0, MON_A_OFF, "terminal %dx%d: baton-monitor needs %dx%d", g->cols, g->rows,
             MON_MIN_COLS, MON_MIN_ROWS);
        if (g->rows > 1)
            putf(g, 1, 0, MON_A_NORMAL, "q quits");
        return;
    }
    title(g, m, v, now_ns, o);
    totals(g, m, base);
    sparkline(g, m, o, base);
    heads(g, 3, &l);
    if (v->mode == MON_MODE_HELP) {
        for (int c = 0; c < g->cols; c++)
            g->ch[(size_t)3 * (size_t)g->cols + (size_t)c] = ' ';
        for (int r = 0; r < (int)(sizeof(help) / sizeof(help[0])) && 3 + r < g->rows - 1; r++)
            mon_grid_put(g, 3 + r, 0, r == 0 ? MON_A_TITLE : MON_A_NORMAL, help[r]);
        status(g, m, v, g->rows - 1);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct mon_derived *d = &m->d[i];
        if (d->exp_pct.present && d->exp_pct.v > scale)
            scale = d->exp_pct.v;
        if (d->act_pct.present && d->act_pct.v > scale)
            scale = d->act_pct.v;
    }
    if (scale <= 0)
        scale = 100;
    if (!m->have)
        putf(g, 4, 0, MON_A_DIM, "  no stats line yet");
    for (int r = 0; r < v->page && v->top + r < (int)n; r++)
        member_row(g, 4 + r, m, idx[v->top + r], &l, scale, o->unicode, base,
                   v->top + r == v->cursor ? MON_A_CURSOR : 0);
    events(g, m, o->unicode, ev_row);
    if (n > (unsigned)v->page)
        putf(g, ev_row, g->cols - 24, MON_A_TITLE, " rows %d-%d of %u ", v->top + 1,
             v->top + v->page < (int)n ? v->top + v->page : (int)n, n);
    status(g, m, v, g->rows - 1);
}
