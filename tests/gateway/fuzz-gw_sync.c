/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the HyperSync decoder (gateway/gw_sync.c): any bytes
 * either decode or are rejected whole; what decodes re-encodes to the same
 * bytes (version 2 has one encoding: reserved fields are zero), so nothing
 * the decoder accepts is misread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    uint8_t buf[GW_SYNC_MTU];
    size_t len;
    unsigned n;
};

static void rec(void *arg, const struct gw_sync_hdr *h, const struct gw_sync_rec *r)
{
    struct ctx *c = arg;

    if (c->n++ == 0)
        c->len = gw_sync_begin(c->buf, h->from, h->to, h->seq);
    c->len = gw_sync_add(c->buf, c->len, r);
    if (c->len == 0)
        abort();   /* it fitted in the message it came in */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctx c = {.len = 0, .n = 0};
    int n = gw_sync_decode(data, size, rec, &c);

    if (n < 0) {
        if (c.n)
            abort();   /* a rejected message applies nothing */
        return 0;
    }
    if ((unsigned)n != c.n)
        abort();
    if (n == 0) {
        struct gw_sync_hdr h;
        if (gw_sync_decode_hdr(data, size, &h) < 0)
            abort();
        c.len = gw_sync_begin(c.buf, h.from, h.to, h.seq);
    }
    gw_sync_end(c.buf, c.len, (uint16_t)c.n);
    if (c.len != size || memcmp(c.buf, data, size) != 0)
        abort();
    return 0;
}
