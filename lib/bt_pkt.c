/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet pool: one allocation for the descriptors and one for the buffers,
 * a LIFO free list (the most recently freed buffer is the warmest in cache).
 */
#include "bt_pkt.h"

#include <stdlib.h>
#include <string.h>

struct bt_pktpool {
    struct bt_pkt *descs;
    uint8_t *bufs;
    struct bt_pkt *free;
    uint32_t n;
    uint32_t avail;
    uint32_t bufsize;
};

struct bt_pktpool *bt_pktpool_new(uint32_t n, uint32_t bufsize)
{
    struct bt_pktpool *p;

    if (n == 0 || bufsize == 0)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->descs = calloc(n, sizeof(*p->descs));
    p->bufs = malloc((size_t)n * bufsize);
    if (!p->descs || !p->bufs)
        return bt_pktpool_free(p);
    p->n = n;
    p->bufsize = bufsize;
    for (uint32_t i = n; i-- > 0;) {
        struct bt_pkt *k = &p->descs[i];
        k->data = p->bufs + (size_t)i * bufsize;
        k->cap = bufsize;
        k->pool = p;
        k->next = p->free;
        p->free = k;
    }
    p->avail = n;
    return p;
}

struct bt_pktpool *bt_pktpool_free(struct bt_pktpool *p)
{
    if (!p)
        return NULL;
    free(p->descs);
    free(p->bufs);
    free(p);
    return NULL;
}

struct bt_pkt *bt_pkt_alloc(struct bt_pktpool *p)
{
    struct bt_pkt *k = p->free;

    if (!k)
        return NULL;
    p->free = k->next;
    p->avail--;
    k->next = NULL;
    k->len = k->wire_len = 0;
    k->ts_ns = 0;
    k->port = 0;
    k->flags = 0;
    k->meta = 0;
    return k;
}

struct bt_pkt *bt_pkt_copy(struct bt_pktpool *p, const uint8_t *data, uint32_t len,
                           uint32_t wire_len, uint64_t ts_ns)
{
    struct bt_pkt *k = bt_pkt_alloc(p);

    if (!k)
        return NULL;
    if (len > k->cap)
        len = k->cap;
    memcpy(k->data, data, len);
    k->len = len;
    k->wire_len = wire_len < len ? len : wire_len;
    k->ts_ns = ts_ns;
    return k;
}

struct bt_pkt *bt_pkt_clone(struct bt_pktpool *p, const struct bt_pkt *pkt)
{
    struct bt_pkt *k = bt_pkt_copy(p, pkt->data, pkt->len, pkt->wire_len, pkt->ts_ns);

    if (!k)
        return NULL;
    k->port = pkt->port;
    k->flags = pkt->flags;
    k->meta = pkt->meta;
    return k;
}

void bt_pkt_free(struct bt_pkt *pkt)
{
    struct bt_pktpool *p;

    if (!pkt || !pkt->pool)
        return;
    p = pkt->pool;
    pkt->next = p->free;
    p->free = pkt;
    p->avail++;
}

uint32_t bt_pktpool_avail(const struct bt_pktpool *p)
{
    return p->avail;
}

uint32_t bt_pktpool_size(const struct bt_pktpool *p)
{
    return p->n;
}
