/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verify's flow table: canonical 5-tuple -> a hot value of at most 24 bytes
 * beside the key, and a cold value kept apart, iterated in insertion order.
 * Built for one thing, a pass over captures with up to millions of open
 * flows, where each packet's lookup is a cache miss: an entry (key and hot
 * value) is exactly one aligned cache line, so one prefetch is all a
 * lookup needs; an open-addressing index of 32-bit slots (entry number |
 * hash tag, linear probing, at most half full) finds it; list links, the
 * hash and the cold value (what only a flow's start, end or a rare event
 * reads) sit in a side array at the same entry number. No idle expiry (verify
 * sweeps itself) and no last-use order, which would write two more random
 * lines per packet. lib/bt_flow_table is the general table (gateway, tgen);
 * this one iterates in the same order (insertion, oldest first), so results
 * do not depend on which of the two holds the flows.
 */
#ifndef VF_FTAB_H
#define VF_FTAB_H

#include <stdint.h>
#include <string.h>

#include "bt_flow.h"
#include "bt_hash.h"

struct vf_ftab;

typedef void (*vf_ftab_fn)(const struct bt_flow_key *key, void *value, void *arg);

/* The hash the table places key by (k canonical): the five key words
 * multiplied in parallel, one finaliser. Inline, so a caller that has the
 * words in registers hashes them without storing and reloading. */
static inline uint64_t vf_ftab_hash_words(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                                          uint64_t w4)
{
    return bt_mix64((w0 * 0x9e3779b97f4a7c15ULL) ^ (w1 * 0xc2b2ae3d27d4eb4fULL) ^
                    (w2 * 0x165667b19e3779f9ULL) ^ (w3 * 0xd6e8feb86659fd93ULL) ^
                    (w4 * 0xff51afd7ed558ccdULL) ^ (w1 >> 29) ^ (w3 >> 31));
}

static inline uint64_t vf_ftab_hash(const struct bt_flow_key *k)
{
    uint64_t w[5];

    memcpy(w, k, sizeof(w));
    return vf_ftab_hash_words(w[0], w[1], w[2], w[3], w[4]);
}

/* initial entries, doubling up to max_entries when full; value_size <= 24,
 * cold_size <= 1024. The arrays are max_entries entries of address space,
 * mapped up front (pages come as they are used), so a value stays where it
 * is until its entry is removed. NULL on EINVAL/ENOMEM. */
struct vf_ftab *vf_ftab_new(uint32_t initial, uint32_t max_entries, uint32_t value_size,
                            uint32_t cold_size);
struct vf_ftab *vf_ftab_free(struct vf_ftab *t);

/* What a lookup reads of the table, the first member of struct vf_ftab:
 * here so that the per-packet prefetches and lookups inline (a call each
 * was a fifth of their instructions). Nothing else may use it. */
struct vf_ftab_ix {
    uint8_t *slab;            /* entries of VF_FTAB_ENT bytes: key, then value */
    uint32_t *index;          /* entry number + 1 | tag; 0: empty */
    uint32_t index_mask;
    uint32_t ent_mask;        /* the slot bits of entry number + 1; the rest: tag */
};

#define VF_FTAB_ENT 64u

static inline const struct vf_ftab_ix *vf_ftab_ix_(const struct vf_ftab *t)
{
    return (const struct vf_ftab_ix *)(const void *)t;
}

/* The entry the index slots of hash point at first with hash's tag, among
 * the first four slots of its probe chain, prefetched: a hint for
 * vf_ftab_lookup_hinted (NULL: none). Changes nothing. Always inlined:
 * GCC takes a function that only loads and prefetches for a pure one and
 * deletes a call whose result is unused, and with it the prefetch. */
static inline __attribute__((always_inline)) const void *
vf_ftab_prefetch_entry(const struct vf_ftab *t, uint64_t hash)
{
    const struct vf_ftab_ix *x = vf_ftab_ix_(t);
    uint32_t s = (uint32_t)hash & x->index_mask;
    uint32_t tag = (uint32_t)(hash >> 32) & ~x->ent_mask;

    for (unsigned n = 0; n < 4; n++, s = (s + 1) & x->index_mask) {
        uint32_t v = x->index[s];
        if (v == 0)
            return NULL;
        if ((v & ~x->ent_mask) == tag) {
            const uint8_t *e = x->slab + (size_t)((v & x->ent_mask) - 1) * VF_FTAB_ENT;
            __builtin_prefetch(e);
            return e;
        }
    }
    return NULL;
}

/* Prefetch hints (change nothing): stage 0 the index slot of hash; stage 1,
 * issued once that slot is likely cached, the entry it points at. Always
 * inlined (as vf_ftab_prefetch_entry); callers wrapping it must be
 * always_inline too. */
static inline __attribute__((always_inline)) void vf_ftab_prefetch(const struct vf_ftab *t,
                                                                  uint64_t hash, int stage)
{
    const struct vf_ftab_ix *x = vf_ftab_ix_(t);

    if (stage == 0) {
        __builtin_prefetch(&x->index[(uint32_t)hash & x->index_mask]);
        return;
    }
    (void)vf_ftab_prefetch_entry(t, hash);
}

static inline int vf_ftab_key_eq_(const void *a, const struct bt_flow_key *b)
{
    uint64_t x[5], y[5];

    memcpy(x, a, sizeof(x));
    memcpy(y, b, sizeof(y));
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* hash = vf_ftab_hash(key). The value, or NULL. */
static inline void *vf_ftab_lookup(const struct vf_ftab *t, const struct bt_flow_key *key,
                                   uint64_t hash)
{
    const struct vf_ftab_ix *x = vf_ftab_ix_(t);
    uint32_t s = (uint32_t)hash & x->index_mask;
    uint32_t tag = (uint32_t)(hash >> 32) & ~x->ent_mask;

    for (;;) {
        uint32_t v = x->index[s];
        if (v == 0)
            return NULL;
        if ((v & ~x->ent_mask) == tag) {
            uint8_t *e = x->slab + (size_t)((v & x->ent_mask) - 1) * VF_FTAB_ENT;
            if (vf_ftab_key_eq_(e, key))
                return e + sizeof(struct bt_flow_key);
        }
        s = (s + 1) & x->index_mask;
    }
}
/* As vf_ftab_lookup, given a hint from vf_ftab_prefetch_entry for this
 * key's hash taken at any time before (inserts, removals and growth since
 * then included): the hinted entry when it holds key (a removed entry's
 * key is spoilt, so it never does), else the lookup. */
static inline void *vf_ftab_lookup_hinted(const struct vf_ftab *t, const struct bt_flow_key *key,
                                          uint64_t hash, const void *hint)
{
    if (hint && vf_ftab_key_eq_(hint, key))
        return (uint8_t *)(uintptr_t)hint + sizeof(struct bt_flow_key);
    return vf_ftab_lookup(t, key, hash);
}

/* Adds key (which must not be in the table) with zeroed values; NULL when
 * the table holds max_entries (or cannot grow). */
void *vf_ftab_insert(struct vf_ftab *t, const struct bt_flow_key *key, uint64_t hash);
/* Removes value's entry. */
void vf_ftab_remove(struct vf_ftab *t, void *value);
/* Calls fn for every entry, oldest insert first; fn must not insert or
 * remove. */
void vf_ftab_foreach(struct vf_ftab *t, vf_ftab_fn fn, void *arg);
uint32_t vf_ftab_count(const struct vf_ftab *t);
/* The cold value of the entry whose (hot) value is value. */
void *vf_ftab_cold(const struct vf_ftab *t, const void *value);

#endif
