/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture set's JSON parts (capset.json, events.jsonl, corrections.jsonl,
 * nat.jsonl) and a writer that drivers use to produce a whole capture set.
 * JSON goes through jansson; readers report "path:line: problem".
 */
#include "bt_capset.h"
#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pcap.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const ev_names[] = {
    [BT_EV_SGM_DOWN] = "sgm_down",
    [BT_EV_SGM_UP] = "sgm_up",
    [BT_EV_SGM_JOIN] = "sgm_join",
    [BT_EV_WEIGHT] = "weight",
    [BT_EV_POLICY] = "policy",
};

const char *bt_event_name(enum bt_event_kind k)
{
    if ((unsigned)k >= sizeof(ev_names) / sizeof(ev_names[0]))
        return "?";
    return ev_names[k];
}

int bt_event_kind_parse(const char *s, enum bt_event_kind *out)
{
    for (unsigned i = 0; i < sizeof(ev_names) / sizeof(ev_names[0]); i++) {
        if (strcmp(s, ev_names[i]) == 0) {
            *out = (enum bt_event_kind)i;
            return 0;
        }
    }
    return -EINVAL;
}

char *bt_capset_path(const char *dir, const char *name, char *buf, unsigned len)
{
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

char *bt_capset_sgm_path(const char *dir, int id, char *buf, unsigned len)
{
    snprintf(buf, len, "%s/sgm-%d.pcap", dir, id);
    return buf;
}

/* ---- positions in JSON text ----
 * jansson keeps no positions of values, so errors about a value (not about
 * syntax) find it again in the text, which jansson has already accepted:
 * this scanner needs no error handling beyond staying inside the buffer. */

#define JS_NONE ((size_t)-1)

static size_t js_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static size_t js_skip_str(const char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\')
            i++;
    return i < n ? i + 1 : n;
}

/* Skips the value starting at i (after white space). */
static size_t js_skip(const char *s, size_t n, size_t i)
{
    int depth = 0;

    do {
        i = js_ws(s, n, i);
        if (i >= n)
            return n;
        if (s[i] == '"') {
            i = js_skip_str(s, n, i);
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
            i++;
        } else if (s[i] == '}' || s[i] == ']') {
            depth--;
            i++;
        } else if (s[i] == ',' || s[i] == ':') {
            i++;
        } else {
            while (i < n && !memchr(" \t\r\n,:]}", s[i], 8))
                i++;
        }
    } while (depth > 0);
    return i;
}

/* Where the value of key is in the object at i; JS_NONE if absent. */
static size_t js_member(const char *s, size_t n, size_t i, const char *key)
{
    size_t klen = strlen(key);

    i = js_ws(s, n, i);
    if (i >= n || s[i] != '{')
        return JS_NONE;
    for (i++;;) {
        size_t k0;
        i = js_ws(s, n, i);
        if (i >= n || s[i] != '"')
            return JS_NONE;
        k0 = i + 1;
        i = js_skip_str(s, n, i);
        int match = i - 1 - k0 == klen && memcmp(s + k0, key, klen) == 0;
        i = js_ws(s, n, i);
        if (i >= n || s[i] != ':')
            return JS_NONE;
        i = js_ws(s, n, i + 1);
        if (match)
            return i;
        i = js_ws(s, n, js_skip(s, n, i));
        if (i >= n || s[i] != ',')
            return JS_NONE;
        i++;
    }
}

/* Where item idx of the array at i is; JS_NONE if absent. */
static size_t js_item(const char *s, size_t n, size_t i, size_t idx)
{
    i = js_ws(s, n, i);
    if (i >= n || s[i] != '[')
        return JS_NONE;
    for (size_t k = 0, j = i + 1;; k++) {
        j = js_ws(s, n, j);
        if (j >= n || s[j] == ']')
            return JS_NONE;
        if (k == idx)
            return j;
        j = js_ws(s, n, js_skip(s, n, j));
        if (j >= n || s[j] != ',')
            return JS_NONE;
        j++;
    }
}

/* 1-based line and column (in bytes) of offset off. */
static void js_linecol(const char *s, size_t off, unsigned *line, unsigned *col)
{
    size_t bol = 0;

    *line = 1;
    for (size_t i = 0; i < off; i++)
        if (s[i] == '\n') {
            (*line)++;
            bol = i + 1;
        }
    *col = (unsigned)(off - bol + 1);
}

/* ---- capset.json ---- */

static const struct {
    uint32_t bit;
    const char *key;
} file_keys[] = {
    {BT_CAPSET_HAS_CLIENT, "client"},
    {BT_CAPSET_HAS_SERVER, "server"},
    {BT_CAPSET_HAS_EVENTS, "events"},
    {BT_CAPSET_HAS_CORRECTIONS, "corrections"},
    {BT_CAPSET_HAS_NAT, "nat"},
};

#define META_MAX_BYTES (16u << 20)

struct meta_ctx {
    const char *path, *text;
    size_t len;
    struct bt_err *e;
};

/* Error about the value at key k1 (then item idx >= 0, then key k2) of the
 * root object, placed at the deepest of those that exists. */
static int meta_err(const struct meta_ctx *c, const char *k1, long idx, const char *k2,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int meta_err(const struct meta_ctx *c, const char *k1, long idx, const char *k2,
                    const char *fmt, ...)
{
    char msg[300];
    size_t pos = js_ws(c->text, c->len, 0), p;
    unsigned line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (k1 && (p = js_member(c->text, c->len, pos, k1)) != JS_NONE) {
        pos = p;
        if (idx >= 0 && (p = js_item(c->text, c->len, pos, (size_t)idx)) != JS_NONE) {
            pos = p;
            if (k2 && (p = js_member(c->text, c->len, pos, k2)) != JS_NONE)
                pos = p;
        }
    }
    js_linecol(c->text, pos < c->len ? pos : c->len, &line, &col);
    return bt_err_set(c->e, "%s:%u:%u: %s", c->path, line, col, msg);
}

static int read_text(const char *path, char **out, size_t *len, struct bt_err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, k;

    if (!f)
        return bt_err_setr(e, -errno, "%s: %s", path, strerror(errno));
    do {
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 4096;
            if (cap > META_MAX_BYTES + 1)
                cap = META_MAX_BYTES + 1;
            if (n == cap || !(nb = realloc(buf, cap))) {
                free(buf);
                fclose(f);
                return bt_err_setr(e, n == cap ? -EFBIG : -ENOMEM, "%s: %s", path,
                                   n == cap ? "larger than 16 MiB, not a capset.json"
                                            : "out of memory");
            }
            buf = nb;
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return bt_err_setr(e, -EIO, "%s: read error", path);
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}

int bt_capset_read_meta(const char *dir, struct bt_capset_meta *out, struct bt_err *e)
{
    char path[4096], *text = NULL;
    json_error_t je;
    json_t *root = NULL, *v, *members, *files, *pools;
    struct bt_capset_meta m;
    struct meta_ctx c;
    enum bt_dist_mode mode;
    size_t i, len = 0;
    int r;

    memset(&m, 0, sizeof(m));
    bt_capset_path(dir, "capset.json", path, sizeof(path));
    r = read_text(path, &text, &len, e);
    if (r < 0)
        return r;
    c = (struct meta_ctx){path, text, len, e};
    r = -EINVAL;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        bt_err_set(e, "%s:%d:%d: %s", path, je.line > 0 ? je.line : 1,
                   je.column > 0 ? je.column : 1, je.text);
        goto out;
    }
    if (!json_is_object(root)) {
        meta_err(&c, NULL, -1, NULL, "expected a JSON object {\"schema\": 1, ...}");
        goto out;
    }
    v = json_object_get(root, "schema");
    if (!v) {
        meta_err(&c, NULL, -1, NULL, "missing \"schema\"");
        goto out;
    }
    if (!json_is_integer(v)) {
        meta_err(&c, "schema", -1, NULL, "\"schema\" must be an integer");
        goto out;
    }
    if (json_integer_value(v) != BT_CAPSET_SCHEMA) {
        meta_err(&c, "schema", -1, NULL, "schema %lld not supported (this baton reads schema %d)",
                 (long long)json_integer_value(v), BT_CAPSET_SCHEMA);
        goto out;
    }
    m.schema = BT_CAPSET_SCHEMA;
    members = json_object_get(root, "members");
    if (!members) {
        meta_err(&c, NULL, -1, NULL, "missing \"members\"");
        goto out;
    }
    if (!json_is_array(members) || json_array_size(members) == 0 ||
        json_array_size(members) > BT_CAPSET_MAX_MEMBERS) {
        meta_err(&c, "members", -1, NULL, "\"members\" must be an array of 1..%d objects",
                 BT_CAPSET_MAX_MEMBERS);
        goto out;
    }
    json_array_foreach(members, i, v) {
        json_t *id = json_object_get(v, "id"), *w = json_object_get(v, "weight");
        if (!json_is_object(v)) {
            meta_err(&c, "members", (long)i, NULL,
                     "members[%zu]: expected an object {\"id\": N, \"weight\": W}", i);
            goto out;
        }
        if (!id) {
            meta_err(&c, "members", (long)i, NULL, "members[%zu]: missing \"id\"", i);
            goto out;
        }
        if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > 64) {
            meta_err(&c, "members", (long)i, "id", "members[%zu].id: must be an integer 1..64",
                     i);
            goto out;
        }
        if (w && (!json_is_integer(w) || json_integer_value(w) < 0 ||
                  json_integer_value(w) > 512)) {
            meta_err(&c, "members", (long)i, "weight",
                     "members[%zu].weight: must be an integer 0..512", i);
            goto out;
        }
        for (unsigned k = 0; k < m.nmembers; k++) {
            if (m.ids[k] == (int)json_integer_value(id)) {
                meta_err(&c, "members", (long)i, "id",
                         "members[%zu].id: id %d appears twice (also members[%u])", i, m.ids[k],
                         k);
                goto out;
            }
        }
        m.ids[m.nmembers] = (int)json_integer_value(id);
        m.weights[m.nmembers] = w ? (unsigned)json_integer_value(w) : 1;
        m.nmembers++;
    }
    v = json_object_get(root, "mode");
    if (v && (!json_is_string(v) || bt_dist_mode_parse(json_string_value(v), &mode) < 0)) {
        meta_err(&c, "mode", -1, NULL, "\"mode\" must be \"general\", \"user\", \"network\" or \"auto\"");
        goto out;
    }
    snprintf(m.mode, sizeof(m.mode), "%s", v ? json_string_value(v) : "general");
    v = json_object_get(root, "l4");
    if (v && !json_is_boolean(v)) {
        meta_err(&c, "l4", -1, NULL, "\"l4\" must be true or false");
        goto out;
    }
    m.l4 = json_is_true(v);
    pools = json_object_get(root, "nat_pools");
    if (pools && (!json_is_array(pools) || json_array_size(pools) > BT_CAPSET_MAX_POOLS)) {
        meta_err(&c, "nat_pools", -1, NULL, "\"nat_pools\" must be an array of at most %d CIDRs",
                 BT_CAPSET_MAX_POOLS);
        goto out;
    }
    json_array_foreach(pools, i, v) {
        struct bt_cidr cidr;
        if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(m.nat_pools[0]) ||
            bt_cidr_parse(json_string_value(v), &cidr) < 0) {
            meta_err(&c, "nat_pools", (long)i, NULL,
                     "nat_pools[%zu]: expected a CIDR such as \"100.64.0.0/24\"", i);
            goto out;
        }
        snprintf(m.nat_pools[m.npools++], sizeof(m.nat_pools[0]), "%s", json_string_value(v));
    }
    files = json_object_get(root, "files");
    if (files && !json_is_object(files)) {
        meta_err(&c, "files", -1, NULL, "\"files\" must be an object of booleans");
        goto out;
    }
    for (unsigned k = 0; files && k < sizeof(file_keys) / sizeof(file_keys[0]); k++) {
        v = json_object_get(files, file_keys[k].key);
        if (v && !json_is_boolean(v)) {
            /* the value sits inside "files": find it there */
            size_t pos = js_member(text, len, js_ws(text, len, 0), "files");
            size_t p = pos == JS_NONE ? JS_NONE : js_member(text, len, pos, file_keys[k].key);
            unsigned line, col;
            js_linecol(text, p == JS_NONE ? 0 : p, &line, &col);
            bt_err_set(e, "%s:%u:%u: files.%s: must be true or false", path, line, col,
                       file_keys[k].key);
            goto out;
        }
        if (json_is_true(v))
            m.files |= file_keys[k].bit;
    }
    v = json_object_get(root, "generator");
    if (v && !json_is_string(v)) {
        meta_err(&c, "generator", -1, NULL, "\"generator\" must be a string");
        goto out;
    }
    if (v)
        snprintf(m.generator, sizeof(m.generator), "%s", json_string_value(v));
    *out = m;
    r = 0;
out:
    json_decref(root);
    free(text);
    return r;
}

int bt_capset_write_meta(const char *dir, const struct bt_capset_meta *m, struct bt_err *e)
{
    char path[4096];
    json_t *root = json_object(), *members = json_array(), *files = json_object(),
           *pools = json_array();
    int r = 0;

    bt_capset_path(dir, "capset.json", path, sizeof(path));
    for (unsigned i = 0; i < m->nmembers; i++)
        json_array_append_new(members, json_pack("{s:i, s:i}", "id", m->ids[i], "weight",
                                                 (int)m->weights[i]));
    for (unsigned i = 0; i < m->npools; i++)
        json_array_append_new(pools, json_string(m->nat_pools[i]));
    for (unsigned k = 0; k < sizeof(file_keys) / sizeof(file_keys[0]); k++)
        json_object_set_new(files, file_keys[k].key, json_boolean(m->files & file_keys[k].bit));
    json_object_set_new(root, "schema", json_integer(BT_CAPSET_SCHEMA));
    json_object_set_new(root, "generator", json_string(m->generator));
    json_object_set_new(root, "members", members);
    json_object_set_new(root, "mode", json_string(m->mode[0] ? m->mode : "general"));
    json_object_set_new(root, "l4", json_boolean(m->l4));
    json_object_set_new(root, "nat_pools", pools);
    json_object_set_new(root, "files", files);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return bt_err_setr(e, -ENOMEM, "%s: out of memory", path);
    FILE *f = fopen(path, "w");
    if (!f) {
        r = bt_err_setr(e, -errno, "%s: cannot create: %s", path, strerror(errno));
    } else {
        int bad = fputs(text, f) < 0 || fputc('\n', f) < 0;
        int saved = errno;
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            saved = errno;
        }
        if (bad)
            r = bt_err_setr(e, saved ? -saved : -EIO, "%s: write failed: %s", path,
                            strerror(saved ? saved : EIO));
    }
    free(text);
    return r;
}

/* ---- JSON lines ---- */

static void put_addr(json_t *o, const char *key, const uint8_t a[16])
{
    char buf[64];

    json_object_set_new(o, key, json_string(bt_addr_fmt(a, buf, sizeof(buf))));
}

/* Writes {"t":S.NNNNNNNNN,<rest of o>} and a newline. t is printed from the
 * integer nanoseconds (jansson would print a double, which keeps only about
 * 0.2 us at wall-clock times), so a reader gets the exact value back. */
static int dump_line(FILE *f, uint64_t t_ns, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int r = 0;

    json_decref(o);
    if (!s)
        return -ENOMEM;
    /* s is "{}" or "{...}": splice t in front of the other members */
    if (fprintf(f, "{\"t\":%llu.%09llu%s%s\n", (unsigned long long)(t_ns / 1000000000ULL),
                (unsigned long long)(t_ns % 1000000000ULL), s[1] == '}' ? "" : ",", s + 1) < 0)
        r = errno ? -errno : -EIO;
    free(s);
    return r;
}

int bt_event_write(FILE *f, const struct bt_event *ev)
{
    json_t *o = json_object();

    json_object_set_new(o, "event", json_string(bt_event_name(ev->kind)));
    json_object_set_new(o, "sgm", json_integer(ev->sgm));
    if (ev->weight >= 0)
        json_object_set_new(o, "weight", json_integer(ev->weight));
    if (ev->version >= 0)
        json_object_set_new(o, "version", json_integer(ev->version));
    if (ev->detail[0])
        json_object_set_new(o, "detail", json_string(ev->detail));
    return dump_line(f, ev->t_ns, o);
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
    switch (p) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmp6";
    case 132: return "sctp";
    default:
        snprintf(buf, len, "%u", p);
        return buf;
    }
}

int bt_correction_write(FILE *f, const struct bt_correction *c)
{
    json_t *o = json_object();
    char pb[8];

    json_object_set_new(o, "proto", json_string(proto_name(c->proto, pb, sizeof(pb))));
    put_addr(o, "src", c->src);
    json_object_set_new(o, "sport", json_integer(c->sport));
    put_addr(o, "dst", c->dst);
    json_object_set_new(o, "dport", json_integer(c->dport));
    json_object_set_new(o, "from", json_integer(c->from));
    json_object_set_new(o, "to", json_integer(c->to));
    return dump_line(f, c->t_ns, o);
}

static json_t *tuple_json(const uint8_t s[16], uint16_t sp, const uint8_t d[16], uint16_t dp)
{
    json_t *o = json_object();

    put_addr(o, "src", s);
    json_object_set_new(o, "sport", json_integer(sp));
    put_addr(o, "dst", d);
    json_object_set_new(o, "dport", json_integer(dp));
    return o;
}

int bt_nat_write(FILE *f, const struct bt_nat_map *n)
{
    json_t *o = json_object();
    char pb[8];

    json_object_set_new(o, "proto", json_string(proto_name(n->proto, pb, sizeof(pb))));
    json_object_set_new(o, "orig", tuple_json(n->osrc, n->osport, n->odst, n->odport));
    json_object_set_new(o, "xlat", tuple_json(n->tsrc, n->tsport, n->tdst, n->tdport));
    return dump_line(f, n->t_ns, o);
}

/* Field readers for one JSON-lines object; each fills e with the line. */
struct jl {
    const char *path;
    unsigned line;
    const char *text;   /* the line, for exact numbers */
    size_t len;
    struct bt_err *e;
};

#define T_MAX_S 10000000000ULL   /* 1e10 s: year 2286, and far below 2^64 ns */

/* Seconds written in decimal ("1700000000.123456789") to nanoseconds without
 * a double, which could not hold them. 1 if the text is not plain decimal
 * (an exponent): the caller then uses the double. */
static int t_exact(const char *s, size_t n, uint64_t *out)
{
    uint64_t sec = 0, frac = 0;
    size_t i = 0;
    int digits = 0, up = 0;

    if (i >= n || s[i] < '0' || s[i] > '9')
        return 1;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        sec = sec * 10 + (uint64_t)(s[i] - '0');
        if (sec > T_MAX_S)
            return -ERANGE;
    }
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (digits < 9)
                frac = frac * 10 + (uint64_t)(s[i] - '0');
            else if (digits == 9)
                up = s[i] >= '5';  /* round half up on the 10th digit */
        }
    if (i < n && (s[i] == 'e' || s[i] == 'E'))
        return 1;
    for (; digits < 9; digits++)
        frac *= 10;
    *out = sec * 1000000000ULL + frac + (uint64_t)up;
    return 0;
}

int bt_jsonl_time_ns(const char *line, size_t len, json_t *o, uint64_t *t_ns)
{
    json_t *v = json_object_get(o, "t");
    size_t pos;
    double t;
    int r;

    if (!v)
        return -ENOENT;
    if (!json_is_number(v))
        return -EINVAL;
    t = json_number_value(v);
    if (!(t >= 0) || t > (double)T_MAX_S)
        return -ERANGE;
    pos = js_member(line, len, 0, "t");
    r = pos == JS_NONE ? 1 : t_exact(line + pos, len - pos, t_ns);
    if (r < 0)
        return r;
    if (r > 0)
        *t_ns = (uint64_t)llround(t * 1e9);
    return 0;
}

static int jl_time(const struct jl *c, json_t *o, uint64_t *t_ns)
{
    int r = bt_jsonl_time_ns(c->text, c->len, o, t_ns);

    if (r == -ENOENT)
        return bt_err_set(c->e, "%s:%u: missing \"t\" (seconds)", c->path, c->line);
    if (r == -EINVAL)
        return bt_err_set(c->e, "%s:%u: \"t\" must be a number (seconds)", c->path, c->line);
    if (r < 0)
        return bt_err_set(c->e, "%s:%u: \"t\" out of range 0..%llu s", c->path, c->line, T_MAX_S);
    return 0;
}

static int jl_int(const struct jl *c, json_t *o, const char *key, long lo, long hi, int *out,
                  int required)
{
    json_t *v = json_object_get(o, key);

    if (!v && !required)
        return 0;
    if (!v)
        return bt_err_set(c->e, "%s:%u: missing \"%s\"", c->path, c->line, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bt_err_set(c->e, "%s:%u: \"%s\" must be an integer %ld..%ld", c->path, c->line,
                          key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int jl_addr(const struct jl *c, json_t *o, const char *key, uint8_t out[16])
{
    json_t *v = json_object_get(o, key);

    if (!v)
        return bt_err_set(c->e, "%s:%u: missing \"%s\"", c->path, c->line, key);
    if (!json_is_string(v) || bt_addr_parse(json_string_value(v), out) < 0)
        return bt_err_set(c->e, "%s:%u: \"%s\" must be an IPv4 or IPv6 address", c->path,
                          c->line, key);
    return 0;
}

static int jl_proto(const struct jl *c, json_t *o, uint8_t *out)
{
    json_t *v = json_object_get(o, "proto");
    static const struct {
        const char *n;
        uint8_t p;
    } names[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmp6", 58}, {"sctp", 132}};

    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 255) {
        *out = (uint8_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(json_string_value(v), names[i].n) == 0) {
                *out = names[i].p;
                return 0;
            }
        char *end;
        long n = strtol(json_string_value(v), &end, 10);
        if (!*end && n >= 0 && n <= 255 && json_string_value(v)[0]) {
            *out = (uint8_t)n;
            return 0;
        }
    }
    return bt_err_set(c->e, "%s:%u: \"proto\" must be tcp, udp, icmp, icmp6, sctp or 0..255",
                      c->path, c->line);
}

typedef int (*jl_record_fn)(const struct jl *c, json_t *o, void *rec);

static int ev_rec(const struct jl *c, json_t *o, void *rec)
{
    struct bt_event *ev = rec;
    json_t *name = json_object_get(o, "event"), *det = json_object_get(o, "detail");

    memset(ev, 0, sizeof(*ev));
    ev->weight = ev->version = -1;
    ev->line = c->line;
    if (jl_time(c, o, &ev->t_ns) < 0)
        return -EINVAL;
    if (!name)
        return bt_err_set(c->e, "%s:%u: missing \"event\"", c->path, c->line);
    if (!json_is_string(name) || bt_event_kind_parse(json_string_value(name), &ev->kind) < 0)
        return bt_err_set(c->e,
                          "%s:%u: \"event\" must be one of sgm_down, sgm_up, sgm_join, weight, policy",
                          c->path, c->line);
    if (jl_int(c, o, "sgm", ev->kind == BT_EV_POLICY ? 0 : 1, 64, &ev->sgm,
               ev->kind != BT_EV_POLICY) < 0)
        return -EINVAL;
    if (jl_int(c, o, "weight", 0, 512, &ev->weight, ev->kind == BT_EV_WEIGHT) < 0)
        return -EINVAL;
    if (jl_int(c, o, "version", 0, INT_MAX, &ev->version, 0) < 0)
        return -EINVAL;
    if (det && !json_is_string(det))
        return bt_err_set(c->e, "%s:%u: \"detail\" must be a string", c->path, c->line);
    if (det)
        snprintf(ev->detail, sizeof(ev->detail), "%s", json_string_value(det));
    return 0;
}

static int corr_rec(const struct jl *c, json_t *o, void *rec)
{
    struct bt_correction *k = rec;
    int sp = 0, dp = 0;

    memset(k, 0, sizeof(*k));
    if (jl_time(c, o, &k->t_ns) < 0 || jl_proto(c, o, &k->proto) < 0 ||
        jl_addr(c, o, "src", k->src) < 0 || jl_addr(c, o, "dst", k->dst) < 0 ||
        jl_int(c, o, "sport", 0, 65535, &sp, 1) < 0 || jl_int(c, o, "dport", 0, 65535, &dp, 1) < 0 ||
        jl_int(c, o, "from", 1, 64, &k->from, 1) < 0 || jl_int(c, o, "to", 1, 64, &k->to, 1) < 0)
        return -EINVAL;
    if (bt_addr_is_v4(k->src) != bt_addr_is_v4(k->dst))
        return bt_err_set(c->e, "%s:%u: \"src\" and \"dst\" mix IPv4 and IPv6 addresses", c->path,
                          c->line);
    k->sport = (uint16_t)sp;
    k->dport = (uint16_t)dp;
    k->line = c->line;
    return 0;
}

static int tuple_rec(const struct jl *c, json_t *o, const char *key, uint8_t s[16], uint16_t *sp,
                     uint8_t d[16], uint16_t *dp)
{
    json_t *t = json_object_get(o, key);
    int a = 0, b = 0;

    if (!json_is_object(t))
        return bt_err_set(c->e, "%s:%u: \"%s\" must be an object {src, sport, dst, dport}",
                          c->path, c->line, key);
    if (jl_addr(c, t, "src", s) < 0 || jl_addr(c, t, "dst", d) < 0 ||
        jl_int(c, t, "sport", 0, 65535, &a, 1) < 0 || jl_int(c, t, "dport", 0, 65535, &b, 1) < 0)
        return -EINVAL;
    *sp = (uint16_t)a;
    *dp = (uint16_t)b;
    return 0;
}

static int nat_rec(const struct jl *c, json_t *o, void *rec)
{
    struct bt_nat_map *n = rec;

    memset(n, 0, sizeof(*n));
    if (jl_time(c, o, &n->t_ns) < 0 || jl_proto(c, o, &n->proto) < 0 ||
        tuple_rec(c, o, "orig", n->osrc, &n->osport, n->odst, &n->odport) < 0 ||
        tuple_rec(c, o, "xlat", n->tsrc, &n->tsport, n->tdst, &n->tdport) < 0)
        return -EINVAL;
    /* hide NAT keeps the address family: one family in all four addresses */
    bool v4 = bt_addr_is_v4(n->osrc);
    if (bt_addr_is_v4(n->odst) != v4 || bt_addr_is_v4(n->tsrc) != v4 || bt_addr_is_v4(n->tdst) != v4)
        return bt_err_set(c->e, "%s:%u: \"orig\" and \"xlat\" mix IPv4 and IPv6 addresses "
                          "(a translation keeps the address family)", c->path, c->line);
    return 0;
}

int bt_jsonl_each(const char *path, bt_jsonl_fn fn, void *ctx, struct bt_err *e)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int r = 0;

    if (!f)
        return bt_err_setr(e, -errno, "%s: %s", path, strerror(errno));
    for (;;) {
        json_error_t je;
        json_t *o;
        errno = 0;
        if ((len = getline(&line, &cap, f)) < 0) {
            /* a read error (a directory, EIO) is not the end of the file */
            if (ferror(f)) {
                int er = errno ? errno : EIO;
                r = bt_err_setr(e, -er, "%s: cannot read after line %u: %s", path, lineno,
                                strerror(er));
            }
            break;
        }
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        if (memchr(line, 0, (size_t)len)) {
            r = bt_err_set(e, "%s:%u: NUL byte in a text line", path, lineno);
            break;
        }
        o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            r = bt_err_set(e, "%s:%u:%d: %s", path, lineno, je.column, je.text);
            break;
        }
        if (!json_is_object(o)) {
            json_decref(o);
            r = bt_err_set(e, "%s:%u: expected a JSON object", path, lineno);
            break;
        }
        r = fn(ctx, line, (size_t)len, o, lineno, e);
        json_decref(o);
        if (r < 0)
            break;
    }
    free(line);
    fclose(f);
    return r < 0 ? r : 0;
}

/* The records of one file into a growing array. */
struct jl_array {
    const char *path;
    size_t recsize, cnt, alloc;
    uint8_t *arr;
    jl_record_fn fn;
};

static int jl_array_add(void *ctx, const char *line, size_t len, json_t *o, unsigned lineno,
                        struct bt_err *e)
{
    struct jl_array *a = ctx;
    struct jl c = {a->path, lineno, line, len, e};
    int r;

    if (a->cnt == a->alloc) {
        size_t na = a->alloc ? a->alloc * 2 : 64;
        uint8_t *nb = realloc(a->arr, na * a->recsize);
        if (!nb)
            return bt_err_setr(e, -ENOMEM, "%s: out of memory", a->path);
        a->arr = nb;
        a->alloc = na;
    }
    if ((r = a->fn(&c, o, a->arr + a->cnt * a->recsize)) < 0)
        return r;
    a->cnt++;
    return 0;
}

static int read_jsonl(const char *path, size_t recsize, jl_record_fn fn, void **out, size_t *n,
                      struct bt_err *e)
{
    struct jl_array a = {path, recsize, 0, 0, NULL, fn};
    int r = bt_jsonl_each(path, jl_array_add, &a, e);

    if (r < 0) {
        free(a.arr);
        return r;
    }
    *out = a.arr;
    *n = a.cnt;
    return 0;
}

static int ev_cmp(const void *a, const void *b)
{
    const struct bt_event *x = a, *y = b;

    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return 0;
}

int bt_events_read(const char *path, struct bt_event **out, size_t *n, struct bt_err *e)
{
    void *arr = NULL;
    int r = read_jsonl(path, sizeof(struct bt_event), ev_rec, &arr, n, e);

    if (r < 0)
        return r;
    /* stable sort: insertion sort keeps equal times in file order; event
     * files are short and nearly sorted */
    struct bt_event *ev = arr;
    for (size_t i = 1; i < *n; i++) {
        struct bt_event t = ev[i];
        size_t j = i;
        while (j > 0 && ev_cmp(&ev[j - 1], &t) > 0) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = t;
    }
    *out = ev;
    return 0;
}

int bt_corrections_read(const char *path, struct bt_correction **out, size_t *n, struct bt_err *e)
{
    void *arr = NULL;
    int r = read_jsonl(path, sizeof(struct bt_correction), corr_rec, &arr, n, e);

    if (r == 0)
        *out = arr;
    return r;
}

int bt_nat_read(const char *path, struct bt_nat_map **out, size_t *n, struct bt_err *e)
{
    void *arr = NULL;
    int r = read_jsonl(path, sizeof(struct bt_nat_map), nat_rec, &arr, n, e);

    if (r == 0)
        *out = arr;
    return r;
}

/* ---- writer ----
 * The capture set's pcaps go through bt_pcap_write (classic pcap,
 * nanosecond magic, Ethernet, snaplen 262144: longer records cut there,
 * the wire length kept); a driver appends every packet three times
 * (member, and a link on each side). */

struct bt_capset_writer {
    char *dir;
    struct bt_pcap_writer *sgm[BT_CAPSET_MAX_MEMBERS + 1];
    struct bt_pcap_writer *client, *server;
    FILE *events, *corrections, *nat;
    uint32_t files;
    int err;
    struct bt_err e;
};

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, dir, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

struct bt_capset_writer *bt_capset_writer_open(const char *dir, struct bt_err *e)
{
    struct bt_capset_writer *w;
    int r = mkdir_p(dir);

    if (r < 0) {
        bt_err_setr(e, r, "%s: cannot create directory: %s", dir, strerror(-r));
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        bt_err_setr(e, -ENOMEM, "%s: out of memory", dir);
        return NULL;
    }
    return w;
}

/* A pcap write failed with r: the writer's first error, named. */
static int wfail(struct bt_capset_writer *w, const char *name, int r)
{
    bt_err_set(&w->e, "%s/%s: write failed: %s", w->dir, name, strerror(-r));
    return w->err = r;
}

/* Opens the capture name on its first packet (out of line: the path's
 * buffer stays off the path every packet takes). */
static __attribute__((noinline)) int wopen(struct bt_capset_writer *w,
                                           struct bt_pcap_writer **pf, const char *name)
{
    char path[4096];

    bt_capset_path(w->dir, name, path, sizeof(path));
    *pf = bt_pcap_writer_open(path, 1, 0, &w->e);
    return *pf ? 0 : (w->err = -EIO);
}

/* 0 when *pf (opened now if need be) takes writes, else the sticky error. */
static inline int wready(struct bt_capset_writer *w, struct bt_pcap_writer **pf, const char *name)
{
    if (w->err)
        return w->err;
    if (__builtin_expect(!*pf, 0) && wopen(w, pf, name) < 0)
        return w->err;
    return 0;
}

static inline int wpcap(struct bt_capset_writer *w, struct bt_pcap_writer **pf,
                        const char *name, uint64_t ts, const uint8_t *d, uint32_t caplen,
                        uint32_t wl)
{
    if (wready(w, pf, name) < 0)
        return w->err;
    int r = bt_pcap_write(*pf, ts, d, caplen, wl);
    return __builtin_expect(r < 0, 0) ? wfail(w, name, r) : r;
}

/* bt_capset_writer_sgm's other cases (the file not open yet, an error, a
 * write that failed with r, 0: none yet): out of line, with the name they
 * need, so that the call every packet makes keeps no frame for it. */
static __attribute__((noinline, cold)) int sgm_slow(struct bt_capset_writer *w, int id,
                                                    uint64_t ts_ns, const uint8_t *data,
                                                    uint32_t caplen, uint32_t wire_len, int r)
{
    char name[32];

    snprintf(name, sizeof(name), "sgm-%d.pcap", id);
    if (r < 0)
        return wfail(w, name, r);
    return wpcap(w, &w->sgm[id], name, ts_ns, data, caplen, wire_len);
}

int bt_capset_writer_sgm(struct bt_capset_writer *w, int id, uint64_t ts_ns,
                         const uint8_t *data, uint32_t caplen, uint32_t wire_len)
{
    if (id < 1 || id > BT_CAPSET_MAX_MEMBERS)
        return -EINVAL;
    /* the name only when the file is opened or a write failed: this runs
     * for every packet a member gets */
    if (__builtin_expect(w->sgm[id] && !w->err, 1)) {
        int r = bt_pcap_write(w->sgm[id], ts_ns, data, caplen, wire_len);
        if (__builtin_expect(r >= 0, 1))
            return r;
        return sgm_slow(w, id, ts_ns, data, caplen, wire_len, r);
    }
    return sgm_slow(w, id, ts_ns, data, caplen, wire_len, 0);
}

int bt_capset_writer_client(struct bt_capset_writer *w, uint64_t ts_ns, const uint8_t *data,
                            uint32_t caplen, uint32_t wire_len)
{
    w->files |= BT_CAPSET_HAS_CLIENT;
    return wpcap(w, &w->client, "client.pcap", ts_ns, data, caplen, wire_len);
}

int bt_capset_writer_server(struct bt_capset_writer *w, uint64_t ts_ns, const uint8_t *data,
                            uint32_t caplen, uint32_t wire_len)
{
    w->files |= BT_CAPSET_HAS_SERVER;
    return wpcap(w, &w->server, "server.pcap", ts_ns, data, caplen, wire_len);
}

static inline int wpkts(struct bt_capset_writer *w, struct bt_pcap_writer **pf, const char *name,
                        uint64_t ts, struct bt_pkt *const *pkts, unsigned n, uint32_t snaplen)
{
    if (wready(w, pf, name) < 0)
        return w->err;
    int r = bt_pcap_write_pkts(*pf, ts, pkts, n, snaplen);
    return __builtin_expect(r < 0, 0) ? wfail(w, name, r) : r;
}

int bt_capset_writer_client_pkts(struct bt_capset_writer *w, uint64_t ts_ns,
                                 struct bt_pkt *const *pkts, unsigned n, uint32_t snaplen)
{
    w->files |= BT_CAPSET_HAS_CLIENT;
    return wpkts(w, &w->client, "client.pcap", ts_ns, pkts, n, snaplen);
}

int bt_capset_writer_server_pkts(struct bt_capset_writer *w, uint64_t ts_ns,
                                 struct bt_pkt *const *pkts, unsigned n, uint32_t snaplen)
{
    w->files |= BT_CAPSET_HAS_SERVER;
    return wpkts(w, &w->server, "server.pcap", ts_ns, pkts, n, snaplen);
}

/* Opens a link capture that no packet has opened yet (empty until one comes). */
static int wlink_open(struct bt_capset_writer *w, struct bt_pcap_writer **pf, const char *name,
                      uint32_t bit)
{
    if (w->err)
        return w->err;
    w->files |= bit;
    if (!*pf) {
        char path[4096];
        bt_capset_path(w->dir, name, path, sizeof(path));
        *pf = bt_pcap_writer_open(path, 1, 0, &w->e);
        if (!*pf)
            return w->err = -EIO;
    }
    return 0;
}

int bt_capset_writer_links(struct bt_capset_writer *w)
{
    int r = wlink_open(w, &w->client, "client.pcap", BT_CAPSET_HAS_CLIENT);

    return r < 0 ? r : wlink_open(w, &w->server, "server.pcap", BT_CAPSET_HAS_SERVER);
}

static FILE *wjsonl(struct bt_capset_writer *w, FILE **f, const char *name, uint32_t bit)
{
    if (w->err)
        return NULL;
    if (!*f) {
        char path[4096];
        bt_capset_path(w->dir, name, path, sizeof(path));
        *f = fopen(path, "w");
        if (!*f) {
            w->err = -errno;
            bt_err_set(&w->e, "%s: cannot create: %s", path, strerror(errno));
            return NULL;
        }
    }
    w->files |= bit;
    return *f;
}

int bt_capset_writer_event(struct bt_capset_writer *w, const struct bt_event *ev)
{
    FILE *f = wjsonl(w, &w->events, "events.jsonl", BT_CAPSET_HAS_EVENTS);

    return f ? bt_event_write(f, ev) : w->err;
}

int bt_capset_writer_correction(struct bt_capset_writer *w, const struct bt_correction *c)
{
    FILE *f = wjsonl(w, &w->corrections, "corrections.jsonl", BT_CAPSET_HAS_CORRECTIONS);

    return f ? bt_correction_write(f, c) : w->err;
}

int bt_capset_writer_nat(struct bt_capset_writer *w, const struct bt_nat_map *n)
{
    FILE *f = wjsonl(w, &w->nat, "nat.jsonl", BT_CAPSET_HAS_NAT);

    return f ? bt_nat_write(f, n) : w->err;
}

static void close_file(struct bt_capset_writer *w, FILE **f)
{
    if (*f && fclose(*f) != 0 && !w->err) {
        w->err = -errno;
        bt_err_set(&w->e, "%s: write failed: %s", w->dir, strerror(errno));
    }
    *f = NULL;
}

int bt_capset_writer_close(struct bt_capset_writer *w, const struct bt_capset_meta *m,
                           struct bt_err *e)
{
    struct bt_capset_meta meta;
    int r;

    if (!w)
        return 0;
    /* every member gets its file, even when it saw nothing */
    for (unsigned i = 0; m && i < m->nmembers && !w->err; i++) {
        int id = m->ids[i];
        if (id >= 1 && id <= BT_CAPSET_MAX_MEMBERS && !w->sgm[id]) {
            char path[4096];
            bt_capset_sgm_path(w->dir, id, path, sizeof(path));
            w->sgm[id] = bt_pcap_writer_open(path, 1, 0, &w->e);
            if (!w->sgm[id])
                w->err = -EIO;
        }
    }
    /* the links come in pairs: a side nothing reached is an empty capture */
    if (w->client || w->server || (w->files & (BT_CAPSET_HAS_CLIENT | BT_CAPSET_HAS_SERVER)))
        bt_capset_writer_links(w);
    for (int id = 0; id <= BT_CAPSET_MAX_MEMBERS; id++) {
        r = bt_pcap_writer_close(w->sgm[id]);
        if (r < 0 && !w->err) {
            w->err = r;
            bt_err_set(&w->e, "%s/sgm-%d.pcap: write failed: %s", w->dir, id, strerror(-r));
        }
    }
    r = bt_pcap_writer_close(w->client);
    if (r < 0 && !w->err)
        w->err = r, bt_err_set(&w->e, "%s/client.pcap: write failed", w->dir);
    r = bt_pcap_writer_close(w->server);
    if (r < 0 && !w->err)
        w->err = r, bt_err_set(&w->e, "%s/server.pcap: write failed", w->dir);
    /* the timeline is always there, empty when nothing happened */
    wjsonl(w, &w->events, "events.jsonl", BT_CAPSET_HAS_EVENTS);
    close_file(w, &w->events);
    close_file(w, &w->corrections);
    close_file(w, &w->nat);
    if (!w->err && m) {
        meta = *m;
        meta.schema = BT_CAPSET_SCHEMA;
        meta.files = w->files;
        if (bt_capset_write_meta(w->dir, &meta, &w->e) < 0)
            w->err = -EIO;
    }
    r = w->err;
    if (r < 0 && e)
        *e = w->e;
    free(w->dir);
    free(w);
    return r;
}
