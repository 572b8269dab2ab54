/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the CIDR parser and its matcher (lib/bt_cidr.c).
 * The input's first line is the prefix text; the bytes after it, padded with
 * zeros, are an address (16 bytes) and an index (8 bytes). A prefix taken
 * must format and parse back to itself, hold its own addresses (network,
 * nth) and match an address exactly when a bit-by-bit comparison says so.
 * A prefix length other than plain digits must be refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool bits_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
    for (unsigned i = 0; i < plen; i++)
        if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    uint8_t tail[24] = {0}, addr[16], x[16];
    struct bt_cidr c, c2;
    char s[256], f[128];
    const char *slash;
    uint64_t idx;

    if (n >= sizeof(s) || memchr(data, 0, n))
        return 0;   /* callers hand over C strings */
    memcpy(s, data, n);
    s[n] = '\0';
    if (nl)
        memcpy(tail, nl + 1, size - n - 1 < sizeof(tail) ? size - n - 1 : sizeof(tail));
    memcpy(addr, tail, 16);
    memcpy(&idx, tail + 16, 8);
    if (bt_cidr_parse(s, &c) < 0)
        return 0;
    if ((slash = strchr(s, '/')))
        for (const char *p = slash + 1; *p; p++)
            if (*p < '0' || *p > '9')
                abort();   /* "/ 8", "/+8": garbage taken */
    if (c.plen > 128 || (c.family != 4 && c.family != 6) || (c.family == 4 && c.plen < 96))
        abort();
    bt_cidr_fmt(&c, f, sizeof(f));
    if (bt_cidr_parse(f, &c2) < 0 || memcmp(&c, &c2, sizeof(c)) != 0)
        abort();
    if (!bt_cidr_match(&c, c.addr))
        abort();
    if (bt_cidr_match(&c, addr) != bits_match(c.addr, addr, c.plen))
        abort();
    bt_cidr_nth(&c, idx, x);
    if (!bt_cidr_match(&c, x))
        abort();
    if (bt_cidr_size(&c) != (c.plen <= 64 ? UINT64_MAX : (uint64_t)1 << (128 - c.plen)))
        abort();
    return 0;
}
