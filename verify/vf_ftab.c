/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verify's flow table (see vf_ftab.h). Entries (key and hot value, one
 * cache line) live in one slab, and beside it, at the same entry number,
 * a side record (list links, the key's hash, the cold value): each array
 * mapped at its largest size up front (address space only: pages come as
 * they are first written, as transparent huge pages where the kernel
 * allows, which also spares a TLB miss per random lookup), so growing never
 * copies entries and only the index is rebuilt, from a sequential walk of
 * the side records. Freed entries are reused through a free list; the
 * insertion-order list is doubly linked through the side records (a
 * removal writes its two neighbours: once per flow, not per packet).
 * Deletion from the index shifts later probe-chain members back (no
 * tombstones).
 */
#include "vf_ftab.h"

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#define NIL UINT32_MAX
#define FREE (UINT32_MAX - 1)  /* prev of an entry on the free list */
#define ENT VF_FTAB_ENT
#define VALUE_MAX (ENT - 40u)

struct ent {
    struct bt_flow_key key;   /* 40 bytes */
    uint8_t value[VALUE_MAX];
};
_Static_assert(sizeof(struct ent) == ENT, "an entry is one cache line");
_Static_assert(offsetof(struct ent, value) == sizeof(struct bt_flow_key),
               "vf_ftab_lookup finds the value right after the key");

struct side {
    uint32_t prev, next;      /* insertion order (next: the free list once freed) */
    uint64_t hash;
    uint8_t cold[];           /* cold_size bytes */
};

struct vf_ftab {
    struct vf_ftab_ix ix;     /* first: the header's inline lookups read it */
    struct ent *slab;         /* = ix.slab: page-aligned, max_cap entries of address space */
    size_t slab_bytes;
    uint8_t *side;            /* max_cap side records of side_size bytes */
    size_t side_bytes;
    uint32_t side_size;
    uint32_t cold_size;
    size_t index_bytes;       /* of ix.index */
    uint32_t cap, max_cap, count;
    uint32_t value_size;
    uint32_t next_unused;     /* entries never used start here */
    uint32_t free_head;
    uint32_t head, tail;      /* oldest, newest */
};

static inline uint32_t tag_of(const struct vf_ftab *t, uint64_t h)
{
    return (uint32_t)(h >> 32) & ~t->ix.ent_mask;
}

static inline uint32_t ent_of_value(const struct vf_ftab *t, const void *v)
{
    return (uint32_t)(((const uint8_t *)v - (const uint8_t *)t->slab) / ENT);
}

static inline struct side *side_of(const struct vf_ftab *t, uint32_t i)
{
    return (struct side *)(t->side + (size_t)i * t->side_size);
}

/* Anonymous zeroed memory, as huge pages where the kernel allows. */
static void *map_bytes(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);

    if (p == MAP_FAILED)
        return NULL;
    (void)madvise(p, n, MADV_HUGEPAGE);
    return p;
}

/* A fresh index of 2 x cap slots (at most half full), filled from a
 * sequential walk of the entries in use. */
static int reindex(struct vf_ftab *t)
{
    uint64_t isz = 16;

    while (isz < (uint64_t)t->cap * 2)
        isz <<= 1;
    uint32_t *ix = map_bytes(isz * sizeof(*ix));
    if (!ix)
        return -1;
    if (t->ix.index)
        munmap(t->ix.index, t->index_bytes);
    t->ix.index = ix;
    t->index_bytes = isz * sizeof(*ix);
    t->ix.index_mask = (uint32_t)(isz - 1);
    for (uint32_t i = 0; i < t->next_unused; i++) {
        const struct side *sd = side_of(t, i);
        if (sd->prev == FREE)
            continue;
        uint64_t h = sd->hash;
        uint32_t s = (uint32_t)h & t->ix.index_mask;
        while (ix[s])
            s = (s + 1) & t->ix.index_mask;
        ix[s] = (i + 1) | tag_of(t, h);
    }
    return 0;
}

struct vf_ftab *vf_ftab_new(uint32_t initial, uint32_t max_entries, uint32_t value_size,
                            uint32_t cold_size)
{
    struct vf_ftab *t;

    if (initial == 0 || max_entries < initial || max_entries > (1U << 30) ||
        value_size > VALUE_MAX || cold_size > 1024)
        return NULL;
    if (!(t = calloc(1, sizeof(*t))))
        return NULL;
    t->cap = initial;
    t->max_cap = max_entries;
    t->value_size = value_size;
    t->ix.ent_mask = 1;
    while (t->ix.ent_mask < max_entries)
        t->ix.ent_mask = t->ix.ent_mask << 1 | 1;
    t->free_head = t->head = t->tail = NIL;
    t->cold_size = cold_size;
    t->side_size = (uint32_t)((sizeof(struct side) + cold_size + 7) & ~7u);
    /* where address space is limited (ulimit -v, strict overcommit), fewer
     * entries rather than none: the table is then full sooner, and
     * vf_check makes a table full short of what it asked for an error
     * (never flows miscounted as not parsed) */
    for (;;) {
        t->slab_bytes = (size_t)t->max_cap * ENT;
        t->side_bytes = (size_t)t->max_cap * t->side_size;
        t->slab = map_bytes(t->slab_bytes);
        t->ix.slab = (uint8_t *)t->slab;
        t->side = map_bytes(t->side_bytes);
        if ((t->slab && t->side) || t->max_cap / 2 < initial)
            break;
        if (t->slab)
            munmap(t->slab, t->slab_bytes);
        if (t->side)
            munmap(t->side, t->side_bytes);
        t->slab = NULL;
        t->ix.slab = NULL;
        t->side = NULL;
        t->max_cap /= 2;
    }
    if (!t->slab || !t->side || reindex(t) < 0)
        return vf_ftab_free(t);
    return t;
}

struct vf_ftab *vf_ftab_free(struct vf_ftab *t)
{
    if (t) {
        if (t->slab)
            munmap(t->slab, t->slab_bytes);
        if (t->side)
            munmap(t->side, t->side_bytes);
        if (t->ix.index)
            munmap(t->ix.index, t->index_bytes);
        free(t);
    }
    return NULL;
}

/* Quadruples the entries the index is sized for (the slab is mapped whole):
 * fewer rebuilds (each walks every entry) than doubling, for at most twice
 * the index memory. */
static int grow(struct vf_ftab *t)
{
    uint64_t cap = (uint64_t)t->cap * 4;

    if (cap > t->max_cap)
        cap = t->max_cap;
    uint32_t old = t->cap;
    t->cap = (uint32_t)cap;
    if (reindex(t) < 0) {
        t->cap = old;
        return -1;
    }
    return 0;
}

/* The slot holding key, or the empty one where it would go (*found 0). */
static inline uint32_t probe(const struct vf_ftab *t, const struct bt_flow_key *key, uint64_t h,
                             int *found)
{
    uint32_t s = (uint32_t)h & t->ix.index_mask, tag = tag_of(t, h);

    for (;;) {
        uint32_t v = t->ix.index[s];
        if (v == 0) {
            *found = 0;
            return s;
        }
        if ((v & ~t->ix.ent_mask) == tag &&
            vf_ftab_key_eq_(&t->slab[(v & t->ix.ent_mask) - 1].key, key)) {
            *found = 1;
            return s;
        }
        s = (s + 1) & t->ix.index_mask;
    }
}

void *vf_ftab_insert(struct vf_ftab *t, const struct bt_flow_key *key, uint64_t hash)
{
    int found, reused = 0;
    uint32_t i;

    if (t->free_head != NIL) {
        i = t->free_head;
        t->free_head = side_of(t, i)->next;
        reused = 1;
    } else {
        if (t->next_unused == t->cap && (t->cap >= t->max_cap || grow(t) < 0))
            return NULL;
        i = t->next_unused++;
    }
    uint32_t s = probe(t, key, hash, &found);
    struct ent *e = &t->slab[i];
    struct side *sd = side_of(t, i);
    e->key = *key;
    sd->prev = t->tail;
    sd->next = NIL;
    sd->hash = hash;
    if (t->tail != NIL)
        side_of(t, t->tail)->next = i;
    else
        t->head = i;
    t->tail = i;
    if (reused) {  /* (an entry never used is as mmap gave it: zeroed) */
        memset(e->value, 0, t->value_size);
        memset(sd->cold, 0, t->cold_size);
    }
    t->ix.index[s] = (i + 1) | tag_of(t, hash);
    t->count++;
    return e->value;
}

void vf_ftab_remove(struct vf_ftab *t, void *value)
{
    uint32_t i = ent_of_value(t, value);
    struct side *sd = side_of(t, i);
    uint32_t hole = (uint32_t)sd->hash & t->ix.index_mask, s;

    while ((t->ix.index[hole] & t->ix.ent_mask) != i + 1)
        hole = (hole + 1) & t->ix.index_mask;
    t->ix.index[hole] = 0;
    /* backward-shift deletion: a later chain member moves into the hole
     * unless its home slot lies (cyclically) after the hole */
    for (s = hole;;) {
        s = (s + 1) & t->ix.index_mask;
        uint32_t v = t->ix.index[s];
        if (v == 0)
            break;
        uint32_t home = (uint32_t)side_of(t, (v & t->ix.ent_mask) - 1)->hash & t->ix.index_mask;
        if (((s - home) & t->ix.index_mask) >= ((s - hole) & t->ix.index_mask)) {
            t->ix.index[hole] = v;
            t->ix.index[s] = 0;
            hole = s;
        }
    }
    if (sd->prev != NIL)
        side_of(t, sd->prev)->next = sd->next;
    else
        t->head = sd->next;
    if (sd->next != NIL)
        side_of(t, sd->next)->prev = sd->prev;
    else
        t->tail = sd->prev;
    /* a hint (vf_ftab_lookup_hinted) taken before may point here: no key
     * a caller looks up has zero != 0 */
    t->slab[i].key.zero = 0xffff;
    sd->prev = FREE;
    sd->next = t->free_head;
    t->free_head = i;
    t->count--;
}

void vf_ftab_foreach(struct vf_ftab *t, vf_ftab_fn fn, void *arg)
{
    for (uint32_t i = t->head; i != NIL;) {
        uint32_t nx = side_of(t, i)->next;
        if (nx != NIL) {
            __builtin_prefetch(&t->slab[nx]);
            __builtin_prefetch(side_of(t, nx));
        }
        fn(&t->slab[i].key, t->slab[i].value, arg);
        i = nx;
    }
}

void *vf_ftab_cold(const struct vf_ftab *t, const void *value)
{
    return side_of(t, ent_of_value(t, value))->cold;
}

uint32_t vf_ftab_count(const struct vf_ftab *t)
{
    return t->count;
}
