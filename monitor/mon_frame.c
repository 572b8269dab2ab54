/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static struct mon_val val(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    struct mon_val r = {0, false};

    if (json_is_number(v)) {
        r.v = json_number_value(v);
        r.present = true;
    }
    return r;
}

int mon_frame_parse(const char *line, size_t len, struct mon_frame *f)
{
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je), *c, *sg, *ev, *x;
    size_t i;

    memset(f, 0, sizeof(*f));
    if (!o)
        return -EINVAL;
    if (!json_is_object(o) || json_integer_value(json_object_get(o, "schema")) != 1) {
        json_decref(o);
        return -EINVAL;
    }
    f->t = val(o, "t");
    f->seq = val(o, "seq");
    c = json_object_get(o, "cluster");
    f->pps = val(c, "pps");
    f->bps = val(c, "bps");
    f->conns = val(c, "conns");
    f->cps = val(c, "cps");
    f->sync_bps = val(c, "sync_bps");
    f->members_up = val(c, "members_up");
    f->members_total = val(c, "members_total");
    f->policy_version = val(c, "policy_version");
    sg = json_object_get(o, "sgms");
    json_array_foreach(sg, i, x) {
        struct mon_member *m;
        json_t *id = json_object_get(x, "id"), *st = json_object_get(x, "state");
        if (f->nmembers >= MON_MAX_MEMBERS || !json_is_integer(id))
            continue;
        m = &f->m[f->nmembers++];
        m->id = (int)json_integer_value(id);
        snprintf(m->state, sizeof(m->state), "%s", json_is_string(st) ? json_string_value(st) : "");
        m->weight = val(x, "weight");
        m->pps = val(x, "pps");
        m->bps = val(x, "bps");
        m->conns = val(x, "conns");
        m->backup_conns = val(x, "backup_conns");
        m->cps = val(x, "cps");
        m->sync_tx_pps = val(x, "sync_tx_pps");
        m->sync_tx_bps = val(x, "sync_tx_bps");
        m->sync_rx_pps = val(x, "sync_rx_pps");
        m->sync_rx_bps = val(x, "sync_rx_bps");
        m->corrections_pps = val(x, "corrections_pps");
        m->drops = val(x, "drops");
        m->cpu = val(x, "cpu");
    }
    ev = json_object_get(o, "events");
    json_array_foreach(ev, i, x) {
        json_t *name = json_object_get(x, "event");
        if (f->nevents >= MON_MAX_EVENTS)
            break;
        struct mon_event *e = &f->ev[f->nevents++];
        e->t = json_number_value(json_object_get(x, "t"));
        snprintf(e->event, sizeof(e->event), "%s", json_is_string(name) ? json_string_value(name) : "?");
        e->sgm = (int)json_integer_value(json_object_get(x, "sgm"));
    }
    json_decref(o);
    return 0;
}

char *mon_fmt_si(struct mon_val v, char *buf, unsigned len)
{
    static const char suf[] = {'\0', 'K', 'M', 'G', 'T'};
    double x = v.v;
    int k = 0;

    if (!v.present) {
        snprintf(buf, len, "-");
        return buf;
    }
    while ((x >= 1000 || x <= -1000) && k < 4) {
        x /= 1000;
        k++;
    }
    if (k == 0)
        snprintf(buf, len, x == (double)(long long)x ? "%.0f" : "%.1f", x);
    else
        snprintf(buf, len, "%.*f%c", x < 10 ? 2 : x < 100 ? 1 : 0, x, suf[k]);
    return buf;
}

void mon_frame_print(const struct mon_frame *f, uint64_t bad_lines, FILE *out)
{
    char a[16], b[16], c[16], d[16], e[16], g[16], h[16], i2[16], j[16], k[16], l[16], q[16];
    double wsum = 0, psum = 0;

    for (unsigned n = 0; n < f->nmembers; n++) {
        if (strcmp(f->m[n].state, "up") == 0 && f->m[n].weight.present)
            wsum += f->m[n].weight.v;
        if (f->m[n].pps.present)
            psum += f->m[n].pps.v;
    }
    fprintf(out, "baton-monitor  t=%ss  members %s/%s  policy v%s  %s bad line%s\n",
            mon_fmt_si(f->t, a, 16), mon_fmt_si(f->members_up, b, 16),
            mon_fmt_si(f->members_total, c, 16), mon_fmt_si(f->policy_version, d, 16),
            mon_fmt_si((struct mon_val){(double)bad_lines, true}, e, 16), bad_lines == 1 ? "" : "s");
    struct mon_val gbps = {f->bps.v / 1e9, f->bps.present}, smbps = {f->sync_bps.v / 1e6, f->sync_bps.present};
    fprintf(out, "cluster: %s pps  %s Gbps  %s conns  %s cps  sync %s Mbps\n",
            mon_fmt_si(f->pps, a, 16), mon_fmt_si(gbps, b, 16), mon_fmt_si(f->conns, c, 16),
            mon_fmt_si(f->cps, d, 16), mon_fmt_si(smbps, e, 16));
    fprintf(out, "  SGM STATE    W  EXP%%  ACT%%      PPS   Mbps  CONNS/BACKUP     CPS  SYNC-TX(pps/Mbps)  SYNC-RX(pps/Mbps)  CORR/s  DROPS  CPU\n");
    for (unsigned n = 0; n < f->nmembers; n++) {
        const struct mon_member *m = &f->m[n];
        bool up = strcmp(m->state, "up") == 0;
        double exp_pct = up && wsum > 0 && m->weight.present ? 100 * m->weight.v / wsum : 0;
        double act_pct = psum > 0 && m->pps.present ? 100 * m->pps.v / psum : 0;
        /* a marker where colour is not available: down, or off its share */
        char mark = !up ? '!' : (exp_pct > 0 && (act_pct - exp_pct > 0.1 * exp_pct + 1 ||
                                                 exp_pct - act_pct > 0.1 * exp_pct + 1)) ? '*' : ' ';
        struct mon_val mbps = {m->bps.v / 1e6, m->bps.present};
        struct mon_val stxm = {m->sync_tx_bps.v / 1e6, m->sync_tx_bps.present};
        struct mon_val srxm = {m->sync_rx_bps.v / 1e6, m->sync_rx_bps.present};
        char cpu[16], ex[16], ac[16];
        if (up && m->weight.present && wsum > 0)
            snprintf(ex, sizeof(ex), "%.1f", exp_pct);
        else
            snprintf(ex, sizeof(ex), up && !m->weight.present ? "-" : "0.0");
        if (m->pps.present)
            snprintf(ac, sizeof(ac), "%.1f", act_pct);
        else
            snprintf(ac, sizeof(ac), "-");
        if (m->cpu.present)
            snprintf(cpu, sizeof(cpu), "%.0f%%", m->cpu.v);
        else
            snprintf(cpu, sizeof(cpu), "-");
        fprintf(out, "%c%4d %-7s %3s %5s %5s %8s %6s %6s/%-6s %7s %8s/%-8s %8s/%-8s %6s %6s %4s\n",
                mark, m->id, m->state[0] ? m->state : "-", mon_fmt_si(m->weight, a, 16), ex,
                ac, mon_fmt_si(m->pps, b, 16), mon_fmt_si(mbps, c, 16),
                mon_fmt_si(m->conns, d, 16), mon_fmt_si(m->backup_conns, e, 16),
                mon_fmt_si(m->cps, g, 16), mon_fmt_si(m->sync_tx_pps, h, 16),
                mon_fmt_si(stxm, i2, 16), mon_fmt_si(m->sync_rx_pps, j, 16),
                mon_fmt_si(srxm, k, 16), mon_fmt_si(m->corrections_pps, l, 16),
                mon_fmt_si(m->drops, q, 16), cpu);
    }
    for (unsigned n = 0; n < f->nevents; n++)
        fprintf(out, "event: t=%.3fs %s sgm %d\n", f->ev[n].t, f->ev[n].event, f->ev[n].sgm);
}
