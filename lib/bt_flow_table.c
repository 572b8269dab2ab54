/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table: entries live in one slab (key, LRU links, last use, inline
 * value); a separate open-addressing index of 32-bit slots (linear probing,
 * at most 50% full) points into the slab. Each slot holds the entry number
 * in its low bits and, in the bits the capacity leaves free, a tag of the
 * key's hash: a probe compares keys (a cache miss on the slab) only when the
 * tag matches. Deletion shifts later probe-chain members back (no
 * tombstones), so lookups never degrade. The LRU list, in last-use order,
 * makes idle expiry O(expired).
 */
#include "bt_flow_table.h"
#include "bt_flow.h"
#include "bt_hash.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define FREE (UINT32_MAX - 1)   /* prev of an entry on the free list */
#define GROW_CHUNK 32           /* grow: entries hashed (their index slots prefetched) together */

/* 56 bytes: the index slot of an entry is found by probing on removal
 * rather than stored, to keep entries small. */
struct ent_hdr {
    struct bt_flow_key key;   /* 40 bytes */
    uint32_t prev, next;      /* LRU (or FREE, and the free list in next) */
    uint64_t last_ns;
};
_Static_assert(sizeof(struct ent_hdr) == 56, "flow table entry header grew");

struct bt_flowtab {
    uint8_t *slab;
    uint32_t *index;          /* entry number + 1 | tag; 0 = empty */
    uint32_t index_mask;
    uint32_t ent_mask;        /* slot bits holding entry number + 1; the rest: tag */
    uint32_t stride;
    uint32_t stride_shift;    /* stride = 2^stride_shift * an odd number whose inverse mod 2^64 is */
    uint64_t stride_inv;      /* this: value_ent divides exactly without a divide instruction */
    uint32_t capacity, count;
    uint32_t max_capacity;    /* > capacity: the table may grow (values move) */
    uint32_t value_size;
    uint32_t free_head;       /* entries freed by remove/expire */
    uint32_t next_unused;     /* entries never used start here (lazy: untouched pages stay free) */
    uint32_t lru_head, lru_tail;  /* head = least recently used */
    uint64_t idle_ns;
};

static inline struct ent_hdr *ent(const struct bt_flowtab *t, uint32_t i)
{
    return (struct ent_hdr *)(t->slab + (size_t)i * t->stride);
}

static inline void *ent_value(const struct bt_flowtab *t, uint32_t i)
{
    return t->slab + (size_t)i * t->stride + sizeof(struct ent_hdr);
}

/* The offset is an exact multiple of the stride: shifting out its power of
 * two and multiplying by the odd part's inverse divides exactly (a touch
 * per packet would otherwise wait for a 64-bit divide). */
static inline uint32_t value_ent(const struct bt_flowtab *t, const void *v)
{
    uint64_t off = (uint64_t)((const uint8_t *)v - sizeof(struct ent_hdr) - t->slab);

    return (uint32_t)((off >> t->stride_shift) * t->stride_inv);
}

/* Word i of a key. One 8-byte memcpy a word: a memcpy of the whole key
 * into an array made the compiler copy it through the stack first (a
 * store and a reload a word, in every lookup). */
static inline uint64_t key_word(const struct bt_flow_key *k, unsigned i)
{
    uint64_t w;

    memcpy(&w, (const uint8_t *)k + 8 * i, sizeof(w));
    return w;
}

/* The five key words multiplied by odd constants in parallel, then one
 * finaliser: a short dependency chain (the lookup of every packet waits on
 * it); the finaliser spreads the high bits the products leave unmixed. */
static inline uint64_t key_hash(const struct bt_flow_key *k)
{
    uint64_t w0 = key_word(k, 0), w1 = key_word(k, 1), w2 = key_word(k, 2);
    uint64_t w3 = key_word(k, 3), w4 = key_word(k, 4);

    return bt_mix64((w0 * 0x9e3779b97f4a7c15ULL) ^ (w1 * 0xc2b2ae3d27d4eb4fULL) ^
                    (w2 * 0x165667b19e3779f9ULL) ^ (w3 * 0xd6e8feb86659fd93ULL) ^
                    (w4 * 0xff51afd7ed558ccdULL) ^ (w1 >> 29) ^ (w3 >> 31));
}

static inline uint32_t slot_tag(const struct bt_flowtab *t, uint64_t h)
{
    return (uint32_t)(h >> 32) & ~t->ent_mask;
}

uint64_t bt_flowtab_hash(const struct bt_flow_key *key)
{
    return key_hash(key);
}

struct bt_flowtab *bt_flowtab_new(uint32_t capacity, uint32_t value_size, uint64_t idle_ns)
{
    struct bt_flowtab *t;
    uint64_t isz = 16;

    if (capacity == 0 || capacity > (1U << 30))
        return NULL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    while (isz < (uint64_t)capacity * 2)
        isz <<= 1;
    t->stride = (uint32_t)((sizeof(struct ent_hdr) + value_size + 7) & ~7U);
    {
        uint64_t odd = t->stride, inv;
        while (!(odd & 1)) {
            odd >>= 1;
            t->stride_shift++;
        }
        inv = odd;   /* Newton's iteration: each step doubles the correct low bits */
        for (int k = 0; k < 6; k++)
            inv *= 2 - odd * inv;
        t->stride_inv = inv;
    }
    t->slab = calloc(capacity, t->stride);
    t->index = calloc(isz, sizeof(*t->index));
    if (!t->slab || !t->index)
        return bt_flowtab_free(t);
    t->index_mask = (uint32_t)(isz - 1);
    t->capacity = capacity;
    t->max_capacity = capacity;
    t->ent_mask = 1;
    while (t->ent_mask < capacity)
        t->ent_mask = t->ent_mask << 1 | 1;
    t->value_size = value_size;
    t->idle_ns = idle_ns;
    t->lru_head = t->lru_tail = NIL;
    t->free_head = NIL;
    return t;
}

struct bt_flowtab *bt_flowtab_new_growable(uint32_t initial, uint32_t max_capacity,
                                           uint32_t value_size, uint64_t idle_ns)
{
    struct bt_flowtab *t;

    if (initial == 0 || max_capacity < initial || max_capacity > (1U << 30))
        return NULL;
    t = bt_flowtab_new(initial, value_size, idle_ns);
    if (t) {
        t->max_capacity = max_capacity;
        while (t->ent_mask < max_capacity)
            t->ent_mask = t->ent_mask << 1 | 1;
    }
    return t;
}

/* Doubles the slab and rebuilds the index: a small index stays in cache,
 * which matters more than the rehash (amortised O(1) per insert). */
static int grow(struct bt_flowtab *t)
{
    uint64_t cap = (uint64_t)t->capacity * 2, isz = 16;
    uint8_t *slab;
    uint32_t *index;

    if (cap > t->max_capacity)
        cap = t->max_capacity;
    while (isz < cap * 2)
        isz <<= 1;
    slab = realloc(t->slab, (size_t)cap * t->stride);
    if (!slab)
        return -1;
    t->slab = slab;
    /* the new entries are not cleared: an entry is written whole when
     * first used (next_unused), and nothing reads one before */
    index = calloc(isz, sizeof(*index));
    if (!index)
        return -1;
    free(t->index);
    t->index = index;
    t->index_mask = (uint32_t)(isz - 1);
    t->capacity = (uint32_t)cap;
    /* every entry in use, in slab order (a sequential walk, where the LRU
     * order would miss the cache at each entry), a chunk at a time: the
     * chunk's keys hashed and their new slots prefetched, then placed in
     * the same order; where an entry lands in the index changes nothing but
     * the probe lengths */
    for (uint32_t b = 0; b < t->next_unused; b += GROW_CHUNK) {
        uint32_t k = t->next_unused - b < GROW_CHUNK ? t->next_unused - b : GROW_CHUNK;
        uint64_t hs[GROW_CHUNK];
        uint32_t used = 0;
        for (uint32_t j = 0; j < k; j++) {
            const struct ent_hdr *a = ent(t, b + j);
            if (a->prev == FREE)
                continue;
            used |= 1U << j;
            hs[j] = key_hash(&a->key);
            __builtin_prefetch(&index[(uint32_t)hs[j] & t->index_mask], 1);
        }
        for (; used; used &= used - 1) {
            uint32_t j = (uint32_t)__builtin_ctz(used), sl = (uint32_t)hs[j] & t->index_mask;
            while (index[sl])
                sl = (sl + 1) & t->index_mask;
            index[sl] = (b + j + 1) | slot_tag(t, hs[j]);
        }
    }
    return 0;
}

struct bt_flowtab *bt_flowtab_free(struct bt_flowtab *t)
{
    if (t) {
        free(t->slab);
        free(t->index);
        free(t);
    }
    return NULL;
}

static void lru_unlink(struct bt_flowtab *t, uint32_t i)
{
    struct ent_hdr *e = ent(t, i);

    if (e->prev != NIL)
        ent(t, e->prev)->next = e->next;
    else
        t->lru_head = e->next;
    if (e->next != NIL)
        ent(t, e->next)->prev = e->prev;
    else
        t->lru_tail = e->prev;
}

static void lru_append(struct bt_flowtab *t, uint32_t i)
{
    struct ent_hdr *e = ent(t, i);

    e->prev = t->lru_tail;
    e->next = NIL;
    if (t->lru_tail != NIL)
        ent(t, t->lru_tail)->next = i;
    else
        t->lru_head = i;
    t->lru_tail = i;
}

static inline int key_eq(const struct bt_flow_key *a, const struct bt_flow_key *b)
{
    return ((key_word(a, 0) ^ key_word(b, 0)) | (key_word(a, 1) ^ key_word(b, 1)) |
            (key_word(a, 2) ^ key_word(b, 2)) | (key_word(a, 3) ^ key_word(b, 3)) |
            (key_word(a, 4) ^ key_word(b, 4))) == 0;
}

/* Slot holding key, or the empty slot where it would go (*found = 0).
 * Inlined into lookup and insert (every packet's lookup: the call's
 * prologue and epilogue cost ~15 instructions of its ~70). */
static inline __attribute__((always_inline)) uint32_t probe(const struct bt_flowtab *t,
                                                            const struct bt_flow_key *key,
                                                            uint64_t h, int *found)
{
    uint32_t s = (uint32_t)h & t->index_mask, tag = slot_tag(t, h);

    for (;;) {
        uint32_t v = t->index[s];
        if (v == 0) {
            *found = 0;
            return s;
        }
        if ((v & ~t->ent_mask) == tag && key_eq(&ent(t, (v & t->ent_mask) - 1)->key, key)) {
            *found = 1;
            return s;
        }
        s = (s + 1) & t->index_mask;
    }
}

void bt_flowtab_prefetch(const struct bt_flowtab *t, uint64_t hash, int stage)
{
    uint32_t s = (uint32_t)hash & t->index_mask;

    if (stage == 0) {
        __builtin_prefetch(&t->index[s]);
        return;
    }
    /* the entry of the first slot with a matching tag (usually the one) */
    uint32_t tag = slot_tag(t, hash);
    for (unsigned n = 0; n < 4; n++, s = (s + 1) & t->index_mask) {
        uint32_t v = t->index[s];
        if (v == 0)
            return;
        if ((v & ~t->ent_mask) != tag)
            continue;
        const struct ent_hdr *e = ent(t, (v & t->ent_mask) - 1);
        if (stage == 1) {
            __builtin_prefetch(e);
            __builtin_prefetch((const uint8_t *)e + t->stride - 1);
        } else {
            /* a touch relinks the LRU neighbours: their links are written */
            if (e->prev != NIL)
                __builtin_prefetch(&ent(t, e->prev)->next, 1);
            if (e->next != NIL)
                __builtin_prefetch(&ent(t, e->next)->prev, 1);
        }
        return;
    }
}

void *bt_flowtab_lookup_hashed(struct bt_flowtab *t, const struct bt_flow_key *key, uint64_t hash)
{
    int found;
    uint32_t s = probe(t, key, hash, &found);

    return found ? ent_value(t, (t->index[s] & t->ent_mask) - 1) : NULL;
}

void *bt_flowtab_lookup(struct bt_flowtab *t, const struct bt_flow_key *key)
{
    return bt_flowtab_lookup_hashed(t, key, key_hash(key));
}

void *bt_flowtab_insert_hashed(struct bt_flowtab *t, const struct bt_flow_key *key, uint64_t hash,
                               uint64_t now_ns, bool *created)
{
    int found;
    uint32_t s = probe(t, key, hash, &found), i;
    struct ent_hdr *e;

    if (found) {
        i = (t->index[s] & t->ent_mask) - 1;
        if (created)
            *created = false;
        bt_flowtab_touch(t, ent_value(t, i), now_ns);
        return ent_value(t, i);
    }
    if (t->free_head != NIL) {
        i = t->free_head;
        e = ent(t, i);
        t->free_head = e->next;
    } else {
        if (t->next_unused == t->capacity) {
            if (t->capacity >= t->max_capacity || grow(t) < 0)
                return NULL;
            s = probe(t, key, hash, &found);
        }
        i = t->next_unused++;
        e = ent(t, i);
    }
    memcpy(&e->key, key, sizeof(*key));
    e->last_ns = now_ns;
    memset(ent_value(t, i), 0, t->value_size);
    t->index[s] = (i + 1) | slot_tag(t, hash);
    lru_append(t, i);
    t->count++;
    if (created)
        *created = true;
    return ent_value(t, i);
}

void *bt_flowtab_insert(struct bt_flowtab *t, const struct bt_flow_key *key, uint64_t now_ns,
                        bool *created)
{
    return bt_flowtab_insert_hashed(t, key, key_hash(key), now_ns, created);
}

void bt_flowtab_touch(struct bt_flowtab *t, void *value, uint64_t now_ns)
{
    uint32_t i = value_ent(t, value);
    struct ent_hdr *e = ent(t, i);

    if (now_ns > e->last_ns)
        e->last_ns = now_ns;
    if (t->lru_tail != i) {
        lru_unlink(t, i);
        lru_append(t, i);
    }
}

const struct bt_flow_key *bt_flowtab_key(const struct bt_flowtab *t, const void *value)
{
    return &ent(t, value_ent(t, value))->key;
}

static void remove_ent(struct bt_flowtab *t, uint32_t i)
{
    struct ent_hdr *e = ent(t, i);
    uint32_t hole = (uint32_t)key_hash(&e->key) & t->index_mask, s;

    while ((t->index[hole] & t->ent_mask) != i + 1)
        hole = (hole + 1) & t->index_mask;
    s = hole;
    lru_unlink(t, i);
    t->index[hole] = 0;
    /* backward-shift deletion: move later chain members into the hole when
     * their home slot does not lie (cyclically) between hole and them */
    for (;;) {
        s = (s + 1) & t->index_mask;
        uint32_t v = t->index[s];
        if (v == 0)
            break;
        struct ent_hdr *m = ent(t, (v & t->ent_mask) - 1);
        uint32_t home = (uint32_t)key_hash(&m->key) & t->index_mask;
        uint32_t d_home = (s - home) & t->index_mask, d_hole = (s - hole) & t->index_mask;
        if (d_home >= d_hole) {
            t->index[hole] = v;
            t->index[s] = 0;
            hole = s;
        }
    }
    e->prev = FREE;
    e->next = t->free_head;
    t->free_head = i;
    t->count--;
}

void bt_flowtab_remove(struct bt_flowtab *t, void *value)
{
    remove_ent(t, value_ent(t, value));
}

unsigned bt_flowtab_expire(struct bt_flowtab *t, uint64_t now_ns, bt_flowtab_expire_fn fn,
                           void *arg, unsigned max)
{
    unsigned n = 0;

    if (t->idle_ns == 0 || now_ns < t->idle_ns)
        return 0;
    while (t->lru_head != NIL && (max == 0 || n < max)) {
        uint32_t i = t->lru_head;
        struct ent_hdr *e = ent(t, i);
        if (e->last_ns >= now_ns - t->idle_ns)
            break;
        if (fn)
            fn(&e->key, ent_value(t, i), arg);
        remove_ent(t, i);
        n++;
    }
    return n;
}

void bt_flowtab_foreach(struct bt_flowtab *t, bt_flowtab_expire_fn fn, void *arg)
{
    for (uint32_t i = t->lru_head; i != NIL;) {
        uint32_t nx = ent(t, i)->next;
        fn(&ent(t, i)->key, ent_value(t, i), arg);
        i = nx;
    }
}

uint32_t bt_flowtab_count(const struct bt_flowtab *t)
{
    return t->count;
}

uint32_t bt_flowtab_capacity(const struct bt_flowtab *t)
{
    return t->capacity;
}

uint32_t bt_flowtab_entry_bytes(const struct bt_flowtab *t)
{
    return t->stride + (uint32_t)(((uint64_t)t->index_mask + 1) * sizeof(uint32_t) / t->capacity);
}
