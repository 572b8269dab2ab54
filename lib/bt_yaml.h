/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A YAML loader over libyaml that keeps file:line:column for every node, so
 * profiles, plans and cluster configs report errors precisely. Loads one
 * document into a tree of maps, sequences and scalars (anchors/aliases are
 * rejected to keep errors local). All strings are owned by the document.
 */
#ifndef BT_YAML_H
#define BT_YAML_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct bt_err;

enum bt_ynode_kind { BT_Y_SCALAR = 0, BT_Y_MAP, BT_Y_SEQ };

struct bt_ynode {
    enum bt_ynode_kind kind;
    unsigned line, col;        /* 1-based */
    const char *str;           /* scalar text (BT_Y_SCALAR) */
    bool quoted;               /* scalar was quoted (so "1" stays a string) */
    unsigned n;                /* children (map: pairs, seq: items) */
    const char **keys;         /* map keys (n) */
    struct bt_ynode **keynodes;/* map key nodes (for key positions) */
    struct bt_ynode **items;   /* map values or seq items (n) */
};

struct bt_ydoc {
    char *path;
    struct bt_ynode *root;     /* NULL for an empty document */
    void *arena;               /* internal */
};

/* Loads path. NULL with e = "path:line:col: problem" on error. */
struct bt_ydoc *bt_yaml_load(const char *path, struct bt_err *e);
/* Same from memory; name is used in messages. */
struct bt_ydoc *bt_yaml_load_mem(const char *name, const char *buf, size_t len, struct bt_err *e);
struct bt_ydoc *bt_yaml_free(struct bt_ydoc *d);

/* Map lookup; NULL if absent or map is not a map. */
const struct bt_ynode *bt_y_get(const struct bt_ynode *map, const char *key);
/* Fails with "path:line:col: unknown field 'x' in <what> (expected one of a, b, c)"
 * if map has a key not in allowed (NULL-terminated). Also fails if map is
 * not a map ("expected a mapping"). */
int bt_y_check_keys(const struct bt_ydoc *d, const struct bt_ynode *map, const char *what,
                    const char *const *allowed, struct bt_err *e);
/* Typed scalar readers: -EINVAL with "path:line:col: field: problem". */
int bt_y_int(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
             int64_t min, int64_t max, int64_t *out, struct bt_err *e);
int bt_y_double(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                double min, double max, double *out, struct bt_err *e);
int bt_y_bool(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
              bool *out, struct bt_err *e);
int bt_y_str(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
             const char **out, struct bt_err *e);
/* Durations "250ms", "2s", "1.5s", "10us", "100ns", "1m" (bare number: seconds). */
int bt_y_duration_ns(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                     uint64_t *out, struct bt_err *e);
/* Rates and counts with K/M/G suffixes ("10k", "1.5M"). */
int bt_y_quantity(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                  double min, double max, double *out, struct bt_err *e);
/* A count with the same suffixes ("10k", "1.5k" = 1500) that must come out
 * whole: "2.7" is refused, not truncated. */
int bt_y_whole(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
               double min, double max, uint64_t *out, struct bt_err *e);
/* Sets e to "path:line:col: msg" for node n; returns -EINVAL. */
int bt_y_error(const struct bt_ydoc *d, const struct bt_ynode *n, struct bt_err *e,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Same parsers on plain strings, for command-line flags. */
int bt_parse_duration_ns(const char *s, uint64_t *out);
int bt_parse_quantity(const char *s, double *out);
/* A decimal integer of digits only (strtoull also takes " 5", "+5" and
 * "-1" as 2^64-1) up to max: 0, or -EINVAL. */
int bt_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
