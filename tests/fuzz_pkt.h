/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the fuzzers of a core's packet path (fuzz-gw_rx, fuzz-tg_rx) check
 * of each packet a core hands out, and the hash of everything it handed
 * out, which two runs of one input must agree on.
 */
#ifndef FUZZ_PKT_H
#define FUZZ_PKT_H

#include <stdint.h>
#include <stdlib.h>

#include "bt_pkt.h"

#define FUZZ_HASH_INIT 0xcbf29ce484222325ULL

static inline void fuzz_fnv(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 0x100000001b3ULL;
}

/* p's length within its buffer and its port 0 or 1 (else abort), then its
 * time, port and bytes into *h. */
static inline void fuzz_hash_pkt(uint64_t *h, const struct bt_pkt *p)
{
    if (p->len > p->cap || p->port > 1)
        abort();
    fuzz_fnv(h, &p->ts_ns, sizeof(p->ts_ns));
    fuzz_fnv(h, &p->port, sizeof(p->port));
    fuzz_fnv(h, &p->len, sizeof(p->len));
    fuzz_fnv(h, p->data, p->len);
}

#endif
