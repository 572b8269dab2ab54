/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bt_ring_grow(void **e, size_t esz, uint32_t *head, uint32_t n, uint32_t *cap,
                 uint32_t first)
{
    uint32_t nc = *cap ? *cap * 2 : first;
    uint8_t *ne = malloc((size_t)nc * esz);
    uint32_t tail;

    if (!ne)
        return -ENOMEM;
    /* the entries from head to the array's end, then those wrapped to its start */
    tail = n && *cap - *head < n ? *cap - *head : n;
    if (tail)
        memcpy(ne, (uint8_t *)*e + (size_t)*head * esz, (size_t)tail * esz);
    if (n > tail)
        memcpy(ne + (size_t)tail * esz, *e, (size_t)(n - tail) * esz);
    free(*e);
    *e = ne;
    *head = 0;
    *cap = nc;
    return 0;
}
