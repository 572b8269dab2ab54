/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hide-NAT joining. The connections of nat.jsonl are kept sorted by their
 * translated tuple (canonical) and start time; a flow table maps a canonical
 * translated tuple to its run of connections, so a packet costs one lookup.
 */
#include "vf_nat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_flow_table.h"

struct nat_ent {
    struct bt_flow_key cx;   /* translated tuple, canonical */
    struct bt_flow_key x;    /* translated tuple, client-to-server */
    struct bt_flow_key o;    /* original tuple, client-to-server */
    uint64_t t_ns;
};

struct run {
    uint32_t first, n;
};

struct vf_nat {
    struct nat_ent *e;
    size_t n;
    struct bt_flowtab *idx;  /* canonical translated tuple -> struct run */
};

static int is_v4mapped(const uint8_t a[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, pre, 12) == 0;
}

static void mkkey(struct bt_flow_key *k, uint8_t proto, const uint8_t *src, uint16_t sport,
                  const uint8_t *dst, uint16_t dport)
{
    memset(k, 0, sizeof(*k));
    memcpy(k->src, src, 16);
    memcpy(k->dst, dst, 16);
    k->sport = sport;
    k->dport = dport;
    k->proto = proto;
    k->family = is_v4mapped(src) ? 4 : 6;
}

static int ent_cmp(const void *a, const void *b)
{
    const struct nat_ent *x = a, *y = b;
    int c = memcmp(&x->cx, &y->cx, sizeof(x->cx));

    if (c)
        return c;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

struct vf_nat *vf_nat_new(const struct bt_nat_map *maps, size_t n)
{
    struct vf_nat *v = calloc(1, sizeof(*v));
    uint32_t cap = 1024;

    if (!v)
        return NULL;
    if (n > (1u << 24))
        return vf_nat_free(v);
    while (cap < n)
        cap *= 2;
    v->e = calloc(n ? n : 1, sizeof(*v->e));
    v->idx = bt_flowtab_new_growable(1024, cap, sizeof(struct run), 0);
    if (!v->e || !v->idx)
        return vf_nat_free(v);
    for (size_t i = 0; i < n; i++) {
        const struct bt_nat_map *m = &maps[i];
        struct nat_ent *en = &v->e[i];
        mkkey(&en->x, m->proto, m->tsrc, m->tsport, m->tdst, m->tdport);
        mkkey(&en->o, m->proto, m->osrc, m->osport, m->odst, m->odport);
        bt_flow_key_canon(&en->x, &en->cx);
        en->t_ns = m->t_ns;
    }
    v->n = n;
    if (n) /* e may be NULL then: qsort's is nonnull */
        qsort(v->e, n, sizeof(*v->e), ent_cmp);
    for (size_t i = 0; i < n; i++) {
        bool created;
        struct run *r = bt_flowtab_insert(v->idx, &v->e[i].cx, 0, &created);
        if (!r)
            return vf_nat_free(v);
        if (created)
            r->first = (uint32_t)i;
        r->n++;
    }
    return v;
}

struct vf_nat *vf_nat_load(const char *path, struct bt_err *e)
{
    struct bt_nat_map *maps = NULL;
    size_t n = 0;
    struct vf_nat *v;

    if (bt_nat_read(path, &maps, &n, e) < 0)
        return NULL;
    v = vf_nat_new(maps, n);
    free(maps);
    if (!v)
        bt_err_setr(e, -ENOMEM, "%s: out of memory", path);
    return v;
}

struct vf_nat *vf_nat_free(struct vf_nat *v)
{
    if (v) {
        bt_flowtab_free(v->idx);
        free(v->e);
        free(v);
    }
    return NULL;
}

size_t vf_nat_count(const struct vf_nat *v)
{
    return v ? v->n : 0;
}

int vf_nat_untranslate(const struct vf_nat *v, struct bt_flow_key *k, uint64_t ts)
{
    struct bt_flow_key ck;
    const struct run *r;

    if (!v || !v->n)
        return 0;
    bt_flow_key_canon(k, &ck);
    r = bt_flowtab_lookup(v->idx, &ck);
    if (!r)
        return 0;
    /* the latest connection that started at or before ts */
    const struct nat_ent *en = &v->e[r->first];
    for (uint32_t i = 1; i < r->n && v->e[r->first + i].t_ns <= ts; i++)
        en = &v->e[r->first + i];
    if (bt_flow_key_eq(k, &en->x))
        *k = en->o;
    else
        bt_flow_key_reverse(&en->o, k);
    return 1;
}
