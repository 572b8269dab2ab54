/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BT_RING_H
#define BT_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * Growth of a FIFO ring of fixed-size entries: *e holds *cap entries (0 or
 * a power of two, indices masked with *cap - 1), n of them in use from
 * *head. The rings that use it (the gateway's out queues, timer queues and
 * defer messages, the plan runner's links) push and pop inline and call
 * this only when full.
 */

/* Doubles the ring (to first entries when empty): a new array with the n
 * entries in order from index 0, *head 0. 0, or -ENOMEM with the ring as it
 * was. */
int bt_ring_grow(void **e, size_t esz, uint32_t *head, uint32_t n, uint32_t *cap,
                 uint32_t first);

#endif
