/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_frame.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* A number, JSON null (absent) or no key (absent). Anything else makes the
 * line malformed: a string where a rate belongs is a broken producer, and
 * showing it as absent would hide that. Returns 0 or -EINVAL. */
static int num(json_t *o, const char *key, struct mon_val *out, const char *ctx, char *why,
               size_t why_len)
{
    json_t *v = o ? json_object_get(o, key) : NULL;

    *out = MON_ABSENT;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v)) {
        snprintf(why, why_len, "%s%s: not a number", ctx, key);
        return -EINVAL;
    }
    *out = MON_VAL(json_number_value(v));
    return 0;
}

/* A time: a number as num() takes, in 0..1e10 s (the events' range in
 * docs/formats.md: virtual seconds or Unix time to the year 2286). Past it
 * the replay's pacing would wait for centuries and its ns overflow. */
static int num_time(json_t *o, const char *key, struct mon_val *out, const char *ctx, char *why,
                    size_t why_len)
{
    int r = num(o, key, out, ctx, why, why_len);

    if (r == 0 && out->present && !(out->v >= 0 && out->v <= 1e10)) {
        snprintf(why, why_len, "%s%s: %g is not a time in 0..1e10 s", ctx, key, out->v);
        *out = MON_ABSENT;
        return -EINVAL;
    }
    return r;
}

static int parse_reply(json_t *o, struct mon_reply *r, char *why, size_t why_len)
{
    json_t *id = json_object_get(o, "id"), *ok = json_object_get(o, "ok");
    json_t *err = json_object_get(o, "error");

    memset(r, 0, sizeof(*r));
    if (!json_is_integer(id) || json_integer_value(id) < 0) {
        snprintf(why, why_len, "reply: id: not an integer >= 0");
        return -EINVAL;
    }
    if (!json_is_boolean(ok)) {
        snprintf(why, why_len, "reply: ok: not true or false");
        return -EINVAL;
    }
    r->id = (uint64_t)json_integer_value(id);
    r->ok = json_is_true(ok);
    if (json_is_string(err))
        snprintf(r->error, sizeof(r->error), "%s", json_string_value(err));
    else if (!r->ok)
        snprintf(r->error, sizeof(r->error), "(no reason given)");
    return MON_LINE_REPLY;
}

static const struct {
    const char *name;
    enum mon_state st;
} states[] = {
    {"up", MON_ST_UP},
    {"down", MON_ST_DOWN},
    {"joining", MON_ST_JOINING},
    {"syncing", MON_ST_SYNCING},
};

static int parse_member(json_t *x, size_t i, struct mon_member *m, char *why, size_t why_len)
{
    char ctx[32];
    json_t *id, *st;
    int r = 0;

    snprintf(ctx, sizeof(ctx), "sgms[%zu].", i);
    if (!json_is_object(x)) {
        snprintf(why, why_len, "sgms[%zu]: not an object", i);
        return -EINVAL;
    }
    id = json_object_get(x, "id");
    if (!json_is_integer(id) || json_integer_value(id) < 1 ||
        json_integer_value(id) > MON_MAX_MEMBERS) {
        snprintf(why, why_len, "sgms[%zu].id: not an integer 1..%d", i, MON_MAX_MEMBERS);
        return -EINVAL;
    }
    memset(m, 0, sizeof(*m));
    m->id = (int)json_integer_value(id);
    st = json_object_get(x, "state");
    if (st && !json_is_null(st)) {
        if (!json_is_string(st)) {
            snprintf(why, why_len, "sgms[%zu].state: not a string", i);
            return -EINVAL;
        }
        snprintf(m->state_name, sizeof(m->state_name), "%s", json_string_value(st));
        m->state = MON_ST_OTHER;
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
            if (strcmp(json_string_value(st), states[k].name) == 0)
                m->state = states[k].st;
    }
    r = r ?: num(x, "weight", &m->weight, ctx, why, why_len);
    r = r ?: num(x, "pps", &m->pps, ctx, why, why_len);
    r = r ?: num(x, "bps", &m->bps, ctx, why, why_len);
    r = r ?: num(x, "conns", &m->conns, ctx, why, why_len);
    r = r ?: num(x, "backup_conns", &m->backup_conns, ctx, why, why_len);
    r = r ?: num(x, "cps", &m->cps, ctx, why, why_len);
    r = r ?: num(x, "sync_tx_pps", &m->sync_tx_pps, ctx, why, why_len);
    r = r ?: num(x, "sync_tx_bps", &m->sync_tx_bps, ctx, why, why_len);
    r = r ?: num(x, "sync_rx_pps", &m->sync_rx_pps, ctx, why, why_len);
    r = r ?: num(x, "sync_rx_bps", &m->sync_rx_bps, ctx, why, why_len);
    r = r ?: num(x, "corrections_pps", &m->corrections_pps, ctx, why, why_len);
    r = r ?: num(x, "drops", &m->drops, ctx, why, why_len);
    r = r ?: num(x, "cpu", &m->cpu, ctx, why, why_len);
    return r;
}

static int parse_event(json_t *x, size_t i, struct mon_event *e, char *why, size_t why_len)
{
    char ctx[32];
    json_t *name;
    int r = 0;

    snprintf(ctx, sizeof(ctx), "events[%zu].", i);
    if (!json_is_object(x)) {
        snprintf(why, why_len, "events[%zu]: not an object", i);
        return -EINVAL;
    }
    name = json_object_get(x, "event");
    if (!json_is_string(name)) {
        snprintf(why, why_len, "events[%zu].event: not a string", i);
        return -EINVAL;
    }
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", json_string_value(name));
    r = r ?: num_time(x, "t", &e->t, ctx, why, why_len);
    r = r ?: num(x, "sgm", &e->sgm, ctx, why, why_len);
    r = r ?: num(x, "weight", &e->weight, ctx, why, why_len);
    r = r ?: num(x, "version", &e->version, ctx, why, why_len);
    return r;
}

static int parse_stats(json_t *o, struct mon_frame *f, char *why, size_t why_len)
{
    json_t *c, *sg, *ev, *x;
    uint64_t seen = 0;   /* member ids already in this line */
    size_t i;
    int r = 0;

    memset(f, 0, sizeof(*f));
    r = r ?: num_time(o, "t", &f->t, "", why, why_len);
    r = r ?: num(o, "seq", &f->seq, "", why, why_len);
    if (r)
        return r;
    c = json_object_get(o, "cluster");
    if (c && !json_is_null(c) && !json_is_object(c)) {
        snprintf(why, why_len, "cluster: not an object");
        return -EINVAL;
    }
    r = r ?: num(c, "pps", &f->pps, "cluster.", why, why_len);
    r = r ?: num(c, "bps", &f->bps, "cluster.", why, why_len);
    r = r ?: num(c, "conns", &f->conns, "cluster.", why, why_len);
    r = r ?: num(c, "cps", &f->cps, "cluster.", why, why_len);
    r = r ?: num(c, "sync_bps", &f->sync_bps, "cluster.", why, why_len);
    r = r ?: num(c, "members_up", &f->members_up, "cluster.", why, why_len);
    r = r ?: num(c, "members_total", &f->members_total, "cluster.", why, why_len);
    r = r ?: num(c, "policy_version", &f->policy_version, "cluster.", why, why_len);
    if (r)
        return r;
    sg = json_object_get(o, "sgms");
    if (sg && !json_is_null(sg) && !json_is_array(sg)) {
        snprintf(why, why_len, "sgms: not an array");
        return -EINVAL;
    }
    json_array_foreach(sg, i, x) {
        struct mon_member m;
        if ((r = parse_member(x, i, &m, why, why_len)) < 0)
            return r;
        if (seen & (1ULL << (m.id - 1))) {
            snprintf(why, why_len, "sgms[%zu].id: member %d listed twice", i, m.id);
            return -EINVAL;
        }
        seen |= 1ULL << (m.id - 1);
        f->m[f->nmembers++] = m;   /* at most 64: ids are distinct in 1..64 */
    }
    ev = json_object_get(o, "events");
    if (ev && !json_is_null(ev) && !json_is_array(ev)) {
        snprintf(why, why_len, "events: not an array");
        return -EINVAL;
    }
    json_array_foreach(ev, i, x) {
        struct mon_event e;
        if ((r = parse_event(x, i, &e, why, why_len)) < 0)
            return r;
        if (f->nevents < MON_MAX_FRAME_EVENTS)
            f->ev[f->nevents++] = e;
        else
            f->events_dropped++;
    }
    return MON_LINE_STATS;
}

int mon_line_parse(const char *line, size_t len, struct mon_frame *f, struct mon_reply *r,
                   char *why, size_t why_len)
{
    json_error_t je;
    json_t *o, *schema;
    int ret;

    o = json_loadb(line, len, JSON_DECODE_ANY, &je);
    if (!o) {
        snprintf(why, why_len, "not JSON: col %d: %s", je.column, je.text);
        return -EINVAL;
    }
    schema = json_object_get(o, "schema");
    if (!json_is_object(o)) {
        snprintf(why, why_len, "not a JSON object");
        ret = -EINVAL;
    } else if (!schema && json_object_get(o, "ok")) {
        ret = parse_reply(o, r, why, why_len);
    } else if (!schema) {
        snprintf(why, why_len, "no schema");
        ret = -EINVAL;
    } else if (!json_is_integer(schema) || json_integer_value(schema) != 1) {
        if (json_is_integer(schema))
            snprintf(why, why_len, "schema %lld, this monitor reads 1",
                     (long long)json_integer_value(schema));
        else
            snprintf(why, why_len, "schema: not an integer");
        ret = -EINVAL;
    } else {
        ret = parse_stats(o, f, why, why_len);
    }
    json_decref(o);
    return ret;
}

const char *mon_state_name(const struct mon_member *m)
{
    return m->state == MON_ST_ABSENT ? "-" : m->state_name;
}
