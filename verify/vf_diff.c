/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-verify diff: two captures (or capture sets) compared flow by flow.
 * Each side is summarised in one streaming pass (per flow: packets and bytes
 * per direction, members, TCP retransmissions, sequence holes, RSTs); the
 * summaries are then matched by canonical 5-tuple and occurrence (the n-th
 * flow of a tuple on one side meets the n-th on the other). A capture set
 * with nat.jsonl has its hide-NAT halves joined, as in check.
 */
#include "vf_api.h"
#include "vf_nat.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_parse.h"
#include "bt_pcap.h"

struct dflow {
    struct bt_flow_key key;     /* canonical */
    uint32_t occurrence;        /* n-th flow of this tuple on its side */
    uint64_t first_ns, last_ns;
    uint64_t max_gap_ns;        /* longest time without a packet, inside the flow */
    uint64_t pkts[2], bytes[2]; /* 0: canonical src -> dst, 1: reverse */
    uint64_t members;           /* bit per member that saw it */
    uint32_t retrans, holes, rsts;
    uint32_t next_seq[2];
    uint8_t seq_valid[2];
    uint8_t fin[2];
    uint8_t owner;
};

struct side {
    const char *name;
    struct dflow *f;
    size_t n, cap;
    uint64_t packets, non_ip;
};

struct dpass {
    struct side *s;
    struct bt_flowtab *ft;
    struct bt_flowtab *occ;     /* tuple -> flows seen so far */
    struct vf_nat *nat;         /* the capture set's nat.jsonl, or NULL */
    int err;
};

static void emit(const struct bt_flow_key *k, void *v, void *arg)
{
    struct dpass *p = arg;
    struct dflow *f = v;

    (void)k;
    if (p->s->n == p->s->cap) {
        size_t cap = p->s->cap ? p->s->cap * 2 : 1024;
        struct dflow *nf = realloc(p->s->f, cap * sizeof(*nf));
        if (!nf) {
            p->err = -ENOMEM;
            return;
        }
        p->s->f = nf;
        p->s->cap = cap;
    }
    p->s->f[p->s->n++] = *f;
}

static void on_pkt(struct dpass *p, int member, uint64_t ts, const struct bt_parsed *pp,
                   uint32_t wire_len)
{
    struct bt_flow_key k, ck;
    struct dflow *f;
    int dir;

    bt_flow_key_from_parsed(pp, &k);
    vf_nat_untranslate(p->nat, &k, ts);
    dir = bt_flow_key_canon(&k, &ck);
    f = bt_flowtab_lookup(p->ft, &ck);
    if (f && (f->rsts || (f->fin[0] && f->fin[1])) && pp->proto == 6 &&
        (pp->tcp_flags & (BT_TCP_SYN | BT_TCP_ACK)) == BT_TCP_SYN) {
        emit(&ck, f, p);
        bt_flowtab_remove(p->ft, f);
        f = NULL;
    }
    if (!f) {
        uint32_t *occ = bt_flowtab_insert(p->occ, &ck, ts, NULL);
        f = bt_flowtab_insert(p->ft, &ck, ts, NULL);
        if (!f || !occ) {
            p->err = -ENOMEM;
            return;
        }
        f->key = ck;
        f->occurrence = (*occ)++;
        f->first_ns = ts;
        f->owner = (uint8_t)member;
    }
    if (f->pkts[0] + f->pkts[1] && ts > f->last_ns && ts - f->last_ns > f->max_gap_ns)
        f->max_gap_ns = ts - f->last_ns;
    f->last_ns = ts;
    f->pkts[dir]++;
    f->bytes[dir] += wire_len;
    if (member >= 1 && member <= 64)
        f->members |= 1ULL << (member - 1);
    if (pp->proto == 6 && (pp->flags & BT_PF_PORTS)) {
        uint32_t len = pp->payload_len + ((pp->tcp_flags & (BT_TCP_SYN | BT_TCP_FIN)) ? 1 : 0);
        if (pp->tcp_flags & BT_TCP_RST)
            f->rsts++;
        if (pp->tcp_flags & BT_TCP_FIN)
            f->fin[dir] = 1;
        if (len) {
            if (f->seq_valid[dir]) {
                int32_t d = (int32_t)(pp->seq - f->next_seq[dir]);
                if (d < 0)
                    f->retrans++;
                else if (d > 0)
                    f->holes++;
            }
            if (!f->seq_valid[dir] || (int32_t)(pp->seq + len - f->next_seq[dir]) > 0)
                f->next_seq[dir] = pp->seq + len;
            f->seq_valid[dir] = 1;
        }
    }
}

/* path: a capture file, or a capture set directory (every member). */
static int summarise(const char *path, uint64_t idle_ns, struct side *s, struct bt_err *e)
{
    struct stat st;
    struct bt_pcap_reader *rd[VF_MAX_MEMBERS] = {0};
    int ids[VF_MAX_MEMBERS], links[VF_MAX_MEMBERS];
    unsigned n = 0;
    struct bt_pcap_merge *m = NULL;
    struct dpass p = {s, NULL, NULL, NULL, 0};
    int rc = 0;

    s->name = path;
    if (stat(path, &st) != 0)
        return bt_err_setr(e, -errno, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        struct bt_capset_meta meta;
        char buf[4096];
        if ((rc = bt_capset_read_meta(path, &meta, e)) < 0)
            return rc;
        for (unsigned i = 0; i < meta.nmembers; i++) {
            rd[n] = bt_pcap_open(bt_capset_sgm_path(path, meta.ids[i], buf, sizeof(buf)), e);
            if (!rd[n]) {
                rc = -EINVAL;
                goto out;
            }
            ids[n++] = meta.ids[i];
        }
        if ((meta.files & BT_CAPSET_HAS_NAT) &&
            !(p.nat = vf_nat_load(bt_capset_path(path, "nat.jsonl", buf, sizeof(buf)), e))) {
            rc = -EINVAL;
            goto out;
        }
    } else {
        if (!(rd[0] = bt_pcap_open(path, e)))
            return -EINVAL;
        ids[n++] = 1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct bt_parsed probe;
        links[i] = bt_pcap_linktype(rd[i]);
        /* every frame of such a capture would be "not IP": a diff of two of
         * them would say "same" over nothing */
        if (bt_parse(NULL, 0, links[i], &probe) == BT_PARSE_UNSUPPORTED_LINK) {
            rc = bt_err_set(e, "%s: unsupported link type %d (use Ethernet, Linux SLL/SLL2, "
                            "raw IP or BSD loopback captures)", bt_pcap_path(rd[i]), links[i]);
            goto out;
        }
    }
    p.ft = bt_flowtab_new_growable(1024, 1u << 24, sizeof(struct dflow), idle_ns);
    p.occ = bt_flowtab_new_growable(1024, 1u << 24, sizeof(uint32_t), 0);
    m = bt_pcap_merge_new(rd, n);
    if (!p.ft || !p.occ || !m) {
        rc = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        struct bt_pcap_rec rec;
        struct bt_parsed pp;
        unsigned which;
        int got = bt_pcap_merge_next(m, &rec, &which, e);
        if (got < 0) {
            rc = got;
            goto out;
        }
        if (!got)
            break;
        bt_flowtab_expire(p.ft, rec.ts_ns, emit, &p, 0);
        s->packets++;
        bt_parse(rec.data, rec.caplen, links[which], &pp);
        if (pp.ip_version == 0) {
            s->non_ip++;
            continue;
        }
        on_pkt(&p, ids[which], rec.ts_ns, &pp, rec.wire_len);
        if (p.err) {
            rc = bt_err_setr(e, p.err, "%s: out of memory", path);
            goto out;
        }
    }
    bt_flowtab_foreach(p.ft, emit, &p);
    if (p.err)
        rc = bt_err_setr(e, p.err, "%s: out of memory", path);
out:
    bt_pcap_merge_free(m);
    for (unsigned i = 0; i < n; i++)
        bt_pcap_close(rd[i]);
    bt_flowtab_free(p.ft);
    bt_flowtab_free(p.occ);
    vf_nat_free(p.nat);
    return rc;
}

static int dcmp(const void *a, const void *b)
{
    const struct dflow *x = a, *y = b;
    int c = memcmp(&x->key, &y->key, sizeof(x->key));

    if (c)
        return c;
    return x->occurrence < y->occurrence ? -1 : x->occurrence > y->occurrence;
}

static json_t *flow_json(const struct dflow *f)
{
    char cid[40], tuple[128];
    json_t *mem = json_array();

    bt_community_id(&f->key, 0, cid, sizeof(cid));
    bt_flow_key_fmt(&f->key, tuple, sizeof(tuple));
    for (int id = 1; id <= 64; id++)
        if (f->members & (1ULL << (id - 1)))
            json_array_append_new(mem, json_integer(id));
    return json_pack("{s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:o, s:i, s:i, s:i, s:f, s:f}",
                     "community_id", cid, "tuple", tuple, "t", (double)f->first_ns / 1e9,
                     "packets_fwd", (json_int_t)f->pkts[0], "packets_rev", (json_int_t)f->pkts[1],
                     "bytes_fwd", (json_int_t)f->bytes[0], "bytes_rev", (json_int_t)f->bytes[1],
                     "members", mem, "retransmissions", (int)f->retrans, "seq_holes",
                     (int)f->holes, "rsts", (int)f->rsts, "duration_ms",
                     (double)(f->last_ns - f->first_ns) / 1e6, "max_gap_ms",
                     (double)f->max_gap_ns / 1e6);
}

static json_int_t sdiff(uint64_t a, uint64_t b)
{
    return (json_int_t)b - (json_int_t)a;
}

/* B minus A, per figure. */
static json_t *delta_json(const struct dflow *x, const struct dflow *y)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "packets_fwd",
                     sdiff(x->pkts[0], y->pkts[0]), "packets_rev", sdiff(x->pkts[1], y->pkts[1]),
                     "bytes_fwd", sdiff(x->bytes[0], y->bytes[0]), "bytes_rev",
                     sdiff(x->bytes[1], y->bytes[1]), "retransmissions",
                     sdiff(x->retrans, y->retrans), "seq_holes", sdiff(x->holes, y->holes), "rsts",
                     sdiff(x->rsts, y->rsts), "duration_ms",
                     ((double)(y->last_ns - y->first_ns) - (double)(x->last_ns - x->first_ns)) / 1e6,
                     "max_gap_ms", ((double)y->max_gap_ns - (double)x->max_gap_ns) / 1e6);
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

int vf_diff(const char *a, const char *b, const struct vf_diff_opts *o, void **json_out,
            struct bt_err *e)
{
    struct side A = {0}, B = {0};
    int rc;
    size_t i = 0, j = 0;
    uint64_t only_a = 0, only_b = 0, moved = 0, changed = 0, same = 0;
    json_t *la = json_array(), *lb = json_array(), *lm = json_array(), *lc = json_array();

    if ((rc = summarise(a, o->idle_ns, &A, e)) < 0 || (rc = summarise(b, o->idle_ns, &B, e)) < 0)
        goto out;
    if (A.n) /* f may be NULL for an empty side: qsort's is nonnull */
        qsort(A.f, A.n, sizeof(*A.f), dcmp);
    if (B.n)
        qsort(B.f, B.n, sizeof(*B.f), dcmp);
    while (i < A.n || j < B.n) {
        int c = i >= A.n ? 1 : j >= B.n ? -1 : dcmp(&A.f[i], &B.f[j]);
        if (c < 0) {
            only_a++;
            if (json_array_size(la) < o->max_list)
                json_array_append_new(la, flow_json(&A.f[i]));
            i++;
            continue;
        }
        if (c > 0) {
            only_b++;
            if (json_array_size(lb) < o->max_list)
                json_array_append_new(lb, flow_json(&B.f[j]));
            j++;
            continue;
        }
        const struct dflow *x = &A.f[i++], *y = &B.f[j++];
        bool is_moved = !o->ignore_members && (x->owner != y->owner || x->members != y->members);
        bool is_changed = false;
        for (int d = 0; d < 2; d++) {
            uint64_t dp = absdiff(x->pkts[d], y->pkts[d]), db = absdiff(x->bytes[d], y->bytes[d]);
            if (dp > o->tol_packets || db > o->tol_bytes)
                is_changed = true;
        }
        if (absdiff(x->retrans, y->retrans) > o->tol_packets || x->rsts != y->rsts ||
            absdiff(x->holes, y->holes) > o->tol_packets)
            is_changed = true;
        if (o->tol_time_ns != UINT64_MAX &&
            (absdiff(x->last_ns - x->first_ns, y->last_ns - y->first_ns) > o->tol_time_ns ||
             absdiff(x->max_gap_ns, y->max_gap_ns) > o->tol_time_ns))
            is_changed = true;
        if (is_moved) {
            moved++;
            if (json_array_size(lm) < o->max_list)
                json_array_append_new(lm, json_pack("{s:o, s:o, s:i, s:i}", "flow", flow_json(x),
                                                    "b", flow_json(y), "owner_a", x->owner,
                                                    "owner_b", y->owner));
        }
        if (is_changed) {
            changed++;
            if (json_array_size(lc) < o->max_list)
                json_array_append_new(lc, json_pack("{s:o, s:o, s:o}", "a", flow_json(x), "b",
                                                    flow_json(y), "delta", delta_json(x, y)));
        }
        if (!is_moved && !is_changed)
            same++;
    }
    bool pass = only_a == 0 && only_b == 0 && moved == 0 && changed == 0;
    json_t *root = json_pack(
        "{s:i, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, "
        "s:o}",
        "schema", 1, "same", pass, "a", a, "b", b, "packets_a", (json_int_t)A.packets, "packets_b",
        (json_int_t)B.packets, "non_ip_a", (json_int_t)A.non_ip, "non_ip_b", (json_int_t)B.non_ip,
        "flows_a", (json_int_t)A.n, "flows_b", (json_int_t)B.n,
        "identical", (json_int_t)same, "only_in_a", (json_int_t)only_a, "only_in_b",
        (json_int_t)only_b, "moved", (json_int_t)moved, "changed", (json_int_t)changed,
        "only_in_a_flows", la, "only_in_b_flows", lb, "moved_flows", lm, "changed_flows", lc);
    la = lb = lm = lc = NULL;
    *json_out = root;
    rc = pass ? 0 : 1;
out:
    json_decref(la);
    json_decref(lb);
    json_decref(lm);
    json_decref(lc);
    free(A.f);
    free(B.f);
    return rc;
}

void vf_diff_opts_default(struct vf_diff_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->idle_ns = 2000000000ULL;
    o->max_list = 20;
    o->tol_time_ns = UINT64_MAX;
}
