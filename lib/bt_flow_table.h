/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A flow table keyed by canonical 5-tuple, with fixed-size values stored
 * inline and idle expiry in last-use order. Open addressing, allocated once
 * at a fixed capacity: no allocation after bt_flowtab_new (the hot path of
 * gateway members, tgen and verify).
 */
#ifndef BT_FLOW_TABLE_H
#define BT_FLOW_TABLE_H

#include <stdint.h>
#include <stdbool.h>

struct bt_flow_key;
struct bt_flowtab;

/* Called for each expired entry before it is removed; value is the inline value. */
typedef void (*bt_flowtab_expire_fn)(const struct bt_flow_key *key, void *value, void *arg);

/* capacity: max entries; value_size: bytes of inline value; idle_ns: an entry
 * not touched for that long expires (0: never). NULL on ENOMEM/EINVAL. */
struct bt_flowtab *bt_flowtab_new(uint32_t capacity, uint32_t value_size, uint64_t idle_ns);
/* Same, starting at initial entries and doubling up to max_capacity when
 * full, so that the index of a table with few flows stays in cache. Growing
 * moves the values: a pointer from lookup/insert is valid only until the
 * next insert. NULL on ENOMEM/EINVAL. */
struct bt_flowtab *bt_flowtab_new_growable(uint32_t initial, uint32_t max_capacity,
                                           uint32_t value_size, uint64_t idle_ns);
struct bt_flowtab *bt_flowtab_free(struct bt_flowtab *t);

/* key must be canonical (bt_flow_key_canon). Returns the value or NULL. */
void *bt_flowtab_lookup(struct bt_flowtab *t, const struct bt_flow_key *key);
/* Returns the existing value (created=false), or a new zeroed one (created=true),
 * or NULL when full. Marks it used at now_ns. */
void *bt_flowtab_insert(struct bt_flowtab *t, const struct bt_flow_key *key, uint64_t now_ns,
                        bool *created);
/* The same, with hash = bt_flowtab_hash(key) computed once by the caller
 * (who may have used it to prefetch). */
uint64_t bt_flowtab_hash(const struct bt_flow_key *key);
void *bt_flowtab_lookup_hashed(struct bt_flowtab *t, const struct bt_flow_key *key, uint64_t hash);
void *bt_flowtab_insert_hashed(struct bt_flowtab *t, const struct bt_flow_key *key, uint64_t hash,
                               uint64_t now_ns, bool *created);
/* A hint that the key of this hash will be looked up soon; changes nothing.
 * Stage 0 prefetches its index slot; stage 1, issued later (once that slot
 * is likely cached), the entry the slot points at; stage 2, later still, the
 * LRU neighbours a touch of that entry writes. A pipeline of packets issues
 * them a few packets apart. */
void bt_flowtab_prefetch(const struct bt_flowtab *t, uint64_t hash, int stage);
/* Marks value (from lookup/insert) used at now_ns. */
void bt_flowtab_touch(struct bt_flowtab *t, void *value, uint64_t now_ns);
/* Removes value's entry. */
void bt_flowtab_remove(struct bt_flowtab *t, void *value);
/* The key of a value. */
const struct bt_flow_key *bt_flowtab_key(const struct bt_flowtab *t, const void *value);
/* Expires entries idle since before now_ns - idle_ns, oldest first, at most max
 * (0: no limit). Returns how many. */
unsigned bt_flowtab_expire(struct bt_flowtab *t, uint64_t now_ns, bt_flowtab_expire_fn fn,
                           void *arg, unsigned max);
/* Calls fn for every entry (order unspecified but deterministic); fn must not
 * insert or remove. */
void bt_flowtab_foreach(struct bt_flowtab *t, bt_flowtab_expire_fn fn, void *arg);
uint32_t bt_flowtab_count(const struct bt_flowtab *t);
uint32_t bt_flowtab_capacity(const struct bt_flowtab *t);
/* Bytes of memory per entry (for the state-per-flow figures). */
uint32_t bt_flowtab_entry_bytes(const struct bt_flowtab *t);

#endif
