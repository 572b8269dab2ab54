/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML loader over libyaml's event API: builds a small tree in which every
 * node keeps its line and column, so that every loader (profiles, plans,
 * cluster configs) can say exactly where a bad value is. Anchors and aliases
 * are refused: an error in an aliased node would have two places.
 */
#include "bt_yaml.h"
#include "bt_err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Every allocation of a document hangs off one list, freed at once. */
struct arena_blk {
    struct arena_blk *next;
    max_align_t data[];
};

static void *aalloc(struct bt_ydoc *d, size_t n)
{
    struct arena_blk *b = calloc(1, sizeof(*b) + n);

    if (!b)
        return NULL;
    b->next = d->arena;
    d->arena = b;
    return b->data;
}

static char *astrdup(struct bt_ydoc *d, const char *s, size_t n)
{
    char *p = aalloc(d, n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

struct ld {
    struct bt_ydoc *d;
    yaml_parser_t p;
    struct bt_err *e;
    const char *buf;    /* the whole input, for positions of reader errors */
    size_t len;
    int depth;
};

static int perr(struct ld *l, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct ld *l, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return bt_err_set(l->e, "%s:%zu:%zu: %s", l->d->path, m->line + 1, m->column + 1, msg);
}

/* libyaml's own errors. The reader (bad UTF-8, control characters) gives
 * only a byte offset: turn it into line and column from the buffer. The
 * scanner and parser give the place of the problem and of the construct it
 * was in (an unclosed quote or bracket started far above). */
static int yaml_problem(struct ld *l)
{
    const yaml_parser_t *p = &l->p;
    const char *problem = p->problem ? p->problem : "YAML syntax error";

    if (p->error == YAML_READER_ERROR) {
        yaml_mark_t m = {0, 0, 0};
        size_t off = p->problem_offset < l->len ? p->problem_offset : l->len;
        for (size_t i = 0; i < off; i++) {
            if (l->buf[i] == '\n') {
                m.line++;
                m.column = 0;
            } else if (((unsigned char)l->buf[i] & 0xc0) != 0x80) {
                m.column++;         /* columns count characters, as libyaml's do */
            }
        }
        if (p->problem_value >= 0)
            return perr(l, &m, "%s (byte 0x%02x)", problem, (unsigned)p->problem_value & 0xff);
        return perr(l, &m, "%s", problem);
    }
    const char *tab = "";
    if (p->problem_mark.index < l->len && l->buf[p->problem_mark.index] == '\t')
        tab = " (a tab: YAML indents with spaces)";
    if (p->context && (p->context_mark.line != p->problem_mark.line ||
                       p->context_mark.column != p->problem_mark.column))
        return perr(l, &p->problem_mark, "%s %s that starts at %zu:%zu%s", problem, p->context,
                    p->context_mark.line + 1, p->context_mark.column + 1, tab);
    return perr(l, &p->problem_mark, "%s%s%s%s", problem, p->context ? " " : "",
                p->context ? p->context : "", tab);
}

static int next_event(struct ld *l, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&l->p, ev))
        return yaml_problem(l);
    return 0;
}

static struct bt_ynode *new_node(struct ld *l, enum bt_ynode_kind k, const yaml_mark_t *m)
{
    struct bt_ynode *n = aalloc(l->d, sizeof(*n));

    if (n) {
        n->kind = k;
        n->line = (unsigned)m->line + 1;
        n->col = (unsigned)m->column + 1;
    }
    return n;
}

/* Appends to a growable array kept in the arena (old copies are leaked into
 * the arena until the document is freed: documents are small). */
static int grow(struct ld *l, void **arr, unsigned n, size_t elem)
{
    if (n == 0 || (n & (n - 1)) == 0) {
        unsigned cap = n ? n * 2 : 4;
        void *na = aalloc(l->d, cap * elem);
        if (!na)
            return -ENOMEM;
        if (n)
            memcpy(na, *arr, n * elem);
        *arr = na;
    }
    return 0;
}

static int load_node(struct ld *l, yaml_event_t *ev, struct bt_ynode **out);

static int load_children(struct ld *l, struct bt_ynode *n, yaml_event_type_t end)
{
    for (;;) {
        yaml_event_t ev;
        struct bt_ynode *child, *key = NULL;
        int r;

        if (next_event(l, &ev) < 0)
            return -EINVAL;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (n->kind == BT_Y_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                r = perr(l, &ev.start_mark, "a mapping key must be a plain value");
                yaml_event_delete(&ev);
                return r;
            }
            r = load_node(l, &ev, &key);
            yaml_event_delete(&ev);
            if (r < 0)
                return r;
            for (unsigned i = 0; i < n->n; i++)
                if (strcmp(n->keys[i], key->str) == 0)
                    return bt_err_set(l->e, "%s:%u:%u: duplicate key '%s' (first at line %u)",
                                      l->d->path, key->line, key->col, key->str,
                                      n->keynodes[i]->line);
            if (next_event(l, &ev) < 0)
                return -EINVAL;
        }
        r = load_node(l, &ev, &child);
        yaml_event_delete(&ev);
        if (r < 0)
            return r;
        if (grow(l, (void **)&n->items, n->n, sizeof(*n->items)) < 0)
            return -ENOMEM;
        if (n->kind == BT_Y_MAP) {
            if (grow(l, (void **)&n->keys, n->n, sizeof(*n->keys)) < 0 ||
                grow(l, (void **)&n->keynodes, n->n, sizeof(*n->keynodes)) < 0)
                return -ENOMEM;
            n->keys[n->n] = key->str;
            n->keynodes[n->n] = key;
        }
        n->items[n->n++] = child;
    }
}

/* ev: the first event of the node (owned by the caller). */
static int load_node(struct ld *l, yaml_event_t *ev, struct bt_ynode **out)
{
    struct bt_ynode *n;
    const yaml_char_t *anchor = NULL;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return perr(l, &ev->start_mark, "aliases (*name) are not supported; repeat the value");
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        break;
    default:
        return perr(l, &ev->start_mark, "unexpected YAML event");
    }
    if (anchor)
        return perr(l, &ev->start_mark, "anchors (&name) are not supported");
    if (++l->depth > 64)
        return perr(l, &ev->start_mark, "nesting deeper than 64 levels");
    if (ev->type == YAML_SCALAR_EVENT) {
        n = new_node(l, BT_Y_SCALAR, &ev->start_mark);
        if (!n || !(n->str = astrdup(l->d, (const char *)ev->data.scalar.value,
                                     ev->data.scalar.length)))
            return -ENOMEM;
        if (strlen(n->str) != ev->data.scalar.length)
            return perr(l, &ev->start_mark, "NUL character in a value");
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    } else {
        int r;
        int map = ev->type == YAML_MAPPING_START_EVENT;
        n = new_node(l, map ? BT_Y_MAP : BT_Y_SEQ, &ev->start_mark);
        if (!n)
            return -ENOMEM;
        r = load_children(l, n, map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT);
        if (r < 0)
            return r;
    }
    l->depth--;
    *out = n;
    return 0;
}

static struct bt_ydoc *load(const char *name, const char *buf, size_t len, struct bt_err *e)
{
    struct ld l = {0};
    yaml_event_t ev;
    int r = -EINVAL, docs = 0;

    l.e = e;
    l.buf = buf;
    l.len = len;
    l.d = calloc(1, sizeof(*l.d));
    if (!l.d || !(l.d->path = strdup(name))) {
        bt_err_setr(e, -ENOMEM, "%s: out of memory", name);
        goto fail_nop;
    }
    if (!yaml_parser_initialize(&l.p)) {
        bt_err_setr(e, -ENOMEM, "%s: out of memory", name);
        goto fail_nop;
    }
    yaml_parser_set_input_string(&l.p, (const unsigned char *)buf, len);
    for (;;) {
        if (next_event(&l, &ev) < 0)
            goto fail;
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_DOCUMENT_START_EVENT) {
            if (++docs > 1) {
                perr(&l, &ev.start_mark, "more than one YAML document (---) in the file");
                yaml_event_delete(&ev);
                goto fail;
            }
        } else if (ev.type != YAML_STREAM_START_EVENT && ev.type != YAML_DOCUMENT_END_EVENT) {
            r = load_node(&l, &ev, &l.d->root);
            if (r < 0) {
                yaml_event_delete(&ev);
                goto fail;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&l.p);
    return l.d;
fail:
    yaml_parser_delete(&l.p);
fail_nop:
    bt_yaml_free(l.d);
    return NULL;
}

#define YAML_MAX_BYTES (64u << 20)

struct bt_ydoc *bt_yaml_load(const char *path, struct bt_err *e)
{
    FILE *f = fopen(path, "rb");
    struct bt_ydoc *d = NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0, k;

    if (!f) {
        bt_err_setr(e, -errno, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* whole file in memory: configs are small, and reader errors come as
     * byte offsets that need the text to become line:column */
    do {
        if (n == cap) {
            char *nb;
            if (cap >= YAML_MAX_BYTES) {
                bt_err_setr(e, -EFBIG, "%s: larger than 64 MiB, not a configuration", path);
                goto out;
            }
            cap = cap ? cap * 2 : 8192;
            if (!(nb = realloc(buf, cap))) {
                bt_err_setr(e, -ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    if (ferror(f)) {
        bt_err_setr(e, -EIO, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    d = load(path, buf, n, e);
out:
    fclose(f);
    free(buf);
    return d;
}

struct bt_ydoc *bt_yaml_load_mem(const char *name, const char *buf, size_t len, struct bt_err *e)
{
    return load(name, buf, len, e);
}

struct bt_ydoc *bt_yaml_free(struct bt_ydoc *d)
{
    if (!d)
        return NULL;
    for (struct arena_blk *b = d->arena, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    free(d->path);
    free(d);
    return NULL;
}

const struct bt_ynode *bt_y_get(const struct bt_ynode *map, const char *key)
{
    if (!map || map->kind != BT_Y_MAP)
        return NULL;
    for (unsigned i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

int bt_y_error(const struct bt_ydoc *d, const struct bt_ynode *n, struct bt_err *e,
               const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!n)
        return bt_err_set(e, "%s: %s", d->path, msg);
    return bt_err_set(e, "%s:%u:%u: %s", d->path, n->line, n->col, msg);
}

static const char *kind_name(enum bt_ynode_kind k)
{
    return k == BT_Y_MAP ? "a mapping" : k == BT_Y_SEQ ? "a list" : "a value";
}

int bt_y_check_keys(const struct bt_ydoc *d, const struct bt_ynode *map, const char *what,
                    const char *const *allowed, struct bt_err *e)
{
    if (!map || map->kind != BT_Y_MAP)
        return bt_y_error(d, map, e, "%s: expected a mapping, found %s", what,
                          map ? kind_name(map->kind) : "nothing");
    for (unsigned i = 0; i < map->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, map->keys[i]) == 0)
                ok = 1;
        if (!ok) {
            char list[300] = "";
            size_t off = 0;
            for (const char *const *a = allowed; *a && off < sizeof(list) - 1; a++)
                off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
                                        a == allowed ? "" : ", ", *a);
            return bt_y_error(d, map->keynodes[i], e,
                              "unknown field '%s' in %s (expected one of: %s)", map->keys[i],
                              what, list);
        }
    }
    return 0;
}

static int need_scalar(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                       struct bt_err *e)
{
    if (!n)
        return bt_y_error(d, NULL, e, "%s: missing", field);
    if (n->kind != BT_Y_SCALAR)
        return bt_y_error(d, n, e, "%s: expected a single value, found %s", field,
                          kind_name(n->kind));
    return 0;
}

int bt_y_int(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field, int64_t min,
             int64_t max, int64_t *out, struct bt_err *e)
{
    char *end;
    long long v;

    if (need_scalar(d, n, field, e) < 0)
        return -EINVAL;
    /* decimal, or hex with 0x; a leading zero is not octal ("010" is 10:
     * nobody writes octal weights or ports on purpose) */
    const char *s = n->str, *digits = s + (*s == '-' || *s == '+');
    int hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
    errno = 0;
    v = strtoll(s, &end, hex ? 16 : 10);
    if (!s[0] || *end || errno || !((*digits >= '0' && *digits <= '9')) ||
        (hex && !digits[2]))
        return bt_y_error(d, n, e, "%s: '%s' is not an integer", field, n->str);
    if (v < min || v > max)
        return bt_y_error(d, n, e, "%s: %lld is out of range %lld..%lld", field, v,
                          (long long)min, (long long)max);
    *out = v;
    return 0;
}

int bt_y_double(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field, double min,
                double max, double *out, struct bt_err *e)
{
    char *end;
    double v;

    if (need_scalar(d, n, field, e) < 0)
        return -EINVAL;
    v = strtod(n->str, &end);
    if (!n->str[0] || *end || !isfinite(v))
        return bt_y_error(d, n, e, "%s: '%s' is not a number", field, n->str);
    if (v < min || v > max)
        return bt_y_error(d, n, e, "%s: %.15g is out of range %.15g..%.15g", field, v, min, max);
    *out = v;
    return 0;
}

int bt_y_bool(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field, bool *out,
              struct bt_err *e)
{
    static const char *const t[] = {"true", "yes", "on", "True", "TRUE", "Yes", "On"};
    static const char *const f[] = {"false", "no", "off", "False", "FALSE", "No", "Off"};

    if (need_scalar(d, n, field, e) < 0)
        return -EINVAL;
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(n->str, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(n->str, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return bt_y_error(d, n, e, "%s: '%s' is not true or false", field, n->str);
}

int bt_y_str(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
             const char **out, struct bt_err *e)
{
    if (need_scalar(d, n, field, e) < 0)
        return -EINVAL;
    *out = n->str;
    return 0;
}

/* A decimal number as the docs write them (digits, a point, an exponent):
 * not what else strtod takes (leading space or sign, hex, inf, nan). */
static bool plain_number(const char *s)
{
    if (!s || !(isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]))))
        return false;
    return !strpbrk(s, "xX");
}

int bt_parse_duration_ns(const char *s, uint64_t *out)
{
    static const struct {
        const char *suf;
        double mul;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
                 {"", 1e9}};
    char *end;
    double v;

    if (!plain_number(s))
        return -EINVAL;
    v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return -EINVAL;
    for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suf) == 0) {
            double ns = v * units[i].mul;
            if (!(ns <= 1.8e19))
                return -ERANGE;
            /* not llround: its long long ends at 9.2e18 */
            *out = (uint64_t)(ns + 0.5);
            return 0;
        }
    }
    return -EINVAL;
}

int bt_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int bt_parse_quantity(const char *s, double *out)
{
    char *end;
    double v, mul = 1;

    if (!plain_number(s))
        return -EINVAL;
    v = strtod(s, &end);
    if (end == s || !isfinite(v))
        return -EINVAL;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1e3; break;
        case 'M': mul = 1e6; break;
        case 'G': mul = 1e9; break;
        default: return -EINVAL;
        }
        if (end[1])
            return -EINVAL;
    }
    if (!isfinite(v * mul))
        return -ERANGE;
    *out = v * mul;
    return 0;
}

int bt_y_duration_ns(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                     uint64_t *out, struct bt_err *e)
{
    if (need_scalar(d, n, field, e) < 0)
        return -EINVAL;
    if (bt_parse_duration_ns(n->str, out) < 0)
        return bt_y_error(d, n, e,
                          "%s: '%s' is not a duration (e.g. 250ms, 2s, 1.5s, 10us, 1m)", field,
                          n->str);
    return 0;
}

int bt_y_quantity(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                  double min, double max, double *out, struct bt_err *e)
{
    double v;

    if (need_scalar(d, n, field, e) < 0)
        return -EINVAL;
    if (bt_parse_quantity(n->str, &v) < 0)
        return bt_y_error(d, n, e, "%s: '%s' is not a number (suffixes k, M, G allowed)", field,
                          n->str);
    if (v < min || v > max)
        return bt_y_error(d, n, e, "%s: %.15g is out of range %.15g..%.15g", field, v, min, max);
    *out = v;
    return 0;
}

int bt_y_whole(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
               double min, double max, uint64_t *out, struct bt_err *e)
{
    double q;
    int r;

    if ((r = bt_y_quantity(d, n, field, min, max, &q, e)) < 0)
        return r;
    if (q != floor(q))
        return bt_y_error(d, n, e, "%s: '%s' is not a whole number (give %.15g..%.15g, k/M/G "
                          "suffixes allowed)", field, n->str, min, max);
    *out = (uint64_t)q;
    return 0;
}
