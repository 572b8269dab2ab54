/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_batch.h"

#include <stdio.h>
#include <string.h>

const char *mon_link_name(enum mon_link link)
{
    switch (link) {
    case MON_LINK_CONNECTING: return "connecting";
    case MON_LINK_LIVE: return "live";
    case MON_LINK_STALE: return "stale";
    case MON_LINK_DOWN: return "disconnected";
    case MON_LINK_REPLAY: return "replay";
    case MON_LINK_ENDED: return "replay ended";
    }
    return "?";
}

static struct mon_val scaled(struct mon_val v, double div)
{
    return v.present ? MON_VAL(v.v / div) : v;
}

static const char *pct(struct mon_val v, char *buf)
{
    if (v.present)
        snprintf(buf, 16, "%.1f", v.v);
    else
        snprintf(buf, 16, "-");
    return buf;
}

void mon_batch_frame(const struct mon_model *m, enum mon_sort by, uint64_t *ev_seen,
                     struct mon_buf *out)
{
    const struct mon_frame *f = &m->cur;
    unsigned idx[MON_MAX_MEMBERS], n;
    char a[16], b[16], c[16], d[16], e[16], g[16], h[16], i2[16], j[16], k[16], l[16], q[16];
    char t[32];

    mon_buf_printf(out, "baton-monitor  t %s  seq %s  members %s/%s up  policy v%s  %s",
                   mon_fmt_time(f->t, t, sizeof(t)), mon_fmt_si(f->seq, a, 16),
                   mon_fmt_si(f->members_up, b, 16), mon_fmt_si(f->members_total, c, 16),
                   mon_fmt_si(f->policy_version, d, 16), mon_link_name(m->link));
    if (m->lines_bad)
        mon_buf_printf(out, "  %llu bad line%s (last: %s)", (unsigned long long)m->lines_bad,
                       m->lines_bad == 1 ? "" : "s", m->last_bad);
    mon_buf_printf(out, "\n");
    if (!m->have) {
        mon_buf_printf(out, "no stats line yet\n");
        return;
    }
    mon_buf_printf(out, "cluster: %s pps  %s Gbps  %s conns  %s cps  sync %s Mbps\n",
                   mon_fmt_si(f->pps, a, 16), mon_fmt_si(scaled(f->bps, 1e9), b, 16),
                   mon_fmt_si(f->conns, c, 16), mon_fmt_si(f->cps, d, 16),
                   mon_fmt_si(scaled(f->sync_bps, 1e6), e, 16));
    mon_buf_printf(out, "  SGM STATE       W  EXP%%  ACT%%      PPS   Mbps  CONNS/BACKUP     CPS"
                        "  SYNC-TX pps/Mbps  SYNC-RX pps/Mbps CORR/s DROPS/s  CPU%%\n");
    n = mon_model_order(m, by, idx);
    for (unsigned r = 0; r < n; r++) {
        const struct mon_member *x = &f->m[idx[r]];
        const struct mon_derived *dv = &m->d[idx[r]];
        char st[12], ex[16], ac[16];
        snprintf(st, sizeof(st), "%s", mon_state_name(x));
        for (char *p = st; *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                *p = '?';
        mon_buf_printf(out,
                       "%c%4d %-8s %4s %5s %5s %8s %6s %6s/%-6s %7s %8s/%-8s %8s/%-8s %6s %7s %5s\n",
                       dv->down ? '!' : dv->off ? '*' : ' ', x->id, st, mon_fmt_si(x->weight, a, 16),
                       pct(dv->exp_pct, ex), pct(dv->act_pct, ac), mon_fmt_si(x->pps, b, 16),
                       mon_fmt_si(scaled(x->bps, 1e6), c, 16), mon_fmt_si(x->conns, d, 16),
                       mon_fmt_si(x->backup_conns, e, 16), mon_fmt_si(x->cps, g, 16),
                       mon_fmt_si(x->sync_tx_pps, h, 16), mon_fmt_si(scaled(x->sync_tx_bps, 1e6), i2, 16),
                       mon_fmt_si(x->sync_rx_pps, j, 16), mon_fmt_si(scaled(x->sync_rx_bps, 1e6), k, 16),
                       mon_fmt_si(x->corrections_pps, l, 16), mon_fmt_si(dv->drops_ps, q, 16),
                       mon_fmt_si(x->cpu, t, 16));
    }
    for (unsigned i = 0, ne = mon_model_nevents(m); i < ne; i++) {
        const struct mon_logged_event *le = mon_model_event(m, i);
        char et[96];
        if (le->seq <= *ev_seen)
            continue;
        mon_buf_printf(out, "event %s %s\n", mon_fmt_time(le->ev.t, t, sizeof(t)),
                       mon_event_text(&le->ev, et, sizeof(et)));
        *ev_seen = le->seq;
    }
}
