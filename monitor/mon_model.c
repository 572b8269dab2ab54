/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NS 1000000000ULL

void mon_model_init(struct mon_model *m, enum mon_link link, uint64_t now_ns)
{
    memset(m, 0, sizeof(*m));
    m->link = link;
    m->link_since_ns = now_ns;
}

/* Shares: expected = weight / sum of the weights of the members up (0 for a
 * member not up); actual = pps / sum of the members' pps. When one figure a
 * sum needs is absent, every share from that sum is absent too: a share of
 * an unknown total would be made up. */
static void derive(struct mon_model *m)
{
    const struct mon_frame *f = &m->cur;
    double wsum = 0, psum = 0;
    bool wknown = true, pknown = true;

    for (unsigned i = 0; i < f->nmembers; i++) {
        const struct mon_member *x = &f->m[i];
        if (x->state == MON_ST_UP) {
            if (x->weight.present)
                wsum += x->weight.v;
            else
                wknown = false;
        }
        if (x->pps.present)
            psum += x->pps.v;
        else
            pknown = false;
    }
    for (unsigned i = 0; i < f->nmembers; i++) {
        const struct mon_member *x = &f->m[i];
        struct mon_derived *d = &m->d[i];

        memset(d, 0, sizeof(*d));
        if (x->state != MON_ST_UP && x->state != MON_ST_ABSENT)
            d->exp_pct = MON_VAL(0);
        else if (x->state == MON_ST_UP && wknown && wsum > 0)
            d->exp_pct = MON_VAL(100 * x->weight.v / wsum);
        if (pknown && psum > 0)
            d->act_pct = MON_VAL(100 * x->pps.v / psum);
        /* a rate over a known interval; the first line's count as given
         * (no interval before it); else unknown, not a count passed off
         * as a rate (found in review) */
        if (x->drops.present)
            d->drops_ps = m->dt.present ? MON_VAL(x->drops.v / m->dt.v)
                          : m->lines_stats == 1 ? x->drops : MON_ABSENT;
        d->down = x->state == MON_ST_DOWN;
        /* off its share: more than 20 % of the expected share away, plus
         * 0.2 points so that rounding noise of tiny shares does not count */
        d->off = x->state == MON_ST_UP && d->exp_pct.present && d->act_pct.present &&
                 fabs(d->act_pct.v - d->exp_pct.v) > 0.2 * d->exp_pct.v + 0.2;
    }
}

static void bad(struct mon_model *m, const char *why)
{
    m->lines_bad++;
    snprintf(m->last_bad, sizeof(m->last_bad), "line %llu: %s", (unsigned long long)m->lines,
             why);
}

int mon_model_feed(struct mon_model *m, uint64_t now_ns, const char *line, size_t len,
                   struct mon_reply *reply)
{
    static struct mon_frame f;   /* 16 KB: kept off the stack; the monitor is one thread */
    struct mon_reply r;
    char why[120];
    size_t k;
    int ret;

    m->lines++;   /* blank lines count, so that "line N" is the stream's N-th line */
    for (k = 0; k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'); k++)
        ;
    if (k == len)
        return 0;
    m->last_rx_ns = now_ns;
    ret = mon_line_parse(line, len, &f, &r, why, sizeof(why));
    if (ret < 0) {
        bad(m, why);
        return ret;
    }
    if (ret == MON_LINE_REPLY) {
        m->replies++;
        if (reply)
            *reply = r;
        return ret;
    }
    m->lines_stats++;
    if (m->last_stats_ns && now_ns > m->last_stats_ns) {
        uint64_t gap = now_ns - m->last_stats_ns;
        m->interval_ns = m->interval_ns ? (3 * m->interval_ns + gap) / 4 : gap;
    }
    m->last_stats_ns = now_ns;
    m->dt = MON_ABSENT;
    /* the interval a line's counts cover: since the line before it, which
     * must be the one shown (a skipped bad line or a gap between
     * connections in between: seq says so) */
    if (m->have && m->cur.t.present && f.t.present && f.t.v > m->cur.t.v &&
        (!m->cur.seq.present || !f.seq.present || f.seq.v == m->cur.seq.v + 1))
        m->dt = MON_VAL(f.t.v - m->cur.t.v);
    m->cur = f;
    m->have = true;
    derive(m);
    m->hist[m->hist_next] = f.pps;
    m->hist_next = (m->hist_next + 1) % MON_HIST;
    if (m->hist_len < MON_HIST)
        m->hist_len++;
    for (unsigned i = 0; i < f.nevents; i++) {
        struct mon_logged_event *e = &m->evlog[m->evlog_next];
        e->ev = f.ev[i];
        e->seq = ++m->events;
        m->evlog_next = (m->evlog_next + 1) % MON_EVLOG;
        if (m->evlog_len < MON_EVLOG)
            m->evlog_len++;
    }
    m->events += f.events_dropped;
    if (m->link == MON_LINK_STALE || m->link == MON_LINK_CONNECTING)
        mon_model_set_link(m, MON_LINK_LIVE, now_ns);
    return ret;
}

void mon_model_bad(struct mon_model *m, const char *reason)
{
    m->lines++;
    bad(m, reason);
}

void mon_model_set_link(struct mon_model *m, enum mon_link link, uint64_t now_ns)
{
    if (link == m->link)
        return;
    if (link == MON_LINK_DOWN && m->link != MON_LINK_CONNECTING)
        m->reconnects++;
    m->link = link;
    m->link_since_ns = now_ns;
}

uint64_t mon_model_stale_after(const struct mon_model *m)
{
    uint64_t t = 3 * m->interval_ns;
    return t > 2 * NS ? t : 2 * NS;
}

void mon_model_tick(struct mon_model *m, uint64_t now_ns)
{
    uint64_t since = m->last_stats_ns > m->link_since_ns ? m->last_stats_ns : m->link_since_ns;

    if (m->link == MON_LINK_LIVE && now_ns > since && now_ns - since > mon_model_stale_after(m))
        mon_model_set_link(m, MON_LINK_STALE, now_ns);
}

static int state_rank(enum mon_state s)
{
    switch (s) {
    case MON_ST_DOWN: return 0;
    case MON_ST_OTHER: return 1;
    case MON_ST_JOINING:
    case MON_ST_SYNCING: return 2;
    case MON_ST_ABSENT: return 3;
    case MON_ST_UP: return 4;
    }
    return 5;
}

/* Descending by value, absent last. <0 when a goes first. */
static int desc(struct mon_val a, struct mon_val b)
{
    if (a.present != b.present)
        return a.present ? -1 : 1;
    if (!a.present || a.v == b.v)
        return 0;
    return a.v > b.v ? -1 : 1;
}

static struct mon_val off_by(const struct mon_derived *d)
{
    if (!d->exp_pct.present || !d->act_pct.present)
        return MON_ABSENT;
    return MON_VAL(fabs(d->act_pct.v - d->exp_pct.v));
}

static int cmp(const struct mon_model *m, enum mon_sort by, unsigned a, unsigned b)
{
    const struct mon_member *x = &m->cur.m[a], *y = &m->cur.m[b];
    int c = 0;

    switch (by) {
    case MON_SORT_ID: break;
    case MON_SORT_PPS: c = desc(x->pps, y->pps); break;
    case MON_SORT_OFF: c = desc(off_by(&m->d[a]), off_by(&m->d[b])); break;
    case MON_SORT_CONNS: c = desc(x->conns, y->conns); break;
    case MON_SORT_CPU: c = desc(x->cpu, y->cpu); break;
    case MON_SORT_STATE: c = state_rank(x->state) - state_rank(y->state); break;
    case MON_SORT_N: break;
    }
    return c ? c : x->id - y->id;
}

unsigned mon_model_order(const struct mon_model *m, enum mon_sort by, unsigned *idx)
{
    unsigned n = m->cur.nmembers;

    /* insertion sort: at most 64 rows, stable, no allocation */
    for (unsigned i = 0; i < n; i++) {
        unsigned j = i;
        while (j > 0 && cmp(m, by, i, idx[j - 1]) < 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    return n;
}

const char *mon_sort_name(enum mon_sort by)
{
    static const char *const names[MON_SORT_N] = {"id", "pps", "off-share", "conns", "cpu",
                                                  "state"};
    return by < MON_SORT_N ? names[by] : "?";
}

struct mon_val mon_model_hist(const struct mon_model *m, unsigned i)
{
    if (i >= m->hist_len)
        return MON_ABSENT;
    return m->hist[(m->hist_next + MON_HIST - m->hist_len + i) % MON_HIST];
}

unsigned mon_model_nevents(const struct mon_model *m)
{
    return m->evlog_len;
}

const struct mon_logged_event *mon_model_event(const struct mon_model *m, unsigned i)
{
    if (i >= m->evlog_len)
        return NULL;
    return &m->evlog[(m->evlog_next + MON_EVLOG - m->evlog_len + i) % MON_EVLOG];
}

char *mon_event_text(const struct mon_event *e, char *buf, unsigned len)
{
    int n = snprintf(buf, len, "%s", e->name);

    if (e->sgm.present && !(strcmp(e->name, "policy") == 0 && e->sgm.v == 0) && n >= 0 &&
        (unsigned)n < len)
        n += snprintf(buf + n, len - (unsigned)n, " SGM %.0f", e->sgm.v);
    if (e->weight.present && n >= 0 && (unsigned)n < len)
        n += snprintf(buf + n, len - (unsigned)n, strcmp(e->name, "weight") == 0 ? " -> %.0f"
                                                                                 : " weight %.0f",
                      e->weight.v);
    if (e->version.present && n >= 0 && (unsigned)n < len)
        snprintf(buf + n, len - (unsigned)n, " v%.0f", e->version.v);
    return buf;
}
