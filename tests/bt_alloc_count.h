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

static unsigned long bt_allocs;

#ifdef __SANITIZE_ADDRESS__
/* AddressSanitizer owns malloc and cannot be interposed (it aborts before
 * main), so count through its allocation hook instead: it sees the same
 * calls. Declared here since Debian's gcc ships no sanitizer headers. */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));

static void bt_alloc_hook(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    bt_allocs++;
}

/* a hook pair with a NULL free hook is never called */
static void bt_free_hook(const volatile void *p)
{
    (void)p;
}

__attribute__((constructor)) static void bt_alloc_count_init(void)
{
    __sanitizer_install_malloc_and_free_hooks(bt_alloc_hook, bt_free_hook);
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t sz);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

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

#endif
