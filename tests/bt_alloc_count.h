/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counts the process's heap allocations: a test executable that includes
 * this (once) interposes glibc's malloc family for itself and the libraries
 * it links, so a test can show that a hot path allocates nothing
 * (bt_allocs before and after). Not thread-safe; tests only.
 */
#ifndef BT_ALLOC_COUNT_H
#define BT_ALLOC_COUNT_H

#include <stddef.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t sz);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

static unsigned long bt_allocs;

void *malloc(size_t n)
{
    bt_allocs++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
    bt_allocs++;
    return __libc_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
    bt_allocs++;
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    bt_allocs++;
    return __libc_memalign(align, n);
}

#endif
